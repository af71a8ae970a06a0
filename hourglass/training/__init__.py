"""Training: the one loop and what goes around it.

loop        fit(model, objective, train, val, TrainConfig, callbacks=[...]) — data → step → hooks
config      TrainConfig, History, the optimizer and schedule factories
step        one step's computation: the objective's inputs, one ``model(...)`` call, loss and named terms
callbacks   the hooks around the loop, and the built-in ones (checkpoints, early stopping, KL warm-up)
loggers     CSV, TensorBoard and MLflow, as callbacks
progress    the progress bar, a callback
feeds       the data as the loop reads it (rows in memory, or a file streamed from disk)
distributed torchrun / DistributedDataParallel
resume      what makes a resumed run the same run
threads     a training's share of the cores (the ShareCores callback)

Where the arithmetic runs and in which precision is :mod:`hourglass.devices`, a floor below: using and serving a
model need it too.
"""

from .callbacks import Callback
from .loop import History, TrainConfig, Trainer, fit

__all__ = ["Callback", "History", "TrainConfig", "Trainer", "fit"]
