"""A trained model as an HTTP scoring service (FastAPI + uvicorn): ``hourglass serve CKPT``."""

from .app import ServiceConfig, create_app, serve

__all__ = ["ServiceConfig", "create_app", "serve"]
