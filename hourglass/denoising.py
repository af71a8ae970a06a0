"""Whole photographs through a denoising autoencoder: the model runs over overlapping tiles blended without seams
(:mod:`hourglass.tiling`), told the photo's noise level where it was trained to be (the built-in models)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .data.patches import tile_starts
from .errors import HourglassError
from .tiling import blend_window, reconstruct_tiled, tile_plan


def denoise_image(image: np.ndarray, model=None, sigma=None, tile: int | None = None) -> np.ndarray:
    """The image ``model`` makes of ``image``: (H, W) grey or (H, W, C) colour, floats in [0, 1] (any dtype:
    uint8 and uint16 are read as 0–255 and 0–65535 and given back in their own dtype). A grey model cleans each
    channel of a colour image on its own; a colour model needs a colour image. Same shape and dtype out.

    Parameters
    ----------
    image : ndarray
        (H, W) grey or (H, W, C) colour; floats in [0, 1], or uint8 / uint16.
    model : optional
        None (the built-in model for the image: grey for (H, W), colour for (H, W, 3)), a built-in's name
        ("builtin:grey", "builtin:colour"), a loaded :class:`~hourglass.store.checkpoint.Checkpoint`, or a trained
        model (an :class:`~hourglass.models.Autoencoder`).
    sigma : float or ndarray, optional
        For a model told its noise level (the built-in ones): the level σ in [0, 1] units (25/255 = 0.098), or an
        (H, W) map of levels. Higher smooths more, lower keeps more detail. None: estimated from the image
        (:func:`estimate_sigma`). Refused outside the levels a checkpoint was trained for.
    tile : int, optional
        The side of the square tiles (fcn models); None: the model's default.

    Returns
    -------
    ndarray
        The cleaned image, in the input's shape and dtype.
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise HourglassError(f"an image is (H, W) or (H, W, C); got shape {array.shape}")
    top = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(array.dtype)
    if top is None and array.dtype.kind != "f":
        raise HourglassError(f"image pixels are uint8, uint16 or floats in [0, 1]; got {array.dtype}")
    pixels = array.astype(np.float32) / (top or 1)
    planes = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)  # (C, H, W)
    net, levels = denoiser(model, planes.shape[0])
    level_map = noise_map(net, planes, sigma, levels)
    channels = net.architecture.input_shape[0]
    if channels == planes.shape[0]:
        cleaned = reconstruct_tiled(net, planes[None], tile, level_map)[0]
    elif channels == 1:  # a grey model: each colour channel is a grey image
        cleaned = reconstruct_tiled(net, planes[:, None], tile, level_map)[:, 0]
    else:
        raise HourglassError(
            f"the model cleans {channels}-channel images; this one has {planes.shape[0]} channel(s)",
            params=("image",),
        )
    out = cleaned[0] if array.ndim == 2 else cleaned.transpose(1, 2, 0)
    if top is not None:
        return np.clip(np.rint(out * top), 0, top).astype(array.dtype)
    return out.astype(array.dtype)


def denoiser(model, channels: int, device: str = "auto"):
    """(the model, the σ range it was trained for or None) from what :func:`denoise_image` takes as ``model``."""
    from .pretrained import builtin_name as pick
    from .pretrained import is_builtin, load_builtin
    from .store.checkpoint import Checkpoint

    if model is None or is_builtin(model):
        model = load_builtin(pick(model, channels), device)
    if isinstance(model, Checkpoint):
        return model.model, noise_levels(model.objective)
    if getattr(model, "architecture", None) is None:
        raise HourglassError("model must be a trained hourglass model, a checkpoint or a built-in model's name")
    return model, None


def noise_map(model, planes: np.ndarray, sigma, levels: tuple[float, float] | None) -> np.ndarray | None:
    """The (H, W) map of noise levels a model told its level is given for ``planes`` (C, H, W): ``sigma`` (a
    number or a map), or the estimate (:func:`estimate_sigma`) brought inside ``levels``; None for any other model
    (which refuses a ``sigma`` it cannot use only through :func:`check_sigma`)."""
    if not model.architecture.noise_map:
        if sigma is not None:
            check_sigma(float(np.max(sigma)), levels)
        return None
    if sigma is None:
        low, high = levels or (0.0, math.inf)
        sigma = min(max(estimate_sigma(planes), low), high)
    values = np.asarray(sigma, np.float64)
    try:
        level_map = np.broadcast_to(values, planes.shape[1:]).astype(np.float32)
    except ValueError:
        raise HourglassError(
            f"sigma is a number or a map of the image's size {planes.shape[1:]}; got shape {values.shape}",
            params=("sigma",),
        ) from None
    for extreme in (float(level_map.min()), float(level_map.max())):  # a bare model's range is unknown: σ ≥ 0
        check_sigma(extreme, levels or (0.0, math.inf))
    return level_map


def estimate_sigma(image: np.ndarray) -> float:
    """The noise σ of a photo (C, H, W) in [0, 1], from the median absolute value of its finest diagonal Haar
    wavelet coefficients divided by 0.6745 (Donoho & Johnstone 1994): robust to the picture's own edges.

    Parameters
    ----------
    image : ndarray
        (H, W) or (H, W, C) in [0, 1].

    Returns
    -------
    float
        σ in [0, 1] units (Donoho's median absolute deviation of the finest Haar diagonal coefficients).
    """
    planes = np.asarray(image, np.float64)
    h, w = planes.shape[1] // 2 * 2, planes.shape[2] // 2 * 2
    if h == 0 or w == 0:
        return 0.0
    p = planes[:, :h, :w]
    diagonal = (p[:, 0::2, 0::2] - p[:, 0::2, 1::2] - p[:, 1::2, 0::2] + p[:, 1::2, 1::2]) / 2
    return float(np.median(np.abs(diagonal)) / 0.6745)


def noise_levels(objective: dict) -> tuple[float, float] | None:
    """The σ range a checkpoint's objective trained on (Gaussian noise), or None."""
    from .corruptions import GaussianNoise, corruption_from_dict

    corruption = corruption_from_dict(objective.get("corruption"))
    return corruption.levels if isinstance(corruption, GaussianNoise) else None


def check_sigma(sigma: float | None, levels: tuple[float, float] | None) -> None:
    """Refuse a stated noise level the model was not trained for (σ in the images' [0, 1] units)."""
    if sigma is None:
        return
    if not (math.isfinite(sigma) and sigma >= 0):
        raise HourglassError(f"sigma must be a number >= 0 (in [0, 1] units: 25/255 is 0.098), got {sigma}",
                             params=("sigma",))  # fmt: skip
    if levels is None:
        raise HourglassError("the model was not trained with Gaussian noise, so a sigma says nothing to it",
                             params=("sigma",))  # fmt: skip
    low, high = levels
    if not low - 1e-6 <= sigma <= high + 1e-6:
        trained = f"σ = {low:g}" if low == high else f"σ in [{low:g}, {high:g}]"
        raise HourglassError(
            f"sigma {sigma:g} ({255 * sigma:.1f}/255) is outside what the model was trained for ({trained}, "
            f"{255 * low:.0f}–{255 * high:.0f}/255); a model trained over a range that holds it (noise "
            f"gaussian:LOW-HIGH) takes it",
            params=("sigma",),
        )


