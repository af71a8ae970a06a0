"""The documentation's Python examples run as written, so they cannot rot: every ```python block of a page runs
in one namespace per page, in a fresh folder. (A ```py block is an excerpt that needs files a shell step makes first,
and is shown, not run.) The site itself is built by `mkdocs build --strict` in .ci/run."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())


def test_the_docs_have_examples_to_run():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"getting-started.md", "guide/training.md", "guide/variants.md", "guide/sklearn.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_python_example_runs(page, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
