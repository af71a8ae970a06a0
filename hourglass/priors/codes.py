"""The codes z = f(x) of a run's own data, the sample every prior on the codes is fitted to, and which priors fit
which codes."""

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


def check_fits(model, kind: str, param: str = "kind") -> None:
    """Refuse a prior that does not fit the model's code: the autoregressive prior is over a discrete code's grid of
    indices; every other prior (N(0, I) too) is a density of continuous codes, and drawn codes a quantiser rounds
    away would be noise.

    Parameters
    ----------
    model : Autoencoder
        The trained model (a discrete one has a ``quantizer``).
    kind : str
        The prior asked for: "autoregressive", or a continuous one ("standard", "gaussian", "gmm", "diffusion").
    param : str, optional
        The parameter that chose the prior, named in the error ("kind" for ``fit_prior``, "prior" for sampling).
    """
    discrete = getattr(model, "quantizer", None) is not None
    if kind == "autoregressive" and not discrete:
        raise HourglassError(
            "autoregressive models a discrete code's grid of indices (model vqvae, or quantizer fsq:...); this "
            f"model's code is continuous: {param} gaussian, gmm or diffusion",
            params=(param,),
        )
    if kind != "autoregressive" and discrete:
        raise HourglassError(
            f"a discrete code (model vqvae, or quantizer fsq:...) is sampled through an autoregressive model of its "
            f"grid of indices, not {kind}: {param} autoregressive",
            params=(param,),
        )
