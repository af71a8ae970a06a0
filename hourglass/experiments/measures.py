"""The measurements behind the claims, one function each, returning plain numbers or dicts of numbers.

The PCA link (a linear autoencoder trained with squared error learns the principal subspace); whether prior draws
land among the training codes (a plain AE is not a generative model, a VAE is); k-NN accuracy of codes; sharpness
as the variance of the Laplacian; how much a code moves under a small perturbation of the input; and denoising as
score matching on a 2-D Gaussian mixture.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import subspace_angles

from ..data import Dataset
from ..metrics import reconstruct, squared_errors
from ..models import Autoencoder
from ..pca import PCABaseline
from ..training.loop import TrainConfig
from ..workflow import ModelConfig, train


def principal_subspace(model: Autoencoder, pca: PCABaseline, x_train: np.ndarray) -> dict:
    """How a trained linear autoencoder's decoder g(z) = W z + b relates to PCA's top-k components V_k.

    Baldi & Hornik (1989): with squared error, the optimum spans the same subspace as V_k, but W itself is any
    invertible mix of the components — not orthonormal, not ordered. Returns:
    ``principal_angles_deg`` (between span W and span V_k; 0 is the same subspace), their mean and max;
    ``orthonormality_error`` ‖WᵀW − I‖_F / ‖I‖_F (0 would mean orthonormal columns); and, after recovering
    components from W (an orthonormal basis of span W by SVD, then PCA of the data projected on it),
    ``recovered_cosines`` |cos| between each recovered component and the true one (1 is exact), and the
    ``recovered_components`` themselves (k, D), signs matched to PCA's.
    """
    decoder = model.decoder
    assert isinstance(decoder, torch.nn.Linear), "a linear autoencoder's decoder"
    w = decoder.weight.detach().double().numpy()  # (D, k)
    v = pca.pca_.components_.T  # (D, k), orthonormal, by decreasing variance
    angles = np.degrees(subspace_angles(w, v))
    k = w.shape[1]
    gram = w.T @ w
    orthonormality = float(np.linalg.norm(gram - np.eye(k)) / np.sqrt(k))
    u, _, _ = np.linalg.svd(w, full_matrices=False)  # an orthonormal basis of span W
    centred = np.asarray(x_train, np.float64) - pca.pca_.mean_
    coords = centred @ u
    eigenvalues, rotation = np.linalg.eigh(np.cov(coords, rowvar=False))
    recovered = u @ rotation[:, ::-1]  # principal directions inside span W, by decreasing variance
    cosines = np.abs(np.sum(recovered * v, axis=0))
    signs = np.sign(np.sum(recovered * v, axis=0))  # a component's sign is arbitrary: align with PCA's for display
    return {
        "k": k,
        "principal_angles_deg": angles.tolist(),
        "mean_angle_deg": float(angles.mean()),
        "max_angle_deg": float(angles.max()),
        "orthonormality_error": orthonormality,
        "recovered_cosines": cosines.tolist(),
        "min_recovered_cosine": float(cosines.min()),
        "recovered_components": (recovered * signs).T,
    }


LINEAR_PCA_K = 16  # the code size of the PCA-link experiment (claim 1, bench/pca_link.py)


def centred(data: Dataset) -> Dataset:
    """``data`` minus its training split's mean: the PCA link is about centred data (PCA centres; a linear
    autoencoder's biases could, but then its weights need not span the principal subspace exactly)."""
    mean = data.x_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    return Dataset(
        f"{data.name}-centred",
        data.x_train - mean,
        data.x_val - mean,
        data.x_test - mean,
        shape=data.shape,
        source={**data.source, "centred": True},
    )


def linear_pca_config(k: int = LINEAR_PCA_K) -> ModelConfig:
    """The linear autoencoder of the PCA link: one linear map each way, squared error, no scaling."""
    return ModelConfig(arch="linear", latent_dim=k, loss="mse", scaling="none")


def pca_link(model: Autoencoder, data: Dataset) -> dict:
    """A trained linear autoencoder beside PCA at the same k on centred ``data``: the test errors of both (squared
    error per sample), their ratio, the fitted ``pca`` and :func:`principal_subspace`."""
    pca = PCABaseline(model.latent_dim).fit(data.x_train)
    ae = float(squared_errors(data.x_test, reconstruct(model, data.x_test)).mean())
    base = pca.squared_error_per_sample(data.x_test)
    return {
        "squared_error_per_sample": ae,
        "pca_squared_error_per_sample": base,
        "ratio_to_pca": ae / base,
        "pca": pca,
        **principal_subspace(model, pca, data.x_train),
    }


