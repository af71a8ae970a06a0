"""Corruptions x̃ = c(x) for denoising autoencoders (Vincent et al. 2008): the model sees x̃ and must give back x.

Each corruption draws fresh noise from the ``torch.Generator`` it is handed, so a seeded run corrupts every batch
differently and every run identically. They compose: ``Compose([GaussianNoise(0.3), MaskingNoise(0.2)])``.
``parse_noise("gaussian:0.5,mask:0.25")`` builds one from the CLI's spelling; ``"gaussian:0.02-0.2"`` draws each
sample's σ from a range (one model for many noise levels: DnCNN's blind training, Zhang et al. 2017).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .errors import HourglassError


def _check_probability(p: float, name: str) -> float:
    p = float(p)
    if not 0 <= p < 1:
        raise HourglassError(f"{name} probability must be in [0, 1), got {p:g}")
    return p


@dataclass
class GaussianNoise:
    """x̃ = x + σ ε, ε ~ N(0, I); with ``clip``, x̃ is clipped to [0, 1] (the data range of images). With
    ``sigma_max``, each sample (row) draws its own σ ~ U[sigma, sigma_max].

    Parameters
    ----------
    sigma : float
        σ, in the data's units (the lower end of the range with ``sigma_max``).
    clip : bool, optional
        Clip x̃ to [0, 1], the range of images.
    sigma_max : float, optional
        Each row draws its own σ ~ U[sigma, sigma_max]; None: every row has σ.
    """

    sigma: float
    clip: bool = False
    sigma_max: float | None = None
    kind = "gaussian"

    def __post_init__(self):
        if not float(self.sigma) >= 0:
            raise HourglassError(f"gaussian noise sigma must be >= 0, got {self.sigma:g}")
        if self.sigma_max is not None and not float(self.sigma_max) > float(self.sigma):
            raise HourglassError(f"a range of gaussian sigmas must rise, got {self.sigma:g}-{self.sigma_max:g}")

    @property
    def levels(self) -> tuple[float, float]:
        """The smallest and largest σ drawn."""
        return float(self.sigma), float(self.sigma if self.sigma_max is None else self.sigma_max)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.with_levels(x, generator)[0]

    def with_levels(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x̃, σ): the noisy batch and each row's σ, (N,) — what a model that takes its noise level is told.

        Parameters
        ----------
        x : Tensor
            (N, ...) the clean batch.
        generator : torch.Generator, optional
            The source of the σ draws and the noise (drawn on the host: the same on any device).

        Returns
        -------
        (Tensor, Tensor)
            x̃ of x's shape, and σ of shape (N,) on x's device.
        """
        sigma = torch.full((len(x),), float(self.sigma), dtype=x.dtype)
        if self.sigma_max is not None:
            u = torch.rand((len(x),), generator=generator, dtype=x.dtype)
            sigma = self.sigma + (self.sigma_max - self.sigma) * u
        sigma = sigma.to(x.device)
        spread = sigma.reshape((len(x),) + (1,) * (x.dim() - 1))
        noisy = x + spread * torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return (noisy.clamp(0, 1) if self.clip else noisy), sigma

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "sigma": self.sigma, "clip": self.clip}
        return d if self.sigma_max is None else {**d, "sigma_max": self.sigma_max}


def with_noise_map(drawn: tuple[torch.Tensor, torch.Tensor], size: int) -> torch.Tensor:
    """The input of a model told its noise level, from ``drawn`` = (x̃, σ) of :meth:`GaussianNoise.with_levels`:
    each row of x̃ (N, D) followed by ``size`` copies of its σ — a map of the level at every pixel (FFDNet's M),
    (N, D + size)."""
    noisy, sigma = drawn
    return torch.cat([noisy, sigma[:, None].expand(len(noisy), size)], dim=1)


@dataclass
class MaskingNoise:
    """Each input set to 0 independently with probability p (Vincent et al. 2008's masking noise).

    Parameters
    ----------
    p : float
        The probability that an input is set to 0, in [0, 1).
    """

    p: float
    kind = "mask"

    def __post_init__(self):
        self.p = _check_probability(self.p, "masking")

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        keep = (torch.rand(x.shape, generator=generator) >= self.p).to(x.device)
        return x * keep

    def to_dict(self) -> dict:
        return {"kind": self.kind, "p": self.p}


