"""Measuring a trained autoencoder: reconstruction error in the project's units, beside PCA at the same k.

Units: ``squared_error_per_sample`` = mean over samples of Σ_d (x_d − x̂_d)² (per image for MNIST; Hinton &
Salakhutdinov 2006); ``mse_per_feature`` = that / D. Both are measured in the model's (scaled) space.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .corruptions import with_noise_map
from .devices import device_of
from .errors import HourglassError
from .losses import squared_error_per_sample
from .pca import PCABaseline


@torch.no_grad()
def apply_in_batches(fn, x: np.ndarray, batch_size: int = 4096, device: torch.device | str = "cpu") -> np.ndarray:
    """``fn`` (tensor → tensor) over the rows of ``x`` in batches on ``device``, stacked as float32 on the host."""
    out = [
        fn(torch.as_tensor(x[i : i + batch_size], dtype=torch.float32).to(device)).cpu().numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float32, copy=False)


def apply_model(model, method: str, x: np.ndarray) -> np.ndarray:
    """``model.<method>`` (``encode``, ``decode`` or ``reconstruct``) over the rows of ``x``, model in eval mode, on
    the model's device, in float32 — except for rows whose float32 pass overflows.

    A row of large but representable values (1e37 is a float32) overflows float32's sums inside the network and
    comes out NaN; such a row is anything but normal, and answering NaN would let an anomaly detector pass it
    (NaN > threshold is false). Those rows alone are run again by a float64 copy of the model on the host, whose
    range (1e308) no float32 input can overflow in a network of ordinary depth; the result is then float64. A row
    that overflows even there stays non-finite, for the caller to refuse or flag (:func:`finite_rows`,
    :func:`hourglass.scoring.judge_scores`).
    """
    from .devices import unwrap

    model.eval()
    out = apply_in_batches(getattr(model, method), x, device=device_of(model))
    overflowed = ~np.isfinite(out.reshape(len(out), -1)).all(axis=1)
    if overflowed.any():
        wide = copy.deepcopy(unwrap(model)).double().cpu().eval()
        with torch.no_grad():
            again = getattr(wide, method)(torch.as_tensor(np.asarray(x)[overflowed], dtype=torch.float64))
        out = out.astype(np.float64)
        out[overflowed] = again.numpy()
    return out


def encode(model, x: np.ndarray) -> np.ndarray:
    """Codes z = f(x): (N, D) → (N, k) (:func:`apply_model`: float32, float64 where float32 overflowed).

    Parameters
    ----------
    model
        A trained model (an :class:`~hourglass.models.Autoencoder`, :class:`~hourglass.models.VAE` or
        :class:`~hourglass.models.VQVAE`).
    x : ndarray
        Rows in the model's (scaled) space, (N, D).

    Returns
    -------
    ndarray
        Codes z = f(x), (N, k).
    """
    return apply_model(model, "encode", x)


def decode(model, z: np.ndarray) -> np.ndarray:
    """x̂ = g(z) in the model's space: (N, k) → (N, D) (:func:`apply_model`)."""
    return apply_model(model, "decode", z)


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    """x̂ = g(f(x)) in the model's space: (N, D) → (N, D) (:func:`apply_model`).

    Parameters
    ----------
    model
        A trained model (an :class:`~hourglass.models.Autoencoder`, :class:`~hourglass.models.VAE` or
        :class:`~hourglass.models.VQVAE`).
    x : ndarray
        Rows in the model's (scaled) space, (N, D).

    Returns
    -------
    ndarray
        Reconstructions x̂ = g(f(x)) in the model's space, (N, D).
    """
    return apply_model(model, "reconstruct", x)


