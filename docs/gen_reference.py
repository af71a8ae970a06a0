"""Writes the generated pages when the site is built (mkdocs-gen-files): api.md from ``hourglass.__all__``,
cli.md from the command-line parser (:mod:`hourglass.cli.reference`), and each ``<!-- table: NAME -->`` of a page
from the runs' records (docs/figure_tables.py)."""

import sys
from pathlib import Path

import mkdocs_gen_files

from hourglass.cli.reference import api_page, cli_page

DOCS = Path(__file__).parent
sys.path.insert(0, str(DOCS))  # figure_tables lives beside this script, not in the package
from figure_tables import MARKER, fill  # noqa: E402

for page, text in (("api.md", api_page()), ("cli.md", cli_page())):
    with mkdocs_gen_files.open(page, "w") as f:
        f.write(text)
for page in sorted(DOCS.rglob("*.md")):
    text = page.read_text()
    if MARKER.search(text):
        with mkdocs_gen_files.open(page.relative_to(DOCS).as_posix(), "w") as f:
            f.write(fill(text))
