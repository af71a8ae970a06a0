"""The commands: each parses nothing (the parser did), makes one library call and prints what came back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import HourglassError

OVER_TOLD = 1.5  # a told noise level this many times the estimate smooths no further (docs/guide/photos.md)


def _console():
    from rich.console import Console

    return Console()


# --------------------------------------------------------------------------------------------------- commands


def cmd_data_fetch(args) -> int:
    from ..data import fetch_mnist, load_mnist

    path = fetch_mnist(quiet=False, mnist_dir=args.mnist_dir)
    ds = load_mnist()
    print(f"MNIST cached at {path}: train {len(ds.x_train)}, val {len(ds.x_val)}, test {len(ds.x_test)}")
    return 0


def cmd_data_info(args) -> int:
    from rich.table import Table

    from ..data import Dataset, load_dataset

    ds = load_dataset(args.data, seed=args.seed, stream=False)  # described from memory: every row counted
    assert isinstance(ds, Dataset)
    table = Table(title=f"{args.data}")
    for col in ("split", "samples", "features", "sample shape", "min", "max", "mean", "labels"):
        table.add_column(col, justify="right" if col not in ("split", "labels") else "left")
    for row in ds.describe():
        table.add_row(
            row["split"],
            str(row["samples"]),
            str(row["features"]),
            "×".join(map(str, ds.shape)),
            f"{row['min']:.4g}",
            f"{row['max']:.4g}",
            f"{row['mean']:.4g}",
            row["labels"],
        )
    console = _console()
    console.print(table)
    if ds.columns:
        console.print("columns: " + ", ".join(ds.columns))
    return 0


def cmd_evaluate(args) -> int:
    from ..workflow import evaluate

    result = evaluate(
        args.checkpoint,
        data=args.data,
        split=args.split,
        importance_samples=args.importance_samples,
        device=args.device,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    from rich.table import Table

    table = Table(
        title=f"{result['data']} {result['split']} split, k = {result['k']} "
        f"({result['n_samples']} samples, scaling {result['scaling']}; {result['variant']})"
    )
    for col in ("model", "squared error per sample", "MSE per feature"):
        table.add_column(col, justify="left" if col == "model" else "right")
    table.add_row("autoencoder", f"{result['squared_error_per_sample']:.4f}", f"{result['mse_per_feature']:.6f}")
    table.add_row(
        f"PCA (k={result['k']})",
        f"{result['pca_squared_error_per_sample']:.4f}",
        f"{result['pca_mse_per_feature']:.6f}",
    )
    console = _console()
    console.print(table)
    if result["ratio_to_pca"] is not None:
        console.print(f"autoencoder / PCA = {result['ratio_to_pca']:.3f}")
    if "psnr_denoised" in result:
        console.print(
            f"PSNR (dB) against the clean inputs: corrupted {result['psnr_noisy']:.2f}, denoised "
            f"{result['psnr_denoised']:.2f}"
        )
    if "zero_fraction" in result:
        console.print(
            f"code sparsity: {100 * result['zero_fraction']:.1f}% of activations are exactly zero; "
            f"{result['mean_active']:.1f} active units per sample"
        )
    if "codebook_perplexity" in result:
        console.print(
            f"codebook: perplexity {result['codebook_perplexity']:.1f} of {result['codebook_entries']} entries, "
            f"{result['codebook_used']} used"
        )
    if "mean_jacobian_norm" in result:
        console.print(f"mean encoder Jacobian norm ‖J_f(x)‖_F: {result['mean_jacobian_norm']:.4g}")
    if "elbo" in result:
        console.print(
            f"ELBO {result['elbo']:.2f} nats per sample; log p(x) ≥ {result['log_likelihood']:.2f} "
            f"(K = {result['importance_samples']} importance samples)"
        )
    return 0


def cmd_encode(args) -> int:
    from ..use import encode_file

    r = encode_file(args.checkpoint, args.data, args.output, split=args.split, device=args.device, stream=args.stream)
    print(f"wrote {r['n']} codes of dimension {r['latent_dim']} to {r['output']}")
    return 0


def cmd_reconstruct(args) -> int:
    from ..use import reconstruct_file

    r = reconstruct_file(
        args.checkpoint,
        args.data,
        args.output,
        split=args.split,
        png=args.png,
        n_images=args.n_images,
        device=args.device,
        stream=args.stream,
    )
    drew = f"; drew {r['png']}" if r["png"] else ""
    print(
        f"wrote {r['n']} reconstructions to {r['output']}; squared error per sample "
        f"{r['squared_error_per_sample']:.4g} (in the model's scaled space){drew}"
    )
    return 0


def cmd_score(args) -> int:
    from ..use import score_file

    if args.maps is not None:
        return _score_images(args)
    r = score_file(
        args.checkpoint,
        args.data,
        args.output,
        contamination=args.contamination,
        split=args.split,
        device=args.device,
        stream=args.stream,
        explain=args.explain,
    )
    print(
        f"scored {r['n']} rows into {r['output']}: {r['flagged']} flagged as anomalies (squared reconstruction "
        f"error above {r['threshold']:.4g}, the training rows' {100 * (1 - r['contamination']):g}th percentile)"
    )
    if r["explained"] is not None:
        print(f"each row's error by column: {r['explained']}")
    return 0


def _score_images(args) -> int:
    from ..maps import score_images

    if args.explain is not None:
        raise HourglassError("explain splits a table row's error by column; an image's is its map (maps)",
                             params=("explain", "maps"))  # fmt: skip
    r = score_images(args.checkpoint, args.data, args.output, args.maps, kind=args.map_kind,
                     contamination=args.contamination, split=args.split, device=args.device)  # fmt: skip
    print(
        f"scored {r['n']} images into {r['output']}: {r['flagged']} flagged as anomalies (squared reconstruction "
        f"error above {r['threshold']:.4g}, the training rows' {100 * (1 - r['contamination']):g}th percentile); "
        f"their {r['kind']} maps in {r['maps']}"
    )
    return 0


def cmd_denoise(args) -> int:
    from ..denoising import denoise_photos
    from ..use import denoise_file

    if args.corrupt is None:
        done = denoise_photos(args.checkpoint, args.data, args.output, args.sigma, args.tile, args.device)
        megapixels = sum(p["megapixels"] for p in done["photos"])
        for p in done["photos"]:
            sigma, told = p["sigma_estimate"], p["sigma"]
            used = "" if told is None else f"; cleaned at σ {told:.3f} ({255 * told:.1f}/255) by {p['model']}"
            print(f"wrote {p['output']} (estimated noise σ̂ {sigma:.3f}, {255 * sigma:.1f}/255{used})")
            if told is not None and told > OVER_TOLD * max(sigma, 1e-3):
                print(f"  note: σ is {told / max(sigma, 1e-3):.1f}× the estimated level; beyond about {OVER_TOLD}× "
                      "the model starts to remove detail, not noise")  # fmt: skip
        print(f"cleaned {len(done['photos'])} photo(s), {megapixels:.2f} megapixels in {done['seconds']:.1f}s")
        return 0
    if args.checkpoint is None:
        raise HourglassError("--corrupt denoises with a trained run: give its checkpoint folder", params=("corrupt",))
    r = denoise_file(
        args.checkpoint,
        args.data,
        args.output,
        noise=None if args.corrupt == "trained" else args.corrupt,
        split=args.split,
        seed=args.seed,
        png=args.png,
        n_images=args.n_images,
        device=args.device,
    )
    drew = f"; drew {r['png']}" if r["png"] else ""
    print(
        f"wrote clean, corrupted and denoised ({r['n']} samples) to {r['output']}; PSNR against clean: corrupted "
        f"{r['psnr_noisy']:.2f} dB, denoised {r['psnr_denoised']:.2f} dB{drew}"
    )
    return 0


def cmd_sample(args) -> int:
    from ..sampling import sample_file

    r = sample_file(
        args.checkpoint,
        args.n,
        output=args.output,
        png=args.png,
        prior=args.prior,
        seed=args.seed,
        device=args.device,
        steps=args.steps,
        temperature=args.temperature,
        top_k=args.top_k,
    )
    print(f"wrote {r['n']} samples to " + " and ".join(str(p) for p in (r["output"], r["png"]) if p is not None))
    return 0


def cmd_prior(args) -> int:
    from ..priors import fit_prior
    from ..store.checkpoint import open_checkpoint

    checkpoint = open_checkpoint(args.checkpoint, device=args.device)
    r = fit_prior(
        checkpoint, args.kind, seed=args.seed, epochs=args.epochs, components=args.components, device=args.device
    )
    detail = f", {len(r['prior'].weights)} components" if args.kind == "gmm" else ""
    article = "an" if args.kind[0] in "aeiou" else "a"
    print(f"fitted {article} {args.kind} prior{detail} to {r['codes']} codes in {r['seconds']:.1f} s; "
          f"wrote {r['path']}")  # fmt: skip
    return 0


def cmd_diagram(args) -> int:
    from ..use import diagram_file

    print(f"wrote {diagram_file(args.checkpoint, args.output)}")
    return 0


def cmd_export(args) -> int:
    from ..export import export_onnx

    r = export_onnx(args.checkpoint, args.output, part=args.part, opset=args.opset)
    print(
        f"wrote {r['output']} ({r['part']}: {', '.join(r['inputs'])} → {', '.join(r['outputs'])}; opset "
        f"{r['opset']}; onnxruntime matches PyTorch within {r['max_relative_error']:.1e} relative)"
    )
    return 0


def cmd_serve(args) -> int:
    from ..service import ServiceConfig, serve

    serve(
        args.checkpoint,
        ServiceConfig(
            host=args.host,
            port=args.port,
            workers=args.workers,
            max_rows=args.max_rows,
            max_body_bytes=args.max_body_bytes,
            device=args.device,
        ),
    )
    return 0


def cmd_explore(args) -> int:
    from ..explorer import explore_file

    r = explore_file(
        args.checkpoint,
        args.output,
        data=args.data,
        split=args.split,
        max_points=args.max_points,
        seed=args.seed,
        device=args.device,
    )
    plane = "its first two principal directions" if r["principal_plane"] else "the code itself"
    print(
        f"wrote {r['output']}: {r['points']} codes (k = {r['latent_dim']}; the scatter shows {plane}); open it "
        "in a browser"
    )
    return 0


def cmd_demo(args) -> int:
    from rich.table import Table

    from ..demo import run_demo

    metrics = run_demo(
        args.out,
        seed=args.seed,
        epochs=args.epochs,
        progress=not args.quiet,
        device=args.device,
        precision=args.precision,
    )
    table = Table(title="MNIST test set, squared error per image")
    for col in ("k", "autoencoder", "PCA", "AE / PCA", "train time"):
        table.add_column(col, justify="right")
    for r in metrics["results"].values():
        table.add_row(
            str(r["k"]),
            f"{r['squared_error_per_sample']:.2f}",
            f"{r['pca_squared_error_per_sample']:.2f}",
            f"{r['ratio_to_pca']:.3f}",
            f"{r['train_seconds']:.0f}s",
        )
    console = _console()
    console.print(table)
    console.print(
        f"wrote {args.out}/reconstructions.png, latent2d.png, metrics.json and the checkpoints "
        f"({metrics['seconds']:.0f}s in all)"
    )
    return 0


def cmd_claims(args) -> int:
    from rich.table import Table

    from ..experiments import run_claims

    out = Path(args.out or ("claims-quick" if args.quick else "claims-output"))
    claims = run_claims(
        out,
        quick=args.quick,
        seed=args.seed,
        only=args.only,
        progress=not args.quiet,
        log=(lambda *a: None) if args.quiet else print,
        device=args.device,
    )
    table = Table(title=f"claims ({'quick' if args.quick else 'full'} run, seed {args.seed})")
    for col in ("#", "claim", "verdict", "value", "criterion", "seconds"):
        table.add_column(col, justify="right" if col in ("#", "value", "seconds") else "left")
    colour = {"PASS": "green", "FAIL": "red", "ERROR": "red"}
    for c in claims:
        main = c.headline
        table.add_row(
            str(c.number),
            c.title,
            f"[{colour.get(c.verdict, 'yellow')}]{c.verdict}[/]",
            f"{main.value:.4g}" if main else "",
            main.criterion if main else "",
            f"{c.seconds:.0f}",
        )
    console = _console()
    console.print(table)
    console.print(f"wrote {out / 'claims.json'} and {out / 'report.html'}")
    failed = [c for c in claims if c.verdict in ("FAIL", "ERROR")]
    if failed:
        print(
            f"hourglass: {len(failed)} claim(s) did not pass: "
            + ", ".join(f"{c.number} ({c.verdict})" for c in failed)
            + f". A FAIL is a finding about the claim, recorded with its figures in {out / 'claims.json'}, not a "
            "crash; an ERROR is an experiment that broke. Exit status 1 tells scripts either.",
            file=sys.stderr,
        )
        return 1
    return 0
