"""Training throughput (samples/s) of hourglass's trainer against plain PyTorch loops, the two libraries people
would otherwise use, and the machine's GEMM roofline — side by side in one process.

Model: the MLP hourglass 784-256-64-16-4 (and back), Adam at 3e-3, batch 256, MNIST train split (50,000 rows);
every contender trains one epoch and runs its validation pass (10,000 rows).
  hourglass      hourglass.fit (progress off, no checkpoint folder), Bernoulli cross-entropy
  hourglass_bar  the same with its progress bar drawn on a (stand-in) terminal, as the CLI shows it
  lean           a plain loop slicing one tensor by a per-epoch permutation, default (for-each) Adam
  dataloader     a plain loop over TensorDataset + DataLoader(shuffle=True), default Adam
  lean_fused     the lean loop with Adam(fused=True), as hourglass uses: what is left is the trainer's own overhead
  lean_compiled  the lean fused loop with the model and loss under torch.compile (its compile time reported apart)
  pythae         pythae 0.1.2's BaseTrainer.train_step + eval_step, hourglass's f and g as its encoder/decoder
                 (pythae's AE loss: squared error on sigmoid(g(z)))
  autoencoders   autoencoders 0.6.8's AETrainer.train_epoch + evaluate on its own MLP (hidden_dims 256, 64, 16,
                 SiLU, latent 4: the same layer shapes) with its DataLoader and mean squared error
  roofline       the GEMMs alone of the same epoch: torch.addmm forward and torch.mm for both gradients (none for
                 the data's) at every layer's real shape for each training batch, and the validation pass's
                 forward addmm, fp32 — the speed the epoch would have if everything else took no time (and the same
                 in bf16, reported for --precision bf16)
pythae and autoencoders come with the bench extra (`pip install -e '.[bench]'`); a missing one is skipped.
This machine's speed drifts over minutes, so the contenders take turns epoch by epoch (round r runs one epoch of
each, in a rotating order) and the figures are medians over rounds of per-round ratios. The last line is one JSON
object.

    .venv/bin/python bench/train_throughput.py [--rounds 7] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from itertools import pairwise

import torch
from torch.utils.data import DataLoader, TensorDataset

import hourglass as hg
from hourglass.losses import bernoulli_cross_entropy_per_sample


def build(seed: int) -> hg.Autoencoder:
    return hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (256, 64, 16), 4), "sigmoid", seed=seed)


class Terminal(io.StringIO):
    """Stands for a terminal: the progress bar draws itself (rich, ANSI codes) as it would on one."""

    def isatty(self):
        return True


def hourglass_epoch(model, x, x_val, batch_size, seed, bar: bool = False):
    """One epoch of hourglass.fit; with ``bar``, the progress bar on a terminal as a CLI user sees it (it advances
    at the loop's host syncs, every 50 steps)."""
    from hourglass.training.progress import ProgressBar

    config = hg.TrainConfig(epochs=1, batch_size=batch_size, seed=seed, progress=False)
    callbacks = [ProgressBar(Terminal())] if bar else []
    started = time.perf_counter()
    hg.fit(model, hg.Objective("bce"), x, x_val, config, callbacks=callbacks)  # with its validation pass
    return time.perf_counter() - started


def plain_epoch(model, opt, batches, x_val, loss_of=None):
    """What a hand-written PyTorch loop does: one step per batch, then a validation pass. ``loss_of`` (batch → the
    mean loss) defaults to the model's cross-entropy, computed eagerly."""
    started = time.perf_counter()
    model.train()
    for batch in batches:
        loss = (loss_of or (lambda b: bernoulli_cross_entropy_per_sample(model(b).decoded, b).mean()))(batch)
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
    return (x[order[i : i + batch_size]] for i in range(0, len(x), batch_size))


LAYERS = (784, 256, 64, 16, 4, 16, 64, 256, 784)


def gemm_seconds(batch_size: int, dtype=torch.float32, backward: bool = True, reps: int = 50) -> float:
    """Seconds of the GEMMs alone of one pass of ``batch_size`` rows through the model's layer shapes: forward
    addmm, then (``backward``) the gradient of each layer's input (not the first layer's: the data needs none) and
    of its weight."""
    shapes = []
    for i, (d_in, d_out) in enumerate(pairwise(LAYERS)):
        shapes.append(
            (
                torch.randn(batch_size, d_in, dtype=dtype),
                torch.randn(d_out, d_in, dtype=dtype),
                torch.randn(d_out, dtype=dtype),
                torch.randn(batch_size, d_out, dtype=dtype),
                i > 0,
            )
        )

    def step():
        for x, w, b, grad_out, grad_in in shapes:
            torch.addmm(b, x, w.t())
            if backward and grad_in:
                torch.mm(grad_out, w)
            if backward:
                torch.mm(grad_out.t(), x)

    for _ in range(5):
        step()
    started = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - started) / reps


