"""Inference throughput (samples/s): the exported ONNX graph on onnxruntime vs the same pipeline in PyTorch.

Model: the demo's MNIST hourglass 784-256-64-16-4 (bench/checkpoints.py), exported with ``hourglass export`` (all
outputs: code, reconstruction, score; scaling folded in). Inputs: the 10,000 MNIST test images as raw rows.
  pytorch      hourglass.export.Deployed (the module that was exported) under torch.inference_mode
  onnxruntime  onnxruntime.InferenceSession on the exported file, CPU execution provider, default threads
At batch 1 (one image per call: a scoring service's single request) and batch 1,024. The runtimes take turns round
by round and the figures are medians over rounds. The last line is one JSON object.

    .venv/bin/python bench/onnx_inference.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).parent))
from checkpoints import mnist_k4  # noqa: E402

import hourglass as hg  # noqa: E402
from hourglass.export import Deployed, export_onnx  # noqa: E402
from hourglass.store import checkpoint as ckpt  # noqa: E402


def samples_per_second(run, x: np.ndarray, batch: int, limit: int) -> float:
    """Rows of ``x`` (at most ``limit``) through ``run`` ``batch`` at a time."""
    n = min(len(x), limit)
    started = time.perf_counter()
    for i in range(0, n, batch):
        run(x[i : i + batch])
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    folder = mnist_k4()
    onnx_path = folder.parent / "mnist-k4.onnx"
    export_onnx(folder, onnx_path)
    module = Deployed(ckpt.load(folder))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = hg.load_mnist().x_test.astype(np.float32)

    def pytorch(rows):
        with torch.inference_mode():
            return module(torch.from_numpy(rows))

    def onnxruntime(rows):
        return session.run(None, {"x": rows})

    runtimes = {"pytorch": pytorch, "onnxruntime": onnxruntime}
    for run in runtimes.values():  # warm-up: first calls allocate and plan
        samples_per_second(run, x, 1024, 2048)
        samples_per_second(run, x, 1, 200)
    rates = {(name, batch): [] for name in runtimes for batch in (1, 1024)}
    for r in range(args.rounds):
        order = list(runtimes.items())[r % 2 :] + list(runtimes.items())[: r % 2]
        for name, run in order:
            rates[(name, 1)].append(samples_per_second(run, x, 1, 2000))
            rates[(name, 1024)].append(samples_per_second(run, x, 1024, len(x)))
    result = {"torch_threads": torch.get_num_threads(), "onnxruntime": ort.__version__, "rounds": args.rounds}
    print(f"{'batch':>6} {'pytorch':>12} {'onnxruntime':>12} {'ratio':>7}   (samples/s, median of {args.rounds})")
    for batch in (1, 1024):
        torch_rate = statistics.median(rates[("pytorch", batch)])
        ort_rate = statistics.median(rates[("onnxruntime", batch)])
        print(f"{batch:>6} {torch_rate:>12,.0f} {ort_rate:>12,.0f} {ort_rate / torch_rate:>6.2f}×")
        result[f"batch_{batch}"] = {
            "pytorch": round(torch_rate),
            "onnxruntime": round(ort_rate),
            "onnxruntime_vs_pytorch": round(ort_rate / torch_rate, 3),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