def denoise_photos(
    checkpoint, source: str | Path, output: str | Path, sigma: float | None = None, tile: int | None = None,
    device: str = "auto",
) -> dict:  # fmt: skip
    """Clean the photo ``source`` (a PNG or JPEG) into ``output``, or every photo of the folder ``source`` into the
    folder ``output`` under the same names: same size, mode and bit depth. ``sigma``: the noise level, checked
    against what the model was trained for. Returns each file's estimated noise σ̂ (:func:`estimate_sigma`), the
    level the model was told, the megapixels and the seconds taken.

    Parameters
    ----------
    checkpoint
        A run folder, a loaded :class:`~hourglass.store.checkpoint.Checkpoint`, or a built-in model: None or
        "builtin" (grey or colour, as each photo is), "builtin:grey", "builtin:colour".
    source : str or Path
        A photo (PNG, JPEG) or a folder of them.
    output : str or Path
        The cleaned photo, or a folder for a folder.
    sigma : float, optional
        The noise level in [0, 1] units, checked against the trained levels (None: estimated for each photo).
        A model told its noise level smooths more as it rises.
    tile : int, optional
        The side of the square tiles (fcn models); None: the model's default.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    dict
        Each photo written, its size, estimated level, the level used and seconds.
    """
    from .data.photos import PHOTO_SUFFIXES, list_photos, read_photo, write_photo
    from .pretrained import builtin_name, is_builtin, load_builtin
    from .store.checkpoint import open_checkpoint

    source, output = Path(source), Path(output)
    if not source.exists():
        raise HourglassError(f"{source}: no such file or folder", params=("input",))
    if output.resolve() == source.resolve():
        raise HourglassError(f"{output}: is the input; no output replaces an input", params=("output",))
    if source.is_dir():
        pairs = [(f, output / f.name) for f in list_photos(source)]
        if output.exists() and not output.is_dir():
            raise HourglassError(f"{output}: is a file; the photos of a folder are written to a folder",
                                 params=("output",))  # fmt: skip
    else:
        if output.is_dir() or output.suffix.lower() not in PHOTO_SUFFIXES:
            raise HourglassError(f"{output}: the output of one photo is a .png, .jpg or .jpeg file", params=("output",))
        pairs = [(source, output)]
    builtin = checkpoint is None or is_builtin(checkpoint)
    if builtin:
        builtin_name(checkpoint, 1)  # a misspelt name is refused before any photo is read
    models: dict = {}

    def model_for(channels: int):
        key = builtin_name(checkpoint, channels) if builtin else "given"
        if key not in models:
            models[key] = load_builtin(key, device) if builtin else open_checkpoint(checkpoint, device=device)
            levels = noise_levels(models[key].objective)
            check_sigma(sigma, levels)
        return models[key]

    photos = [(read_photo(src), dst) for src, dst in pairs]  # every input read (and refused) before any is written
    for photo, dst in photos:
        model_for(photo.channels)  # and every model loaded and σ checked
        jpeg = dst.suffix.lower() in (".jpg", ".jpeg")
        if jpeg and photo.bits == 16:
            raise HourglassError(f"{dst}: JPEG holds 8 bits; a 16-bit photo is written as .png", params=("output",))
    started, done = time.perf_counter(), []
    for photo, dst in photos:
        loaded, estimate = model_for(photo.channels), estimate_sigma(photo.pixels)
        told = None
        if loaded.model.architecture.noise_map:  # the level it is told: stated, or the estimate within its range
            low, high = noise_levels(loaded.objective) or (0.0, math.inf)
            told = sigma if sigma is not None else min(max(estimate, low), high)
        clean = denoise_image(photo.pixels.transpose(1, 2, 0), loaded, told if told is not None else sigma, tile)
        clean = clean[..., None] if clean.ndim == 2 else clean
        photo.format = "JPEG" if dst.suffix.lower() in (".jpg", ".jpeg") else "PNG"
        write_photo(dst, clean.transpose(2, 0, 1), photo)
        done.append({"output": str(dst), "sigma_estimate": estimate, "sigma": told,
                     "megapixels": photo.megapixels, "model": str(loaded.path) if not builtin else
                     f"builtin:{builtin_name(checkpoint, photo.channels)}"})  # fmt: skip
    trained = [noise_levels(m.objective) for m in models.values()]
    return {"photos": done, "seconds": time.perf_counter() - started, "trained_sigma": trained[0] if trained else None}


__all__ = ["blend_window", "check_sigma", "denoise_image", "denoise_photos", "denoiser", "estimate_sigma",
           "noise_levels", "noise_map", "tile_plan", "tile_starts"]  # fmt: skip
