"""The one training loop. Each step is one ``model(...)`` call between the objective's tensor arithmetic
(:func:`batch_loss`), so DistributedDataParallel and ``torch.compile`` see the whole forward computation.

Data stays as one tensor and is sliced by a fresh seeded permutation each epoch (no per-sample DataLoader work);
Adam uses PyTorch's fused CPU kernel where available. Each epoch ends with a validation pass; the best weights
are kept and restored at the end (and by early stopping). A NaN or infinite loss stops training with
:class:`TrainingDiverged` and the last good weights in place; Ctrl-C stops it cleanly with the best weights.
With ``checkpoint_dir`` every ``checkpoint_every`` epochs writes the best model, the history and a resume state.

No global state: the model, the data and a ``torch.Generator`` are all the loop touches; the model may be wrapped
(DistributedDataParallel, ``torch.compile``) and the wrapper is what gets called.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import checkpoint as ckpt
from . import files
from .errors import HourglassError, TrainingDiverged


@dataclass
class TrainConfig:
    """How to train. The defaults are the recommended choice for MNIST-sized data on a laptop CPU.

    epochs: passes over the training data.
    batch_size: samples per step.
    lr: peak learning rate (Adam).
    weight_decay: decoupled weight decay (AdamW); 0 means plain Adam.
    schedule: "cosine" (decay to 0 over all steps) or "constant".
    patience: stop after this many epochs without a better validation loss (None: never).
    seed: seeds the per-epoch shuffles and any noise the objective draws.
    checkpoint_every: epochs between checkpoints when a checkpoint folder is given.
    progress: show a progress bar (a TTY) or one line per epoch (otherwise); False prints nothing.
    """

    epochs: int = 50
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    patience: int | None = None
    seed: int = 0
    checkpoint_every: int = 1
    progress: bool = True

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise HourglassError(f"epochs and batch_size must be at least 1 (got {self.epochs}, {self.batch_size})",
                                 params=("epochs", "batch_size"))
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise HourglassError(f"lr must be a positive number, got {self.lr}", params=("lr",))
        if self.weight_decay < 0:
            raise HourglassError(f"weight_decay must be >= 0, got {self.weight_decay}", params=("weight_decay",))
        if self.schedule not in ("cosine", "constant"):
            raise HourglassError(f"unknown schedule {self.schedule!r}; expected cosine or constant",
                                 params=("schedule",))
        if self.patience is not None and self.patience < 1:
            raise HourglassError(f"patience must be at least 1 (or None), got {self.patience}", params=("patience",))
        if self.checkpoint_every < 1:
            raise HourglassError(f"checkpoint_every must be at least 1, got {self.checkpoint_every}",
                                 params=("checkpoint_every",))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """What happened: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``train_<term>``, ``lr``,
    ``seconds``), the best epoch and its validation loss, and why training stopped ("completed",
    "early_stopped", "interrupted" or "diverged")."""

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stopped: str = "completed"

    def to_dict(self) -> dict:
        return asdict(self)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    # The fused kernel does the whole Adam update in one pass over each tensor: about half the optimizer time.
    opt_class = torch.optim.AdamW if config.weight_decay > 0 else torch.optim.Adam
    kwargs = {"lr": config.lr, "weight_decay": config.weight_decay}
    try:
        return opt_class(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):  # a dtype or device without the fused kernel
        return opt_class(model.parameters(), **kwargs)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate at ``step`` of ``total_steps``: constant, or cosine from ``lr`` down to 0."""
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1 + math.cos(math.pi * step / total_steps))


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DistributedDataParallel (``.module``) or ``torch.compile`` (``._orig_mod``) wrapper."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or model._orig_mod
    return model


def batch_loss(model, objective, batch, generator: torch.Generator | None = None, training: bool = False):
    """One forward computation: the objective's inputs for ``batch``, one ``model(...)`` call, the objective's
    loss and terms. The contractive penalty also gets the encoder f, the one part of a loss that is a function."""
    target, model_input = objective.inputs(batch, generator)
    out = model(model_input, generator=generator)
    return objective(out, target, model_input, getattr(unwrap(model), "encoder", None), generator, training=training)


