"""The whole journey in one call each — load and scale data, build, train, save; evaluate a checkpoint. What to
build is a :class:`~hourglass.variants.ModelConfig` (re-exported here)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import Dataset, Scaling, StreamedDataset, binarize, load_dataset
from .data.patches import PhotoPatches, open_photos
from .data.reopen import dataset_of, rows_in_memory
from .errors import HourglassError
from .losses import Objective
from .metrics import compare_with_pca, corrupt, errors_of, psnr, reconstruct
from .models import Autoencoder
from .store import checkpoint as ckpt
from .store import runfolder
from .training import distributed
from .training.callbacks import Callback
from .training.loop import History, TrainConfig, fit
from .variants import MODEL_OPTIONS, PRESETS, VAE_OPTIONS, ModelConfig, variant_name

__all__ = ["MODEL_OPTIONS", "PRESETS", "VAE_OPTIONS", "ModelConfig", "TrainedModel", "evaluate", "train",
           "variant_name"]  # fmt: skip


@dataclass
class TrainedModel:
    """A trained model with what it was trained on: scaled splits, the scaling, its history and folder."""

    model: Autoencoder  # or VAE
    dataset: Dataset
    scaling: Scaling
    objective: Objective
    history: History
    out: Path | None = None
    seconds: float = 0.0
    scaled: dict = field(default_factory=dict)

    def x(self, split: str) -> np.ndarray:
        """A split in the model's (scaled) space (for streamed data, a feed that reads it from disk)."""
        if split not in self.scaled:
            self.scaled[split] = self.dataset.scaled(split, self.scaling)
        return self.scaled[split]

    def validation(self) -> dict:
        """The validation split's error beside PCA's at the same k (:func:`hourglass.metrics.compare_with_pca`);
        for photos, the PSNR of the held-out photos' patches, noisy and denoised (``psnr_noisy``,
        ``psnr_denoised``)."""
        result = compare_with_pca(self.model, self.x("train"), self.x("val"))
        if isinstance(self.dataset, PhotoPatches) and self.objective.corruption is not None:
            x_val = self.dataset.split("val")[0]
            noisy = corrupt(self.objective.corruption, x_val, seed=0)
            result.update(psnr_noisy=psnr(x_val, noisy), psnr_denoised=psnr(x_val, reconstruct(self.model, noisy)))
        return result


def data_record(dataset: Dataset) -> dict:
    """How a checkpoint remembers its data: where it came from, one sample's shape, column names."""
    return {**dataset.source, "dataset": dataset.name, "shape": list(dataset.shape), "columns": dataset.columns}


def run_folder(data: str | Path | Dataset, model_config: ModelConfig) -> Path:
    """The default checkpoint folder for a run: ``runs/DATA-MODEL-ARCH-kK``."""
    name = data.name if isinstance(data, (Dataset, StreamedDataset)) else Path(str(data)).stem
    mc = model_config
    return Path("runs") / re.sub(r"[^\w.-]", "_", f"{name}-{mc.model}-{mc.arch}-k{mc.latent_dim}")


