"""Checkpoints: a run folder of snapshots, each the weights in safetensors and everything else in JSON — never pickle.

    run/CURRENT → snapshot-000007/     (see :mod:`hourglass.store.runfolder`: published whole, or not at all)
      model.safetensors   the weights (the best epoch's), float32
      config.json         format + versions, model kind and architecture, preprocessing, objective, data source,
                          training config, history summary, and the weights file's sha256
      history.jsonl       one JSON object per epoch (written by the trainer)
      resume.safetensors  last epoch's weights, optimizer moments and RNG state (for resume)
      resume.json         the epoch, history, loop state and the run's fingerprint (data and settings)

:func:`load` verifies before it builds: the JSON, the weights' sha256, then every tensor's name, shape and dtype
from the safetensors header against the architecture built on PyTorch's "meta" device (no memory allocated), so
a config cannot make it allocate more than its weights file holds; then it loads the weights and refuses
non-finite ones. A truncated, corrupted, foreign or mismatched checkpoint raises :class:`HourglassError` naming
the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import platform
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .._version import __version__
from ..errors import HourglassError
from ..models import MODEL_KINDS, build_model
from ..nets import Architecture
from ..scaling import Scaling
from . import runfolder

FORMAT = "hourglass-checkpoint"
# The checkpoint formats, by their own number (never a package version): 1, the files directly in the run folder;
# 2, snapshot folders published through CURRENT. Written: the newest; read: all of them.
FORMAT_VERSION = 2
FORMATS_READ = (1, 2)
WEIGHTS, CONFIG, HISTORY = "model.safetensors", "config.json", "history.jsonl"
CUSTOM = "custom"  # config.json's model kind for a module not built from an Architecture
RESUME_WEIGHTS, RESUME_STATE = "resume.safetensors", "resume.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode) and what was saved with it.

    Parameters
    ----------
    model : Any
        The rebuilt model, in eval mode.
    config : dict
        config.json as saved: format, versions, architecture, objective, data, training, history, anomaly quantiles and
        the run.
    scaling : Scaling, optional
        The map from the data's units into the model's space.
    path : Path, optional
        The run folder it was loaded from.
    """

    model: Any  # an Autoencoder or VAE rebuilt from its record, or the module the caller passed to load
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
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}  # device-independent


def checkpoint_files(
    model,
    tensors: dict[str, torch.Tensor] | None = None,
    *,
    scaling: Scaling | None = None,
    objective: dict | None = None,
    data: dict | None = None,
    training: dict | None = None,
    history: dict | None = None,
    variant: str | None = None,
    anomaly: dict | None = None,
    run: dict | None = None,
) -> dict:
    """The weights (``tensors``, default the model's own) and config.json of a checkpoint, as bytes by file name.
    A model built from an :class:`Architecture` is recorded so that :func:`load` rebuilds it; any other module
    (a network the user wrote) as a record of what it was — its class's name and its tensors' shapes — and
    :func:`load` puts its weights into a module the user builds (nothing named in a file is ever imported)."""
    tensors = (
        _state_tensors(model) if tensors is None else {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    )
    blob = st_save(tensors, metadata={"format": FORMAT})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hourglass_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "variant": variant or ("vae" if getattr(model, "variational", False) else "ae"),
        "model": _model_record(model, tensors),
        "weights": {"file": WEIGHTS, "sha256": _sha256(blob)},
        "preprocessing": (scaling or Scaling()).to_dict(),
        "objective": objective,
        "data": data,
        "training": training,
        "history": history,
        "anomaly": anomaly,
        "run": run,
    }
    return {WEIGHTS: blob, CONFIG: (json.dumps(config, indent=2) + "\n").encode()}


def _model_record(model, tensors: dict[str, torch.Tensor]) -> dict:
    if getattr(model, "architecture", None) is not None and getattr(model, "kind", None) in MODEL_KINDS:
        return {"kind": model.kind, "architecture": model.architecture.to_dict(), "options": model.options()}
    return {
        "kind": CUSTOM,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
    }


def carried(directory: str | Path, names=(HISTORY, RESUME_WEIGHTS, RESUME_STATE)) -> dict:
    """The files ``names`` of the run's current snapshot that exist, as bytes (to carry into the next one)."""
    snapshot = runfolder.current(directory) if Path(directory).is_dir() else None
    if snapshot is None:
        return {}
    return {name: (snapshot / name).read_bytes() for name in names if (snapshot / name).is_file()}


