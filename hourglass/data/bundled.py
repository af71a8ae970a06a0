"""Data that comes with scikit-learn: the 8×8 digits and the curved 2-D manifolds in 3-D."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from .dataset import Dataset, split_indices


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1,797 images), scaled to [0, 1], split 80/10/10 with ``seed``.

    Parameters
    ----------
    seed : int, optional
        Seeds the 80 / 10 / 10 split.

    Returns
    -------
    Dataset
        scikit-learn's 1,797 digits (8 × 8, in [0, 1]), split 80 / 10 / 10.
    """
    pixels, labels = digits_arrays()
    x, y = (pixels / 16.0).astype(np.float32), labels.astype(np.int64)
    tr, va, te = split_indices(len(x), seed)
    return Dataset(
        "digits", x[tr], x[va], x[te], y[tr], y[va], y[te], shape=(1, 8, 8), source={"name": "digits", "seed": seed}
    )


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits as scikit-learn's ``load_digits`` gives them: pixels (1797, 64) in 0..16 and labels (1797,).

    Read from the file scikit-learn ships them in (``sklearn/datasets/data/digits.csv.gz``: 64 pixel columns, then
    the label), found without importing scikit-learn: its datasets module imports SciPy and pandas, ~1.5 s of each
    CLI command on digits for a 1,797-row file. Where that file is not, scikit-learn's own loader.
    """
    spec = importlib.util.find_spec("sklearn")  # locates the package without running it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1], table[:, -1].astype(int)
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    return bunch.data, bunch.target


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
