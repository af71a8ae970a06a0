"""``hourglass train``: its options, generated from the fields of the run's dataclasses — :class:`ModelConfig`,
:class:`TrainConfig`, :class:`TableOptions`, :class:`PatchOptions` and :class:`DataSpec`'s ``stream`` — so each is
stated once: ``latent_dim`` is ``--latent-dim``, its help the field's, its type from the field's annotation, its
choices and range from the field's :class:`~hourglass.options.Allowed` (a flag refuses what the config refuses);
the :class:`~hourglass.run.Run` they describe (:func:`run_of`); and the command, one call of
:func:`hourglass.workflow.train`.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields, replace
from pathlib import Path

from ..errors import HourglassError
from ..options import Allowed

NOT_FLAGS = {"progress", "source", "table", "photos"}  # --quiet says progress; DATA, [table] and [photos] are below


def flag(name: str) -> str:
    """The command-line spelling of a field: ``latent_dim`` → ``--latent-dim``."""
    return "--" + name.replace("_", "-")


def parser_of(annotation: str, rule: Allowed | None, validate=None):
    """An argparse type for a field annotated ``annotation``: the text read as that type, then checked by
    ``rule`` and ``validate`` — one line saying what was expected when it is not."""

    def parse(text: str):
        kind = annotation.replace(" | None", "")
        try:
            if kind == "int":
                value: object = int(text)
            elif kind == "float":
                value = float(text)
            elif kind.startswith("tuple[int"):
                value = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
            else:
                value = text
        except ValueError:
            expected = {"int": "a whole number", "float": "a number"}.get(kind, "comma-separated integers, e.g. 256,64")
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        problem = rule.problem(value) if rule is not None else None
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{problem}, got {text}")
        if validate is not None:
            try:
                validate(value)
            except HourglassError as e:
                raise argparse.ArgumentTypeError(str(e)) from None
        return value

    return parse


def add_fields(group, config_class) -> None:
    """One flag per field of ``config_class`` (but :data:`NOT_FLAGS`), with the field's default."""
    for f in fields(config_class):
        if f.name in NOT_FLAGS:
            continue
        rule, annotation = f.metadata.get("allowed"), str(f.type)
        default = f.default if f.default is not MISSING else None
        kwargs: dict = {"dest": f.name, "default": default, "help": f.metadata.get("help", "")}
        if annotation.startswith("bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif rule is not None and rule.choices is not None:
            kwargs["choices"] = rule.choices
        else:
            kwargs.update(
                type=parser_of(annotation, rule, f.metadata.get("validate")), metavar=f.metadata.get("metavar")
            )
        group.add_argument(flag(f.name), **kwargs)


def add_train_options(t: argparse.ArgumentParser, data_help: str) -> None:
    """Add ``train``'s arguments to its subparser ``t``."""
    from ..data.spec import DataSpec, PatchOptions, TableOptions
    from ..run import LOGS
    from ..training.config import TrainConfig
    from ..variants import ModelConfig

    t.add_argument("data", metavar="DATA", nargs="?", help=f"{data_help} (or the config file's data)")
    add_fields(t, DataSpec)
    add_fields(t.add_argument_group("model and objective (any combination)"), ModelConfig)
    add_fields(t.add_argument_group("tables (.csv, .parquet)"), TableOptions)
    add_fields(
        t.add_argument_group("photos (a folder of PNG/JPEG of any sizes, trained on random patches)"), PatchOptions
    )
    training = t.add_argument_group("training")
    add_fields(training, TrainConfig)
    training.add_argument(
        "--nproc",
        type=parser_of("int", Allowed(whole=True, minimum=1)),
        default=1,
        metavar="N",
        help="train in N processes on this machine with DistributedDataParallel (what `torchrun "
        "--nproc-per-node N -m hourglass train ...` does; use torchrun itself across machines) "
        "(default %(default)s)",
    )
    t.add_argument("--out", metavar="DIR", help="checkpoint folder (default runs/DATA-MODEL-ARCH-kK)")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.add_argument(
        "--log",
        action="append",
        choices=LOGS,
        metavar="TOOL",
        help=f"log the run to {', '.join(LOGS)} (repeat for several): csv writes OUT/metrics.csv, "
        "tensorboard OUT/tensorboard, mlflow a run in MLFLOW_TRACKING_URI (default ./mlruns) with the trained "
        "model as an MLflow pyfunc model",
    )
    t.add_argument("--register", metavar="NAME", help="with --log mlflow: register the model in MLflow as NAME")
    r = t.add_argument_group("run files")
    r.add_argument("--config", metavar="FILE.toml", help="read the run from a TOML file; flags override it")
    r.add_argument("--like", metavar="RUN", help="replay the run recorded in the run folder RUN (with a new --out)")
    r.add_argument("--print-config", action="store_true", help="print the resolved run as TOML and exit")


def run_of(args):
    """The :class:`~hourglass.run.Run` that parsed ``train`` arguments describe (a run file's values are already
    their defaults)."""
    from ..data.spec import DataSpec, PatchOptions, TableOptions
    from ..run import Run
    from ..training.config import TrainConfig
    from ..variants import ModelConfig

    def of(config_class, **extra):
        return config_class(
            **{f.name: getattr(args, f.name) for f in fields(config_class) if hasattr(args, f.name)}, **extra
        )

    if args.data is None:
        raise HourglassError("give the DATA to train on (or data in the --config file)", params=("data",))
    run = Run(
        DataSpec(args.data, args.stream, of(TableOptions), of(PatchOptions)),
        of(ModelConfig),
        of(TrainConfig, progress=not args.quiet),
        Path(args.out) if args.out else None,
        tuple(args.log or ()),
        args.register,
    )
    return run if run.out is not None else replace(run, out=run.default_out())


def cmd_train(args) -> int:
    from ..run import to_toml
    from ..training import distributed
    from ..training.threads import ShareCores
    from ..workflow import train

    run = run_of(args)
    if args.print_config:
        print(to_toml(run), end="")
        return 0
    if args.nproc > 1 and not distributed.launched():  # start the same command in nproc processes (torchrun's way)
        distributed.launch(args.argv, args.nproc, out=run.out)
        return 0
    trained = train(run, resume=args.resume, overwrite=args.overwrite, callbacks=[ShareCores()])
    if not distributed.is_main():  # rank 0 reports for all
        return 0
    h = trained.history
    for note in h.notes:
        print(note)
    if not h.epochs:
        return 0
    val = trained.validation()
    note = {"completed": "", "early_stopped": " (stopped early)", "interrupted": " (interrupted)"}[h.stopped]
    print(
        f"trained {len(h.epochs)} epochs{note} in {trained.seconds:.1f}s; best epoch {h.best_epoch}, "
        f"val loss {h.best_val_loss:.4g} ({trained.objective.reconstruction})"
    )
    print(
        f"validation squared error per sample: autoencoder {val['squared_error_per_sample']:.4g}, "
        f"PCA (k={val['k']}) {val['pca_squared_error_per_sample']:.4g}"
    )
    if "psnr_denoised" in val:  # what denoising did to the validation rows
        print(f"validation PSNR: noisy {val['psnr_noisy']:.2f} dB, denoised {val['psnr_denoised']:.2f} dB")
    print(f"saved to {run.out}  (next: hourglass evaluate {run.out})")
    return 130 if h.stopped == "interrupted" else 0
