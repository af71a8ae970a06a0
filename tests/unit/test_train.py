import json

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass.store import runfolder
from hourglass.training.config import warmup_then_decay


def small_problem(seed=0):
    g = np.random.default_rng(seed)
    z = g.random((300, 2))
    x = np.clip(np.concatenate([z, z**2, z[:, :1] * z[:, 1:], 1 - z], axis=1), 0, 1).astype(np.float32)
    arch = hg.Architecture("mlp", (7,), (16,), 2)
    return x[:240], x[240:], arch


def train_once(epochs=4, seed=0, **kw):
    xt, xv, arch = small_problem()
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=seed)
    config = hg.TrainConfig(epochs=epochs, batch_size=32, seed=seed, progress=False)
    history = hg.fit(model, hg.Objective("bce"), xt, xv, config, **kw)
    return model, history


def same_weights(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_training_lowers_the_loss_and_records_history():
    _, h = train_once(epochs=6)
    assert len(h.epochs) == 6 and h.stopped == "completed"
    assert h.epochs[-1]["train_loss"] < h.epochs[0]["train_loss"]
    assert {"epoch", "train_loss", "val_loss", "train_reconstruction", "lr", "seconds"} <= set(h.epochs[0])
    assert h.best_val_loss == min(r["val_loss"] for r in h.epochs)


def test_same_seed_same_weights_other_seed_other_weights():
    a, _ = train_once(seed=3)
    b, _ = train_once(seed=3)
    c, _ = train_once(seed=4)
    assert same_weights(a, b) and not same_weights(a, c)


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight, _ = train_once(epochs=4, checkpoint_dir=tmp_path / "straight")
    xt, xv, arch = small_problem()
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    cfg = dict(batch_size=32, seed=0, progress=False)
    calls = {"n": 0}

    class Dying(hg.Objective):  # the process dies during epoch 3, without the trainer's clean-up
        def __call__(self, out, *a, training=False, **k):
            calls["n"] += training  # count training steps only, not validation batches
            if calls["n"] > 2 * 8 + 3:  # 240 samples / 32 = 8 steps per epoch
                raise SystemExit
            return super().__call__(out, *a, training=training, **k)

    with pytest.raises(SystemExit):
        hg.fit(model, Dying("bce"), xt, xv, hg.TrainConfig(epochs=4, **cfg), checkpoint_dir=tmp_path / "r")
    history = json.loads((runfolder.current(tmp_path / "r") / "resume.json").read_text())["history"]
    assert len(history["epochs"]) == 2
    fresh = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    h = hg.fit(
        fresh, hg.Objective("bce"), xt, xv, hg.TrainConfig(epochs=4, **cfg), checkpoint_dir=tmp_path / "r", resume=True
    )
    assert len(h.epochs) == 4
    assert same_weights(fresh, straight)
    assert same_weights(hg.load(tmp_path / "r").model, hg.load(tmp_path / "straight").model)
    lines = (runfolder.current(tmp_path / "r") / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def exploding(step: int, factor: float) -> hg.Objective:
    """A BCE objective whose loss is multiplied by ``factor`` (nan, inf) at training step ``step`` (from 1)."""
    calls = {"n": 0}

    class Exploding(hg.Objective):
        def __call__(self, out, *a, training=False, **k):
            calls["n"] += training
            loss, terms = super().__call__(out, *a, training=training, **k)
            return (loss * factor if calls["n"] == step else loss), terms

    return Exploding("bce")


def test_nan_loss_stops_with_a_clear_error_and_keeps_last_good_weights(tmp_path):
    xt, xv, arch = small_problem()
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    config = hg.TrainConfig(epochs=5, batch_size=32, progress=False)
    with pytest.raises(hg.TrainingDiverged, match="loss became nan at epoch 3, step 3; kept the weights of epoch 2"):
        hg.fit(model, exploding(8 * 2 + 3, float("nan")), xt, xv, config, checkpoint_dir=tmp_path / "run")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    saved = hg.load(tmp_path / "run")
    assert saved.config["history"]["stopped"] == "diverged" and saved.config["history"]["best_epoch"] == 2
    assert same_weights(saved.model, model)


def test_early_stopping_restores_the_best_weights():
    xt, xv, arch = small_problem()
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    # a constant, large learning rate makes validation loss bounce, so patience 1 stops early
    config = hg.TrainConfig(epochs=200, batch_size=32, lr=0.05, schedule="constant", patience=1, progress=False)
    h = hg.fit(model, hg.Objective("bce"), xt, xv, config)
    assert h.stopped == "early_stopped" and len(h.epochs) < 200
    assert len(h.epochs) == h.best_epoch + 1
    val = hg.training.step.evaluate_loss(model, hg.Objective("bce"), torch.as_tensor(xv))["loss"]
    assert val == pytest.approx(h.best_val_loss, rel=1e-6)


def test_ctrl_c_stops_cleanly_with_best_weights(tmp_path):
    xt, xv, arch = small_problem()
    model = hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)
    calls = {"n": 0}

    class Interrupted(hg.Objective):
        def __call__(self, out, *a, training=False, **k):
            calls["n"] += training
            if calls["n"] == 8 * 3 + 2:
                raise KeyboardInterrupt
            return super().__call__(out, *a, training=training, **k)

    h = hg.fit(
        model,
        Interrupted("bce"),
        xt,
        xv,
        hg.TrainConfig(epochs=10, batch_size=32, progress=False),
        checkpoint_dir=tmp_path / "run",
    )
    assert h.stopped == "interrupted" and len(h.epochs) == 3
    assert same_weights(hg.load(tmp_path / "run").model, model)


def test_cosine_schedule_and_config_validation():
    c = hg.TrainConfig(lr=0.01)
    assert warmup_then_decay(0, 100, c) == pytest.approx(0.01)
    assert warmup_then_decay(50, 100, c) == pytest.approx(0.005)
    assert warmup_then_decay(100, 100, c) == pytest.approx(0.0)
    w = hg.TrainConfig(lr=0.01, warmup_steps=10)  # linear from 0, then the cosine over the remaining 90 steps
    assert [warmup_then_decay(s, 100, w) for s in (0, 4, 9)] == pytest.approx([0.001, 0.005, 0.01])
    assert warmup_then_decay(55, 100, w) == pytest.approx(0.005)
    for bad, msg in [
        ({"lr": -1}, "lr must be more than 0"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"schedule": "step"}, "schedule must be one of cosine, constant"),
        ({"patience": 0}, "patience must be at least 1"),
        ({"seed": True}, "seed must be a whole"),
        ({"clip_grad_norm": 0}, "clip_grad_norm must be more than 0"),
    ]:
        with pytest.raises(hg.HourglassError, match=msg):
            hg.TrainConfig(**bad)
