"""Does a discrete code generate? An FSQ (or VQ) autoencoder on MNIST, an autoregressive prior over its 7 × 7 grid
of indices, and 10,000 decoded draws judged as claim 11 judges its samplers: the Fréchet distance and precision /
recall (k = 3) in the digit CNN's features against the test set, with the codes' usage and the test error.

    .venv/bin/python bench/discrete_prior.py [--quantizer fsq:8,5,5,5] [--epochs 15] [--prior-epochs 10]
        [--width 128] [--layers 4] [--precision fp32] [--temperatures 1.0,0.9] [--top-k 0,100]
        [--out bench-output/discrete] [--docs]

The trained autoencoder, its prior and the digit classifier are kept in ``--out`` (the claims lab's cache) and
reused, so that a sweep of temperatures and top-k values draws from one prior. Issue
35's targets: FD ≤ 66 and recall ≥ 0.580 (the VAE's), FSQ using ≥ 95 % of its codes, the prior trained in ≤ 15
minutes, 10,000 draws decoded in ≤ 120 s. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quantizer", default="fsq:8,5,5,5", help="fsq:L1,... or vq (the VQ-VAE of claim 11)")
    parser.add_argument("--epochs", type=int, default=15, help="the autoencoder's (claim 11's VQ-VAE: 15)")
    parser.add_argument("--prior-epochs", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--precision", default="fp32", help="the prior's training precision: fp32 or bf16")
    parser.add_argument("--temperatures", default="1.0", help="comma-separated sampling temperatures, each judged")
    parser.add_argument("--top-k", default="0", help="comma-separated top-k values (0: all codes), each judged")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench-output/discrete"))
    parser.add_argument("--docs", action="store_true", help="also write the record into docs/figures/bench")
    args = parser.parse_args()
    from hourglass.experiments import classifier as clf
    from hourglass.experiments.claims.codes import digit_classifier
    from hourglass.experiments.claims.generative import _prior, precision_recall
    from hourglass.experiments.lab import Lab
    from hourglass.metrics import codebook_usage, encode, reconstruct, squared_errors
    from hourglass.priors import grid_of
    from hourglass.priors.autoregressive import AutoregressivePrior, NextCodeObjective
    from hourglass.training.loop import TrainConfig
    from hourglass.variants import ModelConfig

    torch.manual_seed(0)
    lab = Lab(args.out, seed=0, progress=False)
    data = lab.mnist
    config = ModelConfig(model="vqvae") if args.quantizer == "vq" else ModelConfig(quantizer=args.quantizer)
    trained = lab.model(args.quantizer.replace(":", "-").replace(",", "."), config, args.epochs)
    model = trained.model.eval()
    usage = codebook_usage(model, data.x_test)
    test_error = float(squared_errors(data.x_test, reconstruct(model, data.x_test)).mean())
    print(f"{args.quantizer}: trained in {trained.train_seconds:.0f} s; test error {test_error:.3f}; codes used "
          f"{usage['codebook_used']} of {usage['codebook_entries']}, perplexity {usage['codebook_perplexity']:.1f}",
          flush=True)  # fmt: skip
    grids = [grid_of(model, encode(model, x)) for x in (data.x_train, data.x_val)]
    train_config = TrainConfig(epochs=args.prior_epochs, batch_size=128, lr=1e-3, seed=0, progress=True,
                               precision=args.precision)  # fmt: skip
    recipe = {"epochs": args.prior_epochs, "width": args.width, "layers": args.layers, "precision": args.precision}
    prior, prior_seconds = _prior(
        lab,
        "autoregressive",
        trained,
        lambda: AutoregressivePrior.fit(
            grids[0], model.quantizer.entries, 0, train_config, grids[1], width=args.width, layers=args.layers
        ),
        recipe,
    )
    with torch.no_grad():
        bits = NextCodeObjective()(prior.net(grids[1][:2000]), grids[1][:2000].long())[1]
    print(f"prior: trained in {prior_seconds:.0f} s; validation {float(bits['bits_per_grid']):.1f} bits per grid",
          flush=True)  # fmt: skip
    judge, _ = digit_classifier(lab)
    real = clf.features(judge, data.x_test)
    results = []
    for temperature in map(float, args.temperatures.split(",")):
        for top_k in map(int, args.top_k.split(",")):
            generator = torch.Generator().manual_seed(0)
            started = time.perf_counter()
            images = np.concatenate([
                model.decode(model.quantizer.codes(prior.sample(min(1000, args.draws - i), generator, temperature,
                                                                top_k or None))).detach().numpy()
                for i in range(0, args.draws, 1000)
            ])  # fmt: skip
            draw_seconds = time.perf_counter() - started
            images = np.clip(images, 0.0, 1.0)  # as claim 11 clips its samplers' draws
            feats = clf.features(judge, images)
            scores = {"frechet_distance": clf.frechet_distance(feats, real), **precision_recall(real, feats)}
            print(f"temperature {temperature}, top-k {top_k or 'all'}: FD {scores['frechet_distance']:.1f} (target "
                  f"<= 66), precision {scores['precision']:.3f}, recall {scores['recall']:.3f} (target >= 0.580); "
                  f"{args.draws:,} draws decoded in {draw_seconds:.1f} s", flush=True)  # fmt: skip
            results.append({"temperature": temperature, "top_k": top_k or None, "draw_seconds": draw_seconds,
                            **scores})  # fmt: skip
            from hourglass.report import image_grid

            name = args.quantizer.replace(":", "-").replace(",", ".")
            figure = args.out / f"draws-{name}-t{temperature}-k{top_k}.png"
            image_grid([("", images[i : i + 12]) for i in range(0, 72, 12)], data.shape, figure,
                       title=f"{args.quantizer} + autoregressive prior: decoded draws")  # fmt: skip
    record = {"bench": "discrete_prior", "args": {k: str(v) for k, v in vars(args).items()},
              "train_seconds": trained.train_seconds, "test_error": test_error, "usage": usage,
              "prior_seconds": prior_seconds, "bits_per_grid": float(bits["bits_per_grid"]),
              "samples": results}  # fmt: skip
    print(json.dumps(record))
    if args.docs:  # the benchmarks page's tables are generated from this record (docs/bench_tables.py)
        kind = "vq" if args.quantizer == "vq" else "fsq"
        (DOCS / "figures" / "bench" / f"discrete_prior-{kind}.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
