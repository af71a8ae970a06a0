"""Where the claims run: the data, the sizes of the full and the quick run, and a cache of trained models.

A model trained for one claim is reused by the others, and every trained model is kept in ``OUT/models/NAME`` as an
ordinary hourglass checkpoint beside a ``recipe.json`` that says how it was made. A re-run with the same recipe
loads it instead of training again; a run that was stopped part-way resumes from its last epoch.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..data import Dataset, Scaling, load_mnist
from ..devices import fastest_precision, resolve
from ..errors import HourglassError
from ..models import Autoencoder
from ..store import checkpoint as ckpt
from ..store import files, training_state
from ..training.loop import TrainConfig
from ..variants import LATENT_DIM, VQ_OPTIONS
from ..workflow import ModelConfig, train


@dataclass(frozen=True)
class Sizes:
    """How big each experiment is. ``FULL`` is the real run; ``QUICK`` checks that every experiment works.

    n_train / n_val / n_test: MNIST rows used (None: all 50,000 / 10,000 / 10,000).
    batch_size: for every autoencoder (the quick run takes smaller batches: more steps from less data).
    epochs: the MLP families shared by several claims; deep_epochs / conv_epochs: claim 3's two networks;
    classifier_epochs: the digit classifier that judges samples (claim 7).
    """

    name: str
    n_train: int | None
    n_val: int | None
    n_test: int | None
    batch_size: int
    epochs: int
    linear_epochs: int
    deep_epochs: int
    conv_epochs: int
    classifier_epochs: int
    manifold_samples: int
    manifold_epochs: int
    score_train: int
    score_epochs: int
    draws: int  # prior draws and generated samples per generator (claims 7 and 11)
    vq_epochs: int = 15  # the VQ-VAE and the FSQ autoencoder (claim 11)
    prior_epochs: int = 60  # the latent diffusion prior (claim 11)
    ar_epochs: int = 5  # the autoregressive priors over the discrete codes' grids (claim 11) ...
    ar_width: int = 128  # ... their transformers' width and layers
    ar_layers: int = 4

    @property
    def quick(self) -> bool:
        return self.name == "quick"


FULL = Sizes(
    "full",
    None,
    None,
    None,
    batch_size=256,
    epochs=30,
    linear_epochs=30,
    deep_epochs=180,
    conv_epochs=25,
    classifier_epochs=4,
    manifold_samples=10_000,
    manifold_epochs=100,
    score_train=20_000,
    score_epochs=30,
    draws=10_000,
)
QUICK = Sizes(
    "quick",
    4_000,
    800,
    800,
    batch_size=64,
    epochs=5,
    linear_epochs=5,
    deep_epochs=2,
    conv_epochs=1,
    classifier_epochs=1,
    manifold_samples=2_000,
    manifold_epochs=50,
    score_train=3_000,
    score_epochs=8,
    draws=500,
    vq_epochs=1,
    prior_epochs=3,
    ar_epochs=1,
    ar_width=32,
    ar_layers=1,
)


@dataclass
class LabModel:
    """A trained model from the lab: the model, the scaling of its inputs, its training time (from the run that
    trained it), its checkpoint folder, and whether it was loaded rather than trained now."""

    model: Autoencoder
    scaling: Scaling
    train_seconds: float
    folder: Path
    cached: bool


@dataclass
class Lab:
    """The shared state of one claims run: output folder, seed, sizes, data, the device models train on
    (:func:`hourglass.devices.resolve`; they are measured on the CPU) and the models trained so far."""

    out: Path
    seed: int = 0
    sizes: Sizes = FULL
    progress: bool = True
    log: Callable[[str], object] = print
    device: str = "auto"
    _models: dict = field(default_factory=dict)
    _mnist: Dataset | None = None

    def __post_init__(self):
        self.out = Path(self.out)

    @property
    def mnist(self) -> Dataset:
        """MNIST (all of it, or the quick run's first rows of each split)."""
        if self._mnist is None:
            full = load_mnist()
            s = self.sizes
            if s.n_train is None:
                self._mnist = full
            else:
                self._mnist = Dataset(
                    f"mnist[:{s.n_train}]",
                    full.x_train[: s.n_train],
                    full.x_val[: s.n_val],
                    full.x_test[: s.n_test],
                    full.labels("train")[: s.n_train],
                    full.labels("val")[: s.n_val],
                    full.labels("test")[: s.n_test],
                    shape=full.shape,
                    source={"name": "mnist", "rows": [s.n_train, s.n_val, s.n_test]},
                )
        return self._mnist

    def figure(self, name: str) -> Path:
        """Where a figure of the report goes."""
        path = self.out / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def model(
        self,
        name: str,
        config: ModelConfig,
        epochs: int,
        lr: float = 3e-3,
        data: Dataset | None = None,
        **train_options,
    ) -> LabModel:
        """The model ``name`` trained with ``config`` for ``epochs`` on ``data`` (default MNIST): from memory, from
        ``OUT/models/NAME`` when its recipe matches, or trained now (resuming a stopped run of the same recipe).
        ``train_options`` are :class:`TrainConfig` fields; precision "auto" is resolved for the lab's device
        (:func:`hourglass.devices.fastest_precision`) before it becomes part of the recipe."""
        if name in self._models:
            return self._models[name]
        data = data or self.mnist
        train_options.setdefault("batch_size", self.sizes.batch_size)
        if "precision" in train_options:  # "auto": bf16 where the device computes it natively, else fp32
            train_options["precision"] = fastest_precision(train_options["precision"], resolve(self.device))
        tc = TrainConfig(
            epochs=epochs, lr=lr, seed=self.seed, progress=self.progress, device=self.device, **train_options
        )
        # The device is not part of the recipe: a model trained on a GPU is the same model for the claims.
        recipe = {
            "model": _model_record(config),
            "training": replace(tc, progress=False, device="auto").to_dict(),
            "data": {"name": data.name, **data.source},
            "sizes": self.sizes.name,
        }
        folder = self.out / "models" / name
        record_path = folder / "recipe.json"
        record = _read_record(record_path)
        same = record.get("recipe") == recipe
        done, done_seconds = _epochs_done(folder) if same else (0, 0.0)
        if same and not record.get("finished") and done >= epochs:  # stopped after its last epoch was saved
            record = self._finished(record_path, recipe, done_seconds, done)
        if same and record.get("finished"):
            saved = ckpt.load(folder)
            trained = LabModel(saved.model, saved.scaling, record["train_seconds"], folder, cached=True)
            self.log(f"  {name}: trained earlier ({record['train_seconds']:.0f} s), loaded from {folder}")
        else:
            resume = done > 0
            if not resume and folder.exists():
                shutil.rmtree(folder)  # another recipe, or nothing saved yet: start afresh
            folder.mkdir(parents=True, exist_ok=True)
            files.write_text(record_path, json.dumps({"recipe": recipe, "finished": False}, indent=2) + "\n")
            self.log(
                f"  {name}: training {config.model} {config.expanded().arch} {_widths(config)} for {epochs} epochs"
                + (f" (resuming after epoch {done})" if resume else "")
            )
            result = train(data, config, tc, out=folder, resume=resume)
            if result.history.stopped == "interrupted":  # Ctrl-C: stop the run; the next one resumes from here
                raise KeyboardInterrupt
            # Training time is the sum of the epochs' times, so a resumed run counts the earlier session's epochs too.
            seconds = sum(e["seconds"] for e in result.history.epochs)
            self._finished(record_path, recipe, seconds, len(result.history.epochs))
            trained = LabModel(result.model.cpu(), result.scaling, seconds, folder, cached=False)
        trained.model.eval()
        self._models[name] = trained
        return trained

    @staticmethod
    def _finished(record_path: Path, recipe: dict, seconds: float, epochs: int) -> dict:
        record = {"recipe": recipe, "finished": True, "train_seconds": seconds, "epochs": epochs}
        files.write_text(record_path, json.dumps(record, indent=2) + "\n")
        return record


def _read_record(path: Path) -> dict:
    """A model folder's recipe.json, or {} when it is missing or unreadable (the model is then trained afresh)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _epochs_done(folder: Path) -> tuple[int, float]:
    """Epochs saved in a model folder's resume state, and the seconds they took (0, 0 when there is none)."""
    try:
        record = training_state.read_training_record(folder)
        epochs = record["history"]["epochs"] if record is not None else []
        return len(epochs), float(sum(e["seconds"] for e in epochs))
    except (HourglassError, OSError, KeyError, TypeError):
        return 0, 0.0


def _model_record(config: ModelConfig) -> dict:
    """The model's part of a recipe: its options, less a codebook's when there is none — so the recipes of models
    trained before codebooks existed still match, and those models are reused, not trained again."""
    record = _jsonable(asdict(config))
    if record["latent_dim"] is None:  # not given: recorded as the default it was before it could be left out
        record["latent_dim"] = LATENT_DIM
    if config.expanded().codebook is None:
        for option in ("codebook", *VQ_OPTIONS):
            record.pop(option, None)
    if config.levels is not None:  # finite scalar quantisation has no codebook: its options are not its recipe
        for option in VQ_OPTIONS:
            record.pop(option, None)
    if config.quantizer is None:  # likewise the quantiser's kind, before there was more than one
        record.pop("quantizer", None)
    return record


def _widths(config: ModelConfig) -> str:
    code = f"codebook {config.expanded().codebook}" if config.expanded().codebook else f"code {config.latent_dim}"
    return f"widths {list(config.widths) if config.widths is not None else 'default'}, {code}"


def _jsonable(d: dict) -> dict:
    return json.loads(json.dumps(d, default=lambda v: list(v) if isinstance(v, tuple) else str(v)))
