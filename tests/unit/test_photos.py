"""Whole photographs: tiling and blending (identity in, identity out; no seams), the patch source (covers every
image, seeded, fresh each epoch, validation from held-out images), the fully convolutional arch, residual output
and per-sample noise levels."""

import numpy as np
import pytest
import torch
from torch import nn

from hourglass import Architecture, Autoencoder, HourglassError, ModelConfig
from hourglass.corruptions import parse_noise
from hourglass.data.patches import allocate, draw_patches, open_photos
from hourglass.denoising import blend_window, denoise_image, estimate_sigma, tile_starts


def identity_model(kind: str, channels: int, side: int = 16) -> Autoencoder:
    """The identity network, with the architecture of a model trained on side×side patches."""
    arch = Architecture(kind, (channels, side, side), latent_dim=channels * side * side)
    return Autoencoder(nn.Identity(), nn.Identity(), "linear", arch)


class Shift(nn.Module):
    """Adds a constant: a network whose tiles, badly blended, would show their borders."""

    def forward(self, x):
        return x + 0.25


@pytest.mark.parametrize("kind", ["fcn", "conv"])
@pytest.mark.parametrize("shape", [(37, 53), (5, 3), (101, 67, 3), (16, 16, 3), (1, 1)])
def test_tiling_through_the_identity_gives_the_image_back_exactly(kind, shape):
    rng = np.random.default_rng(0)
    channels = 3 if len(shape) == 3 else 1
    model = identity_model(kind, channels)
    image = rng.random(shape, dtype=np.float32)
    assert np.array_equal(denoise_image(image, model, tile=32 if kind == "fcn" else None), image)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        integers = rng.integers(0, top + 1, shape).astype(dtype)
        out = denoise_image(integers, model)
        assert out.dtype == dtype and np.array_equal(out, integers)


def test_a_grey_model_cleans_each_colour_channel():
    image = np.random.default_rng(1).random((21, 34, 3), dtype=np.float32)
    assert np.array_equal(denoise_image(image, identity_model("fcn", 1)), image)
    with pytest.raises(HourglassError, match="3-channel"):
        denoise_image(image[..., 0], identity_model("fcn", 3))


def test_a_constant_image_stays_constant_across_tile_seams():
    arch = Architecture("fcn", (1, 16, 16), latent_dim=256)
    model = Autoencoder(Shift(), nn.Identity(), "linear", arch)
    out = denoise_image(np.full((300, 517), 0.5, np.float32), model, tile=64)  # many tiles, overlapping
    np.testing.assert_allclose(out, 0.75, rtol=0, atol=1e-6)


def test_tiles_cover_the_axis_and_the_window_never_vanishes():
    for size, tile, overlap in ((300, 64, 16), (64, 64, 16), (65, 64, 16), (1000, 48, 24)):
        starts = tile_starts(size, tile, overlap)
        assert starts[0] == 0 and starts[-1] + tile == size
        assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))
    window = blend_window(64, 16)
    assert window.min() > 0 and window.max() == 1 and np.allclose(window, window.T)


def test_estimated_noise_level_is_close_to_the_true_one():
    rng = np.random.default_rng(0)
    smooth = np.linspace(0, 1, 256)[None, :] * np.ones((256, 1))
    for sigma in (0.02, 0.1, 0.2):
        assert abs(estimate_sigma((smooth + sigma * rng.standard_normal(smooth.shape))[None]) - sigma) < 0.1 * sigma


def test_patches_cover_every_image_in_proportion_and_are_seeded():
    rng = np.random.default_rng(0)
    images = [rng.random((1, h, w), dtype=np.float32) for h, w in ((20, 24), (40, 30), (12, 12))]
    counts = allocate([im.shape[1:] for im in images], 8, 500)
    assert counts.sum() == 500 and counts.min() >= 1
    positions = np.array([(h - 7) * (w - 7) for h, w in ((20, 24), (40, 30), (12, 12))])
    assert np.abs(counts - 500 * positions / positions.sum()).max() <= 2
    a = draw_patches(images, 8, 500, torch.Generator().manual_seed(3), augment=False)
    b = draw_patches(images, 8, 500, torch.Generator().manual_seed(3), augment=False)
    assert torch.equal(a, b) and a.shape == (500, 64)
    assert not torch.equal(a, draw_patches(images, 8, 500, torch.Generator().manual_seed(4), augment=False))
    # every pixel of every image is in some patch (a patch is found in its image by its values: they are unique)
    for image in images:
        covered = np.zeros(image.shape[1:], bool)
        h, w = image.shape[1:]
        index = {image[0, y, x].item(): (y, x) for y in range(h) for x in range(w)}
        for patch in a.reshape(-1, 8, 8).numpy():
            y, x = index.get(patch[0, 0].item(), (None, None))
            if y is not None and np.array_equal(image[0, y : y + 8, x : x + 8], patch):
                covered[y : y + 8, x : x + 8] = True
        assert covered.all()


def test_augmented_patches_are_symmetries_of_crops():
    image = np.arange(100, dtype=np.float32).reshape(1, 10, 10) / 100
    patches = draw_patches([image], 4, 200, torch.Generator().manual_seed(0)).reshape(-1, 4, 4).numpy()
    crops = [image[0, y : y + 4, x : x + 4] for y in range(7) for x in range(7)]
    symmetries = {np.rot90(c, k).tobytes() for c in crops for k in range(4)}
    symmetries |= {np.rot90(c, k).T.copy().tobytes() for c in crops for k in range(4)}
    assert all(np.ascontiguousarray(p).tobytes() in symmetries for p in patches)
    assert len({p.tobytes() for p in patches}) > 50  # turned, not only cropped


