"""Data-parallel training on PyTorch's own engine: ``torchrun`` starts the processes, ``torch.distributed`` joins
them, DistributedDataParallel averages the gradients.

    torchrun --nproc-per-node 2 -m hourglass train mnist ...     # or: hourglass train mnist ... --nproc 2

Each process (rank) holds the whole model and the whole training set. Every rank draws the same seeded permutation
each epoch and takes its share of each global batch of ``batch_size`` rows (rows rank, rank + W, ...); its loss is
weighted by its share, so the averaged gradient is the gradient of the global batch's mean loss — the step a single
process takes, up to floating-point rounding. Random draws of the objective (noise, a VAE's ε) come from a
generator per rank and epoch, so a run is reproducible for a given world size but its draws differ from a single
process's. Validation is split across the ranks and its sums are all-reduced; only rank 0 writes checkpoints,
history and progress. Nothing here runs unless the process was started by torchrun (``WORLD_SIZE`` > 1).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from pathlib import Path

import torch
import torch.distributed as dist

from ..errors import HourglassError
from . import feeds


def launched() -> bool:
    """Whether this process is one of several that torchrun started."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def rank() -> int:
    """This process's rank: from the process group, or before it is joined from torchrun's ``RANK``."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0")) if launched() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main() -> bool:
    """Rank 0: the one process that writes and prints."""
    return rank() == 0


def join(device: torch.device) -> torch.device:
    """Join the process group torchrun set up in the environment (gloo on the CPU, NCCL on CUDA), once; returns
    the device this rank trains on (its own GPU, ``cuda:LOCAL_RANK``, when the device is CUDA)."""
    if not launched():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # Leave the group while the interpreter is still whole: gloo's worker threads, left holding finished work,
        # can otherwise abort a rank at exit ("terminate called without an active exception", signal 6;
        # pytorch/pytorch#190489).
        atexit.register(leave)
    return device


def leave() -> None:
    """Leave the process group this process joined (nothing if it joined none): first wait, a minute at most, for
    every rank to be leaving too, so no rank tears gloo's connections down while another still holds them open
    (rank 0 writes the last checkpoint after the others are done; a rank that exited early has aborted in gloo's
    threads at interpreter shutdown: 'terminate called without an active exception', pytorch/pytorch#190489)."""
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(RuntimeError):  # a rank that is gone: nothing left to wait for
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
            else:
                dist.barrier()
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when there are several ranks (else as it is)."""
    if world_size() == 1 or isinstance(model, torch.nn.parallel.DistributedDataParallel):
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def share(rows: torch.Tensor) -> tuple[torch.Tensor, float]:
    """This rank's rows of a global batch, and the weight of its mean loss: (its rows) × W / (the batch's rows), so
    that DDP's average of the ranks' gradients is the gradient of the whole batch's mean loss. A rank left with
    no rows (a last batch smaller than W) takes one row with weight 0: every rank must join each step."""
    size, me = world_size(), rank()
    if size == 1:
        return rows, 1.0
    mine = rows[me::size]
    if len(mine) == 0:
        return rows[:1], 0.0
    return mine, len(mine) * size / len(rows)


def share_batch(batch):
    """This rank's rows of a global batch (a tensor or a tuple of tensors) and their weight (:func:`share`)."""
    if world_size() == 1:
        return batch, 1.0
    parts = batch if isinstance(batch, tuple) else (batch,)
    index, weight = share(torch.arange(len(parts[0]), device=parts[0].device))
    return feeds.rows(parts, index), weight


def noise_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of this rank's random draws in ``epoch``: a pure function of (seed, epoch, rank), so a resumed
    run draws what an uninterrupted one would, in any world size of the same value."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 65_537 + rank()) % 2**63)


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """The sum over ranks of each of ``values`` (float64)."""
    if world_size() == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def all_min(value: int, device: torch.device) -> int:
    """The smallest ``value`` over the ranks."""
    if world_size() == 1:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t.item())


def peer_failure(error: BaseException) -> bool:
    """Whether ``error`` is a collective failing because another rank went away (the launcher reports that rank)."""
    text = str(error)
    return isinstance(error, getattr(dist, "DistError", ())) or any(
        word in text for word in ("gloo", "NCCL", "Connection reset by peer", "Connection closed by peer")
    )


def check_objective(objective) -> None:
    """Refuse what DistributedDataParallel cannot average: the contractive penalty differentiates the encoder a
    second time, outside the one forward call that DDP watches."""
    if world_size() > 1 and getattr(objective, "contractive", False):
        raise HourglassError(
            "the contractive penalty cannot be trained on several processes yet (it calls the "
            "encoder outside the model's forward pass); train it with nproc 1",
            params=("contractive", "nproc"),
        )


def launch(argv: list[str], nproc: int, out: str | Path | None = None) -> None:
    """Run ``hourglass`` with ``argv`` (a command line as typed; its ``--nproc`` is dropped) in ``nproc`` processes
    on this machine, as ``torchrun --nproc-per-node`` does (PyTorch's elastic launcher, rendezvous on a free
    loopback port), each with its share of the cores. A process that fails or dies ends the job: raises
    :class:`HourglassError` naming the rank and its exit status (``out``'s last complete checkpoint is untouched:
    checkpoints are published whole)."""
    import logging
    import signal
    import socket
    import sys

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 2:
        raise HourglassError(f"nproc must be at least 2 to launch processes, got {nproc}", params=("nproc",))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from .threads import cores

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, cores() // nproc)))  # no more threads than cores in all
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id="hourglass",
        rdzv_backend="static",
        rdzv_endpoint=f"127.0.0.1:{port}",
        rdzv_configs={"rank": 0},
        max_restarts=0,
        monitor_interval=0.2,
        local_addr="127.0.0.1",
    )
    for name in (
        "torch.distributed.elastic",
        "torch.distributed.elastic.multiprocessing.api",
        "torch.distributed.elastic.agent.server.api",
    ):  # the launcher's chatter: the error below says it
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "hourglass", *_without_nproc(argv))
    except ChildFailedError as e:
        # The cause, not the casualties: ranks the launcher stopped (SIGTERM) after another failed come last.
        r, failure = min(
            e.failures.items(), key=lambda item: (item[1].exitcode == -signal.SIGTERM, item[1].timestamp, item[0])
        )
        how = (
            f"was killed by signal {-failure.exitcode}"
            if failure.exitcode < 0
            else f"exited with status {failure.exitcode}"
        )
        kept = f"; {out} keeps its last complete checkpoint" if out else ""
        raise HourglassError(f"training on {nproc} processes stopped: rank {r} {how}{kept}") from None


def _without_nproc(argv: list[str]) -> list[str]:
    """The command line less its --nproc option (what each of the processes runs)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept
