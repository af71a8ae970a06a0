"""Experiment tracking with the real tools, as callbacks: a CSV file, TensorBoard, MLflow.

    fit(..., callbacks=[CSVLogger("metrics.csv"), TensorBoardLogger("tb"), MLflowLogger()])
    hourglass train digits --log tensorboard --log mlflow            # the same from the command line

Each logs the epoch's record (train and validation loss, every named term of the objective, lr, samples/s);
TensorBoard also a reconstruction grid for image data, a histogram of the codes and the codes in its embedding
projector (with the images as sprites); MLflow the configs as parameters, the run folder and its ONNX export as
artifacts and the final evaluation. TensorBoard and MLflow come from their extras; without one, the logger says
which to install in one line.
"""

from __future__ import annotations

import csv
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import HourglassError
from ..extras import needs
from ..store.files import atomic_path
from .callbacks import Callback

PROBE_ROWS = 1000  # validation rows whose codes the histogram and the projector show


def scalars(record: dict) -> dict[str, float]:
    """The epoch record's numbers (everything but the epoch's index), finite or not."""
    return {k: float(v) for k, v in record.items() if k != "epoch" and isinstance(v, (int, float))}


class Logger(Callback):
    """A callback that also takes the evaluation made after training (:meth:`log_evaluation`)."""

    def log_evaluation(self, metrics: dict) -> None:
        """Numbers measured once training is over (e.g. the test error beside PCA's)."""


