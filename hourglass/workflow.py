"""The whole journey in one call each — load and scale data, build, train, save; evaluate a checkpoint.

A model is an architecture and an objective. :class:`ModelConfig` spells both the way the CLI's options do;
``dae``, ``sae``, ``cae`` and ``vae`` are presets that fill in recommended options, and any options combine (a
denoising sparse autoencoder is ``ModelConfig(noise="gaussian:0.3", l1=0.05)``).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .corruptions import parse_noise
from .data import Dataset, Scaling, StreamedDataset, binarize, load_dataset
from .errors import HourglassError
from .losses import ContractivePenalty, KLSparsityPenalty, L1Penalty, Objective
from .metrics import compare_with_pca, errors_of, reconstruct
from .models import VAE, Autoencoder
from .nets import ACTIVATIONS, CODE_ACTIVATIONS, KINDS, Architecture
from .options import Allowed, check
from .store import checkpoint as ckpt
from .store import runfolder
from .training import distributed
from .training.callbacks import Callback
from .training.loop import History, TrainConfig, fit

# What each preset fills in when the option is not given. "vae" also picks the variational model class.
PRESETS: dict[str, dict[str, Any]] = {
    "ae": {},
    "dae": {"noise": "gaussian:0.5"},
    "sae": {"l1": 0.1},
    "cae": {"contractive": 0.1},
    "vae": {},
}
VAE_OPTIONS = {"beta": 1.0, "kl_warmup_epochs": 0, "learn_variance": False, "iw_samples": 1}  # and neutral values
MEASURED_ROWS = 10_000  # rows of a streamed split that evaluate's other measures (PSNR, sparsity, ...) look at


@dataclass
class ModelConfig:
    """What to build and what to train it for. The CLI's options mirror these names (``latent_dim`` is
    ``--latent-dim``).

    model: a preset: "ae" (plain), "dae" (denoising: noise gaussian:0.5), "sae" (sparse: l1 0.1, unless
        kl_sparsity or topk is given), "cae" (contractive: 0.1) or "vae" (the variational model). A preset only
        fills in options not given; options combine freely, e.g. noise + l1 is a denoising sparse autoencoder.
    arch: "mlp", "conv" or "linear"; widths: hidden widths (mlp) or channels (conv), None for the defaults;
        latent_dim: k; activation: the nonlinearity; code_activation: "linear", "relu" or "sigmoid" (None: sigmoid
        with kl_sparsity, relu with l1 or topk, else linear); topk: keep the k largest code units (a k-sparse code).
    loss: "bce", "mse" or "auto" (bce when the scaled training data lie in [0, 1], else mse; a VAE's likelihood
        follows it: Bernoulli for bce, Gaussian for mse); scaling: "auto", "none", "divide" or "standardize".
    noise: a corruption, e.g. "gaussian:0.5", "mask:0.5", "salt-and-pepper:0.3" (denoising).
    l1, kl_sparsity, sparsity_target: sparsity penalties on the code.
    contractive, contractive_estimator, probes: the contractive penalty λ‖J_f(x)‖²_F.
    beta, kl_warmup_epochs, learn_variance: the VAE's KL weight, its warm-up, a learned Gaussian variance;
        iw_samples: K > 1 trains the VAE on the importance-weighted bound with K draws (the IWAE).
    binarize: dynamic binarisation, x ~ Bernoulli(x) for every batch (data in [0, 1]).
    """

    model: str = "ae"
    arch: str = "mlp"
    widths: tuple[int, ...] | None = None
    latent_dim: int = 4
    activation: str = "silu"
    code_activation: str | None = None
    topk: int | None = None
    loss: str = "auto"
    scaling: str = "auto"
    noise: str | None = None
    l1: float | None = None
    kl_sparsity: float | None = None
    sparsity_target: float = 0.05
    contractive: float | None = None
    contractive_estimator: str = "auto"
    probes: int = 1
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    learn_variance: bool = False
    iw_samples: int = 1
    binarize: bool = False

    def __post_init__(self):
        check(self, MODEL_OPTIONS)
        for option, neutral in VAE_OPTIONS.items():
            if getattr(self, option) != neutral and self.model != "vae":
                raise HourglassError(
                    f"{option} is an option of the VAE (model vae), not of model {self.model}", params=(option, "model")
                )

    def check(self) -> None:
        """Refuse now what would be refused whatever the data (a penalty's weight, the noise, what a VAE cannot
        take, topk against latent_dim): :func:`train` calls it before any data is read, so a bad option costs a
        second, not the loading of a large file first."""
        objective = self.objective("bce", clip_noise=True)  # building it runs the noise's and penalties' own checks
        objective.check_kind(self.variational)
        self.architecture((1, 8, 8) if self.arch == "conv" else (8,))  # a stand-in sample shape: the data's comes later

    def expanded(self) -> ModelConfig:
        """This config with its preset's defaults filled in (explicit options win)."""
        preset = dict(PRESETS[self.model])
        if self.kl_sparsity is not None or self.topk is not None:
            preset.pop("l1", None)  # another sparsity was asked for
        return replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})

    @property
    def variational(self) -> bool:
        return self.model == "vae"

    @property
    def overcomplete(self) -> bool:
        """Whether the objective keeps a code at least as wide as the input from copying it (noise, a sparsity
        penalty or top-k, the contractive penalty) — the variants the textbook allows an overcomplete code."""
        spec = self.expanded()
        return any(v is not None for v in (spec.noise, spec.l1, spec.kl_sparsity, spec.topk, spec.contractive))

    def objective(self, loss: str, clip_noise: bool) -> Objective:
        """The :class:`Objective` these options ask for, for the resolved reconstruction ``loss`` (bce or mse)."""
        spec = self.expanded()
        corruption = parse_noise(spec.noise, clip=clip_noise) if spec.noise is not None else None
        penalties: list[Any] = []
        if spec.l1 is not None:
            penalties.append(L1Penalty(spec.l1))
        if spec.kl_sparsity is not None:
            penalties.append(KLSparsityPenalty(spec.kl_sparsity, spec.sparsity_target))
        if spec.contractive is not None:
            penalties.append(ContractivePenalty(spec.contractive, spec.contractive_estimator, spec.probes))
        if self.variational:
            loss = "bce" if loss == "bce" else "gaussian"
        return Objective(loss, corruption, penalties, spec.beta, spec.kl_warmup_epochs, spec.binarize, spec.iw_samples)

    def architecture(self, input_shape) -> Architecture:
        spec = self.expanded()
        code_activation = spec.code_activation or (
            "linear"
            if self.variational
            # a Gaussian code (a VAE refuses sparsity penalties, with the reason)
            else "sigmoid"
            if spec.kl_sparsity is not None
            else "relu"
            if spec.l1 is not None or spec.topk is not None
            else "linear"
        )
        return Architecture(
            spec.arch, input_shape, spec.widths, spec.latent_dim, spec.activation, code_activation, spec.topk
        )

    def build(self, input_shape, objective: Objective, seed: int) -> Autoencoder:
        """The model (an :class:`Autoencoder`, or a :class:`VAE` for model vae), checked against ``objective``."""
        arch = self.architecture(input_shape)
        if self.variational:
            likelihood = "bernoulli" if objective.reconstruction == "bce" else "gaussian"
            model: Autoencoder = VAE.from_architecture(arch, likelihood, self.learn_variance, seed=seed)
        else:
            model = Autoencoder.from_architecture(arch, objective.model_output, seed=seed)
        objective.check(model)
        return model

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


