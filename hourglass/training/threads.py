"""How many threads a training uses: its share of the cores among the hourglass trainings running on this machine.

Alone, a training uses every core it may run on. Two trainings that each use every core make their thread pools
spin against each other: on this project's 2-core machine each epoch took up to 70 times as long. So each training
registers itself (a file named by its process id in a folder of the temporary directory) for as long as it runs,
and at the start of every epoch sets ``torch.set_num_threads(max(1, cores // trainings))`` — two trainings on two
cores get one thread each, and the one left alone gets both back at its next epoch. A thread count the user chose
(``OMP_NUM_THREADS`` in the environment, as torchrun and ``--nproc`` set it) is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import torch


def registry() -> Path:
    """The folder where running trainings of this user leave their process ids."""
    return Path(tempfile.gettempdir()) / f"hourglass-trainings-{os.getuid() if hasattr(os, 'getuid') else 0}"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def trainings(folder: Path | None = None) -> int:
    """How many registered trainings are running (forgetting those whose process has ended)."""
    count = 0
    for entry in (folder or registry()).glob("*"):
        if entry.name.isdigit() and _alive(int(entry.name)):
            count += 1
        else:
            entry.unlink(missing_ok=True)
    return count


class CoreShare:
    """While a training runs: registered, and :meth:`adjust` sets its threads to its share of the cores."""

    def __init__(self, folder: Path | None = None):
        self.fixed = "OMP_NUM_THREADS" in os.environ  # the user's (or the launcher's) choice stands
        self.original = torch.get_num_threads()
        self.folder = folder or registry()
        self.entry = self.folder / str(os.getpid())

    def __enter__(self) -> "CoreShare":
        if not self.fixed:
            with contextlib.suppress(OSError):  # a read-only temporary folder: train as before, unshared
                self.entry.parent.mkdir(exist_ok=True)
                self.entry.touch()
            self.adjust()
        return self

    def adjust(self) -> int:
        """Set and return this training's threads: the cores ÷ the trainings running (at least 1)."""
        if self.fixed:
            return torch.get_num_threads()
        threads = max(1, min(self.original, cores() // max(1, trainings(self.folder))))
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        return threads

    def __exit__(self, *exc) -> None:
        if not self.fixed:
            self.entry.unlink(missing_ok=True)
            if torch.get_num_threads() != self.original:
                torch.set_num_threads(self.original)
