"""A run round-trips: the CLI's flags, a run file and a checkpoint's record all describe the same typed Run."""

import sys
from pathlib import Path

import pytest

from hourglass.cli import build_parser
from hourglass.cli.train import run_of
from hourglass.data import DataSpec, PatchOptions, TableOptions
from hourglass.errors import HourglassError
from hourglass.run import Run, recorded, to_toml
from hourglass.training.config import TrainConfig
from hourglass.variants import ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RELEASE = Path(__file__).parents[1] / "fixtures" / "v0.2.0"
COMMAND_LINES = [
    ["train", "digits", "--latent-dim", "4", "--out", "r"],
    ["train", "t.csv", "--one-hot", "--columns", "a,b", "--model", "dae", "--noise", "mask:0.3", "--out", "r"],
    ["train", "photos", "--patch-size", "32", "--arch", "fcn", "--residual", "--noise", "gaussian:0.02-0.2"],
    ["train", "x.npy", "--stream", "--widths", "64,16", "--epochs", "3", "--lr", "0.01", "--log", "csv"],
    ["train", "mnist", "--model", "vae", "--beta", "0.5", "--kl-warmup-epochs", "2", "--precision", "bf16"],
    ["train", "mnist", "--model", "vqvae", "--no-codebook-ema", "--patience", "3", "--seed", "7"],
]


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=lambda argv: " ".join(argv[1:4]))
def test_flags_a_run_file_and_a_record_describe_the_same_run(argv):
    run = run_of(build_parser().parse_args(argv))
    assert Run.from_dict(run.to_dict(), progress=run.training.progress) == run
    from_file = Run.from_dict(tomllib.loads(to_toml(run)), progress=run.training.progress)
    assert from_file == run
    recorded_run = run.to_dict(with_out=False)
    assert "out" not in recorded_run and Run.from_dict(recorded_run).out is None


def test_a_run_says_what_the_flags_said():
    run = run_of(build_parser().parse_args(COMMAND_LINES[1]))
    assert run.data == DataSpec("t.csv", None, TableOptions(columns="a,b", one_hot=True), PatchOptions())
    assert run.model == ModelConfig(model="dae", noise="mask:0.3") and run.training == TrainConfig()
    assert run.out == Path("r")
    unnamed = run_of(build_parser().parse_args(["train", "digits", "--latent-dim", "3"]))
    assert unnamed.out == Path("runs/digits-ae-mlp-k3")


def test_a_run_recorded_by_0_2_0_reads_as_a_run():
    run = Run.from_dict(recorded(RELEASE / "digits-dae"))
    assert run.data.source == "digits" and run.model.model == "dae" and run.model.widths == (32,)
    assert run.model.latent_dim == 4 and run.training.seed == 1 and run.training.epochs == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"model": {"latent_dim": 4}}, "says no data"),
        ({"data": "digits", "model": {"latent_dim": 0}}, "model.latent_dim must be at least 1"),
        ({"data": "digits", "modle": {}}, "unknown key modle"),
        ({"data": "digits", "table": {"one_hot": "yes"}}, "table.one_hot must be bool"),
        ({"data": "digits", "log": ["wandb"]}, "log 'wandb' is not one of csv, tensorboard, mlflow"),
        ({"data": "digits", "photos": {"patch_size": 1}}, "photos.patch_size must be at least 2"),
    ],
)
def test_a_bad_run_is_one_line_naming_its_key(raw, message):
    with pytest.raises(HourglassError, match=message):
        Run.from_dict(raw, "run.toml")