def _rows(data: tuple[torch.Tensor, ...], index) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """The rows ``index`` of every tensor in ``data`` (one tensor when there is one)."""
    picked = tuple(t[index] for t in data)
    return picked[0] if len(picked) == 1 else picked


def _as_tensors(data) -> tuple[torch.Tensor, ...]:
    """Samples as a tuple of tensors with the same number of rows: floats as float32, anything else (a
    classifier's integer labels) as it is."""
    parts = data if isinstance(data, tuple) else (data,)
    tensors = tuple(t.float() if t.is_floating_point() else t for t in map(torch.as_tensor, parts))
    if len({len(t) for t in tensors}) > 1:
        raise HourglassError(f"the parts of the data have different numbers of rows: {[len(t) for t in tensors]}")
    return tensors


@torch.no_grad()
def evaluate_loss(model, objective, x, batch_size: int = 4096, seed: int = 0) -> dict[str, float]:
    """Mean loss and terms of ``objective`` over all of ``x`` (a tensor, or a tuple of tensors), in eval mode,
    weighted by batch size."""
    was_training = model.training
    model.eval()
    data = _as_tensors(x)
    generator = torch.Generator().manual_seed(seed)
    totals: dict[str, float] = {}
    n = len(data[0])
    for start in range(0, n, batch_size):
        batch = _rows(data, slice(start, start + batch_size))
        rows = min(batch_size, n - start)
        loss, terms = batch_loss(model, objective, batch, generator)
        for name, value in {"loss": loss, **terms}.items():
            totals[name] = totals.get(name, 0.0) + float(value) * rows
    model.train(was_training)
    return {k: v / n for k, v in totals.items()}