def roofline_epoch_seconds(n_train: int, n_val: int, batch_size: int, dtype=torch.float32) -> float:
    """Seconds of the GEMMs alone of what every contender's epoch computes: a training step per batch, then the
    validation pass's forward (in chunks of 4,096 rows, as hourglass evaluates; its GEMMs are ~7 % of the epoch's)."""
    full, last = divmod(n_train, batch_size)
    train = full * gemm_seconds(batch_size, dtype) + (gemm_seconds(last, dtype) if last else 0.0)
    full, last = divmod(n_val, 4096)
    val = full * gemm_seconds(4096, dtype, backward=False, reps=5)
    return train + val + (gemm_seconds(last, dtype, backward=False, reps=5) if last else 0.0)


def compiled_runner(x, x_val, batch_size, generator):
    """The lean fused loop with model and loss compiled; returns (epoch runner, compile seconds)."""
    model = build(0)
    opt = torch.optim.Adam(model.parameters(), 3e-3, fused=True)
    loss_of = torch.compile(lambda b: bernoulli_cross_entropy_per_sample(model(b).decoded, b).mean())
    started = time.perf_counter()
    for rows in (batch_size, len(x) % batch_size or batch_size):  # the full batch and the epoch's last one
        loss_of(x[:rows]).backward()
    opt.zero_grad()
    compile_seconds = time.perf_counter() - started
    return (lambda r: plain_epoch(model, opt, lean_batches(x, batch_size, generator), x_val, loss_of)), compile_seconds


