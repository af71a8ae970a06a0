"""What makes a resumed run the same run: a fingerprint of its data and of every setting that changes its
trajectory, stored with the resume state and compared before anything is restored.

Only ``epochs`` may change between the runs (it may grow: the cosine schedule then decays over the new length,
while the epochs already run kept the old one). ``checkpoint_every``, ``progress`` and ``device`` change nothing
the run computes (or only its rounding), and are not part of it; ``precision`` and ``compile`` are.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

from ..errors import HourglassError
from ..store import checkpoint as ckpt
from ..store import training_state
from .config import History, factory_name

TRAJECTORY = (
    "seed",
    "lr",
    "batch_size",
    "weight_decay",
    "schedule",
    "warmup_steps",
    "clip_grad_norm",
    "patience",
    "precision",
    "compile",
)  # the TrainConfig fields that count


def data_fingerprint(parts: tuple[torch.Tensor, ...]) -> dict:
    """Shape and sha256 of the tensors' bytes, on any device and of any dtype: the same data, in the same order, or
    not."""
    digest = hashlib.sha256()
    for t in parts:
        # The raw bytes (a view as uint8 exists for every dtype, bfloat16 too, which NumPy has no type for).
        digest.update(t.detach().reshape(-1).contiguous().cpu().view(torch.uint8).numpy().tobytes())
    return {"shapes": [list(t.shape) for t in parts], "sha256": digest.hexdigest()}


def fingerprint(config, objective, model, train_data, val_data, metadata: dict, optimizer=None, schedule=None) -> dict:
    """Everything a resumed run must share with the run it continues, as plain JSON data (``train_data`` and
    ``val_data`` are feeds: :mod:`hourglass.training.feeds`)."""
    architecture: Any = getattr(model, "architecture", None)
    scaling = metadata.get("scaling")
    return {
        **{name: getattr(config, name) for name in TRAJECTORY},
        "objective": objective.to_dict() if hasattr(objective, "to_dict") else type(objective).__name__,
        "architecture": architecture.to_dict() if architecture is not None else type(model).__name__,
        "model_options": model.options() if hasattr(model, "options") else None,
        "preprocessing": scaling.to_dict() if scaling is not None and hasattr(scaling, "to_dict") else scaling,
        "optimizer": factory_name(optimizer) if optimizer is not None else None,
        "schedule_function": factory_name(schedule) if schedule is not None else None,
        "training_data": train_data.fingerprint(),
        "validation_data": val_data.fingerprint(),
    }


def completed(saved: dict | None, training: dict | None) -> dict | None:
    """A saved fingerprint with the entries that runs written before they existed lack: what those runs used (the
    precision their training config recorded, no warm-up or clipping, the default optimizer and schedule)."""
    if saved is None:
        return None
    from .config import adam, warmup_then_decay

    earlier = {
        "warmup_steps": 0,
        "clip_grad_norm": None,
        "compile": False,
        "precision": (training or {}).get("precision", "fp32"),
        "optimizer": factory_name(adam),
        "schedule_function": factory_name(warmup_then_decay),
    }
    return {**earlier, **saved}


def check_same_run(saved: dict | None, now: dict, where) -> None:
    """Refuse to resume when the fingerprints differ, naming the first setting that changed and both values."""
    if saved is None:
        raise HourglassError(
            f"{where}: its resume state has no fingerprint (an old run folder); it cannot "
            "be checked, so it is not resumed: train it again with overwrite"
        )
    for name, value in now.items():
        if saved.get(name) != value:
            old, new = saved.get(name), value
            if name.endswith("_data"):
                old, new = _describe(old), _describe(new)
            raise HourglassError(
                f"{where}: cannot resume: {name} was {old}, now {new}; resume with the same data "
                "and settings (only epochs may grow), or start afresh (overwrite)",
                params=(name, "overwrite"),
            )


def _describe(data: dict | None) -> str:
    if not isinstance(data, dict):
        return str(data)
    if "streamed" in data:
        return f"{data['rows']} {data['split']} rows of {data['streamed']} (sha256 {data['sha256'][:12]}…)"
    return f"{' + '.join('×'.join(map(str, s)) for s in data.get('shapes', []))} rows (sha256 {data['sha256'][:12]}…)"


def restore(trainer) -> None:
    """Continue ``trainer`` (a :class:`~hourglass.training.loop.Trainer`) from its run folder's resume state, if it
    has one, after checking it is the same run: its weights, optimizer, generator, history and early-stopping count."""
    assert trainer.folder is not None and trainer.fingerprint is not None, "restore needs a run folder"
    record = training_state.read_training_record(trainer.folder)
    if record is None:
        trainer.history.notes.append(f"{trainer.folder} held no checkpoint yet: started from the beginning")
        return
    saved = completed(record.get("fingerprint"), record.get("training"))
    check_same_run(saved, trainer.fingerprint, trainer.folder)
    training_state.load_training_state(trainer.folder, trainer.module, trainer.optimizer, trainer.generator)
    trainer.history = History(**{**record["history"], "notes": []})
    trainer.epochs_since_best = int(record.get("epochs_since_best", 0))
    trainer.best_state = {k: v.detach().clone() for k, v in ckpt.load(trainer.folder).model.state_dict().items()}
    done, asked = len(trainer.history.epochs), trainer.config.epochs
    saved_epochs = (record.get("training") or {}).get("epochs", done)
    if asked > saved_epochs and trainer.config.schedule == "cosine":
        trainer.history.notes.append(
            f"epochs grew from {saved_epochs} to {asked}: the cosine schedule now decays "
            f"over {asked} epochs (the {done} already run followed the {saved_epochs}-epoch "
            "schedule)"
        )
