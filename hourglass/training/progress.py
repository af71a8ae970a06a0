"""Training progress on the terminal: a rich progress bar on a TTY, one plain line per epoch elsewhere."""

from __future__ import annotations

import sys


class Progress:
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
