"""The README is a new user's page: short, opening with the two commands, pip install and a Python example, and
its examples run as written."""

import shlex
from pathlib import Path

from .test_cli import hourglass

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


def test_the_python_example_is_the_getting_started_pages_which_runs_in_the_docs_tests():
    """The README's Python block is the first example of docs/getting-started.md, word for word, so the docs'
    tests (test_docs.py, every Python example run as written) run it; it is not trained a second time here."""
    (block,) = [body for info, body in fenced_blocks(README) if info == "python"]
    assert len(block.strip().splitlines()) <= 10
    page = (Path(__file__).parents[2] / "docs" / "getting-started.md").read_text()
    assert block in [body for info, body in fenced_blocks(page) if info == "python"]
    assert 'hg.load("runs/python-k4")' in block and "compare_with_pca" in block


def test_the_command_line_example_runs(tmp_path):
    block = next(body for info, body in fenced_blocks(README) if body.startswith("hourglass train"))
    lines = block.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        hourglass(*shlex.split(line)[1:], cwd=tmp_path)  # the CLI's main, as typed
    flagged = [r for r in (tmp_path / "scores.csv").read_text().splitlines()[1:] if r.endswith("True")]
    assert 0 < len(flagged) < 500  # about 1 % of the 10,000 test images, the default contamination
