"""Reconstruction losses, the KL divergence, and the training objective that composes them with a corruption and
the penalties (:mod:`hourglass.penalties`).

Units: every ``*_per_sample`` function sums over features (or code units) and returns one value per sample, shape
(N,); the objective averages those over the batch. So a loss here is in squared error or nats *per sample* (per
image), the unit of Hinton & Salakhutdinov (2006); divide by D for a per-feature mean.

Every loss and penalty is a function of tensors — of the model's :class:`~hourglass.models.Output` and the data —
never of the model itself (the contractive penalty also takes the encoder f, since ‖J_f(x)‖ is a property of the
function). A variant is data, not a class: ``Objective(reconstruction, corruption, penalties, beta, ...)``; its
parts combine. Denoising adds a corruption (:mod:`hourglass.corruptions`), sparse and contractive autoencoders add
a penalty, and the KL term joins whenever the Output carries a posterior (μ, log σ²), as a VAE's does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .corruptions import corruption_from_dict, with_noise_map
from .errors import HourglassError
from .penalties import SPARSITY_PENALTIES, penalty_from_dict

RECONSTRUCTIONS = ("mse", "bce", "gaussian")


# --------------------------------------------------------------------------------------------------- reconstruction


def squared_error_per_sample(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """‖x − x̂‖² for each row: (N, D), (N, D) → (N,).

    Parameters
    ----------
    x_hat : Tensor
        Reconstructions, (N, D).
    x : Tensor
        Targets, (N, D).

    Returns
    -------
    Tensor
        ‖x − x̂‖² of each row, (N,).
    """
    return (x_hat - x).pow(2).sum(dim=1)


def bernoulli_cross_entropy_per_sample(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−Σ_d [x_d log σ(a_d) + (1 − x_d) log(1 − σ(a_d))] for each row, in nats: (N, D), (N, D) → (N,).

    Computed from the logits a = g(z) with the log-sum-exp form, stable for any a; x may be any value in
    [0, 1] (grey levels included), as in Hinton & Salakhutdinov (2006).

    Parameters
    ----------
    logits : Tensor
        a = g(z), (N, D).
    x : Tensor
        Targets in [0, 1], (N, D).

    Returns
    -------
    Tensor
        (N,), nats per sample.
    """
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def gaussian_nll_per_sample(mean: torch.Tensor, log_var: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log N(x; mean, diag exp(log_var)) for each row, in nats: ½ Σ_d [log 2π + log σ²_d + (x_d − m_d)² / σ²_d]."""
    return -log_normal_per_sample(x, mean, log_var)


def reconstruction_per_sample(kind: str, out, x: torch.Tensor) -> torch.Tensor:
    """−log p(x|z) (or the squared error) of the reconstruction in ``out`` (a :class:`hourglass.models.Output`),
    for each row: "mse" ‖x − g(z)‖², "bce" the Bernoulli cross-entropy of the logits g(z), "gaussian" the Gaussian
    negative log-likelihood with mean g(z) and log-variance ``out.x_log_var``. (N, D) → (N,).

    Parameters
    ----------
    kind : str
        "mse", "bce" or "gaussian".
    out
        The model's :class:`~hourglass.models.Output`.
    x : Tensor
        The clean targets, (N, D).

    Returns
    -------
    Tensor
        (N,): squared error or nats per sample.
    """
    if kind == "bce":
        return bernoulli_cross_entropy_per_sample(out.decoded, x)
    if kind == "gaussian":
        return gaussian_nll_per_sample(out.decoded, out.x_log_var.expand_as(x), x)
    return squared_error_per_sample(out.decoded, x)


# --------------------------------------------------------------------------------------------------- KL and the VAE


def kl_standard_normal_per_sample(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (σ²_j + μ²_j − 1 − log σ²_j), in nats (Kingma & Welling 2014, app. B)."""
    return 0.5 * (torch.exp(log_var) + mu.pow(2) - 1 - log_var).sum(dim=1)


def log_normal_per_sample(z: torch.Tensor, mu: torch.Tensor | float = 0.0, log_var: torch.Tensor | float = 0.0):
    """log N(z; μ, diag σ²) summed over the last dimension: (..., k) → (...)."""
    log_var = torch.as_tensor(log_var, dtype=z.dtype)
    return -0.5 * (math.log(2 * math.pi) + log_var + (z - mu).pow(2) * torch.exp(-log_var)).sum(dim=-1)


def log_mean_exp(a: torch.Tensor, dim: int) -> torch.Tensor:
    """log((1/K) Σ_k exp(a_k)) along ``dim``, stable for any magnitudes (log-sum-exp minus log K)."""
    return torch.logsumexp(a, dim=dim) - math.log(a.shape[dim])


def log_likelihood_of_draws(kind: str, out, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z_k) for each of a VAE's K draws in ``out`` (z (K, N, k), g(z) (K, N, D); one draw (N, k) counts
    as K = 1): (K, N), in nats."""
    decoded = out.decoded if out.decoded.dim() == 3 else out.decoded.unsqueeze(0)
    k, n, d = decoded.shape
    flat = out._replace(decoded=decoded.reshape(k * n, d))
    return -reconstruction_per_sample(kind, flat, x.expand(k, n, d).reshape(k * n, d)).reshape(k, n)


def log_importance_weights(out, log_px_z: torch.Tensor) -> torch.Tensor:
    """log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x), p(z) = N(0, I), for the draws z_k ~ q(z|x) in
    ``out`` and their ``log_px_z`` (K, N) (:func:`log_likelihood_of_draws`): (K, N), in nats.

    log_mean_exp over K is the importance-weighted bound on log p(x) (Burda et al. 2016, eq. 8): the ELBO for
    K = 1, tighter as K grows; training on it is the IWAE.
    """
    z = out.z if out.z.dim() == 3 else out.z.unsqueeze(0)
    return log_px_z + log_normal_per_sample(z) - log_normal_per_sample(z, out.mu, out.log_var)


# --------------------------------------------------------------------------------------------------- the objective


@dataclass
class Objective:
    """What training minimises, as data. A variant is an objective, not a class: any of its parts combine.

    A training step is ``x, x_in = objective.inputs(batch, g)``,
    ``out = model(x_in, generator=g, **objective.model_options)``, ``loss, terms = objective(out, x, x_in, encoder,
    g)``: one model call, the rest tensor arithmetic.
    ``loss`` is a scalar tensor (mean over the batch, differentiable). ``terms`` maps each named part to a
    detached scalar: "reconstruction", each penalty's unweighted value by its kind, and for a VAE "kl" and "elbo"
    (nats per sample; the ELBO with β = 1), and with ``iw_samples`` the bound itself, "iw_bound".

    Parameters
    ----------
    reconstruction : str, optional
        "mse" (squared error; a linear output), "bce" (Bernoulli cross-entropy on logits; a sigmoid output, data in [0,
        1]) or "gaussian" (a VAE's Gaussian likelihood). For a VAE it is −log p(x|z).
    corruption : Any, optional
        x̃ = c(x, generator), fed to the model while the loss compares with the clean x (denoising).
    penalties : list, optional
        Each adds ``weight × value`` (L1 or KL sparsity on z, contractive ‖J_f‖²_F).
    beta : float, optional
        The KL weight of a VAE (β-VAE; 1 is the ELBO); kl_warmup_epochs: β ramps up linearly over these training epochs
        (validation always uses the full β, so the best epoch is chosen on the real objective).
    kl_warmup_epochs : int, optional
        β ramps up linearly over this many training epochs (validation always uses the full β).
    binarize : bool, optional
        Draw x ~ Bernoulli(x) afresh for every batch (dynamic binarisation of MNIST).
    iw_samples : int, optional
        K > 1 trains a VAE on the importance-weighted bound with K draws per sample instead of the ELBO (the IWAE, Burda
        et al. 2016); the model is then called with ``samples=K`` (:attr:`model_options`).
    noise_map : int, optional
        M > 0 tells the model each row's noise level: the model input is x̃ followed by M copies of the σ its
        Gaussian corruption drew for that row (a map with one value per pixel, FFDNet's M); 0: x̃ alone.
    """

    reconstruction: str = "mse"
    corruption: Any = None  # a corruption (hourglass.corruptions), or None
    penalties: list = field(default_factory=list)
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    binarize: bool = False
    iw_samples: int = 1
    noise_map: int = 0

    def __post_init__(self):
        if self.reconstruction not in RECONSTRUCTIONS:
            raise HourglassError(
                f"unknown loss {self.reconstruction!r}; expected one of {', '.join(RECONSTRUCTIONS)}", params=("loss",)
            )
        for p in self.penalties:
            if not (p.weight >= 0 and math.isfinite(p.weight)):
                raise HourglassError(f"{p.kind} weight must be >= 0, got {p.weight:g}", params=(p.kind,))
        if not (self.beta >= 0 and math.isfinite(self.beta)):
            raise HourglassError(f"beta must be >= 0, got {self.beta:g}", params=("beta",))
        if self.kl_warmup_epochs < 0:
            raise HourglassError(
                f"kl_warmup_epochs must be >= 0, got {self.kl_warmup_epochs}", params=("kl_warmup_epochs",)
            )
        if isinstance(self.iw_samples, bool) or not isinstance(self.iw_samples, int) or self.iw_samples < 1:
            raise HourglassError(
                f"iw_samples must be a whole number >= 1, got {self.iw_samples!r}", params=("iw_samples",)
            )
        if self.iw_samples > 1 and (self.beta != 1 or self.kl_warmup_epochs):
            raise HourglassError(
                "the importance-weighted bound (iw_samples > 1) has no KL weight: it takes beta 1 "
                "and no kl_warmup_epochs",
                params=("iw_samples", "beta", "kl_warmup_epochs"),
            )
        if self.noise_map and not hasattr(self.corruption, "with_levels"):
            raise HourglassError(
                "a noise-level map tells the model the σ of its Gaussian noise: it needs noise gaussian:SIGMA or "
                "gaussian:LOW-HIGH alone",
                params=("noise_map", "noise"),
            )
        self._epoch = None

    @property
    def model_options(self) -> dict:
        """Keyword arguments of the one ``model(...)`` call of a step: ``samples`` K for the IWAE, else none."""
        return {"samples": self.iw_samples} if self.iw_samples > 1 else {}

    @property
    def model_output(self) -> str:
        """The output a model trained with this objective needs: "sigmoid" for bce, "linear" otherwise."""
        return "sigmoid" if self.reconstruction == "bce" else "linear"

    @property
    def sparse(self) -> bool:
        """Whether a penalty asks for a sparse code."""
        return any(p.kind in SPARSITY_PENALTIES for p in self.penalties)

    @property
    def contractive(self) -> bool:
        return any(p.kind == "contractive" for p in self.penalties)

    def check(self, model) -> None:
        """Raise if ``model`` cannot be trained with this objective (the output it needs; what a VAE refuses)."""
        head = getattr(model, "head", None)
        if getattr(head, "compared_as", None) != self.model_output:
            raise HourglassError(
                f"loss {self.reconstruction} needs a model with a {self.model_output} output "
                f"(its decoder gives {'logits' if self.model_output == 'sigmoid' else 'x̂'})",
                params=("loss",),
            )
        self.check_kind(getattr(model, "variational", False))

    def check_kind(self, variational: bool) -> None:
        """Raise if a model of this kind (a VAE or a deterministic autoencoder) cannot take this objective."""
        if variational and self.reconstruction == "mse":
            raise HourglassError(
                "a VAE is trained with its likelihood: loss bce (Bernoulli) or gaussian", params=("loss",)
            )
        if not variational and self.reconstruction == "gaussian":
            raise HourglassError(
                "loss gaussian is a VAE's likelihood; a plain autoencoder uses loss mse", params=("loss",)
            )
        for p in self.penalties if variational else ():
            raise HourglassError(p.variational, params=(p.kind,))
        if self.iw_samples > 1 and not variational:
            raise HourglassError(
                "iw_samples is the VAE's importance-weighted bound (model vae)", params=("iw_samples", "model")
            )

    def start_epoch(self, epoch: int) -> None:
        """Called by the trainer before each training epoch (0-based): schedules the KL warm-up."""
        self._epoch = epoch

    def kl_weight(self, training: bool) -> float:
        if not training or not self.kl_warmup_epochs or self._epoch is None:
            return self.beta
        return self.beta * min(1.0, (self._epoch + 1) / (self.kl_warmup_epochs + 1))

    def inputs(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """(target, model input) for a batch: x binarised if asked (the target), and x̃ = c(x) the model sees."""
        if self.binarize:
            # Uniforms drawn on the host (the same draws on any device, as every corruption's) and sent over: no
            # copy of the batch comes back from the device.
            x = (torch.rand(x.shape, generator=generator).to(x.device) < x).to(x.dtype)
        if self.noise_map:
            return x, with_noise_map(self.corruption.with_levels(x, generator), self.noise_map)
        return x, (self.corruption(x, generator) if self.corruption is not None else x)

    def __call__(
        self,
        out,
        x: torch.Tensor,
        x_in: torch.Tensor | None = None,
        encoder=None,
        generator: torch.Generator | None = None,
        training: bool = False,
    ):
        """(loss, terms) of the model's Output ``out`` for targets ``x`` (see the class docstring)."""
        if self.iw_samples > 1:
            return self._importance_weighted(out, x)
        per_sample = reconstruction_per_sample(self.reconstruction, out, x)
        terms = {"reconstruction": per_sample.mean().detach()}
        if out.mu is not None:  # a variational model: the ELBO's KL term, weighted by β
            kl = kl_standard_normal_per_sample(out.mu, out.log_var)
            terms.update(kl=kl.mean().detach(), elbo=-(per_sample + kl).mean().detach())
            per_sample = per_sample + self.kl_weight(training) * kl
        loss = per_sample.mean()
        for penalty in self.penalties:
            value = penalty(out, x if x_in is None else x_in, encoder, generator)
            loss = loss + penalty.weight * value
            terms[penalty.kind] = value.detach()
        return loss, terms

    def _importance_weighted(self, out, x: torch.Tensor):
        """The IWAE's loss, −(1/N) Σ_n log (1/K) Σ_k w_nk, and the VAE's terms averaged over the K draws."""
        log_px_z = log_likelihood_of_draws(self.reconstruction, out, x)  # (K, N)
        bound = log_mean_exp(log_importance_weights(out, log_px_z), dim=0)
        reconstruction, kl = -log_px_z.mean(), kl_standard_normal_per_sample(out.mu, out.log_var).mean()
        terms = {
            "reconstruction": reconstruction.detach(),
            "kl": kl.detach(),
            "elbo": -(reconstruction + kl).detach(),
            "iw_bound": bound.mean().detach(),
        }
        return -bound.mean(), terms

    def to_dict(self) -> dict:
        return {
            "reconstruction": self.reconstruction,
            "corruption": None if self.corruption is None else self.corruption.to_dict(),
            "penalties": [p.to_dict() for p in self.penalties],
            "beta": self.beta,
            "kl_warmup_epochs": self.kl_warmup_epochs,
            "binarize": self.binarize,
            "iw_samples": self.iw_samples,
            **({"noise_map": self.noise_map} if self.noise_map else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Objective:
        d = dict(d)
        try:
            d["corruption"] = corruption_from_dict(d.get("corruption"))
            d["penalties"] = [penalty_from_dict(p) for p in d.get("penalties") or []]
            return cls(**d)
        except TypeError as e:
            raise HourglassError(f"objective is malformed ({e})") from None
