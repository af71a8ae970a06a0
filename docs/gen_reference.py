"""Writes the generated pages when the site is built (mkdocs-gen-files): api.md from ``hourglass.__all__``,
cli.md from the command-line parser, each ``<!-- table: NAME -->`` of a page from the runs' records
(docs/figure_tables.py), and — where a full run's record has been kept as docs/figures/claims.json — the claims'
verdicts at the end of references.md (:mod:`hourglass.cli.reference`)."""

import sys
from pathlib import Path

import mkdocs_gen_files

from hourglass.cli.reference import api_page, cli_page, verdict_table

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
record = DOCS / "figures" / "claims.json"
with mkdocs_gen_files.open("references.md", "a") as f:
    f.write("\n## The claims and their verdicts\n\n")
    if record.exists():
        f.write(verdict_table(record))
    else:
        f.write(
            "Each claim's verdict is on [the claims page](claims.md). (This table is generated from a full run's "
            "record: copy `claims-output/claims.json` of `make claims` to `docs/figures/claims.json`.)\n"
        )
