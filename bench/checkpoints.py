"""The checkpoint the deployment benchmarks use: the demo's MNIST hourglass (784-256-64-16-4), trained once here.

bench-output/mnist-k4   hourglass train mnist --latent-dim 4 --epochs 5 --seed 0 (about 30 s, kept for re-runs)
"""

from __future__ import annotations

from pathlib import Path

from hourglass.store import runfolder
from hourglass.training.loop import TrainConfig
from hourglass.workflow import ModelConfig, train

FOLDER = Path("bench-output/mnist-k4")


def mnist_k4(folder: Path = FOLDER) -> Path:
    """The folder of the benchmark checkpoint, trained first if it is not there."""
    if not runfolder.holds_run(folder):
        print(f"training the benchmark model into {folder} (once) ...", flush=True)
        train(
            "mnist",
            ModelConfig(latent_dim=4),
            TrainConfig(epochs=5, seed=0, progress=False),
            out=folder,
            overwrite=True,
        )
    return folder