MODEL_OPTIONS = {
    "model": Allowed(choices=tuple(PRESETS)),
    "arch": Allowed(choices=KINDS),
    "latent_dim": Allowed(whole=True, minimum=1),
    "activation": Allowed(choices=tuple(ACTIVATIONS)),
    "code_activation": Allowed(choices=CODE_ACTIVATIONS, optional=True),
    "topk": Allowed(whole=True, minimum=1, optional=True),
    "loss": Allowed(choices=("auto", "bce", "mse")),
    "scaling": Allowed(choices=("auto", "none", "divide", "standardize")),
    "l1": Allowed(minimum=0, optional=True),
    "kl_sparsity": Allowed(minimum=0, optional=True),
    "sparsity_target": Allowed(above=0, below=1),
    "contractive": Allowed(minimum=0, optional=True),
    "contractive_estimator": Allowed(choices=("auto", "exact", "hutchinson")),
    "probes": Allowed(whole=True, minimum=1),
    "beta": Allowed(minimum=0),
    "kl_warmup_epochs": Allowed(whole=True, minimum=0),
    "learn_variance": Allowed(choices=(True, False)),
    "iw_samples": Allowed(whole=True, minimum=1),
    "binarize": Allowed(choices=(True, False)),
}


def variant_name(model, objective: Objective) -> str:
    """What the objective's parts make of the model: "ae", or the parts joined, e.g. "dae+sae" or "vae"."""
    arch = getattr(model, "architecture", None)
    parts = [
        ("dae", objective.corruption is not None),
        ("sae", objective.sparse or bool(arch is not None and arch.topk)),
        ("cae", objective.contractive),
        ("vae", getattr(model, "variational", False)),
    ]
    return "+".join(name for name, present in parts if present) or "ae"


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
        """The validation split's error beside PCA's at the same k (:func:`hourglass.metrics.compare_with_pca`)."""
        return compare_with_pca(self.model, self.x("train"), self.x("val"))


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
) -> TrainedModel:
    """Load ``data`` (a dataset name, a file or folder, or a :class:`Dataset`), scale it, build the model, train it.

    With ``out`` the best model is saved there as a checkpoint (and updated during training); a folder that
    already holds a run is refused unless ``resume`` (continue it) or ``overwrite`` (replace it).
    ``table``: for .csv/.parquet files, ``columns``, ``drop``, ``one_hot``, ``id_column`` (see
    :func:`hourglass.data.table_spec`). ``stream``: read the file from disk block by block instead of into memory
    (None: when it is larger than a quarter of the available memory; :func:`hourglass.data.load_dataset`).
    ``callbacks``: passed to :func:`~hourglass.training.loop.fit` (loggers, the share of cores, the user's own).
    ``record``: how the run was asked for (:mod:`hourglass.runconfig`), kept in the checkpoint for replays.
    """
    mc, tc = model_config or ModelConfig(), train_config or TrainConfig()
    mc.check()
    out = Path(out) if out is not None else None
    if out is not None:
        _check_run_folder(out, resume, overwrite)
    table = {k: v for k, v in (table or {}).items() if v}
    dataset: Any = (
        data
        if isinstance(data, (Dataset, StreamedDataset))
        else load_dataset(data, seed=tc.seed, stream=stream, **table)
    )  # a Dataset, or a StreamedDataset with the same face
    scaling = dataset.fit_scaling(mc.scaling)
    x_train = dataset.scaled("train", scaling)
    low, high = dataset.scaled_range(scaling)
    unit = low >= 0 and high <= 1
    loss = mc.loss if mc.loss != "auto" else ("bce" if unit else "mse")
    if loss == "bce" and not unit:
        raise HourglassError(
            f"loss bce needs data in [0, 1]; {dataset.name} (scaling {scaling.kind}) spans "
            f"[{low:.3g}, {high:.3g}]: use loss mse or scaling divide",
            params=("loss", "scaling"),
        )
    if mc.binarize and not unit:
        raise HourglassError("binarize needs data in [0, 1] (it draws x ~ Bernoulli(x))", params=("binarize",))
    objective = mc.objective(loss, clip_noise=unit)
    if mc.latent_dim >= dataset.n_features and not mc.overcomplete:
        raise HourglassError(
            f"latent_dim {mc.latent_dim} is not smaller than the {dataset.n_features} features of "
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


def rows_in_memory(
    dataset: Dataset | StreamedDataset, split: str, limit: int = MEASURED_ROWS
) -> tuple[np.ndarray, np.ndarray | None]:
    """A split's rows (in the data's units) and labels, in memory: all of an in-memory dataset's, the first
    ``limit`` rows (no labels) of a dataset streamed from disk — for the measures and pictures that need arrays."""
    if isinstance(dataset, StreamedDataset):
        return next(dataset.split(split).chunks(limit)).numpy(), None
    return dataset.split(split)


def dataset_of(checkpoint: ckpt.Checkpoint, data: str | Path | None = None) -> Dataset | StreamedDataset:
    """The dataset a checkpoint was trained on (same splits), or ``data`` instead."""
    record = checkpoint.data
    if data is None:
        data = record.get("name") or record.get("path")
        if data is None:
            raise HourglassError(
                f"{checkpoint.path}: the checkpoint does not say which data it was trained on; name the data",
                params=("data",),
            )
        if record.get("path") and not Path(record["path"]).exists():
            raise HourglassError(
                f"{record['path']}: the checkpoint's training data is gone; name the data", params=("data",)
            )
    table = record.get("table") if data == record.get("path") else None
    options = (
        {"columns": table["columns"], "one_hot": bool(table["one_hot"]), "id_column": table["id_column"]}
        if table
        else {}
    )
    stream = True if record.get("streamed") and data == record.get("path") else None
    if data == record.get("name") and record.get("validation_rows"):  # MNIST's training images split another way
        options["validation_rows"] = record["validation_rows"]
    dataset = load_dataset(data, seed=record.get("seed", 0), stream=stream, **options)
    expected = checkpoint.model.architecture.n_features
    if dataset.n_features != expected:
        raise HourglassError(f"{data}: {dataset.n_features} features per sample, the model expects {expected}")
    return dataset


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
    :data:`MEASURED_ROWS` rows (``measured_on`` says how many)."""
    from .metrics import code_sparsity, corrupt, encode, mean_jacobian_norm, psnr, vae_bounds
    from .training.devices import resolve

    checkpoint = ckpt.load(path)
    checkpoint.model.to(resolve(device))
    dataset: Any = dataset_of(checkpoint, data)  # a Dataset, or a StreamedDataset with the same face
    s, model = checkpoint.scaling, checkpoint.model
    x_train, x_eval = dataset.scaled("train", s), dataset.scaled(split, s)
    result = compare_with_pca(model, x_train, x_eval)
    if isinstance(dataset, StreamedDataset):  # the other measures need arrays: the split's first rows
        x_eval = s.transform(rows_in_memory(dataset, split)[0])
        result["measured_on"] = len(x_eval)
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
