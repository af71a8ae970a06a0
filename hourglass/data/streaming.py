"""Data larger than memory: a file read block by block (:mod:`hourglass.data.sources`), split, scaled and shuffled
on the way to the training loop, with never more than a few blocks and one shuffle buffer in memory.

**Splits.** Row r of the file belongs to the validation split when u(seed, r) < 0.1, to the test split when
0.1 ≤ u < 0.2, else to training, where u is a hash of the seed and the row number (SplitMix64) read as a number
in [0, 1): the same 80/10/10 proportions as an in-memory split, each row decided on its own, so the split is
the same however the file is cut into blocks, and a file sorted by class or time is split evenly along it.

**Shuffling.** Each epoch visits the blocks in a seeded random order and passes their rows through a shuffle
buffer: rows accumulate until the buffer holds ``buffer_rows``; the buffer is shuffled; batches are taken from
it until half of it is left, and the rest waits to be mixed with the next blocks. Every training row is used
exactly once per epoch, and the number of steps is the in-memory loop's. What this gives up against a full
permutation: a batch holds rows from blocks near each other in that epoch's block order (within about
``buffer_rows`` rows of the file's order), so two rows far apart in the file never meet in one batch unless
their blocks happen to be drawn together. When the whole split fits in one buffer (and is one block) the order
*is* a full permutation — the in-memory loop's own, drawn from the same generator, so the two runs are equal.

**One pass first.** :func:`open_stream` reads the whole file once before training: it validates every block
(NaN, infinities, wrong dtype, a missing value or text in a table — each error names the file, the row in the
file and the column, before any checkpoint is touched), gathers the training split's per-column statistics for
the scaling (:class:`~hourglass.scaling.ColumnStats`) — with up to :data:`EXACT_PCA_MAX_FEATURES` columns its
co-moment matrix too, so the PCA baseline is exact and costs one eigendecomposition, not another pass — and a
sha256 of the data, which is what a resumed run checks it is given the same data by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import HourglassError
from ..scaling import ColumnStats, Scaling
from .dataset import MEASURED_ROWS, SPLITS
from .sources import open_source

EXACT_PCA_MAX_FEATURES = 4096  # up to here the first pass gathers the D×D co-moment (128 MiB at most) for exact PCA
BUFFER_BYTES = 128 * 2**20  # the shuffle buffer: ~128 MiB of float32 rows (about 42,000 MNIST rows)
SPLIT_BOUNDS = {"val": (0.0, 0.1), "test": (0.1, 0.2), "train": (0.2, 1.0)}

_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Steele, Lea & Flood 2014): a bijection of uint64 that scatters its bits."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def row_uniforms(seed: int, start: int, stop: int) -> np.ndarray:
    """u(seed, r) in [0, 1) for rows r in [start, stop): float64 with 53 random bits each."""
    rows = np.arange(start, stop, dtype=np.uint64)
    key = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    return (_splitmix64(rows ^ key) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def split_mask(seed: int, split: str, start: int, stop: int) -> np.ndarray:
    """Which rows of [start, stop) belong to ``split`` (bool (stop − start,))."""
    low, high = SPLIT_BOUNDS[split]
    u = row_uniforms(seed, start, stop)
    return (u >= low) & (u < high)


@dataclass
class StreamedSplit:
    """One split of a streamed file, as the training loop reads it: ``len()`` rows, shuffled batches
    (:meth:`epoch`) or batches in file order (:meth:`chunks`) as float32 tensors on the host, scaled by ``scaling``.
    ``shard=(rank, size)`` keeps every size-th row of the split (in file order) from ``rank`` on."""

    source: Any  # a block reader of hourglass.data.sources
    split: str
    seed: int
    counts: list[int]  # rows of this split in each block
    digest: str
    scaling: Scaling = field(default_factory=Scaling)
    shard: tuple[int, int] = (0, 1)
    buffer_rows: int = 0
    stats: ColumnStats | None = None  # the training split's, gathered by the first pass

    def moments(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """The split's mean (D,), covariance (D, D) and row count in the model's (scaled) space, from the first
        pass's co-moments (None where they were not gathered: more than :data:`EXACT_PCA_MAX_FEATURES` columns).
        The scaling is affine per column, x' = (x − shift) / scale, so the scaled covariance is
        C / (n · scale scaleᵀ) and no second pass over the file is needed."""
        if self.stats is None or self.stats.comoment is None or self.shard != (0, 1):
            return None
        s = self.scaling
        scale = np.broadcast_to(np.asarray(s.scale if s.kind != "none" else 1.0, np.float64), self.stats.mean.shape)
        shift = np.asarray(s.shift if s.kind != "none" else 0.0, np.float64)
        covariance = self.stats.comoment / self.stats.count / np.outer(scale, scale)
        return (self.stats.mean - shift) / scale, covariance, self.stats.count

    def __post_init__(self):
        if self.buffer_rows <= 0:
            self.buffer_rows = max(1, BUFFER_BYTES // (4 * self.source.n_features))
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    def __len__(self) -> int:
        rank, size = self.shard
        total = int(self.offsets[-1])
        return max(0, (total - rank + size - 1) // size)

    @property
    def n_features(self) -> int:
        return self.source.n_features

    def scaled(self, scaling: Scaling) -> StreamedSplit:
        return replace(self, scaling=scaling)

    def sharded(self, rank: int, size: int) -> StreamedSplit:
        return replace(self, shard=(rank, size))

    def placed(self, device) -> StreamedSplit:
        return self  # batches are read to the host and copied to the device one at a time

    def fingerprint(self) -> dict:
        """What a resumed run compares: the split, its size and the sha256 of the file's data."""
        return {
            "streamed": str(self.source.path),
            "split": self.split,
            "seed": self.seed,
            "rows": len(self),
            "sha256": self.digest,
        }

    def block(self, i: int) -> np.ndarray:
        """This split's rows of block ``i`` (of this shard), scaled: float32 (n, D)."""
        if self.counts[i] == 0:
            return np.empty((0, self.n_features), np.float32)
        start, stop = self.source.blocks[i]
        rows = self.source.read(i)[split_mask(self.seed, self.split, start, stop)]
        rank, size = self.shard
        if size > 1:  # the split's rows numbered from 0 in file order; this shard keeps those ≡ rank (mod size)
            first = int(self.offsets[i])
            rows = rows[(rank - first) % size :: size]
        return self.scaling.transform(rows)

    def _nonempty(self) -> list[int]:
        return [i for i, c in enumerate(self.counts) if c]

    def chunks(self, batch_size: int):
        """The rows in file order, ``batch_size`` at a time (the last batch smaller), as float32 tensors."""
        pending = np.empty((0, self.n_features), np.float32)
        for i in self._nonempty():
            pending = np.concatenate([pending, self.block(i)])
            usable = len(pending) // batch_size * batch_size
            for start in range(0, usable, batch_size):
                yield torch.from_numpy(pending[start : start + batch_size])
            pending = pending[usable:]
        if len(pending):
            yield torch.from_numpy(pending)

    def epoch(self, generator: torch.Generator, batch_size: int):
        """One epoch's shuffled batches (see the module's docstring): every row once, ⌈len / batch_size⌉ batches,
        all full but the last. The block order and each buffer's shuffle are drawn from ``generator``."""
        blocks = self._nonempty()
        if len(blocks) > 1:
            blocks = [blocks[j] for j in torch.randperm(len(blocks), generator=generator).tolist()]
        parts, held = [], 0  # the buffer, as the blocks' rows (joined once per shuffle, not once per block)
        for j, i in enumerate(blocks):
            parts.append(self.block(i))
            held += len(parts[-1])
            last = j == len(blocks) - 1
            if held < self.buffer_rows and not last:
                continue
            buffer = np.concatenate(parts)[torch.randperm(held, generator=generator).numpy()]
            taken = held if last else (held - self.buffer_rows // 2) // batch_size * batch_size
            for start in range(0, taken, batch_size):
                yield torch.from_numpy(buffer[start : min(start + batch_size, taken)])
            parts, held = [buffer[taken:]], held - taken


@dataclass
class StreamedDataset:
    """A file too large for memory, with :class:`~hourglass.data.Dataset`'s face: ``name``, ``shape``,
    ``columns``, ``source`` (how to load it again), ``n_features``, ``is_image`` and ``split(name)`` — which gives
    a :class:`StreamedSplit` instead of an array. ``train_stats``: the training split's column statistics."""

    name: str
    reader: Any  # a block reader of hourglass.data.sources
    seed: int
    counts: dict[str, list[int]]
    train_stats: ColumnStats
    digest: str
    shape: tuple[int, ...] = ()
    columns: list[str] | None = None
    source: dict = field(default_factory=dict)
    streamed = True
    default_loss = None  # as an in-memory Dataset's
    clips_noise = True

    @property
    def n_features(self) -> int:
        return self.reader.n_features

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def split(self, name: str) -> StreamedSplit:
        if name not in SPLITS:
            raise HourglassError(f"unknown split {name!r} of streamed data; expected one of train, val, test")
        return StreamedSplit(
            self.reader,
            name,
            self.seed,
            self.counts[name],
            self.digest,
            stats=self.train_stats if name == "train" else None,
        )

    def fit_scaling(self, kind: str = "auto") -> Scaling:
        """The scaling into the model's space, from the training split's statistics."""
        return Scaling.from_stats(self.train_stats, kind, image=self.is_image)

    def scaled(self, name: str, scaling: Scaling) -> StreamedSplit:
        return self.split(name).scaled(scaling)

    def scaled_range(self, scaling: Scaling) -> tuple[float, float]:
        """The smallest and largest value of the scaled training split."""
        return scaling.scaled_range(self.train_stats.min, self.train_stats.max)

    def measured_rows(self, split: str, limit: int = MEASURED_ROWS) -> tuple[np.ndarray, None]:
        """The first ``limit`` rows of a split (no labels), read from disk: what the measures beyond the error
        look at."""
        return next(self.split(split).chunks(limit)).numpy(), None

    def record(self) -> dict:
        """How a checkpoint remembers this data: where it came from, one sample's shape, column names."""
        return {**self.source, "dataset": self.name, "shape": list(self.shape), "columns": self.columns}


def open_stream(path: str | Path, seed: int = 0, **table_options) -> StreamedDataset:
    """``path`` (.npy, uncompressed .npz, .parquet or a PNG folder) opened for streaming, after one pass over all
    of it that validates every row, counts each split, gathers the training split's column statistics and
    hashes the data (see the module's docstring)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise HourglassError(f"seed must be a whole number >= 0, got {seed!r}", params=("seed",))
    path = Path(path)
    reader = open_source(path, **table_options)
    counts: dict[str, list[int]] = {name: [] for name in SPLITS}
    stats = ColumnStats(reader.n_features, comoments=reader.n_features <= EXACT_PCA_MAX_FEATURES)
    digest = hashlib.sha256()
    for i, (start, stop) in enumerate(reader.blocks):
        rows = reader.read(i)
        digest.update(rows.tobytes())
        u = row_uniforms(seed, start, stop)
        for name, (low, high) in SPLIT_BOUNDS.items():
            mask = (u >= low) & (u < high)
            counts[name].append(int(mask.sum()))
            if name == "train":
                stats.add(rows[mask])
    empty = [name for name in SPLITS if sum(counts[name]) == 0]
    if empty:
        raise HourglassError(
            f"{path}: {reader.n_rows} rows leave the {' and '.join(empty)} split empty; stream "
            "a larger file or load it in memory",
            params=("stream",),
        )
    record = {"path": str(path.resolve()), "seed": int(seed), "streamed": True}
    if getattr(reader, "spec", None) is not None:
        record["table"] = reader.spec.to_dict()
    return StreamedDataset(
        path.stem, reader, int(seed), counts, stats, digest.hexdigest(), reader.shape, reader.columns, record
    )
