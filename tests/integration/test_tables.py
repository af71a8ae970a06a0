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
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(400)],
            "spend": 100 * t + rng.normal(0, 1, 400),
            "visits": 20 * t**2 + rng.normal(0, 0.2, 400),
            "basket": 5 + 3 * np.sin(3 * t) + rng.normal(0, 0.05, 400),
            "region": rng.choice(["north", "south"], 400),
        }
    )
    frame.to_csv(root / "customers.csv", index=False)
    hourglass(
        "train",
        root / "customers.csv",
        "--id-column",
        "customer_id",
        "--drop",
        "region",
        "--latent-dim",
        "1",
        "--widths",
        "32,16",
        "--epochs",
        "60",
        "--batch-size",
        "32",
        "--out",
        root / "run",
        "--quiet",
    )
    return root, frame


def test_encode_keeps_the_id_column(table):
    root, frame = table
    hourglass("encode", root / "run", root / "customers.csv", "-o", root / "codes.csv")
    codes = pd.read_csv(root / "codes.csv")
    assert (
        list(codes.columns) == ["customer_id", "z1"] and codes["customer_id"].tolist() == frame["customer_id"].tolist()
    )


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
    assert_one_line_error(
        hourglass("train", tmp_path / "with_text.csv", "--out", tmp_path / "r", check=False),
        "column 'region' is not numeric",
        "--one-hot",
    )
    holes = frame.copy()
    holes.loc[7, "spend"] = np.nan
    holes.to_csv(tmp_path / "holes.csv", index=False)
    assert_one_line_error(
        hourglass("score", root / "run", tmp_path / "holes.csv", "-o", tmp_path / "s.csv", check=False),
        "column 'spend' has a missing value on data row 8",
    )
    frame.drop(columns="basket").to_csv(tmp_path / "fewer.csv", index=False)
    assert_one_line_error(
        hourglass("encode", root / "run", tmp_path / "fewer.csv", "-o", tmp_path / "z.csv", check=False),
        "missing column 'basket' the model was trained with",
    )
    hourglass(
        "train", tmp_path / "with_text.csv", "--one-hot", "--epochs", "2", "--out", tmp_path / "onehot", "--quiet"
    )


def test_one_hot_columns_are_the_categories_seen_in_training(table, tmp_path):
    import hourglass as hg

    root, frame = table
    frame.to_csv(tmp_path / "with_text.csv", index=False)
    hourglass(
        "train", tmp_path / "with_text.csv", "--one-hot", "--epochs", "2", "--out", tmp_path / "onehot", "--quiet"
    )
    data = hg.load(tmp_path / "onehot").data
    assert data["columns"] == ["spend", "visits", "basket", "region=north", "region=south"]
    assert data["table"]["one_hot"] == {"region": ["north", "south"]} and data["table"]["id_column"] == "customer_id"
    hourglass("reconstruct", tmp_path / "onehot", tmp_path / "with_text.csv", "-o", tmp_path / "back.csv")
    back = pd.read_csv(tmp_path / "back.csv")
    assert list(back.columns) == ["customer_id", "spend", "visits", "basket", "region=north", "region=south"]
    # the two indicator columns reconstruct a 0/1 pair, closer to the row's own region than to the other
    north = (frame["region"] == "north").to_numpy()
    assert (back["region=north"].to_numpy()[north] > back["region=north"].to_numpy()[~north].mean()).mean() > 0.5
    frame.assign(region=["east"] + list(frame["region"][1:])).to_csv(tmp_path / "new_region.csv", index=False)
    assert_one_line_error(
        hourglass("encode", tmp_path / "onehot", tmp_path / "new_region.csv", "-o", tmp_path / "z.csv", check=False),
        "column 'region' has categories ['east']",
    )
