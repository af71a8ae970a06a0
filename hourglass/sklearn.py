"""hourglass in scikit-learn's clothes: a transformer (codes) and an outlier detector (reconstruction error).

Both follow scikit-learn's conventions: ``__init__`` stores its parameters verbatim, ``fit`` validates them and the
data, fitted attributes end in ``_``. They do not scale the data themselves; put a ``StandardScaler`` in front, as
for any neural network in scikit-learn. The training is hourglass's own (:func:`hourglass.training.loop.fit`), on a
validation split of ``validation_fraction`` of the rows for early stopping and best-weights restore.
"""

from __future__ import annotations

import copy
import numbers
import textwrap
from dataclasses import fields

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, OutlierMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, check_random_state, validate_data

from .data import split_indices
from .data.dataset import FLOAT32_MAX
from .metrics import apply_model, finite_rows, squared_errors
from .training.config import TRAIN_OPTIONS
from .training.loop import TrainConfig, fit
from .variants import MODEL_OPTIONS, ModelConfig


class _AutoencoderBase(BaseEstimator):
    # The ranges are hourglass's own (hourglass.options): the same as the configs' and the CLI's.
    _parameter_constraints: dict = {
        "latent_dim": [r for r in MODEL_OPTIONS["latent_dim"].sklearn() if r is not None],  # k must be given
        "hidden_widths": ["array-like"],
        "model": MODEL_OPTIONS["model"].sklearn(),
        "loss": [StrOptions({"mse", "bce"})],  # no "auto" here: the estimators do not scale, so the user says
        "activation": MODEL_OPTIONS["activation"].sklearn(),
        "noise": [str, None],
        "l1": MODEL_OPTIONS["l1"].sklearn(),
        "contractive": MODEL_OPTIONS["contractive"].sklearn(),
        "beta": MODEL_OPTIONS["beta"].sklearn(),
        "epochs": TRAIN_OPTIONS["epochs"].sklearn(),
        "batch_size": TRAIN_OPTIONS["batch_size"].sklearn(),
        "learning_rate": TRAIN_OPTIONS["lr"].sklearn(),
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": TRAIN_OPTIONS["patience"].sklearn(),
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str],
    }

    def __init__(
        self,
        latent_dim=2,
        hidden_widths=(64,),
        model="ae",
        loss="mse",
        activation="silu",
        noise=None,
        l1=None,
        contractive=None,
        beta=1.0,
        epochs=100,
        batch_size=64,
        learning_rate=3e-3,
        validation_fraction=0.1,
        patience=None,
        random_state=None,
        verbose=False,
        device="auto",
    ):
        self.latent_dim = latent_dim
        self.hidden_widths = hidden_widths
        self.model = model
        self.loss = loss
        self.activation = activation
        self.noise = noise
        self.l1 = l1
        self.contractive = contractive
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.non_deterministic = False  # deterministic for a fixed random_state
        return tags

    def _validate(self, X, reset: bool) -> np.ndarray:
        X = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], accept_sparse=False, ensure_all_finite=True
        )
        huge = np.abs(X) > FLOAT32_MAX  # finite in float64, infinite once the model reads it as float32
        if huge.any():
            row, col = np.argwhere(huge)[0]
            name = getattr(self, "feature_names_in_", None)
            column = f"column {name[col]!r}" if name is not None and col < len(name) else f"column {col}"
            raise ValueError(
                f"X has {int(huge.sum())} values beyond float32's range ±3.4e38 (first: "
                f"{X[row, col]:.3g} at row {row}, {column}); rescale them"
            )
        return X

    def _fit_autoencoder(self, X):
        self._validate_params()
        X = self._validate(X, reset=True)
        n = X.shape[0]
        if n < 2:
            raise ValueError(f"n_samples={n}: an autoencoder needs at least 2 samples to fit")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        x = X.astype(np.float32)
        if not 1 <= round(self.validation_fraction * n) < n:  # too few rows to hold some out: validate on them all
            x_train, x_val = x, x
        else:
            train_rows, val_rows, _ = split_indices(n, seed, self.validation_fraction, test_fraction=0)
            x_train, x_val = x[train_rows], x[val_rows]
        config = ModelConfig(
            model=self.model,
            arch="mlp",
            widths=tuple(self.hidden_widths),
            latent_dim=self.latent_dim,
            activation=self.activation,
            noise=self.noise,
            l1=self.l1,
            contractive=self.contractive,
            beta=self.beta,
            loss=self.loss,
        )
        # scikit-learn's estimator checks fit a few features: a code as wide is the user's choice here (it learns
        # the identity, as PCA with every component would).
        value_range = (float(x.min()), float(x.max()))
        self.autoencoder_, objective = config.resolve((X.shape[1],), value_range, seed, require_bottleneck=False)
        train_config = TrainConfig(
            epochs=self.epochs,
            batch_size=min(self.batch_size, len(x_train)),
            lr=self.learning_rate,
            patience=self.patience,
            seed=seed,
            progress=bool(self.verbose),
            device=self.device,
        )
        self.history_ = fit(self.autoencoder_, objective, x_train, x_val, train_config)
        self.autoencoder_.cpu()  # trained on ``device``; kept on the host, so a pickled estimator loads anywhere
        self.n_epochs_ = len(self.history_.epochs)
        return X

    def _apply(self, method: str, X: np.ndarray) -> np.ndarray:
        """``autoencoder_.<method>`` over the rows of X, in X's precision.

        float64 input runs a float64 copy of the model, so that a row's result does not depend on which other rows
        share its batch (float32 matrix kernels round differently for different batch sizes). float32 input runs
        the model as it is, rows that overflow float32 again in float64 (:func:`~hourglass.metrics.apply_model`).
        """
        model = self.autoencoder_
        if X.dtype != np.float64:
            return apply_model(model, method, X)
        model = copy.deepcopy(model).double().eval()
        with torch.no_grad():
            out = getattr(model, method)(torch.tensor(X))  # a copy: X may be a read-only memmap
        return out.numpy()

    def _reconstruction_error(self, X) -> np.ndarray:
        """Squared error per sample of the rows of X, shape (n_samples,); a row whose error is not finite (it
        overflowed even float64) gets +inf, the largest error: it is the least normal row there is."""
        errors = squared_errors(X, self._apply("reconstruct", X))
        errors[~np.isfinite(errors)] = np.inf
        return errors

    def _in_dtype_of(self, X: np.ndarray, out: np.ndarray, what: str) -> np.ndarray:
        """``out`` in X's precision, or a ValueError naming the rows whose ``what`` do not fit it."""
        if X.dtype == np.float32:
            return finite_rows(out, what, first_row=0)
        bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
        if len(bad):
            raise ValueError(f"rows {bad[:5].tolist()} (counted from 0): {what} are not finite")
        return out


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _AutoencoderBase):
    """Reduce dimensions with an autoencoder: ``transform`` gives the codes z = f(x), ``inverse_transform`` the
    reconstructions g(z).

    Fitted attributes: ``autoencoder_`` (the torch model, on the host), ``history_``, ``n_epochs_``, ``n_features_in_``,
    ``feature_names_in_`` (for DataFrames with string column names).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        self._fit_autoencoder(X)
        self._n_features_out = self.latent_dim
        return self

    def transform(self, X):
        """Codes z = f(x): (n_samples, n_features) → (n_samples, latent_dim)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._in_dtype_of(X, self._apply("encode", X), "codes")

    def inverse_transform(self, X):
        """Reconstructions g(z) from codes: (n_samples, latent_dim) → (n_samples, n_features_in_)."""
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.latent_dim:
            raise ValueError(f"inverse_transform takes codes of shape (n_samples, {self.latent_dim}), got {Z.shape}")
        return self._in_dtype_of(Z, self._apply("decode", Z), "reconstructions")

    def score_samples(self, X):
        """Negative squared reconstruction error of each row (higher = better reconstructed)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return -self._reconstruction_error(X)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error per sample (higher is better, as scikit-learn expects)."""
        return float(np.mean(self.score_samples(X)))


