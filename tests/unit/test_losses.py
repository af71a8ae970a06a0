import math

import pytest
import torch

import hourglass as hg
from hourglass.losses import bernoulli_cross_entropy_per_sample, squared_error_per_sample


def test_squared_error_per_sample_sums_features_per_row():
    x = torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    x_hat = torch.tensor([[1.0, 1.0, 0.0], [1.0, 3.0, 1.0]])
    assert squared_error_per_sample(x_hat, x).tolist() == [1.0 + 0.0 + 4.0, 0.0 + 4.0 + 0.0]


def test_bernoulli_cross_entropy_matches_hand_computation():
    logits = torch.tensor([[0.0, 2.0, -1.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.25, 0.0]], dtype=torch.float64)
    s = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    expected = -(math.log(s(0.0)) + 0.25 * math.log(s(2.0)) + 0.75 * math.log(1 - s(2.0)) + math.log(1 - s(-1.0)))
    assert bernoulli_cross_entropy_per_sample(logits, x).item() == pytest.approx(expected, rel=1e-12)


def test_bernoulli_cross_entropy_is_stable_for_extreme_logits():
    logits = torch.tensor([[200.0, -200.0, 200.0]])
    x = torch.tensor([[1.0, 0.0, 0.0]])
    value = bernoulli_cross_entropy_per_sample(logits, x)
    assert torch.isfinite(value).all()
    assert value.item() == pytest.approx(200.0, rel=1e-6)  # only the wrong confident pixel costs: log(1+e^200)


def test_objective_averages_per_sample_loss_over_batch(tiny_model):
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(1))
    loss, terms = hg.Objective("bce")(tiny_model(x), x)
    per_sample = bernoulli_cross_entropy_per_sample(tiny_model(x).decoded, x)
    assert loss.item() == pytest.approx(per_sample.mean().item())
    assert set(terms) == {"reconstruction"} and not terms["reconstruction"].requires_grad


def test_mse_objective_compares_the_reconstruction_in_data_space(tiny_model):
    model = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (64,), (32,), 3), "linear", seed=0)
    x = torch.rand(4, 64, generator=torch.Generator().manual_seed(2))
    loss, _ = hg.Objective("mse")(model(x), x)
    assert loss.item() == pytest.approx(squared_error_per_sample(model.reconstruct(x), x).mean().item())
    with pytest.raises(hg.HourglassError, match="loss mse needs a model with a linear output"):
        hg.Objective("mse").check(tiny_model)  # its decoder gives logits, not x̂


def test_objective_rejects_unknown_loss_and_bce_on_linear_output():
    with pytest.raises(hg.HourglassError, match="unknown loss 'l1'"):
        hg.Objective("l1")
    linear = hg.Autoencoder.from_architecture(hg.Architecture("linear", (5,), latent_dim=2), "linear")
    with pytest.raises(hg.HourglassError, match="loss bce needs a model with a sigmoid output"):
        hg.Objective("bce").check(linear)
