"""Where in an image its error lies: per-pixel anomaly maps, the classic baseline of defect localisation
(Bergmann et al. 2019, "Improving unsupervised defect segmentation by applying structural similarity to
autoencoders").

An image's anomaly score is its squared reconstruction error summed over pixels; left per pixel, the same error is
a map of where the image departs from what the model learned. Two maps:

- ``"squared"``: Σ_c (x − x̂)² at each pixel; it sums to the image's score.
- ``"ssim"``: 1 − SSIM(x, x̂) at each pixel (Wang et al. 2004), comparing the local means, contrasts and
  correlation of x and x̂ under an 11 × 11 Gaussian window. An autoencoder blurs what it cannot encode, so x̂ keeps
  a defect's mean brightness but not its structure: the squared map sees the defect only where its brightness
  differs, and flags every fine edge the model smooths; the structural map sees the missing structure itself.
  It is the default because it localises defects better on textures (docs: the anomaly guide's map benchmark).

An image of the model's own input size is reconstructed whole; a photo of any other size (a model trained on photo
patches) by the tiles denoising uses (:func:`hourglass.tiling.reconstruct_tiled`), and its score is the mean error
of a patch of the model's input size, so that it compares with the training patches' errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data.photos import PHOTO_SUFFIXES, list_photos, read_photo
from .errors import HourglassError
from .metrics import reconstruct
from .scoring import judge_scores
from .store import checkpoint as ckpt
from .store.checkpoint import open_checkpoint
from .store.files import atomic_path, check_output, write_csv_block
from .tiling import reconstruct_tiled
from .use import samples_for

MAP_KINDS = ("ssim", "squared")  # the first is the default
SATURATES = {"ssim": 1.0, "squared": 0.0625}  # full colour: SSIM 0, or a pixel off by a quarter of its range


def squared_error_map(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Σ_c (x − x̂)² at each pixel.

    Parameters
    ----------
    x, x_hat : ndarray
        Images and their reconstructions, (B, C, H, W), in the model's space.

    Returns
    -------
    ndarray
        (B, H, W) float64, each map summing to its image's squared reconstruction error.
    """
    return ((np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)) ** 2).sum(axis=1)


