"""How many threads a training uses: its share of the cores among the hourglass trainings running on this machine.

Alone, a training uses every core it may run on. Two trainings that each use every core make their thread pools
spin against each other: on this project's 2-core machine each epoch took up to 70 times as long. So each training
that asks for it (the :class:`ShareCores` callback; the ``hourglass`` command always does, a library user chooses)
registers itself — a file named by its process id, holding the process's start time, in a folder of the temporary
directory — for as long as it runs, and at the start of every epoch sets ``torch.set_num_threads(max(1, cores //
trainings))``: two trainings on two cores get one thread each, and the one left alone gets both back at its next
epoch. A process id reused by a later process does not count (its start time differs). A thread count the user
chose (``OMP_NUM_THREADS`` in the environment, as torchrun and ``--nproc`` set it) is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import torch

from .callbacks import Callback


def registry() -> Path:
    """The folder where running trainings of this user leave their process ids."""
    return Path(tempfile.gettempdir()) / f"hourglass-trainings-{os.getuid() if hasattr(os, 'getuid') else 0}"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def started(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc; "" where there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def _alive(pid: int, start: str = "") -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        pass
    return not start or started(pid) in ("", start)  # the same process, not a later one given its id


def trainings(folder: Path | None = None) -> int:
    """How many registered trainings are running (forgetting those whose process has ended)."""
    count = 0
    for entry in (folder or registry()).glob("*"):
        start = ""
        with contextlib.suppress(OSError):
            start = entry.read_text().strip()
        if entry.name.isdigit() and _alive(int(entry.name), start):
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

    def __enter__(self) -> CoreShare:
        if not self.fixed:
            with contextlib.suppress(OSError):  # a read-only temporary folder: train as before, unshared
                self.entry.parent.mkdir(exist_ok=True)
                self.entry.write_text(started(os.getpid()))
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


class ShareCores(Callback):
    """A training that shares the machine's cores with the other hourglass trainings running on it (see the
    module's docstring); the threads are the process's own again when it ends.

    Parameters
    ----------
    folder : Path, optional
        Where the trainings running on this machine register (None: the user's cache).
    """

    rank_zero_only = False

    def __init__(self, folder: Path | None = None):
        self.folder = folder

    def on_fit_start(self, trainer) -> None:
        self.share = CoreShare(self.folder).__enter__()

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.share.adjust()

    def on_fit_end(self, trainer) -> None:
        self.share.__exit__(None, None, None)