def save(directory: str | Path, model, *, keep_training_state: bool = False, **metadata) -> Path:
    """Publish ``model`` (which must carry its :class:`Architecture`) and its metadata (``scaling``, ``objective``,
    ``data``, ``training``, ``history``, ``variant``, ``anomaly``) as the run's new checkpoint in ``directory``;
    with ``keep_training_state`` the current snapshot's history and resume state come along.

    Parameters
    ----------
    directory : str or Path
        The run folder (created if needed).
    model
        A trained model (an :class:`~hourglass.models.Autoencoder`, :class:`~hourglass.models.VAE` or
        :class:`~hourglass.models.VQVAE`).
    keep_training_state : bool, optional
        Carry the current snapshot's history and resume state into the new one.
    **metadata
        scaling, objective, data, training, history, variant, anomaly: kept in config.json.

    Returns
    -------
    Path
        The run folder.
    """
    contents = checkpoint_files(model, **metadata)
    with runfolder.writer(directory):
        if keep_training_state:
            contents = {**carried(directory), **contents}
        runfolder.publish(directory, contents)
    return Path(directory)


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


def _read_blob(path: Path, sha256: str | None) -> bytes:
    if not path.is_file():
        raise HourglassError(f"{path}: missing")
    blob = path.read_bytes()
    if sha256 is not None and _sha256(blob) != sha256:
        raise HourglassError(
            f"{path}: sha256 does not match its config; the file is truncated, corrupted or from another checkpoint"
        )
    return blob


