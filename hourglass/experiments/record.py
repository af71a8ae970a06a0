"""The record of a claim: each criterion as a :class:`Check` (metric, measured value, criterion, verdict), and the
:class:`Claim` that gathers its checks, other measurements, figures and notes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Check:
    """One criterion: ``metric`` measured as ``value``, judged by ``criterion`` (e.g. "≤ 2").

    judged: False when the quick run is too small for this criterion; the value is reported, not judged.
    """

    metric: str
    value: float | None
    criterion: str
    passed: bool
    judged: bool = True

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "value": _plain(self.value),
            "criterion": self.criterion,
            "verdict": ("PASS" if self.passed else "FAIL") if self.judged else "NOT JUDGED",
        }


def at_most(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"≤ {bound:g}", bool(value <= bound), judged)


def at_least(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"≥ {bound:g}", bool(value >= bound), judged)


def below(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"< {bound:g}", bool(value < bound), judged)


def above(metric: str, value: float, bound: float, judged: bool = True) -> Check:
    return Check(metric, float(value), f"> {bound:g}", bool(value > bound), judged)


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Claim:
    """One claim's outcome: what it says, its checks, the other measurements, figures and wall-clock seconds."""

    title: str
    statement: str
    checks: list[Check] = field(default_factory=list)
    measurements: dict = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    links: list[Figure] = field(default_factory=list)  # pages beside the report (the latent explorer)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    number: int = 0  # its place in the one list of claims (set by the runner)

    @property
    def verdict(self) -> str:
        """PASS when every judged check passed, FAIL when one did not, ERROR when the experiment broke, NOT JUDGED
        when the (quick) run judged nothing."""
        if self.error:
            return "ERROR"
        judged = [c for c in self.checks if c.judged]
        if not judged:
            return "NOT JUDGED"
        return "PASS" if all(c.passed for c in judged) else "FAIL"

    @property
    def headline(self) -> Check | None:
        """The check to quote for the claim: the first that failed, else the first."""
        failed = [c for c in self.checks if c.judged and not c.passed]
        return (failed or self.checks or [None])[0]  # type: ignore[list-item]

    def to_dict(self, root: Path) -> dict:
        main = self.headline or Check("", None, "", False, False)
        return {
            "claim": self.number,
            "title": self.title,
            "statement": self.statement,
            "metric": main.metric,
            "value": main.value,
            "criterion": main.criterion,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 1),
            "checks": [c.to_dict() for c in self.checks],
            "measurements": _plain(self.measurements),
            "notes": self.notes,
            "error": self.error,
            "figures": [{"file": str(f.path.relative_to(root)), "caption": f.caption} for f in self.figures],
            "links": [{"file": str(f.path.relative_to(root)), "caption": f.caption} for f in self.links],
        }


def _plain(value):
    """Numbers, strings, lists and dicts only (NumPy scalars become floats; arrays are left out)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, np.ndarray)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
