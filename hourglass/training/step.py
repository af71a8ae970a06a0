"""One training step's computation, and the same over a whole split: the objective's inputs, one ``model(...)``
call, the objective's loss and named terms — nothing else, so DistributedDataParallel and ``torch.compile`` see it
all."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from ..devices import autocast, device_of, unwrap
from . import distributed, feeds


@runtime_checkable
class Objective(Protocol):
    """What the loop needs of an objective (:class:`hourglass.Objective` is one): the (target, model input) of a
    batch, a check of the model it will train, and (loss, named terms) of a model's output — loss a scalar tensor,
    terms a dict of scalar tensors."""

    def inputs(self, x: torch.Tensor, generator: torch.Generator | None = None): ...

    def check(self, model) -> None: ...

    def __call__(
        self,
        out,
        x: torch.Tensor,
        x_in: torch.Tensor | None = None,
        encoder=None,
        generator=None,
        training: bool = False,
    ): ...


def _float32(out):
    """A model's output (a tensor or a tuple of tensors, e.g. :class:`~hourglass.models.Output`) in float32."""
    if isinstance(out, torch.Tensor):
        return out.float()
    return type(out)(*(t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in out))


def batch_loss(
    model, objective, batch, generator: torch.Generator | None = None, training: bool = False, precision: str = "fp32"
):
    """One forward computation: the objective's inputs for ``batch``, one ``model(...)`` call (under autocast
    for bf16/fp16), the objective's loss and terms — always in float32. The contractive penalty also gets the
    encoder f, the one part of a loss that is a function."""
    target, model_input = objective.inputs(batch, generator)
    options = getattr(objective, "model_options", {})  # what the model call needs besides x (the IWAE's K)
    with autocast(precision, model_input.device):
        out = model(model_input, generator=generator, **options)
    if precision != "fp32":  # losses, KL and the importance-weighted bound are computed in fp32
        out = _float32(out)
    return objective(out, target, model_input, getattr(unwrap(model), "encoder", None), generator, training=training)


@torch.no_grad()
def evaluate_loss(
    model, objective, x, batch_size: int = 4096, seed: int = 0, precision: str = "fp32"
) -> dict[str, float]:
    """Mean loss and terms of ``objective`` over all of ``x`` (a tensor, or a tuple of tensors, on the model's
    device or the host, or a feed: :mod:`hourglass.training.feeds`), in eval mode, weighted by batch size."""
    was_training = model.training
    model.eval()
    feed = feeds.as_feed(x)
    device = device_of(model)
    generator = torch.Generator().manual_seed(seed)
    totals: dict[str, float] = {}
    for batch in feed.chunks(batch_size):
        rows = feeds.count(batch)
        loss, terms = batch_loss(model, objective, feeds.on_device(device, batch), generator, precision=precision)
        for name, value in {"loss": loss, **terms}.items():
            totals[name] = totals.get(name, 0.0) + float(value) * rows
    model.train(was_training)
    return {k: v / len(feed) for k, v in totals.items()}


def optimizer_step(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    module: torch.nn.Module,
    scaler: torch.amp.GradScaler | None = None,
    clip: float | None = None,
) -> None:
    """Backpropagate ``loss`` and take one step of ``optimizer``: the gradients' norm clipped to ``clip`` if given;
    with a ``scaler`` (fp16), the loss scaled so small gradients survive, and unscaled before the clip and the step."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        optimizer.step()


NO_STEP = 2**62  # "no bad step" in the guard's all-reduced minimum


def validate(model, module, objective, val_data, seed: int, precision: str, device) -> dict[str, float]:
    """The validation loss and terms of ``val_data``; with several ranks each takes every W-th row and the sums are
    all-reduced, so every rank sees the same numbers (and takes the same best-epoch and stopping decisions).
    ``model`` is what training calls (perhaps wrapped), ``module`` the bare model inside it."""
    size = distributed.world_size()
    if size == 1:
        return evaluate_loss(model, objective, val_data, seed=seed, precision=precision)
    mine = val_data.sharded(distributed.rank(), size)
    n_mine, n = len(mine), len(val_data)
    # The bare module: DDP's forward may broadcast buffers, a collective the ranks' unequal batch counts here
    # would leave unmatched.
    means = evaluate_loss(module, objective, mine, seed=seed, precision=precision)  # n >= W rows
    names = sorted(means)  # the same objective, so the same names, on every rank
    totals = distributed.all_sum([means[name] * n_mine for name in names], device)
    return {name: total / n for name, total in zip(names, totals, strict=True)}


def first_bad_step(losses: torch.Tensor, start: int, stop: int, device) -> tuple[int, float | str] | None:
    """The first of steps [start, stop) whose loss is not finite on any rank, and its value (one wait for the
    device, and with several ranks one all-reduce); None when all are finite."""
    window = losses[start:stop]
    bad = (~torch.isfinite(window)).nonzero()
    mine = start + int(bad[0, 0]) if len(bad) else NO_STEP
    first = distributed.all_min(mine, device)
    if first == NO_STEP:
        return None
    return first, float(window[first - start]) if first == mine else "non-finite on another process"


class StepLosses:
    """Each step's loss and named terms of one epoch, in one tensor each on the device: no per-step tensor outlives
    its step, so none pins the allocator's memory under the next steps' activations (docs/benchmarks.md). A feed
    may give more batches than planned (the tensors then double) or fewer."""

    def __init__(self, steps: int, device):
        self.device = device
        self.losses = torch.empty(steps, device=device)
        self.table: torch.Tensor | None = None
        self.names: list[str] = []
        self.sizes: list[int] = []  # this rank's rows of each step

    def add(self, loss: torch.Tensor, terms: dict, rows: int) -> None:
        i = len(self.sizes)
        if i == len(self.losses):
            self.losses = torch.cat([self.losses, torch.empty_like(self.losses)])
            self.table = None if self.table is None else torch.cat([self.table, torch.empty_like(self.table)])
        self.losses[i] = loss.detach()
        if self.table is None:  # the first step: the terms' names and dtype
            dtype = next(iter(terms.values())).dtype if terms else torch.float32
            self.table = torch.empty(len(self.losses), len(terms), dtype=dtype, device=self.device)
            self.names = list(terms)
        if terms:
            torch.stack(list(terms.values()), out=self.table[i])
        self.sizes.append(rows)

    def sums(self) -> dict[str, float]:
        """The loss and each term summed over the steps' rows (float64, step by step in order), over all ranks."""
        sums = {"loss": feeds.weighted_sum(self.losses, self.sizes)}
        for j, name in enumerate(self.names):
            assert self.table is not None  # made at the first step
            sums[name] = feeds.weighted_sum(self.table[:, j], self.sizes)
        return dict(zip(sums, distributed.all_sum(list(sums.values()), self.device), strict=True))
