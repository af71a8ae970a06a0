"""Training on a folder of photographs of any sizes: random square patches, fresh each epoch.

Each epoch draws ``count`` P×P patches: every image gets a share in proportion to the positions a patch can take
in it (at least one each). Of an image's share, first come the patches of a grid that covers it (in a random
order, as many as the share allows), so that an epoch with enough patches sees every pixel of every photo, corners
too; the rest lie at uniformly random positions. Each patch is then flipped and rotated by one of the
eight symmetries of the square (the dihedral augmentation of DnCNN, Zhang et al. 2017) — all from the epoch's
``torch.Generator``, so a seeded run draws the same patches and another epoch draws others.

Validation patches come from *held-out images* (about a tenth of the folder, at least one, chosen by the seed),
never from crops of the training images, and are the same every epoch, so that epochs compare.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import HourglassError
from ..scaling import Scaling
from .photos import list_photos, read_photo

HELD_OUT = 0.1  # the share of a folder's images kept for validation
PATCHES_PER_EPOCH = 10_000  # the default number of patches an epoch draws (the CLI's and run files' too)
VAL_PATCHES = 2048  # validation patches, drawn once from the held-out images (fewer if fewer are asked per epoch)


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Where tiles of ``tile`` pixels start along an axis of ``size`` ≥ ``tile`` pixels, at most ``tile −
    overlap`` apart, the first at 0 and the last ending at ``size``."""
    if size <= tile:
        return [0]
    count = math.ceil((size - tile) / (tile - overlap)) + 1
    return sorted({round(i * (size - tile) / (count - 1)) for i in range(count)})


def allocate(sizes: list[tuple[int, int]], patch: int, count: int) -> np.ndarray:
    """Patches per image: ``count`` shared in proportion to each image's positions for a ``patch``×``patch`` crop
    (largest remainders), at least one each."""
    positions = np.array([(h - patch + 1) * (w - patch + 1) for h, w in sizes], np.float64)
    spare = count - len(sizes)
    share = spare * positions / positions.sum()
    n = np.floor(share).astype(np.int64)
    n[np.argsort(share - n)[::-1][: spare - int(n.sum())]] += 1
    return n + 1


def draw_patches(images: list[np.ndarray], patch: int, count: int, generator: torch.Generator, augment: bool = True):
    """``count`` random ``patch``×``patch`` crops of ``images`` (each float32 (C, H, W)), as rows (count, C·P·P),
    in a random order; with ``augment``, each under a random flip and rotation by a multiple of 90°.

    Parameters
    ----------
    images : list[ndarray]
        Images, each (C, H, W) in [0, 1].
    patch : int
        P, the side of a square patch.
    count : int
        How many patches.
    generator : torch.Generator
        The draw's randomness.
    augment : bool, optional
        Each patch under one of the square's eight symmetries.

    Returns
    -------
    Tensor
        (count, C·P·P) rows.
    """
    counts = allocate([im.shape[1:] for im in images], patch, count)
    channels = images[0].shape[0]
    out = torch.empty(int(counts.sum()), channels, patch, patch)
    row = 0
    for image, n in zip(images, counts.tolist(), strict=True):
        pixels = torch.from_numpy(image)
        grid = [(y, x) for y in tile_starts(image.shape[1], patch, 0) for x in tile_starts(image.shape[2], patch, 0)]
        covering = [grid[i] for i in torch.randperm(len(grid), generator=generator)[:n].tolist()]
        ys = torch.randint(0, image.shape[1] - patch + 1, (n - len(covering),), generator=generator).tolist()
        xs = torch.randint(0, image.shape[2] - patch + 1, (n - len(covering),), generator=generator).tolist()
        for y, x in covering + list(zip(ys, xs, strict=True)):
            out[row] = pixels[:, y : y + patch, x : x + patch]
            row += 1
    if augment:  # the eight symmetries: rotate by k·90°, then transpose or not
        turns = torch.randint(0, 8, (len(out),), generator=generator)
        for k in range(8):
            chosen = turns == k
            if chosen.any():
                turned = torch.rot90(out[chosen], k % 4, dims=(2, 3))
                out[chosen] = turned.transpose(2, 3) if k >= 4 else turned
    order = torch.randperm(len(out), generator=generator)
    return out[order].reshape(len(out), -1)


