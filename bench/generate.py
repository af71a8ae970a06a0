"""Generation speed, per sampler: samples/s of 10,000 decoded MNIST images (drawn and decoded 1,000 at a time), and
the seconds to fit each prior — measured here, side by side, on this machine.

The models are claim 11's (``hourglass claims --only 11 --out DIR``, or ``make claims``): the plain 16-d AE and the
VAE of claim 7 (the discrete codes' autoregressive priors are timed by ``bench/discrete_prior.py``). With
``--refit`` the priors are fitted again here with claim 11's recipe (the diffusion prior's epochs: ``--epochs``), so
their training time is this run's; without it, the priors claim 11 saved are used and their training time is the
one it recorded. The last line is one JSON object.

    .venv/bin/python bench/generate.py [--claims-out claims-output] [--refit [--epochs 60]]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from hourglass.data import load_mnist
from hourglass.experiments.lab import FULL
from hourglass.metrics import encode
from hourglass.priors import DiffusionPrior, GaussianPrior, MixturePrior
from hourglass.priors.saved import load_prior
from hourglass.store import checkpoint as ckpt
from hourglass.training.loop import TrainConfig

N, BATCH = 10_000, 1_000


def rate(draw) -> float:
    """Samples per second of ``draw(n, generator) -> images``, for N samples in batches of BATCH."""
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for _ in range(0, N, BATCH):
        draw(BATCH, generator)
    return N / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims-out", type=Path, default=Path("claims-output"))
    parser.add_argument("--refit", action="store_true", help="fit the priors again here, and time it")
    parser.add_argument("--epochs", type=int, default=FULL.prior_epochs, help="the diffusion prior's epochs")
    args = parser.parse_args()
    models = args.claims_out / "models"
    missing = [m for m in ("ae-ref", "vae-ref") if not (models / m).exists()]
    if missing:
        print(f"no {', '.join(missing)} in {models}: run `hourglass claims --only 11 --out {args.claims_out}` first")
        return 2
    loaded = {m: ckpt.load(models / m) for m in ("ae-ref", "vae-ref")}
    ae, vae = (c.model.eval() for c in loaded.values())
    data = load_mnist()
    config = TrainConfig(epochs=args.epochs, batch_size=512, lr=1e-3, seed=0, progress=False)
    fitted, seconds = {}, {}
    for name, model, kind in [("ae", ae, "gmm"), ("ae", ae, "diffusion")]:
        checkpoint = loaded["ae-ref"]
        if not args.refit:
            fitted[name, kind] = load_prior(checkpoint, kind)
            record = json.loads((checkpoint.path / "priors" / f"{kind}.json").read_text())
            seconds[f"{name}+{kind}"] = record["fit_seconds"]
            continue
        codes, val = encode(model, data.x_train), encode(model, data.x_val)
        started = time.perf_counter()
        fitted[name, kind] = (
            MixturePrior.fit(codes, 0) if kind == "gmm" else DiffusionPrior.fit(codes, 0, config, val_codes=val)
        )
        seconds[f"{name}+{kind}"] = time.perf_counter() - started
        print(f"fitted {kind} on the {name} codes in {seconds[f'{name}+{kind}']:.1f} s", file=sys.stderr)
    started = time.perf_counter()
    gaussian = GaussianPrior.fit(encode(ae, data.x_train))
    seconds["ae+gaussian"] = time.perf_counter() - started

    def decoded(model, prior):
        return lambda n, g: model.decode(prior.sample(n, g)).detach()

    with torch.inference_mode():
        samplers = {
            "AE + N(0, I)": lambda n, g: ae.sample(n, g),
            "AE + fitted Gaussian": decoded(ae, gaussian),
            "AE + GMM": decoded(ae, fitted["ae", "gmm"]),
            "AE + latent diffusion (50 DDIM steps)": decoded(ae, fitted["ae", "diffusion"]),
            "VAE + N(0, I)": lambda n, g: vae.sample(n, g),
        }
        rates = {name: rate(draw) for name, draw in samplers.items()}
    print(f"{'sampler':44} {'samples/s':>10} {'s / 10,000':>11}")
    for name, r in rates.items():
        print(f"{name:44} {r:10,.0f} {N / r:11.2f}")
    print("prior fitting, seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    print(json.dumps({"samples_per_s": rates, "fit_seconds": seconds, "n": N, "batch": BATCH, "refit": args.refit}))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
