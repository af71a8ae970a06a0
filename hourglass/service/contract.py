"""The service's published contract, derived from the model it serves.

Pydantic models are built once, when the app is made, from what :class:`~.rows.RowReader` reads off the
checkpoint: each row's exact width (or a table's columns, their categories and the optional ID column), the range
of each feature, the most rows one request may hold, and the code's width. Their JSON schemas become the OpenAPI
document's request and response bodies (``/openapi.json``), so that the document says exactly what the service
accepts and answers — a request valid under it is answered 200, one invalid is answered 4xx — and a client
generated from it learns the width, the limits and the one error model, ``{"detail": str}``.

The models describe; they do not validate requests (:mod:`.rows` reads bodies far faster and names the row and
column of a problem), and answers are not passed through them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from .rows import RowReader

REF = "#/components/schemas/{model}"


class Problem(BaseModel):
    """Every error the service answers (4xx): one line naming the problem."""

    detail: str


class Health(BaseModel):
    status: Literal["ok"]
    model: str = Field(description="the variant served")
    pid: int = Field(description="the worker process that answered")


class Limits(BaseModel):
    max_rows: int
    max_body_bytes: int


class ModelInfo(BaseModel):
    """``GET /model``: the model served, its objective and training data, and the request limits."""

    hourglass_version: str
    trained_with: str | None
    variant: str
    model_kind: str
    architecture: dict[str, Any]
    features: int
    latent_dim: int
    feature_names: list[str] | None
    objective: dict[str, Any]
    preprocessing: dict[str, Any] | None
    data: dict[str, Any]
    training: dict[str, Any]
    scores: bool
    limits: Limits


def _number(low: float, high: float, description: str | None = None):
    return Annotated[float, Field(ge=low, le=high, description=description)]


def _row_type(reader: RowReader):
    """One row as the model takes it: exactly D bounded numbers, or a table's row object."""
    if reader.table is None:
        width, low, high = reader.width, reader.low, reader.high
        if (low == low[0]).all() and (high == high[0]).all():
            item = _number(float(low[0]), float(high[0]))
            return Annotated[list[item], Field(min_length=width, max_length=width)]  # type: ignore[valid-type]
        items = tuple(_number(float(a), float(b)) for a, b in zip(low, high, strict=True))
        return tuple[items]  # type: ignore[valid-type]  # JSON Schema's prefixItems: a range per position
    spec = reader.table
    fields: dict[str, Any] = {}
    for i, column in enumerate(spec.columns):
        if column in spec.one_hot:
            categories = spec.one_hot[column]
            # a category is its string; one spelled as an integer may also be sent as that integer (rows.category_of)
            values = [*categories, *(int(c) for c in categories if c.lstrip("-").isdigit() and str(int(c)) == c)]
            kind: Any = Literal[tuple(values)]
        else:
            kind = _number(*reader.column_bounds(column))
        fields[f"c{i}"] = (kind, Field(alias=column))
    if spec.id_column:
        fields["row_id"] = (
            str | float | None,
            Field(default=None, alias=spec.id_column, description="carried to the answer's ids, never to the model"),
        )
    return create_model("Row", __config__=ConfigDict(extra="forbid"), **fields)


class ColumnPart(BaseModel):
    """One column's part of a row's error (``/score`` with ``explain``)."""

    column: str = Field(description="a column the user knows (a one-hot category's parts added into it)")
    share: float = Field(ge=0, le=1, description="its part of the row's error, as a share")
    error: float = Field(ge=0, description="its part: squared error in the model's space")


def contract(reader: RowReader, latent_dim: int, explainable: bool = True) -> dict[str, type[BaseModel]]:
    """The request and response models of this model's service, by the names the document gives them (``explain``
    only where rows have columns to name: not for an image model)."""
    row = _row_type(reader)
    rows: Any = (Annotated[list[row], Field(min_length=1, max_length=reader.max_rows)], ...)  # type: ignore[valid-type]
    strict = ConfigDict(extra="forbid")
    ids: dict[str, Any] = {}
    if reader.table is not None and reader.table.id_column:
        ids = {"ids": (list[str | float | None], Field(description=f"each row's {reader.table.id_column}"))}
    code = Annotated[list[float], Field(min_length=latent_dim, max_length=latent_dim)]
    data_row = Annotated[list[float], Field(min_length=reader.width, max_length=reader.width)]
    share = Annotated[float, Field(gt=0, lt=1)]
    explain: dict[str, Any] = {}
    explanations: dict[str, Any] = {}
    if explainable:
        k = Field(None, description="also name each row's K columns with the largest parts of its error")
        explain = {"explain": (Annotated[int, Field(ge=1)] | None, k)}
        parts = Field(None, description="with explain K: each row's K columns with the largest parts of its error, "
                      "largest first (none for a row whose error is 0 or overflows)")  # fmt: skip
        explanations = {"explanations": (list[list[ColumnPart]] | None, parts)}
    return {
        "RowsRequest": create_model("RowsRequest", __config__=strict, rows=rows),
        "ScoreRequest": create_model(
            "ScoreRequest",
            __config__=strict,
            rows=rows,
            contamination=(share, Field(0.01, description="the share of training rows flagged")),
            **explain,
        ),
        "EncodeResponse": create_model("EncodeResponse", codes=(list[code], ...), **ids),
        "ReconstructResponse": create_model(
            "ReconstructResponse", reconstructions=(list[data_row], ...), columns=(list[str] | None, ...), **ids
        ),
        "ScoreResponse": create_model(
            "ScoreResponse",
            scores=(
                list[Annotated[float, Field(ge=0)]],
                Field(
                    description="squared reconstruction error; 1.7976931348623157e308 (the largest double) for a "
                    "row whose error overflows"
                ),
            ),
            training_percentile=(list[Annotated[float, Field(ge=0, le=1)]], ...),
            is_anomaly=(list[bool], ...),
            threshold=(float, ...),
            contamination=(share, ...),
            **explanations,
            **ids,
        ),
        "ModelInfo": ModelInfo,
        "Health": Health,
        "Problem": Problem,
    }


def schemas(models: dict[str, type[BaseModel]]) -> dict[str, dict]:
    """The JSON schemas of ``models`` and of every model they use, for the document's ``components.schemas``."""
    modes = {name: "validation" if name.endswith("Request") else "serialization" for name in models}
    _, top = models_json_schema([(m, modes[name]) for name, m in models.items()], ref_template=REF)  # type: ignore[misc]
    return top["$defs"]


def body(name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}}}


def answers(name: str, description: str, errors: bool = True) -> dict:
    """The responses of an operation: 200 with ``name``, and (``errors``) 413 and 422 with :class:`Problem`."""
    out = {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}},
        }
    }
    if errors:
        problem = {"application/json": {"schema": {"$ref": REF.format(model="Problem")}}}
        out["413"] = {"description": "the body is over max_body_bytes, or rows over max_rows", "content": problem}
        out["422"] = {
            "description": "the body is not rows this model takes; detail names row and column",
            "content": problem,
        }
    return out
