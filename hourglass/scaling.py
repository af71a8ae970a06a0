"""Preprocessing into the model's space, learned on the training split only and stored in checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import HourglassError

FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4e38: the model's space is float32


def in_unit_range(x: np.ndarray) -> bool:
    """Whether every value lies in [0, 1]: what the Bernoulli cross-entropy, binarisation and clipped noise need."""
    return float(np.min(x)) >= 0 and float(np.max(x)) <= 1


@dataclass
class Scaling:
    """An affine map into the model's space, ``x_model = (x - shift) / scale``, learned on the training split.

    ``kind`` is "none", "divide" (uint8 images: / 255) or "standardize" (per-feature mean and standard deviation).
    ``shift`` and ``scale`` broadcast over rows: scalars or (D,) arrays.

    Parameters
    ----------
    kind : str, optional
        "none", "divide" (uint8 images: / 255) or "standardize" (per-feature mean and standard deviation).
    shift : ndarray or float, optional
        Subtracted first: a scalar or (D,).
    scale : ndarray or float, optional
        Then divided by: a scalar or (D,).
    """

    kind: str = "none"
    shift: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, kind: str = "auto", image: bool = False) -> Scaling:
        """``kind="auto"``: values already in [0, 1] → none; images with values in [0, 255] → divide by 255;
        anything else → standardize."""
        kind = _choose(kind, float(np.min(x)), float(np.max(x)), image)
        if kind == "standardize":
            x64 = x.astype(np.float64)
            return cls._standardize(x64.mean(axis=0), x64.std(axis=0))
        return cls._fixed(kind)

    @classmethod
    def from_stats(cls, stats: ColumnStats, kind: str = "auto", image: bool = False) -> Scaling:
        """The same choice as :meth:`fit`, from statistics gathered in one streaming pass."""
        kind = _choose(kind, float(stats.min.min()), float(stats.max.max()), image)
        if kind == "standardize":
            return cls._standardize(stats.mean, np.sqrt(stats.m2 / stats.count))
        return cls._fixed(kind)

    @classmethod
    def _standardize(cls, mean: np.ndarray, std: np.ndarray) -> Scaling:
        std = std.copy()
        std[std == 0] = 1.0  # a constant feature stays constant (zero) instead of dividing by zero
        return cls("standardize", mean, std)

    @classmethod
    def _fixed(cls, kind: str) -> Scaling:
        if kind == "none":
            return cls("none")
        if kind == "divide":
            return cls("divide", 0.0, 255.0)
        raise HourglassError(f"unknown scaling {kind!r}; expected auto, none, divide or standardize")

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(x, dtype=np.float32)
        return ((np.asarray(x, dtype=np.float64) - self.shift) / self.scale).astype(np.float32)

    def scaled_range(self, low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
        """The smallest and largest scaled value of data whose columns span [low, high] (each (D,)): the map is
        increasing in each column, so the columns' extremes go to the scaled columns' extremes."""
        ends = self.transform(np.stack([low, high]))
        return float(ends[0].min()), float(ends[1].max())

    def inverse_transform(self, x: np.ndarray, dtype=np.float32) -> np.ndarray:
        """x in the data's units, as ``dtype`` (float64: rows the model answered in float64 keep their range)."""
        if self.kind == "none":
            return np.asarray(x, dtype=dtype)
        with np.errstate(over="ignore"):  # beyond float32 → ±inf, for the caller to refuse by row
            return (np.asarray(x, dtype=np.float64) * self.scale + self.shift).astype(dtype)

    def input_bounds(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """The smallest and largest value of each of the ``n_features`` columns (each (D,), in the data's units)
        that the model can take: finite within float32's range, before scaling and after it. The bound is stated
        here once; the service refuses values beyond it by row and column, and publishes it in its OpenAPI
        document. (A margin of 1e-6 keeps the scaled value clear of float32's limit after rounding.)"""
        if self.kind == "none":
            return np.full(n_features, -FLOAT32_MAX), np.full(n_features, FLOAT32_MAX)
        limit = FLOAT32_MAX * (1 - 1e-6)
        shift = np.broadcast_to(np.asarray(self.shift, np.float64), (n_features,))
        scale = np.broadcast_to(np.asarray(self.scale, np.float64), (n_features,))
        low, high = shift - limit * scale, shift + limit * scale
        return np.maximum(low, -FLOAT32_MAX), np.minimum(high, FLOAT32_MAX)

    def to_dict(self) -> dict:
        as_list = lambda v: v.tolist() if isinstance(v, np.ndarray) else float(v)  # noqa: E731
        return {"kind": self.kind, "shift": as_list(self.shift), "scale": as_list(self.scale)}

    @classmethod
    def from_dict(cls, d: dict, n_features: int) -> Scaling:
        def parse(v, name):
            a = np.asarray(v, dtype=np.float64)
            if a.ndim not in (0, 1) or (a.ndim == 1 and a.shape[0] != n_features) or not np.isfinite(a).all():
                raise HourglassError(f"preprocessing.{name} must be a number or {n_features} finite numbers")
            return a if a.ndim == 1 else float(a)

        if d.get("kind") not in ("none", "divide", "standardize"):
            raise HourglassError(f"preprocessing.kind is {d.get('kind')!r}, expected none, divide or standardize")
        scale = parse(d.get("scale", 1.0), "scale")
        if np.any(np.asarray(scale) == 0):
            raise HourglassError("preprocessing.scale has a 0; dividing by it would make every value infinite")
        return cls(d["kind"], parse(d.get("shift", 0.0), "shift"), scale)


def _choose(kind: str, low: float, high: float, image: bool) -> str:
    """The scaling "auto" stands for, given the data's smallest and largest values."""
    if kind != "auto":
        return kind
    if low >= 0 and high <= 1:
        return "none"
    return "divide" if image and low >= 0 and high <= 255 else "standardize"


class ColumnStats:
    """Count, mean, sum of squared deviations (M2), minimum and maximum of each column, gathered block by block.

    Two blocks' statistics merge exactly (Chan, Golub & LeVeque 1979, "Updating formulae and a pairwise algorithm
    for computing sample variances"): with δ = mean_b − mean_a and n = n_a + n_b, mean = mean_a + δ·n_b/n and
    M2 = M2_a + M2_b + δ²·n_a·n_b/n. Each block's own mean and M2 are two-pass sums in float64, so no step
    subtracts two large, nearly equal numbers (the naive Σx² − n·mean² loses every digit for data far from 0).

    With ``comoments`` the same merge gathers the D×D co-moment C = Σ (x − mean)(x − mean)ᵀ as well (the matrix
    form of M2: C = C_a + C_b + δδᵀ·n_a·n_b/n, Chan et al. again; C/n is the covariance), from which an exact PCA
    is one eigendecomposition (:meth:`hourglass.pca.PCABaseline.from_moments`).
    """

    def __init__(self, n_features: int, comoments: bool = False):
        self.count = 0
        self.mean = np.zeros(n_features)
        self.m2 = np.zeros(n_features)
        self.comoment = np.zeros((n_features, n_features)) if comoments else None
        self.min = np.full(n_features, np.inf)
        self.max = np.full(n_features, -np.inf)

    def add(self, block: np.ndarray) -> ColumnStats:
        """Fold in the rows of ``block`` (n, D); returns self."""
        n_b = len(block)
        if n_b == 0:
            return self
        x = np.asarray(block, dtype=np.float64)
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        m2_b = (centred**2).sum(axis=0)
        n = self.count + n_b
        delta = mean_b - self.mean
        if self.comoment is not None:
            # The block's own product in float32 (one SYRK, twice as fast as float64: as many flops per row as a
            # training step of a small MLP), its rows centred by the block's float64 mean first, so each entry
            # keeps ~6 significant digits; the blocks' products add up, and merge, in float64.
            c32 = centred.astype(np.float32)
            self.comoment += (c32.T @ c32).astype(np.float64) + np.outer(delta, delta) * (self.count * n_b / n)
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.count * n_b / n)
        self.count = n
        self.min = np.minimum(self.min, x.min(axis=0))
        self.max = np.maximum(self.max, x.max(axis=0))
        return self


def binarize(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """x_b ~ Bernoulli(x) elementwise with a fixed seed (a once-binarised evaluation set, as in Burda et al. 2016)."""
    return (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)
