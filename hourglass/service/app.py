"""The scoring service: a checkpoint behind HTTP, on FastAPI.

    POST /encode       {"rows": [...]}                      → {"codes": [[z1..zk], ...]}
    POST /reconstruct  {"rows": [...]}                      → {"reconstructions": [[...], ...], "columns": [...]}
    POST /score        {"rows": [...], "contamination": c}  → {"scores", "training_percentile", "is_anomaly", ...}
    GET  /health, GET /model, GET /docs (OpenAPI)

The model is loaded and validated once, when the app is made. Requests that arrive while the model is busy are
run together in one forward pass (no autograd) and their answers split again, so many small requests cost little
more than one large one. Bad input is answered 4xx with ``{"detail": "<one line>"}`` (:mod:`.rows`), never 500.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .._version import __version__
from ..devices import resolve
from ..errors import HourglassError
from ..metrics import decode, encode, squared_errors
from ..scoring import by_column, check_explainable, feature_errors, judge_scores, largest_parts
from ..store import checkpoint as ckpt
from . import contract
from .config import ServiceConfig
from .rows import RowReader, TooLarge, read_json


class Batcher:
    """One forward pass for every request waiting: each request's rows are queued; a single task takes what is
    queued (until it holds ``max_rows`` rows or more), runs ``run`` on them in a worker thread, and hands each request
    its share back."""

    def __init__(self, run, max_rows: int):
        self.run, self.max_rows = run, max_rows
        self.queue: asyncio.Queue = asyncio.Queue()

    async def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((x, done))
        return await done

    async def serve_forever(self):
        while True:
            waiting = [await self.queue.get()]
            rows = len(waiting[0][0])
            while not self.queue.empty() and rows < self.max_rows:
                waiting.append(self.queue.get_nowait())
                rows += len(waiting[-1][0])
            try:
                out = await asyncio.to_thread(self.run, np.concatenate([x for x, _ in waiting]))
            except Exception as e:  # noqa: BLE001 - every waiting request learns of it
                for _, done in waiting:
                    if not done.done():
                        done.set_exception(e)
                continue
            start = 0
            for x, done in waiting:
                if not done.done():  # a request whose client went away was cancelled: nobody to answer
                    done.set_result({k: v[start : start + len(x)] for k, v in out.items()})
                start += len(x)


def model_pass(checkpoint: ckpt.Checkpoint, device: str = "auto"):
    """``run(x)``: rows in the data's units (N, D) → code (N, k), reconstruction (N, D) in the data's units, and
    score (N,), the squared error in the model's space (as ``hourglass score`` computes it); the model on
    ``device``. Rows that overflow float32 inside the network are answered in float64
    (:func:`~hourglass.metrics.apply_model`), so any row within the model's range gets finite numbers."""
    where = resolve(device)
    model, scaling = checkpoint.model.eval().to(where), checkpoint.scaling

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        x_model = scaling.transform(x)
        with torch.inference_mode():
            z_t = model.encode(torch.from_numpy(x_model).to(where))
            z, x_hat = z_t.cpu().numpy(), model.decode(z_t).cpu().numpy()
        overflowed = ~(np.isfinite(z).all(axis=1) & np.isfinite(x_hat).all(axis=1))
        if overflowed.any():  # rare: those rows again, in float64 where float32 overflows
            z, x_hat = z.astype(np.float64), x_hat.astype(np.float64)
            z[overflowed] = encode(model, x_model[overflowed])
            x_hat[overflowed] = decode(model, z[overflowed])
        out = {"code": z, "reconstruction": scaling.inverse_transform(x_hat, dtype=np.float64)}
        for what, values in out.items():
            bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
            if len(bad):  # beyond even float64: a network whose weights no input can tame
                raise HourglassError(f"row {bad[0] + 1}: its {what} overflows even in float64")
        # x and x̂ in the model's space ride along (views, no copies), for an explanation asked of some rows
        return {**out, "score": squared_errors(x_model, x_hat), "x_model": x_model, "x_hat": x_hat}

    return run


