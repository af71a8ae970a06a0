"""A trained run as an MLflow model: ``mlflow.pyfunc.load_model(uri).predict(rows)`` and ``mlflow models serve``.

The run folder travels inside the model as its artifact. ``predict`` takes rows in the data's own units — a
DataFrame with the training table's columns for a run trained on a table, else (N, D) numbers — scales them as the
run was trained, and returns each row's anomaly score: its squared reconstruction error in the model's space, the
score ``hourglass score`` gives. The other outputs are one parameter away::

    model = mlflow.pyfunc.load_model("runs:/RUN_ID/model")
    model.predict(rows)                                        # (N,) anomaly scores
    model.predict(rows, params={"output": "codes"})            # (N, k) codes z = f(x)
    model.predict(rows, params={"output": "reconstructions"})  # (N, D) x̂ in the data's units (a table's features)

:class:`~hourglass.training.loggers.MLflowLogger` logs one at the end of a training (``hourglass train --log
mlflow``), with a signature (the columns and their types, and the ``output`` parameter) and an input example, and
registers it under a name where asked (``--register NAME``). Needs the ``mlflow`` extra; imported only then.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
from mlflow.models import infer_signature
from mlflow.pyfunc.model import PythonModel

from ._version import __version__
from .data.tables import TableSpec, model_space
from .errors import HourglassError
from .metrics import encode, reconstruct, squared_errors
from .store import checkpoint as ckpt
from .store import runfolder

OUTPUTS = ("scores", "codes", "reconstructions")  # what predict returns; the first is its default
ARTIFACT = "model"  # the model's folder among the MLflow run's artifacts: runs:/RUN_ID/model


def predict(checkpoint: ckpt.Checkpoint, rows, output: str = "scores") -> np.ndarray:
    """What the MLflow model's ``predict`` gives for each row.

    Parameters
    ----------
    checkpoint : Checkpoint
        The loaded run.
    rows : ndarray or pandas.DataFrame
        Rows in the data's own units: a DataFrame with the training columns for a table run, else (N, D) numbers.
    output : str, optional
        One of :data:`OUTPUTS`: "scores", "codes" or "reconstructions".

    Returns
    -------
    ndarray
        Anomaly scores (N,) (squared reconstruction error in the model's space), codes (N, k), or reconstructions
        (N, D) in the data's units.
    """
    if output not in OUTPUTS:
        raise HourglassError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}", params=("output",))
    model, x = checkpoint.model, model_space(checkpoint, rows)
    if output == "codes":
        return encode(model, x)
    x_hat = reconstruct(model, x)
    if output == "reconstructions":
        return checkpoint.scaling.inverse_transform(x_hat)
    return squared_errors(x, x_hat)


class RunModel(PythonModel):
    """The pyfunc face of a run folder (the artifact ``run``): see the module's text."""

    def load_context(self, context) -> None:
        self.checkpoint = ckpt.load(context.artifacts["run"])

    def predict(self, context, model_input, params=None):
        return predict(self.checkpoint, model_input, (params or {}).get("output", OUTPUTS[0]))


def input_example(checkpoint: ckpt.Checkpoint, x_model: np.ndarray):
    """Rows (N, D) in the model's space as a user gives them: in the data's units, and for a table run a DataFrame
    of its columns (a one-hot group back to its likeliest category)."""
    x = checkpoint.scaling.inverse_transform(np.asarray(x_model, dtype=np.float32))
    table = checkpoint.data.get("table")
    if not table:
        return x
    import pandas as pd

    spec, at = TableSpec.from_dict(table), 0
    frame: dict[str, Any] = {}
    for column in spec.columns:
        categories = spec.one_hot.get(column)
        if categories:
            frame[column] = [categories[i] for i in x[:, at : at + len(categories)].argmax(1)]
            at += len(categories)
        else:
            frame[column] = x[:, at].astype(np.float64)
            at += 1
    return pd.DataFrame(frame)


def log_run_model(client, run_id: str, folder: str | Path, x_model: np.ndarray, register: str | None = None) -> str:
    """Log a run folder as an MLflow run's pyfunc model, and register it where asked.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The client of the tracking server the run is in.
    run_id : str
        The MLflow run to log the model into (as its artifact ``model``).
    folder : str or Path
        The hourglass run folder; its current snapshot travels inside the model.
    x_model : ndarray
        A few rows (N, D) in the model's space: the first five make the input example and the signature.
    register : str, optional
        Register the model under this name in MLflow's model registry (a new version if the name exists).

    Returns
    -------
    str
        The model's URI, ``runs:/RUN_ID/model``.
    """
    checkpoint = ckpt.load(folder)
    example = input_example(checkpoint, x_model[:5])
    signature = infer_signature(example, predict(checkpoint, example), params={"output": OUTPUTS[0]})
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"  # the current snapshot alone: a folder of the files a checkpoint loads from
        shutil.copytree(runfolder.current(folder) or folder, run)
        mlflow.pyfunc.save_model(
            Path(tmp) / ARTIFACT,
            python_model=RunModel(),
            artifacts={"run": str(run)},
            signature=signature,
            input_example=example,
            pip_requirements=[f"hourglass-ae[mlflow]=={__version__}"],
        )
        client.log_artifacts(run_id, str(Path(tmp) / ARTIFACT), ARTIFACT)
    uri = f"runs:/{run_id}/{ARTIFACT}"
    if register:
        from mlflow.exceptions import MlflowException

        try:
            client.get_registered_model(register)
        except MlflowException:
            client.create_registered_model(register)
        source = f"{client.get_run(run_id).info.artifact_uri}/{ARTIFACT}"
        client.create_model_version(register, source, run_id)
    return uri
