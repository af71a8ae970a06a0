"""Where the arithmetic runs and in which precision: ``device`` and ``precision`` of a training or a model call.

device: "auto" (a CUDA GPU if one is visible, else Apple's MPS, else the CPU), "cpu", "cuda", "cuda:N" or "mps".
precision: "fp32"; "bf16" — the model's forward pass under autocast to bfloat16 (CPU and CUDA; on a CPU with
    AVX-512 BF16 or AMX its matrix products run in bf16), losses still in fp32; "fp16" — autocast to float16 with a
    gradient scaler (CUDA only).
Weights, optimizer state and checkpoints stay float32 and device-independent whatever is chosen here.
"""

from __future__ import annotations

import contextlib
import re
import sys

import torch

from .errors import HourglassError

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve(device: str | torch.device = "auto") -> torch.device:
    """The torch device that ``device`` names, checked to exist here."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    if not isinstance(device, str) or not re.fullmatch(r"cpu|mps|cuda(:\d+)?", device):
        raise HourglassError(f"unknown device {device!r}; expected auto, cpu, cuda, cuda:N or mps", params=("device",))
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            build = " (this torch is a CPU build)" if torch.version.cuda is None else ""
            raise HourglassError(
                f"device {device}: no CUDA GPU is visible to PyTorch here{build}; use device cpu or auto",
                params=("device",),
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise HourglassError(
                f"device {device}: there are {torch.cuda.device_count()} CUDA devices (0 to "
                f"{torch.cuda.device_count() - 1})",
                params=("device",),
            )
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise HourglassError(
            "device mps: Apple's Metal backend is not available here; use device cpu or auto", params=("device",)
        )
    return torch.device(device)


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise HourglassError(
            f"unknown precision {precision!r}; expected {', '.join(PRECISIONS)}", params=("precision",)
        )
    if precision == "fp16" and device.type != "cuda":
        raise HourglassError(
            f"precision fp16 needs device cuda (it trains with a gradient scaler); on {device.type} use bf16",
            params=("precision", "device"),
        )


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bf16 matrices in hardware: a CPU with AVX-512 BF16 or AMX, or a CUDA GPU of
    compute capability 8.0 (Ampere) or later. Elsewhere bf16 autocast is emulated, and slower than fp32."""
    if device.type == "cpu":  # PyTorch's own CPU feature probes (private, hence looked up with a default)
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    return False


def fastest_precision(precision: str, device: torch.device) -> str:
    """``precision`` with "auto" resolved: bf16 where ``device`` computes it natively (:func:`native_bf16`), else
    fp32. Any other value is returned as it is."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def autocast(precision: str, device: torch.device):
    """The context a forward pass runs in: autocast to ``precision``'s dtype, or nothing for fp32."""
    if PRECISIONS[precision] is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=PRECISIONS[precision])


def device_of(model: torch.nn.Module) -> torch.device:
    """Where the model's parameters are (the CPU for a model without any)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside the wrappers the trainer uses: DistributedDataParallel or DataParallel (``.module``) and
    ``torch.compile`` (``._orig_mod``). Any other module is returned as it is, whatever attributes it has."""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")  # loaded by torch.compile: no model is compiled without
    compiled = eval_frame.OptimizedModule if eval_frame is not None else ()
    while True:
        if isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
            model = model.module
        elif isinstance(model, compiled):
            model = model._orig_mod
        else:
            return model
