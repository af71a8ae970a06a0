"""Extreme rows are the most anomalous, never normal: a row of values from 1e3 to 3e38 (and their negatives) —
finite, within float32's range, far outside the data — is flagged by the CLI, the Python API, the estimators and the
service, at the highest training percentile; its codes and reconstructions are finite numbers or refused by row,
never NaN with success."""

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from hourglass.data import load_dataset
from hourglass.scoring import anomaly_scores
from hourglass.service import ServiceConfig, create_app
from hourglass.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer
from hourglass.store import checkpoint as ckpt

from .test_priors_cli import one_line_error, run_cli

MAGNITUDES = [1e3, 1e6, 1e12, 1e20, 1e30, 1e36, 1e37, 1e38, 3e38]


def extreme_rows(width: int, magnitudes=MAGNITUDES) -> np.ndarray:
    """Rows of one magnitude throughout, then an ordinary row (0.5) with one value of that magnitude; ± each."""
    signed = [s * m for m in magnitudes for s in (1, -1)]
    whole = np.repeat(np.asarray(signed)[:, None], width, axis=1)
    one = np.full((len(signed), width), 0.5)
    one[:, width // 2] = signed
    return np.concatenate([whole, one]).astype(np.float32)


def assert_all_flagged(scores, percentile, is_anomaly, threshold):
    scores = np.asarray(scores, dtype=np.float64)
    assert not np.isnan(scores).any() and (scores > threshold).all(), scores
    assert (np.asarray(percentile) == 1.0).all() and np.asarray(is_anomaly).all()


def test_the_cli_and_the_library_flag_every_extreme_row(trained, tmp_path, capsys):
    x = extreme_rows(64)
    np.save(tmp_path / "big.npy", x)
    status, out, _ = run_cli(capsys, "score", trained["mlp"], tmp_path / "big.npy", "-o", tmp_path / "scores.csv")
    assert status == 0 and f"{len(x)} flagged" in out, out
    table = pd.read_csv(tmp_path / "scores.csv")
    threshold = anomaly_scores(ckpt.load(trained["mlp"]), x[:1])["threshold"]
    assert_all_flagged(table["anomaly_score"], table["training_percentile"], table["is_anomaly"], threshold)

    judged = anomaly_scores(ckpt.load(trained["mlp"]), x)  # the Python API, the same rows
    assert_all_flagged(judged["scores"], judged["training_percentile"], judged["is_anomaly"], judged["threshold"])

    # codes of rows up to 1e36 fit float32 (the overflowing rows are answered in float64); beyond, they are refused
    np.save(tmp_path / "large.npy", extreme_rows(64, MAGNITUDES[:6]))
    assert run_cli(capsys, "encode", trained["mlp"], tmp_path / "large.npy", "-o", tmp_path / "codes.npy")[0] == 0
    assert np.isfinite(np.load(tmp_path / "codes.npy")).all()
    refused = run_cli(capsys, "encode", trained["mlp"], tmp_path / "big.npy", "-o", tmp_path / "nan.npy")
    one_line_error(refused, "codes overflow float32", "row")
    assert not (tmp_path / "nan.npy").exists()
    status, out, _ = run_cli(capsys, "reconstruct", trained["mlp"], tmp_path / "big.npy", "-o", tmp_path / "rec.npy")
    assert status == 0 and "nan" not in out and np.isfinite(np.load(tmp_path / "rec.npy")).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_estimators_call_every_extreme_row_an_outlier(dtype):
    x_train = load_dataset("digits").x_train
    detector = AutoencoderOutlierDetector(epochs=3, random_state=0).fit(x_train)
    x = extreme_rows(64).astype(dtype)
    assert (detector.predict(x) == -1).all()
    assert not np.isnan(detector.score_samples(x)).any()
    transformer = AutoencoderTransformer(epochs=1, random_state=0).fit(x_train)
    try:
        codes = transformer.transform(x)
    except ValueError as e:  # refused by row, as the CLI does
        assert "overflow" in str(e) and "row" in str(e)
    else:
        assert np.isfinite(codes).all() and codes.dtype == dtype


def test_the_service_flags_every_extreme_row_and_refuses_values_beyond_float32(trained):
    x = extreme_rows(64)
    with TestClient(create_app(trained["mlp"], ServiceConfig(max_rows=100))) as client:
        answer = client.post("/score", json={"rows": x.tolist()})
        assert answer.status_code == 200, answer.text
        scored = answer.json()
        assert_all_flagged(scored["scores"], scored["training_percentile"], scored["is_anomaly"], scored["threshold"])
        for path, key in [("/encode", "codes"), ("/reconstruct", "reconstructions")]:
            answer = client.post(path, json={"rows": x.tolist()})
            assert answer.status_code == 200 and np.isfinite(np.asarray(answer.json()[key], np.float64)).all()
        for value in (1e39, -1e39, 1e300, 10**400):
            row = [0.5] * 64
            row[3] = value
            for path in ("/score", "/encode", "/reconstruct"):
                answer = client.post(path, json={"rows": [[0.5] * 64, row]})
                assert answer.status_code == 422 and "row 2, value 4" in answer.json()["detail"], answer.text