def linear_autoencoder_vs_pca(data: Dataset, k: int, config: TrainConfig) -> dict:
    """Train the linear autoencoder (:func:`linear_pca_config`) on centred ``data`` and measure :func:`pca_link`.
    Returns the trained ``model`` and its ``epochs`` too."""
    data = centred(data)
    trained = train(data, linear_pca_config(k), config)
    model = trained.model.cpu()  # measured on the host, wherever it trained
    return {"model": model, "epochs": len(trained.history.epochs), **pca_link(model, data)}


def _layer_outputs(net, x):
    """Run ``net`` on ``x`` (one sample) and record the per-sample size of each leaf module's output, in order."""
    import torch

    sizes = []
    leaves = [m for m in net.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda _m, _in, out: sizes.append(out[0].numel())) for m in leaves]
    try:
        with torch.no_grad():
            return sizes, net(x)
    finally:
        for hook in hooks:
            hook.remove()


def waist(model) -> dict:
    """Where the actual network is narrowest, measured on the built modules (not on the config): one input goes
    through the encoder and one code through the decoder, recording every layer's output size per sample.
    Returns ``sizes`` (input, encoder layers, the code the decoder takes, decoder layers), ``code`` (the decoder's
    input size) and ``narrowest``; the model is an hourglass when ``narrowest == code``."""
    import torch

    n = model.architecture.n_features
    encoder_sizes, z = _layer_outputs(model.encoder, torch.zeros(1, n))
    code = model.latent_dim if model.variational else z[0].numel()  # a VAE decodes a k-draw from its 2k outputs
    decoder_sizes, _ = _layer_outputs(model.decoder, torch.zeros(1, code))
    sizes = [n, *encoder_sizes, code, *decoder_sizes]
    return {"sizes": sizes, "code": code, "narrowest": min(sizes)}


def prior_coverage(
    model,
    x_train: np.ndarray,
    n_draws: int = 10_000,
    seed: int = 0,
    percentile: float = 99.0,
    max_reference: int = 20_000,
) -> dict:
    """Do draws z ~ N(0, I) land where the model's training codes are?

    The region of the training codes: each training code's distance to its nearest other training code, and the
    ``percentile`` of those distances as the radius. Returns ``outside_fraction``, the fraction of prior draws whose
    nearest training code is farther than that radius (about 1 − percentile/100 if the codes fill N(0, I), more
    for a plain autoencoder whose codes live elsewhere), with the ``radius`` and the codes' mean norm. At most
    ``max_reference`` training rows are used.

    A VAE's code of x is a draw z ~ q(z|x), not the mean μ(x): its decoder was trained on such draws, and it is their
    aggregate that the KL term pulls towards N(0, I). (The means alone are more concentrated than the prior — the
    posterior spread makes up the rest — so in many dimensions prior draws would fall outside them even for a
    perfect VAE.)
    """
    import torch
    from sklearn.neighbors import NearestNeighbors

    from ..metrics import apply_in_batches, encode

    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(x_train))[:max_reference]
    if model.variational:  # its code of x is a draw z ~ q(z|x), what model(x) decodes
        generator = torch.Generator().manual_seed(seed)
        model.eval()
        codes = apply_in_batches(lambda x: model(x, generator=generator).z, x_train[rows]).astype(np.float64)
    else:
        codes = encode(model, x_train[rows]).astype(np.float64)
    nn = NearestNeighbors(n_neighbors=2).fit(codes)
    own = nn.kneighbors(codes)[0][:, 1]  # [:, 0] is the code itself
    radius = float(np.percentile(own, percentile))
    draws = rng.standard_normal((n_draws, codes.shape[1]))
    nearest = nn.kneighbors(draws, n_neighbors=1)[0][:, 0]
    return {
        "outside_fraction": float(np.mean(nearest > radius)),
        "radius": radius,
        "mean_code_norm": float(np.linalg.norm(codes, axis=1).mean()),
        "n_draws": n_draws,
    }


def knn_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray, n_neighbors: int = 5
) -> float:
    """Test accuracy of a k-nearest-neighbour classifier on codes (or any representation): how much of the labels'
    structure the representation keeps."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(n_neighbors=n_neighbors).fit(z_train, y_train).score(z_test, y_test))


def laplacian_variance(images: np.ndarray, shape: tuple[int, ...]) -> float:
    """Sharpness: the variance of each image's Laplacian (scipy.ndimage.laplace), averaged over images and
    channels. Blurry images have small values; compare reconstructions with the originals'."""
    from scipy.ndimage import laplace

    stack = np.asarray(images, np.float64).reshape((-1,) + tuple(shape))
    return float(np.mean([laplace(channel).var() for image in stack for channel in image]))


