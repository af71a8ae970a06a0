"""Files fetched over HTTPS from a list of mirrors, each checked by size and sha256 before it is kept.

For every file the mirrors are tried in their fixed order (as torchvision does for MNIST); the first that gives the
whole file with the expected sha256 wins, and a mirror that does not answer, answers an error, ends the body early
or serves other bytes is passed over, the reason kept for the error if none of them serves it. A file is written
atomically into its folder, so an interrupted download leaves nothing behind, and a file already there with the
right sha256 is not fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import sys
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import HourglassError
from ..store.files import atomic_path

CHUNK = 64 * 1024
TIMEOUT_S = 20.0  # per connection attempt and per read


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, size: int, progress) -> bytes:
    """The body at ``url``, read in chunks (advancing ``progress``); raises OSError on a short or failed read."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        chunks, got = [], 0
        while chunk := response.read(CHUNK):
            chunks.append(chunk)
            got += len(chunk)
            progress(len(chunk))
            if got > size:
                raise OSError(f"more than the expected {size:,} bytes")
    if got != size:
        raise OSError(f"{got:,} bytes of {size:,}: the body ended early")
    return b"".join(chunks)


def download(files: dict[str, tuple[str, int]], folder: Path, mirrors: list[str], quiet: bool = True) -> Path:
    """Fetch each of ``files`` (name → (sha256, size in bytes)) into ``folder`` from the first of ``mirrors``
    (URL prefixes) that serves it whole and unaltered; return ``folder``. A progress bar shows on a terminal
    unless ``quiet``. Raises :class:`HourglassError` naming the file and what each mirror did, if none served it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (sha256, size) in files.items():
        target = folder / name
        if target.is_file() and sha256_of(target) == sha256:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            with _progress(name, size, quiet) as advance:
                try:
                    data = _fetch(url, size, advance)
                except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                    failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
                    continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256:
                failures.append(f"{url}: sha256 {digest[:12]}…, expected {sha256[:12]}…")
                continue
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
            break
        else:
            raise HourglassError(f"{name}: no mirror served it ({'; '.join(failures)})")
    return folder


class _progress:
    """A rich progress bar for one file on a terminal (nothing when quiet or not a terminal)."""

    def __init__(self, name: str, size: int, quiet: bool):
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

            columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
            self.bar = Progress(*columns, transient=True)
            self.task = self.bar.add_task(name, total=size)

    def __enter__(self):
        if self.bar is None:
            return lambda n: None
        self.bar.start()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
