"""The autoencoder: an encoder f, a bottleneck code z = f(x), a decoder g, and the reconstruction x̂ = g(f(x)).

Models know nothing of files, training or the command line. Variants that only add a corruption or a penalty
(denoising, sparse, contractive) are this same class trained with another :class:`hourglass.losses.Objective`.
"""

from __future__ import annotations

import torch
from torch import nn

from .errors import HourglassError
from .nets import Architecture, build

OUTPUTS = ("linear", "sigmoid")


class Autoencoder(nn.Module):
    """x ─f─▶ z ─g─▶ x̂.

    encoder, decoder: modules mapping (N, D) → (N, k) and (N, k) → (N, D).
    output: what turns g's raw output into x̂: "linear" (identity; squared error) or "sigmoid" (g outputs
        Bernoulli logits; cross-entropy).
    architecture: the :class:`Architecture` the nets were built from, if any (needed to save a checkpoint).
    """

    kind = "autoencoder"

    def __init__(self, encoder: nn.Module, decoder: nn.Module, output: str = "linear",
                 architecture: Architecture | None = None):
        super().__init__()
        if output not in OUTPUTS:
            raise HourglassError(f"unknown output {output!r}; expected one of {', '.join(OUTPUTS)}")
        self.encoder, self.decoder = encoder, decoder
        self.output = output
        self.architecture = architecture

    @classmethod
    def from_architecture(cls, arch: Architecture, output: str = "linear", seed: int = 0) -> "Autoencoder":
        """Build and initialise the nets of ``arch``; the same seed gives the same initial weights."""
        with torch.random.fork_rng(devices=[]):  # seed the init without touching the caller's global RNG
            torch.manual_seed(seed)
            encoder, decoder = build(arch)
        return cls(encoder, decoder, output, arch)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): (N, D) → (N, k)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x̂ = g(z) in data space: (N, k) → (N, D) (the sigmoid applied for a Bernoulli output)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.output == "sigmoid" else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """g(f(x)) before the output nonlinearity (logits for a sigmoid output): what the losses take."""
        return self.decoder(self.encoder(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x̂ = g(f(x)) in data space, (N, D) → (N, D)."""
        return self.decode(self.encode(x))

    @property
    def latent_dim(self) -> int:
        if self.architecture is None:
            raise HourglassError("this autoencoder was built from custom modules; its latent_dim is unknown")
        return self.architecture.latent_dim


MODEL_KINDS = {Autoencoder.kind: Autoencoder}
