"""One entry point for every source: a dataset name or a path, to train on (:func:`load_dataset`) or to use a
trained model on (:func:`load_samples`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import HourglassError
from .bundled import load_digits, load_manifold
from .dataset import Dataset, Samples, check_array
from .mnist import is_idx_folder, load_mnist
from .readers import load_file, read_array_file
from .streaming import StreamedDataset, open_stream
from .tables import TABLE_SUFFIXES, TableSpec, read_table, table_to_array

NAMED_DATASETS = ("mnist", "digits", "swiss-roll", "s-curve")


def load_dataset(
    name_or_path: str | Path,
    seed: int = 0,
    stream: bool | None = None,
    validation_rows: int | None = None,
    **table_options,
) -> Dataset | StreamedDataset:
    """A named dataset (``mnist``, ``digits``, ``swiss-roll``, ``s-curve``) or the user's file/folder, split.
    ``table_options`` apply to tables (see :func:`load_file`); ``validation_rows`` to MNIST (:func:`load_mnist`:
    how many of its 60,000 training images validate; None: the usual 10,000).

    Parameters
    ----------
    name_or_path : str or Path
        A dataset name or the user's file or folder.
    seed : int, optional
        Seeds the train / validation / test split of files.
    stream : bool, optional
        Read the file block by block instead of into memory (:mod:`hourglass.data.streaming`; .npy, uncompressed .npz,
        .parquet, PNG folders). None (the default) streams an array or Parquet file larger than a quarter of the memory
        available now, and loads anything else.
    validation_rows : int, optional
        mnist: the training images held out to validate on (None: 10,000).
    **table_options
        columns, drop, one_hot, id_column for tables (:func:`hourglass.data.table_spec`).

    Returns
    -------
    Dataset or StreamedDataset
        The splits, in memory or read from disk a block at a time.
    """
    key = str(name_or_path)
    if stream is None:
        stream = _too_big(Path(key))
    if stream:
        if key in NAMED_DATASETS or not Path(key).exists():
            raise HourglassError(
                f"{key}: only files and folders are streamed; {key} is loaded in memory"
                if key in NAMED_DATASETS
                else f"{key}: no such file or folder",
                params=("stream",),
            )
        return open_stream(key, seed, **table_options)
    if validation_rows is not None and key != "mnist":
        raise HourglassError(f"{key}: validation_rows applies to mnist only", params=("validation_rows",))
    if key == "mnist":
        return load_mnist() if validation_rows is None else load_mnist(validation_rows=validation_rows)
    if key == "digits":
        return load_digits(seed)
    if key in ("swiss-roll", "s-curve"):
        return load_manifold(key, seed=seed)
    path = Path(key)
    if not path.exists():
        raise HourglassError(f"{key}: no such file or folder, and not a dataset name ({', '.join(NAMED_DATASETS)})")
    return load_file(path, seed, **table_options)


def _too_big(path: Path) -> bool:
    """Whether ``path`` is an array or Parquet file larger than a quarter of the memory available now."""
    if path.suffix.lower() not in (".npy", ".npz", ".parquet", ".pq") or not path.is_file():
        return False
    return path.stat().st_size > available_memory() / 4


def available_memory() -> int:
    """Bytes of memory available to a new allocation without swapping (Linux's MemAvailable; elsewhere the
    free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def load_samples(
    name_or_path: str | Path, split: str | None = None, seed: int = 0, table: dict | None = None
) -> Samples:
    """Samples to use a trained model on: a file's whole contents, or one split of a named dataset (default test).

    ``table``: the :class:`TableSpec` (as a dict) a model was trained with; a table file is read through it, so
    its columns must match.
    """
    key = str(name_or_path)
    path = Path(key)
    if key in NAMED_DATASETS or is_idx_folder(path):
        ds = load_dataset(key, seed)
        assert isinstance(ds, Dataset)  # named datasets and IDX folders are read whole
        x, y = ds.split(split or "test")
        return Samples(x, y, ds.shape, ds.columns)
    if split not in (None, "all"):
        raise HourglassError(f"split applies to named datasets; {key} is read whole", params=("split",))
    if table is not None and path.suffix.lower() in TABLE_SUFFIXES and path.is_file():
        spec = TableSpec.from_dict(table)
        raw, ids = table_to_array(read_table(path), spec, key)
        x, shape = check_array(raw, key, columns=spec.feature_names)
        return Samples(x, None, shape, spec.feature_names, ids)
    raw, y, columns = read_array_file(path)
    x, shape = check_array(raw, key, columns=columns)
    return Samples(x, y, shape, columns)
