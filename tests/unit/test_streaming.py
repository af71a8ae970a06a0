"""Data larger than memory: files read block by block give the in-memory run's numbers (or differ only as the
streaming module documents), validate every row naming file, row and column, and fail before any checkpoint is
touched."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from hourglass.data import (
    ColumnStats,
    DataSpec,
    Scaling,
    StreamedDataset,
    load_dataset,
    load_digits,
    loading,
    open_stream,
    sources,
)
from hourglass.data.streaming import split_mask
from hourglass.errors import HourglassError
from hourglass.metrics import compare_with_pca
from hourglass.store import checkpoint as ckpt
from hourglass.training.loop import TrainConfig, fit
from hourglass.workflow import ModelConfig, evaluate, train


@pytest.fixture(scope="module")
def digits_npy(tmp_path_factory):
    ds = load_digits(0)
    path = tmp_path_factory.mktemp("stream") / "digits.npy"
    np.save(path, np.concatenate([ds.x_train, ds.x_val, ds.x_test]))
    return path


def _in_memory(split) -> np.ndarray:
    return np.concatenate([c.numpy() for c in split.chunks(500)])


def _train(x_train, x_val, epochs=3):
    model, objective = ModelConfig(latent_dim=4, loss="mse").resolve((64,), (-1.0, 1.0), seed=0)
    history = fit(model, objective, x_train, x_val, TrainConfig(epochs=epochs, batch_size=64, progress=False, seed=1))
    return model, history


def _max_relative_difference(a, b) -> float:
    return max(
        float((p - q).abs().max() / q.abs().max())
        for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_streamed_npy_in_one_buffer_trains_exactly_as_in_memory(digits_npy):
    data = open_stream(digits_npy, seed=3)
    assert len(data.reader.blocks) == 1  # 115 KB: one block, one buffer
    scaling = data.fit_scaling("standardize")
    train_split, val_split = data.scaled("train", scaling), data.scaled("val", scaling)
    streamed, h_streamed = _train(train_split, val_split)
    memory, h_memory = _train(_in_memory(train_split), _in_memory(val_split))
    assert _max_relative_difference(streamed, memory) <= 1e-5
    assert h_streamed.epochs[-1]["val_loss"] == pytest.approx(h_memory.epochs[-1]["val_loss"], rel=1e-6)


def test_streamed_parquet_in_row_groups_differs_only_in_its_order(tmp_path, monkeypatch):
    """Several blocks: each epoch still uses every training row once, in as many batches as in memory; the
    trajectory differs (block order, buffer) but the model learns as well."""
    ds = load_digits(0)
    x = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    frame = pd.DataFrame(x, columns=[f"p{i}" for i in range(64)])
    path = tmp_path / "digits.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=150)
    data = open_stream(path, seed=3)
    assert len(data.reader.blocks) == 12 and data.columns[:2] == ["p0", "p1"]
    scaling = data.fit_scaling("standardize")
    train_split, val_split = data.scaled("train", scaling), data.scaled("val", scaling)
    train_split.buffer_rows = 400
    rows = _in_memory(train_split)
    batches = list(train_split.epoch(torch.Generator().manual_seed(0), 64))
    seen = np.concatenate([b.numpy() for b in batches])
    assert len(batches) == -(-len(rows) // 64) and all(len(b) == 64 for b in batches[:-1])
    assert np.array_equal(np.unique(seen, axis=0), np.unique(rows, axis=0)) and len(seen) == len(rows)
    assert not np.array_equal(seen, rows)  # shuffled
    _, h_streamed = _train(train_split, val_split, epochs=8)
    _, h_memory = _train(rows, _in_memory(val_split), epochs=8)
    assert h_streamed.best_val_loss == pytest.approx(h_memory.best_val_loss, rel=0.05)


def test_splits_do_not_depend_on_blocks_and_follow_the_seed(digits_npy, monkeypatch):
    whole = open_stream(digits_npy, seed=5)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 64 * 4 * 100)  # 100 float32 rows a block
    cut = open_stream(digits_npy, seed=5)
    assert len(cut.reader.blocks) == 18
    for name in ("train", "val", "test"):
        assert np.array_equal(_in_memory(whole.split(name)), _in_memory(cut.split(name)))
    n = whole.reader.n_rows
    masks = [split_mask(5, name, 0, n) for name in ("train", "val", "test")]
    assert (sum(m.astype(int) for m in masks) == 1).all()  # each row in exactly one split
    assert abs(masks[0].mean() - 0.8) < 0.03 and abs(masks[1].mean() - 0.1) < 0.02
    assert not np.array_equal(split_mask(6, "val", 0, n), masks[1])


def test_shards_interleave_the_split(digits_npy, monkeypatch):
    monkeypatch.setattr(sources, "BLOCK_BYTES", 64 * 4 * 77)
    val = open_stream(digits_npy, seed=0).split("val")
    whole = _in_memory(val)
    shards = [_in_memory(val.sharded(rank, 3)) for rank in range(3)]
    assert [len(s) for s in shards] == [len(val.sharded(r, 3)) for r in range(3)]
    for rank in range(3):
        assert np.array_equal(shards[rank], whole[rank::3])


def test_column_statistics_merge_exactly_and_stably():
    x = np.random.default_rng(0).normal(1e7, 0.01, (5000, 3))  # far from 0: Σx² − n·mean² would keep no digit
    stats = ColumnStats(3)
    for start in range(0, 5000, 333):
        stats.add(x[start : start + 333])
    assert np.allclose(stats.mean, x.mean(axis=0), rtol=1e-14)
    assert np.allclose(np.sqrt(stats.m2 / stats.count), x.std(axis=0), rtol=1e-8)
    assert (stats.min == x.min(axis=0)).all() and (stats.max == x.max(axis=0)).all()
    with_comoments = ColumnStats(3, comoments=True)
    for start in range(0, 5000, 333):
        with_comoments.add(x[start : start + 333])
    assert np.allclose(with_comoments.comoment / 5000, np.cov(x.T, bias=True), rtol=1e-5, atol=1e-12)
    a, b = Scaling.fit(x.astype(np.float32)), Scaling.from_stats(ColumnStats(3).add(x.astype(np.float32)))
    assert a.kind == b.kind == "standardize" and np.allclose(a.scale, b.scale, rtol=1e-9)


@pytest.mark.parametrize("kind, exact_limit", [("standardize", 4096), ("divide", 4096), ("none", 0)])
def test_streamed_pca_baseline_matches_the_exact_one(digits_npy, monkeypatch, kind, exact_limit):
    from hourglass.data import streaming
    from hourglass.pca import PCABaseline

    monkeypatch.setattr(streaming, "EXACT_PCA_MAX_FEATURES", exact_limit)  # 0: IncrementalPCA above the limit
    data = open_stream(digits_npy, seed=0)
    scaling = data.fit_scaling(kind)
    train_split, val_split = data.scaled("train", scaling), data.scaled("val", scaling)
    model, _ = _train(train_split, val_split, epochs=1)
    reads = []
    monkeypatch.setattr(data.reader, "read", lambda i, read=data.reader.read: reads.append(i) or read(i))
    pca = PCABaseline(model.latent_dim).fit_stream(train_split)
    assert (reads == []) == (exact_limit > 0)  # from the first pass's co-moments: not one more read of the file
    streamed = compare_with_pca(model, train_split, val_split, pca=pca)
    exact = compare_with_pca(model, _in_memory(train_split), _in_memory(val_split))
    assert streamed["squared_error_per_sample"] == pytest.approx(exact["squared_error_per_sample"], rel=1e-5)
    assert streamed["pca_squared_error_per_sample"] == pytest.approx(
        exact["pca_squared_error_per_sample"], rel=1e-5 if exact_limit else 1e-3
    )
    assert streamed["n_samples"] == exact["n_samples"]


def test_bad_rows_are_named_by_file_row_and_column(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BLOCK_BYTES", 10 * 4 * 100)
    x = np.random.default_rng(0).random((1000, 10)).astype(np.float32)
    x[857, 3] = np.nan
    np.save(tmp_path / "nan.npy", x)
    with pytest.raises(HourglassError, match=r"nan.npy: .*NaN at sample 857, feature 3"):
        open_stream(tmp_path / "nan.npy")
    frame = pd.DataFrame({"a": np.arange(900.0), "b": np.arange(900.0)})
    frame.loc[612, "b"] = None
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "gap.parquet", row_group_size=200)
    with pytest.raises(HourglassError, match=r"gap.parquet: column 'b' has a missing value on data row 613"):
        open_stream(tmp_path / "gap.parquet")
    frame = pd.DataFrame({"a": np.arange(900.0), "city": ["Oslo"] * 900})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "text.parquet", row_group_size=200)
    with pytest.raises(HourglassError, match=r"text.parquet: column 'city' is not numeric \(e.g. 'Oslo'\)"):
        open_stream(tmp_path / "text.parquet")
    np.savez_compressed(tmp_path / "packed.npz", x=x)
    with pytest.raises(HourglassError, match="compressed"):
        open_stream(tmp_path / "packed.npz")
    np.save(tmp_path / "fortran.npy", np.asfortranarray(x))
    with pytest.raises(HourglassError, match="Fortran order"):
        open_stream(tmp_path / "fortran.npy")


def test_a_bad_streamed_file_fails_before_the_run_folder_is_touched(tmp_path, digits_npy):
    out = tmp_path / "run"
    tc = TrainConfig(epochs=1, batch_size=64, progress=False)
    train(DataSpec(digits_npy, stream=True), ModelConfig(), tc, out=out)
    before = ckpt.load(out).model.state_dict()
    x = np.load(digits_npy)
    x[-1, -1] = np.inf
    np.save(tmp_path / "bad.npy", x)
    with pytest.raises(HourglassError, match=r"bad.npy: .*infinite at sample 1796, feature 63"):
        train(DataSpec(tmp_path / "bad.npy", stream=True), ModelConfig(), tc, out=out, overwrite=True)
    after = ckpt.load(out).model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_a_streamed_run_resumes_evaluates_and_refuses_other_data(tmp_path, digits_npy):
    out = tmp_path / "run"
    tc = TrainConfig(epochs=2, batch_size=64, progress=False)
    trained = train(DataSpec(digits_npy, stream=True), ModelConfig(), tc, out=out)
    assert isinstance(trained.dataset, StreamedDataset)
    result = evaluate(out)
    assert result["n_samples"] == len(trained.dataset.split("test")) and result["ratio_to_pca"] > 0
    train(
        DataSpec(digits_npy, stream=True),
        ModelConfig(),
        TrainConfig(epochs=3, batch_size=64, progress=False),
        out=out,
        resume=True,
    )
    assert ckpt.load(out).config["history"]["epochs_run"] == 3
    from hourglass.explorer import explore_file
    from hourglass.sampling import sampler

    assert explore_file(out, tmp_path / "codes.html")["points"] > 0  # the split's first rows, in memory
    assert sampler(ckpt.load(out), "fitted")(5, torch.Generator().manual_seed(0)).shape == (5, 64)
    x = np.load(digits_npy)
    np.save(tmp_path / "other.npy", x[::-1])
    with pytest.raises(HourglassError, match="cannot resume: training_data was"):
        train(DataSpec(tmp_path / "other.npy", stream=True), ModelConfig(), tc, out=out, resume=True)


def test_png_folders_stream_as_they_load(tmp_path):
    from PIL import Image

    from hourglass.data import read_png_folder

    rng = np.random.default_rng(0)
    for i in range(30):
        pixels = rng.integers(0, 256, (8, 6, 3) if i == 7 else (8, 6), dtype=np.uint8)  # one RGB among grey
        Image.fromarray(pixels).save(tmp_path / f"{i:03d}.png")
    streamed = open_stream(tmp_path)
    assert streamed.shape == (3, 8, 6)
    rows = np.concatenate([streamed.reader.read(i) for i in range(len(streamed.reader.blocks))])
    assert np.array_equal(rows, read_png_folder(tmp_path).reshape(30, -1).astype(np.float32))
    Image.fromarray(rng.integers(0, 256, (9, 6), dtype=np.uint8)).save(tmp_path / "999.png")
    with pytest.raises(HourglassError, match=r"999.png: size 6×9, but 000.png is 6×8"):
        open_stream(tmp_path)


def test_files_larger_than_a_quarter_of_memory_stream_by_default(digits_npy, monkeypatch):
    assert not isinstance(load_dataset(digits_npy), StreamedDataset)
    monkeypatch.setattr(loading, "available_memory", lambda: 4 * digits_npy.stat().st_size - 1)
    assert isinstance(load_dataset(digits_npy), StreamedDataset)
    assert not isinstance(load_dataset(digits_npy, stream=False), StreamedDataset)
    with pytest.raises(HourglassError, match="only files and folders are streamed"):
        load_dataset("digits", stream=True)


def test_the_cli_streams_on_request_and_says_what_cannot_be_streamed(tmp_path, digits_npy, capsys):
    from hourglass.cli import main

    out = tmp_path / "run"
    assert main(["train", str(digits_npy), "--stream", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert ckpt.load(out).data["streamed"] is True
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    assert main(["train", str(tmp_path / "t.csv"), "--stream", "--out", str(tmp_path / "csv"), "--quiet"]) == 2
    assert "t.csv: .csv files cannot be streamed" in capsys.readouterr().err
