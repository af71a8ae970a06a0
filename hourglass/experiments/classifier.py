"""Judging generated digits without downloading anything: a small CNN classifier trained here on MNIST, and the
Fréchet distance between its penultimate-layer features of generated images and of real ones.

This is the idea of the Fréchet Inception Distance (Heusel et al. 2017, *GANs trained by a two time-scale update
rule converge to a local Nash equilibrium*): fit a Gaussian to each set of features and measure

    FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}),

with a digit classifier in place of Inception. 0 means the two sets of features have the same mean and covariance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import HourglassError
from ..metrics import apply_in_batches
from ..nets import init_seed
from ..store.files import atomic_path
from ..training.loop import TrainConfig, fit

FORMAT = "hourglass-digit-classifier"


class DigitClassifier(nn.Module):
    """Two 5×5 conv + 2×2 max-pool blocks (1→32→64 channels), a 128-unit ReLU layer (the features), 10 logits.

    Input: flat rows (N, 784) of 28×28 images in [0, 1]. ``features(x)`` is (N, 128), ``forward(x)`` is (N, 10).
    """

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
        )
        self.head = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The logits (N, 10): what the cross-entropy needs (``generator`` is unused: nothing here is random)."""
        return self.head(self.body(x))


@dataclass
class ShiftedCrossEntropy:
    """The classifier's objective, in the trainer's protocol (see :class:`hourglass.losses.Objective`): each batch
    of (images, labels) is shifted by up to ``max_shift`` pixels in each direction (one random shift per batch,
    zeros shifted in: a cheap augmentation that lifts test accuracy above 99% in a few epochs), and the loss is
    the cross-entropy of the logits, in nats per image."""

    max_shift: int = 2

    def check(self, model) -> None:
        pass

    def inputs(self, batch, generator: torch.Generator | None = None):
        """(labels, shifted images): pad with zeros, crop a 28×28 window at a random offset (dy, dx)."""
        x, y = batch
        s = self.max_shift
        padded = nn.functional.pad(x.view(-1, 28, 28), (s,) * 4)
        dy, dx = (int(v) for v in torch.randint(0, 2 * s + 1, (2,), generator=generator))
        return y, padded[:, dy : dy + 28, dx : dx + 28].reshape(len(x), -1)

    def __call__(self, logits, y, x_in=None, encoder=None, generator=None, training=False):
        loss = nn.functional.cross_entropy(logits, y)
        return loss, {"cross_entropy": loss.detach()}


def train_classifier(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    epochs: int = 4,
    seed: int = 0,
    batch_size: int = 128,
    lr: float = 2e-3,
    max_shift: int = 2,
    progress: bool = False,
    device: str = "auto",
) -> DigitClassifier:
    """Train :class:`DigitClassifier` with hourglass's one trainer (:func:`hourglass.training.loop.fit`: Adam, a cosine
    learning rate, the weights of the best validation epoch) on the :class:`ShiftedCrossEntropy` objective.
    Without a validation split the training rows stand in for it. Trained on ``device``, returned on the CPU."""
    with init_seed(seed):
        model = DigitClassifier()
    x_val, y_val = (x_train, y_train) if x_val is None else (x_val, y_val)
    train = (np.asarray(x_train, np.float32), np.asarray(y_train, np.int64))
    val = (np.asarray(x_val, np.float32), np.asarray(y_val, np.int64))
    fit(
        model,
        ShiftedCrossEntropy(max_shift),
        train,
        val,
        TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=progress, device=device),
    )
    return model.cpu().eval()


def predict_proba(model: DigitClassifier, x: np.ndarray) -> np.ndarray:
    """Class probabilities (N, 10)."""
    model.eval()
    return apply_in_batches(lambda t: torch.softmax(model(t), dim=1), x, batch_size=2000)


def features(model: DigitClassifier, x: np.ndarray) -> np.ndarray:
    """Penultimate-layer features (N, 128)."""
    model.eval()
    return apply_in_batches(model.features, x, batch_size=2000)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets ``a`` (N, F) and ``b`` (M, F).

    tr((Σ_a Σ_b)^{1/2}) is computed as tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}) — the same eigenvalues, but of a symmetric
    matrix — so that it stays exact and real when a covariance is singular (dead features of poor samples).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def save_classifier(model: DigitClassifier, path: str | Path, record: dict) -> Path:
    """Write the weights as safetensors with ``record`` (how it was trained, its test accuracy) as metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "record": json.dumps(record)})
    return path


def load_classifier(path: str | Path) -> tuple[DigitClassifier, dict]:
    """Read a classifier written by :func:`save_classifier`; returns (model, record)."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as e:
        raise HourglassError(f"{path}: not a readable safetensors file ({e})") from None
    if metadata.get("format") != FORMAT:
        raise HourglassError(f"{path}: not an hourglass digit classifier")
    model = DigitClassifier()
    try:
        model.load_state_dict(tensors)
    except RuntimeError as e:
        raise HourglassError(f"{path}: weights do not fit the digit classifier ({str(e).splitlines()[0]})") from None
    return model.eval(), json.loads(metadata.get("record", "{}"))
