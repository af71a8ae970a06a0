"""Checkpoints: a folder with the weights in safetensors and everything else in JSON — never pickle.

    run/
      model.safetensors   the weights (the best epoch's), float32
      config.json         format + versions, model kind and architecture, preprocessing, objective, data source,
                          training config, history summary, and the weights file's sha256
      history.jsonl       one JSON object per epoch (written by the trainer)
      resume.safetensors  last epoch's weights, optimizer moments and RNG state (for --resume)
      resume.json         the epoch, history and settings that go with them

Every file is written atomically, weights before the JSON that vouches for them. :func:`load` checks the JSON,
the weights' sha256, and every tensor's name, shape and dtype before it builds anything, so a truncated,
corrupted, foreign or mismatched checkpoint raises :class:`HourglassError` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from . import files
from ._version import __version__
from .data.scaling import Scaling
from .errors import HourglassError
from .models import MODEL_KINDS, build_model
from .nets import Architecture

FORMAT = "hourglass-checkpoint"
FORMAT_VERSION = 1
WEIGHTS, CONFIG, HISTORY = "model.safetensors", "config.json", "history.jsonl"
RESUME_WEIGHTS, RESUME_STATE = "resume.safetensors", "resume.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode) and what was saved with it."""

    model: torch.nn.Module
    config: dict
    scaling: Scaling = field(default_factory=Scaling)
    path: Path | None = None

    @property
    def data(self) -> dict:
        return self.config.get("data") or {}

    @property
    def objective(self) -> dict:
        return self.config.get("objective") or {}

    @property
    def variant(self) -> str:
        """What the objective makes of the model: "ae", "dae", "sae", "cae", "vae" or parts joined ("dae+sae")."""
        return self.config.get("variant") or ("vae" if self.model.variational else "ae")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous() for k, v in module.state_dict().items()}


def save(directory: str | Path, model, *, scaling: Scaling | None = None, objective: dict | None = None,
         data: dict | None = None, training: dict | None = None, history: dict | None = None,
         variant: str | None = None, anomaly: dict | None = None) -> Path:
    """Write ``model`` (which must carry its :class:`Architecture`) and its metadata to ``directory``."""
    if getattr(model, "architecture", None) is None:
        raise HourglassError("only models built from an Architecture can be saved (Autoencoder.from_architecture)")
    directory = Path(directory)
    blob = st_save(_state_tensors(model), metadata={"format": FORMAT})
    files.write_bytes(directory / WEIGHTS, blob)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hourglass_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "variant": variant or ("vae" if model.variational else "ae"),
        "model": {"kind": model.kind, "architecture": model.architecture.to_dict(), "options": model.options()},
        "weights": {"file": WEIGHTS, "sha256": _sha256(blob)},
        "preprocessing": (scaling or Scaling()).to_dict(),
        "objective": objective,
        "data": data,
        "training": training,
        "history": history,
        "anomaly": anomaly,
    }
    files.write_text(directory / CONFIG, json.dumps(config, indent=2) + "\n")
    return directory


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise HourglassError(f"{path}: missing")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise HourglassError(f"{path}: not valid JSON ({e}); the file is truncated or corrupted") from None
    if not isinstance(obj, dict):
        raise HourglassError(f"{path}: expected a JSON object")
    return obj


def _read_tensors(path: Path, sha256: str | None) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise HourglassError(f"{path}: missing")
    blob = path.read_bytes()
    if sha256 is not None and _sha256(blob) != sha256:
        raise HourglassError(f"{path}: sha256 does not match its config; the file is truncated, corrupted or "
                             "from another checkpoint")
    try:
        return st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise HourglassError(f"{path}: not a readable safetensors file ({e})") from None


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: Path, prefix: str = "") -> None:
    """Copy ``tensors`` into ``module`` after checking names, shapes and dtypes match exactly."""
    expected = module.state_dict()
    got = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise HourglassError(f"{source}: weights do not fit the architecture (missing {missing[:3]}, "
                             f"unexpected {extra[:3]})")
    for name, ref in expected.items():
        if got[name].shape != ref.shape or got[name].dtype != ref.dtype:
            raise HourglassError(f"{source}: tensor {name} is {got[name].dtype} {tuple(got[name].shape)}, the "
                                 f"architecture needs {ref.dtype} {tuple(ref.shape)}")
    module.load_state_dict(got, strict=True)


