"""Latent diffusion: a denoising diffusion model on an autoencoder's codes (Rombach et al. 2022).

The account says denoising training "is the basis of modern diffusion models". Here it is, on the codes: a
noise-conditional denoising autoencoder ε(z_t, t) learns, at every noise level t at once, the noise that was added
to a (standardised) code z₀. Sampling runs the corruption backwards from pure noise.

Every formula is written once, here:

- the cosine schedule ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T + s)/(1 + s)) · π/2), s = 0.008, β_t = 1 − ᾱ_t/ᾱ_{t−1}
  clipped at 0.999 (Nichol & Dhariwal 2021, eq. 17);
- the forward process in closed form, q(z_t | z₀) = N(√ᾱ_t z₀, (1 − ᾱ_t) I) (Ho et al. 2020, eq. 4);
- the simple DDPM objective E‖ε − ε_θ(√ᾱ_t z₀ + √(1 − ᾱ_t) ε, t)‖², t ~ U{1..T} (Ho et al. 2020, eq. 14);
- the ancestral sampler z_{t−1} = μ̃_t(z_t, ẑ₀) + σ_t ε, with the posterior mean μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) ẑ₀ +
  √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) z_t and variance σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t (Ho et al. 2020, eq. 7 and
  Algorithm 2);
- DDIM on a sub-sequence τ of the steps, z_{τ−} = √ᾱ_{τ−} ẑ₀ + √(1 − ᾱ_{τ−} − σ²) ε_θ + σ ε, ẑ₀ =
  (z_τ − √(1 − ᾱ_τ) ε_θ)/√ᾱ_τ, σ = η √((1 − ᾱ_{τ−})/(1 − ᾱ_τ)) √(1 − ᾱ_τ/ᾱ_{τ−}) (Song et al. 2021, eq. 12 and 16):
  η = 0 is deterministic; η = 1 over all T steps is the ancestral sampler.

Both samplers clip the predicted ẑ₀ = (z_t − √(1 − ᾱ_t) ε_θ)/√ᾱ_t to the range of the training codes, as Ho et al.
clip it to the images' range: near t = T the cosine schedule's √ᾱ_t is ~1e-4, and an error in ε_θ there would be
magnified ten-thousandfold.
"""

from __future__ import annotations

import math

import torch
from torch import nn

STEPS = 1000  # T, the length of the forward chain
SAMPLING_STEPS = 50  # DDIM's default number of steps


def cosine_schedule(steps: int = STEPS, s: float = 0.008) -> torch.Tensor:
    """ᾱ_t for t = 0 … T (T + 1 values, ᾱ_0 = 1), float64 (Nichol & Dhariwal 2021, eq. 17; β_t clipped at 0.999)."""
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])


