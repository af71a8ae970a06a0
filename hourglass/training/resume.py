"""What makes a resumed run the same run: a fingerprint of its data and of every setting that changes its
trajectory, stored with the resume state and compared before anything is restored.

Only ``epochs`` may change between the runs (it may grow: the cosine schedule then decays over the new length,
while the epochs already run kept the old one). ``checkpoint_every`` and ``progress`` change nothing the run
computes, and are not part of it.
"""

from __future__ import annotations

import hashlib

import torch

from ..errors import HourglassError

TRAJECTORY = ("seed", "lr", "batch_size", "weight_decay", "schedule", "patience")  # the TrainConfig fields that count


def data_fingerprint(parts: tuple[torch.Tensor, ...]) -> dict:
    """Shape and sha256 of the tensors' bytes: the same data, in the same order, or not."""
    digest = hashlib.sha256()
    for t in parts:
        digest.update(t.contiguous().numpy().tobytes())
    return {"shapes": [list(t.shape) for t in parts], "sha256": digest.hexdigest()}


def fingerprint(config, objective, model, train_data, val_data, metadata: dict) -> dict:
    """Everything a resumed run must share with the run it continues, as plain JSON data (``train_data`` and
    ``val_data`` are feeds: :mod:`hourglass.training.feeds`)."""
    architecture = getattr(model, "architecture", None)
    scaling = metadata.get("scaling")
    return {
        **{name: getattr(config, name) for name in TRAJECTORY},
        "objective": objective.to_dict() if hasattr(objective, "to_dict") else type(objective).__name__,
        "architecture": architecture.to_dict() if architecture is not None else type(model).__name__,
        "model_options": model.options() if hasattr(model, "options") else None,
        "preprocessing": scaling.to_dict() if hasattr(scaling, "to_dict") else scaling,
        "training_data": train_data.fingerprint(),
        "validation_data": val_data.fingerprint(),
    }


def check_same_run(saved: dict | None, now: dict, where) -> None:
    """Refuse to resume when the fingerprints differ, naming the first setting that changed and both values."""
    if saved is None:
        raise HourglassError(f"{where}: its resume state has no fingerprint (written by hourglass 0.1.0); it cannot "
                             "be checked, so it is not resumed: train it again with overwrite")
    for name, value in now.items():
        if saved.get(name) != value:
            old, new = saved.get(name), value
            if name.endswith("_data"):
                old, new = _describe(old), _describe(new)
            raise HourglassError(f"{where}: cannot resume: {name} was {old}, now {new}; resume with the same data "
                                 "and settings (only epochs may grow), or start afresh (overwrite)",
                                 params=(name, "overwrite"))


def _describe(data: dict | None) -> str:
    if not isinstance(data, dict):
        return str(data)
    if "streamed" in data:
        return f"{data['rows']} {data['split']} rows of {data['streamed']} (sha256 {data['sha256'][:12]}…)"
    return f"{' + '.join('×'.join(map(str, s)) for s in data.get('shapes', []))} rows (sha256 {data['sha256'][:12]}…)"
