"""Training on a file larger than memory: one epoch over ≥ 8 GB of float32 rows streamed from disk, its peak
resident memory, and its samples/s against the in-memory trainer on a slice that fits.

The data: MNIST's 70,000 images (in [0, 1]) tiled to --rows rows (default 2,560,000: 8.03 GB) with Gaussian noise
(σ = 0.05, clipped to [0, 1]), written once to bench-output/out_of_core.npy (kept for later runs; --remove deletes
it at the end). The model and settings are the demo's MLP (784-256-64-16-4), batch 256, seed 0, one epoch.

Four runs, each in a fresh process that reports its own peak resident set (VmHWM):
  in memory  the first --slice rows (default 250,000: 784 MB) loaded into RAM and split 80/10/10; `fit` on arrays
  streamed   the whole file through `hourglass.data.open_stream` (one validating pass that also gathers the
             co-moments for PCA, then the epoch: block shuffle + shuffle buffer; validation streamed too), `fit` on
             the streamed splits, then the PCA baseline: its cost is what the co-moments add to the first pass
             (the first pass timed again, warm, without and with them) plus its fit, one eigendecomposition — against
             the epoch's seconds; the model is saved for the next run
  in memory  again
  encode     `hourglass.use.encode_file` of the whole file with that model, streamed: its peak RSS and seconds
samples/s = training rows ÷ the epoch's seconds (the training pass and its validation pass, as the history
records them; the streamed run's first pass over the file is reported apart). Nothing else should run meanwhile.
The last line is one JSON object.

    .venv/bin/python bench/out_of_core.py [--rows 2560000] [--slice 250000] [--remove]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FILE = Path("bench-output/out_of_core.npy")
MODEL, CODES = Path("bench-output/out_of_core-model"), Path("bench-output/out_of_core-codes.npy")
ROW = 784


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """MNIST tiled with noise, written chunk by chunk (never whole in memory)."""
    from hourglass.data import load_mnist

    mnist = load_mnist()
    images = np.concatenate([mnist.x_train, mnist.x_val, mnist.x_test]) / np.float32(255)
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as f:
        np.lib.format.write_array_header_2_0(f, {"descr": "<f4", "fortran_order": False, "shape": (rows, ROW)})
        for start in range(0, rows, len(images)):
            chunk = images[: min(len(images), rows - start)]
            noise = rng.standard_normal(chunk.shape, dtype=np.float32) * np.float32(0.05)
            np.clip(chunk + noise, 0, 1).astype(np.float32).tofile(f)
    partial.replace(path)


def peak_rss() -> int:
    """This process's peak resident set in bytes (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def child(mode: str, path: Path, slice_rows: int) -> None:
    """One run in this process; prints one JSON line."""
    import torch  # noqa: F401 - imported before the clock starts, as in both runs

    from hourglass.data import Dataset, open_stream, split_indices
    from hourglass.training.loop import TrainConfig, fit
    from hourglass.workflow import ModelConfig

    started = time.perf_counter()
    if mode == "streamed":
        data = open_stream(path, seed=0)
    else:
        x = np.array(np.load(path, mmap_mode="r")[:slice_rows])  # a copy in RAM; the map is dropped
        tr, va, te = split_indices(len(x), 0)
        data = Dataset("slice", x[tr], x[va], x[te], shape=(1, 28, 28))
        del x
    opened = time.perf_counter() - started
    scaling = data.fit_scaling()
    x_train, x_val = data.scaled("train", scaling), data.scaled("val", scaling)
    model, objective = ModelConfig().resolve((1, 28, 28), data.scaled_range(scaling), seed=0)
    history = fit(model, objective, x_train, x_val, TrainConfig(epochs=1, batch_size=256, progress=False, seed=0))
    record = history.epochs[0]
    pca = {}
    if mode == "streamed":
        import hourglass as hg
        from hourglass.data import streaming
        from hourglass.metrics import compare_with_pca
        from hourglass.pca import PCABaseline

        started = time.perf_counter()
        baseline = PCABaseline(model.latent_dim).fit_stream(x_train)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        compared = compare_with_pca(model, x_train, x_val, pca=baseline)  # one pass: both validation errors
        compare_seconds = time.perf_counter() - started
        passes = {}
        for limit in (0, streaming.EXACT_PCA_MAX_FEATURES):  # the first pass again, warm, without and with them
            streaming.EXACT_PCA_MAX_FEATURES = limit
            started = time.perf_counter()
            open_stream(path, seed=0)
            passes[limit > 0] = time.perf_counter() - started
        cost = fit_seconds + max(0.0, passes[True] - passes[False])
        pca = {
            "pca_fit_seconds": fit_seconds,
            "first_pass_without_comoments_seconds": passes[False],
            "first_pass_with_comoments_seconds": passes[True],
            "pca_seconds": cost,
            "pca_share_of_epoch": cost / record["seconds"],
            "pca_squared_error_per_sample": compared["pca_squared_error_per_sample"],
            "compare_seconds": compare_seconds,
            "ae_squared_error_per_sample": compared["squared_error_per_sample"],
        }
        hg.save(MODEL, model, scaling=scaling, data={"shape": [1, 28, 28]})
    print(
        json.dumps(
            {
                "mode": mode,
                "train_rows": len(x_train),
                "epoch_seconds": record["seconds"],
                "samples_per_s": len(x_train) / record["seconds"],
                "open_seconds": opened,
                "val_loss": record["val_loss"],
                "peak_rss_bytes": peak_rss(),
                **pca,
            }
        )
    )


