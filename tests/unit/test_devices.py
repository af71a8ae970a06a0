"""Devices and precision: what is chosen, what is refused, and a loop that does not wait for the device each step."""

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass import devices
from hourglass.errors import HourglassError
from hourglass.store import training_state
from hourglass.training import loop as train

from .test_train import exploding, small_problem


def test_auto_picks_cuda_then_mps_then_cpu():
    want = (
        "cuda"
        if torch.cuda.is_available()
        else ("mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    )
    assert devices.resolve("auto").type == want
    assert devices.resolve("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    "name, message", [("gpu", "unknown device 'gpu'"), ("cuda:x", "unknown device"), ("", "unknown device")]
)
def test_unknown_devices_are_refused_by_name(name, message):
    with pytest.raises(HourglassError, match=message):
        devices.resolve(name)


@pytest.mark.parametrize(
    "avx512_bf16, amx, want", [(True, False, "bf16"), (False, True, "bf16"), (False, False, "fp32")]
)
def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(monkeypatch, avx512_bf16, amx, want):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    cpu = torch.device("cpu")
    assert devices.fastest_precision("auto", cpu) == want
    for chosen in devices.PRECISIONS:  # a precision the user named is kept as it is
        assert devices.fastest_precision(chosen, cpu) == chosen


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_where_there_is_none_says_so():
    with pytest.raises(HourglassError, match="no CUDA GPU is visible"):
        devices.resolve("cuda:0")
    with pytest.raises(HourglassError, match="fp16 needs device cuda"):
        devices.check_precision("fp16", torch.device("cpu"))
    with pytest.raises(HourglassError, match="precision must be one of fp32, bf16, fp16, got 'fp8'"):
        hg.TrainConfig(precision="fp8")


def host_waits(monkeypatch):
    """Count the calls that make the host wait for a tensor's value."""
    counts = {"n": 0}
    for name in ("item", "__float__", "__bool__", "tolist"):
        original = getattr(torch.Tensor, name)

        def counted(self, *a, _original=original, **k):
            counts["n"] += 1
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


def test_the_loop_looks_at_losses_every_guard_every_steps_not_every_step(monkeypatch):
    xt, xv, arch = small_problem()
    x = np.tile(xt, (10, 1))  # 2,400 rows: 150 steps of 16 per epoch
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    counts = host_waits(monkeypatch)
    hg.fit(model, hg.Objective("bce"), x, xv, hg.TrainConfig(epochs=2, batch_size=16, progress=False))
    steps = 2 * 150
    assert counts["n"] < steps / 5, counts  # per epoch: a look every 50 steps, the sums, and the validation pass
    assert train.GUARD_EVERY == 50


def test_a_nan_late_in_a_guard_window_is_still_placed_exactly(tmp_path):
    xt, xv, arch = small_problem()
    x = np.tile(xt, (10, 1))
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    config = hg.TrainConfig(epochs=3, batch_size=16, progress=False)
    with pytest.raises(hg.TrainingDiverged, match="loss became inf at epoch 2, step 47; kept the weights of epoch 1"):
        hg.fit(model, exploding(150 + 47, float("inf")), x, xv, config, checkpoint_dir=tmp_path / "run")
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the steps after the bad one are discarded
    saved = hg.load(tmp_path / "run")
    assert all(torch.equal(saved.model.state_dict()[k], model.state_dict()[k]) for k in model.state_dict())
    assert training_state.read_training_record(tmp_path / "run")["history"]["epochs"][-1]["epoch"] == 1


def test_bf16_trains_in_float32_weights_to_about_the_same_loss():
    xt, xv, arch = small_problem()
    losses = {}
    for precision in ("fp32", "bf16"):
        model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
        h = hg.fit(
            model,
            hg.Objective("bce"),
            xt,
            xv,
            hg.TrainConfig(epochs=8, batch_size=32, progress=False, precision=precision),
        )
        assert all(p.dtype == torch.float32 for p in model.parameters())
        losses[precision] = h.best_val_loss
    assert losses["bf16"] != losses["fp32"]  # the forward pass really ran in bfloat16 ...
    assert abs(losses["bf16"] - losses["fp32"]) < 0.05 * losses["fp32"]  # ... and learned as much
