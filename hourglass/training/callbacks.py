"""Callbacks: code that runs around the training loop without editing it.

    fit ─ on_fit_start
          ├─ each epoch: on_epoch_start ─ steps (on_step_end at the loop's host syncs) ─ validation ─ on_epoch_end
          │                 (a snapshot to write: on_save_checkpoint; written: on_checkpoint)
          ├─ Ctrl-C or a diverged loss: on_exception
          └─ on_fit_end

The hook names are Lightning's and Keras's. Every hook receives the :class:`~hourglass.training.loop.Trainer`
(its ``module``, ``optimizer``, ``config``, ``history``, ``objective``, ``folder``); a callback stops the training by
setting ``trainer.should_stop = True``. Hooks run on rank 0 only under torchrun, unless the callback sets
``rank_zero_only = False``; a stop asked for on any rank stops every rank.

No hook adds a wait for the device: ``on_step_end`` is called where the loop already looks at the losses (every
:data:`~hourglass.training.loop.GUARD_EVERY` steps and at the epoch's end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .loop import Trainer


class Callback:
    """The base class: every hook does nothing. Override the ones you need.

    ``record`` in :meth:`on_epoch_end` is the epoch's row of the history: ``epoch`` (1-based), ``train_loss``,
    ``val_loss``, ``train_<term>`` and ``val_<term>`` for each named term of the objective, ``lr``, ``seconds``
    and ``samples_per_s``.
    """

    rank_zero_only: bool = True

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """``epoch`` is 0-based: the number of epochs already done."""

    def on_step_end(self, trainer: Trainer, step: int, steps: int, samples: int) -> None:
        """At a host sync: ``step`` steps of the epoch's ``steps`` (an estimate for a streamed feed) are done,
        covering ``samples`` rows."""

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None: ...

    def on_save_checkpoint(self, trainer: Trainer, metadata: dict, final: bool) -> None:
        """A snapshot is about to be published: add to ``metadata`` (keyword arguments of
        :func:`hourglass.store.checkpoint.checkpoint_files`) what it should hold; ``final``: the training's last."""

    def on_checkpoint(self, trainer: Trainer, folder) -> None:
        """A snapshot was published in ``folder`` (the run folder)."""

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        """Training stops on ``error`` (KeyboardInterrupt or TrainingDiverged); the best weights are in the model."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """Always called last, whatever happened; ``trainer.history.stopped`` says how training ended."""


class CallbackList:
    """The callbacks of one training, each hook called on each in order (on rank 0 only, unless a callback says
    otherwise)."""

    def __init__(self, callbacks, main_process: bool):
        self.callbacks = [c for c in callbacks if main_process or not c.rank_zero_only]

    def __iter__(self):
        return iter(self.callbacks)

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for callback in self.callbacks:
                getattr(callback, hook)(*args, **kwargs)

        return call


@runtime_checkable
class EpochScheduled(Protocol):
    """An objective whose weights change with the epoch (the VAE's KL warm-up)."""

    def start_epoch(self, epoch: int) -> None: ...


class ObjectiveSchedule(Callback):
    """Tells a scheduled objective (:class:`EpochScheduled`) which epoch begins: the KL warm-up."""

    rank_zero_only = False

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        if isinstance(trainer.objective, EpochScheduled):
            trainer.objective.start_epoch(epoch)


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without a better validation loss (the trainer keeps the count, so a resumed
    run goes on counting); the best weights are restored at the end as always."""

    rank_zero_only = False  # every rank sees the same validation loss and takes the same decision

    def __init__(self, patience: int):
        self.patience = patience

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        if trainer.epochs_since_best >= self.patience:
            trainer.should_stop = True  # history.stopped: "early_stopped"


class ModelCheckpoint(Callback):
    """Publish a snapshot in the run folder every ``every`` epochs, at the last epoch and when training stops; after
    Ctrl-C or divergence the best model and history are refreshed while the resume state stays at the last
    completed epoch."""

    def __init__(self, every: int = 1):
        self.every = every

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        epoch = record["epoch"]
        final = epoch == trainer.config.epochs or trainer.should_stop
        if epoch % self.every == 0 or final:
            trainer.checkpoint(final=final)

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        if trainer.history.epochs or trainer.history.stopped == "diverged":
            trainer.checkpoint(with_training_state=False)


class ErrorQuantiles(Callback):
    """Keep the distribution of the best model's errors ‖x − x̂‖² on the training rows ``x`` (scaled) in the final
    snapshot (``anomaly.train_error_quantiles``, 1,001 quantiles), so that ``hourglass score`` can flag rows
    without the training data."""

    def __init__(self, x):
        self.x = x

    def on_save_checkpoint(self, trainer: Trainer, metadata: dict, final: bool) -> None:
        if not final:
            return
        import numpy as np

        from ..metrics import errors_of

        with trainer.best_weights():
            errors = errors_of(trainer.module, self.x)
        metadata["anomaly"] = {"train_error_quantiles": np.quantile(errors, np.linspace(0, 1, 1001)).tolist()}


def built_in(config, folder, progress_factory) -> tuple[list[Callback], list[Callback]]:
    """The callbacks every training has, from its config: the objective's schedule, early stopping, checkpoints
    (with a run folder) and progress; the user's callbacks run between the first two and the checkpoint, so a stop
    they ask for is in the snapshot."""
    first: list[Callback] = [ObjectiveSchedule()]
    if config.patience is not None:
        first.append(EarlyStopping(config.patience))
    last: list[Callback] = []
    if folder is not None:
        last.append(ModelCheckpoint(config.checkpoint_every))
    if config.progress:
        last.append(progress_factory())
    return first, last
