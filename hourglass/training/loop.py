"""The one training loop. Each step is one ``model(...)`` call between the objective's tensor arithmetic
(:func:`hourglass.training.step.batch_loss`), so DistributedDataParallel and ``torch.compile`` see the whole forward
computation.

Data stays as one tensor and is sliced by a fresh seeded permutation each epoch (no per-sample DataLoader work);
Adam uses PyTorch's fused CPU kernel where available. Each epoch ends with a validation pass; the best weights
are kept and restored at the end (and by early stopping). A NaN or infinite loss stops training with
:class:`TrainingDiverged` and the last good weights in place; Ctrl-C stops it cleanly with the best weights.
With ``checkpoint_dir`` every ``checkpoint_every`` epochs writes the best model, the history and a resume state.

No global state: the model, the data and a ``torch.Generator`` are all the loop touches; the model may be wrapped
(DistributedDataParallel, ``torch.compile``) and the wrapper is what gets called.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..store import checkpoint as ckpt
from . import distributed
from . import resume as resume_state
from . import feeds, threads
from ..store import runfolder
from .devices import PRECISIONS, check_precision, resolve
from ..errors import HourglassError, TrainingDiverged
from .progress import Progress
from .step import batch_loss, evaluate_loss, unwrap  # noqa: F401 - part of this module's API

# Steps between looks at the losses for NaN/Inf. Looking makes the host wait for the device, so the loop looks
# every GUARD_EVERY steps and at each epoch's end, not after every step (see _Run.epoch for what is guaranteed).
GUARD_EVERY = 50
NO_STEP = 2**62  # "no bad step" in the guard's all-reduced minimum


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
    device: where to train: "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    precision: "fp32", "bf16" (autocast; CPU and CUDA) or "fp16" (autocast and a gradient scaler; CUDA) — see
        :mod:`hourglass.training.devices`.
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
    device: str = "auto"
    precision: str = "fp32"

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise HourglassError(f"epochs and batch_size must be at least 1 (got {self.epochs}, {self.batch_size})",
                                 params=("epochs", "batch_size"))
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise HourglassError(f"lr must be a positive number, got {self.lr}", params=("lr",))
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise HourglassError(f"weight_decay must be a finite number >= 0, got {self.weight_decay}",
                                 params=("weight_decay",))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise HourglassError(f"seed must be a whole number >= 0, got {self.seed!r}", params=("seed",))
        if self.schedule not in ("cosine", "constant"):
            raise HourglassError(f"unknown schedule {self.schedule!r}; expected cosine or constant",
                                 params=("schedule",))
        if self.patience is not None and self.patience < 1:
            raise HourglassError(f"patience must be at least 1 (or None), got {self.patience}", params=("patience",))
        if self.checkpoint_every < 1:
            raise HourglassError(f"checkpoint_every must be at least 1, got {self.checkpoint_every}",
                                 params=("checkpoint_every",))
        if self.precision not in PRECISIONS:
            raise HourglassError(f"unknown precision {self.precision!r}; expected {', '.join(PRECISIONS)}",
                                 params=("precision",))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """What happened: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``train_<term>``, ``lr``,
    ``seconds``), the best epoch and its validation loss, and why training stopped ("completed",
    "early_stopped", "interrupted" or "diverged"); ``notes``: what a resumed run should know (it started afresh,
    was already finished, or its schedule grew)."""

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stopped: str = "completed"
    notes: list[str] = field(default_factory=list)

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


def fit(model: torch.nn.Module, objective, x_train, x_val, config: TrainConfig | None = None, *,
        checkpoint_dir: str | Path | None = None, metadata: dict | None = None, resume: bool = False) -> History:
    """Train ``model`` in place to minimise ``objective`` on ``x_train``; return the :class:`History`.

    x_train, x_val: float32 (N, D) arrays or tensors, already in the model's space (scaled); or tuples of such
        (e.g. images and labels), whose rows are shuffled and batched together; or feeds (:mod:`hourglass.training.feeds`),
        e.g. the splits of a file streamed from disk (:mod:`hourglass.data.streaming`).
    checkpoint_dir: the run folder. Every ``config.checkpoint_every`` epochs and at the end, one snapshot — the
        best model, config, history and the resume state — is published there all at once
        (:mod:`hourglass.store.runfolder`); the folder is locked against other writers for the whole run.
    metadata: keyword arguments for :func:`hourglass.store.checkpoint.checkpoint_files` (scaling, data, objective, ...).
    resume: continue the run in ``checkpoint_dir``. Its data and every setting but ``epochs`` must be the same
        (:mod:`hourglass.training.resume`; a difference is refused, naming it), and the resumed run ends bitwise-equal to an
        uninterrupted one. A run with no checkpoint yet starts from the beginning; a finished one is returned as
        it is (``history.notes`` says so).

    On return the model holds the weights of the epoch with the lowest validation loss.
    """
    config = config or TrainConfig()
    module = unwrap(model)  # what is saved and restored; ``model`` (perhaps a wrapper) is what is called
    objective.check(module)
    train_data, val_data = feeds.as_feed(x_train), feeds.as_feed(x_val)
    if len(train_data) == 0 or len(val_data) == 0:
        raise HourglassError("training and validation data must each have at least one sample")
    if checkpoint_dir is None:
        return _Run(model, objective, train_data, val_data, config, None, {}).train()
    metadata = {"training": config.to_dict(), **({"objective": objective.to_dict()} if hasattr(objective, "to_dict")
                                                 else {}), **(metadata or {})}
    # Under torchrun, rank 0 alone writes (and locks) the run folder.
    with runfolder.writer(checkpoint_dir) if distributed.is_main() else contextlib.nullcontext():
        run = _Run(model, objective, train_data, val_data, config, Path(checkpoint_dir), metadata)
        if resume:
            run.restore()
        return run.train()


class _Run:
    """The state of one training run — model, optimizer, generator, history, the best weights, the early-stopping
    count — and the loop over its epochs. Everything the resume state must hold is an attribute here."""

    def __init__(self, model, objective, train_data, val_data, config: TrainConfig, folder: Path | None,
                 metadata: dict):
        self.module, self.objective = unwrap(model), objective
        self.device = distributed.join(resolve(config.device))  # under torchrun: this rank's device, group joined
        check_precision(config.precision, self.device)
        distributed.check_objective(objective)
        if min(len(train_data), len(val_data)) < distributed.world_size():
            raise HourglassError(f"{distributed.world_size()} processes need at least as many training and "
                                 "validation samples", params=("nproc",))
        if feeds.device_of(self.module) != self.device:
            self.module.to(self.device)
        self.model = distributed.wrap(model, self.device)  # DistributedDataParallel when there are several ranks
        self.train_data, self.val_data, self.config = train_data.placed(self.device), val_data, config
        self.folder, self.metadata = folder, metadata
        self.optimizer = make_optimizer(model, config)
        self.scaler = torch.amp.GradScaler(self.device.type) if config.precision == "fp16" else None
        self.generator = torch.Generator().manual_seed(config.seed)
        self.history = History()
        self.best_state = self._weights()
        self.epochs_since_best = 0
        self.fingerprint = (resume_state.fingerprint(config, objective, self.module, train_data, val_data, metadata)
                            if folder is not None else None)

    def _weights(self) -> dict:
        return {k: v.detach().clone() for k, v in self.module.state_dict().items()}

    def restore(self) -> None:
        """Continue from the run folder's resume state (if it has one), after checking it is the same run."""
        record = ckpt.read_training_record(self.folder)
        if record is None:
            self.history.notes.append(f"{self.folder} held no checkpoint yet: started from the beginning")
            return
        resume_state.check_same_run(record.get("fingerprint"), self.fingerprint, self.folder)
        ckpt.load_training_state(self.folder, self.module, self.optimizer, self.generator)
        self.history = History(**{**record["history"], "notes": []})
        self.epochs_since_best = int(record.get("epochs_since_best", 0))
        self.best_state = {k: v.detach().clone() for k, v in ckpt.load(self.folder).model.state_dict().items()}
        done, asked = len(self.history.epochs), self.config.epochs
        saved_epochs = (record.get("training") or {}).get("epochs", done)
        if asked > saved_epochs and self.config.schedule == "cosine":
            self.history.notes.append(f"epochs grew from {saved_epochs} to {asked}: the cosine schedule now decays "
                                      f"over {asked} epochs (the {done} already run followed the {saved_epochs}-epoch "
                                      "schedule)")

    def _finished(self) -> bool:
        done = len(self.history.epochs)
        return done >= self.config.epochs or self.history.stopped == "early_stopped"

    def checkpoint(self, with_training_state: bool = True) -> None:
        """Publish the best model, the history and (unless interrupted mid-epoch) the resume state, as one snapshot."""
        if self.folder is None or not distributed.is_main():
            return
        contents = ckpt.checkpoint_files(self.module, self.best_state,
                                         history=ckpt.history_summary(self.history), **self.metadata)
        contents.update(ckpt.history_file(self.history.epochs))
        if with_training_state:
            state = {"history": self.history.to_dict(), "epochs_since_best": self.epochs_since_best,
                     "fingerprint": self.fingerprint, "training": self.config.to_dict()}
            contents.update(ckpt.training_state_files(self.module, self.optimizer, self.generator, state))
        else:  # the resume state stays at the last completed epoch
            contents.update(ckpt.carried(self.folder, (ckpt.RESUME_WEIGHTS, ckpt.RESUME_STATE)))
        runfolder.publish(self.folder, contents)

    def train(self) -> History:
        config, history = self.config, self.history
        if history.epochs and self._finished():
            history.notes.append(f"{self.folder} already trained {len(history.epochs)} epochs "
                                 f"({history.stopped.replace('_', ' ')}); nothing to do")
            self.module.load_state_dict(self.best_state)
            self.model.eval()
            return history
        history.stopped = "completed"  # until this session says otherwise
        n = len(self.train_data)
        steps_per_epoch = math.ceil(n / config.batch_size)
        total_steps = config.epochs * steps_per_epoch
        progress = Progress(config.progress and distributed.is_main(), config.epochs, steps_per_epoch,
                             len(history.epochs))
        try:
            with threads.CoreShare() as share:  # this training's share of the cores, among those running here
                for epoch in range(len(history.epochs), config.epochs):
                    share.adjust()
                    if self.after_epoch(self.epoch(epoch, steps_per_epoch, total_steps), progress):
                        break
        except KeyboardInterrupt:
            history.stopped = "interrupted"
            if history.epochs:  # the best model and history are refreshed; the resume state stays
                self.checkpoint(with_training_state=False)
        finally:
            progress.close()
        self.module.load_state_dict(self.best_state)
        self.model.eval()
        return history

    def after_epoch(self, record: dict, progress: Progress) -> bool:
        """Keep the best weights, report, checkpoint when due; return whether to stop early."""
        config, history, epoch = self.config, self.history, record["epoch"]
        if history.best_val_loss is None or record["val_loss"] < history.best_val_loss:
            history.best_epoch, history.best_val_loss = epoch, record["val_loss"]
            self.best_state = self._weights()
            self.epochs_since_best = 0
        else:
            self.epochs_since_best += 1
        progress.epoch_done(record)
        stop_early = config.patience is not None and self.epochs_since_best >= config.patience
        if stop_early:
            history.stopped = "early_stopped"
        if epoch % config.checkpoint_every == 0 or epoch == config.epochs or stop_early:
            self.checkpoint()
        return stop_early

    def epoch(self, epoch: int, steps_per_epoch: int, total_steps: int) -> dict:
        """One pass over the training data, then validation; returns the epoch's record (added to the history).

        The losses stay on the device until the host looks at them, every :data:`GUARD_EVERY` steps and at the
        epoch's end; no step waits for the device. What is guaranteed: a NaN or infinite loss is found at the
        latest :data:`GUARD_EVERY` steps after it happened, and training then stops (:meth:`diverged`) with the
        weights of the best epoch — checked finite by its validation pass — in the model and in the run folder,
        naming the epoch and step where the loss first went bad; the steps taken after it are discarded.
        """
        config, n = self.config, len(self.train_data)
        started = time.perf_counter()
        if hasattr(self.objective, "start_epoch"):  # lets an objective schedule its weights (KL warm-up)
            self.objective.start_epoch(epoch)
        self.model.train()
        # One process draws its noise from the generator that shuffles; several draw from one generator per rank.
        draws = self.generator if distributed.world_size() == 1 else distributed.noise_generator(config.seed, epoch)
        # Each step's loss and terms go into one tensor allocated per epoch, on the device: no per-step tensor
        # outlives its step: a list of them pinned glibc's heap under the next steps' activations, and the resident
        # memory of an epoch streamed from disk grew by ~1.2 MB a step.
        losses = torch.empty(steps_per_epoch, device=self.device)
        terms_table, sizes, looked = None, [], 0
        for i, global_batch in enumerate(self.train_data.epoch(self.generator, config.batch_size)):
            lr = learning_rate(config, epoch * steps_per_epoch + i, total_steps)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            batch, weight = distributed.share_batch(global_batch)
            batch = feeds.on_device(self.device, batch)
            loss, terms = batch_loss(self.model, self.objective, batch, draws, training=True,
                                     precision=config.precision)
            objective_loss = loss if weight == 1.0 else loss * weight  # the global batch's mean, across ranks
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:  # fp16: scale the loss so small gradients survive, unscale before the step
                self.scaler.scale(objective_loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                objective_loss.backward()
                self.optimizer.step()
            losses[i] = loss.detach()
            if terms_table is None:
                dtype = next(iter(terms.values())).dtype if terms else torch.float32
                terms_table = torch.empty(steps_per_epoch, len(terms), dtype=dtype, device=self.device)
            if terms:
                torch.stack(list(terms.values()), out=terms_table[i])
            sizes.append(feeds.count(batch) if weight else 0)
            if (i + 1) % GUARD_EVERY == 0 or i + 1 == steps_per_epoch:
                self._guard(losses, looked, i + 1, epoch)
                looked = i + 1
        sums = {"loss": feeds.weighted_sum(losses, sizes)}  # float64, summed step by step in order
        for j, name in enumerate(terms):
            sums[name] = feeds.weighted_sum(terms_table[:, j], sizes)
        sums = dict(zip(sums, distributed.all_sum(list(sums.values()), self.device)))  # over the ranks' shares
        val = self.validate()
        record = {"epoch": epoch + 1, "train_loss": sums.pop("loss") / n, "val_loss": val["loss"],
                  **{f"train_{k}": v / n for k, v in sums.items()},
                  **{f"val_{k}": v for k, v in val.items() if k != "loss"},
                  "lr": lr, "seconds": time.perf_counter() - started}
        self.history.epochs.append(record)
        if not math.isfinite(record["val_loss"]):
            self.diverged(f"validation loss became {record['val_loss']} at epoch {epoch + 1}")
        return record

    def validate(self) -> dict[str, float]:
        """The validation loss and terms; with several ranks each takes every W-th row and the sums are
        all-reduced, so every rank sees the same numbers (and takes the same best-epoch and stopping decisions)."""
        seed, precision = self.config.seed + 1, self.config.precision
        size = distributed.world_size()
        if size == 1:
            return evaluate_loss(self.model, self.objective, self.val_data, seed=seed, precision=precision)
        mine = self.val_data.sharded(distributed.rank(), size)
        n_mine, n = len(mine), len(self.val_data)
        # The bare module: DDP's forward may broadcast buffers, a collective the ranks' unequal batch counts here
        # would leave unmatched.
        means = evaluate_loss(self.module, self.objective, mine, seed=seed, precision=precision)  # n >= W rows
        names = sorted(means)  # the same objective, so the same names, on every rank
        totals = distributed.all_sum([means[name] * n_mine for name in names], self.device)
        return {name: total / n for name, total in zip(names, totals)}

    def _guard(self, losses: torch.Tensor, start: int, stop: int, epoch: int) -> None:
        """Look at the losses of steps [start, stop) (one wait for the device, and with several ranks one
        all-reduce); stop at the first step whose loss is not finite on any rank."""
        window = losses[start:stop]
        bad = (~torch.isfinite(window)).nonzero()
        mine = start + int(bad[0, 0]) if len(bad) else NO_STEP
        first = distributed.all_min(mine, self.device)
        if first < NO_STEP:
            value = float(window[first - start]) if first == mine else "non-finite on another process"
            self.diverged(f"loss became {value} at epoch {epoch + 1}, step {first + 1}")

    def diverged(self, what: str) -> None:
        """Stop with the last good weights in place (and published), saying where. The resume state stays at the
        last completed epoch: the optimizer has taken steps since the loss went bad."""
        self.module.load_state_dict(self.best_state)
        self.history.stopped = "diverged"
        self.checkpoint(with_training_state=False)
        where = f" in {self.folder}" if self.folder is not None else ""
        good = f"epoch {self.history.best_epoch}" if self.history.best_epoch else "initialisation"
        raise TrainingDiverged(f"{what}; kept the weights of {good}{where}. Try a lower learning rate (now "
                               f"{self.config.lr:g}) or check the data's scale", self.history, params=("lr",))
