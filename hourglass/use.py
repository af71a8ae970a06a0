"""Putting a trained model to work: codes, reconstructions, denoised inputs, anomaly scores, a diagram (and samples:
:mod:`hourglass.sampling`).

Each function here is one call from a checkpoint (a folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`)
and some data to a file, and returns what it did as a dict; the CLI's ``encode``, ``reconstruct``, ``denoise``,
``score``, ``sample`` and ``diagram`` commands are these calls and nothing more. Inputs are checked against the
checkpoint (columns, width), scaled into the model's space, and results are written back in the data's own units;
an output that would replace an input is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .corruptions import corruption_from_dict, parse_noise
from .data import Samples, in_unit_range, load_samples
from .errors import HourglassError
from .metrics import (
    corrupt,
    encode,
    finite_rows,
    psnr,
    reconstruct,
    reconstruction_errors,
    squared_errors,
)
from .scoring import anomaly_scores, check_explainable, explain_rows, top_columns
from .store import checkpoint as ckpt
from .store.checkpoint import open_checkpoint
from .store.files import ROWS, RowWriter, atomic_path, check_output, write_csv_block, write_rows


def samples_for(checkpoint: ckpt.Checkpoint, data: str | Path, split: str | None = None) -> tuple[Samples, np.ndarray]:
    """The samples named by ``data`` (a file read whole, or a split of a named dataset, default test), checked
    against the checkpoint (table columns, features per sample), and their rows scaled into the model's space."""
    samples = load_samples(data, split=split, seed=checkpoint.data.get("seed", 0), table=checkpoint.data.get("table"))
    arch = checkpoint.model.architecture
    saved_columns = checkpoint.data.get("columns")
    if saved_columns and samples.columns and list(samples.columns) != list(saved_columns):
        raise HourglassError(
            f"{data}: columns {', '.join(samples.columns)} differ from the training columns {', '.join(saved_columns)}"
        )
    if samples.x.shape[1] != arch.n_features:
        raise HourglassError(
            f"{data}: {samples.x.shape[1]} features per sample, the model expects "
            f"{arch.n_features} (input shape {'×'.join(map(str, arch.input_shape))})"
        )
    return samples, checkpoint.scaling.transform(samples.x)


def _id_column(checkpoint: ckpt.Checkpoint) -> str | None:
    return (checkpoint.data.get("table") or {}).get("id_column")


def _data_path(data) -> Path | None:
    path = Path(str(data))
    return path if path.is_file() else None


def stream_of(checkpoint: ckpt.Checkpoint, data, split: str | None, stream: bool | None):
    """The block reader of ``data`` (:func:`hourglass.data.open_source`, the one training streams with) when it is
    to be read a block at a time — a file, with ``stream`` True, or None and the file larger than a quarter of the
    available memory — else None. A table is read through the checkpoint's own column spec."""
    from .data.loading import _too_big
    from .data.sources import open_source
    from .data.tables import TableSpec

    path = _data_path(data)
    if path is None or split not in (None, "all") or stream is False or (stream is None and not _too_big(path)):
        return None
    table = checkpoint.data.get("table")
    options = (
        {"columns": table["columns"], "one_hot": bool(table["one_hot"]), "id_column": table["id_column"]}
        if table
        else {}
    )
    source = open_source(path, **options)
    if table is not None and hasattr(source, "spec"):  # the training's columns and categories, not this file's
        source.spec = TableSpec.from_dict(table)
        source.columns = source.spec.feature_names
        source.n_features = len(source.columns)
    arch = checkpoint.model.architecture
    if source.n_features != arch.n_features:
        raise HourglassError(f"{data}: {source.n_features} features per sample, the model expects {arch.n_features}")
    return source


