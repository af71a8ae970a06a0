"""Photographs as files: PNG and JPEG of any size, grey or colour, 8- or 16-bit, read into [0, 1] and written back
in the mode and bit depth they came in.

A photo in the library is float32 (C, H, W) in [0, 1]: C = 1 (grey) or 3 (colour). :class:`Photo` keeps what is
needed to write a result as its source was written: the mode, the bit depth and an alpha channel (kept aside,
untouched: it is not part of the picture to clean).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import HourglassError

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")
# The modes Pillow decodes these files into, and what each becomes: (channels, bits, has alpha).
MODES = {
    "L": (1, 8, False),
    "LA": (1, 8, True),
    "I;16": (1, 16, False),
    "I;16B": (1, 16, False),
    "I": (1, 16, False),  # 16-bit grey PNGs are decoded as 32-bit "I" by some Pillow builds
    "RGB": (3, 8, False),
    "RGBA": (3, 8, True),
}


@dataclass
class Photo:
    """pixels: float32 (C, H, W) in [0, 1]; mode: Pillow's mode of the file ("L", "RGB", "I;16", ...); bits: 8 or
    16; alpha: the alpha channel (H, W) as it was read, or None; format: "PNG" or "JPEG"."""

    pixels: np.ndarray
    mode: str
    bits: int
    alpha: np.ndarray | None = None
    format: str = "PNG"

    @property
    def channels(self) -> int:
        return self.pixels.shape[0]

    @property
    def megapixels(self) -> float:
        return self.pixels.shape[1] * self.pixels.shape[2] / 1e6


def list_photos(folder: str | Path) -> list[Path]:
    """The PNG and JPEG files of ``folder`` (not its subfolders), sorted by name."""
    folder = Path(folder)
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES)
    if not files:
        raise HourglassError(f"{folder}: no .png, .jpg or .jpeg files in this folder")
    return files


def read_photo(path: str | Path) -> Photo:
    """One PNG or JPEG; a truncated or unreadable file, a mode other than grey or colour (8 or 16 bits), or a 16-bit
    colour PNG (which Pillow decodes to 8 bits, so its depth could not be written back) is one error naming it."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode, fmt = im.mode, im.format or "PNG"
            if fmt == "PNG" and mode in ("RGB", "RGBA") and _png_bit_depth(path) == 16:
                raise HourglassError(f"{path}: a 16-bit colour PNG; denoise reads 8-bit colour and 8/16-bit grey")
            if mode == "P":  # a palette is its colours
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                mode = im.mode
            if mode not in MODES:
                raise HourglassError(
                    f"{path}: mode {mode} is not a photo this reads; expected grey (L, 16-bit I;16) or colour (RGB), "
                    "with or without alpha"
                )
            array = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise HourglassError(f"{path}: not a readable PNG or JPEG ({e})") from None
    channels, bits, has_alpha = MODES[mode]
    alpha = None
    if has_alpha:
        alpha, array = array[..., -1].copy(), array[..., :-1]
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    top = 2**bits - 1
    if bits == 16 and (array.min() < 0 or array.max() > top):
        raise HourglassError(f"{path}: {mode} pixels span [{array.min()}, {array.max()}], beyond 16 bits")
    pixels = array.astype(np.float32) / top
    pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    return Photo(np.ascontiguousarray(pixels), mode, bits, alpha, "JPEG" if fmt == "JPEG" else "PNG")


def _png_bit_depth(path: Path) -> int:
    """The bit depth field of a PNG's IHDR chunk (byte 24 of the file)."""
    with open(path, "rb") as f:
        head = f.read(25)
    return head[24] if len(head) == 25 else 8


def to_integers(pixels: np.ndarray, bits: int) -> np.ndarray:
    """[0, 1] floats (C, H, W) to the integers of a ``bits``-bit image (H, W) or (H, W, C), rounded and clipped."""
    top = 2**bits - 1
    values = np.clip(np.rint(np.asarray(pixels, np.float64) * top), 0, top).astype(
        np.uint16 if bits == 16 else np.uint8
    )
    return values[0] if values.shape[0] == 1 else values.transpose(1, 2, 0)


def write_photo(path: str | Path, pixels: np.ndarray, like: Photo) -> Path:
    """Write ``pixels`` (C, H, W) in [0, 1] to ``path`` in ``like``'s mode, bit depth and format (its alpha
    channel put back), atomically: the file appears whole or not at all."""
    from PIL import Image

    from ..store.files import atomic_path

    path = Path(path)
    values = to_integers(pixels, like.bits)
    if like.alpha is not None:
        values = np.dstack([values, like.alpha])
    if like.bits == 16:
        image = Image.fromarray(values.astype(np.uint16))
        image = image if image.mode == like.mode else image.convert(like.mode)
    else:
        image = Image.fromarray(values, like.mode)
    options = {"quality": 95} if like.format == "JPEG" else {}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        image.save(f, format=like.format, **options)
    return path
