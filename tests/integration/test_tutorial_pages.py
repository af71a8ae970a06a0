"""The tutorials as the site renders them (mkdocs-jupyter), looked at in headless Chromium: every figure a notebook
keeps is an image on the page, loaded and wide enough to read; every code cell is highlighted code; no Markdown or
HTML shows as text. A screenshot of each page is saved beside the test's files for a person to look at.

The site is the one ``make docs`` built (``.ci/run`` builds it before ``make test``); where it is missing or older
than a notebook, the test builds it into a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.browser import chromium, require_browser

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "docs" / "tutorials").glob("*.ipynb"))
# Text in a Markdown cell that means its Markdown or HTML reached the page unrendered.
RAW_MARKUP = ("```", "<div", "<img", "<table", "](", "**", "$$", "\\begin")


def _stale(site: Path) -> bool:
    pages = {nb: site / "tutorials" / nb.stem / "index.html" for nb in NOTEBOOKS}
    return not all(page.exists() and page.stat().st_mtime >= nb.stat().st_mtime for nb, page in pages.items())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    require_browser()
    built = ROOT / "site"
    if not _stale(built):
        return built
    built = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(built)], cwd=ROOT, check=True)
    return built


def _expected(notebook: Path) -> tuple[int, int]:
    """The notebook's code cells and the images its outputs keep."""
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    return len(code), images


def test_there_are_tutorials_with_figures():
    assert len(NOTEBOOKS) >= 3
    assert all(_expected(nb)[1] >= 1 for nb in NOTEBOOKS), "a tutorial keeps no figure: run make notebooks-outputs"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_the_rendered_tutorial_shows_its_figures_inline_and_no_raw_markup(notebook, site, tmp_path):
    code_cells, figures = _expected(notebook)
    with chromium(tmp_path / "profile") as driver:
        driver.get((site / "tutorials" / notebook.stem / "index.html").as_uri())
        page = driver.execute_script(
            """
            const article = document.querySelector('article') || document.body;
            const images = Array.from(article.querySelectorAll('.jp-OutputArea img, .jp-RenderedImage img'));
            // a cell's wrapper and the cell carry the same class: count the outermost
            const cells = Array.from(article.querySelectorAll('.jp-CodeCell'))
              .filter(c => !c.parentElement.closest('.jp-CodeCell'));
            return {
              text: Array.from(article.querySelectorAll('.jp-MarkdownCell')).map(c => c.innerText).join(' '),
              code: cells.filter(c => c.querySelector('.highlight pre, pre')).length,
              cells: cells.length,
              images: images.map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
              h1: (article.querySelector('h1') || {}).innerText || '',
            };
            """
        )
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1300, min(height, 16000))
        driver.save_screenshot(str(tmp_path / f"{notebook.stem}.png"))
    title = next(c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "markdown")
    assert page["h1"].strip() and page["h1"].strip() in "".join(title["source"]), "the title is not the heading"
    assert page["cells"] == code_cells, f"{page['cells']} code cells on the page, {code_cells} in the notebook"
    assert page["code"] >= code_cells, "a code cell is not rendered as code"
    assert len(page["images"]) == figures, f"{len(page['images'])} figures on the page, {figures} in the notebook"
    assert all(natural > 0 for natural, _ in page["images"]), "a figure did not load"
    assert all(shown >= 300 for _, shown in page["images"]), "a figure is squeezed"
    raw = [m for m in RAW_MARKUP if m in page["text"]]
    assert not raw, f"unrendered markup on the page: {raw}"
