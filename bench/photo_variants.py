"""Which hourglass denoises photographs: the variants the account offers, trained alike at σ = 25 on the same photo
patches as bench/photo_denoise.py, and measured on the same evaluation photos (grey, whole images).

- ``conv``: the classic conv pair, a vector code (k = 256 for a 48×48 patch), tiled patch by patch;
- ``fcn``: the fully convolutional hourglass, x̂ = g(f(x̃)), its code a 64-channel map at half resolution;
- ``fcn + l1``: the same with a ReLU code and an L1 penalty (an overcomplete sparse code, as Xie et al. 2012);
- ``fcn residual``: x̂ = x̃ − g(f(x̃)) (DnCNN's residual learning) — bench/photo_denoise.py's model.

    .venv/bin/python bench/photo_variants.py [--epochs 8] [--patches 3000] [--out bench-output/photo-variants]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from photo_denoise import noisy, scores
from photo_sets import EVAL, SKIMAGE_TRAIN, grey, photo, write_folder

PATCH = 48
TRAIN = SKIMAGE_TRAIN  # the eleven scikit-image photos these variants were first measured on

VARIANTS = {
    "conv": {"arch": "conv", "latent_dim": 256},
    "fcn": {"arch": "fcn"},
    "fcn + l1": {"arch": "fcn", "l1": 1e-4},
    "fcn residual": {"arch": "fcn", "residual": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--patches", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", default="bench-output/photo-variants")
    args = parser.parse_args()
    from hourglass.data import DataSpec, PatchOptions
    from hourglass.denoising import denoise_image
    from hourglass.training.loop import TrainConfig
    from hourglass.workflow import ModelConfig, train

    out = Path(args.out)
    folder = write_folder(out / "train-grey", TRAIN, colour=False)
    sigma = 25 / 255
    results = {}
    for name, options in VARIANTS.items():
        mc = ModelConfig(noise=f"gaussian:{sigma:.6f}", loss="mse", **options)
        tc = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=0, progress=False,
                         warmup_steps=50)  # fmt: skip
        started = time.perf_counter()
        data = DataSpec(folder, photos=PatchOptions(patch_size=PATCH, patches_per_epoch=args.patches))
        trained = train(data, mc, tc, out=out / name.replace(" ", "-"), overwrite=True)
        seconds = time.perf_counter() - started
        model = trained.model.eval()
        psnrs, ssims, took = [], [], 0.0
        for i, image in enumerate(EVAL):
            clean = grey(photo(image))
            y = noisy(clean, sigma, seed=1000 * 25 + i)  # bench/photo_denoise.py's noise
            t = time.perf_counter()
            p, s = scores(clean, denoise_image(y.astype(np.float32), model))
            took += time.perf_counter() - t
            psnrs.append(p)
            ssims.append(s)
        results[name] = {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims)), "train_seconds": seconds,
                         "denoise_seconds": took}  # fmt: skip
        print(f"{name:>14}: PSNR {results[name]['psnr']:.2f} dB, SSIM {results[name]['ssim']:.3f} "
              f"(trained {seconds:.0f}s, denoised in {took:.1f}s)", flush=True)  # fmt: skip
    print(json.dumps({"bench": "photo_variants", "sigma": 25, "results": results, "settings": vars(args)}))


if __name__ == "__main__":
    main()
