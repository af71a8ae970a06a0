"""`hourglass train DATA --quantizer fsq:L1,...` as a user types it: a finite-scalar-quantised model trains,
records its levels, evaluates with its codes' usage, draws samples; a bad spec is one line."""

import json

import numpy as np
import pytest

from hourglass.store import checkpoint as ckpt

from .test_cli import assert_one_line_error, hourglass


@pytest.fixture(scope="module")
def fsq_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("fsq") / "run"
    hourglass("train", "digits", "--quantizer", "fsq:5,5,3", "--widths", "8", "--epochs", "20", "--seed", "0",
              "--out", run)  # fmt: skip
    return run


def test_an_fsq_model_trains_evaluates_and_samples_from_the_command_line(fsq_run, tmp_path):
    run = fsq_run
    model = ckpt.load(run).model
    assert model.architecture.levels == (5, 5, 3) and model.architecture.codebook == 75
    done = hourglass("evaluate", run, "--json")
    usage = json.loads(done.stdout.strip().splitlines()[-1])
    assert usage["codebook_entries"] == 75 and usage["codebook_used"] >= 10
    for prior in ("standard", "gaussian", "diffusion"):  # the continuous priors are refused, naming the one that fits
        assert_one_line_error(
            hourglass("sample", run, "-o", tmp_path / "draws.npy", "-n", "8", "--prior", prior, check=False),
            f"not {prior}: --prior autoregressive",
        )
    assert_one_line_error(hourglass("prior", run, "--kind", "diffusion", check=False), "--kind autoregressive")
    assert not (tmp_path / "draws.npy").exists() and not (run / "priors" / "diffusion.json").exists()


def test_a_bad_quantizer_is_one_line(tmp_path):
    assert_one_line_error(
        hourglass("train", "digits", "--quantizer", "fsq:5,1", "--out", tmp_path / "r", check=False),
        "--quantizer",
        "each at least 2",
    )
    assert_one_line_error(
        hourglass("train", "digits", "--quantizer", "fsq:5,5", "--codebook", "30", "--out", tmp_path / "r",
                  check=False),
        "drop --codebook",
    )  # fmt: skip
    assert not (tmp_path / "r").exists()


def test_an_autoregressive_prior_is_fitted_and_sampled_from_the_command_line(fsq_run, tmp_path, trained):
    run = fsq_run
    done = hourglass("prior", run, "--kind", "autoregressive", "--epochs", "2")
    assert "fitted an autoregressive prior" in done.stdout and (run / "priors" / "autoregressive.json").exists()
    hourglass("sample", run, "--prior", "autoregressive", "-n", "50", "-o", tmp_path / "a.npy", "--temperature",
              "0.8", "--top-k", "10", "--seed", "3")  # fmt: skip
    hourglass("sample", run, "--prior", "autoregressive", "-n", "50", "-o", tmp_path / "b.npy", "--temperature",
              "0.8", "--top-k", "10", "--seed", "3")  # fmt: skip
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (50, 64) and np.array_equal(a, b)  # the same seed, the same samples
    assert_one_line_error(hourglass("prior", trained["mlp"], "--kind", "autoregressive", check=False),
                          "discrete code")  # fmt: skip
    assert_one_line_error(
        hourglass("sample", run, "--prior", "gmm", "--temperature", "0.5", "-o", tmp_path / "c.npy", check=False),
        "--temperature",
        "autoregressive",
    )
    assert_one_line_error(hourglass("prior", run, "--kind", "gmm", "--epochs", "3", check=False), "--epochs")


def test_fit_prior_takes_a_run_folder_as_its_docstring_says(fsq_run):
    from hourglass.priors import fit_prior

    r = fit_prior(fsq_run, "autoregressive", epochs=1, save=False)
    assert r["kind"] == "autoregressive" and r["codes"] > 1000 and r["path"] is None
    assert r["prior"].sample(4, None).shape == (4, 16)  # a 4 × 4 grid of indices per digit
