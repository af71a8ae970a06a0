"""The built-in denoisers (hourglass/pretrained/): they load only when their files match the sha256 recorded when
they were made; `hourglass denoise PHOTO -o OUT` and `hg.denoise_image(array)` clean with them, no checkpoint
given; the noise level they are told smooths more as it rises; colour stays colour; a level outside the trained
range is one line. And a model told its noise level (--noise-map) is trained, recorded and refused where it has no
place, as a user meets it."""

import shutil

import numpy as np
import pytest
from PIL import Image

import hourglass as hg
from hourglass import pretrained
from hourglass.data.photos import read_photo

from .test_photos_cli import smooth_photo
from .test_priors_cli import one_line_error, run_cli

SIGMA = 25 / 255


def scene(h: int = 96, w: int = 128, colour: bool = False) -> np.ndarray:
    """A synthetic photo in [0, 1]: soft blobs and a gradient, with hard-edged bars a denoiser must keep."""
    image = smooth_photo(np.random.default_rng(3), h, w, colour)
    image[..., 20:28, 10:90] = 0.1
    image[..., 60:64, 30:110] = 0.9
    return image


def eight_bit_noisy(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """What a user's noisy photo is: noise added, then clipped and rounded to 8 bits."""
    noisy = clean + sigma * np.random.default_rng(seed).standard_normal(clean.shape)
    return np.rint(np.clip(noisy, 0, 1) * 255).astype(np.uint8)


def psnr(clean: np.ndarray, image: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, for images in [0, 1]."""
    return float(10 * np.log10(1 / np.mean((np.asarray(clean, np.float64) - image) ** 2)))


def total_variation(image: np.ndarray) -> float:
    """The mean absolute difference between neighbouring pixels: lower is smoother."""
    image = np.asarray(image, np.float64)
    return float(np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean())


@pytest.mark.parametrize("name", pretrained.NAMES)
def test_the_builtin_models_load_with_their_sha256_checked(name):
    checkpoint = pretrained.load_builtin(name)
    arch = checkpoint.model.architecture
    assert arch.kind == "fcn" and arch.noise_map and checkpoint.model.output == "residual"
    assert arch.input_shape[0] == (3 if name == "colour" else 1)
    assert hg.denoising.noise_levels(checkpoint.objective) == (0.0, pytest.approx(50 / 255))
    size = sum(p.stat().st_size for p in pretrained.FOLDER.glob("denoise-*/*"))
    assert size < 10 * 2**20  # the weights add at most 10 MB to the wheel


def test_a_corrupted_builtin_file_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "pretrained"
    shutil.copytree(pretrained.FOLDER, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    weights = copy / "denoise-grey" / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-5] ^= 0x01  # one bit of one weight
    weights.write_bytes(bytes(blob))
    with pytest.raises(hg.HourglassError, match="sha256 differs"):
        pretrained.verified_folder("grey", copy)
    pretrained.verified_folder("colour", copy)  # the other model's files are intact
    monkeypatch.setattr(pretrained, "FOLDER", copy)
    photo = tmp_path / "noisy.png"
    Image.fromarray(eight_bit_noisy(scene(), SIGMA)).save(photo)
    one_line_error(run_cli(capsys, "denoise", photo, "-o", tmp_path / "clean.png"), "model.safetensors", "sha256")
    assert not (tmp_path / "clean.png").exists()
    (copy / "denoise-grey" / "config.json").unlink()
    one_line_error(run_cli(capsys, "denoise", photo, "-o", tmp_path / "clean.png"), "config.json", "missing")


def test_denoise_with_no_checkpoint_cleans_a_noisy_photo(tmp_path, capsys):
    clean = scene()
    noisy = eight_bit_noisy(clean, SIGMA)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    status, out, _ = run_cli(capsys, "denoise", tmp_path / "noisy.png", "-o", tmp_path / "clean.png")
    assert status == 0 and "builtin:grey" in out and "cleaned at σ" in out
    cleaned = read_photo(tmp_path / "clean.png").pixels[0]
    before, after = psnr(clean, noisy / 255), psnr(clean, cleaned)
    assert after > before + 8, (before, after)  # 25/255 noise: 20 dB in, well over 28 out
    # the same from Python, on the array, with the built-in model chosen by the image
    array = hg.denoise_image(noisy)
    assert array.dtype == np.uint8 and array.shape == noisy.shape
    assert psnr(clean, array / 255) > before + 8


def test_the_level_control_trades_detail_for_smoothness(tmp_path, capsys):
    clean = scene()
    noisy = eight_bit_noisy(clean, SIGMA).astype(np.float32) / 255
    # from nothing told up to 1.2 times the photo's level, each step up smooths more (docs/guide/photos.md: beyond
    # about 1.5 times, a model that predicts the noise starts to remove detail instead)
    levels = [0, 5, 10, 15, 20, 25, 30]
    variation = [total_variation(hg.denoise_image(noisy, sigma=s / 255)) for s in levels]
    assert all(a > b for a, b in zip(variation, variation[1:], strict=False)), variation
    # and the level the photo was made with is the best of them
    scores = {s: psnr(clean, np.clip(hg.denoise_image(noisy, sigma=s / 255), 0, 1)) for s in (10, 25, 50)}
    assert scores[25] > max(scores[10], scores[50]), scores
    Image.fromarray(eight_bit_noisy(clean, SIGMA)).save(tmp_path / "noisy.png")
    status, out, _ = run_cli(capsys, "denoise", tmp_path / "noisy.png", "-o", tmp_path / "c.png", "--sigma", "0.19")
    assert status == 0 and "note: σ is 2.0× the estimated level" in out


def test_the_colour_model_keeps_mode_and_size(tmp_path, capsys):
    clean = scene(70, 90, colour=True)
    noisy = eight_bit_noisy(clean, SIGMA, seed=1)
    Image.fromarray(noisy).save(tmp_path / "colour.png")
    Image.fromarray(noisy).save(tmp_path / "colour.jpg", quality=95)
    for name in ("colour.png", "colour.jpg"):
        status, out, _ = run_cli(capsys, "denoise", tmp_path / name, "-o", tmp_path / f"clean-{name}")
        assert status == 0 and "builtin:colour" in out
        with Image.open(tmp_path / name) as a, Image.open(tmp_path / f"clean-{name}") as b:
            assert (a.size, a.mode, a.format) == (b.size, b.mode, b.format) == ((90, 70), "RGB", b.format)
    cleaned = read_photo(tmp_path / "clean-colour.png").pixels.transpose(1, 2, 0)
    assert psnr(clean, cleaned) > psnr(clean, noisy / 255) + 6
    # the grey model, named, cleans each channel of the colour photo; the colour model refuses a grey one
    status, out, _ = run_cli(capsys, "denoise", "builtin:grey", tmp_path / "colour.png", "-o", tmp_path / "g.png")
    assert status == 0 and "builtin:grey" in out
    Image.fromarray(noisy[..., 0]).save(tmp_path / "grey.png")
    one_line_error(run_cli(capsys, "denoise", "builtin:colour", tmp_path / "grey.png", "-o", tmp_path / "x.png"),
                   "3-channel")  # fmt: skip
    one_line_error(run_cli(capsys, "denoise", "builtin:sepia", tmp_path / "grey.png", "-o", tmp_path / "x.png"),
                   "unknown built-in model", "builtin:grey")  # fmt: skip


def test_a_level_outside_the_trained_range_is_one_line(tmp_path, capsys):
    Image.fromarray(eight_bit_noisy(scene(), SIGMA)).save(tmp_path / "noisy.png")
    for sigma in ("0.3", "-0.1", "nan"):
        done = run_cli(capsys, "denoise", tmp_path / "noisy.png", "-o", tmp_path / "o.png", "--sigma", sigma)
        one_line_error(done, "sigma")
    assert not (tmp_path / "o.png").exists()
    with pytest.raises(hg.HourglassError, match="outside what the model was trained for"):
        hg.denoise_image(np.zeros((40, 40), np.float32), sigma=0.3)
    with pytest.raises(hg.HourglassError, match="a map of the image's size"):
        hg.denoise_image(np.zeros((40, 40), np.float32), sigma=np.full((20, 20), 0.1))


def test_a_noise_map_model_trains_from_the_cli_and_is_told_its_level(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(np.rint(smooth_photo(rng, 60, 70) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    run = tmp_path / "run"
    status, _, _ = run_cli(capsys, "train", folder, "--patch-size", "16", "--patches-per-epoch", "256", "--arch",
                           "fcn", "--widths", "16,16", "--residual", "--noise", "gaussian:0-0.2", "--noise-map",
                           "--epochs", "2", "--batch-size", "16", "--out", run, "--quiet")  # fmt: skip
    assert status == 0
    checkpoint = hg.load(run)
    assert checkpoint.model.architecture.noise_map and checkpoint.objective["noise_map"] == 16 * 16
    assert checkpoint.config["run"]["model"]["noise_map"] is True
    status, out, _ = run_cli(capsys, "denoise", run, folder / "p0.png", "-o", tmp_path / "c.png", "--sigma", "0.1")
    assert status == 0 and "cleaned at σ 0.100" in out
    one_line_error(run_cli(capsys, "denoise", run, folder / "p0.png", "-o", tmp_path / "c.png", "--sigma", "0.3"),
                   "outside")  # fmt: skip
    one_line_error(run_cli(capsys, "export", run, "-o", tmp_path / "m.onnx"), "noise level")
    one_line_error(run_cli(capsys, "train", folder, "--noise", "gaussian:0.1", "--noise-map", "--out", tmp_path / "m"),
                   "--noise-map", "fcn")  # fmt: skip
    one_line_error(run_cli(capsys, "train", folder, "--arch", "fcn", "--noise", "mask:0.2", "--noise-map", "--out",
                           tmp_path / "m"), "gaussian")  # fmt: skip