def read_config(directory: str | Path) -> dict:
    """The validated ``config.json`` of a checkpoint folder (nothing built, no weights read)."""
    directory = Path(directory)
    if not directory.exists():
        raise HourglassError(f"{directory}: no such checkpoint folder")
    if directory.is_file():
        if directory.name in (WEIGHTS, CONFIG):
            directory = directory.parent
        else:
            raise HourglassError(f"{directory}: a checkpoint is a folder with {CONFIG} and {WEIGHTS}")
    config = _read_json(directory / CONFIG)
    if config.get("format") != FORMAT:
        raise HourglassError(f"{directory / CONFIG}: not an hourglass checkpoint (format is {config.get('format')!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise HourglassError(f"{directory / CONFIG}: checkpoint format version {version!r}; this hourglass "
                             f"({__version__}) reads up to {FORMAT_VERSION}")
    model = config.get("model")
    if not isinstance(model, dict) or model.get("kind") not in MODEL_KINDS or not isinstance(model.get("options"),
                                                                                                  dict):
        raise HourglassError(f"{directory / CONFIG}: model must name a kind in {sorted(MODEL_KINDS)} and its "
                             "options")
    if not isinstance(config.get("weights"), dict) or not isinstance(config["weights"].get("sha256"), str):
        raise HourglassError(f"{directory / CONFIG}: weights.sha256 missing")
    return config


def load(directory: str | Path) -> Checkpoint:
    """Rebuild the model saved in ``directory`` (eval mode), its scaling and its metadata; validate everything."""
    directory = Path(directory)
    if directory.is_file() and directory.name in (WEIGHTS, CONFIG):
        directory = directory.parent
    config = read_config(directory)
    try:
        arch = Architecture.from_dict(config["model"].get("architecture") or {})
        scaling = Scaling.from_dict(config.get("preprocessing") or {"kind": "none"}, arch.n_features)
        model = build_model(config["model"]["kind"], arch, config["model"]["options"])
    except HourglassError as e:
        raise HourglassError(f"{directory / CONFIG}: {e}") from None
    tensors = _read_tensors(directory / WEIGHTS, config["weights"]["sha256"])
    _load_into(model, tensors, directory / WEIGHTS)
    model.eval()
    return Checkpoint(model, config, scaling, directory)


# --------------------------------------------------------------------------------------------------- resume


def save_training_state(directory: str | Path, model, optimizer: torch.optim.Optimizer,
                        generator: torch.Generator, state: dict) -> None:
    """Everything needed to continue training exactly where it stopped: weights, optimizer moments, RNG, ``state``."""
    directory = Path(directory)
    tensors = {f"model.{k}": v for k, v in _state_tensors(model).items()}
    opt = optimizer.state_dict()
    for idx, per_param in opt["state"].items():
        for name, value in per_param.items():
            tensors[f"optimizer.{idx}.{name}"] = torch.as_tensor(value).detach().clone().contiguous()
    tensors["generator_state"] = generator.get_state()
    blob = st_save(tensors, metadata={"format": FORMAT + "-resume"})
    files.write_bytes(directory / RESUME_WEIGHTS, blob)
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in opt["param_groups"]]
    record = {"format": FORMAT + "-resume", "format_version": FORMAT_VERSION, "sha256": _sha256(blob),
              "param_groups": groups, **state}
    files.write_text(directory / RESUME_STATE, json.dumps(record) + "\n")


def load_training_state(directory: str | Path, model, optimizer: torch.optim.Optimizer,
                        generator: torch.Generator) -> dict:
    """Restore what :func:`save_training_state` wrote into ``model``, ``optimizer`` and ``generator``."""
    directory = Path(directory)
    if not (directory / RESUME_STATE).exists():
        raise HourglassError(f"{directory}: nothing to resume ({RESUME_STATE} missing)")
    record = _read_json(directory / RESUME_STATE)
    if record.get("format") != FORMAT + "-resume":
        raise HourglassError(f"{directory / RESUME_STATE}: not an hourglass resume file")
    tensors = _read_tensors(directory / RESUME_WEIGHTS, record.get("sha256"))
    _load_into(model, {k: v for k, v in tensors.items() if k.startswith("model.")}, directory / RESUME_WEIGHTS,
               prefix="model.")
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, idx, name = key.split(".", 2)
            per_param.setdefault(int(idx), {})[name] = value
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in record["param_groups"]]
    try:
        optimizer.load_state_dict({"state": per_param, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError) as e:
        raise HourglassError(f"{directory / RESUME_STATE}: optimizer state does not fit this model ({e})") from None
    generator.set_state(tensors["generator_state"])
    return record


def history_summary(history) -> dict:
    """The part of a training history stored in config.json."""
    last = history.epochs[-1] if history.epochs else {}
    return {"epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
            "best_val_loss": history.best_val_loss, "stopped": history.stopped, "last": last}
