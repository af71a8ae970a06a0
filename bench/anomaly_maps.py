"""Do the anomaly maps find defects? Pixel-level ROC-AUC of ``hourglass score --maps`` on textures with synthetic
defects (issue 34's image target: ≥ 0.90).

For each of scikit-image's texture photos brick, grass and gravel (512 × 512, grey), a conv autoencoder is
trained on clean random patches of the photo's top half (its two 256 × 256 squares: one trains, one validates);
the bottom half's two squares are held out. Into copies of those, seeded synthetic defects are pasted, each with
its mask:

- scratch: a line 2–3 pixels wide and 40–120 long, darker or brighter than its surroundings;
- blob: a soft ellipse of radius 8–16 whose brightness is shifted by 0.25–0.45;
- texture: a 32–48 pixel square cut from another of the three textures.

Each defective image is scored as a photo (tiled like ``denoise``) with both maps, ``ssim`` and ``squared``; the
pixel ROC-AUC is the maps' ranking of defect pixels above clean ones over all of a texture's test images.

    .venv/bin/python bench/anomaly_maps.py [--epochs 12] [--patches 8000] [--latent 64] [--seed 0] [--figure F]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

TEXTURES = ("brick", "grass", "gravel")
DEFECTS = ("scratch", "blob", "texture")
PATCH = 32


def texture(name: str) -> np.ndarray:
    """scikit-image's texture photo ``name`` as (512, 512) float32 in [0, 1]."""
    from skimage import data

    return getattr(data, name)().astype(np.float32) / 255


def paste_defect(image: np.ndarray, kind: str, rng: np.random.Generator, others: list[np.ndarray]):
    """``image`` (H, W) in [0, 1] with one defect of ``kind`` pasted at a random place, and its mask (H, W) bool."""
    h, w = image.shape
    out, yy, xx = image.copy(), *np.mgrid[0:h, 0:w]
    cy, cx = rng.integers(48, h - 48), rng.integers(48, w - 48)
    if kind == "scratch":
        angle, length, width = rng.uniform(0, np.pi), rng.uniform(40, 120), rng.uniform(2, 3)
        along = (yy - cy) * np.sin(angle) + (xx - cx) * np.cos(angle)
        across = -(yy - cy) * np.cos(angle) + (xx - cx) * np.sin(angle)
        mask = (np.abs(along) <= length / 2) & (np.abs(across) <= width / 2)
        out[mask] = rng.choice([0.05, 0.95]) + rng.uniform(-0.05, 0.05)
    elif kind == "blob":
        ry, rx = rng.uniform(8, 16, size=2)
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        weight = np.clip(1.5 * (1 - inside), 0, 1)  # soft rim
        out = np.clip(out + rng.choice([-1, 1]) * rng.uniform(0.25, 0.45) * weight, 0, 1)
        mask = weight > 0.5
    else:
        side = int(rng.integers(32, 49))
        source = others[int(rng.integers(len(others)))]
        sy, sx = rng.integers(0, source.shape[0] - side, size=2)
        top, left = cy - side // 2, cx - side // 2
        out[top : top + side, left : left + side] = source[sy : sy + side, sx : sx + side]
        mask = np.zeros_like(image, dtype=bool)
        mask[top : top + side, left : left + side] = True
    return out.astype(np.float32), mask


def pixel_auc(maps: list[np.ndarray], masks: list[np.ndarray]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.concatenate([m.ravel() for m in masks]), np.concatenate([m.ravel() for m in maps])))


def save_grey(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)).save(path)


