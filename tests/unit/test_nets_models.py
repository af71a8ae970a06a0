import pytest
import torch
from torch import nn

import hourglass as hg
from hourglass.nets import conv_pair, mlp_hourglass


def linear_sizes(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def test_mlp_hourglass_has_the_textbook_layer_sizes():
    f, g = mlp_hourglass([784, 256, 64, 16], latent_dim=4)
    assert linear_sizes(f) == [(784, 256), (256, 64), (64, 16), (16, 4)]
    assert linear_sizes(g) == [(4, 16), (16, 64), (64, 256), (256, 784)]
    # no nonlinearity on the code or on g's raw output
    assert isinstance(f[-1], nn.Linear) and isinstance(g[-1], nn.Linear)


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 5, 7), (2, 13, 10)])
def test_conv_pair_reconstructs_exactly_the_input_shape(shape):
    f, g = conv_pair(shape, (8, 16), latent_dim=6)
    x = torch.rand(3, shape[0] * shape[1] * shape[2])
    z = f(x)
    assert z.shape == (3, 6)
    assert g(z).shape == x.shape


def test_linear_pair_is_affine():
    model = hg.Autoencoder.from_architecture(hg.Architecture("linear", (10,), latent_dim=3), "linear")
    a, b = torch.randn(2, 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        lhs = model.reconstruct(torch.stack([0.3 * a + 0.7 * b]))
        rhs = 0.3 * model.reconstruct(a[None]) + 0.7 * model.reconstruct(b[None])
    torch.testing.assert_close(lhs, rhs)


def test_autoencoder_shapes_and_sigmoid_output(tiny_model):
    x = torch.rand(7, 64)
    z = tiny_model.encode(x)
    assert z.shape == (7, 3)
    x_hat = tiny_model.reconstruct(x)
    assert x_hat.shape == (7, 64) and x_hat.min() >= 0 and x_hat.max() <= 1
    out = tiny_model(x)  # the one call a training step makes: everything a loss needs
    assert isinstance(out, hg.Output) and out.mu is None and torch.equal(out.z, z)
    torch.testing.assert_close(x_hat, torch.sigmoid(out.decoded))


def test_same_seed_same_init_and_global_rng_untouched():
    arch = hg.Architecture("mlp", (20,), (8,), 2)
    state = torch.get_rng_state()
    a = hg.Autoencoder.from_architecture(arch, seed=5).state_dict()
    b = hg.Autoencoder.from_architecture(arch, seed=5).state_dict()
    c = hg.Autoencoder.from_architecture(arch, seed=6).state_dict()
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "rnn"}, "unknown arch"),
        ({"latent_dim": 0}, "latent_dim must be at least 1"),
        ({"widths": (16, 0)}, "widths must be positive"),
        ({"activation": "swish2"}, "unknown activation"),
        ({"kind": "conv", "input_shape": (64,)}, "needs image samples"),
    ],
)
def test_architecture_rejects_bad_options(kwargs, message):
    with pytest.raises(hg.HourglassError, match=message):
        hg.Architecture(**{"input_shape": (64,), **kwargs})


def test_architecture_round_trips_through_dict():
    arch = hg.Architecture("conv", (1, 28, 28), None, 30, "gelu")
    assert arch.widths == (32, 64)
    assert hg.Architecture.from_dict(arch.to_dict()) == arch


def test_hourglass_diagram_lists_every_layer_and_marks_the_code(tmp_path):
    import xml.etree.ElementTree as ET

    from hourglass.report import hourglass_diagram, layer_sizes

    mlp = hg.Architecture("mlp", (784,), (256, 64, 16), 4)
    assert [n for _, n in layer_sizes(mlp)] == [784, 256, 64, 16, 4, 16, 64, 256, 784]
    conv = hg.Architecture("conv", (1, 28, 28), (32, 64), 30)
    assert [label for label, _ in layer_sizes(conv)] == [
        "1×28×28",
        "32×14×14",
        "64×7×7",
        "z: 30",
        "64×7×7",
        "32×14×14",
        "1×28×28",
    ]
    assert [n for _, n in layer_sizes(mlp, "vae")][3:6] == [16, 8, 4]
    sparse = hg.Architecture("mlp", (784,), (512,), 1000, code_activation="relu")
    hourglass_diagram(sparse, tmp_path / "sae.svg")
    svg = (tmp_path / "sae.svg").read_text()
    ET.fromstring(svg)  # well-formed
    assert "z: 1000" in svg and ">784<" in svg  # every layer labelled with its true size
