"""Why a row was flagged: its squared reconstruction error split by column — from Python, the estimator and
``hourglass score --explain`` — sums to the row's score, adds a one-hot category's parts into its column, and names
first the column a row was pushed far out on."""

import numpy as np
import pandas as pd
import pytest

import hourglass as hg
from hourglass.scoring import anomaly_scores, explain_rows, explanation_shares, feature_columns, feature_errors
from hourglass.sklearn import AutoencoderOutlierDetector
from hourglass.use import samples_for

from .conftest import customers
from .test_cli import assert_one_line_error, hourglass

NUMERIC = ("spend", "visits", "basket")


def pushed(frame: pd.DataFrame, column: str, sds: float = 20.0) -> pd.DataFrame:
    """Held-out rows with ``column`` moved ``sds`` standard deviations out: far, so that the 2-d code cannot absorb
    the push by sliding along the curve the columns lie on (nearer, it spreads part of the error to the others)."""
    out = frame.copy()
    out[column] = out[column] + sds * frame[column].std()
    return out


def test_the_parts_sum_to_the_score_and_a_categorys_features_add_into_its_column(trained):
    checkpoint = hg.load(trained["table"])
    _, x = samples_for(checkpoint, trained["customers.csv"])
    names, parts = explain_rows(checkpoint, x)
    assert names == ["spend", "visits", "basket", "region"]  # the table's columns, not its 5 features
    np.testing.assert_allclose(parts.sum(axis=1), anomaly_scores(checkpoint, x)["scores"], rtol=1e-9)
    per_feature = feature_errors(checkpoint.model, x)
    _, index = feature_columns(checkpoint)
    np.testing.assert_allclose(parts[:, 3], per_feature[:, index == 3].sum(axis=1))  # region=north + region=south
    assert (index == 3).sum() == 2
    np.testing.assert_allclose(explanation_shares(parts).sum(axis=1), 1.0)


@pytest.mark.parametrize("column", NUMERIC)
def test_a_row_pushed_out_on_one_column_names_it_first_in_python(trained, column):
    rows = pushed(customers(40, seed=9), column)
    explained = hg.explain(trained["table"], rows.drop(columns="customer_id"))
    assert list(explained.columns) == ["spend", "visits", "basket", "region"]
    assert (explained.idxmax(axis=1) == column).mean() >= 0.9


def test_a_row_pushed_out_names_its_column_from_the_command_line(trained, tmp_path):
    rows = pushed(customers(40, seed=9), "visits")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    hourglass("score", trained["table"], tmp_path / "rows.csv", "-o", tmp_path / "s.csv", "--explain", "2")
    scores = pd.read_csv(tmp_path / "s.csv")
    assert list(scores.columns)[-4:] == ["explain_1", "share_1", "explain_2", "share_2"]
    assert (scores["explain_1"] == "visits").mean() >= 0.9
    assert ((scores["share_1"] >= scores["share_2"]) & (scores["share_1"] <= 1)).all()
    done = hourglass("score", trained["table"], tmp_path / "rows.csv", "-o", tmp_path / "a.csv", "--explain", "all")
    every = pd.read_csv(tmp_path / "a.explain.csv")
    assert "a.explain.csv" in done.stdout and list(every.columns) == ["customer_id", *NUMERIC, "region"]
    np.testing.assert_allclose(
        every[[*NUMERIC, "region"]].sum(axis=1), pd.read_csv(tmp_path / "a.csv")["anomaly_score"], rtol=1e-6
    )


def test_the_estimator_names_the_feature_a_row_departs_on(digits):
    detector = AutoencoderOutlierDetector(latent_dim=4, hidden_widths=(32,), epochs=30, random_state=0)
    detector.fit(digits.x_train.astype(np.float64))
    x = digits.x_test[:30].astype(np.float64).copy()
    x[:, 20] += 4.0  # one pixel far brighter than any digit's
    parts = detector.feature_scores(x)
    assert parts.shape == x.shape
    np.testing.assert_allclose(parts.sum(axis=1), -detector.score_samples(x), rtol=1e-9)
    assert (parts.argmax(axis=1) == 20).mean() >= 0.9


@pytest.mark.parametrize(
    ("value", "fragment"), [("0", "--explain must be a whole number"), ("-2", "--explain must be a whole number")]
)
def test_a_bad_explain_is_one_line_and_writes_nothing(trained, tmp_path, value, fragment):
    done = hourglass(
        "score", trained["table"], trained["customers.csv"], "-o", tmp_path / "s.csv", "--explain", value, check=False
    )
    assert_one_line_error(done, fragment)
    assert not (tmp_path / "s.csv").exists()


def test_an_image_model_has_no_columns_to_explain(trained, tmp_path):
    done = hourglass("score", trained["conv"], "digits", "-o", tmp_path / "s.csv", "--explain", "3", check=False)
    assert_one_line_error(done, "per-pixel map")
    assert not (tmp_path / "s.csv").exists()


def test_a_file_streamed_a_block_at_a_time_is_explained_as_one_read_whole(trained, tmp_path):
    pushed(customers(300, seed=5), "basket").to_parquet(tmp_path / "rows.parquet")
    for stream in ("--stream", "--no-stream"):
        out = tmp_path / f"s{stream}.csv"
        hourglass("score", trained["table"], tmp_path / "rows.parquet", "-o", out, "--explain", "all", stream)
    streamed, whole = (pd.read_csv(tmp_path / f"s{s}.explain.csv") for s in ("--stream", "--no-stream"))
    assert list(whole.columns) == ["customer_id", *NUMERIC, "region"] and len(whole) == 300
    pd.testing.assert_frame_equal(streamed, whole)


def test_a_tables_rows_reach_the_model_alike_as_columns_or_encoded_features_and_wrong_ones_are_named(trained):
    from hourglass.data.tables import model_space

    checkpoint = hg.load(trained["table"])
    frame = customers(20, seed=4).drop(columns="customer_id")
    _, x = samples_for(checkpoint, trained["customers.csv"])
    from_columns = model_space(checkpoint, frame)
    assert from_columns.shape == (20, 5) and from_columns.dtype == np.float32
    encoded = checkpoint.scaling.inverse_transform(from_columns)
    np.testing.assert_allclose(model_space(checkpoint, encoded), from_columns, atol=1e-5)
    np.testing.assert_allclose(hg.explain(checkpoint, frame).to_numpy(), hg.explain(checkpoint, encoded).to_numpy(),
                               rtol=1e-4, atol=1e-6)  # fmt: skip
    with pytest.raises(hg.HourglassError, match=r"columns spend, visits, basket, region, or \(N, 5\) numbers"):
        model_space(checkpoint, x[:, :3])
    with pytest.raises(hg.HourglassError, match="basket"):
        model_space(checkpoint, frame.drop(columns="basket"))
