"""bf16 against fp32 on this CPU: training speed and final test quality of the demo model and of a VAE.

  demo  the MLP hourglass 784-256-64-16-4, Bernoulli cross-entropy, 40 epochs at lr 3e-3 (``make demo``'s k = 4
        model, trained as the demo was before it took 15 epochs at 1e-2); quality: MNIST test squared error per
        image
  vae   784-512-512-32 VAE on dynamically binarised MNIST, 20 epochs; quality: the ELBO of the binarised test set
        (nats, higher is better)
Each model is trained once per precision from the same seed (``--precision fp32`` and ``--precision bf16``:
autocast to bfloat16 in the forward pass, losses in fp32), one after the other, nothing else running. samples/s
counts training steps only (the mean over epochs of the history's seconds, validation included).
The last line is one JSON object.

    .venv/bin/python bench/precision.py [--demo-epochs 40] [--vae-epochs 20] [--only demo|vae]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from hourglass.metrics import reconstruct, reconstruction_errors, vae_bounds
from hourglass.scaling import binarize
from hourglass.training.loop import TrainConfig
from hourglass.workflow import ModelConfig, train


def run(name: str, config: ModelConfig, epochs: int, precision: str, lr: float) -> dict:
    trained = train("mnist", config, TrainConfig(epochs=epochs, lr=lr, seed=0, progress=False, precision=precision))
    x_test = trained.scaling.transform(trained.dataset.x_test)
    seconds = sum(r["seconds"] for r in trained.history.epochs)
    result = {
        "precision": precision,
        "train_seconds": round(seconds, 1),
        "samples_per_s": round(len(trained.dataset.x_train) * epochs / seconds),
    }
    if name == "vae":  # the ELBO of a once-binarised test set (Burda et al. 2016)
        result["test_elbo"] = round(vae_bounds(trained.model, binarize(x_test, seed=0), seed=0)["elbo"], 3)
    else:
        errors = reconstruction_errors(x_test, reconstruct(trained.model, x_test))
        result["test_error_per_image"] = round(errors["squared_error_per_sample"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-epochs", type=int, default=40)
    parser.add_argument("--vae-epochs", type=int, default=20)
    parser.add_argument("--only", choices=["demo", "vae"], help="one of the two models")
    args = parser.parse_args()
    models = {
        "demo": (ModelConfig(latent_dim=4), args.demo_epochs, 3e-3),
        "vae": (ModelConfig(model="vae", widths=(512, 512), latent_dim=32, binarize=True), args.vae_epochs, 1e-3),
    }
    results = {}
    for name, (config, epochs, lr) in models.items():
        if args.only and name != args.only:
            continue
        rows = [run(name, config, epochs, p, lr) for p in ("fp32", "bf16")]
        quality = "test_elbo" if name == "vae" else "test_error_per_image"
        speedup = rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
        change = (rows[1][quality] - rows[0][quality]) / abs(rows[0][quality])
        for r in rows:
            print(f"{name:5} {r['precision']:5} {r['samples_per_s']:>8,} samples/s  {quality} {r[quality]}")
        print(f"{name:5} bf16 / fp32: {speedup:.2f}× the speed, {quality} {100 * change:+.2f} %")
        results[name] = {
            "fp32": rows[0],
            "bf16": rows[1],
            "speedup": round(speedup, 3),
            "quality_change": round(float(np.round(change, 5)), 5),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
