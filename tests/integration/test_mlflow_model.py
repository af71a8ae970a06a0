"""A trained run as an MLflow model: `hourglass train --log mlflow --register NAME` logs a pyfunc model that MLflow
loads by its registered name and by its run, predicts the scores `hourglass score` gives (and codes and
reconstructions on request), and serves with `mlflow models serve` on loopback."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .test_cli import assert_one_line_error, hourglass
from .test_tracking import free_port

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A run trained on a table with a category column, logged to MLflow (a sqlite store) and registered."""
    from sklearn.datasets import load_wine

    root = tmp_path_factory.mktemp("mlflow-model")
    wine = load_wine(as_frame=True)
    frame = wine.data.copy()
    frame["cultivar"] = [wine.target_names[t] for t in wine.target]
    frame.to_csv(root / "wine.csv", index=False)
    uri = f"sqlite:///{root}/mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "hourglass.cli", "train", str(root / "wine.csv"), "--one-hot", "--epochs", "5",
         "--out", str(root / "run"), "--log", "mlflow", "--register", "wine-detector", "--quiet"],
        capture_output=True, text=True, cwd=root, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root, uri, frame, env


def test_the_registered_model_predicts_the_scores_hourglass_score_gives(registered):
    import mlflow

    root, uri, frame, _ = registered
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model("models:/wine-detector/1")
    rows = frame.head(40)
    hourglass("score", root / "run", root / "wine.csv", "-o", root / "scores.csv")
    expected = pd.read_csv(root / "scores.csv")["anomaly_score"].to_numpy()[:40]
    np.testing.assert_allclose(np.asarray(model.predict(rows)), expected, rtol=1e-4)
    codes = np.asarray(model.predict(rows, params={"output": "codes"}))
    reconstructions = np.asarray(model.predict(rows, params={"output": "reconstructions"}))
    assert codes.shape == (40, 4) and reconstructions.shape == (40, 13 + 3)  # 13 numbers, 3 cultivars one-hot
    assert not np.allclose(reconstructions[:, :13], rows.iloc[:, :13].to_numpy())  # a reconstruction, not a copy
    signature = model.metadata.get_input_schema()
    assert signature.input_names() == list(frame.columns)
    assert [p.name for p in model.metadata.get_params_schema().params] == ["output"]


def test_the_run_logs_the_same_model_and_a_wrong_input_is_refused(registered):
    import mlflow
    from mlflow.exceptions import MlflowException

    _, uri, frame, _ = registered
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("hourglass").experiment_id])
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    version = client.get_model_version("wine-detector", "1")
    assert version.run_id == run.info.run_id
    assert model.predict(frame.head(3)).shape == (3,)
    with pytest.raises(MlflowException):  # a missing column is caught by the signature before the model runs
        model.predict(frame.drop(columns="alcohol").head(3))


def test_mlflow_serves_the_model_on_loopback_and_scores_a_request(registered):
    root, _, frame, env = registered
    mlflow_cli = shutil.which("mlflow", path=str(Path(sys.executable).parent))
    assert mlflow_cli is not None
    port = free_port()
    env = {
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }  # its uvicorn, as activated
    server = subprocess.Popen(
        [mlflow_cli, "models", "serve", "-m", "models:/wine-detector/1", "--env-manager", "local", "-h",
         "127.0.0.1", "-p", str(port)],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "mlflow models serve did not answer in 120 s"
                time.sleep(0.5)
        body = json.dumps({"dataframe_split": frame.head(5).to_dict(orient="split")}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        hourglass("score", root / "run", root / "wine.csv", "-o", root / "scores.csv")
        expected = pd.read_csv(root / "scores.csv")["anomaly_score"].to_numpy()[:5]
        np.testing.assert_allclose(np.asarray(answer["predictions"], dtype=float), expected, rtol=1e-4)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_register_without_mlflow_is_one_line(tmp_path):
    assert_one_line_error(
        hourglass("train", "digits", "--register", "x", "--out", tmp_path / "r", check=False), "--register", "--log"
    )
    assert not (tmp_path / "r").exists()
