"""The training data as the loop reads it: tensors of rows, picked by index, placed on the training's device.

``data`` below is a tuple of tensors with the same number of rows (samples, or samples and labels). The loop reads
a split through a *feed*: ``len(feed)`` rows, ``feed.epoch(generator, batch_size)`` (one epoch's shuffled
batches), ``feed.chunks(batch_size)`` (the rows in order) and ``feed.sharded(rank, size)`` (every size-th row).
:class:`InMemory` is the feed of tensors; :class:`hourglass.data.streaming.StreamedSplit` that of a file read
block by block.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import torch

from ..errors import HourglassError


def rows(data: tuple[torch.Tensor, ...], index) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """The rows ``index`` (a slice, or a 1-d tensor of row numbers) of every tensor in ``data`` (one tensor when
    there is one)."""
    # index_select gathers whole rows with one vectorised copy, faster than t[index] (advanced indexing) for the
    # batches the training loop gathers every step (docs/benchmarks.md).
    picked = tuple(t[index] if isinstance(index, slice) else t.index_select(0, index) for t in data)
    return picked[0] if len(picked) == 1 else picked


def on_device(device: torch.device, batch):
    """A batch (a tensor or a tuple) on ``device``: a no-op where it is already there; from pinned host memory the
    copy is asynchronous."""
    if isinstance(batch, tuple):
        return tuple(t.to(device, non_blocking=True) for t in batch)
    return batch.to(device, non_blocking=True)


def place(data: tuple[torch.Tensor, ...], device: torch.device) -> tuple[torch.Tensor, ...]:
    """The training data where the loop will read it: on the device when it fits in half of the device's free
    memory (always, for the CPU), else in pinned host memory, from which each batch is copied as it is needed."""
    if device.type == "cpu":
        return data
    size = sum(t.numel() * t.element_size() for t in data)
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else float("inf")
    if size <= free / 2:
        return tuple(t.to(device) for t in data)
    return tuple(t.pin_memory() for t in data) if device.type == "cuda" else data


class InMemory:
    """A feed of rows held as a tuple of tensors (on the host or the device)."""

    def __init__(self, data: tuple[torch.Tensor, ...]):
        self.data = data

    def __len__(self) -> int:
        return len(self.data[0])

    def epoch(self, generator: torch.Generator, batch_size: int):
        """Batches of a fresh permutation drawn from ``generator``: ⌈len / batch_size⌉ of them, the last smaller."""
        order = torch.randperm(len(self), generator=generator).to(self.data[0].device)
        for start in range(0, len(self), batch_size):
            yield rows(self.data, order[start : start + batch_size])

    def chunks(self, batch_size: int):
        for start in range(0, len(self), batch_size):
            yield rows(self.data, slice(start, start + batch_size))

    def sharded(self, rank: int, size: int) -> InMemory:
        return InMemory(tuple(t[rank::size] for t in self.data))

    def placed(self, device: torch.device) -> InMemory:
        return InMemory(place(self.data, device))

    def fingerprint(self) -> dict:
        from .resume import data_fingerprint

        return data_fingerprint(self.data)


@runtime_checkable
class Feed(Protocol):
    """What the loop reads a split through (see the module's docstring)."""

    def __len__(self) -> int: ...

    def epoch(self, generator: torch.Generator, batch_size: int) -> Iterator: ...

    def chunks(self, batch_size: int) -> Iterator: ...

    def sharded(self, rank: int, size: int) -> Feed: ...

    def placed(self, device: torch.device) -> Feed: ...

    def fingerprint(self) -> dict: ...


def as_feed(data) -> Feed:
    """A feed (see the module's docstring): a feed as it is, else arrays or tensors (or a tuple of them) held
    in memory."""
    return data if isinstance(data, Feed) else InMemory(as_tensors(data))


def count(batch) -> int:
    """The rows in a batch (a tensor or a tuple of tensors)."""
    return len(batch[0] if isinstance(batch, tuple) else batch)


def weighted_sum(values, sizes: list[int]) -> float:
    """Σ value_i · size_i in float64, in step order (one transfer from the device for all the steps); ``values``
    is a 1-d tensor or a list of scalars, and only its first ``len(sizes)`` entries count."""
    total = 0.0
    if not isinstance(values, torch.Tensor):
        values = torch.stack([torch.as_tensor(v) for v in values])
    for value, size in zip(values.double().tolist(), sizes, strict=False):
        total += value * size
    return total


def as_tensors(data) -> tuple[torch.Tensor, ...]:
    """Samples as a tuple of tensors with the same number of rows: floats as float32, anything else (a
    classifier's integer labels) as it is."""
    parts = data if isinstance(data, tuple) else (data,)
    tensors = tuple(t.float() if t.is_floating_point() else t for t in map(torch.as_tensor, parts))
    if len({len(t) for t in tensors}) > 1:
        raise HourglassError(f"the parts of the data have different numbers of rows: {[len(t) for t in tensors]}")
    return tensors
