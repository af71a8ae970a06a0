"""Two trainings at once on this machine: each one's wall time and their CPU time, against one training alone.

The run: `hourglass train mnist --epochs 10` (the demo's 784-256-64-16-4 model, seed 0), as a user starts it,
  solo      alone, nothing else running
  together  two of it started at the same moment
then the same pair with sharing switched off (OMP_NUM_THREADS set to the core count in both, as a user who fixes
the threads would), to show what sharing saves. Targets (issue 11): together, each ≤ 2.5× the solo wall time, and
the two CPU times ≤ 1.3× twice the solo CPU time. Times are of whole commands (start-up and data loading
included); CPU time is user + system of each process and its children. The last line is one JSON object.

    .venv/bin/python bench/contention.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start(out: Path, epochs: int, env: dict) -> tuple[subprocess.Popen, float]:
    command = [
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
        "--overwrite",
        "--quiet",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env), time.perf_counter()


def finish(job: tuple[subprocess.Popen, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a started command."""
    process, started = job
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"training exited with {process.returncode}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    fixed = {**env, "OMP_NUM_THREADS": str(len(os.sched_getaffinity(0)))}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        finish(start(root / "warm", 1, env))  # the MNIST cache and the page cache warm
        solo_wall, solo_cpu = finish(start(root / "solo", args.epochs, env))
        results["solo"] = {"wall_s": round(solo_wall, 1), "cpu_s": round(solo_cpu, 1)}
        for name, environment in (("together", env), ("together_unshared", fixed)):
            jobs = [start(root / f"{name}-{i}", args.epochs, environment) for i in range(2)]
            walls, cpus = zip(*(finish(job) for job in jobs), strict=True)
            results[name] = {
                "wall_s": [round(w, 1) for w in walls],
                "cpu_s": [round(c, 1) for c in cpus],
                "worst_wall_vs_solo": round(max(walls) / solo_wall, 2),
                "cpu_vs_two_solo": round(sum(cpus) / (2 * solo_cpu), 2),
            }
    print(f"solo: {solo_wall:.1f} s wall, {solo_cpu:.1f} s CPU")
    for name in ("together", "together_unshared"):
        r = results[name]
        print(
            f"{name}: walls {r['wall_s']} s ({r['worst_wall_vs_solo']}× solo, target ≤ 2.5×); CPU "
            f"{sum(r['cpu_s']):.1f} s ({r['cpu_vs_two_solo']}× two solo runs, target ≤ 1.3×)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
