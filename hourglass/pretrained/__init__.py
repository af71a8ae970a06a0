"""Built-in denoisers: trained models that ship inside the package, so that a photo can be cleaned before anything
is trained.

    hourglass/pretrained/
      SHA256SUMS            the sha256 of every file below, checked before a model is built
      denoise-grey/         a run folder (model.safetensors, config.json): grey photos
      denoise-colour/       the same for colour (RGB) photos

Each is a fully convolutional residual hourglass told its noise level as an input map (FFDNet, Zhang et al. 2018):
one model for σ ∈ [0, 50]/255. ``python bench/photo_pretrain.py`` (``make pretrained``) trains them again from the
photographs that ship in scikit-image, scikit-learn and matplotlib, and rewrites this folder; docs/benchmarks.md
gives the recipe, the run's history and how the models compare with BM3D.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import HourglassError

FOLDER = Path(__file__).resolve().parent
NAMES = ("grey", "colour")
PREFIX = "builtin"  # how a checkpoint argument names a built-in model: "builtin", "builtin:grey", "builtin:colour"
SUMS = "SHA256SUMS"


def is_builtin(name) -> bool:
    """Whether ``name`` (a checkpoint argument) names a built-in model: "builtin" or "builtin:NAME"."""
    return isinstance(name, str) and (name == PREFIX or name.startswith(PREFIX + ":"))


def builtin_name(name: str | None, channels: int) -> str:
    """The built-in model for ``name`` ("builtin:grey", "grey", "builtin" or None) and photos of ``channels``
    channels: "builtin" and None pick grey for 1 channel, colour for 3 (a grey model cleans other counts channel by
    channel)."""
    chosen = (name or PREFIX).removeprefix(PREFIX).removeprefix(":")
    if not chosen:
        chosen = "colour" if channels == 3 else "grey"
    if chosen not in NAMES:
        raise HourglassError(
            f"unknown built-in model {name!r}; expected {PREFIX} (chosen by the photo) or "
            + ", ".join(f"{PREFIX}:{n}" for n in NAMES),
            params=("checkpoint",),
        )
    return chosen


def recorded_sums(folder: Path | None = None) -> dict[str, str]:
    """The sha256 of each shipped file, by its path relative to ``folder`` (default: the package's; from
    SHA256SUMS)."""
    path = (folder or FOLDER) / SUMS
    if not path.is_file():
        raise HourglassError(f"{path}: missing; the built-in models cannot be checked (reinstall hourglass)")
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            sums[name.strip()] = digest.strip()
    return sums


def verified_folder(name: str, folder: Path | None = None) -> Path:
    """The run folder of the built-in model ``name`` ("grey" or "colour") in ``folder`` (default: the package's),
    once each of its files matches the sha256 recorded in SHA256SUMS.

    Parameters
    ----------
    name : str
        "grey" or "colour".
    folder : Path, optional
        Where the built-in models lie (default: this package's folder).

    Returns
    -------
    Path
        The model's run folder, checked.

    Raises
    ------
    HourglassError
        A file is missing or differs from what was shipped (one line naming it).
    """
    folder = folder or FOLDER
    sums, run = recorded_sums(folder), folder / f"denoise-{name}"
    files = {key: value for key, value in sums.items() if key.startswith(f"denoise-{name}/")}
    if not files:
        raise HourglassError(f"the built-in model {name!r} is not in this installation ({folder / SUMS})")
    for key, digest in files.items():
        path = folder / key
        if not path.is_file():
            raise HourglassError(f"{path}: missing from the built-in model {name!r} (reinstall hourglass)")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise HourglassError(
                f"{path}: its sha256 differs from the one recorded when the built-in model was made; the file is "
                "corrupted or was replaced (reinstall hourglass)"
            )
    return run


def load_builtin(name: str = "grey", device: str = "auto"):
    """The built-in model ``name`` ("grey" or "colour") as a :class:`~hourglass.store.checkpoint.Checkpoint`, its
    files checked against their recorded sha256 first.

    Parameters
    ----------
    name : str
        "grey" or "colour" (or "builtin:grey", "builtin:colour").
    device : str, optional
        Where the model runs: "auto", "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    Checkpoint
        The model, in eval mode, with its config (its objective gives the noise levels it was trained for).
    """
    from ..store.checkpoint import open_checkpoint

    return open_checkpoint(verified_folder(builtin_name(name, 1)), device=device)


__all__ = ["NAMES", "builtin_name", "is_builtin", "load_builtin", "verified_folder"]
