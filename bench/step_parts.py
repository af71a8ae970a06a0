"""What one training step of the throughput benchmark's model is made of, part by part, in microseconds — the figures
behind "where the rest of the step goes" in the README (``bench/train_throughput.py`` compares whole epochs).

  gather        256 MNIST rows picked by a permutation: advanced indexing x[idx] against x.index_select(0, idx)
                (hourglass's batches use the latter)
  cross-entropy the Bernoulli cross-entropy of (256, 784) logits, forward and backward: eager against
                torch.compile; and log-sigmoid's forward alone (its transcendental part)
  optimizer     one Adam step on the model's 437,812 parameters: PyTorch's fused kernel (as hourglass uses)
                against the for-each step under torch.compile (PyTorch's recipe for fusing an optimizer; its compile
                time apart, in seconds)
  step          a bare step (forward, loss, backward, fused Adam) against the GEMMs alone of that step (the
                throughput benchmark's roofline): the fraction of the roofline a trainer with no overhead reaches;
                and the same step with model and loss under torch.compile (inductor fuses every elementwise op of
                forward and backward into C++ loops; only the GEMMs and Adam stay outside): what fusion leaves
  fixed cost    the bare step on a single row, less its GEMMs: what every step pays whatever the batch (per-op
                dispatch, autograd's bookkeeping, Python, the Adam step on all parameters); with it the ceiling,
                GEMMs ÷ (GEMMs + fixed cost): the fraction of the roofline a step would reach if all its elementwise
                work (loss, activations, bias gradients) took no time

Medians of 7 repeats of 200 calls each (the steps and their GEMMs alternate, and a fraction is the median of the
rounds' ratios), fp32, the machine's default threads. The last line is one JSON object.

    .venv/bin/python bench/step_parts.py
"""

from __future__ import annotations

import json
import statistics
import time

import torch
import torch.nn.functional as F
from train_throughput import build, gemm_seconds

import hourglass as hg
from hourglass.losses import bernoulli_cross_entropy_per_sample

BATCH = 256


def microseconds(call, calls: int = 200, repeats: int = 7) -> float:
    for _ in range(10):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(times)


def main() -> None:
    x = torch.as_tensor(hg.load_mnist().x_train)
    rows = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:BATCH]
    batch = x.index_select(0, rows)
    logits = torch.randn(BATCH, x.shape[1], generator=torch.Generator().manual_seed(0), requires_grad=True)

    def cross_entropy(a, target):
        return bernoulli_cross_entropy_per_sample(a, target).mean()

    compiled = torch.compile(cross_entropy)
    model = build(0)
    opt = torch.optim.Adam(model.parameters(), 3e-3, fused=True)

    def model_loss(b):
        return cross_entropy(model(b).decoded, b)

    def step(loss_of=model_loss, rows=batch):
        loss = loss_of(rows)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    compiled_loss = torch.compile(model_loss)

    with torch.no_grad():
        parts = {
            "gather_indexing_us": microseconds(lambda: x[rows]),
            "gather_index_select_us": microseconds(lambda: x.index_select(0, rows)),
            "log_sigmoid_forward_us": microseconds(lambda: F.logsigmoid(logits)),
        }
    parts["cross_entropy_eager_us"] = microseconds(lambda: cross_entropy(logits, batch).backward())
    parts["cross_entropy_compiled_us"] = microseconds(lambda: compiled(logits, batch).backward())
    model_loss(batch).backward()  # gradients for the optimizers to step on
    parts["adam_fused_step_us"] = microseconds(opt.step)
    foreach = torch.optim.Adam(model.parameters(), 3e-3, foreach=True)
    compiled_step = torch.compile(foreach.step)
    started = time.perf_counter()
    compiled_step()
    parts["adam_compile_s"] = time.perf_counter() - started
    parts["adam_compiled_step_us"] = microseconds(compiled_step)
    started = time.perf_counter()
    step(compiled_loss)
    parts["step_compile_s"] = time.perf_counter() - started
    # The steps and their GEMMs take turns, so that the machine's drift cancels in each round's ratio.
    one_row = batch[:1].clone()
    rounds = [
        (
            microseconds(step, repeats=1),
            microseconds(lambda: step(compiled_loss), repeats=1),
            gemm_seconds(BATCH) * 1e6,
            microseconds(lambda: step(rows=one_row), repeats=1) - gemm_seconds(1) * 1e6,
        )
        for _ in range(7)
    ]
    parts["bare_step_us"] = statistics.median(r[0] for r in rounds)
    parts["compiled_step_us"] = statistics.median(r[1] for r in rounds)
    parts["step_gemms_us"] = statistics.median(r[2] for r in rounds)
    parts["fixed_cost_us"] = statistics.median(r[3] for r in rounds)
    parts["bare_step_fraction_of_roofline"] = statistics.median(g / s for s, _, g, _ in rounds)
    parts["compiled_step_fraction_of_roofline"] = statistics.median(g / c for _, c, g, _ in rounds)
    parts["ceiling_fraction_of_roofline"] = statistics.median(g / (g + f) for _, _, g, f in rounds)
    for name, value in parts.items():
        fractional = "fraction" in name or name.endswith("_s")
        print(f"{name:>34} {value:>10.3f}" if fractional else f"{name:>34} {value:>10,.0f}")
    print(
        json.dumps(
            {
                "benchmark": "step_parts",
                "batch_size": BATCH,
                "threads": torch.get_num_threads(),
                **{k: round(v, 3) for k, v in parts.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
