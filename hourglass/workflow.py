"""The whole journey in one call each — load and scale data, build, train, save; evaluate a checkpoint.

This is what the CLI and the demo run; it only wires the other modules together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .data import Dataset, Scaling, binarize, load_dataset
from .errors import HourglassError
from .losses import Objective
from .metrics import compare_with_pca, reconstruct, squared_errors
from .models import VAE, Autoencoder
from .nets import Architecture
from .train import History, TrainConfig, fit


VARIANTS = ("ae", "dae", "sae", "cae", "vae")
RECOMMENDED = {"noise": "gaussian:0.5", "l1": 0.1, "contractive": 0.1}


@dataclass
class ModelConfig:
    """What to build and which variant of the objective to train it with. The CLI's options mirror these names.

    model: "ae" (plain), "dae" (denoising), "sae" (sparse), "cae" (contractive) or "vae" (variational).
    arch: "mlp", "conv" or "linear"; widths: hidden widths (mlp) or channels (conv), None for the defaults;
    latent_dim: k; activation: the nonlinearity; code_activation: "linear", "relu" or "sigmoid" (None: relu for
    sae, linear otherwise); topk: k-sparse code (sae).
    loss: "bce", "mse" or "auto" (bce when the scaled training data lie in [0, 1], else mse; a VAE's likelihood
    follows it: Bernoulli for bce, Gaussian for mse); scaling: "auto", "none", "divide" or "standardize".
    noise: corruption for dae, e.g. "gaussian:0.5", "mask:0.5", "salt-and-pepper:0.3" (default gaussian:0.5).
    l1, kl_sparsity, sparsity_target: sparse penalties (sae; default l1 = 0.1 unless another sparsity is set).
    contractive, contractive_estimator, probes: the contractive penalty (cae; default 0.1).
    beta, kl_warmup_epochs, learn_variance, binarize: VAE options (binarize: dynamic binarisation).
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
    binarize: bool = False

    def __post_init__(self):
        if self.model not in VARIANTS:
            raise HourglassError(f"unknown model {self.model!r}; expected one of {', '.join(VARIANTS)}")
        belongs = {"noise": "dae", "l1": "sae", "kl_sparsity": "sae", "topk": "sae", "contractive": "cae"}
        for option, variant in belongs.items():
            if getattr(self, option) is not None and self.model != variant:
                raise HourglassError(f"--{option.replace('_', '-')} belongs to --model {variant}, not {self.model}")
        vae_only = {"beta": 1.0, "kl_warmup_epochs": 0, "learn_variance": False, "binarize": False}
        for option, default in vae_only.items():
            if getattr(self, option) != default and self.model != "vae":
                raise HourglassError(f"--{option.replace('_', '-')} belongs to --model vae, not {self.model}")

    def objective(self, loss: str, clip_noise: bool) -> Objective:
        """The :class:`Objective` of this variant, for the resolved reconstruction ``loss``."""
        from .corruptions import parse_noise
        from .losses import ContractivePenalty, KLSparsityPenalty, L1Penalty

        corruption, penalties = None, []
        if self.model == "dae":
            corruption = parse_noise(self.noise or RECOMMENDED["noise"], clip=clip_noise)
        if self.model == "sae":
            if self.l1 is not None or (self.kl_sparsity is None and self.topk is None):
                penalties.append(L1Penalty(RECOMMENDED["l1"] if self.l1 is None else self.l1))
            if self.kl_sparsity is not None:
                penalties.append(KLSparsityPenalty(self.kl_sparsity, self.sparsity_target))
        if self.model == "cae":
            weight = RECOMMENDED["contractive"] if self.contractive is None else self.contractive
            penalties.append(ContractivePenalty(weight, self.contractive_estimator, self.probes))
        if self.model == "vae":
            loss = "bce" if loss == "bce" else "gaussian"
        return Objective(loss, corruption, penalties, self.beta, self.kl_warmup_epochs, self.binarize)

    def architecture(self, input_shape) -> Architecture:
        code_activation = self.code_activation or ("sigmoid" if self.kl_sparsity is not None else
                                                   "relu" if self.model == "sae" else "linear")
        return Architecture(self.arch, input_shape, self.widths, self.latent_dim, self.activation, code_activation,
                            self.topk)

    def build(self, input_shape, objective: Objective, seed: int):
        arch = self.architecture(input_shape)
        if self.model == "vae":
            likelihood = "bernoulli" if objective.reconstruction == "bce" else "gaussian"
            return VAE.from_architecture(arch, likelihood, self.learn_variance, seed=seed)
        return Autoencoder.from_architecture(arch, objective.model_output, seed=seed)


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
    if mc.binarize and not in_unit_range:
        raise HourglassError("--binarize needs data in [0, 1] (it draws x ~ Bernoulli(x))")
    objective = mc.objective(loss, clip_noise=in_unit_range)
    model = mc.build(dataset.shape, objective, seed=tc.seed)
    if resume and out is not None:
        saved = ckpt.read_config(out)
        if (saved["model"]["architecture"] != model.architecture.to_dict() or saved["model"]["options"] !=
                model.options() or saved.get("objective") != objective.to_dict()):
            raise HourglassError(f"{out}: saved with another model or objective ({saved.get('variant')}, "
                                 f"{saved['model']['architecture']}); resume with the same options")
    metadata = {"scaling": scaling, "data": data_record(dataset), "variant": mc.model,
                "objective": objective.to_dict(), "training": tc.to_dict()}
    started = time.perf_counter()
    history = fit(model, objective, x_train, scaling.transform(dataset.x_val), tc, checkpoint_dir=out,
                  metadata=metadata, resume=resume)
    trained = TrainedModel(model, dataset, scaling, objective, history, Path(out) if out else None,
                           time.perf_counter() - started, {"train": x_train})
    if out is not None and history.epochs:
        # The distribution of training errors, so that `hourglass score` can flag rows without the training data.
        errors = squared_errors(x_train, reconstruct(model, x_train))
        metadata["anomaly"] = {"train_error_quantiles": np.quantile(errors, np.linspace(0, 1, 1001)).tolist()}
        ckpt.save(out, model, history=ckpt.history_summary(history), **metadata)
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
    table = record.get("table") if data == record.get("path") else None
    options = {"columns": table["columns"], "one_hot": bool(table["one_hot"]), "id_column": table["id_column"]} \
        if table else {}
    dataset = load_dataset(data, seed=record.get("seed", 0), **options)
    expected = checkpoint.model.architecture.n_features
    if dataset.n_features != expected:
        raise HourglassError(f"{data}: {dataset.n_features} features per sample, the model expects {expected}")
    return dataset