@dataclass
class SaltAndPepper:
    """Each input set, with probability p, to the minimum (0) or the maximum (1) of the range, with equal odds.

    Parameters
    ----------
    p : float
        The probability that an input is replaced, in [0, 1).
    low : float, optional
        The value of pepper (the range's minimum).
    high : float, optional
        The value of salt (the range's maximum).
    """

    p: float
    low: float = 0.0
    high: float = 1.0
    kind = "salt-and-pepper"

    def __post_init__(self):
        self.p = _check_probability(self.p, "salt-and-pepper")

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand(x.shape, generator=generator).to(x.device)
        hit = u < self.p
        salt = u < self.p / 2
        value = torch.where(salt, torch.full_like(x, self.high), torch.full_like(x, self.low))
        return torch.where(hit, value, x)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "p": self.p, "low": self.low, "high": self.high}


@dataclass
class Compose:
    """Apply corruptions in order.

    Parameters
    ----------
    parts : list
        The corruptions, applied in this order.
    """

    parts: list
    kind = "compose"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for part in self.parts:
            x = part(x, generator)
        return x

    def to_dict(self) -> dict:
        return {"kind": self.kind, "parts": [p.to_dict() for p in self.parts]}


_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE = re.compile(rf"\s*({_NUMBER})\s*-\s*({_NUMBER})\s*")  # "0.02-0.2": a σ range (not "-1", not "1e-3")
NOISES = {"gaussian": GaussianNoise, "mask": MaskingNoise, "salt-and-pepper": SaltAndPepper}
_ALIASES = {"masking": "mask", "salt": "salt-and-pepper", "snp": "salt-and-pepper", "saltpepper": "salt-and-pepper"}


def parse_noise(spec: str, clip: bool = True):
    """``"gaussian:0.5"``, ``"gaussian:0.02-0.2"`` (σ drawn per sample), ``"mask:0.3"``, ``"salt-and-pepper:0.2"``,
    or several joined by commas (applied in order).

    Gaussian noise is clipped to [0, 1] when ``clip`` (image data).

    Parameters
    ----------
    spec : str
        A corruption: "gaussian:0.5", "gaussian:0.02-0.2", "mask:0.3", "salt-and-pepper:0.2", or several joined by
        commas.
    clip : bool, optional
        Clip Gaussian noise to [0, 1] (data in that range).

    Returns
    -------
    Corruption
        A :class:`GaussianNoise`, :class:`MaskingNoise`, :class:`SaltAndPepper` or :class:`Compose` of them.
    """
    parts = []
    for item in [s.strip() for s in str(spec).split(",") if s.strip()]:
        name, _, value = item.partition(":")
        name = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if name not in NOISES:
            raise HourglassError(
                f"unknown noise {name!r} in {spec!r}; expected gaussian:SIGMA, mask:P or salt-and-pepper:P"
            )
        levels = _RANGE.fullmatch(value) if name == "gaussian" else None
        try:
            level, top = (float(levels[1]), float(levels[2])) if levels else (float(value), None)
        except ValueError:
            example = f"{name}:0.3" + (" or gaussian:0.02-0.2" if name == "gaussian" else "")
            raise HourglassError(f"noise {item!r} needs a number after the colon, e.g. {example}") from None
        parts.append(GaussianNoise(level, clip=clip, sigma_max=top) if name == "gaussian" else NOISES[name](level))
    if not parts:
        raise HourglassError("empty noise specification; expected e.g. gaussian:0.5")
    return parts[0] if len(parts) == 1 else Compose(parts)


def corruption_from_dict(d: dict | None):
    if d is None:
        return None
    kind = d.get("kind")
    args = {k: v for k, v in d.items() if k != "kind"}
    try:
        if kind == "compose":
            return Compose([corruption_from_dict(p) for p in args["parts"]])
        return NOISES[str(kind)](**args)
    except (KeyError, TypeError) as e:
        raise HourglassError(f"corruption {d} is malformed ({e})") from None
