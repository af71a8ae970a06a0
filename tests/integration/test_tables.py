"""Tables from the command line: train → encode → score on a CSV with an ID column, and the errors a table can give."""

import numpy as np
import pandas as pd
import pytest

from .test_cli import assert_one_line_error, hourglass


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(0)
    t = rng.random(400)
    frame = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(400)],
                          "spend": 100 * t + rng.normal(0, 1, 400), "visits": 20 * t ** 2 + rng.normal(0, 0.2, 400),
                          "basket": 5 + 3 * np.sin(3 * t) + rng.normal(0, 0.05, 400),
                          "region": rng.choice(["north", "south"], 400)})
    frame.to_csv(root / "customers.csv", index=False)
    hourglass("train", root / "customers.csv", "--id-column", "customer_id", "--drop", "region", "--latent-dim",
              "1", "--widths", "32,16", "--epochs", "60", "--batch-size", "32", "--out", root / "run", "--quiet")
    return root, frame


def test_encode_keeps_the_id_column(table):
    root, frame = table
    hourglass("encode", root / "run", root / "customers.csv", "-o", root / "codes.csv")
    codes = pd.read_csv(root / "codes.csv")
    assert list(codes.columns) == ["customer_id", "z1"] and codes["customer_id"].tolist() == frame["customer_id"].tolist()


def test_score_flags_rows_off_the_training_manifold(table):
    root, frame = table
    odd = frame.head(20).copy()
    odd["customer_id"] = [f"odd{i}" for i in range(20)]
    odd["visits"] = 20 - odd["visits"]  # off the curve the other rows lie on
    pd.concat([frame.tail(100), odd]).to_csv(root / "new.csv", index=False)
    done = hourglass("score", root / "run", root / "new.csv", "-o", root / "scores.csv", "--contamination", "0.02")
    scores = pd.read_csv(root / "scores.csv")
    assert list(scores.columns) == ["customer_id", "anomaly_score", "training_percentile", "is_anomaly"]
    flagged = set(scores.loc[scores["is_anomaly"], "customer_id"])
    assert len(flagged & set(odd["customer_id"])) >= 15 and len(flagged - set(odd["customer_id"])) <= 6
    assert "flagged as anomalies" in done.stdout


def test_table_errors_are_one_line(table, tmp_path):
    root, frame = table
    frame.to_csv(tmp_path / "with_text.csv", index=False)
    assert_one_line_error(hourglass("train", tmp_path / "with_text.csv", "--out", tmp_path / "r", check=False),
                          "column 'region' is not numeric", "--one-hot")
    holes = frame.copy()
    holes.loc[7, "spend"] = np.nan
    holes.to_csv(tmp_path / "holes.csv", index=False)
    assert_one_line_error(hourglass("score", root / "run", tmp_path / "holes.csv", "-o", tmp_path / "s.csv",
                                    check=False), "column 'spend' has a missing value on data row 8")
    frame.drop(columns="basket").to_csv(tmp_path / "fewer.csv", index=False)
    assert_one_line_error(hourglass("encode", root / "run", tmp_path / "fewer.csv", "-o", tmp_path / "z.csv",
                                    check=False), "missing column 'basket' the model was trained with")
    hourglass("train", tmp_path / "with_text.csv", "--one-hot", "--epochs", "2", "--out", tmp_path / "onehot",
              "--quiet")
