"""Figures drawn with matplotlib's object API (no pyplot, no global backend state) and written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from ..errors import HourglassError
from ..store.files import atomic_path


def one_per_class(labels: np.ndarray, per_class: int = 1) -> np.ndarray:
    """Indices of the first ``per_class`` samples of each class, in class order: the examples a figure shows."""
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])


def _save(fig: Figure, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return Path(path)


def _as_image(row: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    img = np.clip(np.asarray(row, dtype=np.float32).reshape(shape), 0, 1)
    return img[0] if shape[0] == 1 else img.transpose(1, 2, 0)


def image_grid(
    rows: list[tuple[str, np.ndarray]], shape: tuple[int, ...], path: str | Path, title: str | None = None
) -> Path:
    """One labelled row of images per entry of ``rows``: ``(label, images (n, D))``, values in [0, 1].

    shape: one image's (C, H, W), C = 1 (grey) or 3 (RGB).
    """
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise HourglassError(f"an image grid needs (1|3, H, W) images, got sample shape {tuple(shape)}")
    n_cols = max(len(images) for _, images in rows)
    fig = Figure(figsize=(1.0 * n_cols + 1.6, 1.05 * len(rows) + (0.4 if title else 0)))
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(_as_image(images[c], shape), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(wspace=0.05, hspace=0.08)
    return _save(fig, path)


def latent_scatter(
    panels: list[tuple[str, np.ndarray]], labels: np.ndarray | None, path: str | Path, title: str | None = None
) -> Path:
    """Side-by-side scatter plots of 2-d codes ``(title, codes (N, 2))``, coloured by ``labels``.

    Integer labels with at most 20 values get a legend of classes; other labels a colour bar.
    """
    fig = Figure(figsize=(5.2 * len(panels) + 1.2, 5))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    discrete = labels is not None and np.asarray(labels).dtype.kind in "iu" and len(np.unique(labels)) <= 20
    for ax, (name, codes) in zip(axes, panels, strict=True):
        if codes.shape[1] != 2:
            raise HourglassError(f"a latent scatter needs 2-d codes, got {codes.shape[1]}-d for {name}")
        if discrete and labels is not None:
            cmap = __import__("matplotlib").colormaps["tab10" if len(np.unique(labels)) <= 10 else "tab20"]
            for i, cls in enumerate(np.unique(labels)):
                sel = labels == cls
                ax.scatter(codes[sel, 0], codes[sel, 1], s=2, alpha=0.5, color=cmap(i), label=str(cls), rasterized=True)
        else:
            sc = ax.scatter(codes[:, 0], codes[:, 1], s=2, alpha=0.6, c=labels, cmap="viridis", rasterized=True)
            if labels is not None:
                fig.colorbar(sc, ax=ax)
        ax.set_title(name)
        ax.set_xlabel("$z_1$"), ax.set_ylabel("$z_2$")
    if discrete:
        axes[-1].legend(markerscale=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def score_quiver(
    points: np.ndarray,
    estimated: np.ndarray,
    true: np.ndarray,
    path: str | Path,
    n_arrows: int = 400,
    title: str | None = None,
) -> Path:
    """Two arrow fields over the same 2-d points: an estimated score (orange) and the true one (black)."""
    rows = np.random.default_rng(0).permutation(len(points))[:n_arrows]
    p, e, t = points[rows], estimated[rows], true[rows]
    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    scale = np.percentile(np.linalg.norm(t, axis=1), 90) * 25
    ax.quiver(
        p[:, 0],
        p[:, 1],
        t[:, 0],
        t[:, 1],
        color="black",
        alpha=0.6,
        scale=scale,
        width=0.004,
        label="true score ∇ log p_σ",
    )
    ax.quiver(
        p[:, 0],
        p[:, 1],
        e[:, 0],
        e[:, 1],
        color="#d95f02",
        alpha=0.8,
        scale=scale,
        width=0.003,
        label="DAE estimate (r(x̃) − x̃)/σ²",
    )
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "denoising autoencoder as a score estimator")
    return _save(fig, path)


def line_plot(panels: list[dict], path: str | Path, title: str | None = None) -> Path:
    """Side-by-side line plots. Each panel: ``{"series": [(label, xs, ys), ...], "xlabel", "ylabel", "title",
    "logx", "logy"}`` (all but "series" optional); every series gets markers at its points."""
    fig = Figure(figsize=(4.6 * len(panels) + 0.6, 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        for label, xs, ys in panel["series"]:
            ax.plot(xs, ys, marker="o", label=label)
        ax.set_xlabel(panel.get("xlabel", "")), ax.set_ylabel(panel.get("ylabel", ""))
        ax.set_title(panel.get("title", ""), fontsize=10)
        if panel.get("logx"):  # label the measured points themselves, not powers of ten
            ax.set_xscale("log")
            ticks = sorted({float(x) for _, xs, _ in panel["series"] for x in xs})
            ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
        if panel.get("logy"):
            ax.set_yscale("log")
            plain = FuncFormatter(lambda v, _: f"{v:g}")
            ys = [float(y) for _, _, series_ys in panel["series"] for y in series_ys if y > 0]
            ax.yaxis.set_major_formatter(plain)
            if ys and max(ys) < 10 * min(ys):  # within a decade the powers of ten alone would leave no labels
                ax.yaxis.set_minor_formatter(plain)
        ax.grid(alpha=0.3)
        if len(panel["series"]) > 1:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def point_clouds_3d(
    panels: list[tuple[str, np.ndarray]], colours: np.ndarray, path: str | Path, title: str | None = None
) -> Path:
    """Side-by-side 3-D scatter plots ``(title, points (N, 3))`` sharing one view and one colouring."""
    fig = Figure(figsize=(4.4 * len(panels), 4.4))
    for i, (name, points) in enumerate(panels, 1):
        if points.shape[1] != 3:
            raise HourglassError(f"a 3-D scatter needs 3 columns, got {points.shape[1]} for {name}")
        ax = fig.add_subplot(1, len(panels), i, projection="3d")
        ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=colours, cmap="viridis", s=3, rasterized=True)
        ax.view_init(elev=12, azim=-70)
        ax.set_title(name, fontsize=10)
        ax.set_xticklabels([]), ax.set_yticklabels([]), ax.set_zticklabels([])
    if title:
        fig.suptitle(title)
    return _save(fig, path)
