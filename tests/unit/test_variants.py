import math

import numpy as np
import pytest
import torch

import hourglass as hg
from hourglass import corruptions as C
from hourglass import losses as L
from hourglass import penalties as P
from hourglass.metrics import code_sparsity, vae_bounds
from hourglass.models import VAE
from hourglass.workflow import ModelConfig, train


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ corruptions


def test_gaussian_noise_has_the_asked_sigma_and_clips():
    x = torch.zeros(200, 500)
    noisy = C.GaussianNoise(0.5)(x, gen())
    assert abs(noisy.mean().item()) < 0.01 and noisy.std().item() == pytest.approx(0.5, rel=0.01)
    clipped = C.GaussianNoise(0.5, clip=True)(torch.full((100, 100), 0.5), gen())
    assert clipped.min() >= 0 and clipped.max() <= 1 and clipped.std() > 0.3


def test_masking_and_salt_and_pepper_hit_the_asked_fraction():
    x = torch.full((400, 500), 0.5)
    masked = C.MaskingNoise(0.3)(x, gen())
    assert (masked == 0).float().mean().item() == pytest.approx(0.3, abs=0.005)
    assert set(masked.unique().tolist()) == {0.0, 0.5}
    snp = C.SaltAndPepper(0.2)(x, gen())
    assert (snp == 0).float().mean().item() == pytest.approx(0.1, abs=0.005)
    assert (snp == 1).float().mean().item() == pytest.approx(0.1, abs=0.005)


def test_corruptions_are_seeded_and_compose():
    x = torch.rand(10, 20, generator=gen(9))
    c = C.parse_noise("gaussian:0.2,mask:0.5")
    assert isinstance(c, C.Compose) and len(c.parts) == 2
    assert torch.equal(c(x, gen(1)), c(x, gen(1))) and not torch.equal(c(x, gen(1)), c(x, gen(2)))
    assert C.corruption_from_dict(c.to_dict()).to_dict() == c.to_dict()


@pytest.mark.parametrize(
    "spec, message",
    [
        ("blur:0.3", "unknown noise 'blur'"),
        ("mask:1.0", r"probability must be in \[0, 1\), got 1"),
        ("mask:-0.1", "probability must be in"),
        ("salt-and-pepper:2", "probability must be in"),
        ("gaussian:-1", "sigma must be >= 0"),
        ("gaussian", "needs a number after the colon"),
        ("", "empty noise"),
    ],
)
def test_bad_noise_specs_are_refused_clearly(spec, message):
    with pytest.raises(hg.HourglassError, match=message):
        C.parse_noise(spec)


def test_denoising_objective_feeds_the_corrupted_input_and_compares_with_the_clean_one(tiny_model):
    x = torch.rand(6, 64, generator=gen(3))
    noise = C.MaskingNoise(0.5)
    objective = hg.Objective("bce", corruption=noise)
    target, x_in = objective.inputs(x, gen(4))
    loss, _ = objective(tiny_model(x_in), target, x_in)
    x_tilde = noise(x, gen(4))
    assert torch.equal(target, x) and torch.equal(x_in, x_tilde)
    expected = L.bernoulli_cross_entropy_per_sample(tiny_model(x_tilde).decoded, x).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


# ------------------------------------------------------------------ sparse codes


def test_l1_and_kl_sparsity_match_hand_computation(tiny_model):
    z = torch.tensor([[0.5, -1.0, 0.0], [2.0, 0.0, -0.25]])
    assert P.l1_per_sample(z).tolist() == [1.5, 2.25]
    codes = torch.tensor([[0.1, 0.6], [0.3, 0.2]])
    rho = 0.05
    expected = sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in (0.2, 0.4))
    assert P.kl_sparsity(codes, rho).item() == pytest.approx(expected, rel=1e-6)
    x = torch.rand(5, 64, generator=gen(0))
    loss, terms = hg.Objective("bce", penalties=[P.L1Penalty(0.3)])(tiny_model(x), x)
    z = tiny_model.encode(x)
    assert terms["l1"].item() == pytest.approx(z.abs().sum(1).mean().item(), rel=1e-6)
    assert loss.item() == pytest.approx(terms["reconstruction"].item() + 0.3 * terms["l1"].item(), rel=1e-6)


