"""Each variant trained for real (digits, seconds each): its defining property holds, and the CLI serves it."""

import json

import numpy as np
import pytest

import hourglass as hg
from hourglass.corruptions import parse_noise
from hourglass.metrics import code_sparsity, corrupt, encode, mean_jacobian_norm, psnr, reconstruct
from hourglass.workflow import ModelConfig, train

from .test_cli import assert_one_line_error, hourglass

FAST = dict(batch_size=64, progress=False)
BUDGET = ("--widths", "64", "--epochs", "40", "--batch-size", "64")  # the CLI's variants below and their plain AE


def fit(digits, epochs=40, **model):
    return train(digits, ModelConfig(**model), hg.TrainConfig(epochs=epochs, **FAST)).model


VARIANTS = {  # trained once each by the CLI, with the same budget (BUDGET); the tests below share them
    "ae": ["--latent-dim", "16"],
    "dae": ["--model", "dae", "--noise", "mask:0.5", "--latent-dim", "16"],
    "sae": ["--model", "sae", "--latent-dim", "64"],
    "cae": ["--model", "cae", "--contractive", "0.1", "--latent-dim", "16"],
    "vae": ["--model", "vae", "--kl-warmup-epochs", "2", "--latent-dim", "4"],
    "dae+sae": ["--noise", "mask:0.5", "--l1", "0.05", "--latent-dim", "64"],  # any combination
}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """name → the run folder of each of :data:`VARIANTS`, trained by ``hourglass train``."""
    root = tmp_path_factory.mktemp("variants")
    for name, options in VARIANTS.items():
        hourglass("train", "digits", *options, *BUDGET, "--out", root / name, "--quiet")
    return {name: root / name for name in VARIANTS}


@pytest.fixture(scope="module")
def plain(cli_runs):
    return hg.load(cli_runs["ae"]).model


@pytest.fixture(scope="module")
def vae60(digits):
    return fit(digits, epochs=60, model="vae", widths=(64,), latent_dim=4)


def test_denoising_autoencoder_denoises_better_than_the_plain_one(digits, plain, cli_runs):
    dae = hg.load(cli_runs["dae"]).model
    x = digits.x_test
    noisy = corrupt(parse_noise("mask:0.5"), x, seed=1)
    p_noisy, p_ae, p_dae = psnr(x, noisy), psnr(x, reconstruct(plain, noisy)), psnr(x, reconstruct(dae, noisy))
    assert p_dae > p_noisy and p_dae > p_ae + 1.0, (p_noisy, p_ae, p_dae)


def test_sparsity_rises_with_the_l1_weight(digits):
    zero_fractions = []
    for lam in (0.01, 0.1, 0.5):
        model = fit(digits, epochs=20, model="sae", widths=(64,), latent_dim=200, l1=lam)
        zero_fractions.append(code_sparsity(encode(model, digits.x_test))["zero_fraction"])
    assert zero_fractions[0] < zero_fractions[1] < zero_fractions[2], zero_fractions
    assert zero_fractions[2] > 0.8


def test_contractive_autoencoder_has_a_smaller_jacobian(digits, plain):
    cae = fit(digits, model="cae", contractive=0.02, widths=(64,), latent_dim=16)
    x = digits.x_test
    j_ae, j_cae = mean_jacobian_norm(plain, x), mean_jacobian_norm(cae, x)
    e_ae = hg.reconstruction_errors(x, reconstruct(plain, x))["squared_error_per_sample"]
    e_cae = hg.reconstruction_errors(x, reconstruct(cae, x))["squared_error_per_sample"]
    assert j_cae < 0.5 * j_ae and e_cae < 1.5 * e_ae, (j_ae, j_cae, e_ae, e_cae)


def test_vae_learns_and_its_importance_bound_is_tighter_than_its_elbo(digits, vae60):
    from hourglass.metrics import vae_bounds

    untrained = train(
        digits, ModelConfig(model="vae", widths=(64,), latent_dim=4), hg.TrainConfig(epochs=1, **FAST)
    ).model
    model = vae60
    before = vae_bounds(untrained, digits.x_test, importance_samples=1)["elbo"]
    after = vae_bounds(model, digits.x_test, importance_samples=100)
    assert after["elbo"] > before + 5
    assert after["log_likelihood"] > after["elbo"]


def defining_property(variant, result, model, plain, digits):
    """What the variant is for, as the CLI's evaluate reports it (and the plain autoencoder for comparison)."""
    if "dae" in variant:
        assert result["psnr_denoised"] > result["psnr_noisy"] + 1, result
    if "sae" in variant:
        assert result["zero_fraction"] > 0.5 and result["mean_active"] < 0.5 * model.latent_dim, result
    if "cae" in variant:
        assert result["mean_jacobian_norm"] < 0.7 * mean_jacobian_norm(plain, digits.x_test), result
    if "vae" in variant:
        untrained = 64 * np.log(2)  # Bernoulli(0.5) for each of the 64 pixels
        assert result["elbo"] > -0.8 * untrained and result["log_likelihood"] > result["elbo"] - 0.05, result


