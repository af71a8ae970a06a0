"""Load on the scoring service: requests/s and latency of ``POST /score``, then a run with malformed requests mixed in.

The service (``hourglass serve``, one worker, the demo's MNIST hourglass from bench/checkpoints.py) is started on a
free loopback port; a client in this process keeps C requests in flight (httpx, asyncio) for S seconds, each with
R MNIST test images as JSON rows, at C ∈ {1, 8, 32} and R ∈ {1, 64}. Every response is checked: an error is a
transport failure or a status other than 200; a lost response is a request sent that never got one.
Then the mixed run (C = 8, R = 1): one request in ten is malformed (a wrong width, NaN, text, an empty list, an
unknown field) — each must get a 4xx, every other one a 200 — and the good requests' latency is set beside the
clean run's. Last, ``GET /health`` must still answer. Client and server share this machine's cores, so the
figures are a floor. The last line is one JSON object.

    .venv/bin/python bench/serve_load.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from checkpoints import mnist_k4  # noqa: E402

import hourglass as hg  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def malformed(rng: np.random.Generator, row: list[float]) -> bytes:
    kind = rng.integers(5)
    if kind == 0:
        return json.dumps({"rows": [row[:-1]]}).encode()  # a wrong width
    if kind == 1:
        return json.dumps({"rows": [[float("nan")] + row[1:]]}).encode()  # NaN (Python writes the NaN token)
    if kind == 2:
        return json.dumps({"rows": [["dark"] + row[1:]]}).encode()  # text
    if kind == 3:
        return b'{"rows": []}'  # an empty list
    return json.dumps({"rows": [row], "colour": "red"}).encode()  # an unknown field


async def load(url: str, bodies: list[tuple[bytes, bool]], concurrency: int, seconds: float) -> dict:
    """Keep ``concurrency`` requests in flight for ``seconds``, cycling through ``bodies`` (body, well-formed)."""
    latencies, bad_latencies, errors, rejected_ok, sent, answered, failed = [], [], 0, 0, 0, 0, 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker(offset: int):
            nonlocal errors, rejected_ok, sent, answered, failed
            i = offset
            while time.perf_counter() < deadline:
                body, good = bodies[i % len(bodies)]
                i += concurrency
                sent += 1
                started = time.perf_counter()
                try:
                    r = await client.post("/score", content=body, headers={"content-type": "application/json"})
                except httpx.HTTPError:  # no response: the connection failed or timed out
                    failed += 1
                    continue
                answered += 1
                elapsed = time.perf_counter() - started
                if good:
                    latencies.append(elapsed)
                    errors += r.status_code != 200
                else:
                    bad_latencies.append(elapsed)
                    rejected_ok += 400 <= r.status_code < 500 and "detail" in r.json()

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in range(concurrency)))
        wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "requests_per_s": round(answered / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "requests": sent,
        "errors": errors + failed,
        "lost": sent - answered - failed,
        "malformed": len(bad_latencies),
        "malformed_answered_4xx": rejected_ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per run (default %(default)s)")
    args = parser.parse_args()

    folder = mnist_k4()
    x = hg.load_mnist().x_test
    rows = np.round(x.astype(np.float64), 4).tolist()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "hourglass", "serve", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        results = {}
        print(
            f"{'concurrency':>11} {'rows':>5} {'req/s':>8} {'rows/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'lost':>5}"
        )
        for rows_per_request in (1, 64):
            bodies = [
                (json.dumps({"rows": rows[i : i + rows_per_request]}).encode(), True)
                for i in range(0, 2000, rows_per_request)
            ]
            for concurrency in (1, 8, 32):
                r = asyncio.run(load(url, bodies, concurrency, args.seconds))
                results[f"c{concurrency}_r{rows_per_request}"] = r
                print(
                    f"{concurrency:>11} {rows_per_request:>5} {r['requests_per_s']:>8,.0f} "
                    f"{r['requests_per_s'] * rows_per_request:>9,.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                    f"{r['errors']:>6} {r['lost']:>5}",
                    flush=True,
                )
        rng = np.random.default_rng(0)
        mixed_bodies = [
            (malformed(rng, rows[i]), False) if i % 10 == 9 else (json.dumps({"rows": [rows[i]]}).encode(), True)
            for i in range(2000)
        ]
        mixed = asyncio.run(load(url, mixed_bodies, 8, args.seconds))
        clean = results["c8_r1"]
        results["mixed_c8_r1"] = mixed
        print(
            f"mixed (10 % malformed, concurrency 8, 1 row): {mixed['malformed']} malformed, "
            f"{mixed['malformed_answered_4xx']} answered 4xx; good requests p50 {mixed['p50_ms']:.2f} ms / p99 "
            f"{mixed['p99_ms']:.2f} ms (clean run: {clean['p50_ms']:.2f} / {clean['p99_ms']:.2f}); errors "
            f"{mixed['errors']}, lost {mixed['lost']}"
        )
        healthy = httpx.get(f"{url}/health").json()["status"] == "ok"
        print(f"healthy after the runs: {healthy}")
        results["healthy_after"] = healthy
        results["seconds_per_run"] = args.seconds
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
