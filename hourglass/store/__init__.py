"""Storage: everything that touches weight files.

checkpoint  a model's weights (safetensors) and record (JSON): save, load (verified before anything is built)
runfolder   a run folder of snapshots, published whole or not at all, one writer at a time
files       atomic writes: a reader sees the old file or the new one, never half of one
"""

from .checkpoint import Checkpoint, load, save

__all__ = ["Checkpoint", "load", "save"]
