"""The whole journey in one call each: :func:`train` a :class:`~hourglass.run.Run` (open its data, resolve its model,
fit, keep the run folder) and :func:`evaluate` a checkpoint. What to build is a
:class:`~hourglass.variants.ModelConfig` (re-exported here)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import binarize
from .data.spec import DataSpec, TrainingData, dataset_of, open_data
from .errors import HourglassError
from .losses import Objective
from .metrics import compare_with_pca, corrupt, psnr, reconstruct
from .models import Autoencoder
from .run import Run
from .scaling import Scaling
from .store import checkpoint as ckpt
from .store import runfolder
from .training import distributed
from .training.callbacks import Callback, ErrorQuantiles
from .training.loggers import loggers_for
from .training.loop import History, TrainConfig, fit
from .variants import MODEL_OPTIONS, PRESETS, VAE_OPTIONS, ModelConfig

__all__ = ["MODEL_OPTIONS", "PRESETS", "VAE_OPTIONS", "ModelConfig", "Run", "TrainedModel", "evaluate", "train",
           "variant_name"]  # fmt: skip


@dataclass
class TrainedModel:
    """A trained model with what it was trained on: the data, the scaling, its objective, history and folder."""

    model: Autoencoder  # or VAE
    dataset: TrainingData
    scaling: Scaling
    objective: Objective
    history: History
    out: Path | None = None
    seconds: float = 0.0
    scaled: dict = field(default_factory=dict)
    measured: dict | None = None

    def x(self, split: str) -> Any:
        """A split in the model's (scaled) space (for streamed data, a feed that reads it from disk)."""
        if split not in self.scaled:
            self.scaled[split] = self.dataset.scaled(split, self.scaling)
        return self.scaled[split]

    def validation(self) -> dict:
        """The validation split's error beside PCA's at the same k (:func:`hourglass.metrics.compare_with_pca`);
        for a model trained on corrupted inputs, the PSNR of the split's rows noisy and denoised (``psnr_noisy``,
        ``psnr_denoised``). Measured once."""
        if self.measured is None:
            result = compare_with_pca(self.model, self.x("train"), self.x("val"))
            if self.objective.corruption is not None:
                x_val = self.scaling.transform(self.dataset.measured_rows("val")[0])
                noisy = corrupt(self.objective.corruption, x_val, 0, self.objective.noise_map)
                result.update(psnr_noisy=psnr(x_val, noisy[:, : x_val.shape[1]]),
                              psnr_denoised=psnr(x_val, reconstruct(self.model, noisy)))  # fmt: skip
            self.measured = result
        return self.measured