def perturbation_ratio(model, x: np.ndarray, scale: float = 0.01, seed: int = 0) -> float:
    """Mean ‖f(x + δ) − f(x)‖ / ‖δ‖ over the rows of ``x``, with δ ~ N(0, scale² I) drawn with ``seed``: how far the
    code moves per unit of input perturbation (for small δ, about ‖J_f(x) u‖ for a random direction u, i.e.
    ‖J_f‖_F / √D). A contractive encoder makes it small."""
    from ..metrics import encode

    delta = (scale * np.random.default_rng(seed).standard_normal(x.shape)).astype(np.float32)
    moved = encode(model, x + delta).astype(np.float64) - encode(model, x).astype(np.float64)
    return float(np.mean(np.linalg.norm(moved, axis=1) / np.linalg.norm(delta.astype(np.float64), axis=1)))


def gaussian_mixture_2d(n: int, seed: int = 0, n_components: int = 4, radius: float = 2.0, std: float = 0.3):
    """n points from an equal mixture of isotropic 2-D Gaussians with means on a circle; returns (x, means, std)."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_components) / n_components
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    which = rng.integers(0, n_components, n)
    x = means[which] + std * rng.standard_normal((n, 2))
    return x.astype(np.float32), means, std


def mixture_score(x: np.ndarray, means: np.ndarray, variance: float) -> np.ndarray:
    """∇ₓ log p(x) of an equal mixture of N(μ_i, variance·I): Σ_i w_i(x) (μ_i − x) / variance, with w_i the
    posterior weights (computed with a stable softmax)."""
    d2 = ((x[:, None, :] - means[None, :, :]) ** 2).sum(axis=-1)  # (N, components)
    logits = -d2 / (2 * variance)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return (w[:, :, None] * (means[None, :, :] - x[:, None, :])).sum(axis=1) / variance


def denoising_score_matching(
    sigma: float = 0.2, n_train: int = 20_000, n_eval: int = 5_000, epochs: int = 30, seed: int = 0
) -> dict:
    """The link between denoising and score matching (Vincent 2011; Tweedie's formula): a denoiser r trained with
    squared error on x̃ = x + σε approximates E[x | x̃] = x̃ + σ² ∇ log p_σ(x̃), so (r(x̃) − x̃)/σ² estimates the score
    of the noisy density p_σ = p ∗ N(0, σ²I).

    On a 2-D Gaussian mixture (:func:`gaussian_mixture_2d`), where that score is known in closed form, trains a
    denoising autoencoder (:func:`score_model_config`) and returns :func:`score_accuracy` of it.
    """
    data = mixture_dataset(n_train, seed)
    trained = train(
        data, score_model_config(sigma), TrainConfig(epochs=epochs, batch_size=256, seed=seed, progress=False)
    )
    return score_accuracy(trained.model.cpu(), sigma, n_eval, seed)


def mixture_dataset(n_train: int, seed: int = 0):
    """Training and validation points of :func:`gaussian_mixture_2d` as a :class:`Dataset` (no test split)."""
    x, _, _ = gaussian_mixture_2d(n_train + n_train // 10, seed)
    return Dataset(
        "gaussian-mixture-2d", x[:n_train], x[n_train:], x[:0], source={"name": "gaussian-mixture-2d", "seed": seed}
    )


def score_model_config(sigma: float):
    """The denoising autoencoder for 2-D points: 2 → 64 → 64 → 16 and back, squared error, Gaussian noise σ."""
    return ModelConfig(
        model="dae", widths=(64, 64), latent_dim=16, noise=f"gaussian:{sigma:g}", loss="mse", scaling="none"
    )


def score_accuracy(model, sigma: float, n_eval: int = 5_000, seed: int = 0) -> dict:
    """Compare a denoiser's score estimate (r(x̃) − x̃)/σ² with the true score of the noisy mixture at ``n_eval``
    fresh noisy points: ``mean_cosine`` (1 is a perfect direction), ``relative_error`` ‖ŝ − s‖/‖s‖ (mean), and the
    arrays ``points``, ``estimated``, ``true`` for a quiver plot."""
    clean, means, std = gaussian_mixture_2d(n_eval, seed + 1)
    noisy = clean + sigma * np.random.default_rng(seed + 2).standard_normal(clean.shape).astype(np.float32)
    estimated = (reconstruct(model, noisy).astype(np.float64) - noisy) / sigma**2
    true = mixture_score(noisy.astype(np.float64), means, std**2 + sigma**2)
    norms = np.linalg.norm(estimated, axis=1) * np.linalg.norm(true, axis=1)
    cosine = (estimated * true).sum(axis=1) / np.maximum(norms, 1e-12)
    relative = np.linalg.norm(estimated - true, axis=1) / np.maximum(np.linalg.norm(true, axis=1), 1e-12)
    return {
        "sigma": sigma,
        "mean_cosine": float(cosine.mean()),
        "relative_error": float(np.mean(relative)),
        "points": noisy,
        "estimated": estimated,
        "true": true,
    }
