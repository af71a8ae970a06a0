import numpy as np
import pytest
import torch

import hourglass as hg


@pytest.fixture(scope="session")
def digits():
    return hg.load_digits(seed=0)


@pytest.fixture
def tiny_model():
    arch = hg.Architecture("mlp", (64,), (32, 16), latent_dim=3)
    return hg.Autoencoder.from_architecture(arch, "sigmoid", seed=0)


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def rng():
    return np.random.default_rng(0)
