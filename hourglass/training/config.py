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
from ..options import Allowed, check

SCHEDULES = ("cosine", "constant")


@dataclass
class TrainConfig:
    """How to train. The defaults are the recommended choice for MNIST-sized data on a laptop CPU.

    epochs: passes over the training data.
    batch_size: samples per step.
    lr: peak learning rate (Adam).
    weight_decay: decoupled weight decay (AdamW); 0 means plain Adam.
    schedule: "cosine" (decay to 0 over all steps) or "constant".
    warmup_steps: raise the learning rate linearly from 0 over this many steps first (0: no warm-up).
    clip_grad_norm: rescale each step's gradients to at most this total L2 norm (None: no clipping).
    patience: stop after this many epochs without a better validation loss (None: never).
    seed: seeds the per-epoch shuffles and any noise the objective draws.
    checkpoint_every: epochs between checkpoints when a checkpoint folder is given.
    progress: show a progress bar (a TTY) or plain lines (otherwise); False prints nothing.
    device: where to train: "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    precision: "fp32", "bf16" (autocast; CPU and CUDA) or "fp16" (autocast and a gradient scaler; CUDA) — see
        :mod:`hourglass.devices`.
    compile: run the model and the loss under ``torch.compile`` (pays for long runs of small steps; see the docs'
        benchmarks).
    """

    epochs: int = 50
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_steps: int = 0
    clip_grad_norm: float | None = None
    patience: int | None = None
    seed: int = 0
    checkpoint_every: int = 1
    progress: bool = True
    device: str = "auto"
    precision: str = "fp32"
    compile: bool = False

    def __post_init__(self):
        check(self, TRAIN_OPTIONS)

    def to_dict(self) -> dict:
        return asdict(self)


TRAIN_OPTIONS = {
    "epochs": Allowed(whole=True, minimum=1),
    "batch_size": Allowed(whole=True, minimum=1),
    "lr": Allowed(above=0),
    "weight_decay": Allowed(minimum=0),
    "schedule": Allowed(choices=SCHEDULES),
    "warmup_steps": Allowed(whole=True, minimum=0),
    "clip_grad_norm": Allowed(above=0, optional=True),
    "patience": Allowed(whole=True, minimum=1, optional=True),
    "seed": Allowed(whole=True, minimum=0),
    "checkpoint_every": Allowed(whole=True, minimum=1),
    "progress": Allowed(choices=(True, False)),
    "precision": Allowed(choices=tuple(PRECISIONS)),
    "compile": Allowed(choices=(True, False)),
}


@dataclass
class History:
    """What happened: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``train_<term>``, ``lr``,
    ``seconds``, ``samples_per_s``), the best epoch and its validation loss, and why training stopped
    ("completed", "early_stopped", "interrupted" or "diverged"); ``notes``: what a resumed run should know (it
    started afresh, was already finished, or its schedule grew)."""

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
