"""What `hourglass score --explain` costs beside a plain `score`: the same table scored with and without the
explanation, rounds alternating in one process, the median of each.

A table of 100,000 rows (12 numeric columns and a three-way category, one-hot encoded), a model trained on it for
one epoch; the scores CSV written plain, with ``explain=3`` (each row's three largest columns and their shares)
and with ``explain="all"`` (every column's part, to a second file) — twice: as the user runs it (the command
``hourglass score``, start-up included) and as its library call ``score_file`` alone.

    .venv/bin/python bench/explain_cost.py [--rows 100000] [--rounds 5]

The target (issue 34): ``--explain`` costs at most 1.3× a plain score. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def table(rows: int, path: Path) -> Path:
    import pandas as pd

    rng = np.random.default_rng(0)
    latent = rng.standard_normal((rows, 3))
    numbers = latent @ rng.standard_normal((3, 12)) + 0.1 * rng.standard_normal((rows, 12))
    frame = pd.DataFrame(numbers, columns=[f"c{i}" for i in range(12)])
    frame["kind"] = np.array(["a", "b", "c"])[(latent[:, 0] > 0).astype(int) + (latent[:, 1] > 1).astype(int)]
    frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from hourglass.data import DataSpec, TableOptions
    from hourglass.training.loop import TrainConfig
    from hourglass.use import score_file
    from hourglass.workflow import ModelConfig, train

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        data = table(args.rows, work / "t.csv")
        train(DataSpec(data, table=TableOptions(one_hot=True)), ModelConfig(latent_dim=3),
              TrainConfig(epochs=1, progress=False), out=work / "run")  # fmt: skip
        kinds = {"plain": None, "explain 3": 3, "explain all": "all"}
        seconds: dict[str, list[float]] = {f"{way}, {k}": [] for way in ("command", "library") for k in kinds}
        for _ in range(args.rounds):
            for name, explain in kinds.items():
                out = work / f"{name.replace(' ', '-')}.csv"
                flags = [] if explain is None else ["--explain", str(explain)]
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "hourglass", "score", str(work / "run"), str(data), "-o",
                                str(out), *flags], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
                seconds[f"command, {name}"].append(time.perf_counter() - started)
                started = time.perf_counter()
                score_file(work / "run", data, out, explain=explain)
                seconds[f"library, {name}"].append(time.perf_counter() - started)
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    ratios = {k: m / medians[k.split(",")[0] + ", plain"] for k, m in medians.items()}
    for name, m in medians.items():
        print(f"{name:>22}: {m:.2f} s (median of {args.rounds}), {ratios[name]:.2f}× plain", flush=True)
    print(json.dumps({"bench": "explain_cost", "rows": args.rows, "median_seconds": medians,
                      "ratio_to_plain": ratios}))  # fmt: skip


if __name__ == "__main__":
    main()
