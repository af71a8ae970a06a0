"""Training: the one loop and what goes around it.

loop        fit(model, objective, train, val, TrainConfig, callbacks=[...]) — data → step → hooks
step        one step's computation: the objective's inputs, one ``model(...)`` call, loss and named terms
feeds       the data as the loop reads it (rows in memory, or a file streamed from disk)
devices     where the arithmetic runs and in which precision
distributed torchrun / DistributedDataParallel
resume      what makes a resumed run the same run
threads     a training's share of the cores
progress    the progress bar
"""

from .loop import History, TrainConfig, fit

__all__ = ["History", "TrainConfig", "fit"]
