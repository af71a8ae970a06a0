"""The README's quickstarts run as written."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import hourglass as hg

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_python_quickstart_runs(tmp_path, monkeypatch, capsys):
    section = README.split("## Quickstart: Python")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    result = eval(printed.strip().splitlines()[-1], {"np": __import__("numpy")})
    assert result["k"] == 4 and result["squared_error_per_sample"] < result["pca_squared_error_per_sample"]
    assert hg.load(tmp_path / "runs" / "python-k4").model.latent_dim == 4


def test_cli_quickstart_train_then_evaluate_runs(tmp_path):
    block = re.search(r"## Quickstart: the command line\n\n```\n(.*?)```", README, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in block.splitlines()[:2]]
    assert lines[0].startswith(".venv/bin/hourglass train mnist") and lines[1].startswith(
        ".venv/bin/hourglass evaluate"
    )
    for line in lines:
        args = shlex.split(line)[1:]
        done = subprocess.run(
            [sys.executable, "-m", "hourglass.cli", *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    # the evaluate table: the autoencoder's row beats PCA's
    rows = {
        line.split("│")[1].strip(): float(line.split("│")[2])
        for line in done.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows["autoencoder"] < rows["PCA (k=4)"], done.stdout


def test_inside_the_loop_example_runs(tmp_path, monkeypatch, capsys):
    section = README.split("## Inside the loop")[1].split("\n## ")[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    epochs, stopped = capsys.readouterr().out.split()
    assert stopped == "early_stopped" and 1 < int(epochs) < 200
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == int(epochs) + 1
