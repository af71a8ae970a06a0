"""Property-based fuzzing (Hypothesis): hostile tables, arrays, checkpoint bytes and config fields go through the
loaders, ``load`` and the scikit-learn estimators. Every outcome is a result or an HourglassError (scikit-learn's
ValueError for the estimators) — never another exception, never a NaN result. Bounded to a few seconds each."""

import contextlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import hourglass as hg
from hourglass.store import runfolder

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e300, max_value=1e300),
    st.integers(-(10**20), 10**20),
    st.text(max_size=6),
    st.just(""),
    st.booleans(),
)


def finite_result(dataset):
    for x in (dataset.x_train, dataset.x_val, dataset.x_test):
        assert x.dtype == np.float32 and np.isfinite(x).all()


@FUZZ
@example(names=["\x1f", "\x85"], rows=[[1, 2]], one_hot=False, encoding="utf-8")  # both strip to ''
@example(names=["x ", "x"], rows=[[1, 2]], one_hot=False, encoding="utf-8")  # equal once stripped
@given(
    names=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
    rows=st.lists(st.lists(cells, min_size=1, max_size=5), max_size=12),
    one_hot=st.booleans(),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
)
def test_random_tables_load_or_are_refused(names, rows, one_hot, encoding):
    text = (
        ",".join(n.replace(",", "_").replace("\n", "_") for n in names)
        + "\n"
        + "".join(",".join(str(c).replace(",", ";").replace("\n", " ") for c in row) + "\n" for row in rows)
    )  # ragged too
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        try:
            path.write_bytes(text.encode(encoding, errors="replace"))
        except UnicodeEncodeError:
            return
        with contextlib.suppress(hg.HourglassError):
            finite_result(hg.load_dataset(path, one_hot=one_hot))


@FUZZ
@given(
    x=arrays(
        np.float64,
        array_shapes(min_dims=0, max_dims=5, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True) | st.just(1e300) | st.just(1e39),
    ),
    dtype=st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_]),
)
def test_random_arrays_load_or_are_refused(x, dtype):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        with np.errstate(all="ignore"):
            np.save(path, x.astype(dtype))
        with contextlib.suppress(hg.HourglassError):
            finite_result(hg.load_dataset(path))


@pytest.fixture(scope="module")
def checkpoint_folder(tmp_path_factory):
    model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (6,), (5,), 2), "sigmoid", seed=0)
    return hg.save(
        tmp_path_factory.mktemp("ckpt") / "run",
        model,
        scaling=hg.Scaling("divide", 0.0, 255.0),
        anomaly={"train_error_quantiles": [0.0, 1.0]},
    )


def load_or_refuse(folder):
    try:
        loaded = hg.load(folder)
    except hg.HourglassError:
        return
    x = np.random.default_rng(0).random((3, loaded.model.architecture.n_features)).astype(np.float32)
    assert np.isfinite(hg.reconstruct(loaded.model, loaded.scaling.transform(x))).all()


@FUZZ
@given(
    name=st.sampled_from(["model.safetensors", "config.json", "CURRENT"]),
    data=st.binary(max_size=300),
    keep=st.integers(0, 400),
)
def test_random_bytes_in_a_checkpoint_are_refused(checkpoint_folder, name, data, keep):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(checkpoint_folder, folder)
        target = (folder if name == "CURRENT" else runfolder.current(folder)) / name
        target.write_bytes(target.read_bytes()[:keep] + data)  # truncated, extended or replaced
        load_or_refuse(folder)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


@FUZZ
@given(
    path=st.sampled_from(
        [
            ("model", "kind"),
            ("model", "architecture", "widths"),
            ("model", "architecture", "latent_dim"),
            ("model", "architecture", "input_shape"),
            ("model", "options"),
            ("preprocessing",),
            ("preprocessing", "scale"),
            ("preprocessing", "shift"),
            ("format_version",),
            ("weights",),
            ("anomaly", "train_error_quantiles"),
            ("model", "architecture", "topk"),
        ]
    ),
    value=json_values,
)
def test_random_config_fields_are_refused_or_harmless(checkpoint_folder, path, value):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(checkpoint_folder, folder)
        config_path = runfolder.current(folder) / "config.json"
        config = json.loads(config_path.read_text())
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        config_path.write_text(json.dumps(config))
        load_or_refuse(folder)
        try:
            from hourglass.scoring import anomaly_scores

            result = anomaly_scores(hg.load(folder), np.zeros((2, 6), np.float32))
            assert np.isfinite(result["scores"]).all() and np.isfinite(result["threshold"])
        except hg.HourglassError:
            pass


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 4)),
        elements=st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e40, 1e40),
    )
)
def test_the_estimators_fit_or_refuse_random_arrays(x):
    from hourglass.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer

    for estimator in (
        AutoencoderTransformer(latent_dim=1, hidden_widths=(3,), epochs=2, random_state=0),
        AutoencoderOutlierDetector(latent_dim=1, hidden_widths=(3,), epochs=2, random_state=0),
    ):
        try:
            estimator.fit(x)
        except ValueError:  # HourglassError is one too
            continue
        out = estimator.transform(x) if hasattr(estimator, "transform") else estimator.score_samples(x)
        assert np.isfinite(out).all()
