"""The latent explorer: one self-contained HTML page where the code space of a trained model can be walked.

The codes z = f(x) of a data split are drawn as a scatter (coloured by label where there are labels); beside it,
the decoder g runs *in the browser* on the code under the pointer — its weights are embedded in the page and a
few lines of plain JavaScript (``explorer.js``) apply its layers — so the decoded image (or, for a table, the
decoded row against the column means) follows the pointer. Two clicks decode the straight path between two
points (their places in the plane shown) in 8 steps; for a VAE, a toggle draws the prior N(0, I); for a run with
priors fitted to its codes (``hourglass prior``), a choice shows each prior's decoded draws. When k > 2
the scatter is the plane of the codes' first two principal directions, through their mean, and the pointer
decodes the point of that plane (the page says so).

The page fetches nothing (its Content-Security-Policy forbids it), so it opens offline from the file system.
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path
from typing import cast

import numpy as np
from torch import nn

from ..errors import HourglassError
from ..metrics import encode
from ..nets import ACTIVATIONS
from ..store import checkpoint as ckpt
from ..store.files import check_output, write_text

MAX_POINTS = 5000  # points drawn in the scatter (a seeded sample when the split has more)


def _floats(tensor) -> str:
    """A tensor's values as base64 of little-endian float32, row-major (the page reads them as a Float32Array)."""
    return base64.b64encode(np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype="<f4").tobytes()).decode("ascii")


def decoder_layers(model) -> list[dict]:
    """The decoder g as a list of layers the page's JavaScript applies in turn to a flat (C·H·W) array: linear,
    an activation, or a transposed convolution; a final sigmoid for a Bernoulli output. Raises for a layer the
    page cannot run."""
    modules = list(model.decoder) if isinstance(model.decoder, nn.Sequential) else [model.decoder]
    names = {cls: name for name, cls in ACTIVATIONS.items()}
    layers: list[dict] = []
    shape: tuple[int, ...] | None = None  # shape: the current (C, H, W) once the rows are folded into images
    for m in modules:
        if isinstance(m, nn.Linear):
            layers.append(
                {
                    "op": "linear",
                    "in": m.in_features,
                    "out": m.out_features,
                    "weight": _floats(m.weight),
                    "bias": _floats(m.bias),
                }
            )
        elif type(m) in names:
            layers.append({"op": names[type(m)]})
        elif isinstance(m, nn.Unflatten):
            shape = tuple(int(size) for size in m.unflattened_size)
        elif isinstance(m, nn.Flatten):
            shape = None
        elif isinstance(m, nn.ConvTranspose2d) and shape is not None and m.groups == 1 and m.dilation == (1, 1):
            c, h, w = shape
            padding = cast(tuple[int, int], m.padding)  # a transposed conv's padding is never "same"
            (k, _), (s, _), (p, _), (op_h, op_w) = m.kernel_size, m.stride, padding, m.output_padding
            out_h, out_w = (h - 1) * s - 2 * p + k + op_h, (w - 1) * s - 2 * p + k + op_w
            layers.append(
                {
                    "op": "conv_transpose",
                    "in_shape": [c, h, w],
                    "out_shape": [m.out_channels, out_h, out_w],
                    "kernel": k,
                    "stride": s,
                    "padding": p,
                    "weight": _floats(m.weight),
                    "bias": _floats(m.bias),
                }
            )
            shape = (m.out_channels, out_h, out_w)
        else:
            raise HourglassError(f"the explorer cannot run the decoder layer {type(m).__name__} in the browser")
    if model.output == "sigmoid":
        layers.append({"op": "sigmoid"})
    return layers