def quiet_seconds(*calls) -> float:
    """Seconds the calls take, with what they print (progress bars, log lines) formatted but not shown."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for call in calls:
            call()
    return time.perf_counter() - started


def pythae_runner(x, x_val, batch_size, out: str):
    """pythae's own trainer on hourglass's encoder and decoder, or None if pythae is not installed."""
    try:
        from pythae.data.datasets import BaseDataset
        from pythae.models import AE, AEConfig
        from pythae.models.base.base_utils import ModelOutput
        from pythae.models.nn import BaseDecoder, BaseEncoder
        from pythae.trainers import BaseTrainer, BaseTrainerConfig
    except ImportError:
        return None
    ours = build(0)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.f = ours.encoder

        def forward(self, x):
            return ModelOutput(embedding=self.f(x.reshape(len(x), -1)))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.g = ours.decoder

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.g(z)))

    model = AE(AEConfig(input_dim=(784,), latent_dim=4), encoder=Encoder(), decoder=Decoder())
    config = BaseTrainerConfig(
        output_dir=out,
        num_epochs=1,
        learning_rate=3e-3,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        no_cuda=True,
        seed=0,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        trainer = BaseTrainer(
            model,
            BaseDataset(x, torch.zeros(len(x))),
            BaseDataset(x_val, torch.zeros(len(x_val))),
            training_config=config,
        )
        trainer.prepare_training()
    return lambda r: quiet_seconds(lambda: trainer.train_step(r), lambda: trainer.eval_step(r))


def autoencoders_runner(x, x_val, batch_size, out: str):
    """The autoencoders package's own trainer and MLP, or None if it is not installed."""
    try:
        import autoencoders as ae
        from autoencoders.data.base import TensorSpec
        from autoencoders.training.trainer import AETrainer, TrainingConfig
    except ImportError:
        return None
    model = ae.AutoencoderModel(
        ae.AutoencoderConfig(latent_dim=4),
        sample_spec=TensorSpec(shape=(784,)),
        encoder="mlp",
        encoder_config={"hidden_dims": [256, 64, 16], "activation": "silu"},
    )
    with contextlib.redirect_stdout(io.StringIO()):
        trainer = AETrainer(
            model,
            TrainingConfig(output_dir=out, epochs=1, learning_rate=3e-3, batch_size=batch_size, device="cpu", seed=0),
        )
    train_loader = DataLoader(x, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
    val_loader = DataLoader(x_val, batch_size=batch_size)
    return lambda r: quiet_seconds(lambda: trainer.train_epoch(train_loader), lambda: trainer.evaluate(val_loader))


def profile(batch_size: int, seed: int) -> None:
    """Where one epoch of hourglass.fit spends its time, op by op (self CPU time; the GEMMs are aten::addmm and
    aten::mm)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    data = hg.load_mnist()
    x, x_val = torch.as_tensor(data.x_train), torch.as_tensor(data.x_val)
    model = build(seed)
    hourglass_epoch(model, x, x_val, batch_size, seed)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        seconds = hourglass_epoch(model, x, x_val, batch_size, seed + 1)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    print(f"one epoch under the profiler: {seconds:.2f} s ({len(x) / seconds:,.0f} samples/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print torch.profiler's table of one hourglass epoch (after a warm-up one) and stop",
    )
    args = parser.parse_args()
    if args.profile:
        return profile(args.batch_size, args.seed)

    data = hg.load_mnist()
    x, x_val = torch.as_tensor(data.x_train), torch.as_tensor(data.x_val)
    n = len(x)
    ours, ours_bar, lean, plain, fused = (build(args.seed) for _ in range(5))
    lean_opt, plain_opt = torch.optim.Adam(lean.parameters(), 3e-3), torch.optim.Adam(plain.parameters(), 3e-3)
    fused_opt = torch.optim.Adam(fused.parameters(), 3e-3, fused=True)
    g = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(
        TensorDataset(x), batch_size=args.batch_size, shuffle=True, generator=torch.Generator().manual_seed(args.seed)
    )
    tmp = tempfile.TemporaryDirectory()
    compiled, compile_seconds = compiled_runner(x, x_val, args.batch_size, g)
    runners = {
        "hourglass": lambda r: hourglass_epoch(ours, x, x_val, args.batch_size, args.seed + r),
        "hourglass_bar": lambda r: hourglass_epoch(ours_bar, x, x_val, args.batch_size, args.seed + r, bar=True),
        "lean": lambda r: plain_epoch(lean, lean_opt, lean_batches(x, args.batch_size, g), x_val),
        "dataloader": lambda r: plain_epoch(plain, plain_opt, (b for (b,) in loader), x_val),
        "lean_fused": lambda r: plain_epoch(fused, fused_opt, lean_batches(x, args.batch_size, g), x_val),
        "lean_compiled": compiled,
        "pythae": pythae_runner(x, x_val, args.batch_size, tmp.name + "/pythae"),
        "autoencoders": autoencoders_runner(x, x_val, args.batch_size, tmp.name + "/autoencoders"),
        "roofline": lambda r: roofline_epoch_seconds(n, len(x_val), args.batch_size),
    }
    skipped = [name for name, run in runners.items() if run is None]
    runners = {name: run for name, run in runners.items() if run is not None}
    for run in runners.values():  # warm-up epoch each, not timed
        run(0)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            rates[name].append(n / runners[name](r + 1))
        print(f"round {r + 1}: " + "  ".join(f"{k} {rates[k][-1]:,.0f}/s" for k in names), flush=True)
    ratio = {
        name: statistics.median(a / b for a, b in zip(rates["hourglass"], rates[name], strict=True)) for name in names
    }
    of_roofline = {
        name: statistics.median(a / b for a, b in zip(rates[name], rates["roofline"], strict=True)) for name in names
    }
    medians = {k: statistics.median(v) for k, v in rates.items()}
    bf16_roofline = n / roofline_epoch_seconds(n, len(x_val), args.batch_size, torch.bfloat16)
    print(f"\n{'':>14} {'samples/s':>10} {'hourglass ÷ it':>15} {'of fp32 roofline':>17}")
    for name in names:
        print(f"{name:>14} {medians[name]:>10,.0f} {ratio[name]:>15.3f} {of_roofline[name]:>17.3f}")
    print(
        f"torch.compile: {compile_seconds:.1f} s to compile (paid once per process); bf16 GEMM roofline "
        f"{bf16_roofline:,.0f} samples/s" + (f"; skipped (not installed): {', '.join(skipped)}" if skipped else "")
    )
    tmp.cleanup()
    print(
        json.dumps(
            {
                "benchmark": "train_throughput",
                "model": "mlp 784-256-64-16-4",
                "batch_size": args.batch_size,
                "rounds": args.rounds,
                "threads": torch.get_num_threads(),
                **{f"{k}_samples_per_s": round(v) for k, v in medians.items()},
                "ratio_vs_lean": round(ratio["lean"], 4),
                "ratio_vs_dataloader": round(ratio["dataloader"], 4),
                "ratio_vs_lean_fused": round(ratio["lean_fused"], 4),
                "bar_ratio_vs_lean_fused": round(
                    statistics.median(a / b for a, b in zip(rates["hourglass_bar"], rates["lean_fused"], strict=True)),
                    4,
                ),
                **{
                    f"ratio_vs_{k}": round(ratio[k], 4)
                    for k in ("lean_compiled", "pythae", "autoencoders")
                    if k in ratio
                },
                "fraction_of_roofline": {k: round(v, 4) for k, v in of_roofline.items()},
                "compile_seconds": round(compile_seconds, 1),
                "bf16_roofline_samples_per_s": round(bf16_roofline),
                "skipped": skipped,
            }
        )
    )


if __name__ == "__main__":
    main()
