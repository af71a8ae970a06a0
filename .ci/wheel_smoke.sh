#!/usr/bin/env bash
# The wheel on its own: built from this checkout, installed into a fresh venv with the core dependencies only
# (torch from the local CPU wheel, as the Makefile does), then exercised from outside the checkout; then the same
# wheel with [all], for the features that need extras. Any step that fails fails CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/.venv/bin/python" -m build --wheel --outdir "$work/dist" "$root" >/dev/null
wheel=$(ls "$work"/dist/hourglass_ae-*.whl)
$python -m venv "$work/venv"
pip="$work/venv/bin/pip"
$pip install --quiet torch==2.13.0
$pip install --quiet "$wheel"
echo "wheel smoke: the core install's packages (pip list):"
$pip list --format=freeze 2>/dev/null | sed 's/^/  /'
$pip list 2>/dev/null | grep -iE '^(pandas|pyarrow|onnx|onnxscript|onnxruntime|fastapi|uvicorn|matplotlib|tensorboard|mlflow) ' \
    && { echo "an optional package came with the core install"; exit 1; } || echo "  no optional package installed"

cd "$work"  # outside the checkout: the installed package, not the source tree, is what runs
export HOURGLASS_HOME="$work/home"
hg="$work/venv/bin/hourglass"
$hg --version
$hg train digits --epochs 1 --out run --quiet
$hg evaluate run --json >/dev/null
printf 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n' > t.csv
if $hg train t.csv --epochs 1 --latent-dim 1 2> err.txt; then echo "a CSV trained without the tables extra"; exit 1; fi
grep -q "needs the 'tables' extra: pip install 'hourglass-ae\[tables\]'" err.txt || { cat err.txt; exit 1; }
echo "  core: --version, train, evaluate, and a CSV refused naming the extra"
# the built-in denoiser, from the installed wheel: no checkpoint, a noisy 8-bit PNG in, a cleaner one out
"$work/venv/bin/python" - <<'EOF'
import numpy as np
from PIL import Image
clean = np.tile(np.linspace(0.1, 0.9, 96), (80, 1))
noisy = clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)
Image.fromarray(np.rint(np.clip(noisy, 0, 1) * 255).astype(np.uint8)).save("noisy.png")
np.save("clean.npy", clean)
EOF
$hg denoise noisy.png -o clean.png
"$work/venv/bin/python" - <<'EOF'
import numpy as np
from PIL import Image
clean = np.load("clean.npy")
psnr = {n: 10 * np.log10(1 / np.mean((np.asarray(Image.open(n), float) / 255 - clean) ** 2)) for n in ("noisy.png", "clean.png")}
assert psnr["clean.png"] > psnr["noisy.png"] + 5, psnr
print(f"  core: the built-in denoiser, {psnr['noisy.png']:.1f} dB in, {psnr['clean.png']:.1f} dB out")
EOF

$pip install --quiet "${wheel}[all]"
$hg export run -o model.onnx >/dev/null
$hg explore run -o explorer.html >/dev/null
grep -q "explorer" explorer.html
port=$("$work/venv/bin/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
$hg serve run --port "$port" >serve.log 2>&1 &
for _ in $(seq 1 120); do
    if "$work/venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2)" 2>/dev/null; then
        echo "  [all]: export, explore (its assets are in the wheel), serve's /health answered"
        exit 0
    fi
    sleep 0.5
done
cat serve.log
echo "hourglass serve did not answer /health"
exit 1
