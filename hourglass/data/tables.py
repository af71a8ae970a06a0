"""Tables (CSV, Parquet) through pandas: which columns a model uses, one-hot categories, a row ID column — decided on
the training file, stored in checkpoints, and applied to every later file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HourglassError
from ..extras import needs

if TYPE_CHECKING:
    from ..store.checkpoint import Checkpoint

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class TableSpec:
    """How a table's columns become the numbers a model sees — learned on the training file, stored in checkpoints.

    columns: the input columns, in order; one_hot: categorical column → its categories (each becomes a 0/1 feature
    ``column=category``); id_column: a column carried to outputs (codes, scores) but never fed to the model.
    """

    columns: list[str]
    one_hot: dict[str, list[str]] = field(default_factory=dict)
    id_column: str | None = None

    @property
    def feature_names(self) -> list[str]:
        names = []
        for c in self.columns:
            names += [f"{c}={v}" for v in self.one_hot[c]] if c in self.one_hot else [c]
        return names

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "one_hot": self.one_hot, "id_column": self.id_column}

    @classmethod
    def from_dict(cls, d: dict) -> TableSpec:
        return cls(list(d["columns"]), {k: list(v) for k, v in (d.get("one_hot") or {}).items()}, d.get("id_column"))


def read_table(path: Path):
    """A CSV (header row) or Parquet file as a pandas DataFrame; an unreadable file is an error naming it."""
    path = Path(path)
    pd = needs("pandas", f"reading {path.suffix or 'table'} files")
    if path.suffix.lower() != ".csv":
        needs("pyarrow", "reading Parquet files")
    try:
        csv = path.suffix.lower() == ".csv"
        frame = pd.read_csv(path, skipinitialspace=True) if csv else pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise HourglassError(f"{path}: cannot read as a table ({first})") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise HourglassError(f"{path}: expected a header row and at least one data row")
    names = [str(c).strip() for c in frame.columns]
    if "" in names:
        raise HourglassError(f"{path}: column {names.index('') + 1} of the header has no name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HourglassError(
            f"{path}: the header names {', '.join(map(repr, repeated))} more than once (surrounding "
            "spaces aside); give every column its own name"
        )
    frame.columns = names
    return frame


def _split_names(names) -> list[str]:
    if names is None:
        return []
    return [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]


def table_spec(
    frame, source: str, columns=None, drop=None, one_hot: bool = False, id_column: str | None = None
) -> TableSpec:
    """Decide which columns of ``frame`` the model uses.

    ``columns``/``drop`` select by name (lists or comma-separated); a column named ``id`` or ``*_id`` (any case) is
    the ID column unless ``id_column`` names another. Text or categorical columns are an error naming them, or, with
    ``one_hot``, become one 0/1 feature per category."""
    pd = needs("pandas", "reading tables")
    present = list(frame.columns)
    if id_column is None:  # a column named id, or ending in _id, is a row ID, not a feature
        id_column = next((c for c in present if c.lower() == "id" or c.lower().endswith("_id")), None)
    wanted, dropped = _split_names(columns), _split_names(drop)
    for name in [*wanted, *dropped, *([id_column] if id_column else [])]:
        if name not in present:
            raise HourglassError(f"{source}: no column {name!r}; the columns are {', '.join(present)}")
    chosen = [c for c in (wanted or present) if c not in dropped and c != id_column]
    if not chosen:
        raise HourglassError(f"{source}: no columns left to train on")
    text = [c for c in chosen if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if text and not one_hot:
        example = frame[text[0]].dropna().astype(str).iloc[0] if frame[text[0]].notna().any() else "?"
        raise HourglassError(
            f"{source}: column{'s' if len(text) > 1 else ''} {', '.join(map(repr, text))} "
            f"{'are' if len(text) > 1 else 'is'} not numeric (e.g. {example!r}); leave "
            f"{'them' if len(text) > 1 else 'it'} out (drop) or encode it (one_hot)",
            params=("drop", "one_hot"),
        )
    categories = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in text}
    return TableSpec(chosen, categories, id_column)


def table_to_array(frame, spec: TableSpec, source: str, first_row: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's numbers (float64 (N, D)) and the ID column (or None) of ``frame`` under ``spec``.

    A missing column, a missing value or a category never seen in training is an error naming the column and row
    (``first_row``: the file's data row index of ``frame``'s first row, for a block of a streamed file)."""
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise HourglassError(
            f"{source}: missing column{plural} {', '.join(map(repr, missing))} the model was trained "
            f"with (it expects {', '.join(spec.columns)})"
        )
    parts = []
    for c in spec.columns:
        col = frame[c]
        if col.isna().any():
            row = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise HourglassError(f"{source}: column {c!r} has a missing value on data row {first_row + row + 1}")
        if c in spec.one_hot:
            values = col.astype(str).to_numpy()
            unknown = sorted(set(values) - set(spec.one_hot[c]))
            if unknown:
                raise HourglassError(f"{source}: column {c!r} has categories {unknown[:3]} not seen in training")
            parts.append((values[:, None] == np.asarray(spec.one_hot[c])[None, :]).astype(np.float64))
        else:
            try:
                parts.append(col.to_numpy(dtype=np.float64)[:, None])
            except (TypeError, ValueError):
                raise HourglassError(f"{source}: column {c!r} is not numeric; it was numeric in training") from None
    ids = frame[spec.id_column].to_numpy() if spec.id_column and spec.id_column in frame.columns else None
    return np.hstack(parts), ids


def model_space(checkpoint: Checkpoint, rows) -> np.ndarray:
    """Rows in the data's own units as a trained run's model sees them: encoded and scaled as the run was trained.

    Parameters
    ----------
    checkpoint : Checkpoint
        The run.
    rows : ndarray or pandas.DataFrame
        A DataFrame with the training table's columns (a run trained on a table), or (N, D) numbers: the run's
        features (for a table, already one-hot encoded).

    Returns
    -------
    ndarray
        (N, D) float32 in the model's space.
    """
    table = checkpoint.data.get("table")
    if table and hasattr(rows, "columns"):
        x = table_to_array(rows, TableSpec.from_dict(table), "the rows")[0]
    else:
        x = np.asarray(rows, dtype=np.float32)
        features = checkpoint.model.architecture.n_features
        if x.ndim != 2 or x.shape[1] != features:
            given = f"give a DataFrame with its columns {', '.join(table['columns'])}, or" if table else "give"
            raise HourglassError(f"{given} (N, {features}) numbers: the rows have shape {x.shape}")
    return checkpoint.scaling.transform(x.astype(np.float32))
