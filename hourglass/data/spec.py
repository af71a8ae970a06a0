"""Every source of training data behind one face: what a run says about its data (:class:`DataSpec`), opening it
(:func:`open_data`), and opening a trained run's data again (:func:`dataset_of`).

    DataSpec ── open_data ──▶ Dataset (arrays, tables) | StreamedDataset (files read a block at a time)
                              | PhotoPatches (a folder of photos, trained on patches)

Each answers the same :class:`TrainingData` protocol, so the workflow holds no branch on the kind of data: the
scaled splits (arrays or feeds), the rows to measure for a split, the default loss, whether noise is clipped, and
the record a checkpoint keeps to open the same splits again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..errors import HourglassError
from ..options import Allowed, check, documented, option
from ..scaling import Scaling
from .dataset import MEASURED_ROWS, Dataset  # noqa: F401 - Dataset: the face's first example
from .loading import load_dataset
from .patches import PATCHES_PER_EPOCH, open_photos

if TYPE_CHECKING:
    from ..store.checkpoint import Checkpoint


@runtime_checkable
class TrainingData(Protocol):
    """What the workflow needs of a data source, whatever it is.

    Attributes
    ----------
    name : str
        A short name (a dataset's name or a file's stem).
    shape : tuple of int
        One sample's shape: (D,) or (C, H, W).
    n_features : int
        D, the numbers in one sample.
    columns : list of str or None
        Feature names (a table's), else None.
    default_loss : str or None
        The loss ``loss="auto"`` means for this data; None: bce when the scaled data lie in [0, 1], else mse.
    clips_noise : bool
        Whether corrupted inputs are clipped back into the data's [0, 1] range (photos' noise is measured unclipped).
    """

    @property
    def name(self) -> str: ...

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def columns(self) -> list[str] | None: ...

    @property
    def default_loss(self) -> str | None: ...

    @property
    def clips_noise(self) -> bool: ...

    @property
    def n_features(self) -> int: ...

    def fit_scaling(self, kind: str = "auto") -> Scaling:
        """The scaling into the model's space, learned on the training split."""

    def scaled(self, name: str, scaling: Scaling) -> Any:
        """Split ``name`` in the model's space: an array (N, D), or a feed that reads or draws it."""

    def scaled_range(self, scaling: Scaling) -> tuple[float, float]:
        """The smallest and largest value of the scaled training split."""

    def measured_rows(self, split: str, limit: int = MEASURED_ROWS) -> tuple[np.ndarray, np.ndarray | None]:
        """A split's rows in the data's units and its labels, in memory, for measures and pictures."""

    def record(self) -> dict:
        """How a checkpoint remembers this data: where it came from, one sample's shape, column names."""


@documented
@dataclass(frozen=True)
class TableOptions:
    """How a .csv or .parquet table becomes rows (:func:`hourglass.data.table_spec`)."""

    columns: str | None = option(None, help="train on these columns only (comma-separated)", metavar="A,B,...")
    drop: str | None = option(None, help="leave these columns out (comma-separated)", metavar="A,B,...")
    one_hot: bool = option(
        False,
        Allowed(choices=(True, False)),
        "encode text columns as one 0/1 feature per category (without it, a text column is an error)",
    )
    id_column: str | None = option(
        None,
        help="a row ID column, kept out of training and carried to encode/score outputs (default: a column named "
        "id or *_id, if any)",
        metavar="NAME",
    )

    def __post_init__(self):
        check(self)

    def given(self) -> dict:
        """The options set, as :func:`hourglass.data.load_dataset` takes them."""
        return {k: v for k, v in asdict(self).items() if v}


@documented
@dataclass(frozen=True)
class PatchOptions:
    """Training on random patches of a folder of photos (:mod:`hourglass.data.patches`)."""

    patch_size: int | None = option(
        None,
        Allowed(whole=True, minimum=2, optional=True),
        "train on random P×P patches of the photos in the folder DATA, fresh each epoch, flipped and rotated; "
        "about a tenth of the photos are held out for validation",
        "P",
    )
    patches_per_epoch: int = option(
        PATCHES_PER_EPOCH, Allowed(whole=True, minimum=1), "patches drawn per epoch (default %(default)s)", "N"
    )

    def __post_init__(self):
        check(self)