def test_topk_and_relu_codes():
    arch = hg.Architecture("mlp", (64,), (32,), latent_dim=50, code_activation="relu", topk=5)
    model = hg.Autoencoder.from_architecture(arch, "sigmoid")
    z = model.encode(torch.rand(20, 64, generator=gen(0))).detach().numpy()
    assert ((z != 0).sum(axis=1) <= 5).all() and (z >= 0).all()
    sp = code_sparsity(z)
    assert sp["zero_fraction"] >= 0.9 and sp["mean_active"] <= 5
    with pytest.raises(hg.HourglassError, match="topk must be between 1 and latent_dim"):
        hg.Architecture("mlp", (64,), latent_dim=4, topk=5)


# ------------------------------------------------------------------ contractive


def float64_encoder(seed=0, sigmoid_one_layer=False):
    arch = hg.Architecture(
        "mlp",
        (12,),
        () if sigmoid_one_layer else (9,),
        latent_dim=5,
        code_activation="sigmoid" if sigmoid_one_layer else "linear",
        activation="tanh",
    )
    return hg.Autoencoder.from_architecture(arch, seed=seed).double().encoder


def finite_difference_jacobian_sq(encoder, x, h=1e-6):
    out = []
    for xi in x:
        cols = []
        for i in range(len(xi)):
            e = torch.zeros_like(xi)
            e[i] = h
            cols.append((encoder((xi + e)[None]) - encoder((xi - e)[None]))[0] / (2 * h))
        out.append(torch.stack(cols, 1).pow(2).sum())
    return torch.stack(out)


@pytest.mark.parametrize("one_layer", [False, True])
def test_exact_contractive_penalty_matches_finite_differences(one_layer):
    encoder = float64_encoder(sigmoid_one_layer=one_layer)
    x = torch.rand(6, 12, generator=gen(1), dtype=torch.float64)
    with torch.no_grad():
        reference = finite_difference_jacobian_sq(encoder, x)
    exact = P.jacobian_frobenius_sq_exact(encoder, x)
    torch.testing.assert_close(exact, reference, rtol=1e-4, atol=0)
    if one_layer:
        closed = P.jacobian_frobenius_sq_sigmoid(encoder[0], x)
        torch.testing.assert_close(closed, reference, rtol=1e-4, atol=0)


def test_hutchinson_estimate_is_unbiased():
    encoder = float64_encoder(seed=2)
    x = torch.rand(4, 12, generator=gen(3), dtype=torch.float64)
    exact = P.jacobian_frobenius_sq_exact(encoder, x)
    estimate = P.jacobian_frobenius_sq_hutchinson(encoder, x, probes=20000, generator=gen(4)).detach()
    assert ((estimate - exact.detach()).abs() / exact.detach()).max() < 0.02


def test_contractive_penalty_is_differentiable_in_the_weights():
    encoder = float64_encoder(seed=5)
    x = torch.rand(3, 12, generator=gen(6), dtype=torch.float64)
    for estimate in (
        lambda: P.jacobian_frobenius_sq_exact(encoder, x),
        lambda: P.jacobian_frobenius_sq_hutchinson(encoder, x, 2, gen(0)),
    ):
        encoder.zero_grad()
        estimate().sum().backward()
        # every weight shapes the Jacobian (the last bias does not, and gets no gradient)
        grads = [p.grad for name, p in encoder.named_parameters() if name.endswith("weight")]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0
    # the gradient of the exact penalty matches a finite difference in one weight
    w = encoder[0].weight
    encoder.zero_grad()
    P.jacobian_frobenius_sq_exact(encoder, x).sum().backward()
    analytic = w.grad[2, 3].item()
    with torch.no_grad():
        w[2, 3] += 1e-6
        up = P.jacobian_frobenius_sq_exact(encoder, x).sum().item()
        w[2, 3] -= 2e-6
        down = P.jacobian_frobenius_sq_exact(encoder, x).sum().item()
        w[2, 3] += 1e-6
    assert analytic == pytest.approx((up - down) / 2e-6, rel=1e-5)


