"""The textbook's claims, run and judged on real data.

``record``: a claim's checks and verdict; ``measures``: the measurements (the PCA link, prior coverage, k-NN
accuracy, sharpness, perturbation ratio, score matching, the network's waist); ``classifier``: a small digit CNN
and the Fréchet distance of its features, for judging samples; ``lab``: the data, run sizes and cache of trained
models; ``ingredients``: what several claims share; ``claims``: the ten claims, each ``claim_*(lab)``, in the one
list ``CLAIMS``; ``runner``: :func:`run_claims`, which runs them and writes ``claims.json`` and ``report.html``.

    from hourglass.experiments import FULL, Lab, claim_principal_subspace
    claim = claim_principal_subspace(Lab("claims-output", seed=0, sizes=FULL))
    print(claim.verdict, [check.to_dict() for check in claim.checks])
"""

from .claims import (
    CLAIMS,
    claim_contractive,
    claim_curved_manifolds,
    claim_deep_beats_pca,
    claim_denoising,
    claim_generative,
    claim_hourglass,
    claim_principal_subspace,
    claim_sharpness,
    claim_sparse_codes,
    claim_useful_codes,
)
from .classifier import DigitClassifier, frechet_distance
from .lab import FULL, QUICK, Lab, Sizes
from .measures import (
    centred,
    denoising_score_matching,
    gaussian_mixture_2d,
    knn_accuracy,
    laplacian_variance,
    linear_autoencoder_vs_pca,
    mixture_score,
    pca_link,
    perturbation_ratio,
    principal_subspace,
    prior_coverage,
    score_accuracy,
    waist,
)
from .record import Check, Claim, Figure
from .runner import run_claims

__all__ = [
    "CLAIMS",
    "FULL",
    "QUICK",
    "Check",
    "Claim",
    "DigitClassifier",
    "Figure",
    "Lab",
    "Sizes",
    "centred",
    "claim_contractive",
    "claim_curved_manifolds",
    "claim_deep_beats_pca",
    "claim_denoising",
    "claim_generative",
    "claim_hourglass",
    "claim_principal_subspace",
    "claim_sharpness",
    "claim_sparse_codes",
    "claim_useful_codes",
    "denoising_score_matching",
    "frechet_distance",
    "gaussian_mixture_2d",
    "knn_accuracy",
    "laplacian_variance",
    "linear_autoencoder_vs_pca",
    "mixture_score",
    "pca_link",
    "perturbation_ratio",
    "principal_subspace",
    "prior_coverage",
    "run_claims",
    "score_accuracy",
    "waist",
]
