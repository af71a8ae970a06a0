"""The textbook's claims about autoencoders, each run on real data and judged against a criterion stated in advance.

Every claim is a function ``claim(lab) -> Claim``: it trains (or reuses) the models it needs through the
:class:`~hourglass.experiments.lab.Lab`, measures, draws its figures and returns :class:`Check` s — a metric, the
measured value, the criterion and whether it was met. A claim's number is its place in :data:`CLAIMS`, the one list.

Units: reconstruction errors are squared errors per image (summed over the 784 pixels in [0, 1], averaged over
the MNIST test set), as in Hinton & Salakhutdinov (2006).
"""

from .codes import claim_generative, claim_hourglass, claim_sharpness, claim_useful_codes
from .generative import claim_generation
from .pca import claim_curved_manifolds, claim_deep_beats_pca, claim_principal_subspace
from .regularised import claim_contractive, claim_denoising, claim_sparse_codes

CLAIMS = (
    claim_principal_subspace,
    claim_curved_manifolds,
    claim_deep_beats_pca,
    claim_denoising,
    claim_sparse_codes,
    claim_contractive,
    claim_generative,
    claim_sharpness,
    claim_useful_codes,
    claim_hourglass,
    claim_generation,
)

__all__ = [
    "CLAIMS",
    "claim_contractive",
    "claim_curved_manifolds",
    "claim_deep_beats_pca",
    "claim_generation",
    "claim_denoising",
    "claim_generative",
    "claim_hourglass",
    "claim_principal_subspace",
    "claim_sharpness",
    "claim_sparse_codes",
    "claim_useful_codes",
]