# ------------------------------------------------------------------ VAE


def tiny_vae(latent=1, seed=0, likelihood="bernoulli"):
    arch = hg.Architecture("mlp", (6,), (8,), latent_dim=latent, activation="tanh")
    return VAE.from_architecture(arch, likelihood, seed=seed).double()


def test_kl_matches_torch_distributions():
    mu = torch.randn(4, 3, generator=gen(0), dtype=torch.float64)
    log_var = torch.randn(4, 3, generator=gen(1), dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    torch.testing.assert_close(L.kl_standard_normal_per_sample(mu, log_var), expected)


def test_gaussian_nll_matches_torch_distributions():
    m, lv, x = (torch.randn(3, 5, generator=gen(i), dtype=torch.float64) for i in range(3))
    expected = -torch.distributions.Normal(m, torch.exp(0.5 * lv)).log_prob(x).sum(1)
    torch.testing.assert_close(L.gaussian_nll_per_sample(m, lv, x), expected)


def test_elbo_matches_brute_force_monte_carlo():
    model = tiny_vae(latent=2)
    model.eval()
    x = torch.bernoulli(torch.full((3, 6), 0.4, dtype=torch.float64), generator=gen(0))
    objective = hg.Objective("bce")
    with torch.no_grad():
        # ours: one reparameterised sample + analytic KL per row, averaged over 20,000 copies of each x
        ours = -objective(model(x.repeat(20_000, 1), generator=gen(0)), x.repeat(20_000, 1))[0]
        # brute force: E_q[log p(x|z) + log p(z) - log q(z|x)] with no analytic parts
        mu, log_var = model.encode_distribution(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn((200_000,) + mu.shape, generator=gen(1), dtype=mu.dtype)
        logits = model.decoder(z.reshape(-1, 2)).reshape(200_000, 3, 6)
        log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
        brute = (log_px_z + log_pz - log_qz).mean()
    assert ours.item() == pytest.approx(brute.item(), rel=2e-3)


def test_importance_weighted_bound_approaches_log_likelihood_by_quadrature():
    model = tiny_vae(latent=1, seed=3)
    x = torch.bernoulli(torch.full((4, 6), 0.5, dtype=torch.float64), generator=gen(2))
    with torch.no_grad():
        grid = torch.linspace(-8, 8, 20001, dtype=torch.float64)[:, None]
        logits = model.decoder(grid)  # (G, 6)
        log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits[:, None, :].expand(-1, 4, -1), x.expand(len(grid), -1, -1), reduction="none"
        ).sum(-1)
        log_joint = log_px_z + torch.distributions.Normal(0.0, 1.0).log_prob(grid)
        log_px = torch.logsumexp(log_joint, 0) + math.log(grid[1, 0] - grid[0, 0])  # ∫ p(x|z) p(z) dz
    model.float()
    bounds = vae_bounds(model, x.float().numpy(), importance_samples=5000, seed=0, chunk=1000)
    elbo = vae_bounds(model, x.float().numpy(), importance_samples=1, seed=0)["elbo"]
    assert bounds["log_likelihood"] == pytest.approx(log_px.mean().item(), abs=0.02)
    assert elbo <= bounds["log_likelihood"] + 1e-6


def test_iwae_objective_is_the_importance_weighted_bound_of_one_model_call():
    model, k = tiny_vae(latent=2), 7
    x = torch.bernoulli(torch.full((5, 6), 0.4, dtype=torch.float64), generator=gen(0))
    objective = hg.Objective("bce", iw_samples=k)
    out = model(x, generator=gen(1), **objective.model_options)  # K draws per sample, decoded in one batch
    assert out.z.shape == (k, 5, 2) and out.decoded.shape == (k, 5, 6) and out.mu.shape == (5, 2)
    loss, terms = objective(out, x)
    # by hand with torch.distributions: log w = log p(x|z) + log p(z) − log q(z|x), then log (1/K) Σ_k w_k
    log_px_z = torch.distributions.Bernoulli(logits=out.decoded).log_prob(x).sum(-1)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(out.z).sum(-1)
    log_qz = torch.distributions.Normal(out.mu, torch.exp(0.5 * out.log_var)).log_prob(out.z).sum(-1)
    bound = torch.logsumexp(log_px_z + log_pz - log_qz, 0) - math.log(k)
    torch.testing.assert_close(loss, -bound.mean())
    torch.testing.assert_close(terms["iw_bound"], bound.mean().detach())
    torch.testing.assert_close(terms["reconstruction"], -log_px_z.mean().detach())
    assert terms["iw_bound"] >= (log_px_z + log_pz - log_qz).mean()  # Jensen: the bound is above the mean log w
    loss.backward()  # gradients reach both halves through the reparameterised draws
    for net in (model.encoder, model.decoder):
        grads = [p.grad for p in net.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_iwae_bound_rises_with_k_toward_log_likelihood():
    model = tiny_vae(latent=1, seed=3)
    x = torch.bernoulli(torch.full((4, 6), 0.5, dtype=torch.float64), generator=gen(2))
    with torch.no_grad():
        grid = torch.linspace(-8, 8, 20001, dtype=torch.float64)[:, None]
        log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
            model.decoder(grid)[:, None, :].expand(-1, 4, -1), x.expand(len(grid), -1, -1), reduction="none"
        ).sum(-1)
        log_px = (
            (
                torch.logsumexp(log_px_z + torch.distributions.Normal(0.0, 1.0).log_prob(grid), 0)
                + math.log(grid[1, 0] - grid[0, 0])
            )
            .mean()
            .item()
        )
        many = x.repeat(2000, 1)  # the expected bound, averaged over 2,000 independent estimates per sample
        expected = [
            -hg.Objective("bce", iw_samples=k)(model(many, gen(k), samples=k), many)[0].item() for k in (2, 5, 50)
        ]
    assert expected[0] < expected[1] < expected[2] < log_px  # Burda et al. 2016, theorem 1
    assert log_px - expected[2] < 0.5 * (log_px - expected[0])


def test_log_mean_exp_is_stable():
    a = torch.tensor([[1000.0, 1000.0], [-1000.0, -1000.0 + math.log(3)]], dtype=torch.float64)
    out = L.log_mean_exp(a, dim=1)
    assert out[0].item() == pytest.approx(1000.0) and out[1].item() == pytest.approx(-1000.0 + math.log(2))


def test_vae_shapes_sampling_and_warmup():
    arch = hg.Architecture("mlp", (64,), (32,), latent_dim=3)
    vae = VAE.from_architecture(arch, "bernoulli", seed=0)
    x = torch.rand(5, 64, generator=gen(0))
    mu, log_var = vae.encode_distribution(x)
    assert mu.shape == log_var.shape == (5, 3) and torch.equal(vae.encode(x), mu)
    samples = vae.sample(7, gen(1))
    assert samples.shape == (7, 64) and samples.min() >= 0 and samples.max() <= 1
    assert torch.equal(samples, vae.sample(7, gen(1)))
    objective = hg.Objective("bce", beta=2.0, kl_warmup_epochs=3)
    objective.start_epoch(0)
    assert objective.kl_weight(training=True) == pytest.approx(0.5)
    assert objective.kl_weight(training=False) == 2.0  # validation always uses the full β
    objective.start_epoch(5)
    assert objective.kl_weight(training=True) == 2.0
    with pytest.raises(hg.HourglassError, match="loss mse needs a model with a linear output"):
        hg.Objective("mse").check(vae)
    with pytest.raises(hg.HourglassError, match="a VAE's code is a Gaussian draw"):
        hg.Objective("bce", penalties=[P.L1Penalty(0.1)]).check(vae)
    out = vae(x, generator=gen(2))  # one call: μ, log σ², the draw z and its decoding
    assert torch.equal(out.mu, mu) and torch.equal(out.log_var, log_var) and out.z.shape == (5, 3)
    assert not torch.equal(out.z, mu)


def test_plain_autoencoder_samples_from_standard_or_fitted_gaussian(tiny_model):
    from hourglass.metrics import fit_code_gaussian

    x = np.random.default_rng(0).random((300, 64)).astype(np.float32)
    mean, tril = fit_code_gaussian(tiny_model, x)
    z = hg.encode(tiny_model, x)
    np.testing.assert_allclose(mean, z.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tril @ tril.T, np.cov(z, rowvar=False), rtol=1e-3, atol=1e-5)
    a = tiny_model.sample(4, gen(0), torch.as_tensor(mean), torch.as_tensor(tril))
    assert a.shape == (4, 64) and not torch.equal(a, tiny_model.sample(4, gen(0)))


# ------------------------------------------------------------------ configuration and checkpoints


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"model": "sae", "l1": -0.1}, "l1 must be at least 0"),
        ({"model": "cae", "contractive": -1}, "contractive must be at least 0"),
        ({"model": "dae", "noise": "mask:1.5"}, "probability must be in"),
        ({"model": "dae", "noise": "speckle:0.1"}, "unknown noise 'speckle'"),
        ({"model": "vae", "beta": -1}, "beta must be at least 0"),
        ({"model": "dae", "beta": 2.0}, r"beta is an option of the VAE \(model vae\), not of model dae"),
        ({"model": "vae", "contractive": 0.1}, "the contractive penalty is for a deterministic code"),
        ({"model": "gan"}, "model must be one of ae, dae, sae, cae, vae, vqvae, got 'gan'"),
        ({"model": "ae", "iw_samples": 5}, r"iw_samples is an option of the VAE"),
        ({"model": "vae", "iw_samples": 0}, "iw_samples must be at least 1"),
        ({"model": "vae", "iw_samples": 5, "beta": 0.5}, "importance-weighted bound .* takes beta 1"),
        ({"model": "sae", "latent_dim": 4, "topk": 9}, "topk must be between 1 and latent_dim"),
    ],
)
def test_bad_variant_options_are_refused_before_any_data_is_read(tmp_path, kwargs, message):
    with pytest.raises(hg.HourglassError, match=message):
        ModelConfig(**kwargs).resolve((64,), (0.0, 1.0))
    # The data named here does not exist: the option's error, not the missing file's, shows it is checked first.
    with pytest.raises(hg.HourglassError, match=message):
        train(tmp_path / "absent.csv", ModelConfig(**kwargs))


