"""Writes the generated pages when the site is built (mkdocs-gen-files): api.md from ``hourglass.__all__``,
cli.md from the command-line parser, and — where a full run's record has been kept as docs/figures/claims.json —
the claims' verdicts at the end of references.md (:mod:`hourglass.cli.reference`)."""

from pathlib import Path

import mkdocs_gen_files

from hourglass.cli.reference import api_page, cli_page, verdict_table

for page, text in (("api.md", api_page()), ("cli.md", cli_page())):
    with mkdocs_gen_files.open(page, "w") as f:
        f.write(text)
record = Path(__file__).parent / "figures" / "claims.json"
with mkdocs_gen_files.open("references.md", "a") as f:
    f.write("\n## The claims and their verdicts\n\n")
    if record.exists():
        f.write(verdict_table(record))
    else:
        f.write(
            "Each claim's verdict is on [the claims page](claims.md). (This table is generated from a full run's "
            "record: copy `claims-output/claims.json` of `make claims` to `docs/figures/claims.json`.)\n"
        )
