"""Priors on the codes: what makes a trained autoencoder a generative model.

"The latent codes assigned to training data may occupy a complicated subset of Z. Drawing z from a Gaussian prior
may land outside this region." A prior fitted after training on a model's codes (:mod:`.densities`: a Gaussian, a
Gaussian mixture, latent diffusion) draws codes that land inside it, and the decoder g turns them into samples.

    fit_prior(checkpoint, "diffusion")  →  saved as run/priors/diffusion.*  (hourglass.priors.saved)
    saved_prior(checkpoint, "gmm")(n, generator)  →  z (n, k)  →  model.decode(z)
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import HourglassError
from .autoregressive import AutoregressivePrior
from .codes import check_fits, codes_of
from .densities import COMPONENT_GRID, PRIORS, DiffusionPrior, GaussianPrior, MixturePrior
from .saved import saved_prior

KINDS = tuple(PRIORS)  # gaussian, gmm, diffusion, autoregressive: what `hourglass prior` fits, `sample --prior` reads
EPOCHS = {"diffusion": 100, "autoregressive": 5}  # the networks' training epochs when none are given

__all__ = [
    "COMPONENT_GRID",
    "EPOCHS",
    "AutoregressivePrior",
    "KINDS",
    "DiffusionPrior",
    "GaussianPrior",
    "MixturePrior",
    "check_fits",
    "codes_of",
    "fit_prior",
    "saved_prior",
]


def fit_prior(
    checkpoint,
    kind: str,
    seed: int = 0,
    epochs: int | None = None,
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
        "gaussian", "gmm", "diffusion" (densities of the continuous codes) or "autoregressive" (of a discrete code's
        grids of indices: a VQ-VAE's or an FSQ model's).
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    epochs : int, optional
        diffusion, autoregressive: training epochs of the network (None: :data:`EPOCHS`).
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
    if epochs is not None and kind not in EPOCHS:
        raise HourglassError(f"epochs is for the {' and '.join(EPOCHS)} priors", params=("epochs",))
    epochs = int(epochs or EPOCHS.get(kind, 0))
    from ..store.checkpoint import open_checkpoint

    checkpoint = open_checkpoint(checkpoint, device=device)  # a run folder, or a checkpoint loaded already
    model: Any = checkpoint.model
    check_fits(model, kind, "kind")
    started = time.perf_counter()
    codes = codes_of(checkpoint)
    prior: Any
    if kind == "autoregressive":
        grids = [grid_of(model, c) for c in (codes, codes_of(checkpoint, "val"))]
        config = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=seed, progress=progress, device=device)
        prior = AutoregressivePrior.fit(grids[0], model.quantizer.entries, seed, config, val_grids=grids[1])
    elif kind == "diffusion":
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
        path = save_prior(prior, checkpoint, record | ({"epochs": epochs} if kind in EPOCHS else {}))
    return {"kind": kind, "prior": prior, "seconds": seconds, "codes": len(codes), "path": path}


def grid_of(model, codes) -> Any:
    """The indices (N, P) of a discrete model's continuous codes (N, k), as its quantiser assigns them."""
    import torch

    device = next(model.parameters()).device
    return torch.cat([model.quantizer.indices(torch.as_tensor(codes[i : i + 4096]).to(device)).cpu()
                      for i in range(0, len(codes), 4096)])  # fmt: skip
