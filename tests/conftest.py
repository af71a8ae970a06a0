import os

import numpy as np
import pytest
import torch
from hypothesis import settings

import hourglass as hg

# Property tests run derandomized by default, so a CI run never fails on an example nobody wrote; a longer randomized
# search is one variable away: HYPOTHESIS_PROFILE=long make test.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("long", derandomize=False, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
