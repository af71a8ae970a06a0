"""Pictures of what a model does: image grids, latent scatter plots, and the hourglass diagram of a model."""

from ..extras import needs

needs("matplotlib", "drawing figures (--png, diagram, demo, claims)")  # before the modules that import it

from .diagram import hourglass_diagram, layer_sizes  # noqa: E402
from .figures import image_grid, latent_scatter, line_plot, one_per_class, point_clouds_3d, score_quiver  # noqa: E402

__all__ = [
    "hourglass_diagram",
    "image_grid",
    "latent_scatter",
    "layer_sizes",
    "line_plot",
    "one_per_class",
    "point_clouds_3d",
    "score_quiver",
]