def finite_rows(values: np.ndarray, what: str, first_row: int = 1) -> np.ndarray:
    """``values`` (N, ...) as float32, or one error naming the rows (counted from ``first_row``) whose ``what``
    are not finite float32 numbers — rows so far outside the training data that the model cannot answer for them
    (``hourglass score`` flags such rows as the most anomalous)."""
    with np.errstate(over="ignore"):
        narrow = np.asarray(values).astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(narrow.reshape(len(narrow), -1)).all(axis=1))
    if len(bad):
        shown = ", ".join(str(first_row + i) for i in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        counted = " (counted from 0)" if first_row == 0 else ""
        raise HourglassError(
            f"row{'s' if len(bad) > 1 else ''} {shown}{counted}: {what} overflow float32 — such rows lie far outside "
            "the data the model was trained on, and scoring flags them as anomalies"
        )
    return narrow


def squared_errors(x: np.ndarray, x_hat: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """‖x − x̂‖² of each row, in float64: (N, D), (N, D) → (N,) (:func:`~hourglass.losses.squared_error_per_sample`,
    a batch of rows at a time: a quarter of the time of one pass over all of them)."""
    x, x_hat = np.asarray(x), np.asarray(x_hat)
    out = np.empty(len(x))
    for start in range(0, len(x), batch_size):
        rows = slice(start, start + batch_size)
        x_hat64, x64 = (torch.from_numpy(np.array(a[rows], np.float64)) for a in (x_hat, x))  # writeable copies
        out[rows] = squared_error_per_sample(x_hat64, x64).numpy()
    return out


def reconstruction_errors(x: np.ndarray, x_hat: np.ndarray) -> dict[str, float]:
    """``squared_error_per_sample`` and ``mse_per_feature`` of x̂ against x (float64 sums).

    Parameters
    ----------
    x : ndarray
        The rows, (N, D).
    x_hat : ndarray
        Their reconstructions, (N, D).

    Returns
    -------
    dict
        ``squared_error_per_sample`` and ``mse_per_feature``.
    """
    per_sample = squared_errors(x, x_hat)
    return {
        "squared_error_per_sample": float(per_sample.mean()),
        "mse_per_feature": float(per_sample.mean() / x.shape[1]),
    }


def compare_with_pca(
    model, x_train: np.ndarray, x_eval: np.ndarray, k: int | None = None, pca: PCABaseline | None = None
) -> dict:
    """The autoencoder's error on ``x_eval`` beside PCA's (fitted on ``x_train``) at the same k.

    ``x_train`` and ``x_eval`` are arrays, or both splits streamed from disk (:mod:`hourglass.data.streaming`;
    PCA is then fitted incrementally, :meth:`PCABaseline.fit_stream`).
    Returns ``k``, ``squared_error_per_sample``, ``mse_per_feature``, ``pca_squared_error_per_sample``,
    ``pca_mse_per_feature``, ``ratio_to_pca`` (AE ÷ PCA; None if PCA's error is 0) and ``n_samples``.

    Parameters
    ----------
    model
        A trained model (an :class:`~hourglass.models.Autoencoder`, :class:`~hourglass.models.VAE` or
        :class:`~hourglass.models.VQVAE`).
    x_train : ndarray
        Rows PCA is fitted on (the model's training split), or a streamed split.
    x_eval : ndarray
        Rows both are measured on.
    k : int, optional
        Components of PCA; None: the model's latent_dim.
    pca : PCABaseline, optional
        A PCA already fitted on ``x_train``, to reuse.

    Returns
    -------
    dict
        ``k``, ``squared_error_per_sample``, ``mse_per_feature``, ``pca_squared_error_per_sample``,
        ``pca_mse_per_feature``, ``ratio_to_pca`` and ``n_samples``.
    """
    k = k if k is not None else model.latent_dim
    if k >= _features(x_eval):  # k spans the data: PCA is exact, its error 0 (and nothing to fit)
        if hasattr(x_eval, "chunks"):
            ae = _streamed_errors(model, None, x_eval)[0]
        else:
            ae = reconstruction_errors(x_eval, reconstruct(model, x_eval))
        base, scale = {"squared_error_per_sample": 0.0, "mse_per_feature": 0.0}, 1.0
    elif hasattr(x_eval, "chunks"):  # splits streamed from disk: IncrementalPCA, errors summed chunk by chunk
        pca = pca or PCABaseline(k).fit_stream(x_train)
        ae, base, scale = _streamed_errors(model, pca, x_eval)
    else:
        pca = pca or PCABaseline(k).fit(x_train)
        ae = reconstruction_errors(x_eval, reconstruct(model, x_eval))
        base = reconstruction_errors(x_eval, pca.reconstruct(x_eval))
        scale = float((np.asarray(x_eval, np.float64) ** 2).sum(axis=1).mean())
    if base["squared_error_per_sample"] <= 1e-12 * scale:  # k spans the data: PCA is exact, up to rounding
        base = {"squared_error_per_sample": 0.0, "mse_per_feature": 0.0}
    return {
        "k": k,
        **ae,
        "pca_squared_error_per_sample": base["squared_error_per_sample"],
        "pca_mse_per_feature": base["mse_per_feature"],
        # None when PCA is exact (k at least the data's rank): there is no ratio to report
        "ratio_to_pca": (
            ae["squared_error_per_sample"] / base["squared_error_per_sample"]
            if base["squared_error_per_sample"] > 0
            else None
        ),
        "n_samples": int(len(x_eval)),
    }


def _features(x) -> int:
    return int(x.n_features if hasattr(x, "n_features") and hasattr(x, "chunks") else np.shape(x)[1])


def _streamed_errors(model, pca: PCABaseline | None, feed, batch_rows: int = 8192):
    """The model's and PCA's errors (as :func:`reconstruction_errors`; PCA's 0 when None) and the mean ‖x‖² over
    a feed."""
    total_ae = total_pca = total_norm = 0.0
    for chunk in feed.chunks(batch_rows):
        x = chunk.numpy()
        total_ae += squared_errors(x, reconstruct(model, x)).sum()
        total_pca += squared_errors(x, pca.reconstruct(x)).sum() if pca is not None else 0.0
        total_norm += float((x.astype(np.float64) ** 2).sum())
    n, d = len(feed), feed.n_features
    ae, base = total_ae / n, total_pca / n
    return (
        {"squared_error_per_sample": ae, "mse_per_feature": ae / d},
        {"squared_error_per_sample": base, "mse_per_feature": base / d},
        total_norm / n,
    )


def errors_of(model, x) -> np.ndarray:
    """‖x − x̂‖² of each row of ``x`` (an array, or a feed streamed from disk, in file order): (N,) float64."""
    if not hasattr(x, "chunks"):
        return squared_errors(x, reconstruct(model, x))
    return np.concatenate([squared_errors(c.numpy(), reconstruct(model, c.numpy())) for c in x.chunks(8192)])


# --------------------------------------------------------------------------------------------------- the variants


def psnr(clean: np.ndarray, other: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, 10 log₁₀(range² / MSE_i), averaged over samples (MSE_i per feature).

    Parameters
    ----------
    clean : ndarray
        The clean rows, (N, D).
    other : ndarray
        Their noisy or denoised versions, (N, D).
    data_range : float, optional
        The range of the values (1 for images in [0, 1]).

    Returns
    -------
    float
        PSNR in dB, the mean over rows.
    """
    mse = squared_errors(clean, other) / np.shape(clean)[1]
    return float(np.mean(10 * np.log10(data_range**2 / np.maximum(mse, 1e-12))))


def corrupt(corruption, x: np.ndarray, seed: int = 0, noise_map: int = 0) -> np.ndarray:
    """x̃ = c(x), seeded (the same set for every model compared); with ``noise_map`` M, rows followed by M σs."""
    rows, g = torch.as_tensor(x, dtype=torch.float32), torch.Generator().manual_seed(seed)
    noisy = with_noise_map(corruption.with_levels(rows, g), noise_map) if noise_map else corruption(rows, g)
    return noisy.numpy()


def code_sparsity(z: np.ndarray) -> dict[str, float]:
    """``zero_fraction``: the fraction of code activations that are exactly 0; ``mean_active``: the mean number of
    non-zero units per sample.

    Parameters
    ----------
    z : ndarray
        Codes, (N, k).

    Returns
    -------
    dict
        ``zero_fraction`` and ``mean_active``.
    """
    nonzero = np.asarray(z) != 0
    return {"zero_fraction": float(1 - nonzero.mean()), "mean_active": float(nonzero.sum(axis=1).mean())}


@torch.no_grad()
def codebook_usage(model, x: np.ndarray, batch_size: int = 4096) -> dict:
    """A VQ-VAE's codebook over the rows of ``x``: ``codebook_perplexity`` (exp of the entropy of the entries'
    usage: K when all K are used evenly; :func:`hourglass.quantizers.perplexity`), ``codebook_used`` (entries
    chosen at least once) and ``codebook_entries`` (K)."""
    from .quantizers import perplexity

    model.eval()
    q = model.quantizer
    index = torch.cat(
        [q.indices(model.encode(torch.as_tensor(x[i : i + batch_size]).to(device_of(model)))).cpu()
         for i in range(0, len(x), batch_size)]
    )  # fmt: skip
    return {
        "codebook_perplexity": perplexity(index, q.entries),
        "codebook_used": int(index.unique().numel()),
        "codebook_entries": q.entries,
    }


def mean_jacobian_norm(model, x: np.ndarray, batch_size: int = 512) -> float:
    """Mean over samples of ‖J_f(x)‖_F (not squared), computed exactly.

    Parameters
    ----------
    model
        A trained model (an :class:`~hourglass.models.Autoencoder`, :class:`~hourglass.models.VAE` or
        :class:`~hourglass.models.VQVAE`).
    x : ndarray
        Rows in the model's space, (N, D).
    batch_size : int, optional
        Rows per pass through the model (memory, not the result).

    Returns
    -------
    float
        The mean ‖J_f(x)‖_F.
    """
    from .penalties import jacobian_frobenius_sq_exact

    model.eval()
    device = device_of(model)
    norms = [
        jacobian_frobenius_sq_exact(model.encode, torch.as_tensor(x[i : i + batch_size]).to(device)).detach().sqrt()
        for i in range(0, len(x), batch_size)
    ]
    return float(torch.cat(norms).mean())


def code_gaussian(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (k,) and Cholesky factor (k, k) of a Gaussian fitted to codes ``z`` (N, k), float64 (the covariance
    plus 1e-6 I, so that a code with a constant unit still has a factor)."""
    z = np.asarray(z, np.float64)
    cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]) + 1e-6 * np.eye(z.shape[1])
    return z.mean(axis=0), np.linalg.cholesky(cov)


