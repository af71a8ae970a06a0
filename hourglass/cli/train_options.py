"""The options of ``hourglass train``: each mirrors a field of ``ModelConfig`` or ``TrainConfig`` (``latent_dim`` is
``--latent-dim``), with the allowed values and defaults those state (:mod:`hourglass.options`)."""

from __future__ import annotations

import argparse

from .types import ints, positive_int, seed, whole_number


def add_train_options(t: argparse.ArgumentParser, data_help: str) -> None:
    """Add ``train``'s arguments to its subparser ``t``."""
    from ..nets import ACTIVATIONS, CODE_ACTIVATIONS, DEFAULT_WIDTHS
    from ..runconfig import LOGS, PHOTO_DEFAULTS
    from ..training.config import TRAIN_OPTIONS, TrainConfig
    from ..variants import MODEL_OPTIONS, PRESETS, ModelConfig

    mc, tc = ModelConfig(), TrainConfig()
    widths = lambda kind: ",".join(map(str, DEFAULT_WIDTHS[kind]))  # noqa: E731
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
        type=ints,
        default=mc.widths,
        metavar="W1,W2,...",
        help=f"encoder hidden widths (mlp; default: those of {widths('mlp')} wider than the code) or conv "
        f"channels (conv; default {widths('conv')}; fcn: {widths('fcn')}); the decoder mirrors them",
    )
    t.add_argument(
        "--residual",
        action="store_true",
        default=mc.residual,
        help="the decoder gives the noise, x̂ = x̃ − g(f(x̃)) (residual learning, as DnCNN; loss mse)",
    )
    t.add_argument(
        "--latent-dim",
        type=positive_int,
        default=mc.latent_dim,
        help="size k of the code z (default %(default)s; fcn: 64 channels at each position of its half-resolution "
        "code map)",
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
    ph = t.add_argument_group("photos (a folder of PNG/JPEG of any sizes, trained on random patches)")
    ph.add_argument(
        "--patch-size",
        type=positive_int,
        default=PHOTO_DEFAULTS["patch_size"],
        metavar="P",
        help="train on random P×P patches of the photos in the folder DATA, fresh each epoch, flipped and "
        "rotated; about a tenth of the photos are held out for validation",
    )
    ph.add_argument(
        "--patches-per-epoch",
        type=positive_int,
        default=PHOTO_DEFAULTS["patches_per_epoch"],
        metavar="N",
        help="patches drawn per epoch (default %(default)s)",
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
        type=positive_int,
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
        type=positive_int,
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
        type=positive_int,
        default=mc.iw_samples,
        metavar="K",
        help="vae: train on the importance-weighted bound with K draws per sample (IWAE; default "
        "%(default)s: the ELBO)",
    )
    v.add_argument("--learn-variance", action="store_true", help="vae with a Gaussian likelihood: learn σ² per feature")
    v.add_argument("--binarize", action="store_true", help="dynamic binarisation, x ~ Bernoulli(x) each batch")
    v.add_argument(
        "--codebook",
        type=positive_int,
        default=mc.codebook,
        metavar="K",
        help="a vector-quantised code with K entries (vqvae: 128; conv; --latent-dim left at its default: 16 "
        "numbers per grid position)",
    )
    v.add_argument(
        "--commitment",
        type=float,
        default=mc.commitment,
        metavar="BETA",
        help="vqvae: commitment weight (default %(default)s)",
    )
    v.add_argument(
        "--no-codebook-ema",
        dest="codebook_ema",
        action="store_false",
        help="vqvae: learn the codebook by its gradient loss, not by moving averages",
    )
    v.add_argument(
        "--no-codebook-restart",
        dest="codebook_restart",
        action="store_false",
        help="vqvae: never restart codebook entries nobody uses",
    )
    o = t.add_argument_group("training")
    o.add_argument("--epochs", type=positive_int, default=tc.epochs, help="default %(default)s")
    o.add_argument("--batch-size", type=positive_int, default=tc.batch_size, help="default %(default)s")
    o.add_argument("--lr", type=float, default=tc.lr, help="peak learning rate (default %(default)s)")
    o.add_argument(
        "--weight-decay", type=float, default=tc.weight_decay, help="AdamW weight decay (default %(default)s)"
    )
    o.add_argument(
        "--schedule", choices=TRAIN_OPTIONS["schedule"].choices, default=tc.schedule, help="default %(default)s"
    )
    o.add_argument(
        "--warmup-steps",
        type=whole_number(0),
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
        type=positive_int,
        default=tc.patience,
        help="stop after this many epochs without a better validation loss (default: never)",
    )
    o.add_argument(
        "--seed", type=seed, default=tc.seed, help="seeds the split, initialisation and shuffles (default %(default)s)"
    )
    o.add_argument(
        "--nproc",
        type=positive_int,
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
