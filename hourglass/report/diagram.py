"""The hourglass itself: a model's layer sizes drawn encoder → code → decoder, with the code at the waist."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from ..nets import Architecture, _conv_out
from ..store.files import atomic_path


def layer_sizes(arch: Architecture, kind: str = "autoencoder") -> list[tuple[str, int]]:
    """``(label, number of units)`` for every layer from the input to the reconstruction.

    MLP and linear nets count units; conv nets count C×H×W activations per layer. A VAE's encoder ends in 2k numbers
    (μ and log σ²), from which the k-dimensional code is drawn.
    """
    if arch.kind == "conv":
        c, h, w = arch.input_shape
        encoder = [(f"{c}×{h}×{w}", c * h * w)]
        for ch in arch.widths or ():
            h, w = _conv_out(h), _conv_out(w)
            encoder.append((f"{ch}×{h}×{w}", ch * h * w))
    else:
        encoder = [(str(arch.n_features), arch.n_features)] + [(str(w), w) for w in arch.widths or ()]
    k = arch.latent_dim
    code = [(f"μ, log σ²: 2×{k}", 2 * k), (f"z: {k}", k)] if kind == "vae" else [(f"z: {k}", k)]
    return encoder + code + encoder[::-1]


def hourglass_diagram(
    arch: Architecture, path: str | Path, kind: str = "autoencoder", title: str | None = None, fmt: str | None = None
) -> Path:
    """Draw ``arch`` as an hourglass and write it to ``path`` (SVG or PNG, by suffix or ``fmt``).

    Bar heights grow with the square root of each layer's size, so that a 784-unit input and a 4-unit code both
    show; every bar is labelled with its true size.
    """
    layers = layer_sizes(arch, kind)
    biggest = max(n for _, n in layers)
    heights = [max(0.04, math.sqrt(n / biggest)) for _, n in layers]
    waist = next(i for i, (label, _) in enumerate(layers) if label.startswith("z:"))  # small or, if sparse, not
    fig = Figure(figsize=(1.1 * len(layers) + 1, 4.2))
    ax = fig.subplots()
    bar = 0.38
    for i, ((label, _), height) in enumerate(zip(layers, heights, strict=True)):
        is_code = label.startswith(("z:", "μ"))
        colour = "#d95f02" if is_code else ("#1b9e77" if i < waist else "#7570b3")
        ax.add_patch(Rectangle((i - bar / 2, -height / 2), bar, height, color=colour, alpha=0.9))
        ax.text(i, -height / 2 - 0.06, label, ha="center", va="top", fontsize=8)
        if i + 1 < len(layers):  # the funnel between consecutive layers
            nxt = heights[i + 1]
            ax.add_patch(
                Polygon(
                    [
                        (i + bar / 2, height / 2),
                        (i + 1 - bar / 2, nxt / 2),
                        (i + 1 - bar / 2, -nxt / 2),
                        (i + bar / 2, -height / 2),
                    ],
                    color="#bbbbbb",
                    alpha=0.35,
                    lw=0,
                )
            )
    ax.text((waist - 0.5) / 2, 0.62, "encoder f", ha="center", fontsize=10, color="#1b9e77")
    ax.text(waist, 0.62, "code", ha="center", fontsize=10, color="#d95f02")
    ax.text((waist + len(layers) - 0.5) / 2, 0.62, "decoder g", ha="center", fontsize=10, color="#7570b3")
    ax.set_xlim(-0.7, len(layers) - 0.3)
    ax.set_ylim(-0.75, 0.72)
    ax.axis("off")
    ax.set_title(title or f"{kind} {arch.kind}: {arch.activation}, code of {arch.latent_dim}", fontsize=11)
    path = Path(path)
    # SVG text stays text (searchable, selectable) instead of glyph outlines
    with atomic_path(path) as tmp, matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(tmp, format=fmt or (path.suffix.lstrip(".").lower() or "svg"), bbox_inches="tight")
    return path
