"""The whole journey in one call each — load and scale data, build, train, save; evaluate a checkpoint.

This is what the CLI and the demo run; it only wires the other modules together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .data import Dataset, Scaling, load_dataset
from .errors import HourglassError
from .losses import Objective
from .metrics import compare_with_pca
from .models import Autoencoder
from .nets import Architecture
from .train import History, TrainConfig, fit


@dataclass
class ModelConfig:
    """What to build. The CLI's options mirror these names.

    arch: "mlp", "conv" or "linear"; widths: hidden widths (mlp) or channels (conv), None for the defaults;
    latent_dim: k; activation: the nonlinearity; loss: "bce", "mse" or "auto" (bce when the scaled training data
    lie in [0, 1], else mse); scaling: "auto", "none", "divide" or "standardize" (see :class:`Scaling`).
    """

    arch: str = "mlp"
    widths: tuple[int, ...] | None = None
    latent_dim: int = 4
    activation: str = "silu"
    loss: str = "auto"
    scaling: str = "auto"


@dataclass
class TrainedModel:
    """A trained model with what it was trained on: scaled splits, the scaling, its history and folder."""

    model: Autoencoder
    dataset: Dataset
    scaling: Scaling
    objective: Objective
    history: History
    out: Path | None = None
    seconds: float = 0.0
    scaled: dict = field(default_factory=dict)

    def x(self, split: str) -> np.ndarray:
        """A split in the model's (scaled) space."""
        if split not in self.scaled:
            self.scaled[split] = self.scaling.transform(self.dataset.split(split)[0])
        return self.scaled[split]


def data_record(dataset: Dataset) -> dict:
    """How a checkpoint remembers its data: where it came from, one sample's shape, column names."""
    return {**dataset.source, "dataset": dataset.name, "shape": list(dataset.shape), "columns": dataset.columns}


def train(data: str | Path | Dataset, model_config: ModelConfig | None = None,
          train_config: TrainConfig | None = None, out: str | Path | None = None, resume: bool = False) -> TrainedModel:
    """Load ``data`` (a dataset name, a file or folder, or a :class:`Dataset`), scale it, build the model, train it.

    With ``out`` the best model is saved there as a checkpoint (and updated during training); ``resume`` continues
    the run saved in ``out``.
    """
    mc, tc = model_config or ModelConfig(), train_config or TrainConfig()
    dataset = data if isinstance(data, Dataset) else load_dataset(data, seed=tc.seed)
    scaling = Scaling.fit(dataset.x_train, mc.scaling, image=dataset.is_image)
    x_train = scaling.transform(dataset.x_train)
    in_unit_range = float(x_train.min()) >= 0 and float(x_train.max()) <= 1
    loss = mc.loss if mc.loss != "auto" else ("bce" if in_unit_range else "mse")
    if loss == "bce" and not in_unit_range:
        raise HourglassError(f"the bce loss needs data in [0, 1]; {dataset.name} (scaling {scaling.kind}) spans "
                             f"[{x_train.min():.3g}, {x_train.max():.3g}]: use --loss mse or --scaling divide")
    objective = Objective(loss)
    arch = Architecture(mc.arch, dataset.shape, mc.widths, mc.latent_dim, mc.activation)
    model = Autoencoder.from_architecture(arch, objective.model_output, seed=tc.seed)
    if resume and out is not None:
        saved = ckpt.read_config(out)["model"]
        if saved["architecture"] != arch.to_dict() or saved["output"] != model.output:
            raise HourglassError(f"{out}: saved with architecture {saved['architecture']} and output "
                                 f"{saved['output']}; resume with the same options")
    metadata = {"scaling": scaling, "data": data_record(dataset)}
    started = time.perf_counter()
    history = fit(model, objective, x_train, scaling.transform(dataset.x_val), tc, checkpoint_dir=out,
                  metadata=metadata, resume=resume)
    trained = TrainedModel(model, dataset, scaling, objective, history, Path(out) if out else None,
                           time.perf_counter() - started, {"train": x_train})
    return trained


def dataset_of(checkpoint: ckpt.Checkpoint, data: str | Path | None = None) -> Dataset:
    """The dataset a checkpoint was trained on (same splits), or ``data`` instead."""
    record = checkpoint.data
    if data is None:
        data = record.get("name") or record.get("path")
        if data is None:
            raise HourglassError(f"{checkpoint.path}: the checkpoint does not say which data it was trained on; "
                                 "name it with --data")
        if record.get("path") and not Path(record["path"]).exists():
            raise HourglassError(f"{record['path']}: the checkpoint's training data is gone; name it with --data")
    dataset = load_dataset(data, seed=record.get("seed", 0))
    expected = checkpoint.model.architecture.n_features
    if dataset.n_features != expected:
        raise HourglassError(f"{data}: {dataset.n_features} features per sample, the model expects {expected}")
    return dataset


def evaluate(path: str | Path, data: str | Path | None = None, split: str = "test") -> dict:
    """Reconstruction error of the checkpoint at ``path`` on ``split``, beside PCA fitted on the same training split
    at the same k (both in the model's scaled space). See :func:`hourglass.metrics.compare_with_pca`."""
    checkpoint = ckpt.load(path)
    dataset = dataset_of(checkpoint, data)
    s = checkpoint.scaling
    result = compare_with_pca(checkpoint.model, s.transform(dataset.x_train), s.transform(dataset.split(split)[0]))
    return {"checkpoint": str(checkpoint.path), "data": dataset.name, "split": split,
            "scaling": s.kind, "loss": checkpoint.objective.get("reconstruction"), **result}