@dataclass
class PatchFeed:
    """A feed (:class:`hourglass.training.feeds.Feed`) of patches of ``images``: ``count`` per epoch, drawn afresh
    from each epoch's generator when ``fresh``, else the one draw of ``seed`` every time (validation).

    Parameters
    ----------
    images : list[ndarray]
        Images, each (C, H, W) in [0, 1].
    patch : int
        P, the side of a square patch.
    count : int
        How many patches.
    seed : int
        Seeds the fixed draw (validation).
    fresh : bool, optional
        Draw new patches each epoch from the trainer's generator (training); else one fixed draw.
    digest : str, optional
        The sha256 of the photos.
    shard : tuple[int, int], optional
        (rank, size): this process's share of every draw under torchrun.
    """

    images: list[np.ndarray]
    patch: int
    count: int
    seed: int
    fresh: bool = True
    digest: str = ""
    shard: tuple[int, int] = (0, 1)
    _fixed: torch.Tensor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        rank, size = self.shard
        return len(range(rank, self.count, size))

    @property
    def n_features(self) -> int:
        return self.images[0].shape[0] * self.patch * self.patch

    def fixed(self) -> torch.Tensor:
        """The patches of ``seed`` (one draw, kept)."""
        if self._fixed is None:
            rank, size = self.shard
            drawn = draw_patches(self.images, self.patch, self.count, torch.Generator().manual_seed(self.seed))
            self._fixed = drawn[rank::size]
        return self._fixed

    def epoch(self, generator: torch.Generator, batch_size: int):
        if self.fresh:  # every rank draws the same patches from the same generator and keeps its share
            rank, size = self.shard
            patches = draw_patches(self.images, self.patch, self.count, generator)[rank::size]
        else:
            patches = self.fixed()
        for start in range(0, len(patches), batch_size):
            yield patches[start : start + batch_size]

    def chunks(self, batch_size: int):
        patches = self.fixed()
        for start in range(0, len(patches), batch_size):
            yield patches[start : start + batch_size]

    def sharded(self, rank: int, size: int) -> PatchFeed:
        return replace(self, shard=(rank, size), _fixed=None)

    def placed(self, device) -> PatchFeed:
        return self  # patches are cut on the host; the loop sends each batch to the device

    def fingerprint(self) -> dict:
        return {"photos": self.digest, "patch_size": self.patch, "patches": self.count, "fresh": self.fresh}


@dataclass
class PhotoPatches:
    """A folder of photos with :class:`~hourglass.data.Dataset`'s face for :func:`hourglass.workflow.train`:
    ``scaled("train")`` is a feed of fresh patches of the training images, ``scaled("val")`` (and "test") fixed
    patches of the held-out ones. Pixels are read into [0, 1], so the scaling is none.

    Parameters
    ----------
    name : str
        The folder's name.
    train_images : list[ndarray]
        The training photos, each (C, H, W) in [0, 1].
    val_images : list[ndarray]
        The held-out photos the validation patches come from.
    patch : int
        P, the side of a square patch.
    count : int
        How many patches.
    seed : int
        Seeds the draws.
    digest : str
        The sha256 of the photos (the resume fingerprint's).
    held_out : list[str]
        The held-out photos' file names.
    source : dict, optional
        How a checkpoint opens the same patches again.
    """

    name: str
    train_images: list[np.ndarray]
    val_images: list[np.ndarray]
    patch: int
    count: int
    seed: int
    digest: str
    held_out: list[str]
    source: dict = field(default_factory=dict)
    columns = None
    is_image = True
    default_loss = "mse"  # a photo's quality is measured by squared error (PSNR)
    clips_noise = False  # and its noise unclipped, as the denoising literature measures it

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.train_images[0].shape[0], self.patch, self.patch)

    @property
    def n_features(self) -> int:
        return math.prod(self.shape)

    def fit_scaling(self, kind: str = "auto") -> Scaling:
        if kind not in ("auto", "none"):
            raise HourglassError(f"photos are read into [0, 1]; scaling {kind} does not apply", params=("scaling",))
        return Scaling("none")

    def scaled(self, name: str, scaling: Scaling | None = None) -> PatchFeed:
        if name == "train":
            return PatchFeed(self.train_images, self.patch, self.count, self.seed, True, self.digest)
        val = min(VAL_PATCHES, self.count)
        return PatchFeed(self.val_images, self.patch, val, self.seed + 1, False, self.digest)

    def split(self, name: str) -> tuple[np.ndarray, None]:
        """Patches of a split as an array (N, D): one draw for "train", the fixed ones for "val" and "test"."""
        return self.scaled(name).fixed().numpy(), None

    def scaled_range(self, scaling: Scaling | None = None) -> tuple[float, float]:
        return 0.0, 1.0

    def measured_rows(self, split: str, limit: int | None = None) -> tuple[np.ndarray, None]:
        """The split's fixed patches (for "train", one draw)."""
        return self.split(split)

    def record(self) -> dict:
        """How a checkpoint remembers this data: where it came from, one sample's shape, column names."""
        return {**self.source, "dataset": self.name, "shape": list(self.shape), "columns": self.columns}


