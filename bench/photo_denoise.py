"""Denoising real photographs: hourglass beside non-local means and BM3D, on the photographs scikit-image ships.

Training (grey): random 48×48 patches of exactly these photos, converted to grey — camera, coins, moon, page, text,
brick, grass, gravel, motorcycle_left (``stereo_motorcycle()[0]``), rocket, hubble_deep_field — one of which
``hourglass train`` holds out for validation. Four models, each the fully convolutional residual hourglass
(``--arch fcn --residual``) trained for the same number of patches: one over σ ∈ [5, 50]/255 (blind) and one at
each of σ = 15, 25 and 50. Colour: the grey blind model cleans each channel; with --colour-model, the same blind
recipe trained on the three colour photos of the list instead.

Evaluation (none of them trained on): astronaut, chelsea, coffee and clock (grey; the first three in colour too),
whole images, Gaussian noise of σ = 15, 25, 50 (/255) with a fixed seed, not clipped. NL-means
(``skimage.restoration.denoise_nl_means``, 7×7 patches, 11-pixel search, fast mode) with h = c·σ, c tuned per σ on
three training photos; BM3D (``bm3d.bm3d``, ``sigma_psd=σ``; colour: ``bm3d.bm3d_rgb``). PSNR and SSIM against the
clean image (data range 1), seconds per megapixel of each method on this machine, one method at a time.

    .venv/bin/python bench/photo_denoise.py [--epochs 12] [--patches 4000] [--out bench-output/photo-denoise]

Prints the tables, saves ``results.json`` and the figure (noisy | NL-means | BM3D | hourglass crops) in --out (and
the figure in docs/figures/photo_denoise.png with --docs); the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

TRAIN = ["camera", "coins", "moon", "page", "text", "brick", "grass", "gravel", "motorcycle_left", "rocket",
         "hubble_deep_field"]  # fmt: skip
COLOUR_TRAIN = ["motorcycle_left", "rocket", "hubble_deep_field"]
EVAL = ["astronaut", "chelsea", "coffee", "clock"]
COLOUR_EVAL = ["astronaut", "chelsea", "coffee"]
SIGMAS = (15, 25, 50)
BLIND = (5, 50)
PATCH = 48


def photo(name: str) -> np.ndarray:
    """A scikit-image photo as float64 in [0, 1]: (H, W) grey or (H, W, 3) colour."""
    import skimage.data

    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(skimage.data, name)()
    return image.astype(np.float64) / 255


def grey(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray

    return rgb2gray(image) if image.ndim == 3 else image


def noisy(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    return image + sigma * np.random.default_rng(seed).standard_normal(image.shape)  # not clipped


def scores(clean: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    colour = clean.ndim == 3
    ssim = structural_similarity(clean, out, data_range=1.0, channel_axis=-1 if colour else None)
    return float(peak_signal_noise_ratio(clean, np.clip(out, 0, 1), data_range=1.0)), float(ssim)


def nl_means(image: np.ndarray, sigma: float, factor: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    colour = image.ndim == 3
    return denoise_nl_means(image, h=factor * sigma, sigma=sigma, patch_size=7, patch_distance=11, fast_mode=True,
                            channel_axis=-1 if colour else None)  # fmt: skip


def bm3d_of(image: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    return bm3d.bm3d_rgb(image, sigma) if image.ndim == 3 else bm3d.bm3d(image, sigma_psd=sigma)


def tune_nl_means(sigma: float) -> float:
    """c in h = c·σ maximising the mean PSNR on three training photos (256×256 centre crops)."""
    crops = []
    for name in ("camera", "coins", "moon"):
        g = grey(photo(name))
        y, x = (g.shape[0] - 256) // 2, (g.shape[1] - 256) // 2
        crops.append(g[y : y + 256, x : x + 256])
    best = None
    for factor in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2):
        mean = np.mean([scores(c, nl_means(noisy(c, sigma, 1), sigma, factor))[0] for c in crops])
        best = max(best or (mean, factor), (mean, factor))
    return best[1]


def write_folder(folder: Path, names: list[str], colour: bool) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        image = photo(name) if colour else grey(photo(name))
        Image.fromarray(np.rint(image * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return folder


def train_model(folder: Path, noise: str, out: Path, args) -> tuple:
    from hourglass.data import DataSpec, PatchOptions
    from hourglass.training.loop import TrainConfig
    from hourglass.workflow import ModelConfig, train

    mc = ModelConfig(arch="fcn", residual=True, noise=noise, activation=args.activation, loss="mse")
    tc = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=0, progress=False,
                     warmup_steps=50)  # fmt: skip
    started = time.perf_counter()
    photos = PatchOptions(patch_size=PATCH, patches_per_epoch=args.patches)
    trained = train(DataSpec(folder, photos=photos), mc, tc, out=out, overwrite=True)
    seconds = time.perf_counter() - started
    curve = [(r["epoch"], r["train_loss"], r["val_loss"]) for r in trained.history.epochs]
    return trained.model.eval(), seconds, curve


def timed(fn, *a):
    started = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patches", type=int, default=3000, help="patches per epoch")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--activation", default="silu")
    parser.add_argument(
        "--colour-model",
        action="store_true",
        help="train a colour model on the colour photos of the list (else: the grey blind model "
        "cleans each colour channel)",
    )
    parser.add_argument("--out", default="bench-output/photo-denoise")
    parser.add_argument("--docs", action="store_true", help="also write docs/figures/photo_denoise.png")
    parser.add_argument("--smoke", action="store_true", help="one photo each, to check the script runs")
    args = parser.parse_args()
    from hourglass.denoising import denoise_image

    evaluated, colour_evaluated = (EVAL[-1:], COLOUR_EVAL[1:2]) if args.smoke else (EVAL, COLOUR_EVAL)

    out = Path(args.out)
    grey_folder = write_folder(out / "train-grey", TRAIN, colour=False)

    models, train_seconds, curves = {}, {}, {}
    specs = {"blind": f"gaussian:{BLIND[0] / 255:.6f}-{BLIND[1] / 255:.6f}",
             **{f"s{s}": f"gaussian:{s / 255:.6f}" for s in SIGMAS}}  # fmt: skip
    for name, noise in specs.items():
        models[name], train_seconds[name], curves[name] = train_model(grey_folder, noise, out / f"run-{name}", args)
        print(f"trained {name} ({noise}) in {train_seconds[name]:.0f}s; val loss by epoch "
              f"{[round(v, 3) for _, _, v in curves[name]]}", flush=True)  # fmt: skip
    colour_model = models["blind"]
    if args.colour_model:
        colour_model, train_seconds["colour"], curves["colour"] = train_model(
            write_folder(out / "train-colour", COLOUR_TRAIN, colour=True), specs["blind"], out / "run-colour", args
        )
        print(f"trained colour in {train_seconds['colour']:.0f}s", flush=True)

    factors = {s: tune_nl_means(s / 255) for s in SIGMAS}
    print("NL-means h/σ tuned on training crops:", factors, flush=True)

    rows, seconds = [], {"nl_means": 0.0, "bm3d": 0.0, "hourglass": 0.0}
    megapixels = 0.0
    shown = {}
    for s in SIGMAS:
        sigma = s / 255
        for i, name in enumerate(evaluated):
            clean = grey(photo(name))
            y = noisy(clean, sigma, seed=1000 * s + i)
            nlm, t_nlm = timed(nl_means, y, sigma, factors[s])
            b, t_b = timed(bm3d_of, y, sigma)
            blind, t_h = timed(denoise_image, models["blind"], y.astype(np.float32))
            own = denoise_image(models[f"s{s}"], y.astype(np.float32))
            seconds["nl_means"] += t_nlm
            seconds["bm3d"] += t_b
            seconds["hourglass"] += t_h
            megapixels += clean.size / 1e6
            row = {"sigma": s, "image": name, "noisy": scores(clean, y), "nl_means": scores(clean, nlm),
                   "bm3d": scores(clean, b), "hourglass_blind": scores(clean, blind),
                   "hourglass_own_sigma": scores(clean, own)}  # fmt: skip
            rows.append(row)
            if s == 25 and (name == "astronaut" or not shown):
                shown = {"noisy": y, "NL-means": nlm, "BM3D": b, "hourglass": blind, "clean": clean}
            print(json.dumps(row), flush=True)

    colour_rows, colour_seconds, colour_mp = [], {"nl_means": 0.0, "bm3d": 0.0, "hourglass": 0.0}, 0.0
    for i, name in enumerate(colour_evaluated):
        clean, sigma = photo(name), 25 / 255
        y = noisy(clean, sigma, seed=5000 + i)
        nlm, t_nlm = timed(nl_means, y, sigma, factors[25])
        b, t_b = timed(bm3d_of, y, sigma)
        h, t_h = timed(denoise_image, colour_model, y.astype(np.float32))
        for key, t in (("nl_means", t_nlm), ("bm3d", t_b), ("hourglass", t_h)):
            colour_seconds[key] += t
        colour_mp += clean.shape[0] * clean.shape[1] / 1e6
        row = {"sigma": 25, "image": name, "noisy": scores(clean, y), "nl_means": scores(clean, nlm),
               "bm3d": scores(clean, b), "hourglass_blind": scores(clean, h)}  # fmt: skip
        colour_rows.append(row)
        print(json.dumps(row), flush=True)

    methods = ("noisy", "nl_means", "bm3d", "hourglass_blind", "hourglass_own_sigma")
    means = {s: {m: [float(np.mean([r[m][j] for r in rows if r["sigma"] == s])) for j in (0, 1)] for m in methods}
             for s in SIGMAS}  # fmt: skip
    colour_means = {m: [float(np.mean([r[m][j] for r in colour_rows])) for j in (0, 1)] for m in methods[:4]}
    per_mp = {k: v / megapixels for k, v in seconds.items()}
    colour_per_mp = {k: v / colour_mp for k, v in colour_seconds.items()}

    print("\nGrey, mean PSNR dB / SSIM over", ", ".join(EVAL))
    print(f"{'σ':>4} " + " ".join(f"{m:>22}" for m in methods))
    for s in SIGMAS:
        print(f"{s:>4} " + " ".join(f"{means[s][m][0]:>13.2f} / {means[s][m][1]:.3f}" for m in methods))
    print("\nColour (σ = 25), mean PSNR dB / SSIM over", ", ".join(COLOUR_EVAL))
    print(" ".join(f"{m}: {colour_means[m][0]:.2f} / {colour_means[m][1]:.3f}" for m in methods[:4]))
    print("\nseconds per megapixel (grey):", {k: round(v, 2) for k, v in per_mp.items()},
          " colour:", {k: round(v, 2) for k, v in colour_per_mp.items()})  # fmt: skip
    print("training seconds:", {k: round(v) for k, v in train_seconds.items()})

    figure = out / "photo_denoise.png"
    draw(shown, figure)
    if args.docs:
        draw(shown, Path("docs/figures/photo_denoise.png"))
    m25 = means[25]
    summary = {
        "bench": "photo_denoise",
        "grey_means": {str(s): means[s] for s in SIGMAS},
        "colour_means_sigma25": colour_means,
        "seconds_per_megapixel": per_mp,
        "colour_seconds_per_megapixel": colour_per_mp,
        "training_seconds": train_seconds,
        "nl_means_h_over_sigma": {str(s): f for s, f in factors.items()},
        "curves": curves,
        "targets_sigma25": {
            "vs_nl_means_db": m25["hourglass_blind"][0] - m25["nl_means"][0],
            "vs_bm3d_db": m25["hourglass_blind"][0] - m25["bm3d"][0],
            "speedup_vs_bm3d": per_mp["bm3d"] / per_mp["hourglass"],
            "blind_minus_own_sigma_db": {
                str(s): means[s]["hourglass_blind"][0] - means[s]["hourglass_own_sigma"][0] for s in SIGMAS
            },  # fmt: skip
        },
        "rows": rows,
        "colour_rows": colour_rows,
        "settings": vars(args),
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: summary[k] for k in ("bench", "grey_means", "targets_sigma25", "training_seconds")}))


def draw(shown: dict, path: Path) -> None:
    """Crops of the σ = 25 astronaut: noisy | NL-means | BM3D | hourglass, beside the clean crop."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.4))
    clean = shown["clean"]
    panels = [(k, v) for k, v in shown.items() if k != "clean"] + [("clean", clean)]
    for ax, (title, image) in zip(axes, panels, strict=True):
        crop = np.clip(image[60:220, 140:300], 0, 1)
        ax.imshow(crop, cmap="gray", vmin=0, vmax=1)
        label = title if title == "clean" else f"{title} {scores(clean, image)[0]:.2f} dB"
        ax.set_title(label)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
