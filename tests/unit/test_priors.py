"""Priors on the codes and the VQ-VAE's quantiser: each formula against what it must do."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from hourglass.models import VQVAE
from hourglass.nets import Architecture
from hourglass.priors import DiffusionPrior, MixturePrior
from hourglass.priors import diffusion as dd
from hourglass.quantizers import VectorQuantizer
from hourglass.training.loop import TrainConfig


def test_a_mixture_fitted_to_codes_from_a_known_mixture_recovers_its_means():
    rng = np.random.default_rng(0)
    means = np.array([[-4.0, 0.0, 1.0], [4.0, 1.0, -1.0], [0.0, -5.0, 3.0]])
    codes = means[rng.integers(0, 3, 3000)] + 0.5 * rng.standard_normal((3000, 3))
    prior = MixturePrior.fit(codes, seed=0, components=3)
    found = prior.means.numpy()
    for m in means:
        assert np.linalg.norm(found - m, axis=1).min() < 0.05
    drawn = prior.sample(20_000, torch.Generator().manual_seed(0)).numpy()
    assert np.abs(drawn.mean(0) - codes.mean(0)).max() < 0.15
    chosen = MixturePrior.fit(codes, seed=0)  # BIC over the grid (1, 2, 5, ...): more than two components
    assert len(chosen.weights) == 5 and chosen.bic[5] < min(chosen.bic[1], chosen.bic[2])


def test_the_forward_process_matches_its_closed_form():
    """z_t drawn step by step, z_t = √(1 − β_t) z_{t−1} + √β_t ε, has the closed form's mean √ᾱ_t z₀ and variance
    1 − ᾱ_t (Ho et al. 2020, eq. 4) — what the denoiser is trained on."""
    alpha_bar = dd.cosine_schedule(100)
    assert alpha_bar[0] == 1 and (alpha_bar.diff() < 0).all() and alpha_bar[-1] < 1e-3
    g = torch.Generator().manual_seed(0)
    z0 = torch.full((200_000, 1), 1.5, dtype=torch.float64)
    z = z0.clone()
    for t in range(1, 101):
        beta = 1 - alpha_bar[t] / alpha_bar[t - 1]
        z = (1 - beta).sqrt() * z + beta.sqrt() * torch.randn(z.shape, generator=g, dtype=torch.float64)
        if t in (10, 50, 90):
            closed = dd.diffuse(z0, torch.full((len(z0),), t), torch.randn(z.shape, generator=g, dtype=z.dtype),
                                alpha_bar)  # fmt: skip
            for sample in (z, closed):
                assert abs(float(sample.mean()) - 1.5 * math.sqrt(alpha_bar[t])) < 0.01
                assert abs(float(sample.var()) - (1 - alpha_bar[t])) < 0.01


class GaussianOracle(nn.Module):
    """The exact ε-predictor for data z₀ ~ N(m, s²): E[ε | z_t] = √(1 − ᾱ)(z_t − √ᾱ m) / (ᾱ s² + 1 − ᾱ)."""

    def __init__(self, alpha_bar, m: float, s: float):
        super().__init__()
        self.alpha_bar, self.m, self.s = alpha_bar.float(), m, s
        self.latent_dim = 1
        self.anchor = nn.Parameter(torch.zeros(()))  # a device to run on

    def forward(self, zt_and_t):
        z, t = zt_and_t[:, :1], (zt_and_t[:, 1] * (len(self.alpha_bar) - 1)).round().long()
        a = self.alpha_bar[t].unsqueeze(1)
        return (1 - a).sqrt() * (z - a.sqrt() * self.m) / (a * self.s**2 + 1 - a)


def test_ddim_over_the_whole_chain_with_eta_1_is_the_ancestral_sampler():
    alpha_bar = dd.cosine_schedule(200)
    oracle = GaussianOracle(alpha_bar, m=2.0, s=0.5)
    ancestral = dd.sample_ancestral(oracle, alpha_bar, 40_000, torch.Generator().manual_seed(1)).squeeze()
    ddim = dd.sample_ddim(oracle, alpha_bar, 40_000, torch.Generator().manual_seed(2), steps=200, eta=1.0).squeeze()
    deterministic = dd.sample_ddim(oracle, alpha_bar, 40_000, torch.Generator().manual_seed(3), steps=50).squeeze()
    for z in (ancestral, ddim, deterministic):
        assert abs(float(z.mean()) - 2.0) < 0.02 and abs(float(z.std()) - 0.5) < 0.02
    assert abs(float(ancestral.mean() - ddim.mean())) < 0.02 and abs(float(ancestral.std() - ddim.std())) < 0.02


def mmd2(a: torch.Tensor, b: torch.Tensor, bandwidth: float = 1.0) -> float:
    """The (biased) squared maximum mean discrepancy with a Gaussian kernel: 0 for the same distribution."""
    k = lambda x, y: torch.exp(-(torch.cdist(x, y) ** 2) / (2 * bandwidth**2)).mean()  # noqa: E731
    return float(k(a, a) + k(b, b) - 2 * k(a, b))


def test_latent_diffusion_learns_a_2d_density():
    rng = np.random.default_rng(0)
    centres = 3 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.float32)

    def target(n):
        return centres[rng.integers(0, 4, n)] + 0.3 * rng.standard_normal((n, 2)).astype(np.float32)

    config = TrainConfig(epochs=40, batch_size=256, lr=3e-3, seed=0, progress=False)
    prior = DiffusionPrior.fit(target(4_000), seed=0, config=config, val_codes=target(500), width=64, blocks=2)
    drawn = prior.sample(2_000, torch.Generator().manual_seed(0))
    reference, other = torch.as_tensor(target(2_000)), torch.as_tensor(target(2_000))
    baseline = mmd2(reference, other)
    assert mmd2(drawn, reference) < baseline + 0.01, (mmd2(drawn, reference), baseline)
    gaussian = torch.as_tensor(reference.mean(0) + reference.std(0) * torch.randn(2_000, 2))
    assert mmd2(gaussian, reference) > 5 * mmd2(drawn, reference)  # the test can tell a wrong density
    nearest = torch.cdist(drawn, torch.as_tensor(centres)).argmin(1)
    assert (torch.bincount(nearest, minlength=4) > 350).all()  # every mode drawn


def vqvae(**options) -> VQVAE:
    return VQVAE.from_architecture(Architecture("conv", (1, 8, 8), (8,), 64, codebook=16), "sigmoid", **options)


def test_straight_through_gradients_reach_the_encoder():
    model = vqvae()
    x = torch.rand(32, 64)
    out = model(x, generator=torch.Generator().manual_seed(0))
    nn.functional.binary_cross_entropy_with_logits(out.decoded, x).backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_moving_averages_move_the_entries_toward_their_codes():
    q = VectorQuantizer(4, 2, decay=0.9, dead_below=0)
    q.started.fill_(1.0)
    q.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0], [10.0, -10.0]]))
    q.sums.copy_(q.codebook)
    codes = torch.tensor([[1.0, 1.0], [1.5, 0.5], [0.5, 1.5]]).repeat(10, 1)  # all nearest entry 0
    before = torch.linalg.norm(q.codebook[0] - codes.mean(0))
    q.train()
    for _ in range(20):
        q(codes.flatten()[None])
    after = torch.linalg.norm(q.codebook[0] - codes.mean(0))
    unused_stays = torch.allclose(q.codebook[1], torch.tensor([10.0, 10.0]), atol=0.01)
    assert after < 0.2 * before and unused_stays


def test_a_dead_entry_is_restarted_into_use():
    q = VectorQuantizer(4, 2, decay=0.9, dead_below=0.1)
    q.started.fill_(1.0)
    q.codebook.copy_(torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0], [100.0, 100.0]]))  # entry 3: nobody's
    q.sums.copy_(q.codebook)
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(300, 2, generator=g) * 2
    q.train()
    assert 3 not in q.indices(codes.flatten()[None])
    for _ in range(40):
        q(codes.flatten()[None], g)
    assert 3 in q.indices(codes.flatten()[None])
    frozen = VectorQuantizer(4, 2, decay=0.9, dead_below=0)  # without restarts it stays dead
    frozen.started.fill_(1.0)
    frozen.codebook.copy_(torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0], [100.0, 100.0]]))
    frozen.sums.copy_(frozen.codebook)
    for _ in range(40):
        frozen(codes.flatten()[None], g)
    assert 3 not in frozen.indices(codes.flatten()[None])


def test_a_continuous_code_is_recorded_as_before_codebooks_existed():
    """Runs and lab recipes written before the VQ-VAE compare equal to today's: they resume, and are reused."""
    from hourglass.experiments.lab import _model_record
    from hourglass.variants import ModelConfig

    assert "codebook" not in Architecture("mlp", (8,), (4,), 2).to_dict()
    assert Architecture.from_dict(Architecture("conv", (1, 8, 8), (8,), 64, codebook=16).to_dict()).codebook == 16
    assert not {"codebook", "commitment", "codebook_ema", "codebook_restart"} & set(_model_record(ModelConfig()))
    assert _model_record(ModelConfig(model="vqvae"))["commitment"] == 0.25


