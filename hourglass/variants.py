"""A model is an architecture and an objective; :class:`ModelConfig` spells both the way the CLI's options do.

``dae``, ``sae``, ``cae`` and ``vae`` are presets at the edge that fill in recommended options; the parts combine
freely (a denoising sparse autoencoder is ``ModelConfig(noise="gaussian:0.3", l1=0.05)``): a variant is a
corruption plus penalties plus a likelihood, never a type switch repeated through the code.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from .corruptions import parse_noise
from .errors import HourglassError
from .losses import (
    CodebookPenalty,
    CommitmentPenalty,
    ContractivePenalty,
    KLSparsityPenalty,
    L1Penalty,
    Objective,
)
from .models import VAE, VQVAE, Autoencoder
from .nets import ACTIVATIONS, CODE_ACTIVATIONS, KINDS, Architecture
from .options import Allowed, check

# What each preset fills in when the option is not given. "vae" also picks the variational model class.
PRESETS: dict[str, dict[str, Any]] = {
    "ae": {},
    "dae": {"noise": "gaussian:0.5"},
    "sae": {"l1": 0.1},
    "cae": {"contractive": 0.1},
    "vae": {},
    "vqvae": {"codebook": 128},
}
VAE_OPTIONS = {"beta": 1.0, "kl_warmup_epochs": 0, "learn_variance": False, "iw_samples": 1}  # and neutral values
VQ_OPTIONS = {"commitment": 0.25, "codebook_ema": True, "codebook_restart": True}  # and their defaults
VQ_CODE_VECTOR = 16  # numbers per grid position of a VQ-VAE whose latent_dim is left at its default
FCN_CODE_CHANNELS = 64  # channels of an fcn's code map whose latent_dim is left at its default


@dataclass
class ModelConfig:
    """What to build and what to train it for. The CLI's options mirror these names (``latent_dim`` is
    ``--latent-dim``).

    model: a preset: "ae" (plain), "dae" (denoising: noise gaussian:0.5), "sae" (sparse: l1 0.1, unless
        kl_sparsity or topk is given), "cae" (contractive: 0.1) or "vae" (the variational model). A preset only
        fills in options not given; options combine freely, e.g. noise + l1 is a denoising sparse autoencoder.
    arch: "mlp", "conv", "fcn" (fully convolutional, for photos) or "linear"; widths: hidden widths (mlp) or
        channels (conv, fcn), None for the defaults; residual: the decoder gives the noise, x̂ = x̃ − g(f(x̃));
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
    codebook: K entries of a vector-quantised code (the VQ-VAE; preset "vqvae": 128, the conv arch, and with
        latent_dim left at its default a grid of 16-d vectors: 7 × 7 × 16 for MNIST); commitment: its β (0.25);
        codebook_ema, codebook_restart: update the codebook by moving averages (else by its gradient loss), and
        restart entries nobody uses.
    """

    model: str = "ae"
    arch: str = "mlp"
    widths: tuple[int, ...] | None = None
    residual: bool = False
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
    codebook: int | None = None
    commitment: float = 0.25
    codebook_ema: bool = True
    codebook_restart: bool = True

    def __post_init__(self):
        check(self, MODEL_OPTIONS)
        for option, neutral in VAE_OPTIONS.items():
            if getattr(self, option) != neutral and self.model != "vae":
                raise HourglassError(
                    f"{option} is an option of the VAE (model vae), not of model {self.model}", params=(option, "model")
                )
        quantised = self.codebook is not None or PRESETS[self.model].get("codebook") is not None
        for option, neutral in VQ_OPTIONS.items():
            if getattr(self, option) != neutral and not quantised:
                raise HourglassError(
                    f"{option} is an option of a vector-quantised code (model vqvae, or codebook K)",
                    params=(option, "model", "codebook"),
                )
        if quantised and self.variational:
            raise HourglassError("a VAE's code is continuous; a codebook is for model vqvae", params=("codebook",))
        if self.residual and (quantised or self.variational or self.loss == "bce"):
            raise HourglassError(
                "a residual output (x̂ = x̃ − g(f(x̃))) is a plain autoencoder's, trained with loss mse",
                params=("residual", "loss", "model"),
            )

    def check(self) -> None:
        """Refuse now what would be refused whatever the data (a penalty's weight, the noise, what a VAE cannot
        take, topk against latent_dim): :func:`train` calls it before any data is read, so a bad option costs a
        second, not the loading of a large file first."""
        objective = self.objective("bce", clip_noise=True)  # building it runs the noise's and penalties' own checks
        objective.check_kind(self.variational)
        self.architecture(
            (1, 8, 8) if self.expanded().arch in ("conv", "fcn") else (8,)
        )  # a stand-in sample shape: the data's comes later

    def expanded(self) -> ModelConfig:
        """This config with its preset's defaults filled in (explicit options win)."""
        preset = dict(PRESETS[self.model])
        if self.kl_sparsity is not None or self.topk is not None:
            preset.pop("l1", None)  # another sparsity was asked for
        spec = replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})
        if spec.codebook is not None and spec.arch == "mlp":  # a grid of codes to quantise needs the conv pair
            spec = replace(spec, arch="conv")
        return spec

    @property
    def variational(self) -> bool:
        return self.model == "vae"

    @property
    def overcomplete(self) -> bool:
        """Whether the objective keeps a code at least as wide as the input from copying it (noise, a sparsity
        penalty or top-k, the contractive penalty, a codebook: a quantised code holds a few bits, whatever its
        width) — the variants the textbook allows an overcomplete code."""
        spec = self.expanded()
        chosen = (spec.noise, spec.l1, spec.kl_sparsity, spec.topk, spec.contractive, spec.codebook)
        return any(v is not None for v in chosen)

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
        if spec.codebook is not None:
            penalties.append(CommitmentPenalty(spec.commitment))
            if not spec.codebook_ema:
                penalties.append(CodebookPenalty())
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
        latent_dim = spec.latent_dim
        per_position = VQ_CODE_VECTOR if spec.codebook is not None else FCN_CODE_CHANNELS if spec.arch == "fcn" else 0
        if per_position and latent_dim == ModelConfig.latent_dim:  # left at its default: so many per position
            grid = Architecture("conv", input_shape, spec.widths).grid if spec.arch == "conv" else None
            grid = grid or (input_shape[1] // 2, input_shape[2] // 2)
            latent_dim = per_position * grid[0] * grid[1]
        return Architecture(
            spec.arch, input_shape, spec.widths, latent_dim, spec.activation, code_activation, spec.topk, spec.codebook
        )

    def build(self, input_shape, objective: Objective, seed: int) -> Autoencoder:
        """The model (an :class:`Autoencoder`, or a :class:`VAE` for model vae), checked against ``objective``."""
        arch = self.architecture(input_shape)
        if self.variational:
            likelihood = "bernoulli" if objective.reconstruction == "bce" else "gaussian"
            model: Autoencoder = VAE.from_architecture(arch, likelihood, self.learn_variance, seed=seed)
        elif arch.codebook is not None:
            model = VQVAE.from_architecture(
                arch, objective.model_output, self.codebook_ema, self.codebook_restart, seed=seed
            )
        else:
            output = "residual" if self.residual else objective.model_output
            model = Autoencoder.from_architecture(arch, output, seed=seed)
        objective.check(model)
        return model

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


MODEL_OPTIONS = {
    "model": Allowed(choices=tuple(PRESETS)),
    "arch": Allowed(choices=KINDS),
    "residual": Allowed(choices=(True, False)),
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
    "codebook": Allowed(whole=True, minimum=2, optional=True),
    "commitment": Allowed(minimum=0),
    "codebook_ema": Allowed(choices=(True, False)),
    "codebook_restart": Allowed(choices=(True, False)),
}


def variant_name(model, objective: Objective) -> str:
    """What the objective's parts make of the model: "ae", or the parts joined, e.g. "dae+sae" or "vae"."""
    arch = getattr(model, "architecture", None)
    parts = [
        ("dae", objective.corruption is not None),
        ("sae", objective.sparse or bool(arch is not None and arch.topk)),
        ("cae", objective.contractive),
        ("vae", getattr(model, "variational", False)),
        ("vqvae", bool(arch is not None and arch.codebook)),
    ]
    return "+".join(name for name, present in parts if present) or "ae"
