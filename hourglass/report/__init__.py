"""Pictures of what a model does: image grids and latent scatter plots, written as PNG files."""

from .figures import image_grid, latent_scatter

__all__ = ["image_grid", "latent_scatter"]