@pytest.mark.parametrize(
    "variant, extra",
    [
        ("dae", {"noise": "salt-and-pepper:0.2"}),
        ("sae", {"latent_dim": 100, "topk": 10}),
        ("cae", {}),
        ("cae", {"contractive_estimator": "hutchinson", "probes": 2}),
        ("vae", {}),
        ("vae", {"iw_samples": 3}),
        ("sae", {"latent_dim": 30, "kl_sparsity": 0.1}),
    ],
)
def test_every_variant_round_trips_bitwise(tmp_path, digits, variant, extra):
    trained = train(
        digits,
        ModelConfig(model=variant, widths=(32,), **{"latent_dim": 4, **extra}),
        hg.TrainConfig(epochs=2, progress=False),
        out=tmp_path / variant,
    )
    loaded = hg.load(tmp_path / variant)
    assert loaded.variant == variant and type(loaded.model) is type(trained.model)
    assert hg.Objective.from_dict(loaded.objective).to_dict() == trained.objective.to_dict()
    x = torch.as_tensor(digits.x_test)
    with torch.no_grad():
        assert torch.equal(loaded.model.reconstruct(x), trained.model.reconstruct(x))
        assert torch.equal(loaded.model.sample(5, gen(0)), trained.model.sample(5, gen(0)))
