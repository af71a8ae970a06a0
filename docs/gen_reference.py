"""Writes the generated pages when the site is built (mkdocs-gen-files): api.md from ``hourglass.__all__``,
cli.md from the command-line parser, and the claims' verdicts (from docs/figures/claims.json, the last full run's
record) at the end of references.md (:mod:`hourglass.cli.reference`)."""

from pathlib import Path

import mkdocs_gen_files

from hourglass.cli.reference import api_page, cli_page, verdict_table

for page, text in (("api.md", api_page()), ("cli.md", cli_page())):
    with mkdocs_gen_files.open(page, "w") as f:
        f.write(text)
with mkdocs_gen_files.open("references.md", "a") as f:
    f.write("\n## The claims and their verdicts\n\n" + verdict_table(Path(__file__).parent / "figures" / "claims.json"))