def run_texture(name: str, args, work: Path) -> dict:
    from hourglass.data import DataSpec, PatchOptions
    from hourglass.maps import score_images
    from hourglass.training.loop import TrainConfig
    from hourglass.workflow import ModelConfig, train

    photo = texture(name)
    train_folder, test_folder = work / name / "train", work / name / "test"
    train_folder.mkdir(parents=True)
    test_folder.mkdir()
    for i, left in enumerate((0, 256)):
        save_grey(train_folder / f"{name}-{i}.png", photo[:256, left : left + 256])
    started = time.perf_counter()
    model = ModelConfig(arch="conv", latent_dim=args.latent)
    training = TrainConfig(epochs=args.epochs, seed=args.seed, progress=False)
    train(DataSpec(train_folder, photos=PatchOptions(patch_size=PATCH, patches_per_epoch=args.patches)), model,
          training, out=work / name / "run")  # fmt: skip
    train_seconds = time.perf_counter() - started
    rng = np.random.default_rng(args.seed)
    others = [texture(t) for t in TEXTURES if t != name]
    masks: dict[str, np.ndarray] = {}
    for left in (0, 256):
        clean = photo[256:, left : left + 256]
        for kind in DEFECTS:
            for j in range(args.per_kind):
                defective, mask = paste_defect(clean, kind, rng, others)
                stem = f"{kind}-{left}-{j}"
                save_grey(test_folder / f"{stem}.png", defective)
                masks[stem] = mask
    result: dict = {"train_seconds": train_seconds}
    for map_kind in ("ssim", "squared"):
        folder = work / name / f"maps-{map_kind}"
        started = time.perf_counter()
        score_images(work / name / "run", test_folder, work / name / f"{map_kind}.csv", folder, kind=map_kind)
        maps = {stem: np.load(folder / f"{stem}.npy") for stem in masks}
        result[map_kind] = {
            "pixel_auc": pixel_auc(list(maps.values()), list(masks.values())),
            "by_defect": {
                k: pixel_auc([maps[s] for s in masks if s.startswith(k)], [masks[s] for s in masks if s.startswith(k)])
                for k in DEFECTS
            },  # fmt: skip
            "score_seconds": time.perf_counter() - started,
        }
    return result


def figure(work: Path, path: Path) -> None:
    """One defective image per texture: the image, its ssim map and its squared map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axes = plt.subplots(len(TEXTURES), 3, figsize=(8, 2.8 * len(TEXTURES)))
    for row, name in zip(axes, TEXTURES, strict=True):
        stem = "texture-0-0"
        row[0].imshow(Image.open(work / name / "test" / f"{stem}.png"), cmap="gray", vmin=0, vmax=255)
        row[1].imshow(Image.open(work / name / "maps-ssim" / f"{stem}.png"))
        row[2].imshow(Image.open(work / name / "maps-squared" / f"{stem}.png"))
        row[0].set_ylabel(name)
    for ax, title in zip(axes[0], ("with a pasted defect", "ssim map (default)", "squared map"), strict=True):
        ax.set_title(title)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patches", type=int, default=8000, help="patches per epoch")
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--per-kind", type=int, default=4, help="defective images per kind and test square")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=TEXTURES, action="append")
    parser.add_argument("--figure", type=Path, help="write the maps' figure (PNG) here")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in args.only or TEXTURES:
            results[name] = run_texture(name, args, work)
            r = results[name]
            parts = {m: ", ".join(f"{k} {v:.3f}" for k, v in r[m]["by_defect"].items()) for m in ("ssim", "squared")}
            print(f"{name:>7}: pixel ROC-AUC ssim {r['ssim']['pixel_auc']:.3f} ({parts['ssim']}), squared "
                  f"{r['squared']['pixel_auc']:.3f} ({parts['squared']}); trained in {r['train_seconds']:.0f} s",
                  flush=True)  # fmt: skip
        if args.figure and not args.only:
            figure(work, args.figure)
    means = {k: float(np.mean([r[k]["pixel_auc"] for r in results.values()])) for k in ("ssim", "squared")}
    print(f"   mean: ssim {means['ssim']:.3f}, squared {means['squared']:.3f} (target >= 0.90)")
    print(json.dumps({"bench": "anomaly_maps", "args": {k: v for k, v in vars(args).items() if k != "figure"},
                      "mean_pixel_auc": means, "textures": results}))  # fmt: skip


if __name__ == "__main__":
    main()
