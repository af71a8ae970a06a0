"""A trained model as an HTTP scoring service (FastAPI + uvicorn): ``hourglass serve CKPT``.

``create_app`` and ``serve`` live in :mod:`.app`, imported on first use: the CLI reads :class:`ServiceConfig`'s
defaults without loading the web stack.
"""

from .config import ServiceConfig

__all__ = ["ServiceConfig", "create_app", "serve"]


def __getattr__(name):
    if name in ("create_app", "serve"):
        from ..extras import needs

        needs("fastapi", "hourglass serve")
        needs("uvicorn", "hourglass serve")
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
