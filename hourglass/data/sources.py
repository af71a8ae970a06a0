"""Files read a block of rows at a time, for data larger than memory: ``.npy``, uncompressed ``.npz`` members,
Parquet row groups and folders of PNGs.

Every source has the same face: ``n_rows``, ``shape`` (one sample's), ``columns`` (a table's feature names, else
None), ``blocks`` (the row ranges ``[start, stop)`` it reads at once) and ``read(i)``, block ``i`` as float32 rows
(n, D), validated as :func:`~hourglass.data.check_array` validates a whole file — a NaN, a value beyond float32, a
missing value or a text cell is an error naming the file, the row (counted in the whole file) and the column.

Arrays are read with positioned reads into a fresh buffer, not through a memory map: every page of a map that has
been touched counts in the process's resident memory until the kernel needs it back, so one epoch over a map of a
50 GB file looks (and, beside other programs, acts) like a 50 GB process. Read blocks are the process's own memory
for as long as the loop holds them, and no longer.
"""

from __future__ import annotations

import struct
import zipfile
from itertools import pairwise
from pathlib import Path

import numpy as np

from ..errors import HourglassError
from ..extras import needs
from .dataset import check_array

BLOCK_BYTES = 16 * 2**20  # an array block: ~16 MiB of file (about 5,000 MNIST rows), read in one call
PNG_BLOCK = 1024  # images decoded per block


def _blocks(n_rows: int, rows_per_block: int) -> list[tuple[int, int]]:
    return [(start, min(start + rows_per_block, n_rows)) for start in range(0, n_rows, rows_per_block)]


