"""hourglass: autoencoders as the textbook tells them, measured on real data.

    x ──f──▶ z ──g──▶ x̂        encoder f, code z (the bottleneck, dim z < dim x), decoder g

Read the package in the order data flows: data → nets → models → losses → train → checkpoint → pca, metrics →
report → cli.
"""

from ._version import __version__
from .checkpoint import Checkpoint, load, save
from .data import Dataset, Scaling, load_dataset, load_digits, load_mnist
from .errors import HourglassError, TrainingDiverged
from .losses import Objective, bernoulli_cross_entropy_per_sample, squared_error_per_sample
from .metrics import compare_with_pca, encode, reconstruct, reconstruction_errors
from .models import Autoencoder
from .nets import Architecture
from .pca import PCABaseline
from .train import History, TrainConfig, fit

__all__ = [
    "__version__", "Architecture", "Autoencoder", "Checkpoint", "Dataset", "History", "HourglassError",
    "Objective", "PCABaseline", "Scaling", "TrainConfig", "TrainingDiverged", "bernoulli_cross_entropy_per_sample",
    "compare_with_pca", "encode", "fit", "load", "load_dataset", "load_digits", "load_mnist", "reconstruct",
    "reconstruction_errors", "save", "squared_error_per_sample",
]
