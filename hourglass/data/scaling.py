"""Preprocessing into the model's space, learned on the training split only and stored in checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import HourglassError


def in_unit_range(x: np.ndarray) -> bool:
    """Whether every value lies in [0, 1]: what the Bernoulli cross-entropy, binarisation and clipped noise need."""
    return float(np.min(x)) >= 0 and float(np.max(x)) <= 1


@dataclass
class Scaling:
    """An affine map into the model's space, ``x_model = (x - shift) / scale``, learned on the training split.

    ``kind`` is "none", "divide" (uint8 images: / 255) or "standardize" (per-feature mean and standard deviation).
    ``shift`` and ``scale`` broadcast over rows: scalars or (D,) arrays.
    """

    kind: str = "none"
    shift: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, kind: str = "auto", image: bool = False) -> "Scaling":
        """``kind="auto"``: values already in [0, 1] → none; images with values in [0, 255] → divide by 255;
        anything else → standardize."""
        if kind == "auto":
            if in_unit_range(x):
                kind = "none"
            elif image and float(x.min()) >= 0 and float(x.max()) <= 255:
                kind = "divide"
            else:
                kind = "standardize"
        if kind == "none":
            return cls("none")
        if kind == "divide":
            return cls("divide", 0.0, 255.0)
        if kind == "standardize":
            x64 = x.astype(np.float64)
            std = x64.std(axis=0)
            std[std == 0] = 1.0  # a constant feature stays constant (zero) instead of dividing by zero
            return cls("standardize", x64.mean(axis=0), std)
        raise HourglassError(f"unknown scaling {kind!r}; expected auto, none, divide or standardize")

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(x, dtype=np.float32)
        return ((np.asarray(x, dtype=np.float64) - self.shift) / self.scale).astype(np.float32)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(x, dtype=np.float32)
        return (np.asarray(x, dtype=np.float64) * self.scale + self.shift).astype(np.float32)

    def to_dict(self) -> dict:
        as_list = lambda v: v.tolist() if isinstance(v, np.ndarray) else float(v)  # noqa: E731
        return {"kind": self.kind, "shift": as_list(self.shift), "scale": as_list(self.scale)}

    @classmethod
    def from_dict(cls, d: dict, n_features: int) -> "Scaling":
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


def binarize(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """x_b ~ Bernoulli(x) elementwise with a fixed seed (a once-binarised evaluation set, as in Burda et al. 2016)."""
    return (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)
