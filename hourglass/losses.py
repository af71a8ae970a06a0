"""Reconstruction losses and the training objective.

Units: every ``*_per_sample`` function sums over features and returns one value per sample, shape (N,); the
objective averages those over the batch. So a "loss" here is in squared-error or nats *per sample* (per image),
the unit of Hinton & Salakhutdinov (2006); divide by D for a per-feature mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .errors import HourglassError

RECONSTRUCTIONS = ("mse", "bce")


def squared_error_per_sample(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """‖x − x̂‖² for each row: (N, D), (N, D) → (N,)."""
    return (x_hat - x).pow(2).sum(dim=1)


def bernoulli_cross_entropy_per_sample(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−Σ_d [x_d log σ(a_d) + (1 − x_d) log(1 − σ(a_d))] for each row, in nats: (N, D), (N, D) → (N,).

    Computed from the logits a = g(z) with the log-sum-exp form, stable for any a; x may be any value in
    [0, 1] (grey levels included), as in Hinton & Salakhutdinov (2006).
    """
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


@dataclass
class Objective:
    """What training minimises, as data: ``objective(model, x) -> (loss, terms)``.

    reconstruction: "mse" (squared error per sample; a model with a linear output) or "bce" (Bernoulli
        cross-entropy per sample on logits; a model with a sigmoid output, data in [0, 1]).

    ``loss`` is a scalar tensor (mean over the batch, differentiable); ``terms`` maps each named part of it to a
    detached scalar tensor, so a variant adds a term here and the trainer logs it without knowing what it is.
    """

    reconstruction: str = "mse"

    def __post_init__(self):
        if self.reconstruction not in RECONSTRUCTIONS:
            raise HourglassError(f"unknown loss {self.reconstruction!r}; expected one of {', '.join(RECONSTRUCTIONS)}")

    @property
    def model_output(self) -> str:
        """The output a model trained with this objective needs: "sigmoid" for bce, "linear" for mse."""
        return "sigmoid" if self.reconstruction == "bce" else "linear"

    def check(self, model) -> None:
        if self.reconstruction == "bce" and getattr(model, "output", None) != "sigmoid":
            raise HourglassError("the bce loss needs a model with a sigmoid output (its decoder gives logits)")

    def __call__(self, model, x: torch.Tensor, generator: torch.Generator | None = None):
        out = model(x)
        if self.reconstruction == "bce":
            per_sample = bernoulli_cross_entropy_per_sample(out, x)
        else:
            x_hat = torch.sigmoid(out) if model.output == "sigmoid" else out
            per_sample = squared_error_per_sample(x_hat, x)
        loss = per_sample.mean()
        return loss, {"reconstruction": loss.detach()}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Objective":
        try:
            return cls(**d)
        except TypeError as e:
            raise HourglassError(f"objective is malformed ({e})") from None
