"""Denoising real photographs: the built-in models as shipped, beside non-local means and BM3D / CBM3D.

Evaluation (never trained or tuned on; bench/photo_sets.py): astronaut, chelsea, coffee and clock in grey, the first
three in colour too; whole images; Gaussian noise of σ = 15, 25, 50 (/255), a fixed seed per photo and level, not
clipped (as the literature measures). Methods, one at a time on this machine:

- NL-means (``skimage.restoration.denoise_nl_means``, 7×7 patches, 11-pixel search, fast mode), h = c·σ with c
  tuned per σ on three training photos (crops of camera, coins, moon);
- BM3D (``bm3d.bm3d``, ``sigma_psd=σ``) and, in colour, CBM3D (``bm3d.bm3d_rgb``);
- hourglass: ``hg.denoise_image(noisy, sigma=σ)`` with the built-in grey or colour model (told the true level), and
  ``hg.denoise_image(noisy)`` as a user runs it (the level estimated from the photo).

PSNR and SSIM (data range 1) per photo and the means, seconds per megapixel. Also, reported without a target: the
user's case, noise clipped to [0, 1], rounded to 8 bits and saved as JPEG at quality 90 (σ = 25, grey). With
``--specialist-epochs N``, the single model beside "a model trained at that one level": the built-in grey model
trained N more epochs (of ``--specialist-patches``) at each σ alone, on the training photos.

    .venv/bin/python bench/photo_denoise.py [--docs] [--specialist-epochs 3] [--smoke]

Prints the tables (Markdown), saves results.json and the figures in --out (and in docs/figures with --docs); the
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
from photo_sets import COLOUR_EVAL, EVAL, TRAIN, grey, photo, write_folder

SIGMAS = (15, 25, 50)
ROOT = Path(__file__).resolve().parents[1]


def noisy(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    return image + sigma * np.random.default_rng(seed).standard_normal(image.shape)  # not clipped


def jpeg90(image: np.ndarray) -> np.ndarray:
    """What a user's noisy photo is: clipped, 8-bit, saved as JPEG at quality 90, read back in [0, 1]."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    with Image.open(buffer) as f:
        return np.asarray(f, np.float64) / 255


