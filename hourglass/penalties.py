"""Penalties on the code: what makes an autoencoder sparse (an L1 norm, a KL divergence toward a small mean
activation) or contractive (the squared Frobenius norm of the encoder's Jacobian), and — from
:mod:`hourglass.quantizers` — a VQ-VAE's commitment and codebook losses. Each is a function of tensors and a small
object the :class:`~hourglass.losses.Objective` holds: ``penalty(out, x, encoder, generator) -> (N,)``, summed over
code units per sample, with its weight and its ``to_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import HourglassError
from .quantizers import CodebookPenalty, CommitmentPenalty


def l1_per_sample(z: torch.Tensor) -> torch.Tensor:
    """Σ_j |z_j| for each code: (N, k) → (N,)."""
    return z.abs().sum(dim=1)


def kl_sparsity(z: torch.Tensor, target: float, eps: float = 1e-6) -> torch.Tensor:
    """Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch-mean activation of code unit j in (0, 1) (Ng, *Sparse autoencoder*, CS294A
    notes, 2011): pushes each unit to be active a fraction ρ of the time. A batch-level scalar."""
    rho_hat = z.mean(dim=0).clamp(eps, 1 - eps)
    rho = target
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def jacobian_frobenius_sq_exact(encoder, x: torch.Tensor) -> torch.Tensor:
    """‖J_f(x)‖²_F = Σ_ij (∂f_j/∂x_i)² for each sample, exactly: per-sample Jacobians (k, D) by
    ``torch.func.jacrev`` batched with ``vmap``. Differentiable in the encoder's parameters. (N, D) → (N,)."""
    from torch.func import jacrev, vmap

    def f(xi):
        return encoder(xi.unsqueeze(0)).squeeze(0)

    return vmap(jacrev(f))(x).pow(2).sum(dim=(1, 2))


