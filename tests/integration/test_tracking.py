"""Runs a user can log, describe in a file and replay: TensorBoard and MLflow read back with their own APIs,
TensorBoard served on loopback, run files round-tripped, and the workflow's own refusals."""

import glob
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hourglass as hg
from hourglass.metrics import squared_errors
from hourglass.workflow import ModelConfig, train

from .test_cli import assert_one_line_error, hourglass


def history(run) -> list[dict]:
    return [
        json.loads(line)
        for line in Path(sorted(glob.glob(f"{run}/snapshot-*/history.jsonl"))[-1]).read_text().splitlines()
    ]


def config_json(run) -> dict:
    return json.loads(Path(sorted(glob.glob(f"{run}/snapshot-*/config.json"))[-1]).read_text())


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One CLI run of digits logged to TensorBoard, MLflow (a sqlite store) and CSV."""
    root = tmp_path_factory.mktemp("logged")
    env_uri = f"sqlite:///{root}/mlflow.db"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hourglass.cli",
            "train",
            "digits",
            "--epochs",
            "3",
            "--arch",
            "conv",
            "--widths",
            "4,8",
            "--out",
            str(root / "run"),
            "--log",
            "tensorboard",
            "--log",
            "mlflow",
            "--log",
            "csv",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={**__import__("os").environ, "MLFLOW_TRACKING_URI": env_uri, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0, done.stderr
    return root, env_uri


def test_tensorboard_reads_back_scalars_images_histograms_and_the_projector(logged):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root, _ = logged
    events = EventAccumulator(str(root / "run" / "tensorboard"), size_guidance={"images": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert {"loss/train", "loss/val", "lr", "samples_per_s"} <= set(tags["scalars"])
    train_loss = [e.value for e in events.Scalars("loss/train")]
    assert len(train_loss) == 3 and train_loss[-1] < train_loss[0]
    assert [e.value for e in events.Scalars("loss/val")] == pytest.approx(
        [r["val_loss"] for r in history(root / "run")]
    )
    assert "reconstructions" in tags["images"] and "codes" in tags["histograms"]
    image = events.Images("reconstructions")[-1]
    assert image.width > image.height > 16  # 16 digits above their reconstructions
    projector = (root / "run" / "tensorboard" / "projector_config.pbtxt").read_text()
    assert "sprite" in projector and "tensor_path" in projector


def test_mlflow_reads_back_params_metrics_artifacts_and_the_evaluation(logged):
    import mlflow

    root, uri = logged
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["hourglass"])
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    client = mlflow.MlflowClient(uri)
    run = client.get_run(runs.loc[0, "run_id"])
    assert run.data.params["training.epochs"] == "3" and run.data.params["architecture.kind"] == "conv"
    val = [m.value for m in client.get_metric_history(run.info.run_id, "val_loss")]
    assert len(val) == 3 and val == pytest.approx([r["val_loss"] for r in history(root / "run")])
    assert "eval_pca_squared_error_per_sample" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"run", "onnx", "model"} <= artifacts
    rows = hg.load_digits(seed=0).x_test[:7]  # an image model's pyfunc takes (N, 64) numbers
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    trained = hg.load(root / "run").model
    expected = squared_errors(rows, hg.reconstruct(trained, rows))  # what `hourglass score` gives each row
    np.testing.assert_allclose(model.predict(rows), expected, rtol=1e-4)
    assert np.asarray(model.predict(rows, params={"output": "codes"})).shape == (7, trained.latent_dim)
    assert {a.path for a in client.list_artifacts(run.info.run_id, "run")} >= {
        "run/model.safetensors",
        "run/config.json",
    }
    csv = pd.read_csv(root / "run" / "metrics.csv")
    assert list(csv["epoch"]) == [1, 2, 3] and csv["val_loss"].tolist() == pytest.approx(val)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tensorboard_serves_the_run_on_loopback(logged):
    root, _ = logged
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(root / "run" / "tensorboard"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags", timeout=5) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.5)
        assert body is not None, "TensorBoard did not answer within 60 s"
        assert "loss/train" in next(iter(body.values()))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_logger_without_its_extra_says_which_to_install(monkeypatch):
    from hourglass.training import loggers

    for extra, logger in (("mlflow", loggers.MLflowLogger), ("tensorboard", lambda: loggers.TensorBoardLogger("tb"))):
        monkeypatch.setitem(sys.modules, extra, None)  # as if the extra were not installed
        with pytest.raises(
            hg.HourglassError, match=rf"needs the '{extra}' extra: pip install 'hourglass-ae\[{extra}\]'"
        ):
            logger()


def test_print_config_config_and_like_round_trip(tmp_path):
    printed = hourglass(
        "train",
        "digits",
        "--epochs",
        "2",
        "--latent-dim",
        "3",
        "--noise",
        "gaussian:0.2",
        "--warmup-steps",
        "3",
        "--print-config",
        cwd=tmp_path,
    ).stdout
    assert "latent_dim = 3" in printed and 'noise = "gaussian:0.2"' in printed and "warmup_steps = 3" in printed
    (tmp_path / "run.toml").write_text(printed)
    hourglass("train", "--config", "run.toml", "--out", "a", "--quiet", cwd=tmp_path)
    again = hourglass("train", "--config", "run.toml", "--epochs", "1", "--print-config", cwd=tmp_path).stdout
    assert "epochs = 1" in again  # a flag overrides the file
    hourglass("train", "--like", "a", "--out", "b", "--quiet", cwd=tmp_path)
    a, b = config_json(tmp_path / "a"), config_json(tmp_path / "b")
    assert a["run"]["model"]["latent_dim"] == 3 and a == b  # the same run, to the weights' sha256
    (tmp_path / "bad.toml").write_text("[training]\nepoch = 3\n")
    assert_one_line_error(
        hourglass("train", "digits", "--config", "bad.toml", check=False, cwd=tmp_path),
        "bad.toml",
        "unknown key training.epoch",
    )
    (tmp_path / "bad.toml").write_text('[model]\nlatent_dim = "four"\n')
    assert_one_line_error(
        hourglass("train", "digits", "--config", "bad.toml", check=False, cwd=tmp_path),
        "bad.toml",
        "model.latent_dim must be int",
    )


def test_resume_refuses_a_change_of_precision_from_the_cli(tmp_path):
    hourglass("train", "digits", "--epochs", "1", "--precision", "fp32", "--out", "r", "--quiet", cwd=tmp_path)
    assert_one_line_error(
        hourglass(
            "train",
            "digits",
            "--epochs",
            "2",
            "--precision",
            "bf16",
            "--out",
            "r",
            "--resume",
            "--quiet",
            check=False,
            cwd=tmp_path,
        ),
        "cannot resume: --precision was fp32, now bf16",
    )


def test_no_bottleneck_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "two.csv"
    x = np.random.default_rng(0).random((100, 2))
    pd.DataFrame(x, columns=["a", "b"]).to_csv(path, index=False)
    assert_one_line_error(
        hourglass("train", path, "--epochs", "1", "--quiet", check=False, cwd=tmp_path),
        "--latent-dim 4 is not smaller than the 2 features",
        "no bottleneck",
    )
    hourglass(
        "train", path, "--epochs", "1", "--latent-dim", "4", "--noise", "gaussian:0.1", "--quiet", cwd=tmp_path
    )  # a denoising overcomplete code is allowed


def test_ctrl_c_stops_the_workflow_without_scoring_or_publishing_again(tmp_path):
    class Interrupt(hg.Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 1:
                raise KeyboardInterrupt

    trained = train(
        "digits", ModelConfig(), hg.TrainConfig(epochs=4, progress=False), out=tmp_path / "run", callbacks=[Interrupt()]
    )
    assert trained.history.stopped == "interrupted"
    assert config_json(tmp_path / "run")["anomaly"] is None  # the training split was not scored after Ctrl-C
