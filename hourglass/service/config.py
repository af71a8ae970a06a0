"""The service's settings, stated once (the CLI's defaults come from here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceConfig:
    """Where the service listens and what one request may hold."""

    host: str = "127.0.0.1"  # loopback: reachable from this machine only; "0.0.0.0" is every interface
    port: int = 8000
    workers: int = 1  # processes, each with its own copy of the model
    max_rows: int = 10_000  # rows in one request
    max_body_bytes: int = 16 * 2**20  # bytes of one request's body
    device: str = "auto"  # where the model runs (hourglass.devices.resolve)
