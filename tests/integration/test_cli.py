"""The CLI as a user runs it: real training on digits, one-line errors; every command once in its own process."""

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import hourglass as hg
from hourglass.cli import main
from hourglass.store import runfolder


def hourglass(*args, cwd=None, check=True, process=False):
    """``hourglass ARGS`` as a user types it, in ``cwd``: by default the CLI's ``main`` in this process (its exit
    status, stdout and stderr captured, warnings silenced as PYTHONWARNINGS=ignore does), which spares each call a
    new interpreter and torch's import; with ``process``, in a new interpreter, as the end-to-end tests run it."""
    if process:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        env.pop("HOURGLASS_DEBUG", None)
        done = subprocess.run(
            [sys.executable, "-m", "hourglass.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env
        )
    else:
        out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.chdir(cwd or here)
            try:
                status = main([str(a) for a in args])
            except SystemExit as e:  # argparse's usage errors and --help
                status = e.code if isinstance(e.code, int) else 0
            finally:
                os.chdir(here)
        done = subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())
    if check and done.returncode != 0:
        raise AssertionError(f"hourglass {args} exited {done.returncode}: {done.stderr}")
    return done


_hourglass = hourglass


def assert_one_line_error(done, *fragments):
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hourglass: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_every_command_runs_for_real(tmp_path):
    """Each command once, as a user types it in a shell (its own process), on small real data; each leaves what it
    promises. (The demo's and the claims' runs are tested where their models are: test_mnist, test_claims.)"""
    hourglass = functools.partial(_hourglass, process=True)
    hourglass("data", "fetch", "mnist")
    assert "10 classes" in hourglass("data", "info", "digits").stdout
    run = tmp_path / "run"
    assert (
        "saved to"
        in hourglass("train", "digits", "--noise", "mask:0.3", "--epochs", "3", "--out", run, "--quiet").stdout
    )
    assert "PSNR" in hourglass("evaluate", run).stdout
    hourglass("encode", run, "digits", "-o", tmp_path / "z.csv")
    assert (tmp_path / "z.csv").read_text().splitlines()[0] == "z1,z2,z3,z4"
    hourglass("reconstruct", run, "digits", "-o", tmp_path / "x.npy", "--png", tmp_path / "x.png")
    assert np.load(tmp_path / "x.npy").shape == (180, 64) and (tmp_path / "x.png").stat().st_size > 1000
    assert "denoised" in hourglass("denoise", run, "digits", "-o", tmp_path / "d.npz", "--corrupt").stdout
    hourglass("sample", run, "-n", "5", "-o", tmp_path / "s.npy")
    assert np.load(tmp_path / "s.npy").shape == (5, 64)
    assert "flagged" in hourglass("score", run, "digits", "-o", tmp_path / "scores.csv").stdout
    assert (tmp_path / "scores.csv").read_text().startswith("row,anomaly_score,training_percentile,is_anomaly")
    hourglass("diagram", run, "-o", tmp_path / "d.svg")
    assert "z: 4" in (tmp_path / "d.svg").read_text()
    assert "--quick" in hourglass("claims", "--help").stdout and "--epochs" in hourglass("demo", "--help").stdout
    usage = " ".join(hourglass("train", "--help").stdout.split())  # defaults from TrainConfig and ModelConfig
    assert (
        f"passes over the training data (default {hg.TrainConfig().epochs})" in usage
        and "dae (noise gaussian:0.5)" in usage
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The README's quickstart on digits: train, then the other commands on the checkpoint."""
    root = tmp_path_factory.mktemp("cli")
    done = hourglass(
        "train",
        "digits",
        "--latent-dim",
        "4",
        "--epochs",
        "40",
        "--batch-size",
        "64",
        "--out",
        root / "run",
        "--seed",
        "1",
        cwd=root,
    )
    assert "saved to" in done.stdout
    return root


def test_train_then_evaluate_json_beats_pca(trained):
    result = json.loads(hourglass("evaluate", trained / "run", "--json").stdout)
    assert result["k"] == 4 and result["split"] == "test" and result["n_samples"] == 180
    assert result["squared_error_per_sample"] < result["pca_squared_error_per_sample"]
    table = hourglass("evaluate", trained / "run").stdout
    assert "PCA (k=4)" in table and f"{result['squared_error_per_sample']:.4f}" in table


def test_encode_and_reconstruct_write_arrays_and_png(trained):
    hourglass("encode", trained / "run", "digits", "-o", trained / "z.npy")
    z = np.load(trained / "z.npy")
    assert z.shape == (180, 4) and z.dtype == np.float32
    ckpt = hg.load(trained / "run")
    np.testing.assert_array_equal(z, hg.encode(ckpt.model, hg.load_digits(seed=1).x_test))
    hourglass(
        "reconstruct",
        trained / "run",
        "digits",
        "--split",
        "val",
        "-o",
        trained / "xh.csv",
        "--png",
        trained / "grid.png",
    )
    x_hat = np.loadtxt(trained / "xh.csv", delimiter=",", skiprows=1)  # a header row: x1, ..., x64
    assert x_hat.shape == (180, 64) and (trained / "grid.png").stat().st_size > 1000


def test_diagram_draws_the_trained_model(trained):
    hourglass("diagram", trained / "run", "-o", trained / "arch.svg")
    svg = (trained / "arch.svg").read_text()
    assert all(f">{label}<" in svg for label in ("64", "256", "z: 4", "encoder f", "decoder g"))
    assert_one_line_error(
        hourglass("diagram", trained / "run", "-o", trained / "arch.txt", check=False), "must end in .svg, .png or .pdf"
    )


def test_same_seed_same_checkpoint_bytes(trained, tmp_path):
    hourglass(
        "train",
        "digits",
        "--latent-dim",
        "4",
        "--epochs",
        "40",
        "--batch-size",
        "64",
        "--out",
        tmp_path / "again",
        "--seed",
        "1",
        "--quiet",
    )
    weights = lambda run: (runfolder.current(run) / "model.safetensors").read_bytes()  # noqa: E731
    assert weights(tmp_path / "again") == weights(trained / "run")


def test_resume_from_the_cli_extends_a_run(tmp_path):
    hourglass("train", "digits", "--epochs", "2", "--out", tmp_path / "r", "--quiet")
    assert_one_line_error(
        hourglass("train", "digits", "--epochs", "2", "--out", tmp_path / "r", check=False),
        "already holds a run",
        "--resume",
    )
    hourglass("train", "digits", "--epochs", "4", "--out", tmp_path / "r", "--resume", "--quiet")
    assert hg.load(tmp_path / "r").config["history"]["epochs_run"] == 4
    assert_one_line_error(
        hourglass(
            "train", "digits", "--epochs", "4", "--latent-dim", "3", "--out", tmp_path / "r", "--resume", check=False
        ),
        "cannot resume: architecture was",
        "'latent_dim': 4",
        "'latent_dim': 3",
    )


def test_user_csv_is_standardized_and_reconstructed_in_its_units(tmp_path):
    rng = np.random.default_rng(0)
    t = rng.random((200, 1))
    table = np.hstack([t * 100, np.sin(3 * t) * 5 + 20, t**2 * 1000]) + rng.normal(0, 0.01, (200, 3))
    np.savetxt(tmp_path / "t.csv", table, delimiter=",", header="a,b,c", comments="")
    hourglass(
        "train",
        tmp_path / "t.csv",
        "--latent-dim",
        "1",
        "--epochs",
        "60",
        "--batch-size",
        "32",
        "--out",
        tmp_path / "run",
        "--quiet",
    )
    cfg = hg.load(tmp_path / "run").config
    assert cfg["preprocessing"]["kind"] == "standardize" and cfg["objective"]["reconstruction"] == "mse"
    assert cfg["data"]["columns"] == ["a", "b", "c"]
    hourglass("reconstruct", tmp_path / "run", tmp_path / "t.csv", "-o", tmp_path / "back.npy")
    back = np.load(tmp_path / "back.npy")
    assert back.shape == (200, 3)
    assert (np.abs(back - table).mean(axis=0) / table.std(axis=0)).max() < 0.05  # in the data's own units
    np.savetxt(tmp_path / "other.csv", table, delimiter=",", header="a,b,x", comments="")
    assert_one_line_error(
        hourglass("encode", tmp_path / "run", tmp_path / "other.csv", "-o", tmp_path / "z.npy", check=False),
        "missing column 'c' the model was trained with",
    )


def test_bad_inputs_give_one_clear_line(tmp_path):
    (tmp_path / "text.csv").write_text("a,city\n1,Paris\n2,Oslo\n3,Rome\n")
    assert_one_line_error(
        hourglass("train", tmp_path / "text.csv", check=False), "text.csv", "column 'city'", "not numeric"
    )
    np.save(tmp_path / "nan.npy", np.array([[0.5, np.nan, 0.1]] * 10))
    assert_one_line_error(hourglass("train", tmp_path / "nan.npy", check=False), "nan.npy", "NaN")
    hourglass("train", "digits", "--epochs", "1", "--out", tmp_path / "run", "--quiet")
    weights = runfolder.current(tmp_path / "run") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    assert_one_line_error(hourglass("evaluate", tmp_path / "run", check=False), "model.safetensors", "truncated")
    assert_one_line_error(hourglass("evaluate", tmp_path / "nowhere", check=False), "no such checkpoint folder")
    assert_one_line_error(
        hourglass("train", "digits", "--loss", "bce", "--scaling", "standardize", check=False),
        "--loss bce needs data in [0, 1]",
        "--scaling standardize",
    )
    assert_one_line_error(
        hourglass("train", "digits", "--iw-samples", "5", check=False),
        "--iw-samples is an option of the VAE (--model vae)",
    )
    usage = hourglass("train", "digits", "--widths", "64,x", check=False)
    assert usage.returncode == 2 and "comma-separated integers" in usage.stderr and "Traceback" not in usage.stderr
