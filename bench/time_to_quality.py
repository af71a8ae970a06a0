"""Time to quality: each of the literature's MNIST figures, trained from scratch on this CPU within a time budget.

  conv30  a 30-d code, conv hourglass (32, 64 channels), cross-entropy loss; target: test squared error per
          image ≤ 2.50 within 15 min (Hinton & Salakhutdinov 2006: 3.00 with RBM pretraining)
  hinton  Hinton & Salakhutdinov's own 784-1000-500-250-30 MLP, squared error, bf16; target ≤ 3.00 within 15 min
  (both on 59,000 of the 60,000 training images, the last 1,000 held out to pick the best epoch)
  vae     VAE 784-512-512-32 on dynamically binarised MNIST; target: test NLL ≤ 86.76 nats (K = 5,000
          importance samples, the full test set binarised once with seed 0) within 30 min (Burda et al. 2016)
  iwae    the same network trained with the importance-weighted bound (``--iw-samples``); target ≤ 85.5 nats
          within 60 min (Burda et al.'s IWAE, k = 50: 84.78)

Each recipe is one :func:`hourglass.workflow.train` call (seed 0, nothing else running on the machine; Hinton's MLP,
the VAE and the IWAE train in bf16 autocast — 1.45× the fp32 speed at −0.09 % ELBO for the VAE in
``bench/precision.py`` — with losses in fp32, and are measured in fp32); the training time is the wall time of that
call (data loading, every epoch and its validation included); the measurement afterwards is timed apart. Prints the
learning curve (validation loss per epoch) and the result; the last line is one JSON object, also written to
``bench-output/time-to-quality-<recipe>.json``.

    .venv/bin/python bench/time_to_quality.py conv30|hinton|vae|iwae [--epochs N] [--lr LR] [--batch-size N]
                                                                      [--validation-rows N]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from hourglass.data import load_mnist
from hourglass.metrics import compare_with_pca, vae_bounds
from hourglass.scaling import binarize
from hourglass.training.loop import TrainConfig
from hourglass.workflow import ModelConfig, train

# name: (model, training, training budget in seconds, target, what the target bounds, validation rows); all seeded
# with 0. Validation rows n: MNIST's 60,000 training images less the last n are trained on, those n pick the best
# epoch (10,000: the usual 50,000 / 10,000 split; Hinton & Salakhutdinov trained on all 60,000).
MNIST_30D = "test squared error per image"
RECIPES = {
    "conv30": (
        ModelConfig(arch="conv", widths=(32, 64), latent_dim=30),
        TrainConfig(epochs=70, lr=4e-3, batch_size=128),
        900,
        2.50,
        MNIST_30D,
        1000,
    ),
    "hinton": (
        ModelConfig(widths=(1000, 500, 250), latent_dim=30, loss="mse"),
        TrainConfig(epochs=180, lr=1e-3, precision="bf16"),
        900,
        3.00,
        MNIST_30D,
        1000,
    ),
    "vae": (
        ModelConfig(model="vae", widths=(512, 512), latent_dim=32, binarize=True),
        TrainConfig(epochs=560, lr=1e-3, precision="bf16"),
        1800,
        86.76,
        "test NLL, nats",
        10_000,
    ),
    "iwae": (
        ModelConfig(model="vae", widths=(512, 512), latent_dim=32, binarize=True, iw_samples=5),
        TrainConfig(epochs=400, lr=1e-3, precision="bf16"),
        3600,
        85.5,
        "test NLL, nats",
        10_000,
    ),
}
IMPORTANCE_SAMPLES = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--lr", type=float, help="override the recipe's learning rate")
    parser.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    parser.add_argument("--validation-rows", type=int, help="override the recipe's held-out training images")
    args = parser.parse_args()
    config, training, budget, target, quality, validation_rows = RECIPES[args.recipe]
    validation_rows = args.validation_rows or validation_rows
    training = replace(
        training,
        epochs=args.epochs or training.epochs,
        lr=args.lr or training.lr,
        batch_size=args.batch_size or training.batch_size,
        seed=0,
        progress=False,
    )

    start = time.perf_counter()
    trained = train(load_mnist(validation_rows=validation_rows), config, training)
    train_seconds = time.perf_counter() - start
    curve = [round(e["val_loss"], 3) for e in trained.history.epochs]
    print(
        f"{args.recipe}: {training.epochs} epochs at lr {training.lr:g}, batch {training.batch_size} "
        f"({training.precision}) on "
        f"{len(trained.dataset.x_train):,} images in {train_seconds:.0f} s; validation loss per epoch:"
    )
    print(curve)

    start = time.perf_counter()
    x_train, x_test = (trained.scaling.transform(x) for x in (trained.dataset.x_train, trained.dataset.x_test))
    if config.model == "vae":
        bounds = vae_bounds(trained.model, binarize(x_test, seed=0), importance_samples=IMPORTANCE_SAMPLES, seed=0)
        measured = {"nll": round(bounds["nll"], 3), "elbo": round(bounds["elbo"], 3)}
        value = bounds["nll"]
    else:
        errors = compare_with_pca(trained.model, x_train, x_test, config.latent_dim)
        measured = {
            "test_error_per_image": round(errors["squared_error_per_sample"], 3),
            "pca_error_per_image": round(errors["pca_squared_error_per_sample"], 3),
        }
        value = errors["squared_error_per_sample"]
    measure_seconds = time.perf_counter() - start
    met = value <= target and train_seconds <= budget
    print(
        f"{quality}: {value:.3f} (target ≤ {target}) after {train_seconds:.0f} s of training "
        f"(budget {budget} s): {'met' if met else 'missed'}; measured in {measure_seconds:.0f} s"
    )
    result = {
        "recipe": args.recipe,
        "model": config.to_dict(),
        "training": training.to_dict(),
        "train_rows": len(trained.dataset.x_train),
        "validation_rows": len(trained.dataset.x_val),
        "train_seconds": round(train_seconds, 1),
        "budget_seconds": budget,
        "target": target,
        **measured,
        "measure_seconds": round(measure_seconds, 1),
        "best_epoch": trained.history.best_epoch,
        "met": met,
        "val_loss_per_epoch": curve,
    }
    out = Path("bench-output") / f"time-to-quality-{args.recipe}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
