import json

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass.store import checkpoint as ckpt
from hourglass.store import runfolder

from .test_train import same_weights


@pytest.fixture(params=["mlp", "conv", "linear"])
def model(request):
    arch = hg.Architecture(request.param, (1, 8, 8), None if request.param != "mlp" else (32, 16), latent_dim=3)
    m = hg.Autoencoder.from_architecture(arch, "sigmoid" if request.param != "linear" else "linear", seed=1)
    with torch.no_grad():  # move away from the initialisation so the round trip is not trivially equal
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())) * 0.01)
    return m


def test_round_trip_gives_bitwise_equal_outputs(tmp_path, model):
    scaling = hg.Scaling("standardize", np.linspace(0, 1, 64), np.linspace(1, 2, 64))
    hg.save(tmp_path / "run", model, scaling=scaling, objective={"reconstruction": "bce"}, data={"name": "digits"})
    loaded = hg.load(tmp_path / "run")
    x = torch.rand(16, 64, generator=torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.model.reconstruct(x), model.reconstruct(x))
        assert torch.equal(loaded.model.encode(x), model.encode(x))
    assert loaded.model.architecture == model.architecture and loaded.model.output == model.output
    np.testing.assert_array_equal(loaded.scaling.shift, scaling.shift)
    np.testing.assert_array_equal(loaded.scaling.scale, scaling.scale)
    cfg = json.loads((runfolder.current(tmp_path / "run") / "config.json").read_text())
    assert cfg["format"] == "hourglass-checkpoint" and cfg["hourglass_version"] == hg.__version__


@pytest.fixture
def saved(tmp_path, tiny_model):
    """The folder of the saved checkpoint's files (its current snapshot)."""
    return runfolder.current(hg.save(tmp_path / "run", tiny_model))


def test_truncated_weights_are_detected(saved):
    w = saved / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-100])
    with pytest.raises(hg.HourglassError, match="model.safetensors: sha256 does not match.*truncated"):
        hg.load(saved)


def test_corrupted_byte_is_detected(saved):
    w = saved / "model.safetensors"
    raw = bytearray(w.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    w.write_bytes(bytes(raw))
    with pytest.raises(hg.HourglassError, match="sha256 does not match"):
        hg.load(saved)


def test_truncated_config_is_detected(saved):
    c = saved / "config.json"
    c.write_text(c.read_text()[:50])
    with pytest.raises(hg.HourglassError, match="config.json: not valid JSON"):
        hg.load(saved)


def test_foreign_files_are_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(hg.HourglassError, match="not an hourglass checkpoint"):
        hg.load(tmp_path)
    with pytest.raises(hg.HourglassError, match="no such checkpoint folder"):
        hg.load(tmp_path / "missing")


def test_weights_not_safetensors_are_refused(saved):
    w = saved / "model.safetensors"
    w.write_bytes(b"\x80\x04not safetensors at all")
    cfg = json.loads((saved / "config.json").read_text())
    cfg["weights"]["sha256"] = ckpt._sha256(w.read_bytes())  # a consistent but foreign file
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(hg.HourglassError, match="not a readable safetensors file"):
        hg.load(saved)


def test_mismatched_architecture_is_refused_before_loading(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["model"]["architecture"]["latent_dim"] = 5
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(hg.HourglassError, match="tensor encoder.*needs F32 \\(5, 16\\)"):
        hg.load(saved)


def test_newer_format_version_is_refused(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["format_version"] = 99
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(hg.HourglassError, match="checkpoint format 99; this hourglass .* reads formats 1, 2"):
        hg.load(saved)


def test_a_custom_module_is_saved_and_loaded_into_a_module_the_user_builds(tmp_path):
    def build():
        return hg.Autoencoder(
            torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)), torch.nn.Linear(2, 4)
        )

    custom = build()
    hg.save(tmp_path / "x", custom)
    config = ckpt.read_config(tmp_path / "x")
    assert config["model"]["kind"] == "custom" and config["model"]["class"].endswith("Autoencoder")
    assert config["model"]["tensors"]["encoder.0.weight"] == [3, 4]
    with pytest.raises(hg.HourglassError, match="custom module .*pass it: load"):
        hg.load(tmp_path / "x")  # nothing named in the file is imported: the user builds the module
    mine = build()
    assert not same_weights(mine, custom)
    assert same_weights(hg.load(tmp_path / "x", model=mine).model, custom)
    wrong = hg.Autoencoder(torch.nn.Linear(4, 2), torch.nn.Linear(2, 4))
    before = {k: v.clone() for k, v in wrong.state_dict().items()}
    with pytest.raises(hg.HourglassError, match="do not fit"):
        hg.load(tmp_path / "x", model=wrong)  # names and shapes are checked before any weight is copied
    assert all(torch.equal(before[k], v) for k, v in wrong.state_dict().items())
