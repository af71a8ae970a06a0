"""The user's own files: .npy, .npz, tables and folders of PNGs, read, validated and split."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import HourglassError
from .dataset import Dataset, check_array, split_indices
from .mnist import is_idx_folder, load_mnist_idx
from .tables import TABLE_SUFFIXES, read_table, table_spec, table_to_array


def _png_pixels(im, path: Path) -> np.ndarray:
    """One PNG's pixels as (H, W) grey or (H, W, 3) RGB on the 0–255 scale: 8-bit values as they are, 16-bit ones
    divided by 257 (65535 → 255, nothing saturated); a palette becomes its colours. Transparency is refused:
    what the pixels under it should be is not ours to guess."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("LA", "RGBA", "PA", "La", "RGBa"):
        alpha = np.asarray(im.getchannel("A"))
        if (alpha < 255).any():
            raise HourglassError(f"{path}: has transparent pixels ({mode}); save it without an alpha channel")
        im = im.convert("L" if mode.startswith("L") else "RGB")
        mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(im).astype(np.float64)
        if pixels.min() < 0 or pixels.max() > 65535:
            raise HourglassError(f"{path}: {mode} pixels span [{pixels.min():g}, {pixels.max():g}], beyond 16 bits")
        return (pixels / 257).astype(np.float32)
    if mode in ("1", "L"):
        return np.asarray(im.convert("L"))
    if mode == "RGB":
        return np.asarray(im)
    raise HourglassError(f"{path}: colour mode {mode} is not read; expected grey, RGB, a palette or 16-bit grey")


def read_png_folder(folder: Path) -> np.ndarray:
    """All ``*.png`` in ``folder`` (sorted by name) as (N, C, H, W) on the 0–255 scale (uint8, or float32 when a
    16-bit image is among them); they must share their size."""
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
                images.append((f, _png_pixels(im, f)))
        except (UnidentifiedImageError, OSError) as e:
            raise HourglassError(f"{f}: not a readable PNG ({e})") from None
    channels = 1 if all(a.ndim == 2 for _, a in images) else 3
    first_file, first = images[0]
    out = []
    for f, a in images:
        if a.shape[:2] != first.shape[:2]:
            raise HourglassError(
                f"{f}: size {a.shape[1]}×{a.shape[0]}, but {first_file.name} is "
                f"{first.shape[1]}×{first.shape[0]}; all images must be the same size"
            )
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
            xkey = keys[0] if len(keys) == 1 else next((k for k in ("x", "X", "data") if k in keys), None)
            if xkey is None:
                raise HourglassError(f"{path}: holds {keys}; expected one array, or 'x' with optional 'y'")
            ykey = next((k for k in ("y", "labels") if k in keys), None) if len(keys) > 1 else None
            try:  # each array is read here, lazily: a pickled (object) one is refused now
                return loaded[xkey], (loaded[ykey] if ykey else None), None
            except ValueError as e:
                msg = "holds Python objects, which are never unpickled" if "pickle" in str(e) else str(e)
                raise HourglassError(f"{path}: cannot read ({msg})") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise HourglassError(f"{path}: not a readable {suffix} file ({e})") from None
    raise HourglassError(
        f"{path}: unsupported file type {suffix!r}; expected .npy, .npz, .csv, .parquet or a folder of PNGs"
    )


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
        x, shape = check_array(raw, str(path), columns=spec.feature_names)
        tr, va, te = split_indices(len(x), seed)
        return Dataset(
            path.stem,
            x[tr],
            x[va],
            x[te],
            shape=shape,
            columns=spec.feature_names,
            source={"path": str(path.resolve()), "seed": seed, "table": spec.to_dict()},
        )
    if any(v for v in table_options.values()):
        raise HourglassError(
            f"{path}: columns, drop, one_hot and id_column apply to .csv and .parquet tables",
            params=("columns", "drop", "one_hot", "id_column"),
        )
    raw, y, columns = read_array_file(path)
    x, shape = check_array(raw, str(path), columns=columns)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise HourglassError(f"{path}: labels have shape {y.shape}, expected ({len(x)},)")
    tr, va, te = split_indices(len(x), seed)
    pick = lambda a, i: None if a is None else a[i]  # noqa: E731
    return Dataset(
        path.stem,
        x[tr],
        x[va],
        x[te],
        pick(y, tr),
        pick(y, va),
        pick(y, te),
        shape=shape,
        columns=columns,
        source={"path": str(path.resolve()), "seed": seed},
    )