def jacobian_frobenius_sq_sigmoid(linear: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """The closed form for a one-layer sigmoid encoder h = σ(Wx + b) (Rifai et al. 2011, eq. 5):
    ‖J‖²_F = Σ_j (h_j (1 − h_j))² Σ_i W_ji². (N, D) → (N,)."""
    h = torch.sigmoid(linear(x))
    return (h * (1 - h)).pow(2) @ linear.weight.pow(2).sum(dim=1)


def jacobian_frobenius_sq_hutchinson(
    encoder, x: torch.Tensor, probes: int = 1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """An unbiased estimate of ‖J_f(x)‖²_F: E_v ‖Jᵀv‖² = tr(J Jᵀ) for random signs v ∈ {−1, 1}^k (Hutchinson
    1989; lower variance than Gaussian v), averaged over ``probes`` projections, one vector-Jacobian product each —
    for codes too large for the exact Jacobian. Differentiable in the encoder's parameters. (N, D) → (N,)."""
    with torch.enable_grad():  # a Jacobian needs autograd, even in a validation pass under no_grad
        x = x.detach().requires_grad_(True)
        z = encoder(x)
        total = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for _ in range(probes):
            v = torch.randint(0, 2, z.shape, generator=generator).to(z) * 2 - 1
            (jtv,) = torch.autograd.grad(z, x, grad_outputs=v, create_graph=True, retain_graph=True)
            total = total + jtv.pow(2).sum(dim=1)
    return total / probes if torch.is_grad_enabled() else (total / probes).detach()


def _one_layer_sigmoid(encoder):
    layers = list(encoder) if isinstance(encoder, torch.nn.Sequential) else [encoder]
    if len(layers) == 2 and isinstance(layers[0], torch.nn.Linear) and isinstance(layers[1], torch.nn.Sigmoid):
        return layers[0]
    return None


# Each penalty is ``penalty(out, x_in, encoder, generator) -> scalar``: a function of the model's Output and of
# the input it saw; only the contractive penalty also needs the encoder f itself, since ‖J_f(x)‖ is a property of
# the function, not of one output. ``variational`` says why it is refused for a VAE, whose code is a Gaussian draw.


@dataclass
class L1Penalty:
    """λ Σ_j |z_j| on the code, averaged over the batch: a sparse code (pair with a ReLU code for exact zeros).

    Parameters
    ----------
    weight : float
        λ, the penalty's weight in the loss.
    """

    weight: float
    kind = "l1"
    variational = (
        "a VAE's code is a Gaussian draw: an L1 penalty on it fights the KL term and never gives exact "
        "zeros; use a plain autoencoder with a relu code"
    )

    def __call__(self, out, x_in, encoder=None, generator=None) -> torch.Tensor:
        return l1_per_sample(out.z).mean()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weight": self.weight}


@dataclass
class KLSparsityPenalty:
    """λ Σ_j KL(ρ ‖ ρ̂_j) toward a target mean activation ρ (needs codes in (0, 1): a sigmoid code).

    Parameters
    ----------
    weight : float
        λ, the penalty's weight in the loss.
    target : float, optional
        ρ, the mean activation each code unit is pulled toward.
    """

    weight: float
    target: float = 0.05
    kind = "kl_sparsity"
    variational = "the KL-sparsity penalty needs codes in (0, 1) (a sigmoid code); a VAE's code is Gaussian"

    def __post_init__(self):
        if not 0 < self.target < 1:
            raise HourglassError(f"sparsity_target must be in (0, 1), got {self.target:g}", params=("sparsity_target",))

    def __call__(self, out, x_in, encoder=None, generator=None) -> torch.Tensor:
        return kl_sparsity(out.z, self.target)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weight": self.weight, "target": self.target}


@dataclass
class ContractivePenalty:
    """λ ‖J_f(x)‖²_F per sample, averaged over the batch (Rifai et al. 2011).

    (``probes`` random projections: unbiased, for large codes), or "auto" (exact up to 64 code units).

    Parameters
    ----------
    weight : float
        λ, the penalty's weight in the loss.
    estimator : str, optional
        "exact" (torch.func; the closed form when f is one linear layer and a sigmoid), "hutchinson"
    probes : int, optional
        Random projections per step of the Hutchinson estimator.
    """

    weight: float
    estimator: str = "auto"
    probes: int = 1
    kind = "contractive"
    variational = (
        "the contractive penalty is for a deterministic code z = f(x); a VAE's encoder is already "
        "regularised by its KL term"
    )

    def __post_init__(self):
        if self.estimator not in ("auto", "exact", "hutchinson"):
            raise HourglassError(
                f"unknown contractive_estimator {self.estimator!r}; expected auto, exact or hutchinson",
                params=("contractive_estimator",),
            )
        if self.probes < 1:
            raise HourglassError(f"probes must be at least 1, got {self.probes}", params=("probes",))

    def per_sample(self, encoder, x, latent_dim: int, generator=None) -> torch.Tensor:
        estimator = self.estimator
        if estimator == "auto":
            estimator = "exact" if latent_dim <= 64 else "hutchinson"
        if estimator == "hutchinson":
            return jacobian_frobenius_sq_hutchinson(encoder, x, self.probes, generator)
        linear = _one_layer_sigmoid(encoder)
        return (
            jacobian_frobenius_sq_sigmoid(linear, x) if linear is not None else jacobian_frobenius_sq_exact(encoder, x)
        )

    def __call__(self, out, x_in, encoder=None, generator=None) -> torch.Tensor:
        return self.per_sample(encoder, x_in, out.z.shape[1], generator).mean()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weight": self.weight, "estimator": self.estimator, "probes": self.probes}


PENALTIES = {p.kind: p for p in (L1Penalty, KLSparsityPenalty, ContractivePenalty, CommitmentPenalty, CodebookPenalty)}
SPARSITY_PENALTIES = ("l1", "kl_sparsity")


def penalty_from_dict(d: dict):
    args = {k: v for k, v in d.items() if k != "kind"}
    try:
        return PENALTIES[d["kind"]](**args)
    except (KeyError, TypeError) as e:
        raise HourglassError(f"penalty {d} is malformed ({e})") from None