def fit_code_gaussian(model, x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Cholesky factor of a Gaussian fitted to the codes of ``x_train`` (for :meth:`Autoencoder.sample`)."""
    return code_gaussian(encode(model, x_train))


@torch.no_grad()
def vae_bounds(
    model, x: np.ndarray, importance_samples: int = 1, seed: int = 0, batch_size: int = 500, chunk: int = 100
) -> dict[str, float]:
    """The ELBO and the importance-weighted bound on log p(x) (Burda et al. 2016), in nats per sample.

    log p(x) ≥ log (1/K) Σ_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x), computed with a stable log-mean-exp; K = 1 gives
    the ELBO's single-sample estimate, and the bound tightens toward log p(x) as K grows.

    Parameters
    ----------
    model : VAE
        A trained :class:`~hourglass.models.VAE`.
    x : ndarray
        Rows in the model's space, (N, D).
    importance_samples : int, optional
        K, the draws of z per sample.
    seed : int, optional
        Seeds the draws, so the same seed gives the same bound.
    batch_size : int, optional
        Rows per pass through the model (memory, not the result).
    chunk : int, optional
        Draws evaluated at a time.

    Returns
    -------
    dict
        ``elbo`` (the objective's analytic-KL ELBO with one sample), ``log_likelihood`` (the K-sample bound) and
        ``nll`` (its negative), nats per sample.
    """
    from .losses import Objective, log_importance_weights, log_likelihood_of_draws, log_mean_exp

    likelihood = "bce" if model.likelihood == "bernoulli" else "gaussian"
    elbo_of = Objective(likelihood)
    model.eval()
    g = torch.Generator().manual_seed(seed)  # draws on the host: the same bound on any device
    device = device_of(model)
    elbo_sum, bounds = 0.0, []
    for i in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[i : i + batch_size], dtype=torch.float32).to(device)
        out = model(xb, generator=g)
        elbo_sum += float(elbo_of(out, xb)[1]["elbo"]) * len(xb)
        log_w = []
        for start in range(0, importance_samples, chunk):
            draws = model(xb, generator=g, samples=min(chunk, importance_samples - start))
            log_w.append(log_importance_weights(draws, log_likelihood_of_draws(likelihood, draws, xb)))
        bounds.append(log_mean_exp(torch.cat(log_w), dim=0))
    bound = torch.cat(bounds).double().mean().item()
    return {"elbo": elbo_sum / len(x), "log_likelihood": bound, "nll": -bound, "importance_samples": importance_samples}