def map_blocks(checkpoint: ckpt.Checkpoint, source, output: Path, fn, what: str, header=None) -> int:
    """Write ``fn(x)`` of each block ``x`` of ``source`` (in the model's space) to ``output``, a block at a time:
    memory stays bounded by a block, however large the file. Rows whose ``what`` are not finite are refused by
    row number (:func:`~hourglass.metrics.finite_rows`), and nothing is written. Returns the rows written."""
    with RowWriter(output, source.n_rows, header, _id_column(checkpoint)) as writer:
        for i, (start, _) in enumerate(source.blocks):
            x = checkpoint.scaling.transform(source.read(i))
            rows = finite_rows(fn(x), what, first_row=start + 1)
            writer.write(rows, source.ids(i) if hasattr(source, "ids") and output.suffix == ".csv" else None)
    return writer.written


def encode_file(
    checkpoint,
    data: str | Path,
    output: str | Path,
    split: str | None = None,
    device: str = "auto",
    stream: bool | None = None,
) -> dict:
    """Write the codes z = f(x) of ``data`` to ``output`` (.npy, or .csv with z1..zk and the ID column); a file
    larger than memory (or any file with ``stream``) is read and written a block at a time.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    data : str or Path
        A dataset name (a split of it: ``split``), or the user's file read whole (a table through the checkpoint's
        columns).
    output : str or Path
        The file to write (refused if it would replace an input; written atomically).
    split : str, optional
        Which split of a named dataset (default test); files are read whole.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    stream : bool, optional
        Read and write a block at a time (None: when the file is larger than a quarter of the memory).

    Returns
    -------
    dict
        What was written.
    """
    output = check_output(output, ROWS, inputs=(_data_path(data),))
    checkpoint = open_checkpoint(checkpoint, device=device)
    k = checkpoint.model.architecture.latent_dim
    source = stream_of(checkpoint, data, split, stream)
    if source is not None:
        z_of = lambda x: encode(checkpoint.model, x)  # noqa: E731
        n = map_blocks(checkpoint, source, output, z_of, "codes", [f"z{i + 1}" for i in range(k)])
        return {"output": output, "n": n, "latent_dim": k}
    samples, x = samples_for(checkpoint, data, split)
    z = finite_rows(encode(checkpoint.model, x), "codes")
    write_rows(output, z, [f"z{i + 1}" for i in range(z.shape[1])], samples.ids, _id_column(checkpoint))
    return {"output": output, "n": len(z), "latent_dim": z.shape[1]}


def reconstruct_file(
    checkpoint,
    data: str | Path,
    output: str | Path,
    split: str | None = None,
    png: str | Path | None = None,
    n_images: int = 16,
    device: str = "auto",
    stream: bool | None = None,
) -> dict:
    """Write x̂ = g(f(x)) of ``data`` in the data's units to ``output``; with ``png``, originals above
    reconstructions. Returns the squared error per sample (in the model's scaled space). A file larger than memory
    (or any file with ``stream``) is read and written a block at a time.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    data : str or Path
        A dataset name (a split of it: ``split``), or the user's file read whole (a table through the checkpoint's
        columns).
    output : str or Path
        The file to write (refused if it would replace an input; written atomically).
    split : str, optional
        Which split of a named dataset (default test); files are read whole.
    png : str or Path, optional
        Also draw the first ``n_images`` as a PNG grid here.
    n_images : int, optional
        How many the PNG grid shows.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    stream : bool, optional
        Read and write a block at a time (None: when the file is larger than a quarter of the memory).

    Returns
    -------
    dict
        What was written, and the error.
    """
    output = check_output(output, ROWS, inputs=(_data_path(data),))
    checkpoint = open_checkpoint(checkpoint, images=png is not None, device=device)
    source = stream_of(checkpoint, data, split, stream) if png is None else None
    if source is not None:
        total = [0.0]

        def decoded(x):
            x_hat = reconstruct(checkpoint.model, x)
            total[0] += float(squared_errors(x, x_hat).sum())
            return checkpoint.scaling.inverse_transform(x_hat, dtype=np.float64)

        n = map_blocks(checkpoint, source, output, decoded, "reconstructions", source.columns)
        return {
            "output": output,
            "n": n,
            "png": None,
            "squared_error_per_sample": total[0] / n,
            "mse_per_feature": total[0] / n / source.n_features,
        }
    samples, x = samples_for(checkpoint, data, split)
    x_hat = reconstruct(checkpoint.model, x)
    x_hat_data = finite_rows(checkpoint.scaling.inverse_transform(x_hat, dtype=np.float64), "reconstructions")
    write_rows(output, x_hat_data, samples.columns, samples.ids, _id_column(checkpoint))
    if png is not None:
        _grid([("original", x), ("reconstruction", x_hat)], checkpoint, png, n_images)
    return {"output": output, "n": len(x_hat), "png": png, **reconstruction_errors(x, x_hat)}