def evaluate(path: str | Path, data: str | Path | None = None, split: str = "test",
             importance_samples: int = 0) -> dict:
    """Reconstruction error of the checkpoint at ``path`` on ``split``, beside PCA fitted on the same training split
    at the same k (both in the model's scaled space; see :func:`hourglass.metrics.compare_with_pca`), and what
    defines its variant: PSNR of noisy and denoised inputs (dae), code sparsity (sae), the mean ‖J_f‖_F (cae), the
    ELBO and, with ``importance_samples`` = K > 0, the K-sample bound on log p(x) (vae; a binarised model is
    measured on the split binarised once with seed 0)."""
    from .metrics import code_sparsity, corrupt, encode, mean_jacobian_norm, psnr, vae_bounds

    checkpoint = ckpt.load(path)
    dataset = dataset_of(checkpoint, data)
    s, model = checkpoint.scaling, checkpoint.model
    x_train, x_eval = s.transform(dataset.x_train), s.transform(dataset.split(split)[0])
    result = compare_with_pca(model, x_train, x_eval)
    objective = Objective.from_dict(checkpoint.objective) if checkpoint.objective else None
    extra: dict = {}
    if objective is not None and objective.corruption is not None:
        noisy = corrupt(objective.corruption, x_eval, seed=0)
        extra = {"noise": objective.corruption.to_dict(), "psnr_noisy": psnr(x_eval, noisy),
                 "psnr_denoised": psnr(x_eval, reconstruct(model, noisy))}
    if checkpoint.variant == "sae":
        extra = code_sparsity(encode(model, x_eval))
    if checkpoint.variant == "cae":
        extra = {"mean_jacobian_norm": mean_jacobian_norm(model, x_eval)}
    if model.kind == "vae":
        x_vae = binarize(x_eval, seed=0) if objective is not None and objective.binarize else x_eval
        extra = vae_bounds(model, x_vae, importance_samples=max(1, importance_samples))
    return {"checkpoint": str(checkpoint.path), "data": dataset.name, "split": split, "variant": checkpoint.variant,
            "scaling": s.kind, "loss": checkpoint.objective.get("reconstruction"), **result, **extra}


def anomaly_scores(checkpoint: ckpt.Checkpoint, x: np.ndarray, contamination: float = 0.01) -> dict:
    """Score rows ``x`` (already in the model's scaled space) by squared reconstruction error.

    Returns ``scores`` (N,), ``training_percentile`` (the share of training rows with a smaller error: 0.5 is
    typical, 0.999 rarer than 999 in 1,000), ``is_anomaly`` (score above ``threshold``, the training errors'
    1 − ``contamination`` quantile, stored in the checkpoint when it was trained).
    """
    if not 0 < contamination < 1:
        raise HourglassError(f"contamination must be in (0, 1), got {contamination:g}")
    quantiles = (checkpoint.config.get("anomaly") or {}).get("train_error_quantiles")
    if not quantiles:
        raise HourglassError(f"{checkpoint.path}: has no training-error distribution to set a threshold; retrain it "
                             "with this version of hourglass")
    levels = np.linspace(0, 1, len(quantiles))
    scores = squared_errors(x, reconstruct(checkpoint.model, x))
    threshold = float(np.interp(1 - contamination, levels, quantiles))
    return {"scores": scores, "training_percentile": np.interp(scores, quantiles, levels),
            "is_anomaly": scores > threshold, "threshold": threshold}