class _Progress:
    """A rich progress bar on a terminal, one plain line per epoch elsewhere, nothing when disabled."""

    def __init__(self, enabled: bool, epochs: int, steps_per_epoch: int, first_epoch: int):
        self.enabled, self.epochs = enabled, epochs
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"),
                                TimeRemainingColumn(), TextColumn("{task.fields[status]}"), transient=False)
            self.task = self.bar.add_task("train", total=epochs, completed=first_epoch, status="")
            self.bar.start()

    def epoch_done(self, record: dict) -> None:
        if not self.enabled:
            return
        status = f"loss {record['train_loss']:.4g}  val {record['val_loss']:.4g}"
        if self.bar is not None:
            self.bar.update(self.task, completed=record["epoch"], status=status)
        else:
            print(f"epoch {record['epoch']}/{self.epochs}  {status}  ({record['seconds']:.1f}s)",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def fit(model: torch.nn.Module, objective, x_train, x_val, config: TrainConfig | None = None, *,
        checkpoint_dir: str | Path | None = None, metadata: dict | None = None, resume: bool = False) -> History:
    """Train ``model`` in place to minimise ``objective`` on ``x_train``; return the :class:`History`.

    x_train, x_val: float32 (N, D) arrays or tensors, already in the model's space (scaled); or tuples of such
        (e.g. images and labels), whose rows are shuffled and batched together.
    checkpoint_dir: where to write the best model (``model.safetensors`` + ``config.json``), ``history.jsonl``
        and the resume state, every ``config.checkpoint_every`` epochs and at the end.
    metadata: keyword arguments for :func:`hourglass.checkpoint.save` (scaling, data, objective, ...).
    resume: continue from the resume state in ``checkpoint_dir`` (same model, data and config).

    On return the model holds the weights of the epoch with the lowest validation loss.
    """
    config = config or TrainConfig()
    module = unwrap(model)  # what is saved and restored; ``model`` (perhaps a wrapper) is what is called
    objective.check(module)
    train_data, x_val = _as_tensors(x_train), _as_tensors(x_val)
    if len(train_data[0]) == 0 or len(x_val[0]) == 0:
        raise HourglassError("training and validation data must each have at least one sample")
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    metadata = dict(metadata or {})
    metadata.setdefault("training", config.to_dict())
    if hasattr(objective, "to_dict"):
        metadata.setdefault("objective", objective.to_dict())

    optimizer = make_optimizer(model, config)
    generator = torch.Generator().manual_seed(config.seed)
    history = History()
    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    start_epoch = 0
    if resume:
        if checkpoint_dir is None:
            raise HourglassError("resume needs the checkpoint folder of the run to continue")
        state = ckpt.load_training_state(checkpoint_dir, module, optimizer, generator)
        history = History(**state["history"])
        start_epoch = len(history.epochs)
        best = ckpt.load(checkpoint_dir).model.state_dict()
        best_state = {k: v.detach().clone() for k, v in best.items()}
        if start_epoch >= config.epochs:
            raise HourglassError(f"{checkpoint_dir}: already trained {start_epoch} epochs; ask for more epochs",
                                 params=("epochs",))

    n = len(train_data[0])
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    progress = _Progress(config.progress, config.epochs, steps_per_epoch, start_epoch)
    epochs_since_best = 0

    def write_checkpoint() -> None:
        if checkpoint_dir is None:
            return
        current = {k: v.detach().clone() for k, v in module.state_dict().items()}
        ckpt.save_training_state(checkpoint_dir, module, optimizer, generator, {"history": history.to_dict()})
        module.load_state_dict(best_state)
        ckpt.save(checkpoint_dir, module, history=ckpt.history_summary(history), **metadata)
        module.load_state_dict(current)
        files.write_text(checkpoint_dir / ckpt.HISTORY, "".join(json.dumps(r) + "\n" for r in history.epochs))

    try:
        for epoch in range(start_epoch, config.epochs):
            started = time.perf_counter()
            if hasattr(objective, "start_epoch"):  # lets an objective schedule its weights (KL warm-up)
                objective.start_epoch(epoch)
            model.train()
            order = torch.randperm(n, generator=generator)
            sums: dict[str, float] = {}
            for i in range(steps_per_epoch):
                step = epoch * steps_per_epoch + i
                lr = learning_rate(config, step, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                rows = order[i * config.batch_size:(i + 1) * config.batch_size]
                loss, terms = batch_loss(model, objective, _rows(train_data, rows), generator, training=True)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    module.load_state_dict(best_state)
                    history.stopped = "diverged"
                    write_checkpoint()
                    where = f" in {checkpoint_dir}" if checkpoint_dir is not None else ""
                    good = f"epoch {history.best_epoch}" if history.best_epoch else "initialisation"
                    raise TrainingDiverged(
                        f"loss became {loss_value} at epoch {epoch + 1}, step {i + 1}; kept the weights of "
                        f"{good}{where}. Try a lower learning rate (now {config.lr:g}) or check the data's scale",
                        history)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                w = len(rows)
                sums["loss"] = sums.get("loss", 0.0) + loss_value * w
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + float(value) * w
            val = evaluate_loss(model, objective, x_val, seed=config.seed + 1)
            record = {"epoch": epoch + 1, "train_loss": sums.pop("loss") / n, "val_loss": val["loss"],
                      **{f"train_{k}": v / n for k, v in sums.items()},
                      **{f"val_{k}": v for k, v in val.items() if k != "loss"},
                      "lr": lr, "seconds": time.perf_counter() - started}
            history.epochs.append(record)
            if not math.isfinite(record["val_loss"]):
                module.load_state_dict(best_state)
                history.stopped = "diverged"
                write_checkpoint()
                raise TrainingDiverged(f"validation loss became {record['val_loss']} at epoch {epoch + 1}; kept "
                                       "the last good weights", history)
            if history.best_val_loss is None or record["val_loss"] < history.best_val_loss:
                history.best_epoch, history.best_val_loss = epoch + 1, record["val_loss"]
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                epochs_since_best = 0
            else:
                epochs_since_best += 1
            progress.epoch_done(record)
            last = epoch + 1 == config.epochs
            stop_early = config.patience is not None and epochs_since_best >= config.patience
            if stop_early:
                history.stopped = "early_stopped"
            if (epoch + 1) % config.checkpoint_every == 0 or last or stop_early:
                write_checkpoint()
            if stop_early:
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
        if checkpoint_dir is not None and history.epochs:
            # The resume state stays at the last completed epoch; the best model and history are refreshed.
            module.load_state_dict(best_state)
            ckpt.save(checkpoint_dir, module, history=ckpt.history_summary(history), **metadata)
    finally:
        progress.close()
    module.load_state_dict(best_state)
    model.eval()
    return history
