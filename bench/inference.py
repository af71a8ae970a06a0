"""Inference throughput (samples/s) of encode, reconstruct and score on the 10,000 MNIST test images, beside PCA.

Model: the demo's MNIST hourglass 784-256-64-16-4 (bench/checkpoints.py). Each operation is the library call a user
makes, from a NumPy array of rows to a NumPy array: ``hourglass.encode`` (z = f(x)), ``hourglass.reconstruct``
(x̂ = g(f(x))), ``hourglass.scoring.anomaly_scores`` (x̂, then the squared error per row and its training percentile) —
batched 4,096 rows at a time, without autograd — and, as the floor users compare with, scikit-learn's PCA (k = 4,
fitted on the training split, through ``hourglass.PCABaseline``: float64) ``transform`` and
``inverse_transform(transform(x))``. Medians of rounds. The last
line is one JSON object.

    .venv/bin/python bench/inference.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from checkpoints import mnist_k4  # noqa: E402

import hourglass as hg  # noqa: E402
from hourglass.scoring import anomaly_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    checkpoint = hg.load(mnist_k4())
    data = hg.load_mnist()
    x = checkpoint.scaling.transform(data.x_test)
    pca = hg.PCABaseline(4).fit(checkpoint.scaling.transform(data.x_train))
    operations = {
        "encode": lambda: hg.encode(checkpoint.model, x),
        "reconstruct": lambda: hg.reconstruct(checkpoint.model, x),
        "score": lambda: anomaly_scores(checkpoint, x),
        "pca_transform": lambda: pca.encode(x),
        "pca_reconstruct": lambda: pca.reconstruct(x),
    }
    times = {name: [] for name in operations}
    for op in operations.values():  # warm-up
        op()
    for _ in range(args.rounds):
        for name, op in operations.items():
            started = time.perf_counter()
            op()
            times[name].append(time.perf_counter() - started)
    rates = {name: round(len(x) / statistics.median(t)) for name, t in times.items()}
    for name, rate in rates.items():
        print(f"{name:16} {rate:>10,} samples/s")
    print(json.dumps({"threads": torch.get_num_threads(), "rows": len(x), **rates}))


if __name__ == "__main__":
    main()