def test_photo_folder_holds_out_whole_images_for_validation(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(((40, 50), (33, 61), (64, 20), (45, 45))):
        Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).save(tmp_path / f"p{i}.png")
    photos = open_photos(tmp_path, patch_size=16, patches_per_epoch=64, seed=0)
    assert len(photos.val_images) == 1 and len(photos.train_images) == 3 and photos.shape == (1, 16, 16)
    val_image = photos.val_images[0]
    assert not any(im.shape == val_image.shape and np.array_equal(im, val_image) for im in photos.train_images)
    feed = photos.scaled("train")
    epochs = [torch.cat(list(feed.epoch(torch.Generator().manual_seed(s), 16))) for s in (0, 1)]
    assert len(epochs[0]) == 64 and not torch.equal(epochs[0], epochs[1])  # fresh crops each epoch
    val = photos.scaled("val")
    assert torch.equal(torch.cat(list(val.epoch(torch.Generator(), 16))), torch.cat(list(val.chunks(16))))
    with pytest.raises(HourglassError, match="smaller than a 50×50 patch"):
        open_photos(tmp_path, patch_size=50)


def test_noise_ranges_draw_a_level_per_sample():
    noise = parse_noise("gaussian:0.02-0.2", clip=False)
    assert noise.levels == (0.02, 0.2)
    stds = noise(torch.zeros(400, 2000), torch.Generator().manual_seed(0)).std(dim=1)
    assert 0.019 < stds.min() < 0.03 and 0.19 < stds.max() < 0.21
    assert abs(stds.mean().item() - 0.11) < 0.01  # uniform over the range
    with pytest.raises(HourglassError, match="must rise"):
        parse_noise("gaussian:0.2-0.1")
    assert parse_noise("gaussian:1e-3").levels == (0.001, 0.001)  # an exponent's minus is not a range
    assert parse_noise("gaussian:2e-3-0.2").levels == (0.002, 0.2)


def test_fcn_takes_any_even_square_and_residual_output_subtracts_the_decoder():
    model, _ = ModelConfig(arch="fcn", residual=True, noise="gaussian:0.1", loss="mse").resolve((1, 16, 16), (0.0, 1.0))
    assert model.output == "residual" and model.latent_dim == 64 * 8 * 8
    for side in (16, 40):
        x = torch.rand(3, side * side)
        out = model(x)
        assert out.z.shape == (3, 64 * (side // 2) ** 2)
        torch.testing.assert_close(out.decoded, x - model.decoder(out.z))
        torch.testing.assert_close(model.reconstruct(x), out.decoded)
    with pytest.raises(HourglassError, match="cannot decode a code alone"):
        model.decode(out.z)
    with pytest.raises(HourglassError, match="even size"):
        Architecture("fcn", (1, 15, 15), latent_dim=64)
    with pytest.raises(HourglassError, match="residual"):
        ModelConfig(residual=True, loss="bce")


class TellsTheMap(nn.Module):
    """f(x̃ ⊕ M) = M for a grey tile: a code that is the noise map each row carries after its pixels."""

    def forward(self, x):
        return x[:, x.shape[1] // 2 :]


def test_the_noise_map_reaches_every_pixel_through_the_tiles():
    arch = Architecture("fcn", (1, 16, 16), latent_dim=256, noise_map=True)
    assert arch.input_features == 2 * 256 and Architecture.from_dict(arch.to_dict()) == arch
    assert "noise_map" not in Architecture("fcn", (1, 16, 16), latent_dim=256).to_dict()  # old records unchanged
    # x̂ = x̃ − g(f(x̃ ⊕ M)) with g(z) = −z: the output is x̃ + M, so a black image comes back as its map
    model = Autoencoder(TellsTheMap(), Negate(), "residual", arch)
    level_map = np.random.default_rng(0).random((300, 517)).astype(np.float32) * 0.2
    out = denoise_image(np.zeros((300, 517), np.float32), model, sigma=level_map, tile=64)
    np.testing.assert_allclose(out, level_map, rtol=0, atol=1e-6)
    np.testing.assert_allclose(denoise_image(np.zeros((40, 50), np.float32), model, sigma=0.1), 0.1, atol=1e-6)
    with pytest.raises(HourglassError, match="a map of the image's size"):
        denoise_image(np.zeros((40, 50), np.float32), model, sigma=np.zeros((50, 40)))
    with pytest.raises(HourglassError, match="sigma must be a number >= 0"):
        denoise_image(np.zeros((40, 50), np.float32), model, sigma=-0.1)


class Negate(nn.Module):
    def forward(self, z):
        return -z


def test_an_objective_with_a_noise_map_tells_each_row_its_sigma():
    from hourglass.losses import Objective

    objective = Objective("mse", parse_noise("gaussian:0-0.2", clip=False), noise_map=64)
    x = torch.rand(500, 3 * 64)
    target, model_input = objective.inputs(x, torch.Generator().manual_seed(0))
    assert torch.equal(target, x) and model_input.shape == (500, 4 * 64)
    sigma = model_input[:, -64:]
    assert torch.equal(sigma, sigma[:, :1].expand(-1, 64)) and sigma.min() >= 0 and sigma.max() <= 0.2
    spread = (model_input[:, : 3 * 64] - x).std(dim=1)
    assert torch.corrcoef(torch.stack([spread, sigma[:, 0]]))[0, 1] > 0.95  # each row's noise is the σ it is told
    with pytest.raises(HourglassError, match="gaussian"):
        Objective("mse", parse_noise("mask:0.2"), noise_map=64)
    with pytest.raises(HourglassError, match="noise_map"):
        ModelConfig(arch="conv", noise="gaussian:0-0.2", noise_map=True)