@pytest.mark.parametrize("variant", [name for name in VARIANTS if name != "ae"])
def test_every_variant_trains_and_evaluates_from_the_cli(digits, cli_runs, plain, variant):
    result = json.loads(hourglass("evaluate", cli_runs[variant], "--json", "--importance-samples", "20").stdout)
    loaded = hg.load(cli_runs[variant])
    assert result["variant"] == variant == loaded.variant
    defining_property(variant, result, loaded.model, plain, digits)


def test_denoise_and_sample_commands(tmp_path, cli_runs):
    dae = cli_runs["dae"]
    done = hourglass("denoise", dae, "digits", "-o", tmp_path / "d.npz", "--corrupt", "--png", tmp_path / "d.png")
    with np.load(tmp_path / "d.npz") as f:
        clean, noisy, denoised = f["clean"], f["corrupted"], f["denoised"]
    assert clean.shape == noisy.shape == denoised.shape == (180, 64)
    assert psnr(clean, denoised) > psnr(clean, noisy)
    assert "PSNR" in done.stdout and (tmp_path / "d.png").stat().st_size > 1000
    hourglass(
        "sample",
        dae,
        "-n",
        "16",
        "--png",
        tmp_path / "s.png",
        "-o",
        tmp_path / "s.npy",
        "--prior",
        "fitted",
    )
    assert np.load(tmp_path / "s.npy").shape == (16, 64)
    assert_one_line_error(
        hourglass("denoise", dae, "digits", "-o", tmp_path / "x.npz", "--corrupt", "blur:1", check=False),
        "unknown noise 'blur'",
    )


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--model", "sae", "--l1", "-1"], "argument --l1: must be at least 0, got -1"),
        (["--model", "dae", "--noise", "mask:1.5"], "probability must be in [0, 1)"),
        (["--model", "dae", "--noise", "pixelate:0.2"], "unknown noise 'pixelate'"),
        (["--model", "cae", "--contractive", "-0.5"], "argument --contractive: must be at least 0, got -0.5"),
        (["--model", "vae", "--l1", "0.1"], "a VAE's code is a Gaussian draw"),
        (["--beta", "2"], "--beta is an option of the VAE (--model vae), not of --model ae"),
        (["--topk", "9", "--latent-dim", "4"], "--topk must be between 1 and --latent-dim (4), got 9"),
    ],
)
def test_bad_variant_options_give_one_line(tmp_path, args, fragment):
    assert_one_line_error(hourglass("train", "digits", *args, "--out", tmp_path / "r", check=False), fragment)


def test_prior_draws_miss_a_plain_autoencoders_codes_but_not_a_vaes(digits, vae60):
    from hourglass.experiments import prior_coverage

    vae = vae60
    ae4 = fit(digits, widths=(64,), latent_dim=4)
    ae_cover = prior_coverage(ae4, digits.x_train, n_draws=2000)
    vae_cover = prior_coverage(vae, digits.x_train, n_draws=2000)
    assert vae_cover["outside_fraction"] < 0.5 * ae_cover["outside_fraction"], (ae_cover, vae_cover)


def test_codes_keep_class_structure_and_reconstructions_are_blurrier(digits, plain):
    from hourglass.experiments import knn_accuracy, laplacian_variance

    z_train, z_test = encode(plain, digits.x_train), encode(plain, digits.x_test)
    accuracy = knn_accuracy(z_train, digits.y_train, z_test, digits.y_test)
    assert accuracy > 0.85  # 10 classes: chance is 0.1
    shuffled = knn_accuracy(z_train, np.random.default_rng(0).permutation(digits.y_train), z_test, digits.y_test)
    assert shuffled < 0.3
    sharp = laplacian_variance(digits.x_test, digits.shape)
    blurred = laplacian_variance(reconstruct(plain, digits.x_test), digits.shape)
    assert 0 < blurred < sharp


def test_denoiser_estimates_the_score_of_the_noisy_density():
    """Tweedie / Vincent (2011): (r(x̃) − x̃)/σ² ≈ ∇ log p_σ(x̃), checked against the closed-form mixture score."""
    from hourglass.experiments import denoising_score_matching, mixture_score

    result = denoising_score_matching(sigma=0.2, n_train=10_000, n_eval=2_000, epochs=20)
    assert result["mean_cosine"] > 0.9, result["mean_cosine"]
    # the closed form itself: at a component's mean, far from the others, the score points nowhere
    means = np.array([[0.0, 0.0], [50.0, 0.0]])
    assert np.allclose(mixture_score(np.array([[0.0, 0.0]]), means, 1.0), 0, atol=1e-9)
    assert np.allclose(mixture_score(np.array([[1.0, 0.0]]), means, 1.0), [[-1.0, 0.0]], atol=1e-9)
