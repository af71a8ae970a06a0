"""Finite scalar quantisation (Mentzer et al. 2023): every number rounds exactly onto its grid of levels, each
position's index names its code and back, gradients reach the encoder through the bound, and the option composes a
VQ-VAE with no codebook to learn and no commitment loss."""

import math

import numpy as np
import pytest
import torch

from hourglass.errors import HourglassError
from hourglass.models import VQVAE
from hourglass.nets import Architecture
from hourglass.quantizers import FiniteScalarQuantizer, parse_levels
from hourglass.variants import ModelConfig

LEVELS = (8, 5, 5, 5)


def test_each_number_rounds_exactly_onto_its_grid_of_levels_and_every_level_is_reached():
    q = FiniteScalarQuantizer(LEVELS)
    z = torch.linspace(-6, 6, 4001).unsqueeze(1).repeat(1, 4 * 3)  # 3 positions of 4 numbers, far past the bounds
    out = q.quantize(z).reshape(-1, 4)
    for i, levels in enumerate(LEVELS):
        half = levels // 2
        grid = torch.arange(-half, levels - half) / half  # 8 → -4..3 over 4; 5 → -2..2 over 2
        assert sorted(set(out[:, i].tolist())) == grid.tolist()
    assert torch.equal(out, q.quantize(q.codes(q.indices(z))).reshape(-1, 4))  # a grid's codes decode as its own


def test_indices_name_every_code_once_and_codes_invert_them():
    q = FiniteScalarQuantizer(LEVELS)
    every = torch.arange(math.prod(LEVELS)).reshape(-1, 1)  # (1000, 1): one position each
    codes = q.codes(every)
    assert len({tuple(c) for c in q.quantize(codes).tolist()}) == 1000
    assert torch.equal(q.indices(codes), every)


def test_gradients_reach_the_encoder_through_the_bound_and_the_rounding_passes_them_straight():
    q = FiniteScalarQuantizer(LEVELS)
    z = torch.randn(64, 4, dtype=torch.float32, requires_grad=True)
    q.quantize(z).sum().backward()
    half = (q.level_counts - 1) * (1 + 1e-3) / 2
    shift = torch.atanh(torch.where(q.level_counts % 2 == 0, 0.5, 0.0) / half)
    expected = half * (1 - torch.tanh(z.detach() + shift) ** 2) / torch.floor(q.level_counts / 2)
    torch.testing.assert_close(z.grad, expected)

    arch = Architecture("conv", (1, 8, 8), (8,), 4 * 16, codebook=1000, levels=LEVELS)
    model = VQVAE.from_architecture(arch, "sigmoid")
    assert isinstance(model.quantizer, FiniteScalarQuantizer)
    out = model(torch.rand(5, 64))
    ((out.decoded - torch.rand(5, 64)) ** 2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_the_option_composes_a_quantised_model_with_no_codebook_and_no_commitment_loss():
    config = ModelConfig(quantizer="fsq:8,5,5,5")
    model, objective = config.resolve((1, 28, 28), (0.0, 1.0))
    assert isinstance(model, VQVAE) and model.quantizer.levels == LEVELS
    assert model.architecture.codebook == 1000 and model.architecture.code_vector == 4
    assert not objective.penalties  # no commitment, no codebook loss
    again = Architecture.from_dict(model.architecture.to_dict())
    assert again.levels == LEVELS and again == model.architecture
    assert "levels" not in Architecture("conv", (1, 8, 8), (8,), 64, codebook=16).to_dict()
    vq, vq_objective = ModelConfig(model="vqvae").resolve((1, 28, 28), (0.0, 1.0))
    assert not hasattr(vq.quantizer, "levels") and [p.kind for p in vq_objective.penalties] == ["commitment"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"quantizer": "fsq:8,1"}, "levels, each at least 2"),
        ({"quantizer": "fsq:"}, "fsq:L1,L2"),
        ({"quantizer": "lfq:4"}, "quantizer must be vq or fsq"),
        ({"quantizer": "fsq:8,5", "codebook": 40}, "drop codebook"),
        ({"quantizer": "fsq:8,5", "commitment": 1.0}, "drop commitment"),
    ],
)
def test_a_bad_quantizer_is_one_error_naming_it(options, fragment):
    with pytest.raises(HourglassError, match=fragment.replace("(", r"\(")):
        ModelConfig(**options)
    assert parse_levels("fsq:8,5,5,5") == LEVELS


def test_usage_counts_fsq_codes_as_it_counts_codebook_entries():
    from hourglass.metrics import codebook_usage

    model, _ = ModelConfig(quantizer="fsq:5,5", widths=(8,), latent_dim=2 * 16).resolve((1, 8, 8), (0.0, 1.0))
    usage = codebook_usage(model, np.random.default_rng(0).random((200, 64), dtype=np.float32))
    assert usage["codebook_entries"] == 25 and 1 <= usage["codebook_used"] <= 25
    assert 1 <= usage["codebook_perplexity"] <= usage["codebook_used"]


@pytest.mark.parametrize("quantizer", [None, "fsq:8,5,5,5"])
def test_a_reconstruction_decodes_the_quantised_code_as_training_does(quantizer):
    options = {"model": "vqvae"} if quantizer is None else {"quantizer": quantizer}
    model, _ = ModelConfig(widths=(8,), **options).resolve((1, 8, 8), (0.0, 1.0))
    model.eval()
    x = torch.rand(6, 64)
    with torch.no_grad():
        z = model.encode(x)
        assert not torch.equal(model.quantizer.quantize(z), z)  # quantising changes the code: the test can fail
        torch.testing.assert_close(model.reconstruct(x), model.decode(z))
        torch.testing.assert_close(model.reconstruct(x), torch.sigmoid(model(x).decoded))
