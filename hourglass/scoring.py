"""Anomaly scores: a row's squared reconstruction error ‖x − x̂‖² in the model's space, placed among the training
rows' errors that the run folder keeps (``anomaly.train_error_quantiles``), and flagged beyond a quantile."""

from __future__ import annotations

import numpy as np

from .errors import HourglassError
from .metrics import reconstruct, squared_errors
from .store import checkpoint as ckpt


def anomaly_scores(
    checkpoint: ckpt.Checkpoint, x: np.ndarray, contamination: float = 0.01, x_hat: np.ndarray | None = None
) -> dict:
    """Score rows ``x`` (already in the model's scaled space) by squared reconstruction error, and judge the
    scores (:func:`judge_scores`). ``x_hat``: the reconstruction, where the caller has it already."""
    x_hat = reconstruct(checkpoint.model, x) if x_hat is None else x_hat
    return judge_scores(checkpoint, squared_errors(x, x_hat), contamination)


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


def feature_errors(model, x: np.ndarray, x_hat: np.ndarray | None = None) -> np.ndarray:
    """Each row's squared reconstruction error split by feature, (x_j − x̂_j)², in the model's space: (N, D) → (N, D)
    float64. A row's parts sum to its anomaly score ‖x − x̂‖² (the error is a sum over features, so each feature's
    part says where the row departs from what the model learned). Rows whose float32 pass overflowed are
    reconstructed in float64 (:func:`~hourglass.metrics.apply_model`); a part that overflows even there is +∞, and
    :func:`explanation_shares` says such a row cannot be split. ``x_hat``: the reconstruction, where the caller
    has it already."""
    x_hat = np.asarray(reconstruct(model, x) if x_hat is None else x_hat, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        parts = (np.asarray(x, dtype=np.float64) - x_hat) ** 2
    return np.where(np.isnan(parts), np.inf, parts)


def feature_columns(checkpoint: ckpt.Checkpoint) -> tuple[list[str], np.ndarray]:
    """The names a user knows for the model's features — a table's columns (a one-hot category's features belong
    to its column), else the data's feature names or x1..xD — and, for each of the D features, the index of its
    name: ``(names, index)``."""
    table = checkpoint.data.get("table")
    width = checkpoint.model.architecture.n_features
    if table:
        names, index = list(table["columns"]), []
        for i, column in enumerate(names):
            index += [i] * len((table.get("one_hot") or {}).get(column, [None]))
        if len(index) == width:
            return names, np.asarray(index)
    columns = checkpoint.data.get("columns") or [f"x{j + 1}" for j in range(width)]
    return list(columns), np.arange(width)


def check_explainable(checkpoint: ckpt.Checkpoint) -> None:
    """Refuse, in one line, a model whose rows have no columns to explain (an image model)."""
    if len(checkpoint.model.architecture.input_shape) == 3:
        raise HourglassError(
            "explain splits a row's error by its columns; an image model's error is a per-pixel map, not columns",
            params=("explain",),
        )


def explain_rows(
    checkpoint: ckpt.Checkpoint, x: np.ndarray, x_hat: np.ndarray | None = None
) -> tuple[list[str], np.ndarray]:
    """Each row of ``x`` (in the model's space) split by the columns a user knows: ``(names, parts)``, parts
    (N, columns) float64, each row summing to the row's anomaly score (:func:`feature_errors`, grouped by
    :func:`feature_columns`). ``x_hat``: the reconstruction, where the caller has it already."""
    check_explainable(checkpoint)
    return by_column(checkpoint, feature_errors(checkpoint.model, x, x_hat))


def by_column(checkpoint: ckpt.Checkpoint, parts: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Per-feature parts (N, D) added up by the columns a user knows (:func:`feature_columns`): ``(names,
    parts)``, (N, columns)."""
    names, index = feature_columns(checkpoint)
    if len(index) == len(names):  # a feature per column: nothing to add up
        return names, parts
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])  # a column's features lie side by side
    return names, np.add.reduceat(parts, starts, axis=1)


def largest_parts(names: list[str], parts: np.ndarray, k: int) -> list[list[dict]]:
    """Each row's ``k`` columns with the largest parts of its error, largest first, as ``{"column", "share",
    "error"}`` records; a row that cannot be split (its error 0 or infinite) has none."""
    shares = explanation_shares(parts)
    order = largest_columns(parts, min(k, len(names)))
    return [
        [{"column": names[j], "share": float(shares[i, j]), "error": float(parts[i, j])} for j in row]
        if np.isfinite(shares[i]).all()
        else []
        for i, row in enumerate(order)
    ]


def explanation_shares(parts: np.ndarray) -> np.ndarray:
    """Each part's share of its row's error; a row that cannot be split (its error is 0, or infinite: the
    reconstruction overflowed) is NaN.

    Parameters
    ----------
    parts : ndarray
        (N, columns) parts of each row's error (:func:`explain`, :func:`explain_rows`).

    Returns
    -------
    ndarray
        (N, columns) shares, each row summing to 1, or NaN.
    """
    totals = parts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = parts / totals
    splittable = np.isfinite(totals) & (totals > 0)
    return np.where(splittable, shares, np.nan)


def top_columns(names: list[str], parts: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The ``k`` columns with the largest parts of each row and their shares, as CSV columns ``explain_i`` and
    ``share_i`` (i = 1..k, largest first, ties by column order); a row that cannot be split has empty names and
    NaN shares."""
    k = min(k, len(names))
    largest = largest_columns(parts, k)
    shares = np.take_along_axis(explanation_shares(parts), largest, axis=1)
    splittable = np.isfinite(shares).all(axis=1)
    labels = np.asarray(names, dtype=object)
    out: dict[str, np.ndarray] = {}
    for i in range(k):
        out[f"explain_{i + 1}"] = np.where(splittable, labels[largest[:, i]], "")
        out[f"share_{i + 1}"] = shares[:, i]
    return out


def largest_columns(parts: np.ndarray, k: int) -> np.ndarray:
    """The indices of each row's ``k`` largest parts, largest first, ties by column order: (N, C) → (N, k)."""
    if k < parts.shape[1]:  # select the k, then order just them: a full sort of every row costs 3× as much
        chosen = np.argpartition(-parts, k - 1, axis=1)[:, :k]
    else:
        chosen = np.broadcast_to(np.arange(parts.shape[1]), parts.shape)
    order = np.lexsort((chosen, -np.take_along_axis(parts, chosen, axis=1)), axis=1)
    return np.take_along_axis(chosen, order, axis=1)


def explain(model, x, as_frame: bool | None = None):
    """Why each row scored as it did: its squared reconstruction error split by feature.

    Parameters
    ----------
    model : Autoencoder, Checkpoint, str or Path
        A model (``x`` in its space: the parts are per feature), or a run (a folder or a loaded checkpoint:
        ``x`` in the data's own units, scaled as the run was; the parts are per column the user knows, a one-hot
        category's added into its column).
    x : ndarray or pandas.DataFrame
        The rows, (N, D) (a run's table may be a DataFrame with its training columns).
    as_frame : bool, optional
        Return a pandas DataFrame named by column (None: when ``model`` is a run trained on a table).

    Returns
    -------
    ndarray or pandas.DataFrame
        (N, features): each row's parts, summing to its anomaly score (:func:`explanation_shares` turns them
        into shares).
    """
    from pathlib import Path

    if not isinstance(model, (ckpt.Checkpoint, str, Path)):
        return feature_errors(model, np.asarray(x, dtype=np.float32))
    from .data.tables import model_space

    checkpoint = model if isinstance(model, ckpt.Checkpoint) else ckpt.load(model)
    names, parts = explain_rows(checkpoint, model_space(checkpoint, x))
    if as_frame if as_frame is not None else bool(checkpoint.data.get("table")):
        from .extras import needs

        return needs("pandas", "explanations as a table").DataFrame(parts, columns=names)
    return parts
