"""The two models: the autoencoder x ─f─▶ z ─g─▶ x̂, and the variational autoencoder with a probabilistic encoder.

``model(x)`` is the one call a training step makes: it returns an :class:`Output` holding every tensor a loss
needs (as the pytorch/examples VAE's ``forward`` returns ``recon_x, mu, logvar``), so DistributedDataParallel and
``torch.compile`` see the whole computation. Denoising, sparse and contractive autoencoders are the plain
:class:`Autoencoder` trained with another objective (:mod:`hourglass.losses`); ReLU/sigmoid and top-k codes are
architecture options. Only the VAE, whose encoder outputs a distribution, is a class of its own.

Models know nothing of files, training or the command line.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .errors import HourglassError
from .nets import Architecture, build, init_seed
from .quantizers import FiniteScalarQuantizer, VectorQuantizer


class LinearOutput:
    """x̂ = g(z): the decoder gives the reconstruction itself (compared by squared error, or a Gaussian's mean)."""

    name = compared_as = "linear"

    def of(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """What the loss compares with the input, from g's raw output and the model's input x (or x̃)."""
        return decoded

    def decoded(self, raw: torch.Tensor) -> torch.Tensor:
        """x̂ in data space from g(z) alone."""
        return raw

    def reconstructed(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """x̂ in data space from g(f(x)) and x."""
        return self.decoded(raw)


class SigmoidOutput(LinearOutput):
    """g(z) are Bernoulli logits, x̂ = σ(g(z)) (compared by cross-entropy on the logits)."""

    name = compared_as = "sigmoid"

    def decoded(self, raw: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(raw)


class ResidualOutput(LinearOutput):
    """g gives the noise it finds in the input: x̂ = x̃ − g(f(x̃)), the residual learning of DnCNN (Zhang et al.
    2017), compared by squared error. Its decoder's output means something only beside the input it came from, so a
    residual model reconstructs but decodes no code alone."""

    name = "residual"

    def of(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # x̃ is the row's first D numbers: a model told its noise level carries the level's map after them
        return x[:, : decoded.shape[1]] - decoded

    def reconstructed(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.of(raw, x)

    def decoded(self, raw: torch.Tensor) -> torch.Tensor:
        raise HourglassError(
            "a residual model's decoder gives the noise it finds in an input, not an input: it reconstructs "
            "(x̂ = x̃ − g(f(x̃))) but cannot decode a code alone"
        )


OUTPUT_PARTS = {part.name: part for part in (LinearOutput, SigmoidOutput, ResidualOutput)}
OUTPUTS = tuple(OUTPUT_PARTS)
LIKELIHOODS = ("bernoulli", "gaussian")


class Output(NamedTuple):
    """What ``model(x)`` returns: the tensors every loss and penalty is a function of.

    Attributes
    ----------
    decoded : Tensor
        g(z), the decoder's raw output (N, D): Bernoulli logits for a sigmoid output, x̂ itself (the mean of p(x|z)) for
        a linear one; (K, N, D) when a VAE drew K codes per sample.
    z : Tensor
        The code (N, k); for a VAE, the draw z = μ + σ ⊙ ε that was decoded ((K, N, k) for K draws).
    mu, log_var : Tensor, optional
        A VAE's q(z|x) = N(μ, diag exp(log_var)), each (N, k); None for a deterministic encoder.
    x_log_var : Tensor, optional
        Log σ² of a Gaussian p(x|z), (D,); None otherwise.
    z_q : Tensor, optional
        A VQ-VAE's quantised code (N, k), the codebook entries that replaced z (the decoder saw them through the
        straight-through estimator); None otherwise.
    """

    decoded: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor | None = None
    log_var: torch.Tensor | None = None
    x_log_var: torch.Tensor | None = None
    z_q: torch.Tensor | None = None


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²): a draw of N(μ, diag σ²) through which gradients reach μ and σ
    (Kingma & Welling 2014, §2.4). ``eps`` ~ N(0, I) broadcasts against μ (e.g. (K, N, k) for K draws each)."""
    return mu + torch.exp(0.5 * log_var) * eps


class Autoencoder(nn.Module):
    """x ─f─▶ z ─g─▶ x̂.

    Parameters
    ----------
    encoder, decoder : nn.Module
        Modules mapping (N, D) → (N, k) and (N, k) → (N, D).
    output : str, optional
        What turns g's raw output into x̂: "linear" (identity; squared error), "sigmoid" (g outputs Bernoulli logits;
        cross-entropy) or "residual" (g gives the noise: x̂ = x̃ − g(f(x̃)), the residual learning of DnCNN, Zhang et
        al. 2017; squared error). A residual model reconstructs its inputs but decodes no code alone: its decoder's
        output means something only beside the input it came from.
    architecture : Architecture, optional
        The :class:`Architecture` the nets were built from, if any (needed to save a checkpoint).
    """

    kind = "autoencoder"
    variational = False

    def __init__(
        self, encoder: nn.Module, decoder: nn.Module, output: str = "linear", architecture: Architecture | None = None
    ):
        super().__init__()
        if output not in OUTPUTS:
            raise HourglassError(f"unknown output {output!r}; expected one of {', '.join(OUTPUTS)}")
        self.encoder, self.decoder = encoder, decoder
        self.output = output  # its name, as checkpoints record it
        self.head = OUTPUT_PARTS[output]()
        self.architecture = architecture

    @classmethod
    def from_architecture(cls, arch: Architecture, output: str = "linear", seed: int = 0) -> Autoencoder:
        """Build and initialise the nets of ``arch``; the same seed gives the same initial weights."""
        with init_seed(seed):
            encoder, decoder = build(arch)
        return cls(encoder, decoder, output, arch)

    def options(self) -> dict:
        """The constructor options besides the architecture (stored in checkpoints)."""
        return {"output": self.output}

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> Output:
        """z = f(x) and g(z) before the output nonlinearity: (N, D) → :class:`Output`. (``generator`` is for the
        VAE's draw; a deterministic encoder ignores it.)"""
        z = self.encoder(x)
        return Output(self.head.of(self.decoder(z), x), z)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): (N, D) → (N, k)."""
        return self.encoder(self.told(x))

    def told(self, x: torch.Tensor) -> torch.Tensor:
        """The rows a model told its noise level takes, (N, D + H·W): rows (N, D) without their noise map are told
        σ = 0 (clean); any other model's rows as they are."""
        arch = self.architecture
        if arch is not None and arch.noise_map and x.shape[1] == arch.n_features:
            return torch.cat([x, x.new_zeros(len(x), arch.input_features - arch.n_features)], dim=1)
        return x

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x̂ = g(z) in data space: (N, k) → (N, D) (the sigmoid applied for a Bernoulli output)."""
        return self.head.decoded(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x̂ = g(f(x)) in data space, (N, D) → (N, D) (x − g(f(x)) for a residual output). A model told its noise
        level takes rows (N, D + H·W), each followed by its noise map (:meth:`told`)."""
        x = self.told(x)
        return self.head.reconstructed(self.decoder(self.encode(x)), x)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        mean: torch.Tensor | None = None,
        scale_tril: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode n codes z = mean + L ε, ε ~ N(0, I) (default: z ~ N(0, I)): (n, D) in data space.

        A plain autoencoder has no prior: nothing makes its codes fill N(0, I), so these are mostly not data. Pass
        the mean and Cholesky factor of a Gaussian fitted to training codes (:func:`fit_code_gaussian`) for the
        fairer try.
        """
        k = self.latent_dim
        device = next(self.parameters()).device
        eps = torch.randn(n, k, generator=generator).to(device)  # drawn on the host: the same codes on any device
        z = eps if scale_tril is None else eps @ torch.as_tensor(scale_tril, dtype=eps.dtype, device=device).T
        z = z if mean is None else z + torch.as_tensor(mean, dtype=z.dtype, device=device)
        return self.decode(z)

    @property
    def latent_dim(self) -> int:
        if self.architecture is None:
            raise HourglassError("this model was built from custom modules; its latent_dim is unknown")
        return self.architecture.latent_dim


class VAE(Autoencoder):
    """The variational autoencoder (Kingma & Welling 2014): q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I),
    p(x|z) Bernoulli (g gives logits) or Gaussian (g gives the mean; log-variance fixed at ``log_var_x`` or learned).

    The encoder outputs 2k numbers per sample: μ, then log σ². ``forward`` draws z ~ q(z|x) and returns μ, log σ²,
    z and g(z); ``encode`` gives μ (the code used for reconstruction, visualisation and downstream use).

    Parameters
    ----------
    encoder : nn.Module
        Maps (N, D) to (N, 2k): μ, then log σ².
    decoder : nn.Module
        Maps (N, k) to (N, D): logits (Bernoulli) or the mean (Gaussian).
    likelihood : str, optional
        p(x|z): "bernoulli" or "gaussian".
    learn_variance : bool, optional
        A Gaussian likelihood learns its log σ² per feature (else it is fixed).
    architecture : Architecture, optional
        The :class:`~hourglass.nets.Architecture` the nets were built from, if any.
    """

    kind = "vae"
    variational = True

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood: str = "bernoulli",
        learn_variance: bool = False,
        architecture: Architecture | None = None,
    ):
        if likelihood not in LIKELIHOODS:
            raise HourglassError(f"unknown likelihood {likelihood!r}; expected one of {', '.join(LIKELIHOODS)}")
        super().__init__(encoder, decoder, "sigmoid" if likelihood == "bernoulli" else "linear", architecture)
        self.likelihood, self.learn_variance = likelihood, bool(learn_variance)
        if likelihood == "gaussian":
            n = architecture.n_features if architecture is not None else 1
            log_var = torch.zeros(n)  # σ² = 1 per feature, unless learned
            if self.learn_variance:
                self.log_var_x = nn.Parameter(log_var)
            else:
                self.register_buffer("log_var_x", log_var)

    @classmethod
    def from_architecture(  # type: ignore[override]  # a VAE is built with its likelihood
        cls, arch: Architecture, likelihood: str = "bernoulli", learn_variance: bool = False, seed: int = 0
    ) -> VAE:
        if arch.code_activation != "linear" or arch.topk:
            raise HourglassError("a VAE's code is Gaussian: it takes no code_activation and no topk")
        with init_seed(seed):
            encoder, decoder = build(arch, code_outputs=2)
        return cls(encoder, decoder, likelihood, learn_variance, arch)

    def options(self) -> dict:
        return {"likelihood": self.likelihood, "learn_variance": self.learn_variance}

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x), each (N, k)."""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """μ(x), the mean of q(z|x): (N, D) → (N, k)."""
        return self.encode_distribution(x)[0]

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, samples: int = 1) -> Output:
        """One draw z ~ q(z|x) (with ``generator``) and g(z): (N, D) → :class:`Output` with μ and log σ². With
        ``samples`` = K > 1, K draws per sample decoded in one batch: z (K, N, k) and g(z) (K, N, D), what the
        importance-weighted bound needs (Burda et al. 2016)."""
        mu, log_var = self.encode_distribution(x)
        draws = mu.shape if samples == 1 else (samples, *mu.shape)
        z = reparameterize(mu, log_var, torch.randn(draws, generator=generator).to(mu))
        decoded = self.decoder(z.reshape(-1, mu.shape[1]))
        x_log_var = getattr(self, "log_var_x", None)
        return Output(decoded.reshape(*draws[:-1], -1), z, mu, log_var, x_log_var)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, **_) -> torch.Tensor:  # type: ignore[override]
        """Decode z ~ p(z) = N(0, I) to the mean of p(x|z): (n, D)."""
        return self.decode(torch.randn(n, self.latent_dim, generator=generator).to(next(self.parameters()).device))


class VQVAE(Autoencoder):
    """The vector-quantised autoencoder (van den Oord et al. 2017): x ─f─▶ z ─q─▶ z_q ─g─▶ x̂, z_q the nearest
    codebook entries (:class:`~hourglass.quantizers.VectorQuantizer`), or z rounded to a grid of levels
    (:class:`~hourglass.quantizers.FiniteScalarQuantizer`), gradients passed straight through q.

    ``encode`` gives the continuous code z = f(x), the grid before quantisation (what a prior is fitted to);
    ``decode`` quantises, then decodes: any code, a prior's draw too, is decoded as the nearest entries.

    Parameters
    ----------
    encoder
        Maps (N, D) to the grid of continuous codes (N, k).
    decoder
        Maps the quantised grid (N, k) to (N, D).
    quantizer : VectorQuantizer or FiniteScalarQuantizer
        q: the codebook, or the levels (:mod:`hourglass.quantizers`).
    output : str, optional
        What turns g's raw output into x̂: "linear" or "sigmoid".
    architecture
        The :class:`~hourglass.nets.Architecture` the nets were built from, if any.
    """

    kind = "vqvae"

    def __init__(
        self, encoder, decoder, quantizer: VectorQuantizer | FiniteScalarQuantizer, output="linear", architecture=None
    ):
        super().__init__(encoder, decoder, output, architecture)
        self.quantizer = quantizer

    @classmethod
    def from_architecture(  # type: ignore[override]  # a VQ-VAE is built with its codebook's rules
        cls,
        arch: Architecture,
        output: str = "linear",
        ema: bool = True,
        restart: bool = True,
        seed: int = 0,
        init: str = "batch",
        lookup: str = "euclidean",
    ) -> VQVAE:
        if arch.codebook is None:
            raise HourglassError("a VQ-VAE needs a codebook size (codebook)", params=("codebook",))
        with init_seed(seed):
            encoder, decoder = build(arch)
            quantizer: VectorQuantizer | FiniteScalarQuantizer = (
                FiniteScalarQuantizer(arch.levels)
                if arch.levels
                else VectorQuantizer(
                    arch.codebook, arch.code_vector, ema=ema, dead_below=0.1 if restart else 0, init=init, lookup=lookup
                )
            )
        return cls(encoder, decoder, quantizer, output, arch)

    def options(self) -> dict:
        q = self.quantizer
        rules = {"init": q.init, "lookup": q.lookup} if isinstance(q, VectorQuantizer) else {}
        return {"output": self.output, "ema": q.ema, "restart": q.dead_below > 0, **rules}

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> Output:
        z = self.encoder(x)
        z_q = self.quantizer(z, generator)
        return Output(self.decoder(self.quantizer.decoder_input(z, z_q)), z, z_q=z_q)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return super().decode(self.quantizer.quantize(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x̂ = g(q(f(x))): the code quantised, as in training and as :meth:`decode` does."""
        return self.head.reconstructed(self.decoder(self.quantizer.quantize(self.encode(x))), x)


MODEL_KINDS: dict[str, type[Autoencoder]] = {Autoencoder.kind: Autoencoder, VAE.kind: VAE, VQVAE.kind: VQVAE}


def build_model(kind: str, arch: Architecture, options: dict, seed: int = 0) -> Autoencoder:
    """A model of ``kind`` ("autoencoder" or "vae") from its architecture and :meth:`options`."""
    if kind not in MODEL_KINDS:
        raise HourglassError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    try:
        return MODEL_KINDS[kind].from_architecture(arch, seed=seed, **options)
    except TypeError as e:
        raise HourglassError(f"model options {options} do not fit a {kind} ({e})") from None