def corruption_for(checkpoint: ckpt.Checkpoint, noise: str | None, x: np.ndarray):
    """The corruption to denoise with: ``noise`` (clipped to [0, 1] when the data lie there), else the one the
    model was trained with."""
    if noise:
        return parse_noise(noise, clip=in_unit_range(x))
    if checkpoint.objective.get("corruption"):
        return corruption_from_dict(checkpoint.objective["corruption"])
    raise HourglassError(
        f"{checkpoint.path} was not trained with noise; say which, e.g. noise gaussian:0.5", params=("noise",)
    )


def denoise_file(
    checkpoint,
    data: str | Path,
    output: str | Path,
    noise: str | None = None,
    split: str | None = None,
    seed: int = 0,
    png: str | Path | None = None,
    n_images: int = 16,
    device: str = "auto",
) -> dict:
    """Corrupt ``data`` (``noise``, default the model's own), reconstruct it, and write clean, corrupted and
    denoised (in the data's units) to an .npz ``output``; returns the PSNR of the corrupted and denoised inputs.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    data : str or Path
        A dataset name (a split of it: ``split``), or the user's file read whole (a table through the checkpoint's
        columns).
    output : str or Path
        The file to write (refused if it would replace an input; written atomically).
    noise : str, optional
        The corruption to apply first (None: the model's own training noise).
    split : str, optional
        Which split of a named dataset (default test); files are read whole.
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    png : str or Path, optional
        Also draw the first ``n_images`` as a PNG grid here.
    n_images : int, optional
        How many the PNG grid shows.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    dict
        What was written, and the PSNR of the corrupted and denoised inputs.
    """
    output = check_output(output, (".npz",), inputs=(_data_path(data),))
    checkpoint = open_checkpoint(checkpoint, images=png is not None, device=device)
    _, x = samples_for(checkpoint, data, split)
    corruption, arch = corruption_for(checkpoint, noise, x), getattr(checkpoint.model, "architecture", None)
    told = arch.input_features - arch.n_features if arch and hasattr(corruption, "with_levels") else 0  # σ's map
    model_input = corrupt(corruption, x, seed, told)
    noisy, denoised = model_input[:, : x.shape[1]], reconstruct(checkpoint.model, model_input)
    inv = checkpoint.scaling.inverse_transform
    with atomic_path(output) as tmp:
        np.savez(tmp, clean=inv(x), corrupted=inv(noisy), denoised=inv(denoised))
    if png is not None:
        _grid([("clean", x), ("corrupted", noisy), ("denoised", denoised)], checkpoint, png, n_images)
    return {"output": output, "n": len(x), "png": png, "psnr_noisy": psnr(x, noisy), "psnr_denoised": psnr(x, denoised)}


