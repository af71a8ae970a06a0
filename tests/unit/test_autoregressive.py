"""The autoregressive prior over a discrete code's grid: no position's prediction sees its own or a later code (a
gradient test), sampling with cached keys and values computes what the whole-sequence pass computes, and on a toy
grid of known distribution its draws pass a two-sample test that draws of the wrong distribution fail."""

import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency

from hourglass.priors.autoregressive import AutoregressivePrior, CodeTransformer
from hourglass.training.loop import TrainConfig


def test_no_position_sees_its_own_or_a_later_code():
    torch.manual_seed(0)
    net = CodeTransformer(codes=5, positions=6, width=16, layers=2, heads=2)
    h = torch.randn(1, 6, 16, requires_grad=True)  # the embedded inputs: the start token, then codes 0..4
    for i in range(6):
        (grad,) = torch.autograd.grad(net.logits(h)[0, i].sum(), h)
        seen = grad[0].abs().sum(dim=1)
        assert (seen[i + 1 :] == 0).all() and (seen[: i + 1] > 0).all(), (i, seen)


def test_sampling_with_a_cache_computes_the_whole_sequence_pass():
    torch.manual_seed(0)
    net = CodeTransformer(codes=7, positions=5, width=16, layers=2, heads=2).eval()
    drawn = net.sample(4, torch.Generator().manual_seed(1), temperature=1e-4)  # near-greedy: the argmax each step
    logits = net(drawn)
    assert torch.equal(logits.argmax(dim=2), drawn)
    assert net.sample(3, torch.Generator().manual_seed(2), top_k=1).unique().numel() >= 1


def toy_grids(n: int, rng: np.random.Generator, dependent: bool = True) -> np.ndarray:
    """Grids of 3 positions over 3 codes: c0 ~ (0.5, 0.3, 0.2); c1 = c0 (else independent); c2 = (c0 + c1) mod 3
    with probability 0.8, else uniform."""
    c0 = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    c1 = c0 if dependent else rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    c2 = np.where(rng.random(n) < 0.8, (c0 + c1) % 3, rng.integers(3, size=n))
    return np.stack([c0, c1, c2], axis=1)


def two_sample_p(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's χ² test of the 27 joint states' counts in two samples: the p-value that they share a law."""
    states = [np.bincount(g @ np.array([9, 3, 1]), minlength=27) for g in (a, b)]
    table = np.array(states)
    return float(chi2_contingency(table[:, table.sum(axis=0) > 0])[1])


def test_the_prior_draws_a_toy_grids_known_distribution():
    rng = np.random.default_rng(0)
    train, val = toy_grids(8000, rng), toy_grids(1000, rng)
    config = TrainConfig(epochs=30, batch_size=256, lr=2e-3, seed=0, progress=False)
    prior = AutoregressivePrior.fit(train, 3, 0, config, val, width=32, layers=2, heads=2)
    drawn = prior.sample(4000, torch.Generator().manual_seed(0)).numpy()
    fresh = toy_grids(4000, np.random.default_rng(1))
    assert two_sample_p(drawn, fresh) > 0.01  # stated: χ² two-sample test at the 1 % level
    assert two_sample_p(toy_grids(4000, np.random.default_rng(2), dependent=False), fresh) < 0.01  # it can fail
    again = AutoregressivePrior.from_state(*prior.state())
    torch.testing.assert_close(again.net(torch.as_tensor(train[:5])), prior.net(torch.as_tensor(train[:5])))


@pytest.mark.parametrize("top_k", [1, 2])
def test_top_k_draws_only_the_likeliest_codes(top_k):
    torch.manual_seed(0)
    net = CodeTransformer(codes=6, positions=1, width=8, layers=1, heads=1).eval()
    with torch.no_grad():
        net.head.bias.copy_(torch.tensor([0.0, 5.0, 4.0, -1.0, -2.0, -3.0]))
        net.head.weight.zero_()
    drawn = net.sample(500, torch.Generator().manual_seed(0), top_k=top_k)
    assert set(drawn.unique().tolist()) == {1, 2}.intersection(range(1, 1 + top_k)) | ({2} if top_k == 2 else set())
