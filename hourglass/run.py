"""A training, typed: :class:`Run` says what to train on, what to build, how to train, where to keep it and where to
log it. The CLI builds one from its flags, run files hold one, and every checkpoint keeps its :meth:`Run.to_dict`, so
``hourglass train --config run.toml``, ``--print-config`` and ``--like RUN`` all round-trip through it.

    data = "digits"
    out = "runs/digits-ae"
    log = ["tensorboard"]

    [model]                    # ModelConfig's fields
    latent_dim = 8
    noise = "gaussian:0.3"

    [training]                 # TrainConfig's fields
    epochs = 20
    lr = 0.003

    [table]                    # TableOptions: columns, drop, one_hot, id_column (for .csv/.parquet data)
    [photos]                   # PatchOptions: patch_size, patches_per_epoch (a folder of photos, on patches)

Every key is checked against the dataclasses' fields and their types before anything runs, and a wrong one is one
line naming the key and the file; the values' ranges are then checked by the dataclasses themselves
(:mod:`hourglass.options`). Runs recorded by 0.2.0 read the same way.
"""

from __future__ import annotations

import re
import sys
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .data.spec import DataSpec, PatchOptions, TableOptions
from .errors import HourglassError
from .training.config import TrainConfig
from .variants import LATENT_DIM, ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LOGS = ("csv", "tensorboard", "mlflow")
TOP = {"data": "str", "out": "str | None", "stream": "bool | None", "log": "list[str]", "register": "str | None"}
SECTIONS = {"model": ModelConfig, "training": TrainConfig, "table": TableOptions, "photos": PatchOptions}
NOT_RECORDED = ("progress",)  # how a run shows itself, not what it is


@dataclass(frozen=True)
class Run:
    """One training.

    Parameters
    ----------
    data : DataSpec
        What to train on.
    model : ModelConfig
        What to build and the objective it is trained for.
    training : TrainConfig
        How to train: epochs, batches, optimiser, seed, device.
    out : Path, optional
        The run folder the best model is kept in (None: nothing written).
    log : tuple of str
        Where else the run is logged: any of csv, tensorboard, mlflow.
    register : str, optional
        With log mlflow: register the trained model in MLflow's model registry under this name.
    """

    data: DataSpec
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    out: Path | None = None
    log: tuple[str, ...] = ()
    register: str | None = None

    def __post_init__(self):
        if self.out is not None and not isinstance(self.out, Path):
            object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "log", tuple(self.log))
        for name in self.log:
            if name not in LOGS:
                raise HourglassError(f"log {name!r} is not one of {', '.join(LOGS)}", params=("log",))
        if self.register is not None and ("mlflow" not in self.log or not str(self.register).strip()):
            raise HourglassError("register names the model MLflow keeps: give a name, with log mlflow",
                                 params=("register", "log"))  # fmt: skip

    def default_out(self) -> Path:
        """The folder a run is kept in when none is named: ``runs/DATA-MODEL-ARCH-kK``."""
        source = self.data.source
        name = source.name if self.data.opened else Path(str(source)).stem
        mc = self.model
        k = mc.latent_dim if mc.latent_dim is not None else LATENT_DIM
        return Path("runs") / re.sub(r"[^\w.-]", "_", f"{name}-{mc.model}-{mc.arch}-k{k}")

    def to_dict(self, with_out: bool = True) -> dict | None:
        """The run as a run file holds it; None for data opened in Python, which a file cannot name. A checkpoint
        records it ``with_out`` False: where a run is kept is not part of what it is, so a replay (``--like``)
        records the same run."""
        if self.data.opened:
            return None
        training = {k: v for k, v in asdict(self.training).items() if k not in NOT_RECORDED}
        model = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.model).items()}
        return {
            "data": str(self.data.source),
            "stream": self.data.stream,
            "log": list(self.log),
            **({"register": self.register} if self.register is not None else {}),
            "model": model,
            "training": training,
            "table": asdict(self.data.table),
            **({"photos": asdict(self.data.photos)} if self.data.photos.patch_size is not None else {}),
            **({"out": str(self.out)} if with_out and self.out is not None else {}),
        }

    @classmethod
    def from_dict(cls, raw: dict, where: str = "the run", **training) -> Run:
        """A run from its dict (a run file's or a checkpoint's record), checked key by key; ``training``: fields of
        :class:`TrainConfig` that are not recorded (``progress``)."""
        run = check(_without_none(raw), where)
        sections = {name: values(run.get(name, {})) for name in SECTIONS}
        try:
            return cls(
                DataSpec(
                    run["data"],
                    run.get("stream"),
                    TableOptions(**sections["table"]),
                    PatchOptions(**sections["photos"]),
                ),
                ModelConfig(**sections["model"]),
                TrainConfig(**{**sections["training"], **training}),
                Path(run["out"]) if run.get("out") else None,
                tuple(run.get("log", ())),
                run.get("register"),
            )
        except KeyError:
            raise HourglassError(
                f"{where}: says no data; name a dataset, a file or a folder", params=("data",)
            ) from None


