"""A request's JSON body as rows the model can take — or one line saying what is wrong with it.

A body is ``{"rows": [...]}`` (and, for ``/score``, an optional ``"contamination"``). Each row is a list of the
model's D numbers in the order of its features; for a model trained on a table, an object keyed by column name
(columns in any order; the ID column, if the table had one, is optional, carried to the answer, never to the
model). Every problem is reported by row (counted from 1) and value or column: a wrong width, a missing or unknown
column, NaN or infinity, a value beyond the range the model can take, a value that is not a number, an unknown
category, an empty list, too many rows. :mod:`.contract` publishes the same rules as the OpenAPI document.
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
    try:
        number = float(value)
    except OverflowError:  # an integer literal beyond any float
        raise HourglassError(f"{where} is an integer of {len(str(value))} digits, beyond float32's range") from None
    if not math.isfinite(number):
        raise HourglassError(f"{where} is {value}; values must be finite numbers")
    return number


class RowReader:
    """What one model takes as rows, read once when the app is made: each row's width (or a table's columns and
    categories) and the range of each feature (:meth:`~hourglass.scaling.Scaling.input_bounds`). The service
    reads requests with it, and its OpenAPI document states the same limits (:mod:`.contract`)."""

    def __init__(self, checkpoint: Checkpoint, max_rows: int):
        self.width = checkpoint.model.architecture.n_features
        spec = checkpoint.data.get("table")
        self.table = TableSpec.from_dict(spec) if spec else None
        self.feature_names = self.table.feature_names if self.table else None
        self.low, self.high = checkpoint.scaling.input_bounds(self.width)
        self.max_rows = max_rows

    def column_bounds(self, column: str) -> tuple[float, float]:
        """The range of a table's numeric ``column``."""
        assert self.feature_names is not None
        i = self.feature_names.index(column)
        return float(self.low[i]), float(self.high[i])

    def __call__(self, payload: dict, allowed: tuple[str, ...] = ("rows",)) -> tuple[np.ndarray, list | None]:
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
        if len(rows) > self.max_rows:
            raise TooLarge(f"{len(rows)} rows in one request; this service takes at most {self.max_rows} (max_rows)")
        x, ids = self._table_rows(rows) if self.table else (self._array_rows(rows), None)
        self._check_range(x)
        return x, ids

    def _array_rows(self, rows: list) -> np.ndarray:
        width = self.width
        if all(type(r) is list and len(r) == width for r in rows) and {type(v) for r in rows for v in r} <= {
            int,
            float,
        }:
            try:  # the common case, in one C call; NaN and ±∞ are still to be found
                x = np.array(rows, dtype=np.float64)
            except OverflowError:  # an integer beyond any float: found below
                x = None
            if x is not None and np.isfinite(x).all():
                return x
        x = np.empty((len(rows), width))  # something is wrong: find the first bad row and value, and say which
        for i, row in enumerate(rows, 1):
            if isinstance(row, dict):
                raise HourglassError(
                    f"row {i} is an object, but this model was not trained on a table; send each row as a list of "
                    f"{width} numbers"
                )
            if not isinstance(row, list):
                raise HourglassError(f"row {i} is {_kind(row)}; every row must be a list of {width} numbers")
            if len(row) != width:
                raise HourglassError(f"row {i} has {len(row)} values; the model expects {width}")
            x[i - 1] = [_number(v, f"row {i}, value {j}") for j, v in enumerate(row, 1)]
        return x

    def _check_range(self, x: np.ndarray) -> None:
        """Refuse values the model cannot take (beyond float32, before or after scaling), by row and column."""
        outside = (x < self.low) | (x > self.high)
        if outside.any():
            i, j = np.argwhere(outside)[0]
            where = f"column {self.feature_names[j]!r}" if self.feature_names else f"value {j + 1}"
            raise HourglassError(
                f"row {i + 1}, {where} is {x[i, j]:.6g}, beyond the range this model can take "
                f"[{self.low[j]:.6g}, {self.high[j]:.6g}] (float32, before and after its scaling)"
            )

    def _table_rows(self, rows: list) -> tuple[np.ndarray, list | None]:
        pd = needs("pandas", "serving a table model")
        spec = self.table
        assert spec is not None
        known = set(spec.columns) | ({spec.id_column} if spec.id_column else set())
        for i, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raise HourglassError(
                    f"row {i} is {_kind(row)}; this model was trained on a table: send each row as an object "
                    f"keyed by column ({', '.join(spec.columns)})"
                )
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
                    if category_of(row[c]) not in spec.one_hot[c]:
                        raise HourglassError(
                            f"row {i}, column {c!r} is {json.dumps(row[c])[:40]}; the categories seen "
                            f"in training are {', '.join(spec.one_hot[c])}"
                        )
                else:
                    row[c] = _number(row[c], f"row {i}, column {c!r}")
            if spec.id_column and spec.id_column in row:
                value = row[spec.id_column]
                if isinstance(value, (bool, dict, list)):
                    raise HourglassError(
                        f"row {i}, ID column {spec.id_column!r} is {_kind(value)}; an ID is a string or a number"
                    )
        columns = [*spec.columns, *([spec.id_column] if spec.id_column else [])]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        for c in spec.one_hot:
            frame[c] = frame[c].map(category_of)
        x, ids = table_to_array(frame, spec, "request")
        return x, (None if ids is None else [None if _missing(v) else v for v in ids.tolist()])


def category_of(value) -> str | None:
    """A category as the table's spec spells it: a JSON string as it is, an integer (not a boolean) as its
    digits — as a CSV column of codes 1, 2, 3 was read in training. Anything else is no category."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