def diffuse(z0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """z_t = √ᾱ_t z₀ + √(1 − ᾱ_t) ε, a draw of q(z_t | z₀): z0, eps (N, k); t (N,) integer steps in 1 … T."""
    a = alpha_bar.to(z0.dtype)[t].unsqueeze(1)
    return a.sqrt() * z0 + (1 - a).sqrt() * eps


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the step t ∈ [0, 1] (N,) → (N, dim), frequencies spaced geometrically from 1 to 1/1000
    of the chain (the Transformer's position code, Vaswani et al. 2017, as DDPM uses it)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    angles = (t * STEPS).unsqueeze(1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Block(nn.Module):
    """h + W₂ silu(W₁ LayerNorm(h) + time), a residual MLP block conditioned on the step."""

    def __init__(self, width: int):
        super().__init__()
        self.norm, self.inner, self.outer = nn.LayerNorm(width), nn.Linear(width, width), nn.Linear(width, width)
        self.time = nn.Linear(width, width)

    def forward(self, h: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        return h + self.outer(nn.functional.silu(self.inner(self.norm(h)) + self.time(t_emb)))


class Denoiser(nn.Module):
    """ε_θ(z_t, t): the noise in a noisy code, (N, k + 1) → (N, k) — a noise-conditional denoising autoencoder on
    the codes. Its one input row is [z_t, t/T] so that a training step stays one ``model(...)`` call."""

    def __init__(self, latent_dim: int, width: int = 256, blocks: int = 4):
        super().__init__()
        self.latent_dim, self.width, self.n_blocks = latent_dim, width, blocks
        self.inp = nn.Linear(latent_dim, width)
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(Block(width) for _ in range(blocks))
        last = nn.Linear(width, latent_dim)
        nn.init.zeros_(last.weight)  # starts by predicting no noise: a calm first step
        nn.init.zeros_(last.bias)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), last)

    def forward(self, zt_and_t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        z_t, t = zt_and_t[:, :-1], zt_and_t[:, -1]
        t_emb = self.time(time_embedding(t, self.width))
        h = self.inp(z_t)
        for block in self.blocks:
            h = block(h, t_emb)
        return self.out(h)


class DenoisingObjective:
    """The DDPM objective in the trainer's protocol (:class:`hourglass.training.step.Objective`): ``inputs`` draws
    t ~ U{1..T} and ε ~ N(0, I) (on the host, from the trainer's generator) and diffuses each code; the loss is
    ‖ε − ε_θ(z_t, t)‖² summed over the code's k units, averaged over the batch."""

    def __init__(self, alpha_bar: torch.Tensor):
        self.alpha_bar = alpha_bar

    def check(self, model) -> None:
        pass

    def inputs(self, z0: torch.Tensor, generator: torch.Generator | None = None):
        steps = len(self.alpha_bar) - 1
        t = torch.randint(1, steps + 1, (len(z0),), generator=generator).to(z0.device)
        eps = torch.randn(z0.shape, generator=generator, dtype=z0.dtype).to(z0.device)
        z_t = diffuse(z0, t, eps, self.alpha_bar.to(z0.device))
        return eps, torch.cat([z_t, (t.to(z0.dtype) / steps).unsqueeze(1)], dim=1)

    def __call__(self, eps_hat, eps, x_in=None, encoder=None, generator=None, training=False):
        loss = ((eps_hat - eps) ** 2).sum(dim=1).mean()
        return loss, {"noise_mse": loss.detach()}


def _predict(model: Denoiser, z: torch.Tensor, t: int, steps: int) -> torch.Tensor:
    return model(torch.cat([z, torch.full((len(z), 1), t / steps, dtype=z.dtype, device=z.device)], dim=1))


@torch.no_grad()
def sample_ddim(
    model: Denoiser,
    alpha_bar: torch.Tensor,
    n: int,
    generator: torch.Generator | None = None,
    steps: int = SAMPLING_STEPS,
    eta: float = 0.0,
    clip: float = math.inf,
) -> torch.Tensor:
    """n codes (n, k) by DDIM over ``steps`` evenly spaced steps of the chain (Song et al. 2021), ẑ₀ clipped to
    ±``clip``; noise drawn on the host from ``generator``, so the same seed gives the same codes on any device."""
    chain = len(alpha_bar) - 1
    if not 1 <= steps <= chain:
        raise ValueError(f"steps must be in 1 … {chain}, got {steps}")
    device = next(model.parameters()).device
    a = alpha_bar.to(device=device, dtype=torch.float32)
    z = torch.randn(n, model.latent_dim, generator=generator).to(device)
    taus = torch.linspace(chain, 0, steps + 1).round().long().tolist()
    for t, t_prev in zip(taus[:-1], taus[1:], strict=True):
        eps_hat = _predict(model, z, t, chain)
        z0_hat = ((z - (1 - a[t]).sqrt() * eps_hat) / a[t].sqrt()).clamp(-clip, clip)
        eps_hat = (z - a[t].sqrt() * z0_hat) / (1 - a[t]).sqrt()  # the noise that ẑ₀ implies
        sigma = eta * ((1 - a[t_prev]) / (1 - a[t])).sqrt() * (1 - a[t] / a[t_prev]).sqrt()
        z = a[t_prev].sqrt() * z0_hat + (1 - a[t_prev] - sigma**2).clamp(min=0).sqrt() * eps_hat
        if eta > 0 and t_prev > 0:
            z = z + sigma * torch.randn(z.shape, generator=generator).to(device)
    return z


@torch.no_grad()
def sample_ancestral(
    model: Denoiser, alpha_bar: torch.Tensor, n: int, generator: torch.Generator | None = None, clip: float = math.inf
) -> torch.Tensor:
    """n codes (n, k) by the full ancestral chain, T steps (Ho et al. 2020, Algorithm 2), ẑ₀ clipped to ±``clip``."""
    chain = len(alpha_bar) - 1
    device = next(model.parameters()).device
    a = alpha_bar.to(device=device, dtype=torch.float32)
    z = torch.randn(n, model.latent_dim, generator=generator).to(device)
    for t in range(chain, 0, -1):
        beta = 1 - a[t] / a[t - 1]
        z0_hat = ((z - (1 - a[t]).sqrt() * _predict(model, z, t, chain)) / a[t].sqrt()).clamp(-clip, clip)
        z = (a[t - 1].sqrt() * beta * z0_hat + (1 - beta).sqrt() * (1 - a[t - 1]) * z) / (1 - a[t])
        if t > 1:
            variance = (1 - a[t - 1]) / (1 - a[t]) * beta
            z = z + variance.sqrt() * torch.randn(z.shape, generator=generator).to(device)
    return z
