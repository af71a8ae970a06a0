"""Data that comes with scikit-learn: the 8×8 digits and the curved 2-D manifolds in 3-D."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, split_indices


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1,797 images), scaled to [0, 1], split 80/10/10 with ``seed``."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x, y = (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64)
    tr, va, te = split_indices(len(x), seed)
    return Dataset("digits", x[tr], x[va], x[te], y[tr], y[va], y[te], shape=(1, 8, 8),
                   source={"name": "digits", "seed": seed})


def load_manifold(name: str, n_samples: int = 3000, noise: float = 0.05, seed: int = 0) -> Dataset:
    """A curved 2-D manifold in 3-D (scikit-learn's ``make_swiss_roll`` / ``make_s_curve``), split 80/10/10.

    The labels are the position along the manifold (float), for colouring plots.
    """
    from sklearn.datasets import make_s_curve, make_swiss_roll

    make = {"swiss-roll": make_swiss_roll, "s-curve": make_s_curve}[name]
    x, t = make(n_samples=n_samples, noise=noise, random_state=seed)
    x, t = x.astype(np.float32), t.astype(np.float32)
    tr, va, te = split_indices(len(x), seed)
    return Dataset(name, x[tr], x[va], x[te], t[tr], t[va], t[te], source={"name": name, "seed": seed})
