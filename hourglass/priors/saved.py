"""Priors saved beside their checkpoint, as everything else: tensors in safetensors, the rest in JSON.

    run/priors/gmm.safetensors    the density's tensors
    run/priors/gmm.json           kind, settings, the seed, and the sha256 of the weights it was fitted to

A prior belongs to one model's codes: loading checks that the run's weights are still the ones it was fitted to
(a run trained again has other codes), and each file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..errors import HourglassError
from ..store.checkpoint import Checkpoint
from ..store.files import atomic_path
from .densities import PRIORS

FOLDER = "priors"


def _files(run: Path, kind: str) -> tuple[Path, Path]:
    folder = Path(run) / FOLDER
    return folder / f"{kind}.safetensors", folder / f"{kind}.json"


def _weights_of(checkpoint: Checkpoint) -> str | None:
    return (checkpoint.config.get("weights") or {}).get("sha256")


def save_prior(prior, checkpoint: Checkpoint, record: dict | None = None) -> Path:
    """Write ``prior`` into ``checkpoint``'s run folder (``priors/KIND.*``); returns the .json's path."""
    if checkpoint.path is None:
        raise HourglassError("this checkpoint has no folder to keep a prior in")
    tensors, settings = prior.state()
    weights, meta = _files(checkpoint.path, prior.kind)
    with atomic_path(weights) as tmp:
        tmp.write_bytes(st_save({k: v.contiguous() for k, v in tensors.items()}))
    info = {"kind": prior.kind, "settings": settings, "fitted_to": _weights_of(checkpoint), **(record or {})}
    with atomic_path(meta) as tmp:
        tmp.write_text(json.dumps(info, indent=2))
    return meta


def load_prior(checkpoint: Checkpoint, kind: str):
    """The ``kind`` prior saved in ``checkpoint``'s run folder, checked against the run's weights."""
    if kind not in PRIORS:
        raise HourglassError(f"unknown prior {kind!r}; expected one of {', '.join(PRIORS)}", params=("prior",))
    weights, meta = _files(checkpoint.path or Path("."), kind)
    if not meta.exists() or not weights.exists():
        raise HourglassError(
            f"{checkpoint.path} has no {kind} prior; fit one first: hourglass prior {checkpoint.path} with kind {kind}",
            params=("kind",),
        )
    try:
        info = json.loads(meta.read_text())
        tensors = st_load(weights.read_bytes())
    except (OSError, ValueError, SafetensorError) as e:
        raise HourglassError(f"{meta.parent}: the {kind} prior cannot be read ({e}); fit it again") from None
    if info.get("kind") != kind:
        raise HourglassError(f"{meta}: holds a {info.get('kind')!r} prior, not {kind!r}")
    if info.get("fitted_to") != _weights_of(checkpoint):
        raise HourglassError(
            f"{meta}: this prior was fitted to other weights than the run's (trained again since?); fit it again: "
            f"hourglass prior {checkpoint.path} with kind {kind}",
            params=("kind",),
        )
    try:
        return PRIORS[kind].from_state(tensors, info.get("settings") or {})
    except (KeyError, RuntimeError, TypeError) as e:
        raise HourglassError(f"{weights}: the {kind} prior's tensors do not fit ({e}); fit it again") from None


def saved_prior(checkpoint, kind: str, steps: int | None = 50, temperature: float = 1.0, top_k: int | None = None):
    """A function ``codes(n, generator) -> (n, k)`` drawing from the run's saved ``kind`` prior, loaded and checked
    here, once.

    Parameters
    ----------
    checkpoint : Checkpoint
        The loaded run whose folder holds the prior.
    kind : str
        "gmm", "diffusion", "gaussian" or "autoregressive".
    steps : int, optional
        DDIM's steps, for diffusion; None or 1000: the full ancestral chain.
    temperature : float, optional
        The autoregressive prior's: each index drawn from softmax(logits / temperature).
    top_k : int, optional
        The autoregressive prior's: each index drawn from the ``top_k`` likeliest only (None: from all).

    Returns
    -------
    callable
        ``codes(n, generator)``: n codes (n, k), a grid's indices already turned into codes by the model's quantiser.
    """
    prior = load_prior(checkpoint, kind)
    if kind == "autoregressive":
        codes_of = checkpoint.model.quantizer.codes
        return lambda n, generator: codes_of(prior.sample(n, generator, temperature, top_k))
    if kind == "diffusion":
        return lambda n, generator: prior.sample(n, generator, steps=steps)
    return prior.sample