def _check_run_folder(out: Path, resume: bool, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise HourglassError(f"{out}: is a file; a run's output is a folder", params=("out",))
    if runfolder.holds_run(out) and not resume and not overwrite:
        raise HourglassError(
            f"{out}: already holds a run; continue it (resume), replace it (overwrite) or choose another out",
            params=("resume", "overwrite", "out"),
        )


def train(
    data: str | Path | Dataset,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    table: dict | None = None,
    stream: bool | None = None,
    callbacks: Sequence[Callback] = (),
    record: dict | None = None,
    photos: dict | None = None,
) -> TrainedModel:
    """Load ``data`` (a dataset name, a file or folder, or a :class:`Dataset`), scale it, build the model, train it.

    With ``out`` the best model is saved there as a checkpoint (and updated during training); a folder that
    already holds a run is refused unless ``resume`` (continue it) or ``overwrite`` (replace it).
    ``table``: for .csv/.parquet files, ``columns``, ``drop``, ``one_hot``, ``id_column`` (see
    :func:`hourglass.data.table_spec`). ``stream``: read the file from disk block by block instead of into memory
    (None: when it is larger than a quarter of the available memory; :func:`hourglass.data.load_dataset`).
    ``callbacks``: passed to :func:`~hourglass.training.loop.fit` (loggers, the share of cores, the user's own).
    ``record``: how the run was asked for (:mod:`hourglass.runconfig`), kept in the checkpoint for replays.
    ``photos``: ``patch_size`` (and ``patches_per_epoch``): ``data`` is a folder of photos of any sizes, trained
    on random patches drawn afresh each epoch (:mod:`hourglass.data.patches`); the loss defaults to mse, and the
    noise is not clipped (a photo's noise is measured unclipped, as the denoising literature does).
    """
    mc, tc = model_config or ModelConfig(), train_config or TrainConfig()
    mc.check()
    out = Path(out) if out is not None else None
    if out is not None:
        _check_run_folder(out, resume, overwrite)
    table = {k: v for k, v in (table or {}).items() if v}
    photos = {k: v for k, v in (photos or {}).items() if v is not None}
    dataset: Any
    if isinstance(data, (Dataset, StreamedDataset, PhotoPatches)):
        dataset = data
    elif photos.get("patch_size"):
        dataset = open_photos(data, seed=tc.seed, **photos)
    else:
        dataset = load_dataset(data, seed=tc.seed, stream=stream, **table)  # a Dataset, or a StreamedDataset
    on_photos = isinstance(dataset, PhotoPatches)
    scaling = dataset.fit_scaling(mc.scaling)
    x_train = dataset.scaled("train", scaling)
    low, high = dataset.scaled_range(scaling)
    unit = low >= 0 and high <= 1
    loss = mc.loss if mc.loss != "auto" else ("bce" if unit and not (on_photos or mc.residual) else "mse")
    if loss == "bce" and not unit:
        raise HourglassError(
            f"loss bce needs data in [0, 1]; {dataset.name} (scaling {scaling.kind}) spans "
            f"[{low:.3g}, {high:.3g}]: use loss mse or scaling divide",
            params=("loss", "scaling"),
        )
    if mc.binarize and not unit:
        raise HourglassError("binarize needs data in [0, 1] (it draws x ~ Bernoulli(x))", params=("binarize",))
    objective = mc.objective(loss, clip_noise=unit and not on_photos)
    k = mc.architecture(dataset.shape).latent_dim  # an fcn's code map, a VQ grid: wider than latent_dim's default
    if k >= dataset.n_features and not mc.overcomplete:
        raise HourglassError(
            f"latent_dim {k} is not smaller than the {dataset.n_features} features of "
            f"{dataset.name}: the code would be no bottleneck, and the model could learn the "
            "identity; choose latent_dim below the features (or a sparse, denoising or contractive "
            "model, whose penalty or noise keeps an overcomplete code from copying)",
            params=("latent_dim",),
        )
    model = mc.build(dataset.shape, objective, seed=tc.seed)
    metadata = {
        "scaling": scaling,
        "data": data_record(dataset),
        "variant": variant_name(model, objective),
        "objective": objective.to_dict(),
        "training": tc.to_dict(),
        "run": record,
    }
    started = time.perf_counter()
    folder = out if out is not None and distributed.is_main() else None  # under torchrun, rank 0 alone writes
    with runfolder.writer(folder) if folder is not None else contextlib.nullcontext():
        history = fit(
            model,
            objective,
            x_train,
            dataset.scaled("val", scaling),
            tc,
            checkpoint_dir=out,
            metadata=metadata,
            resume=resume,
            callbacks=callbacks,
        )
        if folder is not None and history.epochs and history.stopped != "interrupted":  # Ctrl-C: stop now
            # The distribution of training errors, so that `hourglass score` can flag rows without the training
            # data; published with the last snapshot's history and resume state.
            errors = errors_of(model, x_train)
            metadata["anomaly"] = {"train_error_quantiles": np.quantile(errors, np.linspace(0, 1, 1001)).tolist()}
            ckpt.save(folder, model, history=ckpt.history_summary(history), keep_training_state=True, **metadata)
    return TrainedModel(
        model, dataset, scaling, objective, history, out, time.perf_counter() - started, {"train": x_train}
    )


def evaluate(
    path: str | Path,
    data: str | Path | None = None,
    split: str = "test",
    importance_samples: int = 0,
    device: str = "auto",
) -> dict:
    """Reconstruction error of the checkpoint at ``path`` on ``split``, beside PCA fitted on the same training split
    at the same k (both in the model's scaled space; see :func:`hourglass.metrics.compare_with_pca`), and each
    measure the objective's parts imply: PSNR of corrupted and denoised inputs (a corruption), code sparsity (a
    sparsity penalty or a top-k code), the mean ‖J_f‖_F (a contractive penalty), the ELBO and, with
    ``importance_samples`` = K > 0, the K-sample bound on log p(x) (a VAE; a binarised model is measured on the
    split binarised once with seed 0). The model runs on ``device``. For data streamed from disk the errors are
    over the whole split and PCA is fitted incrementally; the other measures take the split's first
    :data:`hourglass.data.reopen.MEASURED_ROWS` rows (``measured_on`` says how many)."""
    from .devices import resolve
    from .metrics import code_sparsity, codebook_usage, encode, mean_jacobian_norm, vae_bounds

    checkpoint = ckpt.load(path)
    checkpoint.model.to(resolve(device))
    dataset: Any = dataset_of(checkpoint, data)  # a Dataset, or a StreamedDataset with the same face
    s, model = checkpoint.scaling, checkpoint.model
    x_train, x_eval = dataset.scaled("train", s), dataset.scaled(split, s)
    result = compare_with_pca(model, x_train, x_eval)
    if isinstance(dataset, StreamedDataset):  # the other measures need arrays: the split's first rows
        x_eval = s.transform(rows_in_memory(dataset, split)[0])
        result["measured_on"] = len(x_eval)
    if isinstance(dataset, PhotoPatches):  # the held-out photos' fixed patches
        x_eval = dataset.split(split)[0]
    objective = (
        Objective.from_dict(checkpoint.objective)
        if checkpoint.objective
        else Objective("bce" if model.output == "sigmoid" else "mse")
    )
    extra: dict = {}
    if objective.corruption is not None:
        noisy = corrupt(objective.corruption, x_eval, seed=0)
        extra.update(
            noise=objective.corruption.to_dict(),
            psnr_noisy=psnr(x_eval, noisy),
            psnr_denoised=psnr(x_eval, reconstruct(model, noisy)),
        )
    if objective.sparse or model.architecture.topk:
        extra.update(code_sparsity(encode(model, x_eval)))
    if objective.contractive:
        extra["mean_jacobian_norm"] = mean_jacobian_norm(model, x_eval)
    if getattr(model, "quantizer", None) is not None:
        extra.update(codebook_usage(model, x_eval))
    if model.variational:
        x_vae = binarize(x_eval, seed=0) if objective.binarize else x_eval
        extra.update(vae_bounds(model, x_vae, importance_samples=max(1, importance_samples)))
    return {
        "checkpoint": str(checkpoint.path),
        "data": dataset.name,
        "split": split,
        "variant": variant_name(model, objective),
        "scaling": s.kind,
        "loss": objective.reconstruction,
        **result,
        **extra,
    }
