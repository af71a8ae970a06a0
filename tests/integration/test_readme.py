"""The README is a new user's page: short, opening with the two commands, pip install and a Python example, and
its examples run as written."""

import shlex
import subprocess
import sys
from pathlib import Path

import hourglass as hg

README = (Path(__file__).parents[2] / "README.md").read_text()


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of each fenced code block, in order."""
    blocks, info, body = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if info is None:
                info, body = line[3:].strip(), []
            else:
                blocks.append((info, "\n".join(body) + "\n"))
                info = None
        elif info is not None:
            body.append(line)
    return blocks


def test_the_readme_is_short_and_opens_with_what_a_new_user_needs():
    lines = README.splitlines()
    assert len(lines) <= 200
    first_screen = "\n".join(lines[:40])
    for needed in ("make demo", "make test", "pip install 'hourglass-ae[all]'", "```python"):
        assert needed in first_screen, needed
    assert ".venv/bin/" not in README  # the installed command, as a user types it


def test_the_python_example_runs(tmp_path, monkeypatch, capsys):
    (block,) = [body for info, body in fenced_blocks(README) if info == "python"]
    assert len(block.strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    result = eval(capsys.readouterr().out.strip().splitlines()[-1], {"np": __import__("numpy")})
    assert result["k"] == 4 and result["squared_error_per_sample"] < result["pca_squared_error_per_sample"]
    assert hg.load(tmp_path / "runs" / "python-k4").model.latent_dim == 4


def test_the_command_line_example_runs(tmp_path):
    block = next(body for info, body in fenced_blocks(README) if body.startswith("hourglass train"))
    lines = block.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        done = subprocess.run([sys.executable, "-m", "hourglass.cli", *shlex.split(line)[1:]], cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
    flagged = [r for r in (tmp_path / "scores.csv").read_text().splitlines()[1:] if r.endswith("True")]
    assert 0 < len(flagged) < 500  # about 1 % of the 10,000 test images, the default contamination
