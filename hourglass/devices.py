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
            raise HourglassError(f"device {device}: no CUDA GPU is visible to PyTorch here{build}; use device cpu "
                                 "or auto", params=("device",))
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise HourglassError(f"device {device}: there are {torch.cuda.device_count()} CUDA devices (0 to "
                                 f"{torch.cuda.device_count() - 1})", params=("device",))
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise HourglassError("device mps: Apple's Metal backend is not available here; use device cpu or auto",
                             params=("device",))
    return torch.device(device)


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise HourglassError(f"unknown precision {precision!r}; expected {', '.join(PRECISIONS)}",
                             params=("precision",))
    if precision == "fp16" and device.type != "cuda":
        raise HourglassError(f"precision fp16 needs device cuda (it trains with a gradient scaler); on "
                             f"{device.type} use bf16", params=("precision", "device"))


def autocast(precision: str, device: torch.device):
    """The context a forward pass runs in: autocast to ``precision``'s dtype, or nothing for fp32."""
    if PRECISIONS[precision] is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=PRECISIONS[precision])