def describe(checkpoint: ckpt.Checkpoint, config: ServiceConfig) -> dict:
    """What ``GET /model`` answers: the model, its objective and training data, and the request limits."""
    arch = checkpoint.model.architecture
    summary = checkpoint.config.get("history") or {}
    return {
        "hourglass_version": __version__,
        "trained_with": checkpoint.config.get("hourglass_version"),
        "variant": checkpoint.variant,
        "model_kind": checkpoint.model.kind,
        "architecture": arch.to_dict(),
        "features": arch.n_features,
        "latent_dim": arch.latent_dim,
        "feature_names": checkpoint.data.get("columns"),
        "objective": checkpoint.objective,
        "preprocessing": checkpoint.config.get("preprocessing"),
        "data": checkpoint.data,
        "training": {**(checkpoint.config.get("training") or {}), "history": summary},
        "scores": bool((checkpoint.config.get("anomaly") or {}).get("train_error_quantiles")),
        "limits": {"max_rows": config.max_rows, "max_body_bytes": config.max_body_bytes},
    }


LARGEST = float(np.finfo(np.float64).max)  # JSON has no infinity: the highest score is written as the largest double
DISCARD_BYTES = 64 * 2**20  # of a body over max_body_bytes, read and dropped before the 413, so the client reads it