def _header(blob: bytes, path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Each tensor's dtype and shape from a safetensors file's JSON header, without reading any tensor."""
    try:
        size = struct.unpack("<Q", blob[:8])[0]
        if size > len(blob) - 8:
            raise ValueError(f"header of {size} bytes in a file of {len(blob)}")
        header = json.loads(blob[8 : 8 + size])
        return {k: (v["dtype"], tuple(int(n) for n in v["shape"])) for k, v in header.items() if k != "__metadata__"}
    except (struct.error, ValueError, KeyError, TypeError, AttributeError) as e:
        raise HourglassError(f"{path}: not a readable safetensors file ({e})") from None


def _tensors(blob: bytes, path: Path) -> dict[str, torch.Tensor]:
    try:
        return st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise HourglassError(f"{path}: not a readable safetensors file ({e})") from None


_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16"}


def _check_header(header: dict, skeleton: torch.nn.Module, path: Path, prefix: str = "") -> None:
    """The file's tensors (names, shapes, dtypes) against a model built on the meta device: nothing allocated."""
    expected = {k: (_DTYPES.get(v.dtype, str(v.dtype)), tuple(v.shape)) for k, v in skeleton.state_dict().items()}
    got = {k[len(prefix) :]: v for k, v in header.items() if k.startswith(prefix)}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise HourglassError(
            f"{path}: weights do not fit the architecture (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for name, (dtype, shape) in expected.items():
        if got[name] != (dtype, shape):
            raise HourglassError(
                f"{path}: tensor {name} is {got[name][0]} {got[name][1]}, the architecture needs {dtype} {shape}"
            )


def _snapshot(directory: str | Path) -> tuple[Path, Path]:
    """(run folder, folder of its current files) for a checkpoint named by its run folder, a snapshot folder or
    one of its files; an error naming the path when there is no checkpoint there."""
    path = Path(directory)
    if not path.exists():
        raise HourglassError(f"{path}: no such checkpoint folder")
    if path.is_file():
        if path.name not in (WEIGHTS, CONFIG):
            raise HourglassError(f"{path}: a checkpoint is a folder with {CONFIG} and {WEIGHTS}")
        path = path.parent
    if runfolder.SNAPSHOT.fullmatch(path.name) and (path / CONFIG).is_file():
        return path.parent, path
    snapshot = runfolder.current(path)
    if snapshot is None:
        raise HourglassError(
            f"{path}: holds no checkpoint (no {runfolder.CURRENT} and no {CONFIG}); has its run saved an epoch yet?"
        )
    return path, snapshot


def read_config(directory: str | Path) -> dict:
    """The validated ``config.json`` of a checkpoint (nothing built, no weights read)."""
    _, snapshot = _snapshot(directory)
    path = snapshot / CONFIG
    config = _read_json(path)
    if config.get("format") != FORMAT:
        raise HourglassError(f"{path}: not an hourglass checkpoint (format is {config.get('format')!r})")
    version = config.get("format_version")
    if version not in FORMATS_READ or isinstance(version, bool):
        raise HourglassError(
            f"{path}: checkpoint format {version!r}; this hourglass ({__version__}) reads formats "
            f"{', '.join(map(str, FORMATS_READ))}"
        )
    model = config.get("model")
    if isinstance(model, dict) and model.get("kind") == CUSTOM and isinstance(model.get("class"), str):
        pass  # a user's module: load() needs the module itself
    elif (
        not isinstance(model, dict)
        or not isinstance(model.get("kind"), str)
        or model["kind"] not in MODEL_KINDS
        or not isinstance(model.get("options"), dict)
        or not isinstance(model.get("architecture"), dict)
    ):
        raise HourglassError(
            f"{path}: model must name a kind in {sorted(MODEL_KINDS)}, its architecture and its options"
        )
    if not isinstance(config.get("weights"), dict) or not isinstance(config["weights"].get("sha256"), str):
        raise HourglassError(f"{path}: weights.sha256 missing")
    return config


def _build(config: dict, path: Path, device: str | None = None):
    """The architecture, scaling and model a config declares (on ``device``: "meta" allocates nothing)."""
    try:
        arch = Architecture.from_dict(config["model"].get("architecture") or {})
        scaling = Scaling.from_dict(config.get("preprocessing") or {"kind": "none"}, arch.n_features)
        with torch.device(device or "cpu"):
            model = build_model(config["model"]["kind"], arch, config["model"]["options"])
    except HourglassError as e:
        raise HourglassError(f"{path}: {e}") from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as e:  # a field of the wrong type
        raise HourglassError(f"{path}: malformed ({type(e).__name__}: {e})") from None
    return arch, scaling, model


def load(directory: str | Path, model: torch.nn.Module | None = None) -> Checkpoint:
    """Rebuild the model saved in ``directory`` (eval mode), its scaling and its metadata, verifying everything
    before anything is allocated (see the module docstring).

    Parameters
    ----------
    directory : str or Path
        The run folder.
    model : torch.nn.Module, optional
        A module you built (a custom network, or any model whose layout you know): the saved weights go into it after
        every tensor's name, shape and dtype is checked against it. A checkpoint of a custom module needs it; nothing
        named in the file is imported or run.

    Returns
    -------
    Checkpoint
        The model (eval mode), its scaling and everything saved with it.
    """
    run, snapshot = _snapshot(directory)
    config = read_config(snapshot)
    weights = snapshot / WEIGHTS
    blob = _read_blob(weights, config["weights"]["sha256"])
    if model is not None or config["model"]["kind"] == CUSTOM:
        return _load_into(model, config, blob, snapshot, run)
    _, _, skeleton = _build(config, snapshot / CONFIG, device="meta")
    _check_header(_header(blob, weights), skeleton, weights)
    _, scaling, model = _build(config, snapshot / CONFIG)
    tensors = _tensors(blob, weights)
    _refuse_non_finite(tensors, weights)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return Checkpoint(model, config, scaling, run)


def _load_into(model: torch.nn.Module | None, config: dict, blob: bytes, snapshot: Path, run: Path) -> Checkpoint:
    weights = snapshot / WEIGHTS
    if model is None:
        raise HourglassError(
            f"{snapshot / CONFIG}: holds the weights of a custom module ({config['model']['class']}); "
            "build that module and pass it: load(path, model=module)",
            params=("model",),
        )
    _check_header(_header(blob, weights), model, weights)
    tensors = _tensors(blob, weights)
    _refuse_non_finite(tensors, weights)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    pre = config.get("preprocessing") or {"kind": "none"}
    sizes = [len(v) for v in (pre.get("shift"), pre.get("scale")) if isinstance(v, list)]
    try:
        scaling = Scaling.from_dict(pre, sizes[0] if sizes else 1)
    except HourglassError as e:
        raise HourglassError(f"{snapshot / CONFIG}: {e}") from None
    return Checkpoint(model, config, scaling, run)


def _refuse_non_finite(tensors: dict[str, torch.Tensor], path: Path) -> None:
    for name, t in tensors.items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise HourglassError(f"{path}: tensor {name} holds NaN or infinite values; the weights are unusable")


# --------------------------------------------------------------------------------------------------- resume


def open_checkpoint(checkpoint: str | Path | Checkpoint, images: bool = False, device: str = "auto") -> Checkpoint:
    """The checkpoint itself, loaded and validated, its model on ``device``
    (:func:`hourglass.devices.resolve`); with ``images``, one whose samples are images (C, H, W)."""
    from ..devices import resolve

    loaded = checkpoint if isinstance(checkpoint, Checkpoint) else load(checkpoint)
    loaded.model.to(resolve(device))
    shape = loaded.model.architecture.input_shape
    if images and len(shape) != 3:
        raise HourglassError(f"png draws images, but the model's samples have shape {shape}", params=("png",))
    return loaded
