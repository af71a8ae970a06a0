"""A trained run's data again: the dataset a checkpoint was trained on (the same splits), or other data checked
against it, and a split's rows in memory for the measures and pictures that need arrays."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HourglassError
from .dataset import Dataset
from .loading import load_dataset
from .patches import PhotoPatches, open_photos
from .streaming import StreamedDataset

if TYPE_CHECKING:
    from ..store.checkpoint import Checkpoint

MEASURED_ROWS = 10_000  # rows of a streamed split that the measures beyond the error (PSNR, sparsity, ...) look at


def rows_in_memory(
    dataset: Dataset | StreamedDataset | PhotoPatches, split: str, limit: int = MEASURED_ROWS
) -> tuple[np.ndarray, np.ndarray | None]:
    """A split's rows (in the data's units) and labels, in memory: all of an in-memory dataset's, the first
    ``limit`` rows (no labels) of a dataset streamed from disk — for the measures and pictures that need arrays."""
    if isinstance(dataset, StreamedDataset):
        return next(dataset.split(split).chunks(limit)).numpy(), None
    return dataset.split(split)


def dataset_of(checkpoint: Checkpoint, data: str | Path | None = None) -> Dataset | StreamedDataset | PhotoPatches:
    """The dataset a checkpoint was trained on (same splits), or ``data`` instead."""
    record = checkpoint.data
    if record.get("photos") and data is None and Path(record.get("path", "")).is_dir():
        return open_photos(record["path"], seed=record.get("seed", 0), **record["photos"])
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
    table = record.get("table") if data == record.get("path") else None
    options = (
        {"columns": table["columns"], "one_hot": bool(table["one_hot"]), "id_column": table["id_column"]}
        if table
        else {}
    )
    stream = True if record.get("streamed") and data == record.get("path") else None
    if data == record.get("name") and record.get("validation_rows"):  # MNIST's training images split another way
        options["validation_rows"] = record["validation_rows"]
    dataset = load_dataset(data, seed=record.get("seed", 0), stream=stream, **options)
    expected = checkpoint.model.architecture.n_features
    if dataset.n_features != expected:
        raise HourglassError(f"{data}: {dataset.n_features} features per sample, the model expects {expected}")
    return dataset
