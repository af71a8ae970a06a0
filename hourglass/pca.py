"""PCA, the baseline every autoencoder is measured against: the best *linear* k-dimensional reconstruction.

Fitted on the same (scaled) training data and measured in the same unit — squared error per sample — so that
"AE vs PCA at the same k" compares like with like.
"""

from __future__ import annotations

import numpy as np
import torch

from .losses import squared_error_per_sample


class PCABaseline:
    """Project onto the top-k principal components and back: x̂ = μ + V_k V_kᵀ (x − μ).

    Fitted attributes (after :meth:`fit`): ``pca_`` (scikit-learn's PCA, ``components_`` shaped (k, D)).

    Parameters
    ----------
    k : int
        Number of components (the autoencoder's latent_dim); an overcomplete k ≥ D keeps all D components, which
        reconstruct exactly.
    """

    def __init__(self, k: int):
        self.k = k

    def fit(self, x_train: np.ndarray) -> PCABaseline:
        # covariance_eigh is exact and fast when N >> D (MNIST: one 784×784 eigenproblem).
        from sklearn.decomposition import PCA  # here, not at import: a CLI command that fits no PCA starts sooner

        solver = "covariance_eigh" if x_train.shape[0] >= x_train.shape[1] else "full"
        k = min(self.k, *x_train.shape)
        self.pca_ = PCA(n_components=k, svd_solver=solver).fit(np.asarray(x_train, dtype=np.float64))
        return self

    def from_moments(self, mean: np.ndarray, covariance: np.ndarray, n: int) -> PCABaseline:
        """The exact PCA of data with this ``mean`` (D,) and ``covariance`` (D, D) of ``n`` rows: the top-k
        eigenvectors of the covariance (one symmetric eigendecomposition, ``numpy.linalg.eigh``), as scikit-learn's
        ``covariance_eigh`` solver computes them — no pass over the data."""
        from sklearn.decomposition import PCA

        k = min(self.k, len(mean), n)
        values, vectors = np.linalg.eigh(covariance)
        order = np.argsort(values)[::-1][:k]
        pca = PCA(n_components=k)
        pca.mean_, pca.components_ = np.asarray(mean, np.float64), vectors[:, order].T.copy()
        pca.explained_variance_ = values[order] * n / max(n - 1, 1)
        pca.n_components_, pca.n_features_in_, pca.whiten = k, len(mean), False
        self.pca_ = pca
        return self

    def fit_stream(self, feed, batch_rows: int = 8192) -> PCABaseline:
        """Fit on a feed too large for memory (:mod:`hourglass.training.feeds`): exactly, from the co-moments the
        streaming first pass gathered (:meth:`from_moments`, up to
        :data:`~hourglass.data.streaming.EXACT_PCA_MAX_FEATURES` columns); above that with scikit-learn's
        IncrementalPCA (Ross et al. 2008), ``batch_rows`` rows at a time — the same components up to the rounding
        of its incremental SVD updates, at the cost of a pass over the split."""
        from sklearn.decomposition import IncrementalPCA

        from .data.streaming import StreamedSplit

        moments = feed.moments() if isinstance(feed, StreamedSplit) else None
        if moments is not None:
            return self.from_moments(*moments)

        k = min(self.k, feed.n_features, len(feed))
        self.pca_ = IncrementalPCA(n_components=k)
        pending = None
        for chunk in feed.chunks(batch_rows):  # a last chunk with fewer than k rows joins the one before it
            chunk = chunk.numpy().astype(np.float64)
            if pending is not None and len(chunk) >= k:
                self.pca_.partial_fit(pending)
                pending = chunk
            else:
                pending = chunk if pending is None else np.concatenate([pending, chunk])
        self.pca_.partial_fit(pending)
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The k principal coordinates of each row: (N, D) → (N, k)."""
        return self.pca_.transform(np.asarray(x, dtype=np.float64)).astype(np.float32)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """x̂: (N, D) → (N, D), float32."""
        x64 = np.asarray(x, dtype=np.float64)
        return self.pca_.inverse_transform(self.pca_.transform(x64)).astype(np.float32)

    def squared_error_per_sample(self, x: np.ndarray) -> float:
        """Mean over rows of ‖x − x̂‖² (computed in float64)."""
        x64 = np.asarray(x, dtype=np.float64)
        x_hat = self.pca_.inverse_transform(self.pca_.transform(x64))
        return float(squared_error_per_sample(torch.as_tensor(x_hat), torch.as_tensor(x64)).mean())