def ssim_map(x: np.ndarray, x_hat: np.ndarray, data_range: float = 1.0, window: int = 11, sigma: float = 1.5):
    """1 − SSIM(x, x̂) at each pixel, averaged over channels.

    SSIM = (2 μ_x μ_x̂ + c₁)(2 σ_xx̂ + c₂) / ((μ_x² + μ_x̂² + c₁)(σ_x² + σ_x̂² + c₂)), local statistics under a
    Gaussian window of ``window`` pixels and standard deviation ``sigma``, c₁ = (0.01 L)², c₂ = (0.03 L)², L =
    ``data_range`` (Wang et al. 2004, eq. 13 and §III-C). Edges are mirrored, so the map has the image's size.

    Parameters
    ----------
    x, x_hat : ndarray
        Images and their reconstructions, (B, C, H, W).
    data_range : float, optional
        L, the span of the pixel values (1 for [0, 1]).
    window : int, optional
        The Gaussian window's side, in pixels (odd; shrunk to fit a small image).
    sigma : float, optional
        The window's standard deviation, in pixels.

    Returns
    -------
    ndarray
        (B, H, W) float64 in [0, 2]: 0 where the two agree.
    """
    a, b = (torch.as_tensor(np.asarray(v, np.float64)) for v in (x, x_hat))
    channels, height, width = a.shape[1:]
    window = min(window, 2 * ((min(height, width) - 1) // 2) + 1)  # mirroring needs a half-window inside the image
    offsets = torch.arange(window, dtype=torch.float64) - window // 2
    g = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = torch.outer(g, g) / g.sum() ** 2

    def local_mean(t: torch.Tensor) -> torch.Tensor:
        padded = F.pad(t, (window // 2,) * 4, mode="reflect")
        return F.conv2d(padded, kernel.expand(channels, 1, window, window), groups=channels)

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a, var_b = local_mean(a * a) - mu_a**2, local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ssim = (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return (1 - ssim.mean(dim=1)).numpy()


def anomaly_map(x: np.ndarray, x_hat: np.ndarray, kind: str = MAP_KINDS[0]) -> np.ndarray:
    """The ``kind`` map of images against their reconstructions.

    Parameters
    ----------
    x, x_hat : ndarray
        Images and their reconstructions, (B, C, H, W), in the model's space.
    kind : str, optional
        "ssim" (:func:`ssim_map`, the default) or "squared" (:func:`squared_error_map`): :data:`MAP_KINDS`.

    Returns
    -------
    ndarray
        (B, H, W) float64 maps.
    """
    check_kind(kind)
    return squared_error_map(x, x_hat) if kind == "squared" else ssim_map(x, x_hat)


def check_kind(kind: str) -> None:
    """Refuse, in one line, a map kind other than :data:`MAP_KINDS`."""
    if kind not in MAP_KINDS:
        raise HourglassError(f"map kind must be one of {', '.join(MAP_KINDS)}, got {kind!r}", params=("map_kind",))


def heat_map(image: np.ndarray, values: np.ndarray, saturates: float) -> np.ndarray:
    """A map as colour laid over its image: the colour (matplotlib's inferno) grows more opaque with the value, full
    at ``saturates``, so normal regions show the image itself.

    Parameters
    ----------
    image : ndarray
        (C, H, W) in [0, 1] (colour is shown grey).
    values : ndarray
        (H, W), the map.
    saturates : float
        The value at which the colour is full (:data:`SATURATES`).

    Returns
    -------
    ndarray
        (H, W, 3) uint8 RGB.
    """
    from .extras import needs

    colormaps = needs("matplotlib", "anomaly maps' heat maps").colormaps
    level = np.clip(np.nan_to_num(values / saturates, nan=1.0), 0, 1)
    grey = np.clip(image.mean(axis=0), 0, 1)[..., None]
    colour = colormaps["inferno"](level)[..., :3]
    alpha = 0.85 * level[..., None]
    return np.rint(255 * ((1 - alpha) * grey + alpha * colour)).astype(np.uint8)


def score_images(
    checkpoint,
    data: str | Path,
    output: str | Path,
    maps: str | Path,
    kind: str = MAP_KINDS[0],
    contamination: float = 0.01,
    split: str | None = None,
    device: str = "auto",
) -> dict:
    """Score images as :func:`hourglass.use.score_file` does, and write each one's anomaly map into the folder
    ``maps``: ``NAME.npy`` (the map's values, (H, W) float32) and ``NAME.png`` (a heat map over the image).

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`, of an image model.
    data : str or Path
        A photo or a folder of photos (PNG or JPEG; any size a model trained on photo patches can tile), or the
        images of a file or dataset of the model's input size (a split of it: ``split``).
    output : str or Path
        The scores CSV: image (or row), anomaly_score, training_percentile, is_anomaly.
    maps : str or Path
        The folder for the maps (made if missing; never the folder of the images).
    kind : str, optional
        "ssim" (the default: structural, 1 − SSIM) or "squared" (Σ_c (x − x̂)²): :data:`MAP_KINDS`.
    contamination : float, optional
        The expected share of anomalies (:func:`hourglass.scoring.judge_scores`).
    split : str, optional
        Which split of a named dataset (default test).
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    dict
        What was written and how many images were flagged.
    """
    data_path = Path(str(data))
    output = check_output(output, (".csv",), inputs=(data_path,) if data_path.is_file() else ())
    folder = Path(maps)
    check_kind(kind)
    if folder.exists() and not folder.is_dir():
        raise HourglassError(f"{folder}: is a file; maps go into a folder", params=("maps",))
    if data_path.exists() and folder.resolve() == (data_path if data_path.is_dir() else data_path.parent).resolve():
        raise HourglassError(f"{folder}: is the images' own folder; write the maps elsewhere", params=("maps",))
    checkpoint = open_checkpoint(checkpoint, device=device)
    if len(checkpoint.model.architecture.input_shape) != 3:
        raise HourglassError("maps are per-pixel errors of images; this model's rows are not images", params=("maps",))
    from PIL import Image

    from .extras import needs

    needs("matplotlib", "anomaly maps' heat maps")  # said before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    names, scores = [], []
    for name, x, x_hat, area in images_and_reconstructions(checkpoint, data, split):
        squared = squared_error_map(x[None], x_hat[None])[0]
        scores.append(float(squared.sum()) * area)
        values = squared if kind == "squared" else ssim_map(x[None], x_hat[None])[0]
        with atomic_path(folder / f"{name}.npy") as path, open(path, "wb") as f:
            np.save(f, values.astype(np.float32))
        with atomic_path(folder / f"{name}.png") as path:
            Image.fromarray(heat_map(x, values, SATURATES[kind])).save(path, format="PNG")
        names.append(name)
    r = judge_scores(checkpoint, np.asarray(scores, np.float64), contamination)
    with atomic_path(output) as path, open(path, "w", newline="") as f:
        write_csv_block(f, {"image": np.asarray(names, dtype=object), "anomaly_score": r["scores"],
                            "training_percentile": r["training_percentile"], "is_anomaly": r["is_anomaly"]},
                        header=True)  # fmt: skip
    return {"output": output, "maps": folder, "kind": kind, "n": len(names), "flagged": int(r["is_anomaly"].sum()),
            "threshold": r["threshold"], "contamination": contamination}  # fmt: skip


def images_and_reconstructions(
    checkpoint: ckpt.Checkpoint, data, split: str | None
) -> Iterator[tuple[str, np.ndarray, np.ndarray, float]]:
    """``(name, x, x̂, area)`` for each image of ``data``: x and x̂ (C, H, W) in the model's space; ``area`` the
    model's input pixels over the image's (1 for an image of the model's size: its score is its whole error)."""
    arch = checkpoint.model.architecture
    shape = tuple(arch.input_shape)
    path = Path(str(data))
    files = list_photos(path) if path.is_dir() else [path] if path.suffix.lower() in PHOTO_SUFFIXES else []
    if not files:  # a file or dataset of images the model's size: the rows plain `score` reads, scaled alike
        samples, x = samples_for(checkpoint, data, split)
        x_hat = reconstruct(checkpoint.model, x)
        for i in range(len(x)):
            name = f"row-{samples.ids[i] if samples.ids is not None else i}"
            yield name, x[i].reshape(shape), x_hat[i].reshape(shape), 1.0
        return
    if checkpoint.scaling.kind not in ("none", "divide"):  # photos are read into [0, 1]: the space of these two
        raise HourglassError(
            f"this model scales each pixel on its own ({checkpoint.scaling.kind}); score its images as a file of "
            "rows, not as photos",
            params=("data",),
        )
    taken: set[str] = set()
    for f in files:
        pixels = read_photo(f).pixels
        if pixels.shape[0] != shape[0]:
            raise HourglassError(f"{f}: {pixels.shape[0]} channel(s); the model's images have {shape[0]}")
        name = f.stem if f.stem not in taken else f"{f.stem}_{f.suffix[1:]}"
        taken.add(name)
        if pixels.shape == shape:
            yield name, pixels, reconstruct(checkpoint.model, pixels.reshape(1, -1)).reshape(shape), 1.0
        else:
            x_hat = reconstruct_tiled(checkpoint.model, pixels[None])[0]
            yield name, pixels, x_hat, shape[1] * shape[2] / (pixels.shape[1] * pixels.shape[2])
