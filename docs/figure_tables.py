"""The tables of the benchmarks and claims pages, written from the records the runs keep in docs/figures/ (each
benchmark's ``--docs`` writes its record into docs/figures/bench/; a full ``make claims`` run's claims.json is
copied to docs/figures/claims.json), so that a rerun updates the page and no figure in a table is typed by hand.

A page names a table with an HTML comment on a line of its own, ``<!-- table: NAME -->`` (indented inside a
collapsible block); :func:`fill` replaces it with ``TABLES[NAME]`` rendered from its record, indented alike.
docs/gen_reference.py calls it when the site is built.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

RECORDS = Path(__file__).parent / "figures"
MARKER = re.compile(r"^( *)<!-- table: ([\w-]+) -->$", re.MULTILINE)


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join([_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)])


PHOTO_METHODS = {  # the record's key → the column's title
    "noisy": "noisy",
    "nl_means": "NL-means",
    "bm3d": "BM3D",
    "hourglass": "hourglass (told σ)",
    "hourglass_estimated": "hourglass (σ estimated)",
    "specialist": "trained at this σ alone",
}


def photo_means(record: dict, space: str) -> str:
    """PSNR (dB) / SSIM means over the evaluation photos, one row per noise level; the best PSNR in bold."""
    means = record["means"][space]
    methods = [m for m in PHOTO_METHODS if m in next(iter(means.values()))]
    titles = [PHOTO_METHODS[m] if (m, space) != ("bm3d", "colour") else "CBM3D" for m in methods]
    rows = []
    for sigma, by_method in means.items():
        best = max(methods, key=lambda m: by_method[m][0])
        psnr = {m: f"**{by_method[m][0]:.2f}**" if m == best else f"{by_method[m][0]:.2f}" for m in methods}
        rows.append([sigma, *(f"{psnr[m]} / {by_method[m][1]:.3f}" for m in methods)])
    return _table(["σ (/255)", *titles], rows)


def photo_per_photo(record: dict) -> str:
    """PSNR (dB) of each evaluation photo at each level, grey then colour (BM3D is CBM3D in colour)."""
    methods = [m for m in PHOTO_METHODS if any(m in r for r in record["rows"])]
    rows = [[r["space"], str(r["sigma"]), r["image"], *(f"{r[m][0]:.2f}" if m in r else "—" for m in methods)]
            for r in record["rows"]]  # fmt: skip
    return _table(["photos", "σ", "photo", *(PHOTO_METHODS[m] for m in methods)], rows)


def photo_user(record: dict) -> str:
    """PSNR (dB) / SSIM on a user's photo: noisy, clipped, rounded to 8 bits and saved as a JPEG."""
    means = record["user_jpeg90"]
    return _table([PHOTO_METHODS[m] for m in means], [[f"{v[0]:.2f} / {v[1]:.3f}" for v in means.values()]])


def photo_speed(record: dict) -> str:
    """Seconds per megapixel of each method, and hourglass's speed-up over BM3D."""
    seconds = record["seconds_per_megapixel"]
    rows = []
    for space, bm3d in (("grey", "BM3D"), ("colour", "CBM3D")):
        s = {m: seconds[f"{space}/{m}"] for m in ("hourglass", "nl_means", "bm3d")}
        rows.append(
            [space, f"**{s['hourglass']:.2f}**", f"{s['nl_means']:.2f}", f"{s['bm3d']:.2f} ({bm3d})",
             f"**{s['bm3d'] / s['hourglass']:.1f}×**"]
        )  # fmt: skip
    return _table(["photos", "hourglass", "NL-means", "BM3D", "hourglass's speed-up over BM3D"], rows)


def photo_targets(record: dict) -> str:
    """Issue 33's targets for the built-in models, each with its figure and whether it is met."""
    t, rows = record["targets"], []
    for sigma, gap in t["grey_vs_bm3d_db"].items():
        bar = 0.0 if sigma == "25" else -0.2
        rows.append([f"grey, σ = {sigma}: ≥ BM3D{'' if bar == 0 else ' − 0.2 dB'}", _db(gap), _met(gap >= bar)])
    for sigma, gap in (t["single_minus_specialist_db"] or {}).items():
        rows.append([f"one model within 0.2 dB of one trained at σ = {sigma} alone", _db(gap), _met(gap >= -0.2)])
    gap = t["colour_vs_cbm3d_db_sigma25"]
    rows.append(["colour, σ = 25: ≥ CBM3D − 0.5 dB", _db(gap), _met(gap >= -0.5)])
    for space, key in (("grey", "speedup_vs_bm3d"), ("colour", "colour_speedup_vs_cbm3d")):
        rows.append([f"≥ 5× faster than BM3D per megapixel ({space})", f"{t[key]:.1f}×", _met(t[key] >= 5)])
    return _table(["target", "measured", "verdict"], rows)


