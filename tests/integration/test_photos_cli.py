"""`hourglass train PHOTOS/ --patch-size P` and `hourglass denoise CKPT PHOTO -o OUT`, as a user runs them: photos of
different sizes in, a model trained on their patches; noisy photos in (PNG 8- and 16-bit, grey and colour, JPEG, a
folder), clean photos out of the same size, mode and bit depth; one line for what cannot be done. (The CLI's
``main`` runs in this process, as in test_priors_cli.py.)"""

import numpy as np
import pytest
from PIL import Image

from hourglass import load
from hourglass.data.photos import read_photo

from .test_priors_cli import one_line_error, run_cli


def smooth_photo(rng, h: int, w: int, colour: bool = False) -> np.ndarray:
    """A photo-like image in [0, 1]: a few soft blobs and a gradient (H, W) or (H, W, 3)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    image = 0.3 + 0.4 * xx
    for _ in range(4):
        cy, cx, r = rng.random(3)
        image = image + 0.3 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (0.02 + 0.05 * r))
    image = np.clip(image / image.max(), 0, 1)
    return np.stack([image, image[::-1, :], image[:, ::-1]], axis=-1) if colour else image


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    """A residual fcn trained for a few seconds on patches of five grey photos of different sizes."""
    from hourglass.cli import main

    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(((64, 80), (72, 50), (90, 90), (48, 100), (60, 60))):
        Image.fromarray(np.rint(smooth_photo(rng, h, w) * 255).astype(np.uint8)).save(folder / f"photo{i}.png")
    run = folder.parent / "photo-run"
    status = main([
        "train", str(folder), "--patch-size", "16", "--patches-per-epoch", "512", "--arch", "fcn", "--widths", "16,16",
        "--residual", "--noise", "gaussian:0.05-0.15", "--epochs", "6", "--batch-size", "16", "--lr", "0.003",
        "--out", str(run), "--quiet",
    ])  # fmt: skip
    assert status == 0
    return run


def test_a_photo_folder_trains_on_patches_with_held_out_validation(photo_run):
    checkpoint = load(photo_run)
    assert checkpoint.model.architecture.input_shape == (1, 16, 16) and checkpoint.model.output == "residual"
    assert checkpoint.data["photos"] == {"patch_size": 16, "patches_per_epoch": 512}
    noise_energy = 16 * 16 * (0.15**3 - 0.05**3) / (3 * 0.1)  # E‖x̃ − x‖² per patch, σ ~ U[0.05, 0.15]
    assert checkpoint.config["history"]["best_val_loss"] < 0.6 * noise_energy  # it learned to remove noise


def noisy_copy(rng, clean: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(clean + sigma * rng.standard_normal(clean.shape), 0, 1)


def test_denoise_keeps_size_mode_and_bit_depth_and_cleans(photo_run, tmp_path, capsys):
    rng = np.random.default_rng(1)
    clean = smooth_photo(rng, 77, 95)
    cases = {
        "grey8.png": (np.rint(noisy_copy(rng, clean, 0.1) * 255).astype(np.uint8), "L"),
        "grey16.png": (np.rint(noisy_copy(rng, clean, 0.1) * 65535).astype(np.uint16), "I;16"),
        "colour.png": (np.rint(noisy_copy(rng, smooth_photo(rng, 51, 67, True), 0.1) * 255).astype(np.uint8), "RGB"),
    }
    for name, (pixels, mode) in cases.items():
        Image.fromarray(pixels).save(tmp_path / name)
        status, out, _ = run_cli(capsys, "denoise", photo_run, tmp_path / name, "-o", tmp_path / f"clean-{name}")
        assert status == 0 and "estimated noise" in out
        with Image.open(tmp_path / f"clean-{name}") as written:
            assert written.mode == mode and written.size == (pixels.shape[1], pixels.shape[0])
        assert read_photo(tmp_path / f"clean-{name}").bits == (16 if "16" in name else 8)
    top = 65535
    denoised = read_photo(tmp_path / "clean-grey16.png").pixels[0]
    noisy = cases["grey16.png"][0] / top
    assert np.mean((denoised - clean) ** 2) < 0.7 * np.mean((noisy - clean) ** 2)


def test_a_jpeg_and_a_folder_go_through(photo_run, tmp_path, capsys):
    rng = np.random.default_rng(2)
    folder = tmp_path / "noisy"
    folder.mkdir()
    for i, (h, w) in enumerate(((40, 41), (33, 70))):
        Image.fromarray(np.rint(noisy_copy(rng, smooth_photo(rng, h, w), 0.1) * 255).astype(np.uint8)).save(
            folder / f"n{i}.png"
        )
    Image.fromarray(np.rint(smooth_photo(rng, 50, 60, True) * 255).astype(np.uint8)).save(folder / "c.jpg", quality=90)
    status, out, _ = run_cli(capsys, "denoise", photo_run, folder, "-o", tmp_path / "clean", "--sigma", "0.1")
    assert status == 0 and "cleaned 3 photo(s)" in out
    for name in ("n0.png", "n1.png", "c.jpg"):
        with Image.open(folder / name) as a, Image.open(tmp_path / "clean" / name) as b:
            assert (a.size, a.mode, a.format) == (b.size, b.mode, b.format)


def test_what_cannot_be_denoised_is_one_line(photo_run, tmp_path, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((30, 30), 128, np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    one_line_error(run_cli(capsys, "denoise", photo_run, truncated, "-o", tmp_path / "o.png"), "truncated.png")
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (20, 20)).save(cmyk)
    one_line_error(run_cli(capsys, "denoise", photo_run, cmyk, "-o", tmp_path / "o.png"), "mode CMYK")
    one_line_error(run_cli(capsys, "denoise", photo_run, good, "-o", good), "replaces an input")
    one_line_error(run_cli(capsys, "denoise", photo_run, good, "-o", tmp_path / "o.png", "--sigma", "0.4"), "outside")
    one_line_error(run_cli(capsys, "denoise", photo_run, good, "-o", tmp_path / "o.npz"), ".png, .jpg or .jpeg")
    sixteen = tmp_path / "sixteen.png"
    Image.fromarray(np.full((20, 20), 1000, np.uint16)).save(sixteen)
    one_line_error(run_cli(capsys, "denoise", photo_run, sixteen, "-o", tmp_path / "o.jpg"), "JPEG holds 8 bits")
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.jpg").exists()
    one_line_error(
        run_cli(capsys, "train", tmp_path / "nothing", "--patch-size", "8", "--out", tmp_path / "r"), "not a folder"
    )
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((20, 24), 7, np.uint8)).save(folder / name)
    copying = run_cli(capsys, "train", folder, "--patch-size", "8", "--arch", "fcn", "--out", tmp_path / "r")
    one_line_error(copying, "latent-dim 1024 is not smaller than the 64 features")  # no noise: it would copy
