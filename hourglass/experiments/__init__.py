"""The textbook's claims, run and judged on real data.

``measures``: the measurements (principal angles, prior coverage, k-NN accuracy, sharpness, perturbation ratio,
score matching); ``classifier``: a small digit CNN and the Fréchet distance of its features, for judging samples;
``lab``: the data, run sizes and cache of trained models; ``claims``: the ten claims, each ``claim_*(lab)``,
and :func:`run_claims`, which runs them and writes ``claims.json`` and ``report.html``.

    from hourglass.experiments import FULL, Lab, claim_principal_subspace
    claim = claim_principal_subspace(Lab("claims-output", seed=0, sizes=FULL))
    print(claim.verdict, [check.to_dict() for check in claim.checks])
"""

from .classifier import DigitClassifier, frechet_distance
from .claims import (CLAIMS, Check, Claim, claim_contractive, claim_curved_manifolds, claim_deep_beats_pca,
                     claim_denoising, claim_generative, claim_hourglass, claim_principal_subspace, claim_sharpness,
                     claim_sparse_codes, claim_useful_codes, run_claims)
from .lab import FULL, QUICK, Lab, Sizes
from .measures import (denoising_score_matching, gaussian_mixture_2d, knn_accuracy, laplacian_variance,
                       linear_autoencoder_vs_pca, mixture_score, perturbation_ratio, principal_subspace,
                       prior_coverage, score_accuracy)

__all__ = ["CLAIMS", "FULL", "QUICK", "Check", "Claim", "DigitClassifier", "Lab", "Sizes", "claim_contractive",
           "claim_curved_manifolds", "claim_deep_beats_pca", "claim_denoising", "claim_generative", "claim_hourglass",
           "claim_principal_subspace", "claim_sharpness", "claim_sparse_codes", "claim_useful_codes",
           "denoising_score_matching", "frechet_distance", "gaussian_mixture_2d", "knn_accuracy",
           "laplacian_variance", "linear_autoencoder_vs_pca", "mixture_score", "perturbation_ratio",
           "principal_subspace", "prior_coverage", "run_claims", "score_accuracy"]
