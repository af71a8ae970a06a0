"""Encoder f and decoder g builders: the MLP hourglass, the conv / transposed-conv pair, the fully convolutional
pair (for denoising photographs), the linear pair.

Every network here maps flat rows to flat rows: encoders take x as (N, D) and return the code z as (N, k);
decoders take z as (N, k) and return (N, D) *before* the output nonlinearity (logits for a Bernoulli output).
Conv nets fold the rows into (N, C, H, W) internally, so the rest of the library sees one shape everywhere.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import torch
from torch import nn

from .errors import HourglassError

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU}
KINDS = ("mlp", "conv", "fcn", "linear")
CODE_ACTIVATIONS = ("linear", "relu", "sigmoid")
DEFAULT_WIDTHS = {"mlp": (256, 64, 16), "conv": (32, 64), "fcn": (64, 64, 64, 64), "linear": ()}


@dataclass(frozen=True)
class Architecture:
    """What to build, as plain data (stored in checkpoints).

    Parameters
    ----------
    kind : str, optional
        "mlp" (symmetric hourglass), "conv" (stride-2 convs, mirrored by transposed convs), "fcn" (fully convolutional:
        the code is a feature map at half the resolution, so one network takes square images of any even size —
        :func:`fcn_pair`, for denoising photographs) or "linear" (one linear map each way, no nonlinearity: the PCA
        experiments).
    input_shape : tuple[int, ...], optional
        One sample's shape: (D,) for vectors, (C, H, W) for images (required by "conv").
    widths : tuple[int, ...], optional
        The encoder's hidden widths, mirrored by the decoder (mlp), or its conv channels (conv); ``None`` picks the
        recommended ones for the kind — for an MLP, those of 256, 64, 16 wider than the code.
    latent_dim : int, optional
        k, the size of the code z (the bottleneck; larger than the input for an overcomplete sparse code). For "fcn", k
        of an input_shape image: its code map's channels times (H/2)(W/2).
    activation : str, optional
        The nonlinearity between layers (SiLU: on MNIST it beat ReLU by ~5% at equal epochs).
    code_activation : str, optional
        What the encoder applies to z: "linear" (none), "relu" (exact zeros, for sparse codes) or "sigmoid" (codes in
        (0, 1), for the KL-sparsity penalty and the closed-form contractive penalty).
    topk : int, optional
        Keep only the k largest code units of each sample, zero the rest (Makhzani & Frey 2013); None: all.
    codebook : int, optional
        K, for a vector-quantised code (the VQ-VAE; conv only): the encoder ends in a grid of P positions (7 × 7 for
        MNIST with two stride-2 convs) of d = latent_dim / P numbers each, every d-vector to be replaced by the nearest
        of K codebook entries (:mod:`hourglass.quantizers`); None: a continuous code.
    levels : tuple[int, ...], optional
        Finite scalar quantisation (:class:`~hourglass.quantizers.FiniteScalarQuantizer`): the levels of the d numbers
        at a grid position, d = len(levels); the codebook is their product.
    noise_map : bool, optional
        The model is told its input's noise level (fcn only): each input row is the image followed by a map of its
        noise σ, one value per pixel (H·W), which f takes as one more channel (FFDNet, Zhang et al. 2018).
    """

    kind: str = "mlp"
    input_shape: tuple[int, ...] = (784,)
    widths: tuple[int, ...] | None = None
    latent_dim: int = 4
    activation: str = "silu"
    code_activation: str = "linear"
    topk: int | None = None
    codebook: int | None = None
    noise_map: bool = False
    levels: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise HourglassError(f"unknown arch {self.kind!r}; expected one of {', '.join(KINDS)}", params=("arch",))
        object.__setattr__(self, "input_shape", _whole(self.input_shape, "input_shape"))
        object.__setattr__(self, "latent_dim", _whole([self.latent_dim], "latent_dim")[0])
        if self.topk is not None:
            object.__setattr__(self, "topk", _whole([self.topk], "topk")[0])
        if self.widths is None:  # the recommended widths; for an MLP, those wider than the code (an hourglass)
            widths = tuple(w for w in DEFAULT_WIDTHS[self.kind] if self.kind != "mlp" or w > self.latent_dim)
        else:
            widths = _whole(self.widths, "widths")
        object.__setattr__(self, "widths", () if self.kind == "linear" else widths)
        if not self.input_shape or any(s < 1 for s in self.input_shape):
            raise HourglassError(f"input_shape must be positive sizes, got {self.input_shape}")
        if any(w < 1 for w in self.widths):
            raise HourglassError(f"widths must be positive integers, got {list(self.widths)}", params=("widths",))
        if int(self.latent_dim) < 1:
            raise HourglassError(f"latent_dim must be at least 1, got {self.latent_dim}", params=("latent_dim",))
        if self.activation not in ACTIVATIONS:
            raise HourglassError(
                f"unknown activation {self.activation!r}; expected one of {', '.join(ACTIVATIONS)}",
                params=("activation",),
            )
        if self.code_activation not in CODE_ACTIVATIONS:
            raise HourglassError(
                f"unknown code_activation {self.code_activation!r}; expected one of {', '.join(CODE_ACTIVATIONS)}",
                params=("code_activation",),
            )
        if self.topk is not None and not 1 <= int(self.topk) <= int(self.latent_dim):
            raise HourglassError(
                f"topk must be between 1 and latent_dim ({self.latent_dim}), got {self.topk}",
                params=("topk", "latent_dim"),
            )
        if self.kind in ("conv", "fcn") and (len(self.input_shape) != 3 or not self.widths):
            raise HourglassError(
                f"a {self.kind} autoencoder needs image samples (C, H, W) and at least one channel width; "
                f"got input shape {self.input_shape}"
            )
        if self.kind == "fcn":
            c, h, w = self.input_shape
            if h != w or h % 2:
                raise HourglassError(
                    f"an fcn autoencoder takes square images of even size (its code is the image at half "
                    f"resolution); got {h}×{w}",
                    params=("arch", "patch_size"),
                )
            if self.latent_dim % math.prod(self.grid):
                raise HourglassError(
                    f"an fcn code is a {self.grid[0]}×{self.grid[1]} map: latent_dim must be a multiple of "
                    f"{math.prod(self.grid)} (e.g. {64 * math.prod(self.grid)}: 64 channels), got {self.latent_dim}",
                    params=("latent_dim",),
                )
        if self.noise_map and self.kind != "fcn":
            raise HourglassError("a noise-level map is an input of the fcn arch", params=("noise_map", "arch"))
        if self.codebook is not None:
            object.__setattr__(self, "codebook", _whole([self.codebook], "codebook")[0])
            if self.kind != "conv" or self.code_activation != "linear" or self.topk is not None:
                raise HourglassError(
                    "a vector-quantised code (codebook) needs the conv arch, a linear code and no topk",
                    params=("codebook", "arch"),
                )
            positions = math.prod(self.grid)
            if self.latent_dim % positions or self.codebook < 2:
                raise HourglassError(
                    f"a vector-quantised code is a {self.grid[0]}×{self.grid[1]} grid of vectors: latent_dim must be a "
                    f"multiple of {positions} (e.g. {16 * positions}: 16 numbers each), got {self.latent_dim}; "
                    f"and the codebook at least 2 entries",
                    params=("latent_dim", "codebook"),
                )
        if self.levels is not None:
            object.__setattr__(self, "levels", _whole(self.levels, "levels"))
            if self.codebook != math.prod(self.levels) or self.code_vector != len(self.levels):
                raise HourglassError(f"fsq levels {list(self.levels)} need {len(self.levels)} numbers at each "
                                     f"position and codebook {math.prod(self.levels)}; got latent_dim "
                                     f"{self.latent_dim}, codebook {self.codebook}",
                                     params=("quantizer", "latent_dim"))  # fmt: skip

    @property
    def grid(self) -> tuple[int, int]:
        """(H, W) of the conv encoder's last feature map (for "fcn", the code map: half the input's)."""
        h, w = self.input_shape[1:]
        if self.kind == "fcn":
            return h // 2, w // 2
        for _ in self.widths or ():
            h, w = _conv_out(h), _conv_out(w)
        return h, w

    @property
    def code_vector(self) -> int:
        """d, the numbers at each position of a grid code (a codebook's vectors, an fcn's code channels):
        latent_dim / positions."""
        return self.latent_dim // math.prod(self.grid)

    @property
    def n_features(self) -> int:
        """D, the numbers of one sample (its image's, not its noise map's)."""
        return math.prod(self.input_shape)

    @property
    def input_features(self) -> int:
        """The width of one input row: D, plus H·W for the noise map of a model told its noise level."""
        return self.n_features + (math.prod(self.input_shape[1:]) if self.noise_map else 0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"], d["widths"] = list(self.input_shape), list(self.widths or ())
        if self.codebook is None:  # a continuous code is recorded as it was before codebooks: old runs still resume
            del d["codebook"]
        if not self.noise_map:  # likewise a model not told its noise level
            del d["noise_map"]
        d["levels"] = list(self.levels or ())
        if not self.levels:  # and a model without finite scalar quantisation
            del d["levels"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Architecture:
        known = {"kind", "input_shape", "widths", "latent_dim", "activation", "code_activation", "topk", "codebook",
                 "noise_map", "levels"}  # fmt: skip
        unknown = set(d) - known
        if unknown:
            raise HourglassError(f"architecture has unknown fields {sorted(unknown)}")
        try:
            fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
            return cls(**fields)
        except TypeError as e:
            raise HourglassError(f"architecture is malformed ({e})") from None


def _whole(values, name: str) -> tuple[int, ...]:
    """``values`` as ints, refusing any that is not a whole number (7.9 is not silently 7)."""
    try:
        ints = tuple(int(v) for v in values)
        exact = all(isinstance(v, numbers.Integral) or float(v) == i for v, i in zip(values, ints, strict=True))
    except (TypeError, ValueError, OverflowError):
        exact = False
    if not exact or any(isinstance(v, bool) for v in values):
        raise HourglassError(f"{name} must be whole numbers, got {list(values)}", params=(name,))
    return ints


def mlp_hourglass(
    widths, latent_dim: int, activation: str = "silu", code_outputs: int = 1
) -> tuple[nn.Sequential, nn.Sequential]:
    """The symmetric MLP hourglass: ``widths=[784, 256, 64, 16], latent_dim=4`` gives
    f: 784→256→64→16→4 and g: 4→16→64→256→784 (``widths[0]`` is the input size; no nonlinearity on z or
    on g's output). With ``code_outputs=2`` f's last layer gives 2k numbers (a VAE's μ and log σ²)."""
    act = ACTIVATIONS[activation]
    sizes = list(widths) + [latent_dim]

    def stack(sizes):
        layers = []
        for i, (a, b) in enumerate(pairwise(sizes)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(act())
        return nn.Sequential(*layers)

    return stack(sizes[:-1] + [latent_dim * code_outputs]), stack(sizes[::-1])


def _conv_out(size: int) -> int:
    return (size + 2 * 1 - 3) // 2 + 1  # kernel 3, stride 2, padding 1


class ToGrid(nn.Module):
    """(N, d, H, W) → (N, H·W·d), position by position: each position's d-vector stays contiguous."""

    def forward(self, h):
        return h.permute(0, 2, 3, 1).flatten(1)


class FromGrid(nn.Module):
    """(N, H·W·d) → (N, d, H, W), the inverse of :class:`ToGrid`; with ``grid`` None, a square H = W read from the
    row's length (a fully convolutional decoder takes codes of any image size)."""

    def __init__(self, grid: tuple[int, int] | None, dim: int):
        super().__init__()
        self.grid, self.dim = grid, dim

    def forward(self, z):
        grid = self.grid or (_square_side(z.shape[1] // self.dim),) * 2
        return z.reshape(len(z), *grid, self.dim).permute(0, 3, 1, 2)


class ToImage(nn.Module):
    """(N, C·S·S) → (N, C, S, S): rows of square C-channel images of any side S (a fully convolutional encoder's
    input; a whole photo's tiles are rows too)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, x):
        side = _square_side(x.shape[1] // self.channels)
        return x.reshape(len(x), self.channels, side, side)


def _square_side(area: int) -> int:
    side = math.isqrt(area)
    if side * side != area:
        raise HourglassError(f"rows of {area} pixels per channel are not square images")
    return side


def conv_pair(
    input_shape, channels, latent_dim: int, activation: str = "silu", code_outputs: int = 1, grid: bool = False
) -> tuple[nn.Sequential, nn.Sequential]:
    """Stride-2 3×3 convs down to a linear code, and transposed convs back up to exactly (C, H, W).

    For MNIST with ``channels=(32, 64)``: 1×28×28 → 32×14×14 → 64×7×7 → k, and back. With ``grid``, the code is
    the last feature map itself, mapped by a 1×1 conv to d = k / (7·7) channels (a grid of vectors to quantise).
    """
    act = ACTIVATIONS[activation]
    c, h, w = input_shape
    sizes = [(h, w)]
    for _ in channels:
        sizes.append((_conv_out(sizes[-1][0]), _conv_out(sizes[-1][1])))
    chans = [c] + list(channels)
    flat = chans[-1] * sizes[-1][0] * sizes[-1][1]

    enc: list[nn.Module] = [nn.Unflatten(1, (c, h, w))]
    for a, b in pairwise(chans):
        enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), act()]
    dec: list[nn.Module]
    if grid:
        dim = latent_dim // (sizes[-1][0] * sizes[-1][1])
        enc += [nn.Conv2d(chans[-1], dim, 1), ToGrid()]
        dec = [FromGrid(sizes[-1], dim), nn.Conv2d(dim, chans[-1], 1), act()]
    else:
        enc += [nn.Flatten(), nn.Linear(flat, latent_dim * code_outputs)]
        dec = [nn.Linear(latent_dim, flat), act(), nn.Unflatten(1, (chans[-1],) + sizes[-1])]
    for i in range(len(channels), 0, -1):
        (hi, wi), (ho, wo) = sizes[i], sizes[i - 1]
        # output_padding picks the larger of the two sizes a stride-2 conv could have come from.
        pad = (ho - (2 * hi - 1), wo - (2 * wi - 1))
        dec.append(nn.ConvTranspose2d(chans[i], chans[i - 1], 3, stride=2, padding=1, output_padding=pad))
        if i > 1:
            dec.append(act())
    dec.append(nn.Flatten())
    return nn.Sequential(*enc), nn.Sequential(*dec)


def fcn_pair(
    channels: int, widths, code_channels: int, activation: str = "silu", noise_map: bool = False
) -> tuple[nn.Sequential, nn.Sequential]:
    """The fully convolutional hourglass: f folds each 2×2 block of pixels into channels (pixel unshuffle, Shi et
    al. 2016), then 3×3 convs of ``widths`` channels end in a code map of ``code_channels`` at half resolution; g
    mirrors it and unfolds the blocks back. Working at half resolution quarters the cost per pixel, as FFDNet does
    (Zhang et al. 2018). The code is overcomplete for a grey image at 64 channels (16 numbers per pixel): what keeps
    it from copying is the noise it is trained to remove. No layer sees a fixed size, so a model trained on 48×48
    patches cleans a 256×256 tile (rows of any square, even size).

    With ``noise_map``, each row carries one more channel after the image's, the noise level σ at every pixel: f
    folds it with the image, so the first conv sees 4(C + 1) channels and the network is told how much to remove
    (FFDNet's noise-level map M). g gives the image's C channels."""
    act = ACTIVATIONS[activation]
    enc: list[nn.Module] = [ToImage(channels + noise_map), nn.PixelUnshuffle(2)]
    for a, b in pairwise([4 * (channels + noise_map), *widths]):
        enc += [nn.Conv2d(a, b, 3, padding=1), act()]
    enc += [nn.Conv2d(widths[-1], code_channels, 3, padding=1), ToGrid()]
    dec: list[nn.Module] = [FromGrid(None, code_channels), nn.Conv2d(code_channels, widths[-1], 3, padding=1), act()]
    outs = [*widths[::-1], 4 * channels]
    for i, (a, b) in enumerate(pairwise(outs)):
        dec += [nn.Conv2d(a, b, 3, padding=1)] + ([act()] if i < len(outs) - 2 else [])
    dec += [nn.PixelShuffle(2), nn.Flatten()]
    for conv in (m for m in (*enc, *dec) if isinstance(m, nn.Conv2d)):
        # He et al. (2015)'s initialisation keeps the signal's variance through a deep stack of ReLU-like layers;
        # PyTorch's default shrinks it layer by layer, and a deep plain stack then learns nothing for long
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)  # type: ignore[arg-type]  # every conv here has a bias
    return nn.Sequential(*enc), nn.Sequential(*dec)


class TopK(nn.Module):
    """Keep the k largest entries of each row, set the others to 0 (the k-sparse code of Makhzani & Frey 2013).
    Gradients flow through the kept entries only."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, z):
        values, index = z.topk(self.k, dim=1)
        return torch.zeros_like(z).scatter(1, index, values)


@contextlib.contextmanager
def init_seed(seed: int):
    """Within the block, torch's global RNG is seeded with ``seed``, so modules built there get the same initial
    weights every time; the caller's RNG state is restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build(arch: Architecture, code_outputs: int = 1) -> tuple[nn.Module, nn.Module]:
    """(encoder f, decoder g) for ``arch``, initialised from torch's global RNG (seed it with :func:`init_seed`).

    code_outputs: how many numbers f gives per code unit: 1 for z itself; 2 for a VAE's (μ, log σ²), in which case
    the code activation and top-k do not apply.
    """
    k, widths = arch.latent_dim, arch.widths or ()
    encoder: nn.Module
    decoder: nn.Module
    if arch.kind == "mlp":
        encoder, decoder = mlp_hourglass([arch.n_features, *widths], k, arch.activation, code_outputs)
    elif arch.kind == "conv":
        grid = arch.codebook is not None
        encoder, decoder = conv_pair(arch.input_shape, widths, k, arch.activation, code_outputs, grid)
    elif arch.kind == "fcn":
        if code_outputs != 1:
            raise HourglassError("an fcn code is a feature map; a VAE needs the mlp or conv arch", params=("arch",))
        encoder, decoder = fcn_pair(arch.input_shape[0], widths, arch.code_vector, arch.activation, arch.noise_map)
    else:  # f(x) = W₁x + b₁, g(z) = W₂z + b₂: with squared error, PCA's subspace (Baldi & Hornik 1989)
        encoder, decoder = nn.Linear(arch.n_features, k * code_outputs), nn.Linear(k, arch.n_features)
    if code_outputs == 1:
        extra = [] if arch.code_activation == "linear" else [ACTIVATIONS[arch.code_activation]()]
        extra += [TopK(arch.topk)] if arch.topk else []
        if extra:
            encoder = nn.Sequential(*(encoder if isinstance(encoder, nn.Sequential) else [encoder]), *extra)
    return encoder, decoder
