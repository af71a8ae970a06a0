"""`hourglass prior` and `sample --prior`, as a CLI user runs them: fit, save beside the run, sample; and one line
for a bad kind, a missing prior, a stale prior and a run whose codes cannot be made. (The CLI's ``main`` is called
in this process: the same parsing, library call and printing, without a Python start-up per command.)"""

import json
import shutil

import numpy as np
import pytest

from hourglass.cli import main
from hourglass.training.loop import TrainConfig
from hourglass.workflow import ModelConfig, train


def run_cli(capsys, *args) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in args])
    except SystemExit as e:  # argparse's own refusals
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(result, *fragments):
    status, _, err = result
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("hourglass: error: "), err
    assert "Traceback" not in err and all(f in lines[0] for f in fragments), lines[0]


def test_priors_are_fitted_saved_and_sampled_from_the_cli(trained, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained["mlp"], run)
    status, out, _ = run_cli(capsys, "prior", run, "--kind", "gmm")
    assert status == 0 and "components" in out
    status, out, _ = run_cli(capsys, "prior", run, "--kind", "diffusion", "--epochs", "3")
    assert status == 0 and "diffusion prior" in out
    for kind in ("gmm", "diffusion"):
        assert (run / "priors" / f"{kind}.safetensors").exists()
        assert json.loads((run / "priors" / f"{kind}.json").read_text())["kind"] == kind
    for name in ("a", "b"):
        png = ("--png", tmp_path / "diffusion.png") if name == "b" else ()
        assert run_cli(capsys, "sample", run, "--prior", "diffusion", "-n", 50, "-o", tmp_path / f"{name}.npy",
                       "--seed", 3, *png)[0] == 0  # fmt: skip
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (50, 64) and np.isfinite(a).all() and np.array_equal(a, b)  # the same seed, the same samples
    assert (tmp_path / "diffusion.png").stat().st_size > 0
    assert (
        run_cli(capsys, "sample", run, "--prior", "diffusion", "-n", 4, "--steps", 1000, "-o", tmp_path / "c.npy")[0]
        == 0
    )
    assert run_cli(capsys, "explore", run, "-o", tmp_path / "explorer.html")[0] == 0  # shows each prior's draws
    page = (tmp_path / "explorer.html").read_text()
    assert '"priors":{"gmm":' in page and '"diffusion":{"what":"latent diffusion' in page

    status, _, err = run_cli(capsys, "prior", run, "--kind", "flow")
    assert status == 2 and "invalid choice: 'flow'" in err and "Traceback" not in err
    bare = tmp_path / "bare"
    shutil.copytree(trained["mlp"], bare)
    one_line_error(run_cli(capsys, "sample", bare, "--prior", "gmm", "-n", 4, "-o", tmp_path / "m.npy"),
                   "has no gmm prior", f"hourglass prior {bare} with kind gmm")  # fmt: skip
    assert not (tmp_path / "m.npy").exists()
    record = json.loads((run / "priors" / "gmm.json").read_text())
    (run / "priors" / "gmm.json").write_text(json.dumps({**record, "fitted_to": "0" * 64}))
    one_line_error(run_cli(capsys, "sample", run, "--prior", "gmm", "-n", 4, "-o", tmp_path / "s.npy"),
                   "fitted to other weights")  # fmt: skip


@pytest.mark.parametrize("kind", ["gmm", "diffusion"])
def test_a_run_whose_data_is_gone_has_no_codes_to_fit(tmp_path, capsys, kind):
    rows = np.random.default_rng(0).random((200, 6)).astype(np.float32)
    np.save(tmp_path / "rows.npy", rows)
    train(tmp_path / "rows.npy", ModelConfig(latent_dim=2), TrainConfig(epochs=2, progress=False), out=tmp_path / "run")
    (tmp_path / "rows.npy").unlink()
    one_line_error(run_cli(capsys, "prior", tmp_path / "run", "--kind", kind), "rows.npy")
    assert not (tmp_path / "run" / "priors").exists()
