"""The trainer opened up: hooks and their order, stopping, the seams (optimizer, schedule, clipping), progress that
moves, the loop's contracts with feeds and objectives, and the findings fixed on the way."""

import io

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass.devices import unwrap
from hourglass.errors import TrainingDiverged
from hourglass.store import checkpoint as ckpt
from hourglass.training import feeds, resume
from hourglass.training.progress import ProgressBar


def problem(n=120, d=6, seed=0):
    x = np.random.default_rng(seed).random((n, d)).astype(np.float32)
    return x[: n * 3 // 4], x[n * 3 // 4 :]


def model(d=6, seed=0):
    return hg.Autoencoder.from_architecture(hg.Architecture("mlp", (d,), (5,), latent_dim=2), "sigmoid", seed=seed)


class Recorder(hg.Callback):
    def __init__(self, stop_after=None):
        self.calls, self.stop_after = [], stop_after

    def on_fit_start(self, trainer):
        self.calls.append(("fit_start",))

    def on_epoch_start(self, trainer, epoch):
        self.calls.append(("epoch_start", epoch))

    def on_step_end(self, trainer, step, steps, samples):
        self.calls.append(("step_end", step, steps, samples))

    def on_epoch_end(self, trainer, record):
        self.calls.append(("epoch_end", record["epoch"], sorted(record)))
        if record["epoch"] == self.stop_after:
            trainer.should_stop = True

    def on_checkpoint(self, trainer, folder):
        self.calls.append(("checkpoint",))

    def on_exception(self, trainer, error):
        self.calls.append(("exception", type(error).__name__))

    def on_fit_end(self, trainer):
        self.calls.append(("fit_end", trainer.history.stopped))


def test_hooks_run_in_order_at_the_loops_own_host_syncs(tmp_path):
    x_train, x_val = problem(n=160)  # 120 rows in batches of 2: 60 steps, looked at after 50 and 60
    rec = Recorder()
    hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=2, batch_size=2, progress=False),
        callbacks=[rec],
        checkpoint_dir=tmp_path / "run",
    )
    names = [c[0] for c in rec.calls]
    assert names == [
        "fit_start",
        "epoch_start",
        "step_end",
        "step_end",
        "epoch_end",
        "checkpoint",
        "epoch_start",
        "step_end",
        "step_end",
        "epoch_end",
        "checkpoint",
        "fit_end",
    ]
    assert rec.calls[2] == ("step_end", 50, 60, 100) and rec.calls[3] == ("step_end", 60, 60, 120)
    assert {"epoch", "train_loss", "val_loss", "lr", "seconds", "samples_per_s"} <= set(rec.calls[4][2])
    assert rec.calls[-1] == ("fit_end", "completed")


def test_a_callback_stops_training_and_the_snapshot_says_so(tmp_path):
    x_train, x_val = problem()
    rec = Recorder(stop_after=2)
    h = hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=6, progress=False),
        callbacks=[rec],
        checkpoint_dir=tmp_path / "run",
    )
    assert len(h.epochs) == 2 and h.stopped == "early_stopped"
    assert ckpt.read_config(tmp_path / "run")["history"]["stopped"] == "early_stopped"


def test_ctrl_c_reaches_on_exception_with_the_best_weights_published(tmp_path):
    class Interrupt(hg.Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 2:
                raise KeyboardInterrupt

    x_train, x_val = problem()
    rec = Recorder()
    h = hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=5, progress=False),
        callbacks=[rec, Interrupt()],
        checkpoint_dir=tmp_path / "run",
    )
    assert h.stopped == "interrupted" and len(h.epochs) == 2
    assert ("exception", "KeyboardInterrupt") in rec.calls and rec.calls[-1] == ("fit_end", "interrupted")


def test_the_optimizer_factory_and_gradient_clipping():
    x_train, x_val = problem()
    sgd = lambda params, config: torch.optim.SGD(params, lr=config.lr)  # noqa: E731 - SGD feels the clip; Adam not

    def moved(clip):
        m = model()
        before = torch.cat([p.detach().flatten().clone() for p in m.parameters()])
        hg.fit(
            m,
            hg.Objective("bce"),
            x_train,
            x_val,
            hg.TrainConfig(epochs=1, lr=0.5, clip_grad_norm=clip, schedule="constant", progress=False),
            optimizer=sgd,
        )
        return float((torch.cat([p.detach().flatten() for p in m.parameters()]) - before).abs().max())

    steps = -(-len(x_train) // 256)
    assert moved(None) > 1e-3
    assert moved(1e-6) <= 0.5 * 1e-6 * steps + 1e-7  # every step's update is lr · (a gradient of norm ≤ 1e-6)


def test_the_schedule_is_a_function_the_loop_calls_each_step():
    x_train, x_val = problem(n=400)
    seen = []

    def schedule(step, total, config):
        seen.append((step, total))
        return config.lr

    h = hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=2, batch_size=100, progress=False),
        schedule=schedule,
    )
    assert seen == [(s, 6) for s in range(6)] and h.epochs[-1]["lr"] == 3e-3


