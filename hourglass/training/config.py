"""How to train (:class:`TrainConfig`), what happened (:class:`History`), and the two seams every trainer has: the
optimizer and the learning-rate schedule, each a factory that :func:`~hourglass.training.loop.fit` takes.

    optimizer: (parameters, config) -> torch.optim.Optimizer        default: fused Adam (AdamW with weight_decay)
    schedule:  (step, total_steps, config) -> learning rate          default: linear warm-up, then cosine or constant
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import torch

from ..devices import PRECISIONS
from ..options import Allowed, check, documented, option, rules

SCHEDULES = ("cosine", "constant")


@documented
@dataclass
class TrainConfig:
    """How to train. The defaults are the recommended choice for MNIST-sized data on a laptop CPU. Each field states
    its default, the values it may take and its help once (:func:`hourglass.options.option`); the CLI's flags
    (``batch_size`` is ``--batch-size``) and the run files' ``[training]`` are derived from them.
    """

    epochs: int = option(50, Allowed(whole=True, minimum=1), "passes over the training data (default %(default)s)")
    batch_size: int = option(256, Allowed(whole=True, minimum=1), "samples per step (default %(default)s)")
    lr: float = option(3e-3, Allowed(above=0), "peak learning rate (Adam) (default %(default)s)")
    weight_decay: float = option(
        0.0, Allowed(minimum=0), "decoupled weight decay (AdamW); 0 means plain Adam (default %(default)s)"
    )
    schedule: str = option(
        "cosine",
        Allowed(choices=SCHEDULES),
        "learning rate after the warm-up: cosine (decay to 0 over all steps) or constant (default %(default)s)",
    )
    warmup_steps: int = option(
        0,
        Allowed(whole=True, minimum=0),
        "raise the learning rate linearly from 0 over the first N steps (default %(default)s)",
        "N",
    )
    clip_grad_norm: float | None = option(
        None,
        Allowed(above=0, optional=True),
        "rescale each step's gradients to an L2 norm of at most MAX (default: no clipping)",
        "MAX",
    )
    patience: int | None = option(
        None,
        Allowed(whole=True, minimum=1, optional=True),
        "stop after this many epochs without a better validation loss (default: never)",
    )
    seed: int = option(
        0, Allowed(whole=True, minimum=0), "seeds the split, initialisation, shuffles and noise (default %(default)s)"
    )
    checkpoint_every: int = option(
        1, Allowed(whole=True, minimum=1), "epochs between checkpoints in the run folder (default %(default)s)", "N"
    )
    progress: bool = option(True, Allowed(choices=(True, False)), "show progress (a bar on a terminal, else lines)")
    device: str = option(
        "auto",
        help="auto (CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps (default %(default)s)",
        metavar="DEVICE",
    )
    precision: str = option(
        "fp32",
        Allowed(choices=tuple(PRECISIONS)),
        "bf16: the forward pass in bfloat16 under autocast (CPU and CUDA; losses stay fp32); fp16: float16 with a "
        "gradient scaler (CUDA) (default %(default)s)",
    )
    compile: bool = option(
        False,
        Allowed(choices=(True, False)),
        "run the model and the loss under torch.compile (pays on long runs; see the docs' benchmarks)",
    )

    def __post_init__(self):
        check(self)

    def to_dict(self) -> dict:
        return asdict(self)


TRAIN_OPTIONS = rules(TrainConfig)  # the allowed values of each field


@dataclass
class History:
    """What happened: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``train_<term>``, ``lr``,
    ``seconds``, ``samples_per_s``), the best epoch and its validation loss, and why training stopped
    ("completed", "early_stopped", "interrupted" or "diverged"); ``notes``: what a resumed run should know (it
    started afresh, was already finished, or its schedule grew).

    Parameters
    ----------
    epochs : list[dict], optional
        One dict per epoch: epoch, train_loss, val_loss, train_<term>, val_<term>, lr, seconds, samples_per_s.
    best_epoch : int, optional
        The epoch with the lowest validation loss (1-based).
    best_val_loss : float, optional
        Its validation loss.
    stopped : str, optional
        Why training stopped: "completed", "early_stopped", "interrupted" or "diverged".
    notes : list[str], optional
        What a resumed run should know: it started afresh, was already finished, or its schedule grew.
    """

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stopped: str = "completed"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


OptimizerFactory = Callable[[Iterable[torch.nn.Parameter], TrainConfig], torch.optim.Optimizer]
Schedule = Callable[[int, int, TrainConfig], float]


def adam(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (AdamW when ``weight_decay`` > 0) with PyTorch's fused kernel where the device has one: the whole update
    in one pass over each tensor, about half the optimizer's time."""
    parameters = list(parameters)
    opt_class = torch.optim.AdamW if config.weight_decay > 0 else torch.optim.Adam
    try:
        return opt_class(parameters, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, TypeError):  # a dtype or device without the fused kernel
        return opt_class(parameters, lr=config.lr, weight_decay=config.weight_decay)


def warmup_then_decay(step: int, total_steps: int, config: TrainConfig) -> float:
    """The learning rate at ``step`` of ``total_steps``: linear from 0 over ``warmup_steps`` (Goyal et al. 2017),
    then constant, or cosine from ``lr`` down to 0 over the remaining steps (Loshchilov & Hutter 2017)."""
    warmup = min(config.warmup_steps, total_steps)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))


def factory_name(factory) -> str:
    """How a run records the optimizer or schedule it used (its qualified name), for resume's fingerprint."""
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', type(factory).__name__)}"