def _without_none(d: dict) -> dict:
    """``d`` without the keys whose value is None, at every level: a run file (TOML has no null) leaves them out,
    and None is each such field's default."""
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}


def values(section: dict) -> dict:
    """A section's values as the dataclasses take them (TOML's arrays as tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


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


def _annotations(config_class) -> dict[str, str]:
    return {f.name: str(f.type) for f in fields(config_class)}


def check(raw: dict, where: str) -> dict:
    """``raw`` (a parsed TOML document or a recorded run) with every key known and every value of its field's
    type, and each section's values in their ranges; raises naming the first key that is not."""
    for key, value in raw.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise HourglassError(f"{where}: [{key}] must be a table of settings")
            known = _annotations(SECTIONS[key])
            for name, inner in value.items():
                if name not in known:
                    raise HourglassError(f"{where}: unknown key {key}.{name}; [{key}] takes {', '.join(known)}")
                if not _matches(inner, known[name]):
                    raise HourglassError(f"{where}: {key}.{name} must be {known[name]}, got {inner!r}")
        elif key in TOP:
            if not _matches(value, TOP[key]):
                raise HourglassError(f"{where}: {key} must be {TOP[key]}, got {value!r}")
        else:
            raise HourglassError(f"{where}: unknown key {key}; a run file takes {', '.join([*TOP, *SECTIONS])}")
    for name in raw.get("log", []):
        if name not in LOGS:
            raise HourglassError(f"{where}: log {name!r} is not one of {', '.join(LOGS)}")
    for key, make in SECTIONS.items():
        try:
            make(**values(raw.get(key, {})))  # the ranges, checked where they are stated (hourglass.options)
        except HourglassError as e:
            raise HourglassError(f"{where}: {key}.{e}") from None
    return raw


def read(path: str | Path) -> dict:
    """A run file, parsed and checked (see the module's text).

    Parameters
    ----------
    path : str or Path
        The TOML run file.

    Returns
    -------
    dict
        The run, checked.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HourglassError(f"{path}: no such config file", params=("config",)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise HourglassError(f"{path}: not a TOML file ({e})", params=("config",)) from None
    return check(raw, str(path))


def recorded(folder: str | Path) -> dict:
    """The run a run folder recorded (its data, model, training, table, photos, stream and logs), as a run file
    holds it.

    Parameters
    ----------
    folder : str or Path
        A run folder.

    Returns
    -------
    dict
        The recorded run, as a run file holds it.
    """
    from .store.checkpoint import read_config

    config = read_config(folder)
    run = config.get("run")
    if not isinstance(run, dict):
        raise HourglassError(
            f"{folder}: this run did not record how it was started, so it cannot be replayed; "
            "train it with this version of hourglass first",
            params=("like",),
        )

    run = _without_none(run)
    model = run.get("model", {})
    quantised = model.get("codebook") is not None or model.get("model") == "vqvae"
    wrote_default = config.get("hourglass_version") == "0.2.0" and model.get("latent_dim") == LATENT_DIM
    if wrote_default and (model.get("arch") == "fcn" or quantised):  # 0.2.0 wrote its default, 4, for "not given"
        model.pop("latent_dim")
    return check(run, f"{folder}/config.json")


def base(config: str | Path | None = None, like: str | Path | None = None) -> dict:
    """The run that ``like`` (a run folder's record) and then ``config`` (a file, overriding it key by key)
    describe; flags override both.

    Parameters
    ----------
    config : str or Path, optional
        A TOML run file (overrides the recorded run key by key).
    like : str or Path, optional
        A run folder whose recorded run to start from.

    Returns
    -------
    dict
        The run both describe.
    """
    run: dict = {}
    for part in ([recorded(like)] if like else []) + ([read(config)] if config else []):
        for key, value in part.items():
            run[key] = {**run.get(key, {}), **value} if key in SECTIONS else value
    return run


def to_toml(run: Run) -> str:
    """A run as a TOML document (keys whose value is None are left out: TOML has no null, and None is each such
    field's default).

    Parameters
    ----------
    run : Run
        The run.

    Returns
    -------
    str
        The TOML document.
    """
    import tomli_w

    def clean(d: dict) -> dict:
        return {
            k: (clean(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v)
            for k, v in d.items()
            if v is not None
        }

    return tomli_w.dumps(clean(run.to_dict() or {}))


def defaults_of(section: str) -> dict:
    """The defaults of a section's fields."""
    return {
        f.name: f.default if f.default is not MISSING else f.default_factory()  # type: ignore[operator]
        for f in fields(SECTIONS[section])
        if f.default is not MISSING or f.default_factory is not MISSING
    }


__all__ = ["LOGS", "Run", "base", "check", "defaults_of", "read", "recorded", "to_toml"]