def _check_run_folder(out: Path, resume: bool, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise HourglassError(f"{out}: is a file; a run's output is a folder", params=("out",))
    if runfolder.holds_run(out) and not resume and not overwrite:
        raise HourglassError(
            f"{out}: already holds a run; continue it (resume), replace it (overwrite) or choose another out",
            params=("resume", "overwrite", "out"),
        )


def train(
    run: Run | DataSpec | TrainingData | str | Path,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
) -> TrainedModel:
    """Open the run's data, scale it, resolve the model and its objective, train it, keep it.

    Parameters
    ----------
    run : Run, or what a run's data may be
        The training (:class:`~hourglass.run.Run`). For short, its data alone — a :class:`DataSpec`, a dataset
        name, a file or folder, or data already opened — with ``model_config``, ``train_config`` and ``out``
        (these three belong to the ``Run`` when one is given).
    model_config, train_config : optional
        What to build and how to train it (defaults: :class:`ModelConfig` and :class:`TrainConfig`'s).
    out : str or Path, optional
        The run folder: the best model is kept there (a snapshot per epoch, crash-consistent), with the run it
        came from, and the distribution of its training errors for anomaly scores.
    resume : bool
        Continue the run already in ``out`` (its data and settings must be the same; ``epochs`` may grow).
    overwrite : bool
        Replace a run already in ``out`` (without ``resume`` or ``overwrite`` such a folder is refused).
    callbacks : sequence of Callback
        Passed to :func:`~hourglass.training.loop.fit` besides the run's loggers.

    Returns
    -------
    TrainedModel
        The model (best validation epoch), its data, scaling, objective, history and folder.
    """
    if not isinstance(run, Run):
        data = run if isinstance(run, DataSpec) else DataSpec(run)
        run = Run(data, model_config or ModelConfig(), train_config or TrainConfig(), Path(out) if out else None)
    elif model_config is not None or train_config is not None or out is not None:
        raise HourglassError("a Run says its model, training and out itself", params=("run",))
    mc, tc = run.model, run.training
    if run.out is not None:
        _check_run_folder(run.out, resume, overwrite)
    started = time.perf_counter()
    dataset = open_data(run.data, seed=tc.seed)
    scaling = dataset.fit_scaling(mc.scaling)
    model, objective = mc.resolve(
        dataset.shape, dataset.scaled_range(scaling), tc.seed, dataset.default_loss, dataset.clips_noise
    )
    x_train = dataset.scaled("train", scaling)
    loggers = loggers_for(run.log, run.out or ".", run.register) if run.log else []
    # The run folder's last snapshot keeps the training errors' distribution, so that `hourglass score` can flag
    # rows without the training data.
    kept = [ErrorQuantiles(x_train)] if run.out is not None else []
    history = fit(
        model,
        objective,
        x_train,
        dataset.scaled("val", scaling),
        tc,
        callbacks=[*callbacks, *loggers, *kept],
        checkpoint_dir=run.out,
        metadata={
            "scaling": scaling,
            "data": dataset.record(),
            "variant": variant_name(model, objective),
            "run": run.to_dict(with_out=False),
        },
        resume=resume,
    )
    trained = TrainedModel(
        model, dataset, scaling, objective, history, run.out, time.perf_counter() - started, {"train": x_train}
    )
    if loggers and distributed.is_main() and history.epochs:
        measured = trained.validation()
        for logger in loggers:
            logger.log_evaluation(measured)
    return trained


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
    :data:`hourglass.data.dataset.MEASURED_ROWS` rows (``measured_on`` says how many).

    Parameters
    ----------
    path : str or Path
        The run folder.
    data : str or Path, optional
        Other data to measure on (None: the run's own, the same splits).
    split : str, optional
        "train", "val" or "test".
    importance_samples : int, optional
        K > 0: a VAE's K-sample bound on log p(x) too.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    dict
        The checkpoint, data, split, variant, scaling, loss, the errors beside PCA's and each measure the objective's
        parts imply.
    """
    from .devices import resolve
    from .metrics import code_sparsity, codebook_usage, encode, mean_jacobian_norm, vae_bounds

    checkpoint = ckpt.load(path)
    checkpoint.model.to(resolve(device))
    dataset = dataset_of(checkpoint, data)
    s, model = checkpoint.scaling, checkpoint.model
    result = compare_with_pca(model, dataset.scaled("train", s), dataset.scaled(split, s))
    x_eval = s.transform(dataset.measured_rows(split)[0])  # in memory: a streamed split's first rows
    if len(x_eval) != result["n_samples"]:
        result["measured_on"] = len(x_eval)
    objective = (
        Objective.from_dict(checkpoint.objective)
        if checkpoint.objective
        else Objective("bce" if model.output == "sigmoid" else "mse")
    )
    extra: dict = {}
    if objective.corruption is not None:
        noisy = corrupt(objective.corruption, x_eval, 0, objective.noise_map)
        extra.update(
            noise=objective.corruption.to_dict(),
            psnr_noisy=psnr(x_eval, noisy[:, : x_eval.shape[1]]),
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


def variant_name(model, objective: Objective) -> str:
    """What the objective's parts make of the model: "ae", or the parts joined, e.g. "dae+sae" or "vae"."""
    arch = getattr(model, "architecture", None)
    parts = [
        ("dae", objective.corruption is not None),
        ("sae", objective.sparse or bool(arch is not None and arch.topk)),
        ("cae", objective.contractive),
        ("vae", getattr(model, "variational", False)),
        ("vqvae", bool(arch is not None and arch.codebook and not arch.levels)),
        ("fsq", bool(arch is not None and arch.levels)),
    ]
    return "+".join(name for name, present in parts if present) or "ae"