def score_file(
    checkpoint,
    data: str | Path,
    output: str | Path,
    contamination: float = 0.01,
    split: str | None = None,
    device: str = "auto",
    stream: bool | None = None,
    explain: int | str | None = None,
) -> dict:
    """Write a CSV of ``data``'s rows: ID (or row number), anomaly_score, training_percentile, is_anomaly, and with
    ``explain`` why: each row's error split by the columns a user knows (:func:`hourglass.scoring.explain_rows`).
    A file larger than memory (or any file with ``stream``) is read and written a block at a time.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    data : str or Path
        A dataset name (a split of it: ``split``), or the user's file read whole (a table through the checkpoint's
        columns).
    output : str or Path
        The file to write (refused if it would replace an input; written atomically).
    contamination : float, optional
        The expected share of anomalies: rows beyond this upper share of the training errors are flagged.
    split : str, optional
        Which split of a named dataset (default test); files are read whole.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".
    stream : bool, optional
        Read and write a block at a time (None: when the file is larger than a quarter of the memory).
    explain : int or "all", optional
        K: add each row's K columns with the largest parts of its error and their shares (``explain_1``,
        ``share_1``, ...); "all": write every column's part to a second file, OUTPUT with ``.explain.csv``.

    Returns
    -------
    dict
        What was written and how many rows were flagged.
    """
    output = check_output(output, (".csv",), inputs=(_data_path(data),))
    if explain is not None and explain != "all" and (isinstance(explain, bool) or not isinstance(explain, int)
                                                     or explain < 1):  # fmt: skip
        raise HourglassError(f'explain must be a whole number of columns >= 1 or "all", got {explain!r}',
                             params=("explain",))  # fmt: skip
    checkpoint = open_checkpoint(checkpoint, device=device)
    if explain is not None:
        check_explainable(checkpoint)
    explained = None
    if explain == "all":
        explained = check_output(output.with_suffix(".explain.csv"), (".csv",), inputs=(_data_path(data),))
    source = stream_of(checkpoint, data, split, stream)
    if source is None:  # the rows in memory: one block
        samples, x = samples_for(checkpoint, data, split)
        blocks: Iterable[tuple[np.ndarray, np.ndarray]] = [
            (x, samples.ids if samples.ids is not None else np.arange(len(x)))
        ]
    else:
        blocks = (
            (
                checkpoint.scaling.transform(source.read(i)),
                source.ids(i) if hasattr(source, "ids") and _id_column(checkpoint) else np.arange(start, stop),
            )
            for i, (start, stop) in enumerate(source.blocks)
        )
    flagged, threshold, n = 0, None, 0
    with contextlib.ExitStack() as files:

        def opened(path: Path):  # written whole, or not at all
            return files.enter_context(open(files.enter_context(atomic_path(path)), "w", newline=""))

        f, g = opened(output), opened(explained) if explained is not None else None
        for x, ids in blocks:
            x_hat = reconstruct(checkpoint.model, x)  # once, for the scores and their parts
            r = anomaly_scores(checkpoint, x, contamination, x_hat)
            key = {_id_column(checkpoint) or "row": ids}
            columns = {**key, "anomaly_score": r["scores"], "training_percentile": r["training_percentile"],
                       "is_anomaly": r["is_anomaly"]}  # fmt: skip
            if explain is not None:
                names, parts = explain_rows(checkpoint, x, x_hat)
                if g is not None:
                    write_csv_block(g, {**key, **dict(zip(names, parts.T, strict=True))}, header=n == 0)
                else:
                    columns.update(top_columns(names, parts, int(explain)))
            write_csv_block(f, columns, header=n == 0)
            flagged, threshold, n = flagged + int(r["is_anomaly"].sum()), r["threshold"], n + len(x)
    return {"output": output, "n": n, "flagged": flagged, "threshold": threshold, "contamination": contamination,
            "explained": explained}  # fmt: skip


def diagram_file(checkpoint, output: str | Path) -> Path:
    """Draw the checkpoint's model as an hourglass of layer sizes to ``output`` (.svg, .png or .pdf)."""
    from .report import hourglass_diagram

    output = check_output(output, (".svg", ".png", ".pdf"))
    checkpoint = open_checkpoint(checkpoint)
    name = Path(str(checkpoint.path)).name
    return hourglass_diagram(
        checkpoint.model.architecture, output, kind=checkpoint.model.kind, title=f"{checkpoint.variant}: {name}"
    )


def _grid(rows: list[tuple[str, np.ndarray]], checkpoint: ckpt.Checkpoint, png, n_images: int) -> None:
    from .report import image_grid

    n = min(n_images, len(rows[0][1]))
    image_grid([(label, x[:n]) for label, x in rows], checkpoint.model.architecture.input_shape, png)