class Repeated:
    """A feed that yields each batch of an in-memory feed ``times`` times (or only the first ``limit`` batches)."""

    def __init__(self, data, times=1, limit=None, poison_last=False):
        self.inner, self.times, self.limit, self.poison_last = feeds.InMemory(data), times, limit, poison_last

    def __len__(self):
        return len(self.inner)

    def epoch(self, generator, batch_size):
        batches = [b for b in self.inner.epoch(generator, batch_size) for _ in range(self.times)][: self.limit]
        if self.poison_last:
            batches[-1] = torch.full_like(batches[-1], float("nan"))
        yield from batches

    def chunks(self, batch_size):
        return self.inner.chunks(batch_size)

    def sharded(self, rank, size):
        return self

    def placed(self, device):
        return self

    def fingerprint(self):
        return self.inner.fingerprint()


def test_feeds_with_more_fewer_or_no_batches_than_their_length_implies():
    x_train, x_val = problem()
    data = (torch.as_tensor(x_train),)
    config = hg.TrainConfig(epochs=1, batch_size=30, progress=False)  # ⌈90 / 30⌉ = 3 steps expected
    h = hg.fit(model(), hg.Objective("bce"), Repeated(data, times=3), x_val, config)  # 9 steps: no IndexError
    assert np.isfinite(h.epochs[0]["train_loss"])
    with pytest.raises(TrainingDiverged, match="epoch 1, step 2"):  # the fewer steps are all still checked
        hg.fit(model(), hg.Objective("bce"), Repeated(data, limit=2, poison_last=True), x_val, config)
    with pytest.raises(hg.HourglassError, match="gave no batch"):
        hg.fit(model(), hg.Objective("bce"), Repeated(data, limit=0), x_val, config)
    assert isinstance(Repeated(data), feeds.Feed) and not isinstance(object(), feeds.Feed)


def test_an_objective_without_the_protocol_is_refused_by_name():
    x_train, x_val = problem()
    with pytest.raises(hg.HourglassError, match="objective must have inputs"):
        hg.fit(model(), lambda out, x: out, x_train, x_val, hg.TrainConfig(epochs=1, progress=False))


def test_unwrap_knows_its_wrappers_and_nothing_else():
    m = model()

    class HasModule(torch.nn.Module):  # a user's model whose attribute happens to be called module
        def __init__(self):
            super().__init__()
            self.module = torch.nn.Linear(2, 2)

    mine = HasModule()
    assert unwrap(mine) is mine
    assert unwrap(torch.nn.DataParallel(m)) is m
    assert unwrap(torch.compile(m)) is m  # compiled lazily: nothing runs until it is called


def test_resume_refuses_a_change_of_precision(tmp_path):
    x_train, x_val = problem()
    hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=1, progress=False),
        checkpoint_dir=tmp_path / "run",
    )
    with pytest.raises(hg.HourglassError, match="precision was fp32, now bf16"):
        hg.fit(
            model(),
            hg.Objective("bce"),
            x_train,
            x_val,
            hg.TrainConfig(epochs=2, precision="bf16", progress=False),
            checkpoint_dir=tmp_path / "run",
            resume=True,
        )


def test_the_data_fingerprint_takes_any_dtype():
    x = torch.rand(5, 3, generator=torch.Generator().manual_seed(0))
    a = resume.data_fingerprint((x.bfloat16(), torch.arange(5)))
    assert a == resume.data_fingerprint((x.bfloat16(), torch.arange(5)))
    assert a != resume.data_fingerprint((x.bfloat16().flip(0), torch.arange(5)))


def test_binarize_never_copies_the_batch_back_to_the_host():
    objective = hg.Objective("bce", binarize=True)
    target, _ = objective.inputs(torch.rand(4, 3).to("meta"), torch.Generator().manual_seed(0))  # .cpu() would fail
    assert target.device.type == "meta"
    x = torch.tensor([[0.0, 1.0, 0.5]]).repeat(2000, 1)
    b, _ = objective.inputs(x, torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) <= {0.0, 1.0} and b[:, 0].sum() == 0 and b[:, 1].sum() == 2000
    assert abs(float(b[:, 2].mean()) - 0.5) < 0.05


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_moves_within_an_epoch(monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    x_train, x_val = problem(n=400)
    plain = io.StringIO()
    hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=2, batch_size=2, progress=False),
        callbacks=[ProgressBar(plain, every_s=0)],
    )
    lines = plain.getvalue().splitlines()
    assert any(line.startswith("epoch 1/2  step 50/150") and "samples/s" in line and "ETA" in line for line in lines)
    assert sum(line.startswith("epoch 2/2  loss") for line in lines) == 1
    bar = Terminal()
    hg.fit(
        model(),
        hg.Objective("bce"),
        x_train,
        x_val,
        hg.TrainConfig(epochs=1, batch_size=2, progress=False),
        callbacks=[ProgressBar(bar)],
    )
    assert "150/150" in bar.getvalue() and "samples/s" in bar.getvalue()


def test_compile_trains_the_same_model_as_eager():
    x_train, x_val = problem()
    eager, compiled = model(), model()
    config = dict(epochs=2, progress=False)
    a = hg.fit(eager, hg.Objective("bce"), x_train, x_val, hg.TrainConfig(**config))
    b = hg.fit(compiled, hg.Objective("bce"), x_train, x_val, hg.TrainConfig(compile=True, **config))
    assert b.epochs[-1]["val_loss"] == pytest.approx(a.epochs[-1]["val_loss"], rel=1e-4)
    assert all(torch.allclose(p, q, atol=1e-5) for p, q in zip(eager.parameters(), compiled.parameters(), strict=True))
