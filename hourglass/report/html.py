"""The claims report as one self-contained HTML file: every figure inline, no scripts, nothing fetched.

It opens offline straight from the file system and can be mailed as one file. Everything in it comes from the
summary that :func:`hourglass.experiments.run_claims` wrote to ``claims.json``.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from ..store.files import write_text

MIME = {".png": "image/png", ".svg": "image/svg+xml"}
VERDICT_CLASS = {"PASS": "pass", "FAIL": "fail", "ERROR": "fail", "NOT JUDGED": "skip"}

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #666; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; padding: 0.1em 0.5em; border-radius: 0.3em; white-space: nowrap; }
.pass { background: #d9f2d9; color: #14591a; } .fail { background: #f8d7d7; color: #8a1c1c; }
.skip { background: #eee; color: #555; }
.statement { font-style: italic; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def _verdict(verdict: str) -> str:
    return f'<span class="verdict {VERDICT_CLASS.get(verdict, "skip")}">{escape(verdict)}</span>'


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:{MIME[path.suffix.lower()]};base64,{data}" alt="{escape(alt)}">'


def render(summary: dict, root: Path) -> str:
    """The report's HTML for a claims ``summary``; figure files are read relative to ``root``."""
    claims = summary["claims"]
    counts = {v: sum(c["verdict"] == v for c in claims) for v in ("PASS", "FAIL", "ERROR", "NOT JUDGED")}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>hourglass claims report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Autoencoder claims, tested</h1>",
        f'<p class="meta">{escape(summary["mode"])} run on {escape(summary["data"])}, seed {summary["seed"]}, '
        f"{summary['seconds']:.0f} s in all; hourglass {escape(summary['hourglass_version'])}, "
        f"PyTorch {escape(summary['torch_version'])}, Python {escape(summary['python_version'])}, "
        f"{escape(summary['machine'])} with {summary['threads']} threads. "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + ".</p>",
    ]
    if summary["mode"] == "quick":
        parts.append(
            '<p class="meta">A quick run: every experiment at reduced size. Criteria meant for the full '
            "run are reported but not judged.</p>"
        )
    parts.append(
        "<table><tr><th>#</th><th>claim</th><th>verdict</th><th>metric</th><th>value</th>"
        "<th>criterion</th><th>seconds</th></tr>"
    )
    for c in claims:
        parts.append(
            f'<tr><td>{c["claim"]}</td><td><a href="#claim-{c["claim"]}">{escape(c["title"])}</a></td>'
            f"<td>{_verdict(c['verdict'])}</td><td>{escape(c['metric'] or '')}</td>"
            f'<td class="num">{_number(c["value"])}</td><td>{escape(c["criterion"] or "")}</td>'
            f'<td class="num">{c["seconds"]:.0f}</td></tr>'
        )
    parts.append("</table>")
    for c in claims:
        parts.append(f'<h2 id="claim-{c["claim"]}">{c["claim"]}. {escape(c["title"])} {_verdict(c["verdict"])}</h2>')
        if c["statement"]:
            parts.append(f'<p class="statement">{escape(c["statement"])}</p>')
        if c["error"]:
            parts.append(f"<p><b>The experiment failed:</b> {escape(c['error'])}</p>")
        if c["checks"]:
            parts.append("<table><tr><th>metric</th><th>measured</th><th>criterion</th><th>verdict</th></tr>")
            for check in c["checks"]:
                parts.append(
                    f'<tr><td>{escape(check["metric"])}</td><td class="num">{_number(check["value"])}</td>'
                    f"<td>{escape(check['criterion'])}</td><td>{_verdict(check['verdict'])}</td></tr>"
                )
            parts.append("</table>")
        for note in c["notes"]:
            parts.append(f"<p>{escape(note)}</p>" if not c["error"] else f"<pre>{escape(note)}</pre>")
        for figure in c["figures"]:
            parts.append(
                f"<figure>{_image(root / figure['file'], figure['caption'])}"
                f"<figcaption>{escape(figure['caption'])}</figcaption></figure>"
            )
        for link in c.get("links", []):
            parts.append(f'<p class="link">▶ <a href="{escape(link["file"])}">{escape(link["caption"])}</a></p>')
        if c["measurements"]:
            parts.append(
                "<details><summary>all measurements</summary><pre>"
                f"{escape(json.dumps(c['measurements'], indent=1, ensure_ascii=False))}</pre></details>"
            )
        parts.append(f'<p class="meta">{c["seconds"]:.0f} s.</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(summary: dict, root: str | Path, path: str | Path) -> Path:
    """Write :func:`render` of ``summary`` to ``path`` atomically."""
    write_text(path, render(summary, Path(root)))
    return Path(path)
