"""The trainer against an earlier version of itself: the same epochs (the demo's MLP on MNIST, batch 256, fp32,
no progress, no run folder) in fresh processes that alternate between this checkout and another source tree, so
the machine's drift falls on both alike. Reports each version's samples/s per epoch (the first, warm-up, dropped)
and the median ratio new ÷ old. The last line is one JSON object.

    git worktree add /tmp/old 0b3fb02 && .venv/bin/python bench/trainer_versions.py --old /tmp/old [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, time, torch, hourglass as hg
data = hg.load_mnist()
x, x_val = torch.as_tensor(data.x_train), torch.as_tensor(data.x_val)
model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (256, 64, 16), 4), "sigmoid", seed=0)
rates = []
for r in range({epochs}):
    started = time.perf_counter()
    hg.fit(model, hg.Objective("bce"), x, x_val, hg.TrainConfig(epochs=1, seed=r, progress=False))
    rates.append(len(x) / (time.perf_counter() - started))
print(json.dumps(rates[1:]))
"""


def run(source: Path, epochs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    out = subprocess.run([sys.executable, "-c", CHILD.format(epochs=epochs)], env=env, cwd=source, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the earlier source tree (a git worktree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6, help="per process, the first not counted")
    args = parser.parse_args()
    new, old = Path(__file__).resolve().parents[1], args.old.resolve()
    rates: dict[str, list[float]] = {"old": [], "new": []}
    ratios = []
    for r in range(args.rounds):
        o, n = run(old, args.epochs), run(new, args.epochs)
        rates["old"] += o
        rates["new"] += n
        ratios.append(statistics.median(n) / statistics.median(o))
        print(f"round {r + 1}: old {statistics.median(o):,.0f}, new {statistics.median(n):,.0f} samples/s "
              f"(new ÷ old {ratios[-1]:.3f})", flush=True)  # fmt: skip
    print(f"median new ÷ old over {args.rounds} rounds: {statistics.median(ratios):.3f}")
    print(json.dumps({"benchmark": "trainer_versions", "old": str(old), "ratios": ratios,
                      "ratio": statistics.median(ratios), "samples_per_s": rates}))  # fmt: skip


if __name__ == "__main__":
    main()
