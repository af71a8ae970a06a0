"""The codes z = f(x) of a run's own data, the sample every prior on the codes is fitted to."""

from __future__ import annotations

import numpy as np

from ..errors import HourglassError


def codes_of(checkpoint, split: str = "train") -> np.ndarray:
    """The codes z = f(x) (a VAE: the means of q(z|x)) of the run's ``split``, in memory (N, k)."""
    from ..data.spec import dataset_of
    from ..metrics import encode

    x = dataset_of(checkpoint).measured_rows(split)[0]
    if len(x) < 2:
        raise HourglassError(f"{checkpoint.path}: its {split} split has {len(x)} rows; a prior needs codes to fit")
    return encode(checkpoint.model, checkpoint.scaling.transform(x))