class AutoencoderOutlierDetector(OutlierMixin, _AutoencoderBase):
    """Novelty and outlier detection by reconstruction error: rows the autoencoder reconstructs badly are outliers.

    ``score_samples`` = −(squared reconstruction error), so higher is more normal, as in IsolationForest and
    LocalOutlierFactor; ``offset_`` is the ``contamination`` quantile of the training scores, ``decision_function``
    = score_samples − offset_ (negative for outliers), and ``predict`` gives +1 (inlier) or −1 (outlier).
    """

    _parameter_constraints: dict = {
        **_AutoencoderBase._parameter_constraints,
        "contamination": [Interval(numbers.Real, 0, 0.5, closed="right")],
    }

    def __init__(
        self,
        latent_dim=2,
        hidden_widths=(64,),
        model="ae",
        loss="mse",
        activation="silu",
        noise=None,
        l1=None,
        contractive=None,
        beta=1.0,
        epochs=100,
        batch_size=64,
        learning_rate=3e-3,
        validation_fraction=0.1,
        patience=None,
        random_state=None,
        verbose=False,
        device="auto",
        contamination=0.1,
    ):
        super().__init__(
            latent_dim,
            hidden_widths,
            model,
            loss,
            activation,
            noise,
            l1,
            contractive,
            beta,
            epochs,
            batch_size,
            learning_rate,
            validation_fraction,
            patience,
            random_state,
            verbose,
            device,
        )
        self.contamination = contamination

    def fit(self, X, y=None):
        X = self._fit_autoencoder(X)
        self.offset_ = float(np.percentile(-self._reconstruction_error(X), 100 * self.contamination))
        return self

    def score_samples(self, X):
        """−(squared reconstruction error) of each row: higher is more normal."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return -self._reconstruction_error(X)

    def feature_scores(self, X):
        """Each row's squared reconstruction error split by feature, (n_samples, n_features): a row's parts sum to
        −score_samples(X), and its largest part names the feature where it departs most from the training data."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        with np.errstate(over="ignore", invalid="ignore"):
            parts = (X - self._apply("reconstruct", X)) ** 2
        return np.where(np.isnan(parts), np.inf, parts)

    def decision_function(self, X):
        """score_samples − offset_: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, −1 for outliers."""
        return np.where(self.decision_function(X) < 0, -1, 1)