def encode_child(path: Path) -> None:
    """Encode the whole file, streamed, with the model the streamed run saved; prints one JSON line."""
    from hourglass.use import encode_file

    started = time.perf_counter()
    r = encode_file(MODEL, path, CODES, stream=True, device="cpu")
    print(
        json.dumps(
            {"mode": "encode", "rows": r["n"], "seconds": time.perf_counter() - started, "peak_rss_bytes": peak_rss()}
        )
    )
    CODES.unlink()


def run(mode: str, path: Path, slice_rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--slice", str(slice_rows), "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_560_000)
    parser.add_argument("--slice", type=int, default=250_000)
    parser.add_argument("--file", type=Path, default=FILE)
    parser.add_argument("--remove", action="store_true", help="delete the generated file at the end")
    parser.add_argument("--child", choices=["memory", "streamed", "encode"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "encode":
        return encode_child(args.file)
    if args.child:
        return child(args.child, args.file, args.slice)
    expected = args.rows * ROW * 4
    if not args.file.exists() or args.file.stat().st_size < expected:
        started = time.perf_counter()
        generate(args.file, args.rows)
        print(f"wrote {args.file} ({args.file.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s")
    size = args.file.stat().st_size
    runs = [
        run("memory", args.file, args.slice),
        run("streamed", args.file, args.slice),
        run("memory", args.file, args.slice),
    ]
    encoded = run("encode", args.file, args.slice)
    streamed = runs[1]
    memory = sum(r["samples_per_s"] for r in (runs[0], runs[2])) / 2
    for r in runs:
        print(
            f"{r['mode']:>9}: {r['train_rows']:>9,} training rows, {r['samples_per_s']:>8,.0f} samples/s, "
            f"peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB (opened in {r['open_seconds']:.1f} s)"
        )
    ratio = streamed["samples_per_s"] / memory
    print(
        f"streamed {size / 1e9:.2f} GB: {ratio:.2f}× the in-memory samples/s, peak RSS "
        f"{streamed['peak_rss_bytes'] / 2**30:.2f} GiB ({streamed['peak_rss_bytes'] / size:.1%} of the file)"
    )
    print(
        f"PCA baseline on the streamed splits: {streamed['pca_seconds']:.1f} s = the co-moments' share of the first "
        f"pass ({streamed['first_pass_with_comoments_seconds']:.1f} s against "
        f"{streamed['first_pass_without_comoments_seconds']:.1f} s without, both warm) + the fit, one "
        f"eigendecomposition ({streamed['pca_fit_seconds']:.2f} s): "
        f"{streamed['pca_share_of_epoch']:.1%} of the epoch's {streamed['epoch_seconds']:.0f} s; both validation "
        f"errors, autoencoder and PCA, in one pass: {streamed['compare_seconds']:.1f} s"
    )
    print(
        f"encode of the whole file, streamed: {encoded['rows']:,} rows in {encoded['seconds']:.0f} s, peak RSS "
        f"{encoded['peak_rss_bytes'] / 2**30:.2f} GiB"
    )
    if args.remove:
        args.file.unlink()
    print(
        json.dumps(
            {
                "file_bytes": size,
                "streamed_samples_per_s": streamed["samples_per_s"],
                "memory_samples_per_s": memory,
                "ratio_vs_memory": ratio,
                "streamed_peak_rss_bytes": streamed["peak_rss_bytes"],
                "memory_peak_rss_bytes": max(runs[0]["peak_rss_bytes"], runs[2]["peak_rss_bytes"]),
                "open_seconds": streamed["open_seconds"],
                "pca_seconds": streamed["pca_seconds"],
                "pca_share_of_epoch": streamed["pca_share_of_epoch"],
                "encode_peak_rss_bytes": encoded["peak_rss_bytes"],
                "encode_seconds": encoded["seconds"],
                "runs": [*runs, encoded],
            }
        )
    )


if __name__ == "__main__":
    main()
