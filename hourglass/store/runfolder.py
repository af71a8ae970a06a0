"""A run folder that a crash cannot leave half-written, and that one process writes at a time.

    run/
      CURRENT            names the complete snapshot to read (replaced atomically, last)
      snapshot-000007/   model.safetensors, config.json, history.jsonl, resume.safetensors, resume.json
      snapshot-000006/   the previous one, kept for readers that opened it a moment ago
      .lock              held by the process writing the run (with its PID in .lock.pid)

Every checkpoint is written whole into a fresh hidden folder, each file and the folder flushed to disk (fsync),
renamed into place, and only then published by replacing ``CURRENT``. A process killed at any moment leaves
``CURRENT`` naming a complete snapshot — the new one or the one before — or no ``CURRENT`` at all (nothing was
published yet). Older snapshots are removed after the new one is durable. A folder in checkpoint format 1
(the files directly in ``run/``) is read as it is and converted on its next checkpoint.

Each file operation goes through :func:`hourglass.store.files.operation`, so a test can stop the process after any one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

from ..errors import HourglassError
from . import files

CURRENT, LOCK = "CURRENT", ".lock"
SNAPSHOT = re.compile(r"snapshot-(\d{6})")
FLAT_FILES = ("model.safetensors", "config.json", "history.jsonl", "resume.safetensors", "resume.json")
KEEP = 2  # the current snapshot and the one before


def current(directory: str | Path) -> Path | None:
    """The folder holding the run's current files: the snapshot ``CURRENT`` names, the run folder itself for a
    format-1 checkpoint (files directly inside), or None when nothing was published yet."""
    directory = Path(directory)
    pointer = directory / CURRENT
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8", errors="replace").strip()
        if not SNAPSHOT.fullmatch(name) or not (directory / name).is_dir():
            raise HourglassError(f"{pointer}: names {name[:40]!r}, which is not a snapshot of this run")
        return directory / name
    if (directory / "config.json").is_file():
        return directory
    return None


def holds_run(directory: str | Path) -> bool:
    """Whether ``directory`` holds a published checkpoint (or a format-1 one)."""
    directory = Path(directory)
    return directory.is_dir() and ((directory / CURRENT).exists() or (directory / "config.json").exists())


def publish(directory: str | Path, contents: dict[str, bytes]) -> Path:
    """Write ``contents`` (file name → bytes) as a new snapshot of the run in ``directory`` and make it current,
    all at once: a crash at any point leaves the previous snapshot current. Returns the new snapshot's folder."""
    directory = Path(directory)
    files.operation("mkdir", directory)
    directory.mkdir(parents=True, exist_ok=True)
    existing = _snapshots(directory)
    name = f"snapshot-{(max(existing) + 1 if existing else 1):06d}"
    staging = directory / f".{name}.tmp"
    _remove(staging)  # left by a crash during an earlier publication
    files.operation("mkdir", staging)
    staging.mkdir()
    for file_name, data in contents.items():
        files.write_durable(staging / file_name, data)
    files.fsync_dir(staging)
    files.operation("rename", staging)
    os.rename(staging, directory / name)
    files.fsync_dir(directory)
    files.write_durable(directory / f".{CURRENT}.tmp", (name + "\n").encode())
    files.operation("replace", directory / CURRENT)
    os.replace(directory / f".{CURRENT}.tmp", directory / CURRENT)
    files.fsync_dir(directory)
    _tidy(directory, keep=name)
    return directory / name


def _snapshots(directory: Path) -> dict[int, Path]:
    found = {}
    for path in directory.iterdir():
        m = SNAPSHOT.fullmatch(path.name.removeprefix(".").removesuffix(".tmp"))
        if m:
            found[int(m.group(1))] = path
    return found


def _tidy(directory: Path, keep: str) -> None:
    """Remove all but the newest snapshots, unfinished stagings, and the files of a format-1 layout."""
    done = sorted((n, p) for n, p in _snapshots(directory).items() if not p.name.startswith("."))
    for _, path in done[:-KEEP]:
        _remove(path)
    for path in directory.glob(".snapshot-*.tmp"):
        _remove(path)
    for flat in FLAT_FILES:
        if (directory / flat).is_file():
            files.operation("unlink", directory / flat)
            (directory / flat).unlink()


def _remove(path: Path) -> None:
    if path.exists():
        files.operation("rmtree", path)
        shutil.rmtree(path)


@contextlib.contextmanager
def writer(directory: str | Path):
    """Hold the run folder's lock for the block: one writer at a time. A second process is refused at once, naming
    the holder's PID; a lock left by a killed process does not block (the operating system released it), and what
    it left half-tidied (an older snapshot, an unfinished staging) is removed first."""
    from filelock import FileLock, Timeout

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(directory / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = (directory / (LOCK + ".pid")).read_text().strip() if (directory / (LOCK + ".pid")).exists() else "?"
        raise HourglassError(
            f"{directory}: another process (PID {holder}) is writing this run; wait for it to "
            "finish, or choose another out",
            params=("out",),
        ) from None
    try:
        (directory / (LOCK + ".pid")).write_text(f"{os.getpid()}\n")
        now = current(directory)
        if now is not None and now != directory:  # what a writer killed before tidying left behind
            _tidy(directory, keep=now.name)
        yield
    finally:
        lock.release()
