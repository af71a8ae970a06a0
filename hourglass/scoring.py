"""Anomaly scores: a row's squared reconstruction error ‖x − x̂‖² in the model's space, placed among the training
rows' errors that the run folder keeps (``anomaly.train_error_quantiles``), and flagged beyond a quantile."""

from __future__ import annotations

import numpy as np

from .errors import HourglassError
from .metrics import reconstruct, squared_errors
from .store import checkpoint as ckpt


def anomaly_scores(checkpoint: ckpt.Checkpoint, x: np.ndarray, contamination: float = 0.01) -> dict:
    """Score rows ``x`` (already in the model's scaled space) by squared reconstruction error, and judge the
    scores (:func:`judge_scores`)."""
    return judge_scores(checkpoint, squared_errors(x, reconstruct(checkpoint.model, x)), contamination)


def judge_scores(checkpoint: ckpt.Checkpoint, scores: np.ndarray, contamination: float = 0.01) -> dict:
    """Place squared-error ``scores`` (N,) among the training rows' errors stored in the checkpoint.

    Returns ``scores``, ``training_percentile`` (the share of training rows with a smaller error: 0.5 is typical,
    0.999 rarer than 999 in 1,000), ``is_anomaly`` (score above ``threshold``, the training errors' 1 −
    ``contamination`` quantile, stored in the checkpoint when it was trained).

    A score that is not finite (NaN or ∞: the row's reconstruction overflowed, :func:`~hourglass.metrics.apply_model`)
    is +∞, the highest score, at percentile 1.0 and an anomaly: such a row is as far from the training data as the
    model can tell, never normal.
    """
    if not 0 < contamination < 1:
        raise HourglassError(f"contamination must be in (0, 1), got {contamination:g}", params=("contamination",))
    quantiles = (checkpoint.config.get("anomaly") or {}).get("train_error_quantiles")
    if not quantiles:
        raise HourglassError(
            f"{checkpoint.path}: has no training-error distribution to set a threshold; retrain it "
            "with this version of hourglass"
        )
    try:
        quantiles = np.asarray(quantiles, dtype=np.float64)
        valid = (
            quantiles.ndim == 1
            and len(quantiles) >= 2
            and np.isfinite(quantiles).all()
            and (np.diff(quantiles) >= 0).all()
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise HourglassError(
            f"{checkpoint.path}: anomaly.train_error_quantiles in its config must be at least two "
            "finite, non-decreasing numbers"
        )
    scores = np.where(np.isfinite(scores), scores, np.inf)
    levels = np.linspace(0, 1, len(quantiles))
    threshold = float(np.interp(1 - contamination, levels, quantiles))
    return {
        "scores": scores,
        "training_percentile": np.interp(scores, quantiles, levels),
        "is_anomaly": scores > threshold,
        "threshold": threshold,
    }
