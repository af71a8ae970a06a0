"""Train the built-in denoisers that ship in hourglass/pretrained/ (``make pretrained``).

Each is the fully convolutional residual hourglass told its noise level as an input map (``--arch fcn --residual
--noise-map``, FFDNet's design: pixel unshuffle to half resolution, σ as one more input channel), trained over σ ∈
[0, 50]/255 on random 64×64 patches of the photos that ship in wheels (bench/photo_sets.py; one held out for
validation by ``hourglass train``), in bf16 autocast where the CPU has it; batch 32, Adam at 1e-3 after a 100-step
warm-up, cosine decay. Grey: 16 convs of 64 channels, all fourteen photos in grey, 24 epochs of 10,000 patches.
Colour: 12 convs of 96 channels (FFDNet's colour width), the six colour photos, 10 epochs of 8,000 patches.

    .venv/bin/python bench/photo_pretrain.py [--only grey] [--grey-epochs N] [--colour-epochs N] [--patches N]

Writes each best model's run folder into hourglass/pretrained/denoise-NAME (weights and config only), the sha256 of
every shipped file into hourglass/pretrained/SHA256SUMS, the runs' histories into --out and the learning curves into
docs/figures/pretrain_history.png. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

from photo_sets import COLOUR_TRAIN, TRAIN, write_folder

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "hourglass" / "pretrained"
SIGMA_MAX = 50 / 255
RECIPES = {  # name: (colour, widths — 2·len(widths) + 2 convs —, epochs, patches per epoch)
    "grey": (False, (64,) * 7, 24, 10_000),
    "colour": (True, (96,) * 5, 10, 8_000),
}


def train_one(name: str, args) -> dict:
    import torch

    from hourglass.data import DataSpec, PatchOptions
    from hourglass.devices import fastest_precision
    from hourglass.training.loop import TrainConfig
    from hourglass.workflow import ModelConfig, train

    colour, widths, epochs, patches_per_epoch = RECIPES[name]
    epochs = getattr(args, f"{name}_epochs") or epochs
    patches_per_epoch = args.patches or patches_per_epoch
    folder = write_folder(Path(args.out) / f"photos-{name}", COLOUR_TRAIN if colour else TRAIN, colour)
    model = ModelConfig(arch="fcn", residual=True, noise_map=True, noise=f"gaussian:0-{SIGMA_MAX:.8f}",
                        widths=widths, activation="silu", loss="mse")  # fmt: skip
    training = TrainConfig(epochs=epochs, batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup,
                           clip_grad_norm=args.clip, seed=args.seed,
                           precision=fastest_precision(args.precision, torch.device("cpu")),
                           progress=False, checkpoint_every=1)  # fmt: skip
    patches = PatchOptions(patch_size=args.patch, patches_per_epoch=patches_per_epoch)
    run = Path(args.out) / f"run-{name}"
    started = time.perf_counter()
    trained = train(DataSpec(folder, photos=patches), model, training, out=run, overwrite=True)
    seconds = time.perf_counter() - started
    ship(run, PRETRAINED / f"denoise-{name}")
    epochs_seen = [{k: r[k] for k in ("epoch", "train_loss", "val_loss", "seconds")} for r in trained.history.epochs]
    return {"seconds": seconds, "epochs": epochs_seen, "best_val_loss": min(r["val_loss"] for r in epochs_seen),
            "parameters": sum(p.numel() for p in trained.model.parameters())}  # fmt: skip


def ship(run: Path, target: Path) -> None:
    """The run's best snapshot (weights and config; no optimizer state) as a run folder the package ships."""
    snapshot = run / (run / "CURRENT").read_text().strip()
    staged = target.with_name(target.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in ("model.safetensors", "config.json"):
        shutil.copyfile(snapshot / name, staged / name)
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)


def write_sums() -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(PRETRAINED).as_posix()}"
             for p in sorted(PRETRAINED.glob("denoise-*/*")) if p.is_file()]  # fmt: skip
    (PRETRAINED / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def draw(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 3.6), squeeze=False)
    for ax, (name, r) in zip(axes[0], results.items(), strict=True):
        minutes = [sum(e["seconds"] for e in r["epochs"][: i + 1]) / 60 for i in range(len(r["epochs"]))]
        ax.plot(minutes, [e["train_loss"] for e in r["epochs"]], label="training patches")
        ax.plot(minutes, [e["val_loss"] for e in r["epochs"]], label="held-out photo")
        ax.set(title=f"{name}: squared error per 64×64 patch, σ ∈ [0, 50]", xlabel="minutes of training",
               yscale="log")  # fmt: skip
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(RECIPES), help="train one model (the other is kept as shipped)")
    parser.add_argument("--grey-epochs", type=int, help="default: the recipe's (24)")
    parser.add_argument("--colour-epochs", type=int, help="default: the recipe's (10)")
    parser.add_argument(
        "--patches", type=int, help="patches per epoch (default: the recipe's, 10,000 grey, 8,000 colour)"
    )
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip", type=float, default=None, help="clip the gradient norm (default: no clipping)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    parser.add_argument("--precision", default="auto", help="auto: bf16 where the CPU computes it natively, else fp32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-output/pretrain")
    args = parser.parse_args()
    results = {}
    for name in [args.only] if args.only else list(RECIPES):
        results[name] = train_one(name, args)
        print(f"{name}: {results[name]['seconds']:.0f}s, best validation loss {results[name]['best_val_loss']:.3f}",
              flush=True)  # fmt: skip
        write_sums()
        out = Path(args.out) / f"history-{name}.json"
        out.write_text(json.dumps({**results[name], "settings": vars(args)}, indent=1))
    everything = {n: json.loads((Path(args.out) / f"history-{n}.json").read_text()) for n in RECIPES
                  if (Path(args.out) / f"history-{n}.json").exists()}  # fmt: skip
    draw(everything, ROOT / "docs" / "figures" / "pretrain_history.png")
    print(json.dumps({n: {k: r[k] for k in ("seconds", "best_val_loss", "parameters")} for n, r in everything.items()}))


if __name__ == "__main__":
    main()
