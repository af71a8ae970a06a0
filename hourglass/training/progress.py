"""Training progress that moves: on a terminal a rich bar that advances within each epoch, with steps, samples/s and
the time left; elsewhere (a log file, CI) plain lines — one per epoch, and one every ``every_s`` seconds within a long
epoch. It only reads what the loop already brought to the host: it adds no wait for the device."""

from __future__ import annotations

import sys
import time
from typing import Any

from .callbacks import Callback


class ProgressBar(Callback):
    """The built-in progress callback (``TrainConfig.progress``)."""

    def __init__(self, stream=None, every_s: float = 10.0):
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.bar: Any = None  # a rich Progress while a terminal shows one

    def on_fit_start(self, trainer) -> None:
        self.epochs, self.steps = trainer.config.epochs, trainer.steps_per_epoch
        self.first_epoch = len(trainer.history.epochs)
        self.started = self.last_line = time.perf_counter()
        self.epoch = self.first_epoch
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("steps"),
                TextColumn("{task.fields[rate]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self.task = self.bar.add_task(
                "train",
                total=self.epochs * self.steps,
                completed=self.first_epoch * self.steps,
                epoch=self.first_epoch + 1,
                epochs=self.epochs,
                rate="",
                status="",
            )
            self.bar.start()

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.epoch, self.epoch_started = epoch, time.perf_counter()
        if self.bar is not None:
            self.bar.update(self.task, epoch=epoch + 1)

    def on_step_end(self, trainer, step: int, steps: int, samples: int) -> None:
        now = time.perf_counter()
        rate = samples / max(now - self.epoch_started, 1e-9)
        if self.bar is not None:
            self.bar.update(
                self.task, completed=self.epoch * self.steps + min(step, self.steps), rate=f"{rate:,.0f} samples/s"
            )
        elif now - self.last_line >= self.every_s:
            left = (steps - step) * (now - self.epoch_started) / max(step, 1)
            print(
                f"epoch {self.epoch + 1}/{self.epochs}  step {step}/{steps}  {rate:,.0f} samples/s  "
                f"ETA of the epoch {left:.0f}s",
                file=self.stream,
                flush=True,
            )
            self.last_line = now

    def on_epoch_end(self, trainer, record: dict) -> None:
        status = f"loss {record['train_loss']:.4g}  val {record['val_loss']:.4g}"
        if self.bar is not None:
            self.bar.update(self.task, completed=record["epoch"] * self.steps, status=status)
        else:
            print(
                f"epoch {record['epoch']}/{self.epochs}  {status}  ({record['seconds']:.1f}s, "
                f"{record['samples_per_s']:,.0f} samples/s)",
                file=self.stream,
                flush=True,
            )
            self.last_line = time.perf_counter()

    def on_fit_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
