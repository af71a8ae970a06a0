"""Training the built-in denoiser as fast as the machine allows: patches per second of the grey built-in network
(16 convs of 64 channels at half resolution, told its noise level; 64×64 patches, batch 32, Adam), through
hourglass's ``fit`` and through a lean PyTorch loop of the same network, each in fp32 and in bf16 autocast, with
and without channels_last. One process, one configuration at a time, side by side: the figures are ratios of runs
measured minutes apart on the same machine.

    .venv/bin/python bench/denoise_throughput.py [--steps 30]

bf16 pays only where the CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX; Zen 4 has it, Zen 3 does not):
``hourglass.devices.native_bf16`` says which. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

PATCH, BATCH = 64, 32
SIGMA_MAX = 50 / 255


def network():
    from hourglass.models import Autoencoder
    from hourglass.nets import Architecture

    arch = Architecture("fcn", (1, PATCH, PATCH), (64,) * 7, 64 * (PATCH // 2) ** 2, noise_map=True)
    return Autoencoder.from_architecture(arch, "residual", seed=0)


def rows(n: int, seed: int = 0) -> torch.Tensor:
    """Photo-like rows: smooth random fields in [0, 1] (the speed does not depend on the pixels)."""
    rng = np.random.default_rng(seed)
    small = rng.random((n, 1, PATCH // 8, PATCH // 8)).astype(np.float32)
    big = torch.nn.functional.interpolate(torch.from_numpy(small), size=(PATCH, PATCH), mode="bilinear")
    return big.reshape(n, -1)


def lean(steps: int, bf16: bool, channels_last: bool) -> float:
    """Patches per second of a plain loop: draw σ and noise, one forward, the summed squared error, Adam."""
    model = network()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    data = rows(BATCH * steps)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(0)

    def step(x):
        sigma = torch.rand(len(x), 1, generator=generator) * SIGMA_MAX
        noisy = x + sigma * torch.randn(x.shape, generator=generator)
        inputs = torch.cat([noisy, sigma.expand(len(x), PATCH * PATCH)], dim=1)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out = model(inputs)
        loss = ((out.decoded.float() - x) ** 2).sum(1).mean()  # residual: decoded is x̃ − g(f(x̃))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for x in data[: 3 * BATCH].split(BATCH):  # warm-up: oneDNN picks its kernels
        step(x)
    started = time.perf_counter()
    for x in data.split(BATCH):
        step(x)
    return len(data) / (time.perf_counter() - started)


def through_fit(steps: int, bf16: bool, channels_last: bool) -> float:
    """Patches per second of hourglass's ``fit`` on the same rows and network (its epoch's training time)."""
    from hourglass.corruptions import GaussianNoise
    from hourglass.losses import Objective
    from hourglass.training.loop import TrainConfig, fit

    model = network()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    objective = Objective("mse", GaussianNoise(0.0, sigma_max=SIGMA_MAX), noise_map=PATCH * PATCH)
    config = TrainConfig(epochs=2, batch_size=BATCH, lr=1e-3, seed=0, progress=False,
                         precision="bf16" if bf16 else "fp32")  # fmt: skip
    history = fit(model, objective, rows(BATCH * steps), rows(BATCH, seed=1), config)
    return float(history.epochs[-1]["samples_per_s"])  # the second epoch: kernels chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per configuration")
    args = parser.parse_args()
    from hourglass.devices import native_bf16

    results = {}
    for bf16 in (False, True):
        for channels_last in (False, True):
            name = f"{'bf16' if bf16 else 'fp32'}{' channels_last' if channels_last else ''}"
            results[name] = {"lean": lean(args.steps, bf16, channels_last),
                             "hourglass": through_fit(args.steps, bf16, channels_last)}  # fmt: skip
            r = results[name]
            print(f"{name:>20}: lean {r['lean']:6.1f} patches/s, hourglass fit {r['hourglass']:6.1f} "
                  f"({r['hourglass'] / r['lean']:.2f} of lean)", flush=True)  # fmt: skip
    base = results["fp32"]["lean"]
    speedups = {k: {w: v / base for w, v in r.items()} for k, r in results.items()}
    print(json.dumps({"bench": "denoise_throughput", "native_bf16": native_bf16(torch.device("cpu")),
                      "threads": torch.get_num_threads(), "patches_per_s": results,
                      "speedup_over_lean_fp32": speedups}))  # fmt: skip


if __name__ == "__main__":
    main()
