"""What several claims share: the model families, recipes and helpers, defined once."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import reconstruct, squared_errors
from ..workflow import ModelConfig
from .lab import Lab

FAMILY_WIDTHS = (256, 64)  # the MLP hourglass 784→256→64→k used across k (claims 2, 6, 9)
FAMILY_KS = (2, 4, 8, 16, 30)
REFERENCE: dict[str, Any] = {
    "widths": (512, 256),
    "latent_dim": 16,
}  # one architecture for AE, DAE and VAE (claims 4, 7, 8)
SAE_WIDTHS, SAE_CODE = (512,), 1000  # the recommended overcomplete sparse autoencoder, 784→512→1000 (ReLU)
SAE_LAMBDAS = (0.01, 0.03, 0.1, 0.3)
CAE_LAMBDAS = (0.01, 0.1, 1.0)
NOISES = ("gaussian:0.5", "mask:0.5", "salt-and-pepper:0.3")
HINTON_PCA_30, HINTON_DEEP_30 = 13.87, 3.00  # Hinton & Salakhutdinov (2006), Science 313(5786), 504–507
TIME_LIMIT_S = 15 * 60
# The models with 512-unit layers (the reference AE/DAE/VAE, the sparse AE) train in bf16 where the hardware computes
# it natively, at the same quality and faster (docs/benchmarks.md, "Precision"), and in fp32 elsewhere, where bf16 is
# emulated; the narrow families stay fp32.
WIDE_PRECISION = "auto"
DIAGRAMS = ("linear-k16", "ae-mlp-k2", "deep-mlp-k30", "conv-k30", "sae-l1-0.1", "vae-ref")  # drawn in claim 10


def family_model(lab: Lab, k: int):
    return lab.model(f"ae-mlp-k{k}", ModelConfig(widths=FAMILY_WIDTHS, latent_dim=k), lab.sizes.epochs)


def reference_model(lab: Lab, variant: str = "ae", noise: str | None = None):
    name = {"ae": "ae-ref", "vae": "vae-ref"}.get(variant) or f"dae-{(noise or '').replace(':', '-')}"
    return lab.model(
        name, ModelConfig(model=variant, noise=noise, **REFERENCE), lab.sizes.epochs, precision=WIDE_PRECISION
    )


def signed_images(vectors: np.ndarray) -> np.ndarray:
    """Rows with positive and negative entries as grey images: 0.5 is zero, each row scaled by its own max |v|."""
    v = np.asarray(vectors, np.float64)
    return (0.5 + 0.5 * v / np.maximum(np.abs(v).max(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def as_images(x: np.ndarray) -> np.ndarray:
    """Clip generated or reconstructed pixels to [0, 1] (decoders with a linear output can overshoot)."""
    return np.clip(x, 0.0, 1.0)


def error_per_image(model, x: np.ndarray) -> float:
    """Mean squared reconstruction error per row of ``x`` (summed over pixels)."""
    return float(squared_errors(x, reconstruct(model, x)).mean())
