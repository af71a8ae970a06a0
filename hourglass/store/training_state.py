"""The resume state of a run: everything needed to continue training exactly where it stopped, in the snapshot
beside the model (``resume.safetensors``: the last epoch's weights, the optimizer's moments and the RNG state;
``resume.json``: the history, the loop's state and the run's fingerprint). Verified before anything is restored,
as :func:`hourglass.store.checkpoint.load` verifies the model."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save as st_save

from ..errors import HourglassError
from . import runfolder
from .checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    HISTORY,
    RESUME_STATE,
    RESUME_WEIGHTS,
    _check_header,
    _header,
    _read_blob,
    _read_json,
    _refuse_non_finite,
    _sha256,
    _state_tensors,
    _tensors,
)


def training_state_files(model, optimizer: torch.optim.Optimizer, generator: torch.Generator, state: dict) -> dict:
    """Everything needed to continue training exactly where it stopped — weights, optimizer moments, RNG, and
    ``state`` (history, loop state, fingerprint) — as bytes by file name."""
    tensors = {f"model.{k}": v for k, v in _state_tensors(model).items()}
    opt = optimizer.state_dict()
    for idx, per_param in opt["state"].items():
        for name, value in per_param.items():
            tensors[f"optimizer.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().clone().contiguous()
    tensors["generator_state"] = generator.get_state()
    blob = st_save(tensors, metadata={"format": FORMAT + "-resume"})
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in opt["param_groups"]]
    record = {
        "format": FORMAT + "-resume",
        "format_version": FORMAT_VERSION,
        "sha256": _sha256(blob),
        "param_groups": groups,
        **state,
    }
    return {RESUME_WEIGHTS: blob, RESUME_STATE: (json.dumps(record) + "\n").encode()}


def read_training_record(directory: str | Path) -> dict | None:
    """The resume record (resume.json) of the run in ``directory``, or None when it has none yet."""
    directory = Path(directory)
    snapshot = runfolder.current(directory) if directory.is_dir() else None
    if snapshot is None or not (snapshot / RESUME_STATE).is_file():
        return None
    record = _read_json(snapshot / RESUME_STATE)
    if record.get("format") != FORMAT + "-resume":
        raise HourglassError(f"{snapshot / RESUME_STATE}: not an hourglass resume file")
    return record


def load_training_state(
    directory: str | Path, model, optimizer: torch.optim.Optimizer, generator: torch.Generator
) -> dict | None:
    """Restore what :func:`training_state_files` wrote into ``model``, ``optimizer`` and ``generator``; return the
    record (None when the run has no resume state yet, and nothing is changed)."""
    record = read_training_record(directory)
    snapshot = runfolder.current(directory)
    if record is None or snapshot is None:
        return None
    path = snapshot / RESUME_WEIGHTS
    blob = _read_blob(path, record.get("sha256"))
    _check_header(_header(blob, path), model, path, prefix="model.")
    tensors = _tensors(blob, path)
    _refuse_non_finite(tensors, path)
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, idx, name = key.split(".", 2)
            per_param.setdefault(int(idx), {})[name] = value
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in record["param_groups"]]
    try:
        optimizer.load_state_dict({"state": per_param, "param_groups": groups})
        generator.set_state(tensors["generator_state"])
    except (ValueError, KeyError, RuntimeError, TypeError) as e:
        raise HourglassError(f"{path}: optimizer state does not fit this model ({e})") from None
    return record


def history_file(epochs: list[dict]) -> dict:
    """history.jsonl: one JSON object per epoch."""
    return {HISTORY: "".join(json.dumps(r) + "\n" for r in epochs).encode()}


def history_summary(history) -> dict:
    """The part of a training history stored in config.json: what the run computed, not how long it took (the
    timings are in history.jsonl), so the same run replayed writes the same file."""
    last = {
        k: v for k, v in (history.epochs[-1] if history.epochs else {}).items() if k not in ("seconds", "samples_per_s")
    }
    return {
        "epochs_run": len(history.epochs),
        "best_epoch": history.best_epoch,
        "best_val_loss": history.best_val_loss,
        "stopped": history.stopped,
        "last": last,
    }
