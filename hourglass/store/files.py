"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

ROWS = (".npy", ".csv")  # the row files encode, reconstruct, score and sample write


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; when the block succeeds, rename it onto ``path``.

    The temporary file keeps ``path``'s suffix (some writers, such as matplotlib and NumPy, go by it). On any
    error, including Ctrl-C, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the permissions a plain open() would
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def check_output(path: str | Path, suffixes: tuple[str, ...], inputs: tuple = (), what: str = "output") -> Path:
    """``path`` as an output file: it must end in one of ``suffixes``, must not be a folder, and must not be one
    of ``inputs`` (no output ever replaces an input). Raises :class:`HourglassError` naming the problem."""
    from ..errors import HourglassError

    path = Path(path)
    if path.suffix.lower() not in suffixes:
        choices = ", ".join(suffixes[:-1]) + " or " + suffixes[-1] if len(suffixes) > 1 else suffixes[0]
        raise HourglassError(f"{path}: {what} must end in {choices}")
    if path.is_dir():
        raise HourglassError(f"{path}: is a folder; the {what} is a file")
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise HourglassError(f"{path}: {blocking} is a file, not a folder")
    for source in inputs:
        if source is not None and path.exists() and Path(source).exists() and os.path.samefile(path, source):
            raise HourglassError(f"{path}: is an input of this command; write the {what} to another file")
    return path


def write_csv_block(file, columns: dict, header: bool) -> None:
    """Append the rows of ``columns`` (name → a 1-d array, all of one length) to an open text ``file`` as CSV, with
    the header line first if ``header``: floats to 8 significant digits, booleans as True/False, anything else
    (an ID) as its text, quoted as the csv module would. The standard library only: no optional package needed to
    write a table."""
    import csv

    import numpy as np

    if header:
        csv.writer(file, lineterminator="\n").writerow(columns)
    n = len(next(iter(columns.values()), []))
    cells, fields = np.empty((n, len(columns)), dtype=object), []
    for j, values in enumerate(columns.values()):
        values = np.asarray(values)
        if values.dtype.kind == "f":
            fields.append("%.8g")
            cells[:, j] = values
        elif values.dtype.kind == "b":
            fields.append("%s")
            cells[:, j] = np.where(values, "True", "False")
        elif values.dtype.kind in "iu":
            fields.append("%d")
            cells[:, j] = values
        else:
            fields.append("%s")
            items = values.tolist()
            texts = {v: _csv_text(v) for v in set(items)}  # names repeat: each quoted once
            cells[:, j] = list(map(texts.__getitem__, items))
    # one %-format over the whole block: a quarter of the time of csv.writer's cell-by-cell rows
    file.write(((",".join(fields) + "\n") * n) % tuple(cells.ravel().tolist()))


def _csv_text(value) -> str:
    """``value``'s text as one CSV cell, quoted as the csv module quotes it."""
    import csv
    import io

    cell = io.StringIO()
    csv.writer(cell, lineterminator="").writerow([str(value)])
    return cell.getvalue()


def _columns(rows, header: list[str] | None, ids, id_name: str | None) -> dict:
    names = header or [f"x{i + 1}" for i in range(rows.shape[1])]
    columns = {} if ids is None else {id_name or "id": ids}
    columns.update({name: rows[:, j] for j, name in enumerate(names)})
    return columns


def write_rows(path: str | Path, array, header: list[str] | None = None, ids=None, id_name: str | None = None) -> Path:
    """Write rows (N, D) as .npy, or as .csv with a header (and the ID column first, when given), atomically."""
    import numpy as np

    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            with open(tmp, "w", newline="") as f:
                write_csv_block(f, _columns(np.asarray(array), header, ids, id_name), header=True)
        else:
            np.save(tmp, array)
    return path


class RowWriter:
    """Rows (N, D) written a block at a time — for outputs of data larger than memory — as .npy (float32; ``n_rows``
    stated up front) or as .csv with a header (and an ID column first, when given). Atomic as :func:`atomic_path`:
    the file appears whole when the ``with`` block ends, or not at all."""

    def __init__(self, path: str | Path, n_rows: int, header: list[str] | None = None, id_name: str | None = None):
        self.path, self.n_rows, self.header, self.id_name = Path(path), n_rows, header, id_name
        self.csv = self.path.suffix.lower() == ".csv"
        self.written = 0
        self._file: Any = None

    def __enter__(self) -> RowWriter:
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        self._file = open(tmp, "w", newline="") if self.csv else open(tmp, "wb")  # noqa: SIM115 - closed in __exit__
        return self

    def write(self, rows, ids=None) -> None:
        import numpy as np

        rows = np.asarray(rows, dtype=np.float32)
        if self.csv:
            write_csv_block(self._file, _columns(rows, self.header, ids, self.id_name), header=self.written == 0)
        else:
            if self.written == 0:
                np.lib.format.write_array_header_2_0(
                    self._file,
                    {
                        "descr": np.lib.format.dtype_to_descr(rows.dtype),
                        "fortran_order": False,
                        "shape": (self.n_rows, rows.shape[1]),
                    },
                )
            self._file.write(np.ascontiguousarray(rows).tobytes())
        self.written += len(rows)

    def __exit__(self, *exc) -> None:
        self._file.close()
        if exc[0] is None and not self.csv and self.written != self.n_rows:
            exc = (RuntimeError, RuntimeError(f"{self.path}: wrote {self.written} rows of {self.n_rows}"), None)
            self._atomic.__exit__(*exc)
            raise exc[1]
        self._atomic.__exit__(*exc)


def operation(name: str, path: Path) -> None:
    """Called before every file operation of a checkpoint's publication (:mod:`hourglass.store.runfolder`): a no-op, and
    the seam through which the crash-consistency test stops the process after any single operation."""


def write_durable(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a new file at ``path`` and flush it to disk (fsync) before returning."""
    operation("write", Path(path))
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (new, renamed or removed files) to disk, where the platform allows."""
    operation("fsync", Path(path))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders cannot be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
