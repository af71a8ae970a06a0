"""Priors on the codes: what makes a trained autoencoder a generative model.

"The latent codes assigned to training data may occupy a complicated subset of Z. Drawing z from a Gaussian prior
may land outside this region." A prior fitted after training on a model's codes (:mod:`.densities`: a Gaussian, a
Gaussian mixture, latent diffusion) draws codes that land inside it, and the decoder g turns them into samples.

    fit_prior(checkpoint, "diffusion")  →  saved as run/priors/diffusion.*  (hourglass.priors.saved)
    saved_prior(checkpoint, "gmm")(n, generator)  →  z (n, k)  →  model.decode(z)
"""

from __future__ import annotations

import time

from ..errors import HourglassError
from .codes import codes_of
from .densities import COMPONENT_GRID, PRIORS, DiffusionPrior, GaussianPrior, MixturePrior
from .saved import saved_prior

KINDS = tuple(PRIORS)  # gaussian, gmm, diffusion: the kinds `hourglass prior` fits and `sample --prior` reads

__all__ = [
    "COMPONENT_GRID",
    "KINDS",
    "DiffusionPrior",
    "GaussianPrior",
    "MixturePrior",
    "codes_of",
    "fit_prior",
    "saved_prior",
]


def fit_prior(
    checkpoint,
    kind: str,
    seed: int = 0,
    epochs: int = 100,
    components: int | None = None,
    device: str = "auto",
    progress: bool = False,
    save: bool = True,
) -> dict:
    """Fit a ``kind`` prior to the codes of ``checkpoint``'s training split (validated on its validation split,
    for diffusion) and, with ``save``, keep it in the run folder. Returns kind, prior, seconds, codes, path.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    kind : str
        "gaussian", "gmm" or "diffusion".
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    epochs : int, optional
        diffusion: training epochs of the denoiser.
    components : int, optional
        gmm: this many components; None: chosen by BIC.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    progress : bool, optional
        Show progress while it runs.
    save : bool, optional
        Keep the prior in the run folder (``priors/KIND.*``).

    Returns
    -------
    dict
        ``kind``, ``prior``, ``seconds``, ``codes`` and ``path`` (None unless saved).
    """
    from ..training.loop import TrainConfig

    if kind not in PRIORS:
        raise HourglassError(f"unknown prior kind {kind!r}; expected one of {', '.join(KINDS)}", params=("kind",))
    if components is not None and kind != "gmm":
        raise HourglassError("components is for the gmm prior", params=("components",))
    started = time.perf_counter()
    codes = codes_of(checkpoint)
    if kind == "diffusion":
        config = TrainConfig(epochs=epochs, batch_size=512, lr=1e-3, seed=seed, progress=progress, device=device)
        prior = DiffusionPrior.fit(codes, seed, config, val_codes=codes_of(checkpoint, "val"))
    elif kind == "gmm":
        prior = MixturePrior.fit(codes, seed, components)
    else:
        prior = GaussianPrior.fit(codes, seed)
    seconds = time.perf_counter() - started
    path = None
    if save:
        from .saved import save_prior

        record = {"seed": seed, "fit_seconds": seconds, "codes": len(codes)}
        path = save_prior(prior, checkpoint, record | ({"epochs": epochs} if kind == "diffusion" else {}))
    return {"kind": kind, "prior": prior, "seconds": seconds, "codes": len(codes), "path": path}
