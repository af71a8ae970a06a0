"""Run folders written by the 0.2.0 release (tests/fixtures/v0.2.0) load, evaluate to the same numbers, replay
with ``--like`` and resume under today's code."""

import json
import shutil
from pathlib import Path

import pytest

import hourglass as hg
from hourglass.cli import main
from hourglass.workflow import evaluate

RELEASE = Path(__file__).parent.parent / "fixtures" / "v0.2.0"
MEASURES = ("squared_error_per_sample", "pca_squared_error_per_sample", "n_samples", "psnr_denoised")


@pytest.fixture
def release(tmp_path, monkeypatch):
    """A writable copy of the release's folder, as the current directory (the table run names table.csv)."""
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    monkeypatch.chdir(copy)
    return copy


@pytest.mark.parametrize("run", ["digits-dae", "table-ae"])
def test_a_release_run_loads_and_evaluates_to_its_numbers(release, run):
    checkpoint = hg.load(run)
    assert checkpoint.model.architecture.latent_dim == (4 if run == "digits-dae" else 2)
    then = json.loads((release / f"{run}.evaluate.json").read_text())
    now = evaluate(run)
    for measure in MEASURES:
        if measure in then:
            assert now[measure] == pytest.approx(then[measure], rel=1e-5), measure
    assert now["variant"] == then["variant"] and now["loss"] == then["loss"]


def test_a_release_run_resumes_to_what_the_release_resumed_to(release, capsys):
    argv = ["train", "digits", "--model", "dae", "--widths", "32", "--latent-dim", "4", "--seed", "1", "--quiet"]
    assert main([*argv, "--epochs", "4", "--out", "digits-dae", "--resume"]) == 0
    then = json.loads((release / "digits-dae.resumed-to-4-epochs.evaluate.json").read_text())
    now = evaluate("digits-dae")
    assert now["squared_error_per_sample"] == pytest.approx(then["squared_error_per_sample"], rel=1e-5)


def test_a_release_run_replays_with_like(release, capsys):
    assert main(["train", "--like", "table-ae", "--out", "again", "--quiet"]) == 0
    assert main(["train", "--like", "table-ae", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert 'data = "table.csv"' in printed and "one_hot = true" in printed and "latent_dim = 2" in printed
    assert evaluate("again")["squared_error_per_sample"] == pytest.approx(
        evaluate("table-ae")["squared_error_per_sample"], rel=1e-5
    )