def code_plane(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(origin (k,), directions (2, k)) of the plane the scatter shows: for k = 2 the code itself; for k > 2 the
    mean and the first two principal directions of the codes ``z`` (N, k); for k = 1, the line of the code."""
    k = z.shape[1]
    if k <= 2:
        return np.zeros(k), np.eye(2, k)
    mean = z.mean(axis=0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    return mean, vt[:2]


def payload(
    checkpoint: ckpt.Checkpoint, x: np.ndarray, labels: np.ndarray | None, max_points: int = MAX_POINTS, seed: int = 0
) -> dict:
    """Everything the page needs, as JSON: the decoder, the scatter's points and labels, the plane, and how to show
    a decoded sample (an image's shape and value range, or a table's columns and their means)."""
    model, arch = checkpoint.model.eval(), checkpoint.model.architecture
    if len(x) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
        x, labels = x[keep], (labels[keep] if labels is not None else None)
    z = encode(model, x).astype(np.float64)
    origin, directions = code_plane(z)
    points = (z - origin) @ directions.T
    image = len(arch.input_shape) == 3
    scaling = checkpoint.scaling
    shown = scaling.inverse_transform(x)
    page = {
        "title": f"{checkpoint.variant} · k = {arch.latent_dim} · {checkpoint.data.get('name', '')}",
        "latent_dim": arch.latent_dim,
        "variational": bool(model.variational),
        "plane": {"origin": origin.tolist(), "directions": directions.tolist(), "principal": arch.latent_dim > 2},
        "points": np.round(points, 4).tolist(),
        "layers": decoder_layers(model),
        "scaling": {
            "shift": np.broadcast_to(scaling.shift, (arch.n_features,)).tolist(),
            "scale": np.broadcast_to(scaling.scale, (arch.n_features,)).tolist(),
        },
    }
    priors = prior_draws(checkpoint, origin, directions, seed)
    if priors:
        page["priors"] = priors
    if labels is not None and np.issubdtype(np.asarray(labels).dtype, np.integer) and len(np.unique(labels)) <= 20:
        page["labels"] = np.asarray(labels).astype(int).tolist()
    if image:
        low, high = (
            (0.0, 1.0)
            if scaling.kind == "none"
            else (0.0, 255.0)
            if scaling.kind == "divide"
            else (float(shown.min()), float(shown.max()))
        )
        page["image"] = {"shape": list(arch.input_shape), "range": [low, high]}
    else:
        columns = checkpoint.data.get("columns") or [f"x{i + 1}" for i in range(arch.n_features)]
        page["table"] = {
            "columns": columns,
            "means": shown.mean(axis=0).tolist(),
            "stds": np.maximum(shown.std(axis=0), 1e-12).tolist(),
        }
    return page


PRIOR_DRAWS = 16  # decoded draws shown per saved prior


def prior_draws(checkpoint: ckpt.Checkpoint, origin: np.ndarray, directions: np.ndarray, seed: int = 0) -> dict:
    """For each prior saved in the run (``hourglass prior``), :data:`PRIOR_DRAWS` seeded draws: their places in the
    plane and their decoded samples in the model's space (decoded here: a prior's draws may need what the page's
    decoder lacks, e.g. a VQ-VAE's quantiser)."""
    import torch

    from ..priors.saved import FOLDER, load_prior
    from ..sampling import PRIOR_NAMES

    folder = Path(str(checkpoint.path)) / FOLDER
    out = {}
    for kind in ("gmm", "diffusion"):
        if not (folder / f"{kind}.json").exists():
            continue
        prior = load_prior(checkpoint, kind)
        z = prior.sample(PRIOR_DRAWS, torch.Generator().manual_seed(seed))
        with torch.no_grad():
            x_hat = checkpoint.model.decode(z.to(next(checkpoint.model.parameters()).device)).cpu()
        out[kind] = {
            "what": PRIOR_NAMES[kind],
            "points": np.round((z.numpy().astype(np.float64) - origin) @ directions.T, 4).tolist(),
            "decoded": _floats(x_hat),
        }
    return out


def render(page: dict) -> str:
    """The self-contained HTML of the explorer for ``page`` (:func:`payload`)."""
    from html import escape

    folder = resources.files(__package__)
    template = (folder / "explorer.html").read_text(encoding="utf-8")
    data = json.dumps(page, separators=(",", ":")).replace("</", "<\\/")  # nothing in the JSON can close the script
    return (
        template.replace("{{TITLE}}", escape(page["title"]))
        .replace("{{STYLE}}", (folder / "explorer.css").read_text(encoding="utf-8"))
        .replace("{{DATA}}", data)
        .replace("{{SCRIPT}}", (folder / "explorer.js").read_text(encoding="utf-8"))
    )


def explore_file(
    checkpoint,
    output: str | Path,
    data: str | Path | None = None,
    split: str = "test",
    max_points: int = MAX_POINTS,
    seed: int = 0,
    device: str = "auto",
) -> dict:
    """Write the explorer of ``checkpoint`` to ``output`` (.html): the codes of ``data`` (a file whole, or a split
    of a named dataset; default the checkpoint's own dataset's ``split``), at most ``max_points`` of them.

    Parameters
    ----------
    checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    output : str or Path
        The .html page to write.
    data : str or Path, optional
        The rows to show; None: the run's own data.
    split : str, optional
        Which split of a named dataset.
    max_points : int, optional
        At most this many codes drawn (a seeded sample of them).
    seed : int, optional
        Seeds every random draw, so the same seed gives the same numbers.
    device : str, optional
        "auto" (CUDA, then MPS, then the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    dict
        What was written: the page and how many points it shows.
    """
    from ..data.spec import dataset_of
    from ..store.checkpoint import open_checkpoint
    from ..use import samples_for

    output = check_output(output, (".html", ".htm"), inputs=(Path(str(data)),) if data else ())
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise HourglassError(f"max_points must be a whole number >= 1, got {max_points!r}", params=("max_points",))
    checkpoint = open_checkpoint(checkpoint, device=device)  # the codes are computed on ``device``
    if data is None:
        x, labels = dataset_of(checkpoint).measured_rows(split)
        x = checkpoint.scaling.transform(x)
    else:
        samples, x = samples_for(checkpoint, data, split)
        labels = samples.y
    return write_explorer(checkpoint, x, labels, output, max_points, seed)


def write_explorer(
    checkpoint: ckpt.Checkpoint,
    x: np.ndarray,
    labels: np.ndarray | None,
    output: Path,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> dict:
    """Write the explorer page of rows ``x`` (the model's space) and their ``labels`` to ``output``."""
    page = payload(checkpoint, x, labels, max_points, seed)
    write_text(output, render(page))
    return {
        "output": output,
        "points": len(page["points"]),
        "latent_dim": page["latent_dim"],
        "principal_plane": page["plane"]["principal"],
        "labels": "labels" in page,
    }
