"""Which network learns to denoise in the time these 2 cores have: short side-by-side pilots of the candidates the
built-in denoiser was chosen from, on the training photos (bench/photo_sets.py; the last one held out).

Each candidate cleans 64×64 patches with noise σ ~ U[0, 50]/255, told σ as an input map, predicting the noise
(x̂ = x̃ − g(f(x̃))), trained for the same number of steps (batch 32, Adam at 1e-3 after a 50-step warm-up, bf16
autocast where the CPU has it):

- ``half, default init``: pixel unshuffle to half resolution, 16 convs of 64 channels, SiLU (FFDNet's layout),
  PyTorch's default initialisation;
- ``half, He init``: the same, He et al. (2015)'s initialisation (the built-in model);
- ``half, He init + batch norm``: DnCNN's batch normalisation between the hidden convs;
- ``half, He init, dilated``: 3×3 convs dilated 1, 2, 3, 4, 3, 2, 1, … (IRCNN, Zhang et al. 2017): a wider
  receptive field for the same work;
- ``full resolution, He init``: DnCNN's layout, 17 convs of 64 channels on the pixels themselves.

    .venv/bin/python bench/denoise_networks.py [--steps 250]

Prints, for each, the held-out squared error per patch after the steps and the patches per second; the last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from photo_sets import TRAIN, grey, photo
from torch import nn

PATCH, BATCH, SIGMA_MAX = 64, 32, 50 / 255


def network(layout: str) -> nn.Module:
    half = layout != "full"
    convs = 16 if half else 17
    channels_in = 8 if half else 2  # the image's (unshuffled) channels and σ's
    dilations = [1, 2, 3, 4, 3, 2, 1] * 3 if layout == "dilated" else [1] * convs
    layers: list[nn.Module] = [nn.PixelUnshuffle(2)] if half else []
    width = channels_in
    for i in range(convs - 1):
        d = dilations[i] if 0 < i < convs - 1 else 1
        layers += [nn.Conv2d(width, 64, 3, padding=d, dilation=d)]
        layers += [nn.BatchNorm2d(64)] if layout == "bn" and i > 0 else []
        layers += [nn.SiLU()]
        width = 64
    layers += [nn.Conv2d(64, 4 if half else 1, 3, padding=1)] + ([nn.PixelShuffle(2)] if half else [])
    model = nn.Sequential(*layers)
    if layout != "default":
        for conv in (m for m in model if isinstance(m, nn.Conv2d)):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
    return model


def patches(images: list[torch.Tensor], n: int, generator: torch.Generator) -> torch.Tensor:
    out = []
    for _ in range(n):
        image = images[int(torch.randint(len(images), (1,), generator=generator))]
        y = int(torch.randint(image.shape[0] - PATCH, (1,), generator=generator))
        x = int(torch.randint(image.shape[1] - PATCH, (1,), generator=generator))
        out.append(image[y : y + PATCH, x : x + PATCH])
    return torch.stack(out)[:, None]


def told(x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(x̃ beside its σ map, x̃)."""
    sigma = torch.rand(len(x), 1, 1, 1, generator=generator) * SIGMA_MAX
    noisy = x + sigma * torch.randn(x.shape, generator=generator)
    return torch.cat([noisy, sigma.expand_as(noisy)], dim=1), noisy


def pilot(layout: str, steps: int, images, held_out, bf16: bool) -> dict:
    torch.manual_seed(0)
    model = network(layout)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    g_train, g_val = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    val_clean = patches([held_out], 256, g_val)
    val_in, val_noisy = told(val_clean, g_val)
    started = time.perf_counter()
    for step in range(steps):
        x = patches(images, BATCH, g_train)
        inputs, noisy = told(x, g_train)
        for group in optimizer.param_groups:
            group["lr"] = 1e-3 * min(1.0, (step + 1) / 50)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            noise = model(inputs)
        loss = ((noisy - noise.float() - x) ** 2).sum() / BATCH
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        error = float(((val_noisy - model(val_in) - val_clean) ** 2).sum() / len(val_clean))
    noisy_error = float(((val_noisy - val_clean) ** 2).sum() / len(val_clean))
    return {"val_error": error if np.isfinite(error) else None, "noisy_error": noisy_error,
            "patches_per_s": steps * BATCH / seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--only", help="some of the layouts, by key: default,he,bn,dilated,full")
    args = parser.parse_args()
    from hourglass.devices import native_bf16

    bf16 = native_bf16(torch.device("cpu"))
    images = [torch.tensor(grey(photo(n)), dtype=torch.float32) for n in TRAIN[:-1]]
    held_out = torch.tensor(grey(photo(TRAIN[-1])), dtype=torch.float32)
    names = {"default": "half, default init", "he": "half, He init", "bn": "half, He init + batch norm",
             "dilated": "half, He init, dilated", "full": "full resolution, He init"}  # fmt: skip
    results = {}
    chosen = args.only.split(",") if args.only else list(names)
    for layout, name in ((k, v) for k, v in names.items() if k in chosen):
        results[name] = pilot(layout, args.steps, images, held_out, bf16)
        r = results[name]
        error = "diverged" if r["val_error"] is None else f"{r['val_error']:.2f}"
        print(f"{name:>28}: held-out error {error} (noisy {r['noisy_error']:.2f}) per 64×64 patch after "
              f"{args.steps} steps, {r['patches_per_s']:.1f} patches/s", flush=True)  # fmt: skip
    print(json.dumps({"bench": "denoise_networks", "steps": args.steps, "bf16": bf16, "results": results}))


if __name__ == "__main__":
    main()