@dataclass(frozen=True)
class DataSpec:
    """What a run trains on.

    Parameters
    ----------
    source : str, Path or an opened dataset
        A dataset name (mnist, digits, swiss-roll, s-curve), a file or folder, or data already opened
        (a :class:`Dataset`, :class:`StreamedDataset` or :class:`PhotoPatches`).
    stream : bool, optional
        Read the file from disk a block at a time instead of into memory; None: when it is larger than a quarter
        of the available memory.
    table : TableOptions
        For .csv and .parquet files.
    photos : PatchOptions
        With a ``patch_size``, ``source`` is a folder of photos trained on patches.
    """

    source: Any
    stream: bool | None = option(
        None,
        Allowed(choices=(True, False), optional=True),
        "read DATA from disk a block at a time instead of into memory (.npy, uncompressed .npz, .parquet, PNG "
        "folders; shuffled by blocks and a shuffle buffer); default: stream a file larger than a quarter of the "
        "available memory",
    )
    table: TableOptions = field(default_factory=TableOptions)
    photos: PatchOptions = field(default_factory=PatchOptions)

    def __post_init__(self):
        check(self)
        if isinstance(self.source, (str, Path)) and not str(self.source):
            raise HourglassError("data must name a dataset, a file or a folder", params=("data",))

    @property
    def opened(self) -> bool:
        """Whether ``source`` is data already in hand, not a name or path."""
        return not isinstance(self.source, (str, Path))


def open_data(spec: DataSpec, seed: int = 0) -> TrainingData:
    """The data ``spec`` names, split with ``seed``, behind the :class:`TrainingData` face.

    Parameters
    ----------
    spec : DataSpec
        What to open.
    seed : int, optional
        Seeds the split (and the photos' held-out set and patches).

    Returns
    -------
    TrainingData
        The data behind one face.
    """
    if spec.opened:
        return spec.source
    if spec.photos.patch_size is not None:
        return open_photos(spec.source, spec.photos.patch_size, spec.photos.patches_per_epoch, seed=seed)
    return load_dataset(spec.source, seed=seed, stream=spec.stream, **spec.table.given())


def dataset_of(checkpoint: Checkpoint, data: str | Path | None = None) -> TrainingData:
    """The dataset a checkpoint was trained on (the same splits), or ``data`` instead (checked against the model's
    width).

    Parameters
    ----------
    checkpoint : Checkpoint
        A loaded checkpoint.
    data : str or Path, optional
        Other data instead (checked against the model's width); None: the run's own.

    Returns
    -------
    TrainingData
        The run's data with its own splits, or ``data``.
    """
    record = checkpoint.data
    seed = record.get("seed", 0)
    if record.get("photos") and data is None and Path(record.get("path", "")).is_dir():
        return open_data(DataSpec(record["path"], photos=PatchOptions(**record["photos"])), seed)
    if data is None:
        data = record.get("name") or record.get("path")
        if data is None:
            raise HourglassError(
                f"{checkpoint.path}: the checkpoint does not say which data it was trained on; name the data",
                params=("data",),
            )
        if record.get("path") and not Path(record["path"]).exists():
            raise HourglassError(
                f"{record['path']}: the checkpoint's training data is gone; name the data", params=("data",)
            )
    own = data == record.get("path")
    table = record.get("table") if own else None
    options: dict = (
        {"columns": table["columns"], "one_hot": bool(table["one_hot"]), "id_column": table["id_column"]}
        if table
        else {}
    )
    if data == record.get("name") and record.get("validation_rows"):  # MNIST's training images split another way
        options["validation_rows"] = record["validation_rows"]
    dataset = load_dataset(data, seed=seed, stream=True if record.get("streamed") and own else None, **options)
    expected = checkpoint.model.architecture.n_features
    if dataset.n_features != expected:
        raise HourglassError(f"{data}: {dataset.n_features} features per sample, the model expects {expected}")
    return dataset
