"""Training throughput (samples/s) of hourglass's trainer vs two plain PyTorch loops, side by side in one process.

Model: the MLP hourglass 784-256-64-16-4 (and back), Bernoulli cross-entropy, Adam, batch 256, MNIST train split.
  hourglass   hourglass.fit (progress off, no checkpoint folder)
  lean        a plain loop slicing one tensor by a per-epoch permutation, default (for-each) Adam
  dataloader  a plain loop over TensorDataset + DataLoader(shuffle=True), default Adam
  lean_fused  the lean loop with Adam(fused=True), as hourglass uses: what is left is the trainer's own overhead
This machine's speed drifts over minutes, so the loops take turns epoch by epoch (round r runs one epoch of each, in
a rotating order) and the figures are medians over rounds of per-round ratios. The last line is one JSON object.

    .venv/bin/python bench/train_throughput.py [--rounds 7] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

import hourglass as hg
from hourglass.losses import bernoulli_cross_entropy_per_sample


def build(seed: int) -> hg.Autoencoder:
    return hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (256, 64, 16), 4), "sigmoid", seed=seed)


def hourglass_epoch(model, x, x_val, batch_size, seed):
    config = hg.TrainConfig(epochs=1, batch_size=batch_size, seed=seed, progress=False)
    started = time.perf_counter()
    hg.fit(model, hg.Objective("bce"), x, x_val, config)  # includes its validation pass, as a real epoch does
    return time.perf_counter() - started


def plain_epoch(model, opt, batches, x_val):
    """What a hand-written PyTorch loop does: one step per batch, then a validation pass."""
    started = time.perf_counter()
    model.train()
    for batch in batches:
        loss = bernoulli_cross_entropy_per_sample(model(batch).decoded, batch).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        model.eval()
        bernoulli_cross_entropy_per_sample(model(x_val).decoded, x_val).mean().item()
    return time.perf_counter() - started


def lean_batches(x, batch_size, generator):
    """Slices of one tensor by a fresh permutation (what hourglass does, without its trainer)."""
    order = torch.randperm(len(x), generator=generator)
    return (x[order[i:i + batch_size]] for i in range(0, len(x), batch_size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = hg.load_mnist()
    x, x_val = torch.as_tensor(data.x_train), torch.as_tensor(data.x_val)
    n = len(x)
    ours, lean, plain, fused = (build(args.seed) for _ in range(4))
    lean_opt, plain_opt = torch.optim.Adam(lean.parameters(), 3e-3), torch.optim.Adam(plain.parameters(), 3e-3)
    fused_opt = torch.optim.Adam(fused.parameters(), 3e-3, fused=True)
    g = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(x), batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    runners = {
        "hourglass": lambda r: hourglass_epoch(ours, x, x_val, args.batch_size, args.seed + r),
        "lean": lambda r: plain_epoch(lean, lean_opt, lean_batches(x, args.batch_size, g), x_val),
        "dataloader": lambda r: plain_epoch(plain, plain_opt, (b for (b,) in loader), x_val),
        "lean_fused": lambda r: plain_epoch(fused, fused_opt, lean_batches(x, args.batch_size, g), x_val),
    }
    for run in runners.values():  # warm-up epoch each, not timed
        run(0)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            rates[name].append(n / runners[name](r + 1))
        print(f"round {r + 1}: " + "  ".join(f"{k} {rates[k][-1]:,.0f}/s" for k in names), flush=True)
    ratio_lean = statistics.median(a / b for a, b in zip(rates["hourglass"], rates["lean"]))
    ratio_loader = statistics.median(a / b for a, b in zip(rates["hourglass"], rates["dataloader"]))
    ratio_fused = statistics.median(a / b for a, b in zip(rates["hourglass"], rates["lean_fused"]))
    medians = {k: statistics.median(v) for k, v in rates.items()}
    print(f"median samples/s: hourglass {medians['hourglass']:,.0f}, lean loop {medians['lean']:,.0f}, "
          f"DataLoader loop {medians['dataloader']:,.0f}, lean loop with fused Adam {medians['lean_fused']:,.0f}")
    print(f"hourglass / lean loop = {ratio_lean:.3f}   hourglass / DataLoader loop = {ratio_loader:.3f}   "
          f"hourglass / lean loop with fused Adam = {ratio_fused:.3f}")
    print(json.dumps({"benchmark": "train_throughput", "model": "mlp 784-256-64-16-4", "batch_size": args.batch_size,
                      "rounds": args.rounds, "threads": torch.get_num_threads(),
                      "hourglass_samples_per_s": round(medians["hourglass"]),
                      "lean_samples_per_s": round(medians["lean"]),
                      "dataloader_samples_per_s": round(medians["dataloader"]),
                      "lean_fused_samples_per_s": round(medians["lean_fused"]),
                      "ratio_vs_lean": round(ratio_lean, 4), "ratio_vs_dataloader": round(ratio_loader, 4),
                      "ratio_vs_lean_fused": round(ratio_fused, 4)}))


if __name__ == "__main__":
    main()
