"""A model is an architecture and an objective; :class:`ModelConfig` spells both the way the CLI's options do.

``dae``, ``sae``, ``cae`` and ``vae`` are presets at the edge that fill in recommended options; the parts combine
freely (a denoising sparse autoencoder is ``ModelConfig(noise="gaussian:0.3", l1=0.05)``): a variant is a
corruption plus penalties plus a likelihood, never a type switch repeated through the code.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields
from typing import Any

from .corruptions import parse_noise
from .errors import HourglassError
from .losses import Objective
from .models import VAE, VQVAE, Autoencoder
from .nets import ACTIVATIONS, CODE_ACTIVATIONS, DEFAULT_WIDTHS, KINDS, Architecture
from .options import Allowed, check, documented, option, rules
from .penalties import CodebookPenalty, CommitmentPenalty, ContractivePenalty, KLSparsityPenalty, L1Penalty
from .quantizers import CODEBOOK_INITS, LOOKUPS, parse_levels

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
VQ_OPTIONS = {"commitment": 0.25, "codebook_ema": True, "codebook_restart": True, "codebook_init": "kmeans",
              "codebook_lookup": "euclidean"}  # and their defaults  # fmt: skip
VQ_CODE_VECTOR = 16  # numbers per grid position of a VQ-VAE whose latent_dim is not given
FCN_CODE_CHANNELS = 64  # channels of an fcn's code map whose latent_dim is not given
LATENT_DIM = 4  # k of any other code whose latent_dim is not given


def _widths(kind: str) -> str:
    return ",".join(map(str, DEFAULT_WIDTHS[kind]))


def _positive_widths(widths) -> None:
    if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise HourglassError(
            f"widths must be whole numbers of at least 1, such as 256,64; got {widths!r}", params=("widths",)
        )


@documented
@dataclass
class ModelConfig:
    """What to build and what to train it for: the architecture and the objective's parts. Each field states its
    default, the values it may take and its help once (:func:`hourglass.options.option`); the CLI's flags
    (``latent_dim`` is ``--latent-dim``), the run files and the estimators' parameters are derived from them.

    A preset (``model``) only fills in options not given; options combine freely, e.g. noise + l1 is a denoising
    sparse autoencoder. :meth:`resolve` turns the config and the data's sample shape and value range into the model
    and its objective.
    """

    model: str = option(
        "ae",
        Allowed(choices=tuple(PRESETS)),
        "a preset that fills in options not given: ae (plain), dae (noise gaussian:0.5), sae (l1 0.1), cae "
        "(contractive 0.1), vqvae (codebook 128); vae is the variational autoencoder (default %(default)s)",
    )
    arch: str = option("mlp", Allowed(choices=KINDS), "network: mlp, conv, fcn (fully convolutional) or linear")
    widths: tuple[int, ...] | None = option(
        None,
        help=f"encoder hidden widths (mlp; default: those of {_widths('mlp')} wider than the code) or channels "
        f"(conv; default {_widths('conv')}; fcn: {_widths('fcn')}); the decoder mirrors them",
        metavar="W1,W2,...",
        validate=_positive_widths,
    )
    residual: bool = option(
        False,
        Allowed(choices=(True, False)),
        "the decoder gives the noise, x̂ = x̃ − g(f(x̃)) (residual learning, as DnCNN; loss mse)",
    )
    noise_map: bool = option(
        False,
        Allowed(choices=(True, False)),
        "the model is told each input's noise level σ, as a map beside the image (FFDNet): one model for a range "
        "of levels (noise gaussian:LOW-HIGH), turned up or down when it is used (arch fcn)",
    )
    latent_dim: int | None = option(
        None,
        Allowed(whole=True, minimum=1, optional=True),
        f"size k of the code z (default {LATENT_DIM}; fcn: {FCN_CODE_CHANNELS} channels at each position of its "
        f"half-resolution code map; a codebook: {VQ_CODE_VECTOR} numbers at each grid position)",
        metavar="K",
    )
    activation: str = option("silu", Allowed(choices=tuple(ACTIVATIONS)), "nonlinearity (default %(default)s)")
    code_activation: str | None = option(
        None,
        Allowed(choices=CODE_ACTIVATIONS, optional=True),
        "applied to the code z: linear, relu (exact zeros) or sigmoid (default: sigmoid with kl_sparsity, relu "
        "with l1 or topk, else linear)",
    )
    topk: int | None = option(
        None,
        Allowed(whole=True, minimum=1, optional=True),
        "keep only the K largest code units per sample (k-sparse autoencoder)",
        "K",
    )
    loss: str = option(
        "auto",
        Allowed(choices=("auto", "bce", "mse")),
        "reconstruction loss: bce (Bernoulli cross-entropy, data in [0,1]), mse (squared error), auto: the data's "
        "default (bce when the scaled data lie in [0,1], mse for photos and residual models) (default %(default)s)",
    )
    scaling: str = option(
        "auto",
        Allowed(choices=("auto", "none", "divide", "standardize")),
        "preprocessing learned on the training split: auto keeps data in [0,1], divides 0-255 images by 255, "
        "standardizes anything else (default %(default)s)",
    )
    noise: str | None = option(
        None,
        help="corrupt the inputs (denoising): gaussian:SIGMA, gaussian:LOW-HIGH, mask:P, salt-and-pepper:P, or "
        "several joined by commas",
        metavar="SPEC",
        validate=parse_noise,
    )
    l1: float | None = option(None, Allowed(minimum=0, optional=True), "L1 weight on the code (sparse)", "LAMBDA")
    kl_sparsity: float | None = option(
        None,
        Allowed(minimum=0, optional=True),
        "weight of the KL penalty toward sparsity_target (uses a sigmoid code)",
        "LAMBDA",
    )
    sparsity_target: float = option(
        0.05, Allowed(above=0, below=1), "target mean activation for kl_sparsity (default %(default)s)", "RHO"
    )
    contractive: float | None = option(
        None,
        Allowed(minimum=0, optional=True),
        "weight of the squared Frobenius norm of the encoder Jacobian (contractive)",
        "LAMBDA",
    )
    contractive_estimator: str = option(
        "auto",
        Allowed(choices=("auto", "exact", "hutchinson")),
        "exact Jacobian or random projections (default %(default)s: exact up to 64 code units)",
    )
    probes: int = option(1, Allowed(whole=True, minimum=1), "projections per step for hutchinson (default %(default)s)")
    beta: float = option(1.0, Allowed(minimum=0), "vae: KL weight (default %(default)s: the ELBO)")
    kl_warmup_epochs: int = option(
        0, Allowed(whole=True, minimum=0), "vae: ramp the KL weight up over this many epochs (default %(default)s)"
    )
    learn_variance: bool = option(
        False, Allowed(choices=(True, False)), "vae with a Gaussian likelihood: learn σ² per feature"
    )
    iw_samples: int = option(
        1,
        Allowed(whole=True, minimum=1),
        "vae: train on the importance-weighted bound with K draws per sample (IWAE; default %(default)s: the ELBO)",
        "K",
    )
    binarize: bool = option(
        False, Allowed(choices=(True, False)), "dynamic binarisation, x ~ Bernoulli(x) each batch (data in [0, 1])"
    )
    codebook: int | None = option(
        None,
        Allowed(whole=True, minimum=2, optional=True),
        f"a vector-quantised code with K entries (vqvae: 128; the conv arch; latent_dim not given: "
        f"{VQ_CODE_VECTOR} numbers per grid position)",
        "K",
    )
    commitment: float = option(0.25, Allowed(minimum=0), "vqvae: commitment weight β (default %(default)s)", "BETA")
    codebook_ema: bool = option(
        True,
        Allowed(choices=(True, False)),
        "vqvae: update the codebook by moving averages (no: by its gradient loss) (default %(default)s)",
    )
    codebook_restart: bool = option(
        True, Allowed(choices=(True, False)), "vqvae: restart codebook entries nobody uses (default %(default)s)"
    )
    codebook_init: str = option(
        "kmeans",
        Allowed(choices=CODEBOOK_INITS),
        "vqvae: entries from the first batch: its k-means centres, or vectors drawn (default %(default)s)",
    )
    codebook_lookup: str = option(
        "euclidean",
        Allowed(choices=LOOKUPS),
        "vqvae: nearest entry by euclidean distance, or cosine of unit vectors (default %(default)s)",
    )
    quantizer: str | None = option(
        None,
        help="the discrete code: vq (a learned codebook; vqvae's default) or fsq:L1,...,Ld (finite scalar "
        "quantisation: d numbers at each grid position, each rounded to one of its L levels; Π L codes)",
        metavar="Q",
        validate=lambda q: None if q == "vq" else parse_levels(q),
    )

    def __post_init__(self):
        check(self)
        for option_name, neutral in VAE_OPTIONS.items():
            if getattr(self, option_name) != neutral and self.model != "vae":
                raise HourglassError(
                    f"{option_name} is an option of the VAE (model vae), not of model {self.model}",
                    params=(option_name, "model"),
                )
        fsq = self.levels is not None
        quantised = self.codebook is not None or PRESETS[self.model].get("codebook") is not None or fsq
        for option_name, neutral in VQ_OPTIONS.items():
            if fsq and (getattr(self, option_name) != neutral or self.codebook is not None):
                drop = "codebook" if self.codebook else option_name
                raise HourglassError(f"fsq has no codebook to set: drop {drop}", params=("quantizer", drop))
            if getattr(self, option_name) != neutral and not quantised:
                raise HourglassError(
                    f"{option_name} is an option of a vector-quantised code (model vqvae, or codebook K)",
                    params=(option_name, "model", "codebook"),
                )
        if self.topk is not None and self.latent_dim is not None and self.topk > self.latent_dim:
            raise HourglassError(
                f"topk must be between 1 and latent_dim ({self.latent_dim}), got {self.topk}",
                params=("topk", "latent_dim"),
            )
        if quantised and self.variational:
            raise HourglassError("a VAE's code is continuous; a codebook is for model vqvae", params=("codebook",))
        if self.residual and (quantised or self.variational or self.loss == "bce"):
            raise HourglassError(
                "a residual output (x̂ = x̃ − g(f(x̃))) is a plain autoencoder's, trained with loss mse",
                params=("residual", "loss", "model"),
            )
        if self.noise_map and (self.arch != "fcn" or self.variational or quantised):
            raise HourglassError(
                "noise_map (a noise-level map beside each image) is an input of a plain fcn autoencoder (arch fcn)",
                params=("noise_map", "arch"),
            )
        # What is refused whatever the data (the noise, a penalty's weight, what a VAE cannot take) is refused now,
        # before any data is read: a bad option costs a second, not the loading of a large file first.
        self.objective("bce", clip_noise=True, noise_map=int(self.noise_map)).check_kind(self.variational)

    def expanded(self) -> ModelConfig:
        """This config with its preset's defaults filled in (explicit options win)."""
        preset = dict(PRESETS[self.model])
        if self.kl_sparsity is not None or self.topk is not None:
            preset.pop("l1", None)  # another sparsity was asked for
        spec = copy.copy(self)  # filled in field by field: the options were checked as given
        for name, value in preset.items():
            if getattr(spec, name) is None:
                setattr(spec, name, value)
        if spec.levels is not None:  # its implicit codebook: every combination of the levels
            spec.codebook = math.prod(spec.levels)
        if spec.codebook is not None and spec.arch == "mlp":  # a grid of codes to quantise needs the conv pair
            spec.arch = "conv"
        return spec

    @property
    def levels(self) -> tuple[int, ...] | None:
        """Finite scalar quantisation's levels (quantizer fsq:L1,...), or None: a codebook's, or no, quantiser."""
        return None if self.quantizer in (None, "vq") else parse_levels(self.quantizer)

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

    def objective(self, loss: str, clip_noise: bool, noise_map: int = 0) -> Objective:
        """The :class:`Objective` these options ask for, for the resolved reconstruction ``loss`` (bce or mse), with
        ``noise_map`` numbers of each row's noise map (H·W of the images; 0: none)."""
        spec = self.expanded()
        corruption = parse_noise(spec.noise, clip=clip_noise) if spec.noise is not None else None
        penalties: list[Any] = []
        if spec.l1 is not None:
            penalties.append(L1Penalty(spec.l1))
        if spec.kl_sparsity is not None:
            penalties.append(KLSparsityPenalty(spec.kl_sparsity, spec.sparsity_target))
        if spec.contractive is not None:
            penalties.append(ContractivePenalty(spec.contractive, spec.contractive_estimator, spec.probes))
        if spec.codebook is not None and spec.levels is None:
            penalties.append(CommitmentPenalty(spec.commitment))
            if not spec.codebook_ema:
                penalties.append(CodebookPenalty())
        if self.variational:
            loss = "bce" if loss == "bce" else "gaussian"
        return Objective(
            loss, corruption, penalties, spec.beta, spec.kl_warmup_epochs, spec.binarize, spec.iw_samples, noise_map
        )

    def architecture(self, input_shape) -> Architecture:
        spec = self.expanded()
        code_activation = spec.code_activation or (  # a VAE's code is Gaussian (it refuses sparsity penalties)
            "linear" if self.variational else "sigmoid" if spec.kl_sparsity is not None
            else "relu" if spec.l1 is not None or spec.topk is not None else "linear"
        )  # fmt: skip
        latent_dim = spec.latent_dim if spec.latent_dim is not None else LATENT_DIM
        per_position = len(spec.levels or ()) or VQ_CODE_VECTOR * bool(spec.codebook) or FCN_CODE_CHANNELS * (
            spec.arch == "fcn")  # fmt: skip
        if per_position and spec.latent_dim is None:  # not given: so many numbers at each position of the code map
            grid = Architecture("conv", input_shape, spec.widths).grid if spec.arch == "conv" else None
            grid = grid or (input_shape[1] // 2, input_shape[2] // 2)
            latent_dim = per_position * grid[0] * grid[1]
        return Architecture(
            spec.arch, input_shape, spec.widths, latent_dim, spec.activation, code_activation, spec.topk, spec.codebook,
            spec.noise_map, spec.levels,
        )  # fmt: skip

    def resolve(
        self,
        sample_shape: tuple[int, ...],
        value_range: tuple[float, float],
        seed: int = 0,
        default_loss: str | None = None,
        clip_noise: bool | None = None,
        require_bottleneck: bool = True,
    ) -> tuple[Autoencoder, Objective]:
        """The model and its objective for this data: the one place where the automatic choices and the rules that
        need the data are made.

        Parameters
        ----------
        sample_shape : tuple of int
            One sample's shape: (D,) for rows, (C, H, W) for images.
        value_range : (float, float)
            The smallest and largest value of the scaled training data.
        seed : int
            Seeds the weights' initialisation.
        default_loss : {"bce", "mse"}, optional
            The data's own default for ``loss="auto"`` (photos: mse); None: bce when the data lie in [0, 1], else
            mse. A residual model's auto loss is mse whatever the data.
        clip_noise : bool, optional
            Whether corrupted inputs are clipped back into [0, 1] (None: when the data lie there); never outside.
        require_bottleneck : bool
            Refuse a code at least as wide as the input unless noise or a penalty keeps it from copying.

        Returns
        -------
        (Autoencoder, Objective)
            The initialised model (a :class:`VAE` for model vae, a :class:`VQVAE` with a codebook) and what it is
            trained to minimise, checked against each other.

        Raises
        ------
        HourglassError
            loss bce or binarize on data outside [0, 1]; a code no narrower than the input without a penalty or
            noise to keep it from copying (the bottleneck rule); an architecture that does not fit the shape.
        """
        low, high = value_range
        unit = low >= 0 and high <= 1
        loss = self.loss
        if loss == "auto":
            loss = "mse" if self.residual else default_loss or ("bce" if unit else "mse")
        if loss == "bce" and not unit:
            raise HourglassError(
                f"loss bce needs data in [0, 1]; the data (scaling {self.scaling}) span [{low:.3g}, {high:.3g}]: use "
                "loss mse or scaling divide",
                params=("loss", "scaling"),
            )
        if self.binarize and not unit:
            raise HourglassError("binarize needs data in [0, 1] (it draws x ~ Bernoulli(x))", params=("binarize",))
        arch = self.architecture(tuple(sample_shape))
        map_size = arch.input_features - arch.n_features
        objective = self.objective(loss, unit if clip_noise is None else clip_noise and unit, map_size)
        if require_bottleneck and arch.latent_dim >= arch.n_features and not self.overcomplete:
            raise HourglassError(
                f"latent_dim {arch.latent_dim} is not smaller than the {arch.n_features} features of the data: the "
                "code would be no bottleneck, and the model could learn the identity; choose latent_dim below the "
                "features (or a sparse, denoising or contractive model, whose penalty or noise keeps an overcomplete "
                "code from copying)",
                params=("latent_dim",),
            )
        if self.variational:
            likelihood = "bernoulli" if objective.reconstruction == "bce" else "gaussian"
            model: Autoencoder = VAE.from_architecture(arch, likelihood, self.learn_variance, seed=seed)
        elif arch.codebook is not None:
            model = VQVAE.from_architecture(arch, objective.model_output, self.codebook_ema, self.codebook_restart,
                                            seed, self.codebook_init, self.codebook_lookup)  # fmt: skip
        else:
            model = Autoencoder.from_architecture(arch, "residual" if self.residual else objective.model_output, seed)
        objective.check(model)
        return model, objective

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


MODEL_OPTIONS = rules(ModelConfig)  # the allowed values of each field, as the estimators read them
