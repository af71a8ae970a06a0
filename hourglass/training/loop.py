"""The one training loop: data → step → hooks. Each step is one ``model(...)`` call between the objective's tensor
arithmetic (:func:`hourglass.training.step.batch_loss`), so DistributedDataParallel and ``torch.compile`` see the
whole forward computation; everything a user may want around it — progress, checkpoints, early stopping, loggers,
their own metrics and stopping rules — is a :class:`~hourglass.training.callbacks.Callback`.

Data stays as one tensor and is sliced by a fresh seeded permutation each epoch (no per-sample DataLoader work);
the optimizer and the learning-rate schedule are factories (:mod:`hourglass.training.config`), by default fused
Adam and a cosine decay. Each epoch ends with a validation pass; the best weights are kept and restored at the end.
A NaN or infinite loss stops training with :class:`TrainingDiverged` and the last good weights in place; Ctrl-C
stops it cleanly with the best weights.

No global state: the model, the data and a ``torch.Generator`` are all the loop touches; the model may be wrapped
(DistributedDataParallel, ``torch.compile``) and the wrapper is what gets called.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from ..devices import check_precision, device_of, resolve, unwrap
from ..errors import HourglassError, TrainingDiverged
from ..store import checkpoint as ckpt
from ..store import runfolder, training_state
from . import distributed, feeds
from . import resume as resume_state
from .callbacks import Callback, CallbackList, built_in
from .config import (
    History,
    OptimizerFactory,
    Schedule,
    TrainConfig,
    adam,  # noqa: F401 - API
    warmup_then_decay,
)
from .progress import ProgressBar
from .step import Objective, StepLosses, batch_loss, first_bad_step, optimizer_step, validate

# Steps between looks at the losses for NaN/Inf. Looking makes the host wait for the device, so the loop looks
# every GUARD_EVERY steps and at each epoch's end, not after every step (see Trainer.epoch for what is guaranteed).
GUARD_EVERY = 50


def fit(
    model: torch.nn.Module,
    objective: Objective,
    x_train,
    x_val,
    config: TrainConfig | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    optimizer: OptimizerFactory = adam,
    schedule: Schedule = warmup_then_decay,
    checkpoint_dir: str | Path | None = None,
    metadata: dict | None = None,
    resume: bool = False,
) -> History:
    """Train ``model`` in place to minimise ``objective`` on ``x_train``; return the :class:`History`.

    On return the model holds the weights of the epoch with the lowest validation loss.

    Parameters
    ----------
    model : torch.nn.Module
        The model to train, in place (perhaps wrapped: DistributedDataParallel, ``torch.compile``).
    objective : Objective
        What to minimise (:class:`~hourglass.losses.Objective`, or anything with its protocol).
    x_train, x_val
        float32 (N, D) arrays or tensors, already in the model's space (scaled); or tuples of such (e.g. images and
        labels), whose rows are shuffled and batched together; or feeds (:class:`hourglass.training.feeds.Feed`), e.g.
        the splits of a file streamed from disk.
    config : TrainConfig, optional
        How to train (default :class:`TrainConfig`'s).
    callbacks : Sequence[Callback], optional
        :class:`~hourglass.training.callbacks.Callback` objects whose hooks run around the loop (loggers, metrics,
        stopping rules); progress, checkpoints and early stopping are built in, from ``config``.
    optimizer : OptimizerFactory, optional
        ``(parameters, config) -> torch.optim.Optimizer``; default fused Adam.
    schedule : Schedule, optional
        ``(step, total_steps, config) -> learning rate``; default linear warm-up, then cosine or constant.
    checkpoint_dir : str or Path, optional
        The run folder. Every ``config.checkpoint_every`` epochs and at the end, one snapshot — the best model, config,
        history and the resume state — is published there all at once (:mod:`hourglass.store.runfolder`); the folder is
        locked against other writers for the whole run.
    metadata : dict, optional
        Keyword arguments for :func:`hourglass.store.checkpoint.checkpoint_files` (scaling, data, ...).
    resume : bool, optional
        Continue the run in ``checkpoint_dir``. Its data and every setting but ``epochs`` must be the same
        (:mod:`hourglass.training.resume`; a difference is refused, naming it), and the resumed run ends bitwise-equal
        to an uninterrupted one. A run with no checkpoint yet starts from the beginning; a finished one is returned as
        it is (``history.notes`` says so).

    Returns
    -------
    History
        What happened, epoch by epoch; the model holds the best epoch's weights.
    """
    config = config or TrainConfig()
    module = unwrap(model)  # what is saved and restored; ``model`` (perhaps a wrapper) is what is called
    if not isinstance(objective, Objective):
        raise HourglassError(
            f"objective must have inputs(batch, generator), check(model) and __call__(output, "
            f"target, ...) (hourglass.Objective does); got {type(objective).__name__}",
            params=("objective",),
        )
    objective.check(module)
    train_data, val_data = feeds.as_feed(x_train), feeds.as_feed(x_val)
    if len(train_data) == 0 or len(val_data) == 0:
        raise HourglassError("training and validation data must each have at least one sample")
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if folder is not None:
        metadata = {
            "training": config.to_dict(),
            **({"objective": objective.to_dict()} if hasattr(objective, "to_dict") else {}),
            **(metadata or {}),
        }
    # Under torchrun, rank 0 alone writes (and locks) the run folder.
    written = folder if distributed.is_main() else None
    with runfolder.writer(written) if written is not None else contextlib.nullcontext():
        trainer = Trainer(
            model, objective, train_data, val_data, config, folder, metadata or {}, callbacks, optimizer, schedule
        )
        if resume and folder is not None:
            resume_state.restore(trainer)
        return trainer.train()


class Trainer:
    """The state of one training run — model, optimizer, generator, history, the best weights, the early-stopping
    count — and the loop over its epochs. Everything the resume state must hold is an attribute here; callbacks
    receive it and may read any of it, and set :attr:`should_stop`.

    Parameters
    ----------
    model
        The model to train, perhaps wrapped (DistributedDataParallel, ``torch.compile``).
    objective
        What training minimises (:class:`~hourglass.losses.Objective`).
    train_data
        The training feed (:mod:`hourglass.training.feeds`).
    val_data
        The validation feed.
    config : TrainConfig
        How to train.
    folder : Path or None
        The run folder snapshots are published in; None: nothing written.
    metadata : dict
        What every snapshot keeps beside the weights (scaling, data, variant, run).
    callbacks : Sequence[Callback], optional
        The user's callbacks, run between the built-in first and last ones.
    optimizer : OptimizerFactory, optional
        ``(parameters, config) -> torch.optim.Optimizer``.
    schedule : Schedule, optional
        ``(step, total_steps, config) -> learning rate``.
    """

    def __init__(
        self,
        model,
        objective,
        train_data,
        val_data,
        config: TrainConfig,
        folder: Path | None,
        metadata: dict,
        callbacks: Sequence[Callback] = (),
        optimizer: OptimizerFactory = adam,
        schedule: Schedule = warmup_then_decay,
    ):
        self.module, self.objective = unwrap(model), objective
        self.device = distributed.join(resolve(config.device))  # under torchrun: this rank's device, group joined
        check_precision(config.precision, self.device)
        distributed.check_objective(objective)
        if min(len(train_data), len(val_data)) < distributed.world_size():
            raise HourglassError(
                f"{distributed.world_size()} processes need at least as many training and validation samples",
                params=("nproc",),
            )
        if device_of(self.module) != self.device:
            self.module.to(self.device)
        self.model = distributed.wrap(model, self.device)  # DistributedDataParallel when there are several ranks
        self.train_data, self.val_data, self.config = train_data.placed(self.device), val_data, config
        self.folder, self.metadata = folder, metadata
        self.optimizer = optimizer(self.module.parameters(), config)
        self.schedule = schedule
        # The whole step's forward computation compiled, model call and loss, so inductor can fuse the loss's
        # elementwise work into its kernels, which compiling the model alone cannot (docs/benchmarks.md).
        self.batch_loss = torch.compile(batch_loss) if config.compile else batch_loss
        self.scaler = torch.amp.GradScaler(self.device.type) if config.precision == "fp16" else None
        self.generator = torch.Generator().manual_seed(config.seed)
        self.history = History()
        self.best_state = self._weights()
        self.epochs_since_best = 0
        self._stop = False
        self.steps_per_epoch = max(1, math.ceil(len(self.train_data) / config.batch_size))
        first, last = built_in(config, folder, ProgressBar)
        self.callbacks = CallbackList([*first, *callbacks, *last], distributed.is_main())
        self.fingerprint = (
            resume_state.fingerprint(
                config, objective, self.module, train_data, val_data, metadata, optimizer, schedule
            )
            if folder is not None
            else None
        )

    @property
    def should_stop(self) -> bool:
        """Set by a callback to end training after this epoch (``history.stopped`` becomes "early_stopped")."""
        return self._stop

    @should_stop.setter
    def should_stop(self, stop: bool) -> None:
        self._stop = bool(stop)
        if stop and self.history.stopped == "completed":
            self.history.stopped = "early_stopped"

    def _weights(self) -> dict:
        return {k: v.detach().clone() for k, v in self.module.state_dict().items()}

    def _finished(self) -> bool:
        done = len(self.history.epochs)
        return done >= self.config.epochs or self.history.stopped == "early_stopped"

    @contextlib.contextmanager
    def best_weights(self):
        """The module holds the best weights, in eval mode, for the block; then its own again."""
        current, training = self._weights(), self.module.training
        self.module.load_state_dict(self.best_state)
        self.module.eval()
        try:
            yield self.module
        finally:
            self.module.load_state_dict(current)
            self.module.train(training)

    def checkpoint(self, with_training_state: bool = True, final: bool = False) -> None:
        """Publish the best model, the history and the resume state as one snapshot; callbacks add to its metadata
        first (:meth:`Callback.on_save_checkpoint`).

        Parameters
        ----------
        with_training_state : bool, optional
            Write this epoch's resume state (False after Ctrl-C or divergence mid-epoch: the resume state stays at
            the last completed epoch).
        final : bool, optional
            This is the training's last snapshot.
        """
        if self.folder is None or not distributed.is_main():
            return
        metadata = dict(self.metadata)
        self.callbacks.on_save_checkpoint(self, metadata, final)
        contents = ckpt.checkpoint_files(
            self.module, self.best_state, history=training_state.history_summary(self.history), **metadata
        )
        contents.update(training_state.history_file(self.history.epochs))
        if with_training_state:
            state = {
                "history": self.history.to_dict(),
                "epochs_since_best": self.epochs_since_best,
                "fingerprint": self.fingerprint,
                "training": self.config.to_dict(),
            }
            contents.update(training_state.training_state_files(self.module, self.optimizer, self.generator, state))
        else:  # the resume state stays at the last completed epoch
            contents.update(ckpt.carried(self.folder, (ckpt.RESUME_WEIGHTS, ckpt.RESUME_STATE)))
        runfolder.publish(self.folder, contents)
        self.callbacks.on_checkpoint(self, self.folder)

    def train(self) -> History:
        config, history = self.config, self.history
        if history.epochs and self._finished():
            history.notes.append(
                f"{self.folder} already trained {len(history.epochs)} epochs "
                f"({history.stopped.replace('_', ' ')}); nothing to do"
            )
            self.module.load_state_dict(self.best_state)
            self.model.eval()
            return history
        history.stopped = "completed"  # until this session says otherwise
        self.callbacks.on_fit_start(self)
        try:
            for epoch in range(len(history.epochs), config.epochs):
                self.callbacks.on_epoch_start(self, epoch)
                record = self.epoch(epoch)
                self.after_epoch(record)
                if self.should_stop:
                    break
        except (KeyboardInterrupt, TrainingDiverged) as error:
            if isinstance(error, KeyboardInterrupt):
                history.stopped = "interrupted"
            self.module.load_state_dict(self.best_state)
            self.callbacks.on_exception(self, error)
            if isinstance(error, TrainingDiverged):
                raise
        finally:
            self.callbacks.on_fit_end(self)
        self.module.load_state_dict(self.best_state)
        self.model.eval()
        return history

    def after_epoch(self, record: dict) -> None:
        """Keep the best weights, then the callbacks (checkpoints, early stopping, the user's); a stop asked for on
        one rank stops all."""
        history = self.history
        if history.best_val_loss is None or record["val_loss"] < history.best_val_loss:
            history.best_epoch, history.best_val_loss = record["epoch"], record["val_loss"]
            self.best_state = self._weights()
            self.epochs_since_best = 0
        else:
            self.epochs_since_best += 1
        self.callbacks.on_epoch_end(self, record)
        if distributed.world_size() > 1:
            self.should_stop = distributed.all_min(0 if self.should_stop else 1, self.device) == 0

    def epoch(self, epoch: int) -> dict:
        """One pass over the training data, then validation; returns the epoch's record (added to the history).

        The losses stay on the device until the host looks at them, every :data:`GUARD_EVERY` steps and at the
        epoch's end; no step waits for the device. What is guaranteed: a NaN or infinite loss is found at the
        latest :data:`GUARD_EVERY` steps after it happened, and training then stops (:meth:`diverged`) with the
        weights of the best epoch — checked finite by its validation pass — in the model and in the run folder,
        naming the epoch and step where the loss first went bad; the steps taken after it are discarded.
        """
        config, n = self.config, len(self.train_data)
        started = time.perf_counter()
        self.model.train()
        # One process draws its noise from the generator that shuffles; several draw from one generator per rank.
        draws = self.generator if distributed.world_size() == 1 else distributed.noise_generator(config.seed, epoch)
        steps, total_steps = self.steps_per_epoch, config.epochs * self.steps_per_epoch
        losses = StepLosses(steps, self.device)
        looked, lr, done = 0, config.lr, 0
        for i, global_batch in enumerate(self.train_data.epoch(self.generator, config.batch_size)):
            lr = self.schedule(epoch * steps + i, total_steps, config)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            batch, weight = distributed.share_batch(global_batch)
            batch = feeds.on_device(self.device, batch)
            loss, terms = self.batch_loss(
                self.model, self.objective, batch, draws, training=True, precision=config.precision
            )
            step_loss = loss if weight == 1.0 else loss * weight  # the global batch's mean, across ranks
            optimizer_step(step_loss, self.optimizer, self.module, self.scaler, config.clip_grad_norm)
            losses.add(loss, terms, feeds.count(batch) if weight else 0)  # this rank's rows of the step
            done += feeds.count(global_batch)
            if (i + 1) % GUARD_EVERY == 0:
                self._guard(losses.losses, looked, i + 1, epoch)
                looked = i + 1
                self.callbacks.on_step_end(self, i + 1, steps, done)
        taken = len(losses.sizes)
        if not taken:
            raise HourglassError(f"the training feed gave no batch in epoch {epoch + 1}")
        self._guard(losses.losses, looked, taken, epoch)
        self.callbacks.on_step_end(self, taken, taken, done)
        sums = losses.sums()  # over the ranks' shares
        val = self.validate()
        seconds = time.perf_counter() - started
        record = {
            "epoch": epoch + 1,
            "train_loss": sums.pop("loss") / n,
            "val_loss": val["loss"],
            **{f"train_{k}": v / n for k, v in sums.items()},
            **{f"val_{k}": v for k, v in val.items() if k != "loss"},
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": done / seconds,
        }
        self.history.epochs.append(record)
        if not math.isfinite(record["val_loss"]):
            self.diverged(f"validation loss became {record['val_loss']} at epoch {epoch + 1}")
        return record

    def validate(self) -> dict[str, float]:
        """The validation loss and terms, the same on every rank (:func:`~hourglass.training.step.validate`)."""
        seed, precision = self.config.seed + 1, self.config.precision
        return validate(self.model, self.module, self.objective, self.val_data, seed, precision, self.device)

    def _guard(self, losses: torch.Tensor, start: int, stop: int, epoch: int) -> None:
        """Stop at the first of steps [start, stop) whose loss is not finite on any rank."""
        bad = first_bad_step(losses, start, stop, self.device)
        if bad is not None:
            self.diverged(f"loss became {bad[1]} at epoch {epoch + 1}, step {bad[0] + 1}")

    def diverged(self, what: str) -> None:
        """Stop with the last good weights in place, saying where. The resume state stays at the
        last completed epoch: the optimizer has taken steps since the loss went bad."""
        self.module.load_state_dict(self.best_state)
        self.history.stopped = "diverged"  # ModelCheckpoint publishes the best weights (on_exception)
        where = f" in {self.folder}" if self.folder is not None else ""
        good = f"epoch {self.history.best_epoch}" if self.history.best_epoch else "initialisation"
        raise TrainingDiverged(
            f"{what}; kept the weights of {good}{where}. Try a lower learning rate (now "
            f"{self.config.lr:g}) or check the data's scale",
            self.history,
            params=("lr",),
        )
