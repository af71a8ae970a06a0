"""`hourglass serve`: JSON rows in, the numbers hourglass computes out; every bad request a 4xx naming its problem."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from hourglass import explain as hg_explain
from hourglass.metrics import encode
from hourglass.scoring import anomaly_scores
from hourglass.service import ServiceConfig, create_app
from hourglass.store import checkpoint as ckpt
from hourglass.use import samples_for

from .test_cli import assert_one_line_error, hourglass


@pytest.fixture(scope="module")
def digits_service(trained):
    with TestClient(create_app(trained["mlp"], ServiceConfig(max_rows=50, max_body_bytes=200_000))) as client:
        yield client


@pytest.fixture(scope="module")
def table_service(trained):
    with TestClient(create_app(trained["table"])) as client:
        yield client


def test_answers_equal_the_library(trained, digits_service):
    checkpoint = ckpt.load(trained["mlp"])
    samples, x_model = samples_for(checkpoint, "digits")
    rows = samples.x[:40].tolist()
    codes = digits_service.post("/encode", json={"rows": rows}).json()["codes"]
    np.testing.assert_allclose(codes, encode(checkpoint.model, x_model[:40]), rtol=1e-6, atol=1e-6)
    scored = digits_service.post("/score", json={"rows": rows, "contamination": 0.05}).json()
    want = anomaly_scores(checkpoint, x_model[:40], 0.05)
    np.testing.assert_allclose(scored["scores"], want["scores"], rtol=1e-6)
    assert scored["is_anomaly"] == want["is_anomaly"].tolist() and scored["threshold"] == want["threshold"]
    rebuilt = digits_service.post("/reconstruct", json={"rows": rows[:3]}).json()["reconstructions"]
    assert np.asarray(rebuilt).shape == (3, 64)
    model = digits_service.get("/model").json()
    assert model["latent_dim"] == 2 and model["features"] == 64 and model["limits"]["max_rows"] == 50
    assert digits_service.get("/health").json()["status"] == "ok"
    assert "/score" in digits_service.get("/openapi.json").json()["paths"]
    assert digits_service.get("/docs").status_code == 200


ROW = [0.0] * 64


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        (b"", 422, "body is empty"),
        (b"{not json", 422, "not JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"rows": []}', 422, "empty"),
        (b'{"rows": 7}', 422, "list of rows"),
        (b'{"rows": [[1, 2, 3]]}', 422, "row 1 has 3 values; the model expects 64"),
        (json.dumps({"rows": [ROW, ROW[:-1] + ["x"]]}).encode(), 422, 'row 2, value 64 is "x", not a number'),
        (json.dumps({"rows": [ROW[:5] + [True] + ROW[6:]]}).encode(), 422, "row 1, value 6 is true"),
        (b'{"rows": [[NaN' + b", 0" * 63 + b"]]}", 422, "row 1, value 1 is nan"),
        (b'{"rows": [[Infinity' + b", 0" * 63 + b"]]}", 422, "finite"),
        (json.dumps({"rows": [{"a": 1}]}).encode(), 422, "not trained on a table"),
        (json.dumps({"rows": [ROW], "extra": 1}).encode(), 422, "unknown field 'extra'"),
        (json.dumps({"rows": [ROW] * 51}).encode(), 413, "51 rows in one request; this service takes at most 50"),
        (json.dumps({"rows": [ROW] * 49, "pad": "x" * 200_000}).encode(), 413, "200000"),
        (b"[" * 100_000, 422, "nested too deeply"),
        (json.dumps({"rows": [ROW, ROW[:9] + [1e39] + ROW[10:]]}).encode(), 422, "row 2, value 10 is 1e+39, beyond"),
        (json.dumps({"rows": [[-1e300] + ROW[1:]]}).encode(), 422, "row 1, value 1 is -1e+300, beyond the range"),
        (json.dumps({"rows": [[10**400] + ROW[1:]]}).encode(), 422, "row 1, value 1 is an integer of 401 digits"),
        (b'{"rows": [[1e400' + b", 0" * 63 + b"]]}", 422, "row 1, value 1 is inf"),
    ],
)
@pytest.mark.parametrize("path", ["/encode", "/reconstruct", "/score"])
def test_bad_requests_get_a_4xx_naming_the_problem(digits_service, path, body, status, fragment):
    r = digits_service.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert fragment in detail and "\n" not in detail and "Traceback" not in detail, detail


def test_bad_contamination_and_unknown_paths(digits_service):
    r = digits_service.post("/score", json={"rows": [ROW], "contamination": 1.5})
    assert r.status_code == 422 and "contamination must be in (0, 1)" in r.json()["detail"]
    assert digits_service.post("/encode", json={"rows": [ROW], "contamination": 0.1}).status_code == 422
    assert digits_service.get("/nowhere").status_code == 404
    r = digits_service.get("/score")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = digits_service.request("TRACE", "/health")
    assert r.status_code == 405 and "GET" in r.headers["allow"]


def test_table_rows_by_column_name_in_any_order(trained, table_service):
    frame = pd.read_csv(trained["customers.csv"]).head(5)
    shuffled = frame[["region", "basket", "customer_id", "visits", "spend"]]
    answer = table_service.post("/score", json={"rows": shuffled.to_dict("records")}).json()
    assert answer["ids"] == frame["customer_id"].tolist()
    checkpoint = ckpt.load(trained["table"])
    _, x_model = samples_for(checkpoint, trained["customers.csv"])
    np.testing.assert_allclose(answer["scores"], anomaly_scores(checkpoint, x_model[:5])["scores"], rtol=1e-6)
    row = frame.drop(columns="customer_id").iloc[0].to_dict()
    for bad, fragment in [
        ({**row, "colour": 1}, "unknown column 'colour'"),
        ({k: v for k, v in row.items() if k != "visits"}, "lacks column 'visits'"),
        ({**row, "region": "west"}, "'region' is \"west\"; the categories seen in training are north, south"),
        ({**row, "spend": "lots"}, "column 'spend' is \"lots\", not a number"),
        ({**row, "spend": None}, "column 'spend' is null, not a number"),
    ]:
        r = table_service.post("/score", json={"rows": [row, bad]})
        assert r.status_code == 422 and "row 2" in r.json()["detail"] and fragment in r.json()["detail"], r.text
    r = table_service.post("/encode", json={"rows": [list(range(5))]})  # a table model takes rows by column name
    assert r.status_code == 422 and "row 1 is a list; this model was trained on a table" in r.json()["detail"]
    r = table_service.post("/score", json={"rows": [{**row, "spend": 1e39}]})
    assert r.status_code == 422 and "row 1, column 'spend' is 1e+39, beyond the range" in r.json()["detail"]
    assert table_service.get("/model").json()["feature_names"][-1] == "region=south"


def test_score_explains_which_column_made_a_row_an_outlier(trained, table_service, digits_service):
    frame = pd.read_csv(trained["customers.csv"]).drop(columns="customer_id").head(8)
    pushed = frame.copy()
    pushed["visits"] = frame["visits"] + 20 * frame["visits"].std()  # one column far out, the others as they were
    answer = table_service.post("/score", json={"rows": pushed.to_dict("records"), "explain": 2}).json()
    assert [row[0]["column"] for row in answer["explanations"]] == ["visits"] * len(pushed)
    parts = hg_explain(trained["table"], pd.read_csv(trained["customers.csv"]).head(8))
    plain = table_service.post("/score", json={"rows": frame.to_dict("records"), "explain": 5}).json()
    for row, expected, score in zip(plain["explanations"], parts.to_numpy(), plain["scores"], strict=True):
        assert {p["column"] for p in row} == {"spend", "visits", "basket", "region"}  # 4 columns, though K is 5
        assert sum(p["share"] for p in row) == pytest.approx(1)
        assert sum(p["error"] for p in row) == pytest.approx(score, rel=1e-5)
        assert sorted(p["error"] for p in row) == pytest.approx(sorted(expected), rel=1e-4, abs=1e-9)
    assert "explanations" not in table_service.post("/score", json={"rows": frame.head(1).to_dict("records")}).json()
    assert len(table_service.post("/score", json={"rows": frame.head(1).to_dict("records"), "explain": 2.0})
               .json()["explanations"][0]) == 2  # fmt: skip  # JSON Schema's integers include 2.0
    for bad in (0, -1, 1.5, True, "3"):
        r = table_service.post("/score", json={"rows": frame.head(1).to_dict("records"), "explain": bad})
        assert r.status_code == 422 and "explain" in r.json()["detail"], r.text
    r = digits_service.post("/score", json={"rows": [ROW], "explain": 3})  # an image model: a map, not columns
    assert r.status_code == 422 and "per-pixel map, not columns" in r.json()["detail"], r.text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_real_server_on_loopback(trained, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    server = subprocess.Popen(
        [sys.executable, "-m", "hourglass", "serve", str(trained["mlp"]), "--port", str(port), "--workers", "2"]
        + ["--max-body-bytes", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        r = httpx.post(f"{url}/score", json={"rows": [ROW, [1.0] * 64]})
        assert r.status_code == 200 and len(r.json()["scores"]) == 2
        assert httpx.post(f"{url}/score", json={"rows": [[1]]}).status_code == 422
        # a body over the limit, sent whole with its Content-Length: the client reads a 413, not a reset connection
        for _ in range(3):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/score", body=b" " * 3_000_000, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            assert answer.status == 413 and b"at most 100000" in answer.read()
            connection.close()
        busy = hourglass("serve", trained["mlp"], "--port", port, check=False, process=True)  # the port is taken
        assert_one_line_error(busy, f"cannot listen on 127.0.0.1:{port}", "--port")
    finally:
        server.terminate()
        server.wait(timeout=30)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{")
    assert_one_line_error(hourglass("serve", broken, "--port", free_port(), check=False, process=True), "config.json")


def test_waiting_requests_share_one_pass_and_a_cancelled_one_breaks_nothing():
    import asyncio
    import threading

    from hourglass.service.app import Batcher

    passes, release = [], threading.Event()

    def run(x):
        passes.append(len(x))
        release.wait(5)  # the first pass holds the model while the others queue
        return {"rows": x}

    async def scenario():
        batcher = Batcher(run, max_rows=100)
        worker = asyncio.create_task(batcher.serve_forever())
        first = asyncio.create_task(batcher(np.zeros((1, 3))))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batcher(np.full((2, 3), i))) for i in range(5)]
        gone = asyncio.create_task(batcher(np.ones((1, 3))))
        await asyncio.sleep(0.05)
        gone.cancel()  # its client went away while it waited
        release.set()
        answers = [await first] + [await r for r in rest]
        after = await batcher(np.ones((4, 3)))
        worker.cancel()
        return answers, after

    answers, after = asyncio.run(scenario())
    assert passes[:2] == [1, 11] and passes[2] == 4  # the five waiting requests (and the cancelled one): one pass
    assert [a["rows"].shape[0] for a in answers] == [1, 2, 2, 2, 2, 2]
    assert all((a["rows"] == i).all() for i, a in enumerate(answers[1:])) and after["rows"].shape == (4, 3)


DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi-customers.json"


def published_document(app) -> dict:
    """The app's OpenAPI document without the lines that name the checkpoint's folder and hourglass's version."""
    document = json.loads(json.dumps(app.openapi()))
    document["info"].pop("description"), document["info"].pop("version")
    return document


def test_the_docs_show_the_tables_example_s_real_document(trained):
    """docs/openapi-customers.json is the document the service publishes for the tables example (the customers
    table, served with the default limits). To refresh it: HOURGLASS_WRITE_DOCS=1 pytest -k real_document."""
    document = published_document(create_app(trained["table"]))
    if os.environ.get("HOURGLASS_WRITE_DOCS"):
        DOCUMENT.write_text(json.dumps(document, indent=2) + "\n")
    assert json.loads(DOCUMENT.read_text()) == document
    row = document["components"]["schemas"]["Row"]
    assert row["additionalProperties"] is False and set(row["required"]) == {"spend", "visits", "basket", "region"}
    assert row["properties"]["region"]["enum"] == ["north", "south"]
    rows = document["components"]["schemas"]["ScoreRequest"]["properties"]["rows"]
    assert rows["minItems"] == 1 and rows["maxItems"] == ServiceConfig().max_rows
    assert set(document["paths"]["/score"]["post"]["responses"]) == {"200", "413", "422"}