def first_batch_error(q: VectorQuantizer, codes: torch.Tensor) -> float:
    """Mean squared distance of ``codes`` (M, d) to their entries after the first training step has set them."""
    q.train()
    q(codes.flatten()[None], torch.Generator().manual_seed(0))
    return float(((q.quantize(codes.flatten()[None]).reshape(codes.shape) - codes) ** 2).sum(1).mean())


def test_kmeans_starts_the_entries_nearer_the_first_batch_than_drawn_vectors_and_on_every_cluster():
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(16, 2, generator=g) * 20
    codes = centres.repeat_interleave(40, 0) + torch.randn(640, 2, generator=g) * 0.1
    codes = codes[torch.randperm(640, generator=g)]
    kmeans, drawn = VectorQuantizer(16, 2, init="kmeans"), VectorQuantizer(16, 2, init="batch")
    assert first_batch_error(kmeans, codes) < 0.5 * first_batch_error(drawn, codes)
    nearest = torch.cdist(kmeans.codebook, centres).argmin(1)
    assert len(nearest.unique()) == 16  # every cluster has its entry


def test_a_cosine_lookup_quantises_to_unit_vectors_and_ignores_a_code_vectors_length():
    g = torch.Generator().manual_seed(0)
    q = VectorQuantizer(8, 3, lookup="cosine")
    z = torch.randn(5, 4 * 3, generator=g)
    q.train()
    z_q = q(z, g)
    assert torch.allclose(z_q.reshape(-1, 3).norm(dim=1), torch.ones(20), atol=1e-5)
    lengths = torch.rand(20, 1, generator=g) * 10 + 0.1
    longer = (z.reshape(-1, 3) * lengths).reshape(z.shape)
    assert torch.equal(q.indices(longer), q.indices(z))
    q.codebook.mul_(torch.rand(8, 1, generator=g) * 3 + 0.5)  # entries of other lengths: looked up as unit vectors
    assert torch.equal(q.indices(longer), q.indices(z))
    euclidean = VectorQuantizer(8, 3, lookup="euclidean")
    euclidean.codebook.copy_(q.codebook)
    assert not torch.equal(euclidean.indices(longer), euclidean.indices(z))  # the test can tell the two lookups


@pytest.mark.parametrize("init, lookup", [("kmeans", "cosine"), ("batch", "euclidean")])
def test_the_codebook_rules_are_kept_in_the_model_options_a_checkpoint_rebuilds_from(init, lookup):
    from hourglass.models import build_model
    from hourglass.variants import ModelConfig

    config = ModelConfig(model="vqvae", widths=(8,), codebook_init=init, codebook_lookup=lookup)
    model, _ = config.resolve((1, 8, 8), (0.0, 1.0))
    again = build_model(model.kind, model.architecture, model.options())
    assert (again.quantizer.init, again.quantizer.lookup) == (init, lookup)
