"""The PCA link, measured: a linear autoencoder with squared error on centred MNIST learns PCA's subspace.

    .venv/bin/python bench/pca_link.py [--k 16] [--epochs 30] [--seed 0]

Prints the test errors (linear AE vs PCA at the same k), the principal angles between the decoder's column space
and the top-k principal components, how far the decoder's columns are from orthonormal, and how well the
components are recovered from the weights by an SVD; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json

import hourglass as hg
from hourglass.experiments import linear_autoencoder_vs_pca


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    data = hg.load_mnist()
    result = linear_autoencoder_vs_pca(data, args.k, hg.TrainConfig(epochs=args.epochs, seed=args.seed, progress=False))
    for unserialisable in ("model", "pca", "recovered_components"):
        result.pop(unserialisable)
    print(
        f"test squared error per image: linear AE {result['squared_error_per_sample']:.4f}, PCA "
        f"{result['pca_squared_error_per_sample']:.4f} (ratio {result['ratio_to_pca']:.5f})"
    )
    print(
        f"principal angles to PCA's top-{args.k}: mean {result['mean_angle_deg']:.3f}°, "
        f"max {result['max_angle_deg']:.3f}°"
    )
    print(
        f"decoder columns ‖WᵀW − I‖_F/√k = {result['orthonormality_error']:.2f} (not orthonormal); components "
        f"recovered by SVD: min |cos| {result['min_recovered_cosine']:.6f}"
    )
    print(json.dumps({"benchmark": "pca_link", "seed": args.seed, "epochs": args.epochs, **result}))


if __name__ == "__main__":
    main()
