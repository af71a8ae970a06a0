"""The scikit-learn estimators: scikit-learn's own estimator checks, pipelines, grid search, pickling."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from hourglass.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer


@parametrize_with_checks(
    [AutoencoderTransformer(epochs=5, random_state=0), AutoencoderOutlierDetector(epochs=5, random_state=0)]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


def pipeline(**kw):
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", AutoencoderTransformer(hidden_widths=(32,), epochs=60, random_state=0, **kw)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )


def test_pipeline_grid_search_on_breast_cancer(cancer, tmp_path):
    X, y = cancer
    search = GridSearchCV(pipeline(), {"ae__latent_dim": [2, 8]}, cv=3).fit(X, y)
    scores = cross_val_score(pipeline(latent_dim=search.best_params_["ae__latent_dim"]), X, y, cv=5)
    assert scores.mean() >= 0.95, scores
    path = tmp_path / "search.pkl"
    path.write_bytes(pickle.dumps(search))
    again = pickle.loads(path.read_bytes())
    np.testing.assert_array_equal(again.predict(X), search.predict(X))
    np.testing.assert_array_equal(again.predict_proba(X), search.predict_proba(X))


def test_transformer_round_trips_clone_and_pandas_output(cancer, tmp_path):
    X = StandardScaler().fit_transform(cancer[0])
    ae = AutoencoderTransformer(latent_dim=3, epochs=20, random_state=1).fit(X)
    joblib.dump(ae, tmp_path / "ae.joblib")
    again = joblib.load(tmp_path / "ae.joblib")
    np.testing.assert_array_equal(again.transform(X), ae.transform(X))
    np.testing.assert_array_equal(again.inverse_transform(ae.transform(X)), ae.inverse_transform(ae.transform(X)))
    assert ae.transform(X.astype(np.float32)).dtype == np.float32 and ae.transform(X).dtype == np.float64
    fresh = clone(ae).fit(X)  # same random_state, same fit
    np.testing.assert_array_equal(fresh.transform(X), ae.transform(X))
    assert ae.score(X) == pytest.approx(np.mean(ae.score_samples(X))) and ae.score(X) < 0
    frame = ae.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == ["autoencodertransformer0", "autoencodertransformer1", "autoencodertransformer2"]
    with pytest.raises(ValueError, match="NaN"):
        ae.transform(np.where(np.eye(len(X), X.shape[1]) > 0, np.nan, X))
    import scipy.sparse

    with pytest.raises(TypeError, match="[Ss]parse"):
        AutoencoderTransformer().fit(scipy.sparse.csr_matrix(X))


def test_outlier_detector_finds_other_digits(digits):
    x_train = digits.x_train[digits.y_train == 0]
    detector = AutoencoderOutlierDetector(
        latent_dim=4, hidden_widths=(32,), epochs=100, contamination=0.05, random_state=0
    ).fit(x_train)
    scores = detector.score_samples(digits.x_test)
    auc = roc_auc_score(digits.y_test == 0, scores)
    assert auc > 0.95, auc
    predicted = detector.predict(x_train)
    assert set(np.unique(predicted)) <= {-1, 1}
    assert np.mean(predicted == -1) == pytest.approx(0.05, abs=0.03)
    np.testing.assert_allclose(detector.decision_function(x_train), detector.score_samples(x_train) - detector.offset_)
