"""One model call per step, objectives composed, v1 checkpoints, and library errors that speak API names."""

import re
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch import nn

import hourglass as hg
from hourglass.experiments import waist
from hourglass.workflow import ModelConfig, variant_name

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v1"


class CountingWrapper(nn.DataParallel):
    """Stands where DistributedDataParallel would (DataParallel without GPUs calls its module as it is): counts
    every call of the model."""

    def __init__(self, module):
        super().__init__(module)
        self.calls = 0

    def forward(self, x, generator=None):
        self.calls += 1
        return self.module(x, generator=generator)


def problem():
    x = np.random.default_rng(0).random((300, 12)).astype(np.float32)
    return x[:240], x[240:]


def same_weights(a, b):
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


SPECS = {
    "ae": ModelConfig(widths=(8,), latent_dim=3),
    "dae+sae": ModelConfig(widths=(8,), latent_dim=20, noise="gaussian:0.3", l1=0.05),
    "dae+cae": ModelConfig(widths=(8,), latent_dim=3, noise="mask:0.2", contractive=0.1),
    "dae+vae": ModelConfig(model="vae", widths=(8,), latent_dim=3, noise="gaussian:0.2", binarize=True),
}


@pytest.mark.parametrize("name", SPECS)
def test_each_training_step_is_one_model_call(name):
    x_train, x_val = problem()
    config = SPECS[name]
    plain, objective = config.resolve((12,), (0.0, 1.0), seed=0)
    wrapped = CountingWrapper(config.resolve((12,), (0.0, 1.0), seed=0)[0])
    assert variant_name(plain, objective) == name
    tc = hg.TrainConfig(epochs=2, batch_size=32, progress=False)
    hg.fit(plain, objective, x_train, x_val, tc)
    hg.fit(wrapped, objective, x_train, x_val, tc)
    steps, val_batches = 240 // 32 + 1, 1
    assert wrapped.calls == 2 * (steps + val_batches)  # nothing else reaches into the model
    assert same_weights(plain, wrapped.module)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_training_under_distributed_data_parallel_matches_the_plain_model():
    x_train, x_val = problem()
    config = SPECS["dae+sae"]
    tc = hg.TrainConfig(epochs=2, batch_size=32, progress=False)
    plain, objective = config.resolve((12,), (0.0, 1.0), seed=0)
    hg.fit(plain, objective, x_train, x_val, tc)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        ddp = nn.parallel.DistributedDataParallel(config.resolve((12,), (0.0, 1.0), seed=0)[0])
        history = hg.fit(ddp, objective, x_train, x_val, tc)
    finally:
        dist.destroy_process_group()
    assert len(history.epochs) == 2
    assert same_weights(plain, ddp.module)


def test_a_denoising_sparse_autoencoder_reports_both_its_measures(tmp_path, digits):
    from hourglass.workflow import evaluate, train

    trained = train(
        digits,
        ModelConfig(noise="gaussian:0.3", l1=0.05, widths=(32,), latent_dim=64),
        hg.TrainConfig(epochs=30, batch_size=64, progress=False),
        out=tmp_path / "dsae",
    )
    assert trained.model.architecture.code_activation == "relu"  # an L1 penalty asks for exact zeros
    assert trained.objective.corruption is not None and [p.kind for p in trained.objective.penalties] == ["l1"]
    result = evaluate(tmp_path / "dsae")
    assert result["variant"] == "dae+sae" and hg.load(tmp_path / "dsae").variant == "dae+sae"
    assert result["psnr_denoised"] > result["psnr_noisy"] and result["zero_fraction"] > 0.3


def test_presets_fill_in_only_what_is_not_given():
    assert ModelConfig(model="dae").expanded().noise == "gaussian:0.5"
    assert ModelConfig(model="dae", noise="mask:0.3").expanded().noise == "mask:0.3"
    assert ModelConfig(model="sae").expanded().l1 == 0.1
    assert ModelConfig(model="sae", topk=5).expanded().l1 is None  # another sparsity was asked for
    assert ModelConfig(model="cae", l1=0.2).expanded().contractive == 0.1
    assert ModelConfig(model="sae", kl_sparsity=0.1).architecture((10,)).code_activation == "sigmoid"
    with pytest.raises(hg.HourglassError, match="a VAE's code is Gaussian"):
        hg.VAE.from_architecture(ModelConfig(model="vae", topk=3).architecture((10,)))


@pytest.mark.parametrize("name", ["dae", "sae-topk", "vae-g"])
def test_version_1_checkpoints_load_with_bitwise_equal_outputs(name, digits):
    loaded = hg.load(FIXTURES / name)
    assert loaded.config["format_version"] == 1 and loaded.variant == name.split("-")[0]
    x, expected = torch.as_tensor(digits.x_test), lambda what: np.load(FIXTURES / name / f"expected_{what}.npy")
    with torch.no_grad():
        assert np.array_equal(loaded.model.reconstruct(x).numpy(), expected("reconstruct"))
        assert np.array_equal(loaded.model.encode(x).numpy(), expected("encode"))


def test_version_1_checkpoints_evaluate_with_the_measures_of_their_objective():
    from hourglass.workflow import evaluate

    assert {"psnr_noisy", "psnr_denoised"} <= set(evaluate(FIXTURES / "dae"))
    assert "zero_fraction" in evaluate(FIXTURES / "sae-topk")
    assert "elbo" in evaluate(FIXTURES / "vae-g")


def test_the_waist_is_measured_on_the_built_network():
    good = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (64, 16), 4))
    assert waist(good) == {"sizes": [784, 64, 64, 16, 16, 4, 4, 16, 16, 64, 64, 784], "code": 4, "narrowest": 4}
    pinched = hg.Autoencoder.from_architecture(hg.Architecture("mlp", (784,), (2,), 4))  # a hidden layer below k
    assert waist(pinched)["narrowest"] == 2 != waist(pinched)["code"]
    vae = hg.VAE.from_architecture(hg.Architecture("mlp", (784,), (32,), 8))
    assert waist(vae)["code"] == 8 and waist(vae)["narrowest"] == 8
    conv = hg.Autoencoder.from_architecture(hg.Architecture("conv", (1, 28, 28), (4, 8), 10))
    assert waist(conv)["narrowest"] == 10 and 4 * 14 * 14 in waist(conv)["sizes"]


def test_library_errors_name_parameters_not_flags():
    root = Path(hg.__file__).parent
    calls = re.compile(r"(?:HourglassError|TrainingDiverged)\((.*?)\)(?:\s*from|\s*$)", re.S | re.M)
    for path in root.rglob("*.py"):
        if "cli" in path.relative_to(root).parts:
            continue
        for message in calls.findall(path.read_text()):
            assert not re.search(r"[\"' ]--[a-z]", message), f"{path.name}: {message[:80]}"
    with pytest.raises(hg.HourglassError, match="topk must be between 1 and latent_dim") as e:
        hg.Architecture("mlp", (10,), latent_dim=4, topk=5)
    assert e.value.params == ("topk", "latent_dim")
