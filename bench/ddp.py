"""One process against two on this machine: samples/s of `hourglass train` and how equal the two runs' weights are.

The demo's MNIST model (784-256-64-16-4), 5 epochs, batch 256, seed 0, trained by
  1 process    hourglass train mnist ...              (torch's threads: every core)
  2 processes  hourglass train mnist ... --nproc 2    (DistributedDataParallel over gloo on 127.0.0.1; each
                                                       process gets cores ÷ 2 threads, so the cores are not
                                                       oversubscribed)
one after the other, nothing else running. samples/s = training rows × epochs ÷ the epochs' seconds (validation
included); equivalence = the largest |w₂ − w₁| ÷ max|w₁| over the weight tensors (a plain autoencoder: no random
draws, so the two differ only by floating-point rounding, which training amplifies step by step; for scale, the
same for one process on 1 thread against 2). The last line is one JSON object.

    .venv/bin/python bench/ddp.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import hourglass as hg
from hourglass.store import runfolder


def train(out: Path, epochs: int, nproc: int, env: dict | None = None):
    """Train into ``out``; return samples/s from the run's history, and the checkpoint."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hourglass",
            "train",
            "mnist",
            "--epochs",
            str(epochs),
            "--seed",
            "0",
            "--out",
            str(out),
            "--quiet",
            "--nproc",
            str(nproc),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, **(env or {})},
    )
    saved = hg.load(out)
    history = [json.loads(line) for line in (runfolder.current(out) / "history.jsonl").read_text().splitlines()]
    return 50_000 * epochs / sum(r["seconds"] for r in history), saved


def difference(a, b) -> float:
    wa, wb = a.model.state_dict(), b.model.state_dict()
    return max(float((wb[k] - wa[k]).abs().max() / wa[k].abs().max()) for k in wa)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one_rate, one = train(Path(tmp) / "one", args.epochs, 1)
        two_rate, two = train(Path(tmp) / "two", args.epochs, 2)
        _, one_thread = train(Path(tmp) / "one-thread", args.epochs, 1, {"OMP_NUM_THREADS": "1"})
    equivalence, reference = difference(one, two), difference(one, one_thread)
    val = [m.config["history"]["best_val_loss"] for m in (one, two)]
    print(f"1 process:   {one_rate:>9,.0f} samples/s")
    print(f"2 processes: {two_rate:>9,.0f} samples/s ({two_rate / one_rate:.2f}×)")
    print(
        f"weights after {args.epochs} epochs: largest relative difference {equivalence:.2e} (for scale, one "
        f"process on 1 thread against 2 threads: {reference:.2e})"
    )
    print(
        f"validation loss: 1 process {val[0]:.6g}, 2 processes {val[1]:.6g} (relative difference "
        f"{abs(val[1] - val[0]) / val[0]:.1e})"
    )
    print(
        json.dumps(
            {
                "epochs": args.epochs,
                "one_process": round(one_rate),
                "two_processes": round(two_rate),
                "ratio": round(two_rate / one_rate, 3),
                "val_loss_one": val[0],
                "val_loss_two": val[1],
                "max_relative_weight_difference": equivalence,
                "one_vs_one_thread": reference,
            }
        )
    )


if __name__ == "__main__":
    main()
