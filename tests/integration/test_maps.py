"""`hourglass score RUN IMAGES -o scores.csv --maps MAPS/`: each image's anomaly map, as values (.npy) of the
image's size and a heat map (.png) over it, that locates a pasted defect — for photos of any size through a model
trained on photo patches (tiled like `denoise`), and for images of a model's own size (their maps' squared error
sums to their scores); one line for what cannot be mapped."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hourglass.maps import squared_error_map, ssim_map

from .test_cli import assert_one_line_error, hourglass


def stripes(height: int, width: int, seed: int) -> np.ndarray:
    """A grey texture (H, W) uint8: diagonal stripes with a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = 0.5 + 0.2 * np.sin((yy + xx) * 2 * np.pi / 16) + 0.02 * rng.standard_normal((height, width))
    return np.clip(np.rint(255 * pixels), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def texture_run(tmp_path_factory):
    """A conv autoencoder trained for a few seconds on 16×16 patches of striped photos."""
    root = tmp_path_factory.mktemp("texture")
    (root / "photos").mkdir()
    for i in range(3):
        Image.fromarray(stripes(64, 64, i)).save(root / "photos" / f"s{i}.png")
    hourglass("train", root / "photos", "--patch-size", "16", "--patches-per-epoch", "4000", "--arch", "conv",
              "--latent-dim", "16", "--epochs", "10", "--seed", "0", "--out", root / "run")  # fmt: skip
    return root


def defective(root, name: str = "defect.png") -> tuple:
    """A striped photo of another size with a bright 14×14 square pasted into it; its folder and the square."""
    folder = root / "test"
    folder.mkdir(exist_ok=True)
    pixels = stripes(80, 96, 7)
    square = (slice(30, 44), slice(50, 64))
    pixels[square] = 250
    Image.fromarray(pixels).save(folder / name)
    Image.fromarray(stripes(80, 96, 8)).save(folder / "clean.png")
    return folder, square


@pytest.mark.parametrize("kind", ["ssim", "squared"])
def test_a_photos_map_has_its_size_and_locates_a_pasted_defect(texture_run, tmp_path, kind):
    folder, square = defective(texture_run)
    done = hourglass("score", texture_run / "run", folder, "-o", tmp_path / "s.csv", "--maps", tmp_path / "maps",
                     "--map-kind", kind)  # fmt: skip
    assert f"{kind} maps in" in done.stdout
    values = np.load(tmp_path / "maps" / "defect.npy")
    assert values.shape == (80, 96) and values.dtype == np.float32
    inside = np.zeros(values.shape, bool)
    inside[square] = True
    assert values[inside].mean() > 3 * values[~inside].mean()
    y, x = np.unravel_index(np.argmax(values), values.shape)
    assert 30 - 4 <= y < 44 + 4 and 50 - 4 <= x < 64 + 4  # the peak on the square (or its rim, for ssim's window)
    with Image.open(tmp_path / "maps" / "defect.png") as heat:
        assert heat.size == (96, 80) and heat.mode == "RGB"
    scores = pd.read_csv(tmp_path / "s.csv")
    assert list(scores["image"]) == ["clean", "defect"]
    assert scores["anomaly_score"][1] > 2 * scores["anomaly_score"][0]


def test_images_of_the_models_size_have_maps_that_sum_to_their_scores(trained, tmp_path):
    hourglass("score", trained["conv"], "digits", "-o", tmp_path / "s.csv", "--maps", tmp_path / "m",
              "--map-kind", "squared")  # fmt: skip
    scores = pd.read_csv(tmp_path / "s.csv")
    hourglass("score", trained["conv"], "digits", "-o", tmp_path / "plain.csv")
    plain = pd.read_csv(tmp_path / "plain.csv")
    np.testing.assert_allclose(scores["anomaly_score"], plain["anomaly_score"], rtol=1e-6)
    for i in (0, len(scores) - 1):
        values = np.load(tmp_path / "m" / f"{scores['image'][i]}.npy")
        assert values.shape == (8, 8)
        assert values.sum() == pytest.approx(scores["anomaly_score"][i], rel=1e-5)


def test_what_cannot_be_mapped_is_one_line(trained, texture_run, tmp_path):
    folder, _ = defective(texture_run)
    out = ("-o", tmp_path / "s.csv")
    assert_one_line_error(
        hourglass("score", trained["table"], trained["customers.csv"], *out, "--maps", tmp_path / "m", check=False),
        "rows are not images",
    )
    assert_one_line_error(
        hourglass("score", texture_run / "run", folder, *out, "--maps", tmp_path / "m", "--explain", "3", check=False),
        "--explain", "--maps",
    )  # fmt: skip
    before = sorted(p.name for p in folder.iterdir())
    assert_one_line_error(
        hourglass("score", texture_run / "run", folder, *out, "--maps", folder, check=False), "images' own folder"
    )
    assert sorted(p.name for p in folder.iterdir()) == before and not (tmp_path / "s.csv").exists()
    (tmp_path / "colour").mkdir()
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "colour" / "c.png")
    assert_one_line_error(
        hourglass("score", texture_run / "run", tmp_path / "colour", *out, "--maps", tmp_path / "m", check=False),
        "3 channel(s)",
    )


def test_the_structural_map_is_one_minus_ssim_under_a_gaussian_window():
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 1, 2, 24, 24))
    assert np.abs(ssim_map(x, x)).max() < 1e-12
    np.testing.assert_allclose(ssim_map(x, y), ssim_map(y, x))
    # Wang et al. (2004) at one pixel, with its 11×11 window (σ = 1.5) and both channels averaged, by hand
    offsets = np.arange(11) - 5
    w = np.outer(*(2 * [np.exp(-(offsets**2) / (2 * 1.5**2))]))
    w /= w.sum()
    ssims = []
    for c in range(2):
        a, b = x[0, c, 7:18, 7:18], y[0, c, 7:18, 7:18]
        ma, mb = (w * a).sum(), (w * b).sum()
        va, vb, cov = (w * a * a).sum() - ma**2, (w * b * b).sum() - mb**2, (w * a * b).sum() - ma * mb
        c1, c2 = 0.01**2, 0.03**2
        ssims.append((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    assert ssim_map(x, y)[0, 12, 12] == pytest.approx(1 - np.mean(ssims), rel=1e-9)
    np.testing.assert_allclose(squared_error_map(x, y).sum(), ((x - y) ** 2).sum())
