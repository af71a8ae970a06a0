"""A kill after any single file operation of a checkpoint leaves a run that evaluates and resumes, and the
resumed run ends bitwise-equal to the uninterrupted one; resume checks it is the same run, and repeats."""

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass.store import files, runfolder
from hourglass.workflow import ModelConfig, evaluate, train


def problem():
    return hg.load_digits(seed=0)


CONFIG = ModelConfig(widths=(16,), latent_dim=2)


def run(out, epochs=3, resume=False, **train_options):
    tc = hg.TrainConfig(epochs=epochs, batch_size=128, progress=False, **train_options)
    return train(problem(), CONFIG, tc, out=out, resume=resume)


def same_weights(a, b):
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


class Killed(BaseException):
    """What a SIGKILL is to the code that was running: nothing after it happens (not even `except Exception`)."""


def test_a_kill_after_any_file_operation_leaves_a_run_that_evaluates_and_resumes(tmp_path, monkeypatch):
    reference = run(tmp_path / "reference")
    operations = []
    monkeypatch.setattr(files, "operation", lambda name, path: operations.append(name))
    run(tmp_path / "counted")
    total = len(operations)
    assert total > 20 and {"write", "fsync", "rename", "replace"} <= set(operations)

    for n in range(1, total + 1):
        folder, count = tmp_path / f"killed-{n}", [0]

        def kill_at_n(name, path, count=count, n=n):
            count[0] += 1
            if count[0] == n:
                raise Killed

        monkeypatch.setattr(files, "operation", kill_at_n)
        with pytest.raises(Killed):
            run(folder)
        monkeypatch.setattr(files, "operation", lambda name, path: None)
        if runfolder.current(folder) is not None:  # something was published: it is whole
            assert hg.load(folder).config["history"]["epochs_run"] >= 1
            assert np.isfinite(evaluate(folder)["squared_error_per_sample"])
        resumed = run(folder, resume=True)
        assert same_weights(resumed.model, reference.model), f"killed at operation {n}: {operations[n - 1]}"
        assert same_weights(hg.load(folder).model, reference.model)
        assert len(list(folder.glob("snapshot-*"))) <= runfolder.KEEP and not list(folder.glob(".snapshot-*"))


def test_resume_refuses_another_run_naming_what_differs(tmp_path):
    run(tmp_path / "r", epochs=2)
    for change, name in [
        ({"seed": 1}, "seed was 0, now 1"),
        ({"lr": 1e-3}, "lr was 0.003, now 0.001"),
        ({"schedule": "constant"}, "schedule was cosine, now constant"),
        ({"patience": 3}, "patience was None, now 3"),
    ]:
        with pytest.raises(hg.HourglassError, match=f"cannot resume: {name}"):
            run(tmp_path / "r", epochs=4, resume=True, **change)
    with pytest.raises(hg.HourglassError, match="cannot resume: batch_size was 128, now 16"):
        train(
            problem(), CONFIG, hg.TrainConfig(epochs=4, batch_size=16, progress=False), out=tmp_path / "r", resume=True
        )
    other = problem()
    other.x_train = other.x_train[::-1].copy()  # the same columns and rows, another order: another run
    with pytest.raises(hg.HourglassError, match="cannot resume: training_data was 1437×64 rows") as e:
        train(other, CONFIG, hg.TrainConfig(epochs=4, batch_size=128, progress=False), out=tmp_path / "r", resume=True)
    assert e.value.params == ("training_data", "overwrite")
    grown = run(tmp_path / "r", epochs=4, resume=True)  # only epochs may grow, and the note says what that changes
    assert len(grown.history.epochs) == 4 and "cosine schedule now decays over 4 epochs" in grown.history.notes[0]


def test_resume_is_safe_to_repeat(tmp_path):
    first = run(tmp_path / "r")
    again = run(tmp_path / "r", resume=True)  # a finished run: nothing to do, and it says so
    assert "already trained 3 epochs" in again.history.notes[0] and same_weights(again.model, first.model)
    fresh = run(tmp_path / "never-saved", resume=True)  # nothing saved yet: the run starts
    assert "started from the beginning" in fresh.history.notes[0] and same_weights(fresh.model, first.model)


def test_resume_with_patience_is_bitwise(tmp_path, monkeypatch):
    options = dict(lr=0.05, schedule="constant", patience=2)
    reference = run(tmp_path / "reference", epochs=30, **options)
    assert reference.history.stopped == "early_stopped" and len(reference.history.epochs) < 30
    stop_after = reference.history.best_epoch + 1  # a kill after an epoch without improvement
    publications = [0]

    def kill(name, path):
        publications[0] += name == "replace"
        if publications[0] == stop_after and name == "replace":
            raise Killed

    monkeypatch.setattr(files, "operation", kill)
    with pytest.raises(Killed):
        run(tmp_path / "r", epochs=30, **options)
    monkeypatch.setattr(files, "operation", lambda name, path: None)
    resumed = run(tmp_path / "r", epochs=30, resume=True, **options)
    assert resumed.history.stopped == "early_stopped"
    assert len(resumed.history.epochs) == len(reference.history.epochs)
    assert same_weights(resumed.model, reference.model)


def test_one_writer_per_run_folder(tmp_path):
    refused = pytest.raises(hg.HourglassError, match="another process .* is writing this run")
    with runfolder.writer(tmp_path / "r"), refused, runfolder.writer(tmp_path / "r"):  # locked once, by fit
        pass
    with runfolder.writer(tmp_path / "r"):  # released: the next writer may go on
        pass
    # another process's lock is tested from the command line (tests/integration/test_guarantees.py)
    assert (tmp_path / "r" / ".lock.pid").read_text().strip().isdigit()


def test_a_training_publishes_one_snapshot_per_checkpoint_and_its_last_keeps_the_error_quantiles(tmp_path):
    folder = tmp_path / "run"
    published = []
    original = runfolder.publish
    try:
        runfolder.publish = lambda directory, contents: (
            published.append(sorted(contents)) or original(directory, contents)
        )
        run(folder, epochs=3)
    finally:
        runfolder.publish = original
    assert len(published) == 3  # one per epoch: no second "final" save after fit
    assert "train_error_quantiles" in hg.load(folder).config["anomaly"]