def _db(gap: float) -> str:
    return f"{gap:+.2f} dB".replace("-", "−")


def _met(met: bool) -> str:
    return "**met**" if met else "**not met**"


def codebook(record: dict) -> str:
    """Each codebook variant's rules, its perplexity and entries used on the test set, and its test error."""
    rows = []
    for v in record["variants"]:
        o = v["options"]
        rules = [
            "k-means" if o.get("codebook_init", "kmeans") == "kmeans" else "drawn vectors",
            o.get("codebook_lookup", "euclidean"),
            "yes" if o.get("codebook_restart", True) else "no",
            str(o.get("latent_dim", 7 * 7 * 16) // 49),
        ]
        default = rules == ["k-means", "euclidean", "yes", "16"]
        rows.append(
            [*rules, f"{v['codebook_perplexity']:.1f}", f"{v['codebook_used']} of {v['codebook_entries']}",
             f"{v['test_error']:.2f}", f"{v['train_seconds']:.0f}"]
        )  # fmt: skip
        if default:
            rows[-1][0] += " (**the default**)"
    header = ["start", "lookup", "restarts", "numbers per position", "perplexity (target ≥ 64)",
              "entries used", "test error (target ≤ 3.62)", "training s"]  # fmt: skip
    return _table(header, rows)


def discrete_samples(record: dict) -> str:
    """FD, precision and recall of the draws at each temperature (and top-k) the benchmark judged."""
    rows = []
    best = min(s["frechet_distance"] for s in record["samples"])
    for s in record["samples"]:
        fd = f"{s['frechet_distance']:.1f}"
        rows.append(
            [f"{s['temperature']:g}", str(s["top_k"] or "all codes"), f"**{fd}**" if s["frechet_distance"] == best
             else fd, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['draw_seconds']:.1f}"]
        )  # fmt: skip
    header = ["temperature", "top-k", "FD (target ≤ 66)", "precision", "recall (target ≥ 0.580)",
              "10,000 draws, s"]  # fmt: skip
    return _table(header, rows)


def _code_name(quantizer: str, usage: dict) -> str:
    return f"VQ-VAE, K = {usage['codebook_entries']}" if quantizer == "vq" else f"FSQ, levels {quantizer[4:]}"


def discrete_codes(*records: dict) -> str:
    """Each discrete autoencoder with its autoregressive prior: the code, the test error, the codes' use, the prior's
    training, and the draws at temperature 1, each against issue 35's target."""
    rows = []
    for r in records:
        usage, draw = r["usage"], next(s for s in r["samples"] if s["temperature"] == 1.0 and not s["top_k"])
        bits = 49 * math.log2(usage["codebook_entries"])  # claim 11's networks code a 7 × 7 grid
        rows.append(
            [_code_name(r["args"]["quantizer"], usage), f"{bits:.0f}", f"{r['test_error']:.2f}",
             f"{usage['codebook_used']} of {usage['codebook_entries']}", f"{usage['codebook_perplexity']:.1f}",
             f"{r['prior_seconds']:.0f}", f"{r['bits_per_grid']:.1f}", f"{draw['frechet_distance']:.1f}",
             f"{draw['precision']:.3f}", f"{draw['recall']:.3f}", f"{draw['draw_seconds']:.1f}"]
        )  # fmt: skip
    header = ["code", "bits per image", "test error (≤ 3.62)", "codes used (FSQ: ≥ 95 %)", "perplexity (VQ: ≥ 64)",
              "prior's training, s (≤ 900)", "prior's bits per grid", "FD (≤ 66)", "precision",
              "recall (≥ 0.580)", "10,000 draws, s (≤ 120)"]  # fmt: skip
    return _table(header, rows)


def _run(summary: dict) -> str:
    minutes = summary["seconds"] / 60
    return (
        f"`make claims`: seed {summary['seed']}, hourglass {summary['hourglass_version']}, torch "
        f"{summary['torch_version']}, {summary['threads']} threads, {minutes:.0f} minutes"
    )


def claims_table(summary: dict) -> str:
    """Every check of every claim — its measure, the figure measured, the criterion fixed in advance and the verdict —
    one row per check; a claim whose experiment broke has one row with its error."""
    rows = []
    for c in summary["claims"]:
        checks = c["checks"] or [{"metric": c["error"] or "—", "value": "—", "criterion": "—", "verdict": c["verdict"]}]
        for i, check in enumerate(checks):
            value = check["value"]
            rows.append(
                [str(c["claim"]) if i == 0 else "", f"{_cell(c['title'])} ({c['seconds']:.0f} s)" if i == 0 else "",
                 _cell(check["metric"]), f"{value:.5g}" if isinstance(value, (int, float)) else _cell(value),
                 _cell(check["criterion"]), f"**{check['verdict']}**"]
            )  # fmt: skip
    table = _table(["#", "claim", "measure", "measured", "criterion", "verdict"], rows)
    return f"The last full run ({_run(summary)} of experiments):\n\n{table}"


def verdicts(summary: dict) -> str:
    """Each claim's statement, as the account states it, beside its verdict."""
    rows = [[str(c["claim"]), _cell(c["title"]), _cell(c["statement"]), f"**{c['verdict']}**"]
            for c in summary["claims"]]  # fmt: skip
    table = _table(["#", "claim", "as the account states it", "verdict"], rows)
    return f"Verdicts of the last full run ({_run(summary)} of experiments):\n\n{table}"


def claim_samplers(summary: dict) -> str:
    """Claim 11's samplers: FD, precision, recall and speed of 10,000 draws each, and each prior's training time."""
    m = next(c for c in summary["claims"] if c["claim"] == 11)["measurements"]
    fit = {"AE + GMM": "gmm", "AE + latent diffusion": "diffusion", "VQ-VAE + autoregressive": "VQ-VAE autoregressive",
           "FSQ + autoregressive": "FSQ autoregressive"}  # fmt: skip
    best = min(s["frechet_distance"] for s in m["samples"].values())
    rows = []
    for name, s in m["samples"].items():
        fd = f"{s['frechet_distance']:.1f}"
        seconds = m["prior_seconds"].get(fit.get(name, ""))
        rows.append(
            [name, f"**{fd}**" if s["frechet_distance"] == best else fd, f"{s['precision']:.3f}",
             f"{s['recall']:.3f}", f"{s['samples_per_s']:,.0f}", "—" if seconds is None else f"{seconds:.0f}"]
        )  # fmt: skip
    header = ["sampler", "FD to the test set", "precision", "recall", "samples/s, decoded", "prior's fitting, s"]
    return _table(header, rows)


TABLES: dict[str, tuple[tuple[str, ...], Callable[..., str]]] = {  # a marker's name → (its records, its renderer)
    "photo-grey": (("bench/photo_denoise",), lambda r: photo_means(r, "grey")),
    "photo-colour": (("bench/photo_denoise",), lambda r: photo_means(r, "colour")),
    "photo-per-photo": (("bench/photo_denoise",), photo_per_photo),
    "photo-speed": (("bench/photo_denoise",), photo_speed),
    "photo-user": (("bench/photo_denoise",), photo_user),
    "photo-targets": (("bench/photo_denoise",), photo_targets),
    "codebook": (("bench/codebook",), codebook),
    "discrete-fsq": (("bench/discrete_prior-fsq",), discrete_samples),
    "claims": (("claims",), claims_table),
    "verdicts": (("claims",), verdicts),
    "claim-samplers": (("claims",), claim_samplers),
    "discrete-codes": (("bench/discrete_prior-vq", "bench/discrete_prior-fsq"), discrete_codes),
}


def render(name: str, records: Path = RECORDS) -> str:
    """The table ``name`` from its records, with the records' files named beneath it."""
    names, renderer = TABLES[name]
    missing = [n for n in names if not (records / f"{n}.json").exists()]
    if missing:  # a page still builds before its first run; the docs' test holds every committed page to a record
        return f"*(This table is generated from `docs/figures/{missing[0]}.json`, which is not there yet.)*"
    table = renderer(*(json.loads((records / f"{n}.json").read_text()) for n in names))
    files = ", ".join(f"`docs/figures/{n}.json`" for n in names)
    return table + f"\n\n<small>Generated from {files}.</small>"


def fill(page: str, records: Path = RECORDS) -> str:
    """``page`` with each ``<!-- table: NAME -->`` line replaced by its table; an unknown name raises KeyError."""
    return MARKER.sub(lambda m: textwrap.indent(render(m.group(2), records), m.group(1)), page)
