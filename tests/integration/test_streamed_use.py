"""encode, reconstruct and score read a file larger than memory a block at a time, with the reader training
streams with, and write the same numbers as when they read it whole."""

import numpy as np
import pandas as pd
import pytest

import hourglass as hg
from hourglass.use import encode_file, reconstruct_file, score_file


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rows") / "digits.npy"
    x, _ = hg.load_digits(seed=0).split("test")
    np.save(path, np.concatenate([x] * 12))  # ~4,300 rows, in blocks of 100 (small_blocks)
    return path


@pytest.fixture
def small_blocks(monkeypatch):
    from hourglass.data import sources

    monkeypatch.setattr(sources, "BLOCK_BYTES", 64 * 64 * 4 * 100)  # 100 rows a block


def test_streamed_encode_and_reconstruct_equal_the_whole_file(trained, digits_file, tmp_path, small_blocks):
    for fn, name in ((encode_file, "codes"), (reconstruct_file, "rows")):
        whole = fn(trained["mlp"], digits_file, tmp_path / f"{name}-whole.npy", stream=False)
        streamed = fn(trained["mlp"], digits_file, tmp_path / f"{name}-streamed.npy", stream=True)
        a, b = np.load(tmp_path / f"{name}-whole.npy"), np.load(tmp_path / f"{name}-streamed.npy")
        assert whole["n"] == streamed["n"] == len(a) == len(b) and np.allclose(a, b, atol=1e-5)
        if name == "rows":
            assert streamed["squared_error_per_sample"] == pytest.approx(whole["squared_error_per_sample"], rel=1e-5)
    encode_file(trained["mlp"], digits_file, tmp_path / "codes.csv", stream=True)
    codes = pd.read_csv(tmp_path / "codes.csv")
    assert list(codes.columns) == ["z1", "z2"]
    assert np.allclose(codes.to_numpy(), np.load(tmp_path / "codes-whole.npy"), atol=1e-5)


def test_streamed_score_of_a_parquet_table_keeps_ids_and_flags(trained, tmp_path, small_blocks):
    frame = pd.read_csv(trained["customers.csv"])
    frame.loc[7, "spend"] = 1e4  # one extreme row
    path = tmp_path / "customers.parquet"
    frame.to_parquet(path, row_group_size=64)
    whole = score_file(trained["table"], trained["customers.csv"], tmp_path / "whole.csv")
    streamed = score_file(trained["table"], path, tmp_path / "streamed.csv", stream=True)
    a, b = pd.read_csv(tmp_path / "whole.csv"), pd.read_csv(tmp_path / "streamed.csv")
    assert streamed["n"] == len(frame) == len(b) and list(b.columns) == list(a.columns)
    assert list(b["customer_id"]) == list(frame["customer_id"])
    assert b.loc[7, "is_anomaly"] and b.loc[7, "training_percentile"] == 1.0
    same = b.drop(index=7)
    assert np.allclose(same["anomaly_score"], a.drop(index=7)["anomaly_score"], rtol=1e-4)
    assert streamed["flagged"] >= 1 and whole["n"] == len(frame)


def test_a_csv_cannot_be_streamed_and_says_so(trained, tmp_path):
    with pytest.raises(hg.HourglassError, match="cannot be streamed"):
        encode_file(trained["table"], trained["customers.csv"], tmp_path / "z.npy", stream=True)
