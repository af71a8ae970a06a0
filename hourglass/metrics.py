"""Measuring a trained autoencoder: reconstruction error in the project's units, beside PCA at the same k.

Units: ``squared_error_per_sample`` = mean over samples of Σ_d (x_d − x̂_d)² (per image for MNIST; Hinton &
Salakhutdinov 2006); ``mse_per_feature`` = that / D. Both are measured in the model's (scaled) space.
"""

from __future__ import annotations

import numpy as np
import torch

from .pca import PCABaseline


@torch.no_grad()
def apply_in_batches(fn, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """``fn`` (tensor → tensor) over the rows of ``x`` in batches; the results stacked as a float32 array."""
    out = [fn(torch.as_tensor(x[i:i + batch_size], dtype=torch.float32)).numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float32, copy=False)


def encode(model, x: np.ndarray) -> np.ndarray:
    """Codes z = f(x): (N, D) → (N, k), model in eval mode."""
    model.eval()
    return apply_in_batches(model.encode, x)


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    """x̂ = g(f(x)) in the model's space: (N, D) → (N, D)."""
    model.eval()
    return apply_in_batches(model.reconstruct, x)


def reconstruction_errors(x: np.ndarray, x_hat: np.ndarray) -> dict[str, float]:
    """``squared_error_per_sample`` and ``mse_per_feature`` of x̂ against x (float64 sums)."""
    per_sample = ((np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)) ** 2).sum(axis=1)
    return {"squared_error_per_sample": float(per_sample.mean()),
            "mse_per_feature": float(per_sample.mean() / x.shape[1])}


def compare_with_pca(model, x_train: np.ndarray, x_eval: np.ndarray, k: int | None = None,
                     pca: PCABaseline | None = None) -> dict:
    """The autoencoder's error on ``x_eval`` beside PCA's (fitted on ``x_train``) at the same k.

    Returns ``k``, ``squared_error_per_sample``, ``mse_per_feature``, ``pca_squared_error_per_sample``,
    ``pca_mse_per_feature``, ``ratio_to_pca`` (AE ÷ PCA) and ``n_samples``.
    """
    k = k if k is not None else model.latent_dim
    pca = pca or PCABaseline(k).fit(x_train)
    ae = reconstruction_errors(x_eval, reconstruct(model, x_eval))
    base = reconstruction_errors(x_eval, pca.reconstruct(x_eval))
    return {"k": k, **ae, "pca_squared_error_per_sample": base["squared_error_per_sample"],
            "pca_mse_per_feature": base["mse_per_feature"],
            "ratio_to_pca": ae["squared_error_per_sample"] / base["squared_error_per_sample"],
            "n_samples": int(len(x_eval))}
