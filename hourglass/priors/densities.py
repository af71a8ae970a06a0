"""Densities on the codes, fitted after training: each a small object with ``sample(n, generator) -> (n, k)``.

A plain autoencoder has no prior. Ghosh et al. (2020) make it a generator "ex post": fit a density to the codes of
the training data and decode draws from it. Three densities, from the crudest to the most flexible:

- :class:`GaussianPrior`: one Gaussian (its mean and covariance: claim 7's fitted prior);
- :class:`MixturePrior`: a Gaussian mixture, scikit-learn's ``GaussianMixture`` (full covariances), the number of
  components chosen by BIC (Ghosh et al. use 10);
- :class:`DiffusionPrior`: latent diffusion (:mod:`.diffusion`).

Every draw is made on the host from the caller's ``torch.Generator``: the same seed gives the same codes anywhere.
Tensors are float32 codes; ``state()`` gives (tensors, settings) to save, and ``from_state`` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import diffusion
from .autoregressive import AutoregressivePrior

COMPONENT_GRID = (1, 2, 5, 10, 20)  # the mixtures BIC chooses among


@dataclass
class GaussianPrior:
    """z = μ + L ε, ε ~ N(0, I): μ (k,) and the Cholesky factor L (k, k) of the codes' covariance.

    Parameters
    ----------
    mean : Tensor
        μ, (k,).
    scale_tril : Tensor
        L, the Cholesky factor of the codes' covariance, (k, k).
    """

    mean: torch.Tensor
    scale_tril: torch.Tensor
    kind = "gaussian"

    @classmethod
    def fit(cls, codes: np.ndarray, seed: int = 0) -> GaussianPrior:
        from ..metrics import code_gaussian

        mean, tril = code_gaussian(codes)
        return cls(torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(tril, dtype=torch.float32))

    def sample(self, n: int, generator: torch.Generator | None = None, **_) -> torch.Tensor:
        eps = torch.randn(n, len(self.mean), generator=generator)
        return self.mean + eps @ self.scale_tril.T

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        return {"mean": self.mean, "scale_tril": self.scale_tril}, {}

    @classmethod
    def from_state(cls, tensors: dict, settings: dict) -> GaussianPrior:
        return cls(tensors["mean"], tensors["scale_tril"])


@dataclass
class MixturePrior:
    """Σ_c π_c N(μ_c, L_c L_cᵀ): weights π (C,), means (C, k), Cholesky factors (C, k, k).

    Parameters
    ----------
    weights : Tensor
        π, the components' weights, (C,).
    means : Tensor
        μ_c, (C, k).
    scale_trils : Tensor
        L_c, the Cholesky factors of the components' covariances, (C, k, k).
    bic : dict, optional
        The Bayesian information criterion of each number of components tried, when it was chosen by BIC.
    """

    weights: torch.Tensor
    means: torch.Tensor
    scale_trils: torch.Tensor
    bic: dict | None = None  # components → BIC, when the number was chosen
    kind = "gmm"

    @classmethod
    def fit(cls, codes: np.ndarray, seed: int = 0, components: int | None = None) -> MixturePrior:
        """Fit by EM (scikit-learn); ``components`` None: the number in :data:`COMPONENT_GRID` of lowest BIC."""
        from sklearn.mixture import GaussianMixture

        z = np.asarray(codes, np.float64)
        grid = [components] if components else [c for c in COMPONENT_GRID if c <= len(z) // 2]
        fitted = {c: GaussianMixture(c, covariance_type="full", random_state=seed, reg_covar=1e-6).fit(z) for c in grid}
        bic = {c: float(m.bic(z)) for c, m in fitted.items()}
        best = fitted[min(bic, key=bic.__getitem__)]
        return cls(
            torch.as_tensor(best.weights_, dtype=torch.float32),
            torch.as_tensor(best.means_, dtype=torch.float32),
            torch.as_tensor(np.linalg.cholesky(best.covariances_), dtype=torch.float32),
            bic if components is None else None,
        )

    def sample(self, n: int, generator: torch.Generator | None = None, **_) -> torch.Tensor:
        which = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.means.shape[1], generator=generator)
        return self.means[which] + (self.scale_trils[which] @ eps.unsqueeze(2)).squeeze(2)

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {"weights": self.weights, "means": self.means, "scale_trils": self.scale_trils}
        return tensors, {"components": len(self.weights), "bic": self.bic}

    @classmethod
    def from_state(cls, tensors: dict, settings: dict) -> MixturePrior:
        bic = {int(c): v for c, v in settings["bic"].items()} if settings.get("bic") else None
        return cls(tensors["weights"], tensors["means"], tensors["scale_trils"], bic)


@dataclass
class DiffusionPrior:
    """Latent diffusion on the standardised codes: z = mean + std ⊙ z̃, z̃ drawn by DDIM (``steps``, default 50) or,
    with ``steps`` None or the chain's length (1000), the full ancestral chain; the predicted z̃₀ is clipped to
    ±``bound``, the largest standardised training code.

    Parameters
    ----------
    denoiser : diffusion.Denoiser
        ε_θ(z_t, t), the network that predicts the noise in a code at step t.
    alpha_bar : Tensor
        ᾱ_t of the cosine schedule, (T + 1,).
    mean : Tensor
        The training codes' mean, (k,).
    std : Tensor
        The training codes' standard deviation, (k,).
    bound : Tensor
        The largest standardised training code: the predicted z̃₀ is clipped to it.
    """

    denoiser: diffusion.Denoiser
    alpha_bar: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    bound: torch.Tensor
    kind = "diffusion"

    @classmethod
    def fit(cls, codes: np.ndarray, seed: int = 0, config=None, val_codes: np.ndarray | None = None, **net):
        """Train ε_θ with the DDPM objective through hourglass's trainer (``config``: a TrainConfig; net: the
        denoiser's ``width`` and ``blocks``). Codes are standardised by their training mean and std first."""
        from ..nets import init_seed
        from ..training.loop import TrainConfig, fit

        z = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
        mean, std = z.mean(0), z.std(0).clamp(min=1e-6)
        with init_seed(seed):
            denoiser = diffusion.Denoiser(z.shape[1], **net)
        alpha_bar = diffusion.cosine_schedule()
        config = config or TrainConfig(epochs=100, batch_size=512, lr=1e-3, progress=False)
        val = z if val_codes is None else torch.as_tensor(np.asarray(val_codes), dtype=torch.float32)
        standardised = (z - mean) / std
        fit(denoiser, diffusion.DenoisingObjective(alpha_bar), standardised, (val - mean) / std, config)
        return cls(denoiser.cpu().eval(), alpha_bar, mean, std, standardised.abs().max())

    def sample(
        self, n: int, generator: torch.Generator | None = None, steps: int | None = diffusion.SAMPLING_STEPS, eta=0.0
    ) -> torch.Tensor:
        clip = float(self.bound)
        if steps is None or steps >= len(self.alpha_bar) - 1:
            z = diffusion.sample_ancestral(self.denoiser, self.alpha_bar, n, generator, clip)
        else:
            z = diffusion.sample_ddim(self.denoiser, self.alpha_bar, n, generator, steps, eta, clip)
        return self.mean + self.std * z.cpu()

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"denoiser.{k}": v for k, v in self.denoiser.state_dict().items()}
        tensors.update(alpha_bar=self.alpha_bar, mean=self.mean, std=self.std, bound=self.bound)
        d = self.denoiser
        return tensors, {"latent_dim": d.latent_dim, "width": d.width, "blocks": d.n_blocks}

    @classmethod
    def from_state(cls, tensors: dict, settings: dict) -> DiffusionPrior:
        denoiser = diffusion.Denoiser(settings["latent_dim"], settings["width"], settings["blocks"])
        prefix = "denoiser."
        denoiser.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        return cls(denoiser.eval(), tensors["alpha_bar"], tensors["mean"], tensors["std"], tensors["bound"])


PRIORS = {p.kind: p for p in (GaussianPrior, MixturePrior, DiffusionPrior, AutoregressivePrior)}
