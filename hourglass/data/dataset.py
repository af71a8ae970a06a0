"""A dataset as the library sees it: train / validation / test splits of float32 rows (N, D), one sample's shape
beside them, validated on the way in and split by a seeded shuffle."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import HourglassError
from ..scaling import FLOAT32_MAX, Scaling

SPLITS = ("train", "val", "test")
MEASURED_ROWS = 10_000  # rows of a streamed split that the measures beyond the error (PSNR, sparsity, ...) look at


@dataclass
class Dataset:
    """Train / validation / test splits of one dataset.

    ``x_*`` are float32 arrays (N, D); ``y_*`` are labels (N,) or None; ``shape`` is one sample's shape before
    flattening; ``source`` says how to load the same splits again (stored in checkpoints).

    Parameters
    ----------
    name : str
        A short name (the dataset's, or the file's stem).
    x_train : ndarray
        Training rows, float32 (N, D).
    x_val : ndarray
        Validation rows: the best epoch is chosen on them.
    x_test : ndarray
        Test rows, held out of training and of choosing the epoch.
    y_train : ndarray, optional
        Labels of the training rows (N,), if the data has any.
    y_val : ndarray, optional
        Labels of the validation rows.
    y_test : ndarray, optional
        Labels of the test rows.
    shape : tuple[int, ...], optional
        One sample's shape before flattening: (D,) or (C, H, W); () means (D,).
    columns : list[str], optional
        Feature names (a table's), else None.
    source : dict, optional
        How to load the same splits again (stored in checkpoints).
    """

    name: str
    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None = None
    y_val: np.ndarray | None = None
    y_test: np.ndarray | None = None
    shape: tuple[int, ...] = ()
    columns: list[str] | None = None
    source: dict = field(default_factory=dict)
    default_loss = None  # loss "auto": bce when the scaled data lie in [0, 1], else mse
    clips_noise = True  # corrupted inputs are clipped back into [0, 1] when the data lie there

    def __post_init__(self):
        if not self.shape:
            self.shape = (self.x_train.shape[1],)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(x, y)`` of split ``name`` ("train", "val", "test" or "all")."""
        if name == "all":
            ys = [self.y_train, self.y_val, self.y_test]
            y = None if any(v is None for v in ys) else np.concatenate([v for v in ys if v is not None])
            return np.concatenate([self.x_train, self.x_val, self.x_test]), y
        if name not in SPLITS:
            raise HourglassError(f"unknown split {name!r}; expected one of train, val, test, all")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def fit_scaling(self, kind: str = "auto") -> Scaling:
        """The scaling into the model's space, learned on the training split."""
        return Scaling.fit(self.x_train, kind, image=self.is_image)

    def scaled(self, name: str, scaling: Scaling) -> np.ndarray:
        """Split ``name`` in the model's space."""
        return scaling.transform(self.split(name)[0])

    def scaled_range(self, scaling: Scaling) -> tuple[float, float]:
        """The smallest and largest value of the scaled training split."""
        return scaling.scaled_range(self.x_train.min(axis=0), self.x_train.max(axis=0))

    def labels(self, name: str) -> np.ndarray:
        """The labels of split ``name``; refused, naming the dataset, where it has none."""
        y = self.split(name)[1]
        if y is None:
            raise HourglassError(f"{self.name} has no labels")
        return y

    def describe(self) -> list[dict]:
        """Each split's samples, features, smallest, largest and mean value, and its labels in words."""
        rows = []
        for split in SPLITS:
            x, y = self.split(split)
            if y is None:
                labels = "none"
            elif y.dtype.kind in "iu" and len(np.unique(y)) <= 50:
                labels = f"{len(np.unique(y))} classes"
            else:
                labels = f"continuous [{y.min():.3g}, {y.max():.3g}]"
            stats = {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean())} if len(x) else {}
            rows.append({"split": split, "samples": len(x), "features": x.shape[1], **stats, "labels": labels})
        return rows

    def measured_rows(self, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """A split's rows and labels: all of them (``limit`` is for data that does not fit in memory)."""
        return self.split(split)

    def record(self) -> dict:
        """How a checkpoint remembers this data: where it came from, one sample's shape, column names."""
        return {**self.source, "dataset": self.name, "shape": list(self.shape), "columns": self.columns}


def check_array(
    x, source: str, what: str = "data", columns: list[str] | None = None, first_row: int = 0
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate samples read from ``source``; return them as float32 (N, D) and one sample's shape.

    Accepted: a numeric array of rank 2 (N, D), 3 (N, H, W: one-channel images) or 4 (N, C, H, W).
    Refused, with a message naming ``source`` (and the feature's name in ``columns``, for tables): non-numeric or
    object dtype, rank 0/1 or > 4, no samples or no features, NaN or infinite values, and values beyond float32's
    range (±3.4e38), which would silently become infinite. ``first_row``: the file's row number of ``x[0]`` (a
    block of a streamed file), so that the message names the row in the file.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise HourglassError(f"{source}: {what} has dtype {x.dtype}, expected numbers (int, uint, float or bool)")
    if x.ndim < 2 or x.ndim > 4:
        hint = " (one feature per sample? reshape to (N, 1))" if x.ndim == 1 else ""
        raise HourglassError(f"{source}: {what} has shape {x.shape}, expected (N, D), (N, H, W) or (N, C, H, W){hint}")
    if x.shape[0] == 0 or int(np.prod(x.shape[1:])) == 0:
        raise HourglassError(f"{source}: {what} is empty (shape {x.shape})")
    shape = tuple(int(s) for s in x.shape[1:])
    if x.ndim == 3:
        shape = (1,) + shape
    x = x.reshape(x.shape[0], -1)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            kind = "NaN" if np.isnan(x[row, col]) else "infinite"
            raise HourglassError(
                f"{source}: {what} has {int(bad.sum())} NaN or infinite values (first: {kind} at "
                f"{_where(first_row + row, col, columns)})"
            )
        huge = np.abs(x) > FLOAT32_MAX if x.dtype.itemsize > 4 else np.zeros(x.shape, bool)
        if huge.any():
            row, col = np.argwhere(huge)[0]
            raise HourglassError(
                f"{source}: {what} has {int(huge.sum())} values beyond float32's range ±3.4e38 "
                f"(first: {x[row, col]:.3g} at {_where(first_row + row, col, columns)}); rescale them"
            )
    return np.ascontiguousarray(x, dtype=np.float32), shape


def _where(row: int, col: int, columns: list[str] | None) -> str:
    """A value's place: a table's data row (from 1) and column name, or an array's sample and feature (from 0)."""
    if columns is not None and col < len(columns):
        return f"data row {row + 1}, column {columns[col]!r}"
    return f"sample {row}, feature {col}"


def split_indices(n: int, seed: int, val_fraction: float = 0.1, test_fraction: float = 0.1):
    """A seeded shuffle of ``range(n)`` cut into train / val / test index arrays: at least one sample in each
    split whose fraction is above 0 (``test_fraction=0`` gives train and validation only)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise HourglassError(f"seed must be a whole number >= 0, got {seed!r}", params=("seed",))
    wanted = 1 + (val_fraction > 0) + (test_fraction > 0)
    if n < wanted:
        raise HourglassError(
            f"need at least {wanted} samples to split into train/val{'/test' * (test_fraction > 0)}, got {n}"
        )
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(val_fraction * n)) if val_fraction > 0 else 0
    n_test = max(1, round(test_fraction * n)) if test_fraction > 0 else 0
    return order[: n - n_val - n_test], order[n - n_val - n_test : n - n_test], order[n - n_test :]


@dataclass
class Samples:
    """Rows to encode, reconstruct, denoise or score: ``x`` float32 (N, D), labels ``y``, one sample's ``shape``,
    feature names ``columns`` and row ``ids`` (tables with an ID column), each None where absent."""

    x: np.ndarray
    y: np.ndarray | None = None
    shape: tuple[int, ...] = ()
    columns: list[str] | None = None
    ids: np.ndarray | None = None
