"""`hourglass export`: the ONNX graph, run by onnxruntime, gives what hourglass gives, from raw rows."""

import json
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from hourglass.errors import HourglassError
from hourglass.export import export_onnx
from hourglass.metrics import encode, reconstruct
from hourglass.scoring import anomaly_scores
from hourglass.store import checkpoint as ckpt
from hourglass.use import samples_for

from .test_cli import assert_one_line_error, hourglass


def close(got, want, rtol=1e-5):
    """Equal within ``rtol`` of the largest magnitude of ``want`` (a code near 0 has no relative error of its own)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= rtol * np.abs(want).max(), np.abs(got - want).max() / np.abs(want).max()


def run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(
        zip([o.name for o in session.get_outputs()], session.run(None, {session.get_inputs()[0].name: x}), strict=True)
    )


@pytest.mark.parametrize("name", ["mlp", "conv", "vae", "table"])
def test_onnx_outputs_equal_pytorch_from_raw_rows(trained, tmp_path, name):
    checkpoint = ckpt.load(trained[name])
    data = trained["customers.csv"] if name == "table" else "digits"
    samples, x_model = samples_for(checkpoint, data)
    raw = samples.x.astype(np.float32)  # the data's own units: the graph scales them itself
    result = export_onnx(checkpoint, tmp_path / "m.onnx")
    assert result["max_relative_error"] <= 1e-5
    for rows in (raw[:1], raw):  # the batch axis is dynamic: 1 row, and all of them
        out = run(tmp_path / "m.onnx", rows)
        x_m = x_model[: len(rows)]
        close(out["code"], encode(checkpoint.model, x_m))  # a VAE's code is the mean of q(z|x)
        close(out["reconstruction"], checkpoint.scaling.inverse_transform(reconstruct(checkpoint.model, x_m)))
        close(out["score"], anomaly_scores(checkpoint, x_m)["scores"])

    meta = {p.key: p.value for p in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert meta["variant"] == checkpoint.variant and meta["hourglass_version"]
    quantiles = checkpoint.config["anomaly"]["train_error_quantiles"]
    assert json.loads(meta["train_error_quantiles"]) == quantiles
    names = json.loads(meta["feature_names"])
    assert names == (
        ["spend", "visits", "basket", "region=north", "region=south"]
        if name == "table"
        else [f"x{i}" for i in range(1, 65)]
    )


def test_each_part_alone(trained, tmp_path):
    checkpoint = ckpt.load(trained["conv"])
    _, x_model = samples_for(checkpoint, "digits")
    raw = checkpoint.scaling.inverse_transform(x_model)
    z = encode(checkpoint.model, x_model)
    export_onnx(checkpoint, tmp_path / "dec.onnx", part="decoder")
    with torch.no_grad():
        decoded = checkpoint.model.decode(torch.from_numpy(z)).numpy()
    close(run(tmp_path / "dec.onnx", z)["reconstruction"], checkpoint.scaling.inverse_transform(decoded))
    export_onnx(checkpoint, tmp_path / "enc.onnx", part="encoder")
    assert list(run(tmp_path / "enc.onnx", raw)) == ["code"]
    export_onnx(checkpoint, tmp_path / "score.onnx", part="score")
    close(run(tmp_path / "score.onnx", raw)["score"], anomaly_scores(checkpoint, x_model)["scores"])
    with pytest.raises(HourglassError, match="unknown part 'middle'"):
        export_onnx(checkpoint, tmp_path / "x.onnx", part="middle")


def test_cli_export_then_the_docs_snippet_reproduces_encode(trained, tmp_path, monkeypatch, capsys):
    hourglass("export", trained["mlp"], "-o", tmp_path / "m.onnx")
    hourglass("encode", trained["mlp"], "digits", "-o", tmp_path / "z.npy")
    page = (Path(__file__).parents[2] / "docs" / "guide" / "after-training.md").read_text()
    snippet = re.search(r"```py\n(.*?)```", page, re.S).group(1)  # shown after the two shell steps, run here
    assert len([line for line in snippet.splitlines() if line.strip()]) == 5
    monkeypatch.chdir(tmp_path)  # the docs' five lines, on a digits model (MNIST's would take minutes to train)
    exec(compile(snippet.replace("load_mnist", "load_digits"), "after-training.md", "exec"), {})
    assert float(capsys.readouterr().out) <= 1e-5 * np.abs(np.load(tmp_path / "z.npy")).max()
    assert_one_line_error(hourglass("export", trained["mlp"], "-o", tmp_path / "m.txt", check=False), ".onnx")
    assert_one_line_error(hourglass("export", tmp_path, "-o", tmp_path / "n.onnx", check=False), "no checkpoint")