def create_app(checkpoint: str | Path | ckpt.Checkpoint, config: ServiceConfig | None = None):
    """The FastAPI app serving ``checkpoint`` (loaded and validated here: a bad one raises before any serving);
    ``config`` defaults to :class:`ServiceConfig`'s defaults. Its OpenAPI document is made here too, from the
    model (:mod:`.contract`), once.

    Parameters
    ----------
    checkpoint : str or Path or ckpt.Checkpoint
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    config : ServiceConfig, optional
        Limits and settings of the service (:class:`~hourglass.service.ServiceConfig`).

    Returns
    -------
    FastAPI
        The service's application.
    """
    config = config or ServiceConfig()
    checkpoint = checkpoint if isinstance(checkpoint, ckpt.Checkpoint) else ckpt.load(checkpoint)
    batcher = Batcher(model_pass(checkpoint, config.device), config.max_rows)
    model_info = describe(checkpoint, config)
    read_rows = RowReader(checkpoint, config.max_rows)
    arch = checkpoint.model.architecture
    models = contract.contract(read_rows, arch.latent_dim, explainable=len(arch.input_shape) != 3)

    async def lifespan(app):
        task = asyncio.create_task(batcher.serve_forever())
        yield
        task.cancel()

    app = FastAPI(
        title="hourglass scoring service",
        version=__version__,
        lifespan=lifespan,
        description=f"{checkpoint.variant} model from {checkpoint.path}: codes, reconstructions and "
        "anomaly scores of JSON rows.",
    )

    def problem(status: int, message: str, headers=None) -> JSONResponse:
        return JSONResponse({"detail": message}, status_code=status, headers=headers)

    app.add_exception_handler(TooLarge, lambda request, e: problem(413, str(e)))
    app.add_exception_handler(HourglassError, lambda request, e: problem(422, str(e)))
    app.add_exception_handler(RequestValidationError, lambda request, e: problem(422, str(e).splitlines()[0]))
    # a 405 keeps the Allow header Starlette gives it (RFC 9110 §15.5.6)
    app.add_exception_handler(HTTPException, lambda request, e: problem(e.status_code, str(e.detail), e.headers))
    app.add_exception_handler(Exception, lambda request, e: problem(500, f"internal error: {type(e).__name__}"))

    async def too_large(request: Request, message: str) -> TooLarge:
        """A 413 the client can read: the rest of its body is read and dropped (up to :data:`DISCARD_BYTES`), so
        the answer is not lost to a connection reset while the client is still sending."""
        dropped = 0
        async for chunk in request.stream():
            dropped += len(chunk)
            if dropped > DISCARD_BYTES:
                break
        return TooLarge(message)

    async def rows_of(request: Request, allowed=("rows",)):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_body_bytes:
            raise await too_large(
                request,
                f"the body has {int(declared)} bytes; this service takes at most {config.max_body_bytes} "
                "(max_body_bytes)",
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_body_bytes:
                raise await too_large(request, f"the body is over {config.max_body_bytes} bytes (max_body_bytes)")
        payload = read_json(bytes(body))
        x, ids = read_rows(payload, allowed)
        out = await batcher(x)
        return payload, out, ({"ids": ids} if ids is not None else {})

    def rows_in(request_model: str, answer: str, description: str) -> dict:
        return {"requestBody": contract.body(request_model), "responses": contract.answers(answer, description)}

    @app.post(
        "/encode",
        openapi_extra=rows_in("RowsRequest", "EncodeResponse", "each row's code"),
        summary="codes z = f(x) of rows (a VAE: the mean of q(z|x))",
    )
    async def encode_rows(request: Request):
        _, out, ids = await rows_of(request)
        return {"codes": out["code"].tolist(), **ids}

    @app.post(
        "/reconstruct",
        openapi_extra=rows_in("RowsRequest", "ReconstructResponse", "each row's reconstruction"),
        summary="reconstructions g(f(x)) in the data's units",
    )
    async def reconstruct_rows(request: Request):
        _, out, ids = await rows_of(request)
        return {"reconstructions": out["reconstruction"].tolist(), "columns": model_info["feature_names"], **ids}

    @app.post(
        "/score",
        openapi_extra=rows_in("ScoreRequest", "ScoreResponse", "each row's score, percentile and flag"),
        summary="anomaly scores: squared reconstruction error, its training percentile, and a flag",
    )
    async def score_rows(request: Request):
        payload, out, ids = await rows_of(request, ("rows", "contamination", "explain"))
        contamination, explain = payload.get("contamination", 0.01), payload.get("explain")
        if isinstance(contamination, bool) or not isinstance(contamination, (int, float)):
            raise HourglassError(f"contamination must be a number in (0, 1), got {contamination!r}")
        why: dict = {}
        if explain is not None:
            whole = isinstance(explain, int) or (isinstance(explain, float) and explain.is_integer())  # JSON's 3.0 too
            if isinstance(explain, bool) or not whole or explain < 1:
                raise HourglassError(f"explain must be a whole number of columns >= 1, got {explain!r}")
            explain = int(explain)
            check_explainable(checkpoint)
            parts = feature_errors(checkpoint.model, out["x_model"], out["x_hat"])  # hg.explain's parts
            why = {"explanations": largest_parts(*by_column(checkpoint, parts), explain)}
        judged = judge_scores(checkpoint, out["score"], contamination)
        return {
            "scores": np.minimum(judged["scores"], LARGEST).tolist(),
            "training_percentile": judged["training_percentile"].tolist(),
            "is_anomaly": judged["is_anomaly"].tolist(),
            "threshold": judged["threshold"],
            "contamination": contamination,
            **why,
            **ids,
        }

    @app.get(
        "/health", summary="is the service up", openapi_extra={"responses": contract.answers("Health", "up", False)}
    )
    async def health():
        return {"status": "ok", "model": checkpoint.variant, "pid": os.getpid()}

    @app.get(
        "/model",
        summary="the model served: architecture, objective, training data, limits",
        openapi_extra={"responses": contract.answers("ModelInfo", "the model", False)},
    )
    async def model():
        return model_info

    document = app.openapi()  # FastAPI's paths, with this model's schemas added: made once, served as it is
    document.setdefault("components", {}).setdefault("schemas", {}).update(contract.schemas(models))
    return app


ENVIRONMENT = "HOURGLASS_SERVE"  # the checkpoint and limits, for each worker process that uvicorn starts


def from_environment():
    """The app for a worker process: ``uvicorn`` calls this factory in each of ``workers`` processes."""
    import json

    settings = json.loads(os.environ[ENVIRONMENT])
    return create_app(settings.pop("checkpoint"), ServiceConfig(**settings))


def serve(checkpoint: str | Path, config: ServiceConfig | None = None, log_level: str = "info") -> None:
    """Serve ``checkpoint`` with uvicorn until interrupted. The checkpoint is validated and the address checked
    before anything starts, so a corrupt checkpoint or a port in use is one error, not a traceback.

    Parameters
    ----------
    checkpoint : str or Path
        A run folder, or a loaded :class:`~hourglass.store.checkpoint.Checkpoint`.
    config : ServiceConfig, optional
        Host, port, workers and limits (:class:`~hourglass.service.ServiceConfig`).
    log_level : str, optional
        uvicorn's log level.
    """
    config = config or ServiceConfig()
    import json
    import socket

    import uvicorn

    if config.workers < 1 or config.max_rows < 1 or config.max_body_bytes < 1:
        raise HourglassError(
            "workers, max_rows and max_body_bytes must be at least 1", params=("workers", "max_rows", "max_body_bytes")
        )
    loaded = ckpt.load(checkpoint)
    try:
        with socket.create_server((config.host, config.port)):
            pass
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        raise HourglassError(
            f"cannot listen on {config.host}:{config.port} ({reason}); choose another port or host",
            params=("host", "port"),
        ) from None
    if config.workers == 1:
        uvicorn.run(create_app(loaded, config), host=config.host, port=config.port, log_level=log_level)
        return
    os.environ[ENVIRONMENT] = json.dumps({**config.__dict__, "checkpoint": str(checkpoint)})
    uvicorn.run(
        "hourglass.service.app:from_environment",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level=log_level,
    )
