"""`hourglass prior` and `sample --prior`, as a CLI user runs them: fit, save beside the run, sample; and one line
for a bad kind, a missing prior, a stale prior and a run whose codes cannot be made."""

import json
import shutil

import numpy as np

from .test_cli import assert_one_line_error, hourglass


def test_priors_are_fitted_saved_and_sampled_from_the_cli(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained["mlp"], run)
    assert "components" in hourglass("prior", run, "--kind", "gmm").stdout
    assert "diffusion prior" in hourglass("prior", run, "--kind", "diffusion", "--epochs", "3").stdout
    for kind in ("gmm", "diffusion"):
        assert (run / "priors" / f"{kind}.safetensors").exists()
        assert json.loads((run / "priors" / f"{kind}.json").read_text())["kind"] == kind
    hourglass("sample", run, "--prior", "diffusion", "-n", "50", "-o", tmp_path / "a.npy", "--seed", "3")
    hourglass("sample", run, "--prior", "diffusion", "-n", "50", "-o", tmp_path / "b.npy", "--seed", "3", "--png",
              tmp_path / "diffusion.png")  # fmt: skip
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (50, 64) and np.isfinite(a).all() and np.array_equal(a, b)  # the same seed, the same samples
    assert (tmp_path / "diffusion.png").stat().st_size > 0
    hourglass("explore", run, "-o", tmp_path / "explorer.html")  # the page shows each saved prior's draws
    page = (tmp_path / "explorer.html").read_text()
    assert '"priors":{"gmm":' in page and '"diffusion":{"what":"latent diffusion' in page

    bad = hourglass("prior", run, "--kind", "flow", check=False)
    assert bad.returncode == 2 and "invalid choice: 'flow'" in bad.stderr and "Traceback" not in bad.stderr
    bare = tmp_path / "bare"
    shutil.copytree(trained["mlp"], bare)
    missing = hourglass("sample", bare, "--prior", "gmm", "-n", "4", "-o", tmp_path / "m.npy", check=False)
    assert_one_line_error(missing, "has no gmm prior", f"hourglass prior {bare} --kind gmm")
    assert not (tmp_path / "m.npy").exists()
    record = json.loads((run / "priors" / "gmm.json").read_text())
    (run / "priors" / "gmm.json").write_text(json.dumps({**record, "fitted_to": "0" * 64}))
    stale = hourglass("sample", run, "--prior", "gmm", "-n", "4", "-o", tmp_path / "s.npy", check=False)
    assert_one_line_error(stale, "fitted to other weights")


def test_a_run_whose_data_is_gone_has_no_codes_to_fit(tmp_path):
    rows = np.random.default_rng(0).random((200, 6)).astype(np.float32)
    np.save(tmp_path / "rows.npy", rows)
    hourglass("train", tmp_path / "rows.npy", "--epochs", "2", "--latent-dim", "2", "--out", tmp_path / "run")
    (tmp_path / "rows.npy").unlink()
    gone = hourglass("prior", tmp_path / "run", "--kind", "gmm", check=False)
    assert_one_line_error(gone, "rows.npy")
    assert not (tmp_path / "run" / "priors").exists()
