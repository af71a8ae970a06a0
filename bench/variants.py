"""Each variant's defining property, measured on the MNIST test set (a benchmark, not a test).

    .venv/bin/python bench/variants.py [--only dae,sae,cae,vae] [--out bench-output/variants] [--seed 0]

  dae  PSNR(clean, model(x̃)) of a denoising AE vs the plain AE of the same architecture and budget, for Gaussian
       noise σ = 0.5 and masking noise p = 0.5 (criteria: DAE ≥ AE + 1 dB, and DAE > PSNR(clean, x̃)).
  sae  an overcomplete (1,000-unit) ReLU code with three L1 weights: fraction of exactly-zero activations and
       mean active units (criteria: sparsity rises with λ; at the recommended λ ≥ 90 % zeros and test error below
       PCA's with k = the mean number of active units).
  cae  mean ‖J_f(x)‖_F and test error, contractive vs plain AE of the same architecture (criteria: ≤ 0.5× the
       Jacobian norm at ≤ 1.5× the error).
  vae  a 2×512-unit, 32-d MLP VAE on dynamically binarised MNIST, then the test NLL bound with K = 1,000
       importance samples on the test set binarised once with seed 0 (criterion: ≤ 90 nats), its ELBO, and a
       grid of prior samples.
Prints a line per result and, last, one JSON object with every figure and verdict.
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import pairwise
from pathlib import Path

import hourglass as hg
from hourglass.corruptions import parse_noise
from hourglass.data import binarize
from hourglass.metrics import code_sparsity, corrupt, encode, mean_jacobian_norm, psnr, reconstruct, vae_bounds
from hourglass.report import image_grid
from hourglass.workflow import PRESETS, ModelConfig, train

RESULTS: dict = {}


def log(name: str, **figures) -> None:
    RESULTS[name] = figures
    print(
        f"{name}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()),
        flush=True,
    )


def fit(data, out: Path, seed: int, epochs: int, **model) -> tuple:
    started = time.perf_counter()
    trained = train(
        data, ModelConfig(**model), hg.TrainConfig(epochs=epochs, seed=seed, progress=False), out=out, overwrite=True
    )
    return trained.model, time.perf_counter() - started


def bench_dae(data, out, seed, epochs):
    arch = dict(widths=(512, 256), latent_dim=32)
    plain, _ = fit(data, out / "dae-plain", seed, epochs, **arch)
    x = data.x_test
    for spec in ("gaussian:0.5", "mask:0.5"):
        dae, seconds = fit(data, out / f"dae-{spec.replace(':', '-')}", seed, epochs, model="dae", noise=spec, **arch)
        noisy = corrupt(parse_noise(spec), x, seed=seed)
        p_noisy, p_ae, p_dae = psnr(x, noisy), psnr(x, reconstruct(plain, noisy)), psnr(x, reconstruct(dae, noisy))
        log(
            f"dae {spec}",
            psnr_corrupted=p_noisy,
            psnr_plain_ae=p_ae,
            psnr_dae=p_dae,
            gain_db=p_dae - p_ae,
            train_seconds=round(seconds),
            passed=bool(p_dae >= p_ae + 1 and p_dae > p_noisy),
        )
        image_grid(
            [
                ("clean", x[:10]),
                ("corrupted", noisy[:10]),
                ("plain AE", reconstruct(plain, noisy[:10])),
                ("DAE", reconstruct(dae, noisy[:10])),
            ],
            data.shape,
            out / f"dae-{spec.replace(':', '-')}.png",
        )


def bench_sae(data, out, seed, epochs, lambdas=(0.01, 0.1, 0.5)):
    sparsity = []
    for lam in lambdas:
        model, seconds = fit(
            data, out / f"sae-{lam:g}", seed, epochs, model="sae", widths=(512,), latent_dim=1000, l1=lam
        )
        sp = code_sparsity(encode(model, data.x_test))
        err = hg.reconstruction_errors(data.x_test, reconstruct(model, data.x_test))["squared_error_per_sample"]
        k = max(1, int(round(sp["mean_active"])))
        pca = hg.PCABaseline(k).fit(data.x_train).squared_error_per_sample(data.x_test)
        sparsity.append(sp["zero_fraction"])
        log(
            f"sae l1={lam:g}",
            zero_fraction=sp["zero_fraction"],
            mean_active=sp["mean_active"],
            squared_error_per_sample=err,
            pca_at_mean_active=pca,
            train_seconds=round(seconds),
            recommended=bool(lam == PRESETS["sae"]["l1"]),
        )
    recommended = RESULTS[f"sae l1={PRESETS['sae']['l1']:g}"]
    log(
        "sae verdict",
        monotone=bool(all(a < b for a, b in pairwise(sparsity))),
        zeros_at_recommended=recommended["zero_fraction"],
        beats_pca_at_recommended=bool(recommended["squared_error_per_sample"] < recommended["pca_at_mean_active"]),
        passed=bool(
            all(a < b for a, b in pairwise(sparsity))
            and recommended["zero_fraction"] >= 0.9
            and recommended["squared_error_per_sample"] < recommended["pca_at_mean_active"]
        ),
    )


def bench_cae(data, out, seed, epochs):
    figures = {}
    for variant in ("ae", "cae"):
        model, seconds = fit(data, out / f"cae-{variant}", seed, epochs, model=variant)
        err = hg.reconstruction_errors(data.x_test, reconstruct(model, data.x_test))["squared_error_per_sample"]
        figures[variant] = (mean_jacobian_norm(model, data.x_test), err, seconds)
    (j_ae, e_ae, _), (j_cae, e_cae, s_cae) = figures["ae"], figures["cae"]
    log(
        "cae",
        jacobian_norm_plain_ae=j_ae,
        jacobian_norm_cae=j_cae,
        jacobian_ratio=j_cae / j_ae,
        error_plain_ae=e_ae,
        error_cae=e_cae,
        error_ratio=e_cae / e_ae,
        lambda_=PRESETS["cae"]["contractive"],
        train_seconds=round(s_cae),
        passed=bool(j_cae / j_ae <= 0.5 and e_cae / e_ae <= 1.5),
    )


def bench_vae(data, out, seed, epochs, lr, importance_samples):
    started = time.perf_counter()
    trained = train(
        data,
        ModelConfig(model="vae", widths=(512, 512), latent_dim=32, binarize=True),
        hg.TrainConfig(epochs=epochs, lr=lr, seed=seed, progress=False),
        out=out / "vae",
        overwrite=True,
    )
    seconds = time.perf_counter() - started
    x_test = binarize(data.x_test, seed=0)
    bounds = vae_bounds(trained.model, x_test, importance_samples=importance_samples, seed=seed)
    import torch

    samples = trained.model.sample(64, torch.Generator().manual_seed(seed)).numpy()
    image_grid(
        [("", samples[i : i + 8]) for i in range(0, 64, 8)],
        data.shape,
        out / "vae-samples.png",
        title="VAE: decoded z ~ N(0, I)",
    )
    log(
        "vae",
        test_nll=bounds["nll"],
        test_elbo=bounds["elbo"],
        importance_samples=importance_samples,
        epochs=epochs,
        train_seconds=round(seconds),
        eval_seconds=round(time.perf_counter() - started - seconds),
        passed=bool(bounds["nll"] <= 90 and seconds <= 600),
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="dae,sae,cae,vae")
    p.add_argument("--out", default="bench-output/variants")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20, help="epochs for the dae, sae and cae models (default 20)")
    p.add_argument("--vae-epochs", type=int, default=150)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--importance-samples", type=int, default=1000)
    args = p.parse_args()
    out = Path(args.out)
    data = hg.load_mnist()
    started = time.perf_counter()
    for name in args.only.split(","):
        if name == "dae":
            bench_dae(data, out, args.seed, args.epochs)
        elif name == "sae":
            bench_sae(data, out, args.seed, args.epochs)
        elif name == "cae":
            bench_cae(data, out, args.seed, args.epochs)
        elif name == "vae":
            bench_vae(data, out, args.seed, args.vae_epochs, args.vae_lr, args.importance_samples)
        else:
            raise SystemExit(f"unknown part {name!r}")
    print(
        json.dumps(
            {
                "benchmark": "variants",
                "seed": args.seed,
                "seconds": round(time.perf_counter() - started),
                "results": RESULTS,
            }
        )
    )


if __name__ == "__main__":
    main()
