"""The pieces of the claims run: Fréchet distance, perturbation ratio, the digit classifier's file, verdicts and the
HTML report."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hourglass import HourglassError
from hourglass.experiments import Check, Claim, frechet_distance, perturbation_ratio
from hourglass.experiments import classifier as clf
from hourglass.experiments.record import Figure, at_least, at_most
from hourglass.models import Autoencoder
from hourglass.nets import Architecture
from hourglass.report.html import render


def test_frechet_distance_matches_the_gaussian_formula():
    rng = np.random.default_rng(0)
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    a = mu_a + sd_a * rng.standard_normal((200_000, 3))
    b = mu_b + sd_b * rng.standard_normal((200_000, 3))
    # diagonal covariances: FD = ‖μa − μb‖² + Σ (σa − σb)²
    expected = ((mu_a - mu_b) ** 2).sum() + ((sd_a - sd_b) ** 2).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert abs(frechet_distance(a, a)) < 1e-6


def test_perturbation_ratio_of_a_linear_encoder_is_its_frobenius_norm_over_root_d():
    model = Autoencoder.from_architecture(Architecture("linear", (400,), latent_dim=20), seed=0)
    w = model.encoder.weight.detach().double().numpy()
    x = np.random.default_rng(1).random((500, 400), dtype=np.float32)
    # f(x + δ) − f(x) = W δ exactly; for random δ in 400 dimensions ‖Wδ‖/‖δ‖ concentrates at ‖W‖_F / √D
    assert perturbation_ratio(model, x, scale=0.01) == pytest.approx(np.linalg.norm(w) / np.sqrt(400), rel=0.03)


def test_classifier_file_round_trip_and_foreign_files(tmp_path):
    model = clf.train_classifier(
        np.random.default_rng(0).random((256, 784), dtype=np.float32), np.arange(256) % 10, epochs=1
    )
    path = clf.save_classifier(model, tmp_path / "c.safetensors", {"test_accuracy": 0.5})
    loaded, record = clf.load_classifier(path)
    assert record == {"test_accuracy": 0.5}
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    x = np.random.default_rng(2).random((7, 784), dtype=np.float32)
    assert np.array_equal(clf.features(model, x), clf.features(loaded, x))
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(HourglassError, match="junk.safetensors"):
        clf.load_classifier(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(HourglassError, match="not an hourglass digit classifier"):
        clf.load_classifier(tmp_path / "other.safetensors")


def test_classifier_training_is_seeded():
    x = np.random.default_rng(0).random((128, 784), dtype=np.float32)
    y = np.arange(128) % 10
    a, b = clf.train_classifier(x, y, epochs=1, seed=3), clf.train_classifier(x, y, epochs=1, seed=3)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_verdicts():
    claim = Claim("t", "s", [at_most("a", 1.0, 2.0), at_least("b", 0.5, 0.9, judged=False)])
    assert claim.verdict == "PASS" and claim.headline.metric == "a"
    claim.checks.append(at_most("c", 3.0, 2.0))
    assert claim.verdict == "FAIL" and claim.headline.metric == "c"
    assert Claim("t", "s", [at_least("b", 0.5, 0.9, judged=False)]).verdict == "NOT JUDGED"
    assert Claim("t", "s", error="ValueError: x").verdict == "ERROR"
    assert Check("m", 1.0, "≤ 2", True).to_dict()["verdict"] == "PASS"


def test_report_is_one_offline_file_with_escaped_text(tmp_path):
    from hourglass.report import line_plot

    png = line_plot([{"series": [("s", [1, 2], [3, 4])]}], tmp_path / "f.png")
    claim = Claim(
        "<b>bold</b> claim",
        "x < y & z",
        [at_most("m", 1.0, 2.0)],
        measurements={"v": np.float64(1.5), "arr": np.zeros(3)},
        figures=[Figure(png, "a <figure>")],
    )
    summary = {
        "mode": "full",
        "data": "mnist",
        "seed": 0,
        "seconds": 1.0,
        "hourglass_version": "0",
        "torch_version": "t",
        "python_version": "p",
        "machine": "m",
        "threads": 2,
        "claims": [claim.to_dict(tmp_path)],
    }
    json.dumps(summary)  # plain JSON: the array was left out, the NumPy float became a float
    assert summary["claims"][0]["measurements"] == {"v": 1.5}
    html = render(summary, tmp_path)
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "x &lt; y &amp; z" in html
    assert "data:image/png;base64," in html and 'src="f.png"' not in html
    assert "http" not in html.replace("http-equiv", "")


def test_lab_caches_resumes_and_retrains(tmp_path, monkeypatch):
    import hourglass.training.step as train_module
    from hourglass.data import load_digits
    from hourglass.experiments import QUICK, Lab
    from hourglass.workflow import ModelConfig

    data, config = load_digits(seed=0), ModelConfig(widths=(32,), latent_dim=4)
    quiet = dict(sizes=QUICK, progress=False, log=lambda *a: None)
    reference = Lab(tmp_path / "a", **quiet).model("m", config, 3, data=data)
    assert not reference.cached and reference.train_seconds > 0

    # Ctrl-C during the second epoch's validation: the run stops, and the next run resumes from epoch 1.
    real, calls = train_module.evaluate_loss, []

    def interrupt_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate_loss", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        Lab(tmp_path / "b", **quiet).model("m", config, 3, data=data)
    monkeypatch.setattr(train_module, "evaluate_loss", real)
    record = json.loads((tmp_path / "b" / "models" / "m" / "recipe.json").read_text())
    assert record["finished"] is False
    resumed = Lab(tmp_path / "b", **quiet).model("m", config, 3, data=data)
    assert not resumed.cached
    for k, v in reference.model.state_dict().items():  # the resumed run ends where the uninterrupted one did
        assert torch.equal(v, resumed.model.state_dict()[k]), k

    from hourglass.store import runfolder

    weights = runfolder.current(tmp_path / "b" / "models" / "m") / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    again = Lab(tmp_path / "b", **quiet).model("m", config, 3, data=data)
    assert again.cached and weights.stat().st_mtime_ns == stamp
    assert again.train_seconds == pytest.approx(resumed.train_seconds)
    other = Lab(tmp_path / "b", **quiet).model("m", config, 4, data=data)  # another recipe: trained afresh
    assert not other.cached
    assert json.loads((tmp_path / "b" / "models" / "m" / "recipe.json").read_text())["epochs"] == 4
    (tmp_path / "b" / "models" / "m" / "recipe.json").write_text("{not json")  # a torn or foreign file
    assert not Lab(tmp_path / "b", **quiet).model("m", config, 4, data=data).cached


def test_claim_10_fails_a_model_whose_hidden_layer_is_narrower_than_its_code(tmp_path):
    """The verdict reads the built network, so a config whose hidden width is below the code size fails it."""
    import hourglass as hg
    from hourglass.data import Scaling
    from hourglass.experiments import QUICK, Lab, claim_hourglass
    from hourglass.experiments.lab import LabModel

    lab = Lab(tmp_path, sizes=QUICK, progress=False, log=lambda *a: None)
    shape = lab.mnist.shape
    for name, widths, k in (("ae-mlp-k2", (64,), 2), ("pinched", (3,), 8)):
        model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", shape, widths, k), "sigmoid")
        hg.save(tmp_path / "models" / name, model)
        lab._models[name] = LabModel(model, Scaling(), 0.0, tmp_path / "models" / name, cached=True)
    vae = hg.VAE.from_architecture(hg.Architecture("mlp", shape, (64,), 4))
    hg.save(tmp_path / "models" / "vae-ref", vae)
    lab._models["vae-ref"] = LabModel(vae, Scaling(), 0.0, tmp_path / "models" / "vae-ref", cached=True)
    claim = claim_hourglass(lab)
    assert claim.verdict == "FAIL" and claim.measurements["models_checked"] == 3
    assert claim.checks[0].value == pytest.approx(2 / 3)
    (tmp_path / "models" / "pinched" / "CURRENT").unlink()  # without it, every model is an hourglass
    assert claim_hourglass(lab).verdict == "PASS"


def test_the_claims_train_on_the_device_asked_for_and_reuse_models_across_devices(tmp_path):
    from hourglass.data import load_digits
    from hourglass.experiments import QUICK, Lab, run_claims
    from hourglass.workflow import ModelConfig

    with pytest.raises(HourglassError, match="device cuda: no CUDA GPU"):  # refused before any claim runs
        run_claims(tmp_path / "c", quick=True, only=[10], progress=False, log=lambda *a: None, device="cuda")
    assert not (tmp_path / "c" / "claims.json").exists()
    data, config = load_digits(seed=0), ModelConfig(widths=(32,), latent_dim=4)
    quiet = dict(sizes=QUICK, progress=False, log=lambda *a: None)
    trained = Lab(tmp_path / "d", device="cpu", **quiet).model("m", config, 2, data=data)
    assert not trained.cached and next(trained.model.parameters()).device.type == "cpu"
    assert Lab(tmp_path / "d", device="auto", **quiet).model("m", config, 2, data=data).cached