def open_photos(
    folder: str | Path, patch_size: int, patches_per_epoch: int = PATCHES_PER_EPOCH, seed: int = 0
) -> PhotoPatches:
    """The photos of ``folder`` (PNG, JPEG; any sizes; grey unless one is colour, then all as colour) as
    :class:`PhotoPatches`. Refused, in one line: a folder with fewer than two images (one must be held out), an
    image smaller than the patch, an unreadable image.

    Parameters
    ----------
    folder : str or Path
        A folder of photos (PNG, JPEG; any sizes).
    patch_size : int
        P, the side of the square patches.
    patches_per_epoch : int, optional
        Patches drawn afresh each epoch.
    seed : int, optional
        Seeds which photos are held out and every draw of patches.

    Returns
    -------
    PhotoPatches
        The photos, behind :class:`~hourglass.data.TrainingData`'s face.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HourglassError(f"{folder}: patches are cut from a folder of photos; this is not a folder")
    if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 2:
        raise HourglassError(f"patch_size must be a whole number >= 2, got {patch_size!r}", params=("patch_size",))
    files = list_photos(folder)
    if len(files) < 2:
        raise HourglassError(
            f"{folder}: holds one photo; validation patches come from held-out photos, so give at least two",
            params=("data",),
        )
    photos = [read_photo(f).pixels for f in files]
    colour = any(p.shape[0] == 3 for p in photos)
    photos = [np.repeat(p, 3, axis=0) if colour and p.shape[0] == 1 else p for p in photos]
    for f, p in zip(files, photos, strict=True):
        if min(p.shape[1:]) < patch_size:
            raise HourglassError(
                f"{f}: {p.shape[2]}×{p.shape[1]} is smaller than a {patch_size}×{patch_size} patch",
                params=("patch_size",),
            )
    if patches_per_epoch < len(files):
        raise HourglassError(
            f"patches_per_epoch must be at least the {len(files)} photos (one each), got {patches_per_epoch}",
            params=("patches_per_epoch",),
        )
    held = sorted(np.random.default_rng(seed).permutation(len(files))[: max(1, round(HELD_OUT * len(files)))])
    digest = hashlib.sha256()
    for p in photos:
        digest.update(np.asarray(p.shape).tobytes() + p.tobytes())
    record = {
        "path": str(folder.resolve()),
        "seed": int(seed),
        "photos": {"patch_size": patch_size, "patches_per_epoch": patches_per_epoch},
    }
    return PhotoPatches(
        folder.name,
        [p for i, p in enumerate(photos) if i not in held],
        [photos[i] for i in held],
        patch_size,
        patches_per_epoch,
        int(seed),
        digest.hexdigest(),
        [files[i].name for i in held],
        record,
    )
