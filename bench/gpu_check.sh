#!/usr/bin/env bash
# The GPU check, for the machine the `device` tool lends (never CI): train the demo's MNIST model (784-256-64-16-4,
# 40 epochs, seed 0) on CUDA in fp32 and in bf16, and print samples/s and the test error per image of each.
#
# That machine has python3 with CUDA PyTorch but no network: carry MNIST's cache (make demo here fills it; point
# HOURGLASS_HOME at a copy inside the working tree, e.g. shared/hourglass-home) and any missing package as wheels.
#     HOURGLASS_HOME=shared/hourglass-home bash bench/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
$PY -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU visible"; print("torch", torch.__version__, torch.cuda.get_device_name())'
out=$(mktemp -d)
for precision in fp32 bf16; do
    $PY -m hourglass train mnist --device cuda --precision "$precision" --epochs 40 --seed 0 --quiet \
        --out "$out/$precision" >/dev/null
    $PY - "$out/$precision" "$precision" <<'PY'
import json, sys
import hourglass as hg
from hourglass.store import runfolder
from hourglass.metrics import reconstruct, reconstruction_errors
folder, precision = sys.argv[1], sys.argv[2]
saved = hg.load(folder)
epochs = [json.loads(line) for line in (runfolder.current(folder) / "history.jsonl").read_text().splitlines()]
x = saved.scaling.transform(hg.load_mnist().x_test)
error = reconstruction_errors(x, reconstruct(saved.model, x))["squared_error_per_sample"]
print(f"{precision}: {50_000 * len(epochs) / sum(e['seconds'] for e in epochs):,.0f} samples/s, "
      f"test error per image {error:.3f}")
PY
done
