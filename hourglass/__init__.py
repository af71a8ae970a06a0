"""hourglass: autoencoders as the textbook tells them, measured on real data.

    x ──f──▶ z ──g──▶ x̂        encoder f, code z (the bottleneck, dim z < dim x), decoder g

Read the package in the order data flows: run (what a training is) → data (every source behind one face) → nets →
models (``model(x)`` → Output) → corruptions, penalties, losses (``objective(output, x)`` → loss, terms) →
variants (``ModelConfig.resolve``) → training (``fit``, callbacks around it) → store (run folders, checkpoints) →
workflow (``train(run)``, ``evaluate``) → use, sampling, denoising → export, service, explorer → experiments → cli.
docs/architecture.md draws the layers, which ``make lint`` checks.
"""

from ._version import __version__
from .corruptions import Compose, GaussianNoise, MaskingNoise, SaltAndPepper, parse_noise
from .data import Dataset, DataSpec, PatchOptions, Scaling, TableOptions, load_dataset, load_digits, load_mnist
from .denoising import denoise_image
from .errors import HourglassError, TrainingDiverged
from .losses import (
    Objective,
    bernoulli_cross_entropy_per_sample,
    reconstruction_per_sample,
    squared_error_per_sample,
)
from .metrics import (
    code_sparsity,
    compare_with_pca,
    encode,
    mean_jacobian_norm,
    psnr,
    reconstruct,
    reconstruction_errors,
    vae_bounds,
)
from .models import VAE, VQVAE, Autoencoder, Output
from .nets import Architecture
from .pca import PCABaseline
from .penalties import ContractivePenalty, KLSparsityPenalty, L1Penalty
from .priors import DiffusionPrior, GaussianPrior, MixturePrior, fit_prior
from .run import Run
from .scoring import explain
from .store.checkpoint import Checkpoint, load, save
from .training.callbacks import Callback
from .training.loop import History, TrainConfig, Trainer, fit
from .variants import ModelConfig

__all__ = [
    "__version__",
    "Architecture",
    "Autoencoder",
    "Callback",
    "Checkpoint",
    "Compose",
    "ContractivePenalty",
    "DataSpec",
    "Dataset",
    "GaussianNoise",
    "History",
    "HourglassError",
    "KLSparsityPenalty",
    "L1Penalty",
    "MaskingNoise",
    "ModelConfig",
    "Objective",
    "Output",
    "PCABaseline",
    "PatchOptions",
    "Run",
    "SaltAndPepper",
    "Scaling",
    "TableOptions",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "VAE",
    "VQVAE",
    "DiffusionPrior",
    "GaussianPrior",
    "MixturePrior",
    "fit_prior",
    "bernoulli_cross_entropy_per_sample",
    "code_sparsity",
    "compare_with_pca",
    "denoise_image",
    "encode",
    "explain",
    "fit",
    "load",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "mean_jacobian_norm",
    "parse_noise",
    "psnr",
    "reconstruct",
    "reconstruction_errors",
    "reconstruction_per_sample",
    "run_claims",
    "save",
    "squared_error_per_sample",
    "vae_bounds",
    "export_onnx",
    "create_app",
    "serve",
    "explore_file",
    "train",
    "evaluate",
]

# Imported on first use, not with every CLI command: the experiments pull in matplotlib, the export the ONNX
# stack, the service FastAPI.
_LAZY = {
    "run_claims": "experiments",
    "export_onnx": "export",
    "create_app": "service",
    "serve": "service",
    "explore_file": "explorer",
    "train": "workflow",
    "evaluate": "workflow",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'hourglass' has no attribute {name!r}")
