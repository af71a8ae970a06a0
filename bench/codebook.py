"""What each rule of the VQ-VAE's codebook buys: k-means initialisation, a cosine (l2-normalised) lookup, restarts
of entries whose moving average of use falls low, and a low-dimensional lookup — each left out in turn from a
VQ-VAE with all of them (MNIST, conv, 7 × 7 grid, K = 128, 15 epochs, seed 0; the default leaves out the cosine
lookup), and all left out together.

    .venv/bin/python bench/codebook.py [--epochs 15] [--out bench-output/codebook] [--docs]

For each: the codebook's perplexity and the entries used on the test set (issue 35's target: perplexity ≥ K/2 =
64), the test error (squared, summed over pixels; target ≤ 1.25 × claim 3's conv pair, 2.90) and the training
seconds. The trained models are kept in ``--out`` (the claims lab's cache). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"

RULES = {"codebook_init": "kmeans", "codebook_lookup": "cosine", "codebook_restart": True}  # all rules on
VARIANTS = {  # name → (the lab's folder, ModelConfig options beside model="vqvae"), every rule stated
    "k-means, cosine lookup, restarts": ("vq-0", RULES),
    "without k-means (drawn vectors)": ("vq-1", RULES | {"codebook_init": "batch"}),
    "without the cosine lookup (the default)": ("vq-2", RULES | {"codebook_lookup": "euclidean"}),
    "without restarts": ("vq-3", RULES | {"codebook_restart": False}),
    "all rules, 8 numbers per position": ("vq-4", RULES | {"latent_dim": 7 * 7 * 8}),
    "none of them": ("vq-5", {"codebook_init": "batch", "codebook_lookup": "euclidean", "codebook_restart": False}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=Path("bench-output/codebook"))
    parser.add_argument("--docs", action="store_true", help="also write the record into docs/figures/bench")
    args = parser.parse_args()
    from hourglass.experiments.lab import Lab
    from hourglass.metrics import codebook_usage, reconstruct, squared_errors
    from hourglass.variants import ModelConfig

    lab = Lab(args.out, seed=0, progress=False)
    data, rows = lab.mnist, []
    for name, (folder, options) in VARIANTS.items():
        trained = lab.model(folder, ModelConfig(model="vqvae", **options), args.epochs)
        usage = codebook_usage(trained.model.eval(), data.x_test)
        error = float(squared_errors(data.x_test, reconstruct(trained.model, data.x_test)).mean())
        rows.append({"variant": name, "options": options, **usage, "test_error": error,
                     "train_seconds": trained.train_seconds})  # fmt: skip
        print(
            f"{name}: perplexity {usage['codebook_perplexity']:.1f}, used {usage['codebook_used']} of "
            f"{usage['codebook_entries']}, test error {error:.3f}, {trained.train_seconds:.0f} s",
            flush=True,
        )
    record = {"bench": "codebook", "epochs": args.epochs, "variants": rows}
    print(json.dumps(record))
    if args.docs:  # the benchmarks page's table is generated from this record (docs/bench_tables.py)
        (DOCS / "figures" / "bench" / "codebook.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
