"""Images of any size through a model that sees square tiles: overlapping tiles, blended without seams.

A model sees rows of a fixed kind: for the conv and MLP archs, patches of the size it was trained on; for the fully
convolutional arch ("fcn"), square tiles of any even size. :func:`reconstruct_tiled` cuts an image of any size into
overlapping square tiles (after padding it by reflection, so that no tile sees an edge the photo does not have),
runs them through ``model.reconstruct`` a batch at a time, and blends them back with a raised-cosine window: each
pixel is the weighted mean of the tiles that cover it, with weights that fall smoothly to (nearly) 0 toward a
tile's edges, where a convolution sees the least of its neighbourhood. Memory is the image plus one batch of tiles.
Denoising a photo (:mod:`hourglass.denoising`) and mapping its anomalies (:mod:`hourglass.maps`) both go this way.

Through the identity network the blend gives the image back exactly: every weight multiplies the same value.
"""

from __future__ import annotations

import numpy as np

from .data.patches import tile_starts
from .errors import HourglassError
from .metrics import reconstruct

FCN_TILE = 256  # an fcn model's tile side: ~1.14 × the work of the image itself with FCN_OVERLAP
FCN_OVERLAP = 16  # the fewest pixels two fcn tiles share; a deeper network's share is its receptive field's reach
TILE_BATCH = 8  # tiles per model call


def blend_window(tile: int, overlap: int) -> np.ndarray:
    """The 2-d weight of a tile's pixels, (tile, tile) float64: 1 inside, rising as a raised cosine
    ½(1 − cos(π (i + ½) / overlap)) over the ``overlap`` pixels at each edge (never 0: every pixel counts).

    Parameters
    ----------
    tile : int
        The side of the square tiles (fcn models); None: the model's default.
    overlap : int
        How many pixels neighbouring tiles share.

    Returns
    -------
    ndarray
        (tile, tile) weights, never 0.
    """
    ramp = np.ones(tile)
    if overlap > 0:
        rise = 0.5 * (1 - np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap))
        ramp[:overlap] = np.minimum(ramp[:overlap], rise)
        ramp[tile - overlap :] = np.minimum(ramp[tile - overlap :], rise[::-1])
    return np.outer(ramp, ramp)


def tile_plan(model, height: int, width: int, tile: int | None = None) -> tuple[int, int]:
    """The tiles ``model`` sees an image in: an fcn takes ``tile`` (default :data:`FCN_TILE`, shrunk to the image),
    any other arch exactly the patches it was trained on, overlapping by half.

    Parameters
    ----------
    model
        A trained model of square images (its ``architecture.input_shape`` is (C, P, P)).
    height, width : int
        The image's size, in pixels.
    tile : int, optional
        An fcn model's tile side (even, at least twice :data:`FCN_OVERLAP`); None: the default.

    Returns
    -------
    tuple of int
        (tile side, overlap), in pixels.
    """
    arch = getattr(model, "architecture", None)
    if arch is None or len(arch.input_shape) != 3 or arch.input_shape[1] != arch.input_shape[2]:
        raise HourglassError("whole images of any size need a model trained on square images (patches of photos)")
    if arch.kind != "fcn":
        return arch.input_shape[1], arch.input_shape[1] // 2
    if tile is not None and (tile < 2 * FCN_OVERLAP or tile % 2):
        raise HourglassError(
            f"tile must be an even number of pixels >= {2 * FCN_OVERLAP}, got {tile}", params=("tile",)
        )
    overlap = max(FCN_OVERLAP, 2 * (2 * len(arch.widths) + 2))  # each 3×3 conv at ½ reaches 2 pixels further
    side = max(min(tile or FCN_TILE, max(height, width) + 2 * overlap), 2 * overlap)
    return side + side % 2, overlap


def reconstruct_tiled(
    model, images: np.ndarray, tile: int | None = None, level_map: np.ndarray | None = None
) -> np.ndarray:
    """x̂ of each of ``images``, any size, made tile by tile (:func:`tile_plan`) and blended without seams
    (:func:`blend_window`).

    Parameters
    ----------
    model
        A trained model of square images.
    images : ndarray
        (B, C, H, W) in the model's space (photos: [0, 1]).
    tile : int, optional
        An fcn model's tile side; None: the default.
    level_map : ndarray, optional
        (H, W) noise levels, for a model told its noise level: each tile's rows carry their part of the map after
        the pixels.

    Returns
    -------
    ndarray
        (B, C, H, W) float64 reconstructions.
    """
    _, c, height, width = images.shape
    if level_map is not None:
        images = np.concatenate([images, np.broadcast_to(level_map, (len(images), 1, height, width))], axis=1)
    side, overlap = tile_plan(model, height, width, tile)
    margin = overlap  # reflect-padding beyond every edge: border pixels are inside a tile's trusted middle too
    padded = np.pad(
        images,
        ((0, 0), (0, 0), (margin, margin + max(0, side - height - 2 * margin)),
         (margin, margin + max(0, side - width - 2 * margin))),
        mode="symmetric",
    )  # fmt: skip
    ph, pw = padded.shape[2:]
    window = blend_window(side, overlap)
    places = [(b, y, x) for b in range(len(images)) for y in tile_starts(ph, side, overlap)
              for x in tile_starts(pw, side, overlap)]  # fmt: skip
    total = np.zeros(padded.shape, np.float64)
    weight = np.zeros((ph, pw), np.float64)
    for start in range(0, len(places), TILE_BATCH):
        batch = places[start : start + TILE_BATCH]
        rows = np.stack([padded[b, :, y : y + side, x : x + side] for b, y, x in batch]).reshape(len(batch), -1)
        out = reconstruct(model, rows).reshape(len(batch), c, side, side)
        for (b, y, x), tile_out in zip(batch, out, strict=True):
            total[b, :c, y : y + side, x : x + side] += tile_out * window
    for y in tile_starts(ph, side, overlap):
        for x in tile_starts(pw, side, overlap):
            weight[y : y + side, x : x + side] += window
    return (total / weight)[:, :c, margin : margin + height, margin : margin + width]
