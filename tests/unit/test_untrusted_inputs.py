"""Files and values that would once have been read wrongly, or trusted: each is read right or refused by name."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import hourglass as hg
from hourglass import data
from hourglass.sampling import sample_file
from hourglass.scoring import anomaly_scores
from hourglass.store import runfolder


def test_16_bit_pngs_keep_their_values(tmp_path):
    values = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    for i in range(3):
        Image.fromarray(values).save(tmp_path / f"{i}.png")
    assert Image.open(tmp_path / "0.png").mode.startswith("I")
    x = data.read_png_folder(tmp_path)
    np.testing.assert_allclose(x[0, 0], values / 257, rtol=1e-6)  # 0–255 like 8-bit images, nothing saturated
    assert (x == 255).mean() < 0.3


def test_palette_pngs_read_as_their_colours_and_transparency_is_refused(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[:2] = (200, 10, 30)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(tmp_path / "a.png")
    np.testing.assert_array_equal(data.read_png_folder(tmp_path)[0].transpose(1, 2, 0), rgb)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "b.png")
    with pytest.raises(hg.HourglassError, match="b.png: has transparent pixels"):
        data.read_png_folder(tmp_path)


def test_values_beyond_float32_are_refused_by_column_and_row(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,1e39\n5,6\n7,8\n")
    with pytest.raises(hg.HourglassError, match="values beyond float32's range .* at data row 2, column 'b'"):
        hg.load_dataset(tmp_path / "t.csv")
    from hourglass.sklearn import AutoencoderTransformer

    with pytest.raises(ValueError, match="beyond float32's range .* at row 1, column 1"):
        AutoencoderTransformer(epochs=1).fit(np.array([[1.0, 2.0], [3.0, 1e39], [5.0, 6.0]]))


@pytest.mark.parametrize("widths", [(7.9,), (True,), ("x",)])
def test_fractional_widths_are_refused_not_truncated(widths):
    from hourglass.sklearn import AutoencoderTransformer

    with pytest.raises(ValueError, match="widths must be whole numbers"):
        AutoencoderTransformer(hidden_widths=widths, epochs=1).fit(np.random.default_rng(0).random((20, 3)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weight_decay": float("nan")}, "weight_decay must be a finite number"),
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
    ],
)
def test_training_settings_are_checked_by_name(kwargs, message):
    with pytest.raises(hg.HourglassError, match=message) as e:
        hg.TrainConfig(**kwargs)
    assert e.value.params == (next(iter(kwargs)),)


def saved_snapshot(tmp_path, tiny_model):
    return runfolder.current(hg.save(tmp_path / "run", tiny_model, scaling=hg.Scaling("divide", 0.0, 255.0)))


def rewrite(path, change):
    cfg = json.loads(path.read_text())
    change(cfg)
    path.write_text(json.dumps(cfg))


def test_a_zero_scale_and_non_finite_weights_are_refused(tmp_path, tiny_model):
    snapshot = saved_snapshot(tmp_path, tiny_model)
    rewrite(snapshot / "config.json", lambda c: c["preprocessing"].update(scale=0))
    with pytest.raises(hg.HourglassError, match="preprocessing.scale has a 0"):
        hg.load(tmp_path / "run")
    with torch.no_grad():
        next(tiny_model.parameters())[0, 0] = float("nan")
    hg.save(tmp_path / "nan", tiny_model)
    with pytest.raises(hg.HourglassError, match="holds NaN or infinite values"):
        hg.load(tmp_path / "nan")


def test_a_config_cannot_declare_more_than_its_weights_hold(tmp_path, tiny_model):
    snapshot = saved_snapshot(tmp_path, tiny_model)
    rewrite(snapshot / "config.json", lambda c: c["model"]["architecture"].update(widths=[16000, 16000]))
    with pytest.raises(
        hg.HourglassError,
        match="tensor encoder.0.weight is F32 \\(32, 64\\), the architecture needs F32 \\(16000, 64\\)",
    ):
        hg.load(tmp_path / "run")


def test_object_arrays_in_npz_are_refused(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(hg.HourglassError, match="o.npz: cannot read \\(holds Python objects"):
        hg.load_dataset(tmp_path / "o.npz")


def test_quantiles_that_are_not_numbers_are_refused(tmp_path, tiny_model):
    hg.save(tmp_path / "run", tiny_model, anomaly={"train_error_quantiles": ["a", "b"]})
    with pytest.raises(hg.HourglassError, match="train_error_quantiles .* finite, non-decreasing numbers"):
        anomaly_scores(hg.load(tmp_path / "run"), np.zeros((2, 64), np.float32))


def test_samples_stream_to_disk_and_unbounded_requests_are_refused(tmp_path, tiny_model):
    hg.save(tmp_path / "run", tiny_model, data={"name": "digits", "shape": [64]})
    result = sample_file(tmp_path / "run", 20_000, output=tmp_path / "s.npy", seed=1)  # three batches
    x = np.load(tmp_path / "s.npy", mmap_mode="r")
    assert result["n"] == x.shape[0] == 20_000 and np.isfinite(x).all() and len(np.unique(x[:, 0])) > 19_000
    with pytest.raises(hg.HourglassError, match="need about .* GB; the disk has"):
        sample_file(tmp_path / "run", 10**12, output=tmp_path / "huge.npy")
    assert not (tmp_path / "huge.npy").exists()
    with pytest.raises(hg.HourglassError, match="png draws at most 1024 samples"):
        sample_file(tmp_path / "run", 5000, png=tmp_path / "grid.png")


def test_an_output_that_is_an_input_is_refused(tmp_path):
    from hourglass.store.files import check_output

    (tmp_path / "in.csv").write_text("a\n1\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "in.csv")  # another name for the same file
    for same in (tmp_path / "in.csv", tmp_path / "link.csv"):
        with pytest.raises(hg.HourglassError, match="is an input of this command"):
            check_output(same, (".csv",), inputs=(tmp_path / "in.csv",))
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(hg.HourglassError, match="is a folder"):
        check_output(tmp_path / "dir.csv", (".csv",))
