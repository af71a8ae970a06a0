"""When does ``--compile`` pay? The demo's MLP (784-256-64-16-4) on MNIST, batch 256, trained eager and under
``torch.compile`` (``TrainConfig(compile=True)``), each in a fresh process (compilation is paid per process), runs
alternating: eager, compiled, eager, compiled. Reported: the first epoch (which holds the compilation) and the
median steady epoch of each, the compiled/eager ratio of steady samples/s, and after how many epochs the compiled
run has caught up (never, if it is not faster). Nothing else should run meanwhile. The last line is one JSON object.

    .venv/bin/python bench/compile.py [--epochs 4] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys


def child(compiled: bool, epochs: int, batch_size: int) -> None:
    import hourglass as hg

    data = hg.load_mnist()
    x, x_val = data.x_train / 255, data.x_val / 255
    model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (256, 64, 16), 4), "sigmoid", seed=0)
    history = hg.fit(
        model,
        hg.Objective("bce"),
        x,
        x_val,
        hg.TrainConfig(epochs=epochs, batch_size=batch_size, compile=compiled, progress=False),
    )
    print(
        json.dumps(
            {
                "compiled": compiled,
                "seconds": [r["seconds"] for r in history.epochs],
                "val_loss": history.epochs[-1]["val_loss"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--child", choices=["eager", "compiled"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child == "compiled", args.epochs, args.batch_size)
    runs = {"eager": [], "compiled": []}
    for mode in ("eager", "compiled", "eager", "compiled"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--epochs",
                str(args.epochs),
                "--batch-size",
                str(args.batch_size),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = {m: statistics.median(r["seconds"][0] for r in rs) for m, rs in runs.items()}
    steady = {m: statistics.median(s for r in rs for s in r["seconds"][1:]) for m, rs in runs.items()}
    ratio = steady["eager"] / steady["compiled"]
    extra = first["compiled"] - first["eager"]
    saved = steady["eager"] - steady["compiled"]
    catch_up = extra / saved + 1 if saved > 0 else None
    for m in runs:
        print(
            f"{m:>9}: first epoch {first[m]:.1f} s, steady epoch {steady[m]:.2f} s "
            f"({50_000 / steady[m]:,.0f} samples/s)"
        )
    print(
        f"compiled ÷ eager steady samples/s: {ratio:.3f}; compilation costs {extra:.1f} s; "
        + (f"it pays after {catch_up:.0f} epochs" if catch_up else "it does not pay at this size")
    )
    print(
        json.dumps(
            {
                "benchmark": "compile",
                "batch_size": args.batch_size,
                "first_epoch_seconds": first,
                "steady_epoch_seconds": steady,
                "compiled_over_eager": round(ratio, 4),
                "compile_seconds": round(extra, 1),
                "pays_after_epochs": catch_up,
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