class ArrayRows:
    """The rows of an array stored as ``.npy`` bytes at ``offset`` in ``path``: a ``.npy`` file (offset 0) or an
    uncompressed member of an ``.npz`` (see :func:`open_source`). Rank 2 (N, D), 3 (N, H, W) or 4 (N, C, H, W),
    any numeric dtype, C order."""

    def __init__(self, path: Path, offset: int = 0, what: str | None = None):
        self.path, self.name = Path(path), what or str(path)
        with open(self.path, "rb") as f:
            f.seek(offset)
            try:
                version = np.lib.format.read_magic(f)
                header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, fortran_order, dtype = header(f)
            except ValueError as e:
                raise HourglassError(f"{self.name}: not a readable .npy array ({e})") from None
            self.data_offset = f.tell()
        if dtype.hasobject or dtype.kind not in "biuf":
            raise HourglassError(f"{self.name}: data has dtype {dtype}, expected numbers (int, uint, float or bool)")
        if fortran_order and len(shape) > 1:
            raise HourglassError(
                f"{self.name}: is stored in Fortran order; streaming reads rows, so save it in C "
                "order (np.ascontiguousarray) or load it in memory"
            )
        if len(shape) < 2 or len(shape) > 4 or shape[0] == 0 or int(np.prod(shape[1:])) == 0:
            raise HourglassError(
                f"{self.name}: data has shape {shape}, expected (N, D), (N, H, W) or (N, C, H, W) "
                "with samples and features"
            )
        self.dtype, self.n_rows = dtype, int(shape[0])
        self.shape = (1, *shape[1:]) if len(shape) == 3 else tuple(int(s) for s in shape[1:])
        self.n_features = int(np.prod(self.shape))
        self.row_bytes = self.n_features * dtype.itemsize
        expected = self.data_offset + self.n_rows * self.row_bytes
        if self.path.stat().st_size < expected:
            raise HourglassError(
                f"{self.name}: is truncated ({self.path.stat().st_size} bytes, the header promises {expected})"
            )
        self.columns = None
        self.blocks = _blocks(self.n_rows, max(1, BLOCK_BYTES // self.row_bytes))

    def read(self, i: int) -> np.ndarray:
        start, stop = self.blocks[i]
        raw = np.empty((stop - start, self.n_features), dtype=self.dtype)
        view = raw.data.cast("B")
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.data_offset + start * self.row_bytes)
            done = 0
            while done < len(view):  # a raw read may return less than asked
                got = f.readinto(view[done:])
                if not got:
                    raise HourglassError(f"{self.name}: ended early, at row {start + done // self.row_bytes}")
                done += got
        return check_array(raw, self.name, first_row=start)[0]


def _npz_member(path: Path) -> ArrayRows:
    """The samples array of an ``.npz`` (its one array, or ``x``/``X``/``data``), which must be stored
    uncompressed (``np.savez``) to be read in place."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            key = names[0] if len(names) == 1 else next((k for k in ("x", "X", "data") if k in names), None)
            if key is None:
                raise HourglassError(f"{path}: holds {names}; expected one array, or 'x' with optional 'y'")
            info = z.getinfo(key + ".npy")
    except (OSError, zipfile.BadZipFile) as e:
        raise HourglassError(f"{path}: not a readable .npz file ({e})") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise HourglassError(
            f"{path}: array {key!r} is compressed (np.savez_compressed); to stream it, save it with "
            "np.savez or as .npy, or load it in memory"
        )
    with open(path, "rb") as f:  # the member's bytes start after its local header (30 bytes, name, extra field)
        f.seek(info.header_offset)
        local = f.read(30)
        name_length, extra_length = struct.unpack("<HH", local[26:30])
    return ArrayRows(path, info.header_offset + 30 + name_length + extra_length, what=f"{path} [{key}]")


class ParquetRows:
    """A Parquet file's row groups, each converted by the table's :class:`~hourglass.data.TableSpec` (decided on the
    first rows of the file, with the categories of one-hot columns gathered from all of them)."""

    def __init__(self, path: Path, **table_options):
        pq = needs("pyarrow.parquet", "streaming Parquet files")

        from .tables import table_spec

        self.path, self.name = Path(path), str(path)
        try:
            self.file = pq.ParquetFile(self.path)
            head = next(self.file.iter_batches(batch_size=1000)).to_pandas()
        except (OSError, ValueError, StopIteration) as e:
            raise HourglassError(f"{path}: cannot read as a Parquet table ({e or 'no rows'})") from None
        head.columns = [str(c).strip() for c in head.columns]
        self.spec = table_spec(head, self.name, **table_options)
        for column in self.spec.one_hot:  # every category in the file, not just those of its first rows
            seen: set[str] = set()
            for batch in self.file.iter_batches(columns=[column]):
                seen.update(str(v) for v in batch.column(0).drop_null().unique().to_pylist())
            self.spec.one_hot[column] = sorted(seen)
        starts = np.cumsum([0] + [self.file.metadata.row_group(g).num_rows for g in range(self.file.num_row_groups)])
        self.n_rows = int(starts[-1])
        self.blocks = [(int(a), int(b)) for a, b in pairwise(starts) if b > a]
        self.groups = [g for g in range(self.file.num_row_groups) if starts[g + 1] > starts[g]]
        self.columns = self.spec.feature_names
        self.shape = (len(self.columns),)
        self.n_features = len(self.columns)

    def ids(self, i: int) -> np.ndarray | None:
        """Block ``i``'s ID column (None when the table has none)."""
        if not self.spec.id_column:
            return None
        return self.file.read_row_group(self.groups[i], columns=[self.spec.id_column]).column(0).to_numpy()

    def read(self, i: int) -> np.ndarray:
        from .tables import table_to_array

        start = self.blocks[i][0]
        frame = self.file.read_row_group(self.groups[i]).to_pandas()
        frame.columns = [str(c).strip() for c in frame.columns]
        raw, _ = table_to_array(frame, self.spec, self.name, first_row=start)
        return check_array(raw, self.name, columns=self.columns, first_row=start)[0]


class PngRows:
    """A folder of PNGs (sorted by name), decoded a block at a time; grey unless any image is RGB (then all are
    read as RGB), all of one size — both checked on the images' headers before anything is decoded."""

    def __init__(self, folder: Path):
        from PIL import Image, UnidentifiedImageError

        self.path, self.name = Path(folder), str(folder)
        self.files = sorted(self.path.glob("*.png"))
        if not self.files:
            raise HourglassError(f"{folder}: no .png files (and no MNIST IDX files) in this folder")
        first, colour = None, False
        for f in self.files:
            try:
                with Image.open(f) as im:  # reads the header only
                    size, mode = im.size, im.mode
            except (UnidentifiedImageError, OSError) as e:
                raise HourglassError(f"{f}: not a readable PNG ({e})") from None
            first = first or size
            if size != first:
                raise HourglassError(
                    f"{f}: size {size[0]}×{size[1]}, but {self.files[0].name} is "
                    f"{first[0]}×{first[1]}; all images must be the same size"
                )
            colour |= mode in ("RGB", "RGBA", "RGBa", "P", "PA")  # what the decoder turns into RGB
        assert first is not None  # the folder held at least one PNG (checked above)
        width, height = first
        self.shape = (3 if colour else 1, height, width)
        self.n_rows, self.n_features, self.columns = len(self.files), int(np.prod(self.shape)), None
        self.blocks = _blocks(self.n_rows, PNG_BLOCK)

    def read(self, i: int) -> np.ndarray:
        from PIL import Image

        from .readers import _png_pixels

        start, stop = self.blocks[i]
        out = np.empty((stop - start, *self.shape), dtype=np.float32)
        for row, f in enumerate(self.files[start:stop]):
            with Image.open(f) as im:
                im.load()
                pixels = _png_pixels(im, f)
            if pixels.ndim == 2:
                pixels = pixels[None] if self.shape[0] == 1 else np.repeat(pixels[None], 3, axis=0)
            else:
                pixels = pixels.transpose(2, 0, 1)
            out[row] = pixels
        return out.reshape(len(out), -1)


def open_source(path: Path, **table_options):
    """The block reader for ``path``: a ``.npy``, an ``.npz`` (uncompressed), a ``.parquet`` or a folder of PNGs.
    ``table_options`` (columns, drop, one_hot, id_column) apply to Parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_dir() and suffix not in (".npy", ".npz", ".parquet", ".pq"):
        raise HourglassError(
            f"{path}: {suffix or 'this'} files cannot be streamed; stream .npy, uncompressed .npz, "
            ".parquet or a folder of PNGs (a CSV is read in memory)",
            params=("stream",),
        )
    if any(v for v in table_options.values()) and suffix not in (".parquet", ".pq"):
        raise HourglassError(
            f"{path}: columns, drop, one_hot and id_column apply to tables",
            params=("columns", "drop", "one_hot", "id_column"),
        )
    if path.is_dir():
        return PngRows(path)
    if suffix == ".npy":
        return ArrayRows(path)
    if suffix == ".npz":
        return _npz_member(path)
    return ParquetRows(path, **table_options)
