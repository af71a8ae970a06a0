"""MNIST one-class novelty detection: train on one digit's training images, score the whole test set, and measure
the ROC-AUC of that digit (normal) against all others (novel). A benchmark, not a test.

Side by side, in one run, on the same data:
  hourglass-mlp   hourglass.sklearn.AutoencoderOutlierDetector (MLP 784-256-64-8, Bernoulli cross-entropy)
  hourglass-conv  hourglass's conv autoencoder (1×28×28 → 32 → 64 channels → 16-d code), through the Python API
  pyod-ae         PyOD's AutoEncoder (its defaults, with the same number of epochs as hourglass-mlp)
  iforest         scikit-learn's IsolationForest (defaults)
Scores are "higher = more normal" for every method. Prints the per-digit table and the means; the last line is
one JSON object.

    .venv/bin/pip install -e '.[bench]'   # PyOD (make bench does this)
    .venv/bin/python bench/anomaly.py [--digits 0,1,...] [--epochs 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import hourglass as hg
from hourglass.metrics import squared_errors
from hourglass.sklearn import AutoencoderOutlierDetector
from hourglass.workflow import ModelConfig, train


def hourglass_mlp(x_train, x_test, epochs, seed):
    detector = AutoencoderOutlierDetector(
        latent_dim=8, hidden_widths=(256, 64), loss="bce", epochs=epochs, batch_size=64, random_state=seed
    ).fit(x_train)
    return detector.score_samples(x_test)


def hourglass_conv(x_train, x_test, epochs, seed):
    n_val = len(x_train) // 10
    data = hg.Dataset("one-digit", x_train[n_val:], x_train[:n_val], x_test, shape=(1, 28, 28))
    trained = train(
        data,
        ModelConfig(arch="conv", latent_dim=16),
        hg.TrainConfig(epochs=epochs, batch_size=64, seed=seed, progress=False),
    )
    return -squared_errors(x_test, hg.reconstruct(trained.model, x_test))


def pyod_autoencoder(x_train, x_test, epochs, seed):
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(epoch_num=epochs, random_state=seed, verbose=0).fit(x_train)
    return -model.decision_function(x_test)  # PyOD: higher = more abnormal


def isolation_forest(x_train, x_test, epochs, seed):
    return IsolationForest(random_state=seed).fit(x_train).score_samples(x_test)


METHODS = {
    "hourglass-mlp": hourglass_mlp,
    "hourglass-conv": hourglass_conv,
    "pyod-ae": pyod_autoencoder,
    "iforest": isolation_forest,
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    data = hg.load_mnist()
    digits = [int(d) for d in args.digits.split(",")]
    auc: dict[str, dict[int, float]] = {m: {} for m in METHODS}
    seconds: dict[str, float] = {m: 0.0 for m in METHODS}
    print("digit  " + "  ".join(f"{m:>14}" for m in METHODS), flush=True)
    for digit in digits:
        x_train = data.x_train[data.y_train == digit]
        normal = data.y_test == digit
        for name, method in METHODS.items():
            started = time.perf_counter()
            scores = method(x_train, data.x_test, args.epochs, args.seed)
            seconds[name] += time.perf_counter() - started
            auc[name][digit] = float(roc_auc_score(normal, scores))
        print(f"{digit:>5}  " + "  ".join(f"{auc[m][digit]:>14.4f}" for m in METHODS), flush=True)
    means = {m: float(np.mean(list(auc[m].values()))) for m in METHODS}
    print(" mean  " + "  ".join(f"{means[m]:>14.4f}" for m in METHODS))
    best_hourglass = max(means["hourglass-mlp"], means["hourglass-conv"])
    print(
        json.dumps(
            {
                "benchmark": "anomaly",
                "digits": digits,
                "epochs": args.epochs,
                "seed": args.seed,
                "mean_auc": means,
                "auc": auc,
                "seconds": {m: round(s) for m, s in seconds.items()},
                "hourglass_best_mean_auc": best_hourglass,
                "passed": bool(
                    best_hourglass >= 0.93 and best_hourglass > means["pyod-ae"] and best_hourglass > means["iforest"]
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