def scores(clean: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    colour = clean.ndim == 3
    ssim = structural_similarity(clean, np.clip(out, 0, 1), data_range=1.0, channel_axis=-1 if colour else None)
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


def timed(fn, *a, **k):
    started = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - started


def specialist(builtin, sigma: float, epochs: int, patches_per_epoch: int, out: Path):
    """The built-in grey model trained ``epochs`` more epochs of ``patches_per_epoch`` patches at the one level
    ``sigma``."""
    import copy

    import torch

    from hourglass.corruptions import GaussianNoise
    from hourglass.data.patches import open_photos
    from hourglass.devices import fastest_precision
    from hourglass.losses import Objective
    from hourglass.training.loop import TrainConfig, fit

    model = copy.deepcopy(builtin.model).float().train()
    patches = open_photos(write_folder(out / "photos-grey", TRAIN, colour=False), 64, patches_per_epoch, seed=1)
    objective = Objective("mse", GaussianNoise(sigma), noise_map=64 * 64)
    config = TrainConfig(epochs=epochs, batch_size=32, lr=2e-4, warmup_steps=50, seed=1, progress=False,
                         precision=fastest_precision("auto", torch.device("cpu")))  # fmt: skip
    fit(model, objective, patches.scaled("train"), patches.scaled("val"), config)
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--specialist-epochs", type=int, default=0, help="train a model at each σ alone (0: skip)")
    parser.add_argument("--specialist-patches", type=int, default=4000, help="patches per specialist epoch")
    parser.add_argument("--out", default=str(ROOT / "bench-output" / "photo-denoise"))
    parser.add_argument("--docs", action="store_true", help="also write the figures and the record into docs/figures")
    parser.add_argument("--smoke", action="store_true", help="one photo each, to check the script runs")
    args = parser.parse_args()
    import hourglass as hg
    from hourglass.pretrained import load_builtin

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    evaluated, colour_evaluated = (EVAL[-1:], COLOUR_EVAL[1:2]) if args.smoke else (EVAL, COLOUR_EVAL)
    models = {"grey": load_builtin("grey", "cpu"), "colour": load_builtin("colour", "cpu")}
    specialists = {}
    for s in SIGMAS if args.specialist_epochs else ():
        specialists[s], seconds = timed(
            specialist, models["grey"], s / 255, args.specialist_epochs, args.specialist_patches, out
        )
        print(f"specialist at σ = {s}: {seconds:.0f}s", flush=True)
    factors = {s: 0.6 if args.smoke else tune_nl_means(s / 255) for s in SIGMAS}
    print("NL-means h/σ tuned on training crops:", factors, flush=True)

    rows, seconds, megapixels, shown = [], {}, {"grey": 0.0, "colour": 0.0}, {}
    for colour in (False, True):
        space = "colour" if colour else "grey"
        for s in SIGMAS:
            sigma = s / 255
            for i, name in enumerate(colour_evaluated if colour else evaluated):
                clean = photo(name) if colour else grey(photo(name))
                y = noisy(clean, sigma, seed=1000 * s + i + (500 if colour else 0))
                results = {"noisy": y}
                results["nl_means"], t_nlm = timed(nl_means, y, sigma, factors[s])
                results["bm3d"], t_b = timed(bm3d_of, y, sigma)
                results["hourglass"], t_h = timed(hg.denoise_image, y.astype(np.float32), models[space], sigma=sigma)
                results["hourglass_estimated"] = hg.denoise_image(y.astype(np.float32), models[space])
                if not colour and specialists:
                    results["specialist"] = hg.denoise_image(y.astype(np.float32), specialists[s], sigma=sigma)
                for method, t in (("nl_means", t_nlm), ("bm3d", t_b), ("hourglass", t_h)):
                    seconds[(space, method)] = seconds.get((space, method), 0.0) + t
                megapixels[space] += clean.shape[0] * clean.shape[1] / 1e6
                row = {"space": space, "sigma": s, "image": name, **{m: scores(clean, v) for m, v in results.items()}}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if s == 25 and name == (colour_evaluated if colour else evaluated)[0]:
                    shown[space] = {**results, "clean": clean}
    user_rows = []
    for i, name in enumerate(evaluated):  # the user's case: clipped, 8-bit, JPEG at quality 90, σ = 25
        clean, sigma = grey(photo(name)), 25 / 255
        y = jpeg90(noisy(clean, sigma, seed=9000 + i))
        told = hg.denoise_image(y.astype(np.float32), models["grey"], sigma=sigma)
        estimated = hg.denoise_image(y.astype(np.float32), models["grey"])
        user_rows.append({"image": name, "noisy": scores(clean, y), "bm3d": scores(clean, bm3d_of(y, sigma)),
                          "hourglass": scores(clean, told),
                          "hourglass_estimated": scores(clean, estimated)})  # fmt: skip
        print(json.dumps(user_rows[-1]), flush=True)
    levels = level_sweep(models["grey"], evaluated[0])

    def mean(space, s, method, j=0):
        return float(np.mean([r[method][j] for r in rows if r["space"] == space and r["sigma"] == s]))

    means: dict = {}
    for space in ("grey", "colour"):
        methods = [m for m in next(r for r in rows if r["space"] == space) if m not in ("space", "sigma", "image")]
        means[space] = {str(s): {m: [mean(space, s, m), mean(space, s, m, 1)] for m in methods} for s in SIGMAS}
    per_mp = {f"{space}/{method}": t / megapixels[space] for (space, method), t in seconds.items()}
    user_means = {m: [float(np.mean([r[m][j] for r in user_rows])) for j in (0, 1)]
                  for m in user_rows[0] if m != "image"}  # fmt: skip
    print_tables(means, rows, per_mp, user_means, levels)
    for space, panels in shown.items():
        draw(panels, out / f"photo_denoise_{space}.png")
        if args.docs:
            draw(panels, ROOT / "docs" / "figures" / f"photo_denoise_{space}.png")
    if args.docs:
        draw_levels(levels, ROOT / "docs" / "figures" / "denoise_levels.png")
    g25 = means["grey"]["25"]
    targets = {
        "grey_vs_bm3d_db": {
            s: means["grey"][str(s)]["hourglass"][0] - means["grey"][str(s)]["bm3d"][0] for s in SIGMAS
        },  # fmt: skip
        "colour_vs_cbm3d_db_sigma25": means["colour"]["25"]["hourglass"][0] - means["colour"]["25"]["bm3d"][0],
        "speedup_vs_bm3d": per_mp["grey/bm3d"] / per_mp["grey/hourglass"],
        "colour_speedup_vs_cbm3d": per_mp["colour/bm3d"] / per_mp["colour/hourglass"],
        "single_minus_specialist_db": {
            s: means["grey"][str(s)]["hourglass"][0] - means["grey"][str(s)]["specialist"][0] for s in SIGMAS
        }
        if specialists
        else None,  # fmt: skip
        "estimated_minus_told_db_sigma25": g25["hourglass_estimated"][0] - g25["hourglass"][0],
    }
    summary = {"bench": "photo_denoise", "means": means, "seconds_per_megapixel": per_mp, "user_jpeg90": user_means,
               "levels": {k: levels[k] for k in ("image", "psnr", "total_variation")}, "targets": targets,
               "nl_means_h_over_sigma": {str(s): f for s, f in factors.items()}, "rows": rows,
               "user_rows": user_rows, "settings": vars(args)}  # fmt: skip
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    if args.docs:  # the benchmarks page's tables are generated from this record (docs/bench_tables.py)
        (ROOT / "docs" / "figures" / "bench" / "photo_denoise.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({"bench": "photo_denoise", "targets": targets}))


def level_sweep(model, name: str) -> dict:
    """One σ = 25 photo cleaned at told levels 5 … 50: PSNR and total variation (lower: smoother) at each."""
    import hourglass as hg

    clean = grey(photo(name))
    y = noisy(clean, 25 / 255, seed=77)
    told = (5, 10, 15, 25, 35, 50)
    images = {s: hg.denoise_image(y.astype(np.float32), model, sigma=s / 255) for s in told}
    tv = {s: float(np.abs(np.diff(im, axis=0)).mean() + np.abs(np.diff(im, axis=1)).mean()) for s, im in images.items()}
    return {"image": name, "psnr": {s: scores(clean, im)[0] for s, im in images.items()}, "total_variation": tv,
            "images": images, "clean": clean, "noisy": y}  # fmt: skip


def print_tables(means: dict, rows: list, per_mp: dict, user_means: dict, levels: dict) -> None:
    names = {"noisy": "noisy", "nl_means": "NL-means", "bm3d": "BM3D", "hourglass": "hourglass (told σ)",
             "hourglass_estimated": "hourglass (σ estimated)", "specialist": "trained at this σ alone"}  # fmt: skip
    for space in ("grey", "colour"):
        methods = list(means[space]["25"])
        label = {**names, "bm3d": "CBM3D" if space == "colour" else "BM3D"}
        print(f"\n{space}, PSNR (dB) / SSIM, means\n")
        print("| σ (/255) | " + " | ".join(label[m] for m in methods) + " |")
        print("|---" * (len(methods) + 1) + "|")
        for s in SIGMAS:
            print(f"| {s} | " + " | ".join(f"{means[space][str(s)][m][0]:.2f} / {means[space][str(s)][m][1]:.3f}"
                                          for m in methods) + " |")  # fmt: skip
        print(f"\n{space}, per photo (PSNR dB)\n")
        print("| σ | photo | " + " | ".join(label[m] for m in methods) + " |")
        print("|---" * (len(methods) + 2) + "|")
        for r in (r for r in rows if r["space"] == space):
            print(f"| {r['sigma']} | {r['image']} | " + " | ".join(f"{r[m][0]:.2f}" for m in methods) + " |")
    print("\nseconds per megapixel:", {k: round(v, 2) for k, v in per_mp.items()})
    print("\nuser's case (σ = 25, clipped, 8-bit, JPEG q90), grey means PSNR / SSIM:",
          {m: f"{v[0]:.2f} / {v[1]:.3f}" for m, v in user_means.items()})  # fmt: skip
    print("\nlevel told (σ = 25 photo):", {s: f"{levels['psnr'][s]:.2f} dB, TV {levels['total_variation'][s]:.4f}"
                                          for s in levels["psnr"]})  # fmt: skip


def draw(panels: dict, path: Path) -> None:
    """Crops at σ = 25: noisy | NL-means | BM3D | hourglass | clean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    shown = [("noisy", "noisy"), ("nl_means", "NL-means"), ("bm3d", "BM3D"), ("hourglass", "hourglass"),
             ("clean", "clean")]  # fmt: skip
    fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3.4))
    clean = panels["clean"]
    for ax, (key, title) in zip(axes, shown, strict=True):
        crop = np.clip(panels[key][60:220, 140:300], 0, 1)
        ax.imshow(crop, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title if key == "clean" else f"{title} {scores(clean, panels[key])[0]:.2f} dB")
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_levels(levels: dict, path: Path) -> None:
    """The same σ = 25 crop cleaned at the levels told: detail traded for smoothness."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    told = [5, 15, 25, 50]
    fig, axes = plt.subplots(1, len(told) + 1, figsize=(3 * (len(told) + 1), 3.4))
    axes[0].imshow(np.clip(levels["noisy"][60:220, 140:300], 0, 1), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("noisy, σ = 25")
    for ax, s in zip(axes[1:], told, strict=True):
        ax.imshow(np.clip(levels["images"][s][60:220, 140:300], 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"told σ = {s}: {levels['psnr'][s]:.2f} dB")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
