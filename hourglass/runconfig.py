"""A run described in a file: ``hourglass train --config run.toml``, ``--print-config`` and ``--like RUN``.

    data = "digits"
    out = "runs/digits-ae"
    log = ["tensorboard"]

    [model]                    # ModelConfig's fields
    latent_dim = 8
    noise = "gaussian:0.3"

    [training]                 # TrainConfig's fields
    epochs = 20
    lr = 0.003

    [table]                    # columns, drop, one_hot, id_column (for .csv/.parquet data)
    [photos]                   # patch_size, patches_per_epoch (a folder of photos, trained on patches)

Every key is checked against the dataclass fields and their types before anything runs, and a wrong one is one
line naming the key and the file; the values' ranges are then checked by the dataclasses themselves
(:mod:`hourglass.options`). A run folder records its run (``config.json``'s ``run``) so it can be replayed.
"""

from __future__ import annotations

import sys
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from .data.patches import PATCHES_PER_EPOCH
from .errors import HourglassError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from .training.config import TrainConfig
from .variants import ModelConfig

LOGS = ("csv", "tensorboard", "mlflow")
TOP = {"data": "str", "out": "str | None", "stream": "bool | None", "log": "list[str]"}
TABLE = {"columns": "str | None", "drop": "str | None", "one_hot": "bool", "id_column": "str | None"}
PHOTOS = {"patch_size": "int | None", "patches_per_epoch": "int"}
PHOTO_DEFAULTS = {"patch_size": None, "patches_per_epoch": PATCHES_PER_EPOCH}
SECTIONS: dict[str, dict[str, str]] = {
    "model": {f.name: str(f.type) for f in fields(ModelConfig)},
    "training": {f.name: str(f.type) for f in fields(TrainConfig)},
    "table": TABLE,
    "photos": PHOTOS,
}
DEFAULTS: dict[str, Any] = {"model": ModelConfig(), "training": TrainConfig()}


def _matches(value, annotation: str) -> bool:
    """Whether a TOML value fits a field's annotation (as the dataclasses write it)."""
    for option in (a.strip() for a in annotation.split("|")):
        if option == "None":
            continue
        if option == "bool" and isinstance(value, bool):
            return True
        if option == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if option == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if option == "str" and isinstance(value, str):
            return True
        if (
            option.startswith(("tuple[int", "list[int"))
            and isinstance(value, list)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            return True
        if option == "list[str]" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return True
    return False


def check(raw: dict, where: str) -> dict:
    """``raw`` (a parsed TOML document) with every key known and every value of its field's type; raises naming
    the first key that is not."""
    for key, value in raw.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise HourglassError(f"{where}: [{key}] must be a table of settings")
            for name, inner in value.items():
                if name not in SECTIONS[key]:
                    raise HourglassError(f"{where}: unknown key {key}.{name}; [{key}] takes {', '.join(SECTIONS[key])}")
                if not _matches(inner, SECTIONS[key][name]):
                    raise HourglassError(f"{where}: {key}.{name} must be {SECTIONS[key][name]}, got {inner!r}")
        elif key in TOP:
            if not _matches(value, TOP[key]):
                raise HourglassError(f"{where}: {key} must be {TOP[key]}, got {value!r}")
        else:
            raise HourglassError(f"{where}: unknown key {key}; a run file takes {', '.join([*TOP, *SECTIONS])}")
    for name in raw.get("log", []):
        if name not in LOGS:
            raise HourglassError(f"{where}: log {name!r} is not one of {', '.join(LOGS)}")
    for key, make in (("model", ModelConfig), ("training", TrainConfig)):
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.get(key, {}).items()}
        try:
            make(**values)  # the ranges, checked where they are stated (hourglass.options)
        except HourglassError as e:
            raise HourglassError(f"{where}: {key}.{e}") from None
    return raw


def read(path: str | Path) -> dict:
    """A run file, parsed and checked (see the module's text)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HourglassError(f"{path}: no such config file", params=("config",)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise HourglassError(f"{path}: not a TOML file ({e})", params=("config",)) from None
    return check(raw, str(path))


def recorded(folder: str | Path) -> dict:
    """The run a run folder recorded (its data, model, training, table, stream and logs), as a run file holds it."""
    from .store import checkpoint as ckpt

    config = ckpt.read_config(folder)
    run = config.get("run")
    if not isinstance(run, dict):
        raise HourglassError(
            f"{folder}: this run did not record how it was started, so it cannot be replayed; "
            "train it with this version of hourglass first",
            params=("like",),
        )

    def present(d: dict) -> dict:
        return {k: present(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}

    return check(present(run), f"{folder}/config.json")


def base(config: str | Path | None = None, like: str | Path | None = None) -> dict:
    """The run that ``--like`` (a run folder's record) and then ``--config`` (a file, overriding it key by key)
    describe; flags override both."""
    run: dict = {}
    for part in ([recorded(like)] if like else []) + ([read(config)] if config else []):
        for key, value in part.items():
            run[key] = {**run.get(key, {}), **value} if key in SECTIONS else value
    return run


def to_toml(run: dict) -> str:
    """A run as a TOML document (keys whose value is None are left out: TOML has no null, and None is each such
    field's default)."""
    import tomli_w

    def clean(d: dict) -> dict:
        return {
            k: (clean(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v)
            for k, v in d.items()
            if v is not None
        }

    return tomli_w.dumps(clean(run))


def defaults_of(section: str) -> dict:
    """The defaults of a section's fields."""
    if section == "table":
        return {"columns": None, "drop": None, "one_hot": False, "id_column": None}
    if section == "photos":
        return dict(PHOTO_DEFAULTS)
    return {
        f.name: getattr(DEFAULTS[section], f.name)
        for f in fields(DEFAULTS[section])
        if f.default is not MISSING or f.default_factory is not MISSING
    }


__all__ = ["LOGS", "PHOTO_DEFAULTS", "base", "check", "defaults_of", "read", "recorded", "to_toml"]
_ = typing  # annotations are read as the strings the dataclasses hold
