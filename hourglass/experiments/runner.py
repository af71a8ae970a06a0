"""Running the claims: each in turn, judged, and written after each one to ``claims.json`` and ``report.html``."""

from __future__ import annotations

import json
import platform
import time
import traceback
from pathlib import Path

import torch

from .._version import __version__
from ..devices import resolve
from ..errors import HourglassError
from ..store import files
from .claims import CLAIMS
from .lab import FULL, QUICK, Lab
from .record import Claim


def run_claims(
    out: str | Path = "claims-output",
    quick: bool = False,
    seed: int = 0,
    only: list[int] | None = None,
    progress: bool = True,
    log=print,
    device: str = "auto",
) -> list[Claim]:
    """Run the claims (all, or the numbers in ``only``) and return them, writing ``out/claims.json`` and
    ``out/report.html`` after each one. With ``only``, the results of the other claims from an earlier run of the
    same size and seed in ``out`` stay in both files. A claim whose experiment raises is recorded as ERROR with the
    message, and the others still run. Models train on ``device`` (see :class:`~hourglass.experiments.lab.Lab`).

    Parameters
    ----------
    out : str or Path, optional
        The output folder: claims.json, report.html, figures and trained models.
    quick : bool, optional
        Every experiment at a reduced size (checks that each runs; few verdicts).
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    only : list[int], optional
        Run only these claims (by number); None: all.
    progress : bool, optional
        Show progress while it runs.
    log
        Where progress lines go.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    list of Claim
        Each claim with its measurements, checks and verdict.
    """
    from ..report.html import write_report

    unknown = sorted(set(only or ()) - set(range(1, len(CLAIMS) + 1)))
    if unknown:
        raise HourglassError(
            f"only takes claim numbers 1 to {len(CLAIMS)}, got {', '.join(map(str, unknown))}", params=("only",)
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    resolve(device)  # a device that is not there is refused now, not in each claim
    lab = Lab(out, seed, QUICK if quick else FULL, progress, log, device)
    records = _earlier_records(out, lab) if only else {}
    results = []
    chosen = [c for i, c in enumerate(CLAIMS, 1) if not only or i in only]
    for i, run in enumerate(chosen, 1):
        number = CLAIMS.index(run) + 1
        name = run.__name__.removeprefix("claim_").replace("_", " ")
        log(f"[{i}/{len(chosen)}] claim {number}: {name}")
        started = time.perf_counter()
        try:
            claim = run(lab)
        except Exception as e:  # one broken experiment must not hide the others' results
            claim = Claim(name, "", error=f"{type(e).__name__}: {e}")
            claim.notes.append(traceback.format_exc(limit=-3))
        claim.number = number
        claim.seconds = time.perf_counter() - started
        results.append(claim)
        log(f"    {claim.verdict} ({claim.seconds:.0f} s)" + (f": {claim.error}" if claim.error else ""))
        records[number] = claim.to_dict(out)
        summary = write_summary(out, [records[n] for n in sorted(records)], lab)
        write_report(summary, out, out / "report.html")
    return results


def _earlier_records(out: Path, lab: Lab) -> dict[int, dict]:
    """The claims of an earlier run in ``out`` with the same size and seed, by number (none if it differs)."""
    try:
        earlier = json.loads((out / "claims.json").read_text())
    except (OSError, ValueError):
        return {}
    if earlier.get("format") != "hourglass-claims" or (earlier.get("mode"), earlier.get("seed")) != (
        lab.sizes.name,
        lab.seed,
    ):
        return {}
    return {
        c["claim"]: c
        for c in earlier.get("claims", [])
        if all((out / f["file"]).exists() for f in c.get("figures", []))
    }


def write_summary(out: Path, records: list[dict], lab: Lab) -> dict:
    """Write ``claims.json``: the run's settings and versions, and one record per claim (see :meth:`Claim.to_dict`).
    ``seconds`` is the sum of the claims' own times."""
    summary = {
        "format": "hourglass-claims",
        "mode": lab.sizes.name,
        "seed": lab.seed,
        "seconds": round(sum(r["seconds"] for r in records), 1),
        "data": lab.mnist.name,
        "hourglass_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "claims": records,
    }
    files.write_text(out / "claims.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary
