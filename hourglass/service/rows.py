"""A request's JSON body as rows the model can take — or one line saying what is wrong with it.

A body is ``{"rows": [...]}`` (and, for ``/score``, an optional ``"contamination"``). Each row is a list of the
model's D numbers in the order of its features, or, for a model trained on a table, an object keyed by column
name (columns in any order; the ID column, if the table had one, is carried to the answer, never to the model).
Every problem is reported by row (counted from 1) and value or column: a wrong width, a missing or unknown column,
NaN or infinity, a value that is not a number, an unknown category, an empty list, too many rows.
"""

from __future__ import annotations

import json
import math
import numbers

import numpy as np

from ..data.tables import TableSpec, table_to_array
from ..errors import HourglassError
from ..extras import needs
from ..store.checkpoint import Checkpoint


class TooLarge(HourglassError):
    """The request is larger than the service accepts (HTTP 413)."""


def read_json(body: bytes) -> dict:
    """The body as a JSON object (NaN and Infinity tokens are read, to be refused by row and value later)."""
    if not body.strip():
        raise HourglassError('the body is empty; send {"rows": [[...], ...]}')
    try:
        payload = json.loads(body, parse_constant=float)
    except UnicodeDecodeError:
        raise HourglassError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise HourglassError(f"the body is not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise HourglassError("the body's JSON is nested too deeply") from None
    if not isinstance(payload, dict):
        raise HourglassError(f'the body must be a JSON object {{"rows": [...]}}, not {_kind(payload)}')
    return payload


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = json.dumps(value)[:40]
        raise HourglassError(f"{where} is {shown}, not a number")
    if not math.isfinite(value):
        raise HourglassError(f"{where} is {value}; values must be finite numbers")
    return float(value)


def parse_rows(
    payload: dict, checkpoint: Checkpoint, max_rows: int, allowed: tuple[str, ...] = ("rows",)
) -> tuple[np.ndarray, list | None]:
    """The rows of ``payload`` as a float64 array (N, D) in the data's units, and their IDs (or None)."""
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise HourglassError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"the body takes {', '.join(allowed)}"
        )
    rows = payload.get("rows")
    if rows is None:
        raise HourglassError('the body has no "rows": send {"rows": [[...], ...]}')
    if not isinstance(rows, list):
        raise HourglassError(f'"rows" must be a list of rows, not {_kind(rows)}')
    if not rows:
        raise HourglassError('"rows" is empty; send at least one row')
    if len(rows) > max_rows:
        raise TooLarge(f"{len(rows)} rows in one request; this service takes at most {max_rows} (max_rows)")
    spec = checkpoint.data.get("table")
    if all(isinstance(r, dict) for r in rows):
        if not spec:
            raise HourglassError(
                "rows are objects, but this model was not trained on a table; send each row as a list of numbers"
            )
        return _table_rows(rows, TableSpec.from_dict(spec))
    width = checkpoint.model.architecture.n_features
    if all(type(r) is list and len(r) == width for r in rows) and {type(v) for r in rows for v in r} <= {int, float}:
        x = np.array(rows, dtype=np.float64)  # the common case, in one C call; NaN and ±∞ are still to be found
        if np.isfinite(x).all():
            return x, None
    x = np.empty((len(rows), width))  # something is wrong: find the first bad row and value, and say which
    for i, row in enumerate(rows, 1):
        if not isinstance(row, list):
            raise HourglassError(
                f"row {i} is {_kind(row)}; every row must be a list of {width} numbers"
                + (" or every row an object keyed by column" if spec else "")
            )
        if len(row) != width:
            raise HourglassError(f"row {i} has {len(row)} values; the model expects {width}")
        x[i - 1] = [_number(v, f"row {i}, value {j}") for j, v in enumerate(row, 1)]
    return x, None


def _table_rows(rows: list[dict], spec: TableSpec) -> tuple[np.ndarray, list | None]:
    pd = needs("pandas", "serving a table model")

    known = set(spec.columns) | ({spec.id_column} if spec.id_column else set())
    for i, row in enumerate(rows, 1):
        extra = sorted(set(row) - known)
        if extra:
            raise HourglassError(
                f"row {i} has unknown column{'s' if len(extra) > 1 else ''} "
                f"{', '.join(map(repr, extra))}; the model's columns are {', '.join(spec.columns)}"
            )
        missing = [c for c in spec.columns if c not in row]
        if missing:
            raise HourglassError(
                f"row {i} lacks column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
            )
        for c in spec.columns:
            if c in spec.one_hot:
                value = row[c]
                if isinstance(value, (dict, list)) or value is None or str(value) not in spec.one_hot[c]:
                    raise HourglassError(
                        f"row {i}, column {c!r} is {json.dumps(value)[:40]}; the categories seen "
                        f"in training are {', '.join(spec.one_hot[c])}"
                    )
            else:
                _number(row[c], f"row {i}, column {c!r}")
    frame = pd.DataFrame.from_records(rows, columns=[*spec.columns, *([spec.id_column] if spec.id_column else [])])
    for c in spec.one_hot:
        frame[c] = frame[c].astype(str)
    x, ids = table_to_array(frame, spec, "request")
    return x, (None if ids is None else [None if pd.isna(v) else v for v in ids.tolist()])
