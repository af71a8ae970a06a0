"""Samples from a trained model: codes drawn from a prior — N(0, I), a Gaussian fitted now, or a prior saved by
``hourglass prior`` (:mod:`hourglass.priors`) — decoded, and written to a file in the data's units and/or drawn as a
grid. ``hourglass sample`` is :func:`sample_file`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .errors import HourglassError
from .store import checkpoint as ckpt
from .store.files import RowWriter, check_output

SAMPLE_BATCH = 8192  # samples decoded at a time: memory stays bounded however many are asked for
MAX_GRID = 1024  # images in one --png grid


PRIOR_NAMES = {
    "standard": "N(0, I)",
    "gaussian": "a Gaussian fitted to the training codes",
    "fitted": "a Gaussian fitted to the training codes",  # the name it had before `gaussian`
    "gmm": "a Gaussian mixture fitted to the training codes",
    "diffusion": "latent diffusion on the training codes",
    "autoregressive": "an autoregressive prior on the code grid's indices",
}


def sampler(
    checkpoint: ckpt.Checkpoint,
    prior: str = "standard",
    steps: int | None = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
):
    """A function ``draw(n, generator) -> (n, D)`` decoding codes drawn from ``prior``, in the model's space:
    ``standard``, N(0, I) (a VAE's prior); ``gaussian`` (or ``fitted``), a Gaussian fitted now to a plain
    autoencoder's training codes (of data streamed from disk, its first training rows); ``gmm`` or ``diffusion``, the
    prior saved in the run folder by ``hourglass prior`` (:mod:`hourglass.priors`; ``steps``: DDIM's).

    Parameters
    ----------
    checkpoint : ckpt.Checkpoint
        A loaded checkpoint.
    prior : str, optional
        "standard" (N(0, I)), "gaussian" (fitted now), or a saved "gmm", "diffusion" or "autoregressive" prior.
    steps : int or None
        DDIM's steps for a diffusion prior; None or 1000: the full ancestral chain.
    temperature : float, optional
        The autoregressive prior's: each index drawn from softmax(logits / temperature); below 1 surer, above
        wilder.
    top_k : int, optional
        The autoregressive prior's: each index drawn from the ``top_k`` likeliest only (None: from all).

    Returns
    -------
    callable
        ``draw(n, generator) -> (n, D)`` in the model's space.
    """
    from .priors.codes import check_fits
    from .priors.saved import saved_prior

    model = checkpoint.model
    if prior not in PRIOR_NAMES:
        raise HourglassError(f"unknown prior {prior!r}; expected one of {', '.join(PRIOR_NAMES)}", params=("prior",))
    if not (isinstance(temperature, (int, float)) and 0 < temperature < float("inf")):
        raise HourglassError(f"temperature must be a number > 0, got {temperature!r}", params=("temperature",))
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise HourglassError(f"top_k must be a whole number >= 1, got {top_k!r}", params=("top_k",))
    if (temperature != 1.0 or top_k is not None) and prior != "autoregressive":
        raise HourglassError("temperature and top_k are the autoregressive prior's", params=("temperature", "top_k"))
    check_fits(model, prior, "prior")
    if prior == "standard":
        return lambda n, generator: model.sample(n, generator).cpu().numpy()
    if prior in ("gaussian", "fitted"):
        if model.variational:
            raise HourglassError(
                "the fitted Gaussian is for plain autoencoders; a VAE samples its own prior N(0, I)",
                params=("prior",),
            )
        from .priors.codes import codes_of
        from .priors.densities import GaussianPrior

        fitted = GaussianPrior.fit(codes_of(checkpoint))
        return lambda n, generator: model.sample(n, generator, fitted.mean, fitted.scale_tril).cpu().numpy()
    codes = saved_prior(
        checkpoint, prior, steps, temperature, top_k
    )  # a missing or stale prior is said before anything is written
    device = next(model.parameters()).device
    return lambda n, generator: model.decode(codes(n, generator).to(device)).detach().cpu().numpy()


def sample_file(
    checkpoint,
    n: int,
    output: str | Path | None = None,
    png: str | Path | None = None,
    prior: str = "standard",
    seed: int = 0,
    device: str = "auto",
    steps: int | None = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> dict:
    """Draw ``n`` samples (:func:`sampler`) and write them in the data's units to ``output`` (.npy or .csv,
    streamed :data:`SAMPLE_BATCH` at a time, after checking the disk has room) and/or the first of them as an image
    grid to ``png`` (at most :data:`MAX_GRID`).

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    n : int
        How many samples.
    output : str or Path, optional
        A .npy or .csv file for the samples in the data's units.
    png : str or Path, optional
        Also draw them (at most 1,024) as a grid here.
    prior : str, optional
        "standard" (N(0, I)), "gaussian" (fitted now), or a saved "gmm" or "diffusion" prior.
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    steps : int or None
        DDIM's steps for a diffusion prior; None or 1000: the full ancestral chain.
    temperature : float, optional
        The autoregressive prior's sampling temperature (:func:`sampler`).
    top_k : int, optional
        The autoregressive prior's: draw each index from the ``top_k`` likeliest.

    Returns
    -------
    dict
        What was written and how many.
    """
    import shutil

    if output is None and png is None:
        raise HourglassError("say where the samples go: output (.npy, .csv) and/or png", params=("output", "png"))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise HourglassError(f"n must be a whole number >= 1, got {n!r}", params=("n",))
    if png is not None and n > MAX_GRID:
        raise HourglassError(
            f"png draws at most {MAX_GRID} samples, not {n}; write more to an output file", params=("png", "n")
        )
    from .store.checkpoint import open_checkpoint
    from .store.files import ROWS

    output = check_output(output, ROWS) if output is not None else None
    checkpoint = open_checkpoint(checkpoint, images=png is not None, device=device)
    width = checkpoint.model.architecture.n_features
    if output is not None:
        need = n * width * (4 if output.suffix.lower() == ".npy" else 16)  # float32, or ~16 characters in a CSV
        free = shutil.disk_usage(output.resolve().parent if output.parent.exists() else Path.cwd()).free
        if need > free:
            raise HourglassError(
                f"{output}: {n} samples of {width} values need about {need / 1e9:.1f} GB; the disk "
                f"has {free / 1e9:.1f} GB free",
                params=("n",),
            )
    draw, generator = sampler(checkpoint, prior, steps, temperature, top_k), torch.Generator().manual_seed(seed)
    batches = (draw(min(SAMPLE_BATCH, n - start), generator) for start in range(0, n, SAMPLE_BATCH))
    shown: list[np.ndarray] = []
    if output is not None:
        rows = _stream_rows(output, n, width, batches, checkpoint, shown)  # atomic: whole, or not at all
    else:
        shown = [next(batches)]
    if png is not None:
        from .report import image_grid

        x, cols = np.concatenate(shown)[:n], int(np.ceil(np.sqrt(n)))
        where = PRIOR_NAMES[prior]
        image_grid(
            [("", x[i : i + cols]) for i in range(0, n, cols)],
            checkpoint.model.architecture.input_shape,
            png,
            title=f"{checkpoint.variant}: decoded draws of z from {where}",
        )
    return {"output": output, "png": png, "n": rows if output is not None else n}


def _stream_rows(path: Path, n: int, width: int, batches, checkpoint: ckpt.Checkpoint, shown: list) -> int:
    """Write the batches (model space) in the data's units to ``path`` (.npy or .csv, a batch at a time); keep the
    first rows, up to :data:`MAX_GRID`, in ``shown``. Returns the rows written."""
    columns = checkpoint.data.get("columns") or [f"x{i + 1}" for i in range(width)]
    with RowWriter(path, n, columns) as writer:
        for batch in batches:
            if writer.written < MAX_GRID:
                shown.append(batch[: MAX_GRID - writer.written])
            writer.write(checkpoint.scaling.inverse_transform(batch))
    return writer.written