def _parameters(*extra: tuple[str, str]) -> str:
    """The estimators' numpydoc Parameters section; the options they share with ModelConfig and TrainConfig say
    what those fields' help says (:func:`hourglass.options.option`), stated once."""
    model, training = {f.name: f for f in fields(ModelConfig)}, {f.name: f for f in fields(TrainConfig)}

    def helped(field) -> str:
        return field.metadata["help"].replace(" (default %(default)s)", "").replace("%(default)s", "the default")

    rows = [
        ("latent_dim : int, default 2", "k, the size of the code z."),
        ("hidden_widths : tuple of int, default (64,)", "The encoder's hidden layers, mirrored by the decoder."),
        ("model : str, default 'ae'", 'A preset: "ae", "dae", "sae", "cae" or "vae".'),
        ("loss : str, default 'mse'", '"mse", or "bce" for X in [0, 1] (the estimators do not scale X).'),
        ("activation : str, default 'silu'", helped(model["activation"])),
        ("noise : str or None, default None", helped(model["noise"])),
        ("l1 : float or None, default None", helped(model["l1"])),
        ("contractive : float or None, default None", helped(model["contractive"])),
        ("beta : float, default 1.0", helped(model["beta"])),
        ("epochs : int, default 100", helped(training["epochs"])),
        ("batch_size : int, default 64", helped(training["batch_size"])),
        ("learning_rate : float, default 3e-3", helped(training["lr"])),
        ("validation_fraction : float, default 0.1", "The share of rows held out to choose the best epoch."),
        ("patience : int or None, default None", helped(training["patience"])),
        ("random_state : int, RandomState or None, default None", "Seeds the split, the weights and the shuffles."),
        ("verbose : bool, default False", "Show training progress."),
        ("device : str, default 'auto'", helped(training["device"])),
        *extra,
    ]
    lines = ["", "Parameters", "----------"]
    for head, text in rows:
        lines += [head] + ["    " + line for line in textwrap.wrap(text[0].upper() + text[1:], 112)]
    return textwrap.indent("\n".join(lines), "    ")


AutoencoderTransformer.__doc__ = (AutoencoderTransformer.__doc__ or "").rstrip() + "\n" + _parameters()
AutoencoderOutlierDetector.__doc__ = (
    (AutoencoderOutlierDetector.__doc__ or "").rstrip()
    + "\n"
    + _parameters(
        ("contamination : float, default 0.1", "The expected share of outliers in the training data, in (0, 0.5]."),
    )
)