class CSVLogger(Logger):
    """One row per epoch in a CSV file (``path``), its columns those of the first epoch's record; rewritten
    atomically each epoch, so a reader never sees half a row.

    Parameters
    ----------
    path : str or Path
        The CSV file, one row per epoch (rewritten atomically each epoch).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []

    def on_fit_start(self, trainer) -> None:
        self.rows = [dict(r) for r in trainer.history.epochs]  # a resumed run's earlier epochs stay in the file

    def on_epoch_end(self, trainer, record: dict) -> None:
        self.rows.append(dict(record))
        columns = list(dict.fromkeys(k for row in self.rows for k in row))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(self.rows)


def probe(trainer, rows: int = PROBE_ROWS) -> torch.Tensor:
    """The first ``rows`` validation rows (the samples, without labels), on the host."""
    batch = next(trainer.val_data.chunks(rows))
    return (batch[0] if isinstance(batch, tuple) else batch).float().cpu()


def image_shape(trainer) -> tuple[int, ...] | None:
    """(C, H, W) of one sample when the data are images (from the run's data record or the architecture)."""
    shape = (trainer.metadata.get("data") or {}).get("shape")
    if shape is None:
        architecture = getattr(trainer.module, "architecture", None)
        shape = getattr(architecture, "input_shape", None)
    return tuple(shape) if shape is not None and len(shape) == 3 else None


@torch.no_grad()
def codes_and_reconstructions(trainer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    module = trainer.module
    was_training = module.training
    module.eval()
    device = next(module.parameters()).device
    z = module.encode(x.to(device)).float().cpu()
    x_hat = module.reconstruct(x.to(device)).float().cpu()
    module.train(was_training)
    return z, x_hat


def image_grid(top: torch.Tensor, bottom: torch.Tensor, pad: int = 1) -> torch.Tensor:
    """Two rows of images — ``top`` (N, C, H, W) above ``bottom`` — as one (C, 2H + 3·pad, N·(W + pad) + pad)
    picture in [0, 1], on a white background."""
    n, c, h, w = top.shape
    canvas = torch.ones(c, 2 * h + 3 * pad, n * (w + pad) + pad)
    for row, images in enumerate((top, bottom)):
        for i, image in enumerate(images.clamp(0, 1)):
            y, x = pad + row * (h + pad), pad + i * (w + pad)
            canvas[:, y : y + h, x : x + w] = image
    return canvas


class TensorBoardLogger(Logger):
    """Scalars each epoch (``loss/train``, ``loss/val``, ``train/<term>``, ``val/<term>``, ``lr``,
    ``samples_per_s``); every ``images_every`` epochs, for image data, a grid of validation images above their
    reconstructions; each epoch a histogram of the codes; at the end the codes of up to 1,000 validation rows in
    the embedding projector, with the images as sprites.

    Parameters
    ----------
    log_dir : str or Path
        Where TensorBoard's event files go.
    images_every : int, optional
        Log reconstructions every this many epochs.
    projector : bool, optional
        Write the codes for TensorBoard's embedding projector at the end.
    """

    def __init__(self, log_dir: str | Path, images_every: int = 5, projector: bool = True):
        needs("tensorboard", "TensorBoardLogger")  # said before any data is read
        self.log_dir, self.images_every, self.projector = Path(log_dir), images_every, projector
        self.writer: Any = None  # torch.utils.tensorboard.SummaryWriter, from on_fit_start

    def on_fit_start(self, trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.log_dir))

    def on_epoch_end(self, trainer, record: dict) -> None:
        epoch = record["epoch"]
        for name, value in scalars(record).items():
            tag = {"train_loss": "loss/train", "val_loss": "loss/val"}.get(name)
            if tag is None and name.startswith(("train_", "val_")):
                split, term = name.split("_", 1)
                tag = f"{split}/{term}"
            self.writer.add_scalar(tag or name, value, epoch)
        x = probe(trainer)
        z, x_hat = codes_and_reconstructions(trainer, x)
        if torch.isfinite(z).all():
            self.writer.add_histogram("codes", z, epoch)
        shape = image_shape(trainer)
        if shape is not None and (epoch % self.images_every == 0 or epoch == trainer.config.epochs):
            n = min(16, len(x))
            self.writer.add_image(
                "reconstructions", image_grid(x[:n].reshape(n, *shape), x_hat[:n].reshape(n, *shape)), epoch
            )
        self.writer.flush()

    def on_fit_end(self, trainer) -> None:
        if self.writer is None:
            return
        shape = image_shape(trainer)
        if self.projector and trainer.history.epochs:
            x = probe(trainer)
            z, _ = codes_and_reconstructions(trainer, x)
            sprites = x.reshape(-1, *shape).clamp(0, 1) if shape is not None and shape[0] in (1, 3) else None
            self.writer.add_embedding(z, label_img=sprites, global_step=len(trainer.history.epochs), tag="codes")
        self.writer.close()
        self.writer = None


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    """Nested configs as MLflow parameters: ``training.lr`` → "0.003" (lists and None as their text)."""
    out: dict[str, str] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = str(value)[:500]  # MLflow's limit on a parameter's value
    return out


class MLflowLogger(Logger):
    """An MLflow run per training: the configs as parameters, each epoch's record as metrics (step = epoch),
    and at the end the run folder and its ONNX export as artifacts (``artifacts``), the trained model as an MLflow
    pyfunc model (``runs:/RUN_ID/model``, :mod:`hourglass.mlflow_model`; registered as ``register`` where named)
    and the best epoch; the evaluation after training (:meth:`log_evaluation`) as metrics too.

    Uses :class:`mlflow.MlflowClient` with the run's id throughout, so nothing depends on MLflow's active run.

    Parameters
    ----------
    tracking_uri : str, optional
        Where runs go (None: MLflow's own choice, which respects ``MLFLOW_TRACKING_URI``; e.g. ``sqlite:///mlflow.db``
        or ``http://127.0.0.1:5000``). experiment: the experiment's name.
    experiment : str, optional
        The experiment's name.
    run_name : str, optional
        The run's name (None: MLflow's).
    artifacts : bool, optional
        Log the checkpoint, the ONNX model and the pyfunc model.
    register : str, optional
        Register the pyfunc model in MLflow's model registry under this name (a new version of it, if it exists).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "hourglass",
        run_name: str | None = None,
        artifacts: bool = True,
        register: str | None = None,
    ):
        needs("mlflow", "MLflowLogger")  # said before any data is read
        self.tracking_uri, self.experiment, self.run_name = tracking_uri, experiment, run_name
        self.artifacts, self.register = artifacts, register
        self.client: Any = None  # mlflow.MlflowClient, from on_fit_start
        self.run_id: str | None = None

    def on_fit_start(self, trainer) -> None:
        import mlflow

        self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri)
        found = self.client.get_experiment_by_name(self.experiment)
        experiment_id = found.experiment_id if found is not None else self.client.create_experiment(self.experiment)
        name = self.run_name or (trainer.folder.name if trainer.folder is not None else None)
        self.run_id = self.client.create_run(experiment_id, run_name=name).info.run_id
        params = {
            "training": trainer.config.to_dict(),
            **{k: v for k, v in trainer.metadata.items() if k in ("objective", "data", "variant")},
        }
        architecture = getattr(trainer.module, "architecture", None)
        if architecture is not None:
            params["architecture"] = architecture.to_dict()
        from mlflow.entities import Param

        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in flatten(params).items()])

    def _metrics(self, values: dict[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, step) for k, v in values.items() if math.isfinite(v)]
        self.client.log_batch(self.run_id, metrics=metrics)

    def on_epoch_end(self, trainer, record: dict) -> None:
        self._metrics(scalars(record), record["epoch"])

    def on_fit_end(self, trainer) -> None:
        if self.run_id is None:
            return
        history = trainer.history
        if history.best_epoch is not None:
            self._metrics(
                {"best_epoch": history.best_epoch, "best_val_loss": history.best_val_loss}, len(history.epochs)
            )
        self.client.set_tag(self.run_id, "stopped", history.stopped)
        if self.artifacts and trainer.folder is not None and history.epochs:
            from ..store import runfolder

            snapshot = runfolder.current(trainer.folder)
            if snapshot is not None:
                self.client.log_artifacts(self.run_id, str(snapshot), "run")
                self._log_model(trainer)
            self._log_onnx(trainer.folder)
        status = {"completed": "FINISHED", "early_stopped": "FINISHED"}.get(history.stopped, "KILLED")
        self.client.set_terminated(self.run_id, status)

    def _log_model(self, trainer) -> None:
        """The run as an MLflow pyfunc model (:mod:`hourglass.mlflow_model`), registered where asked; a model
        hourglass cannot rebuild alone (a custom module) gets a note in the run's tags instead."""
        from ..mlflow_model import log_run_model

        assert self.run_id is not None, "on_fit_start created the run"
        try:
            log_run_model(self.client, self.run_id, trainer.folder, probe(trainer, 5).numpy(), self.register)
        except HourglassError as e:
            self.client.set_tag(self.run_id, "pyfunc", f"not logged: {e}")

    def _log_onnx(self, folder: Path) -> None:
        """The run's ONNX export, where the 'export' extra is installed (a note in the run's tags where not)."""
        try:
            from ..export import export_onnx
        except ImportError:
            self.client.set_tag(self.run_id, "onnx", "not exported: the 'export' extra is not installed")
            return
        with tempfile.TemporaryDirectory() as tmp:
            try:
                export_onnx(folder, Path(tmp) / "model.onnx")
            except (ImportError, HourglassError) as e:
                self.client.set_tag(self.run_id, "onnx", f"not exported: {e}")
                return
            self.client.log_artifact(self.run_id, str(Path(tmp) / "model.onnx"), "onnx")

    def log_evaluation(self, metrics: dict) -> None:
        if self.run_id is None:
            return
        values = {
            f"eval_{k}": float(v)
            for k, v in metrics.items()
            if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)
        }
        self._metrics(values, 0)


def loggers_for(names, out: str | Path, register: str | None = None) -> list[Logger]:
    """The loggers that ``--log`` names, writing beside the run folder ``out``: csv → OUT/metrics.csv, tensorboard
    → OUT/tensorboard, mlflow → a run named after OUT (where ``MLFLOW_TRACKING_URI`` says), its model registered
    as ``register`` where named."""
    out = Path(out)
    made = {
        "csv": lambda: CSVLogger(out / "metrics.csv"),
        "tensorboard": lambda: TensorBoardLogger(out / "tensorboard"),
        "mlflow": lambda: MLflowLogger(run_name=out.name, register=register),
    }
    return [made[name]() for name in dict.fromkeys(names)]
