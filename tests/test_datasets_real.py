"""The digits and MNIST loaders.

MNIST is never fetched from the internet here: the tests write small IDX files of their
own, serve them from a local HTTP server on 127.0.0.1 (or as file:// URLs), and pass
their checksums in, exercising the same download, verification and parsing code.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import struct
import sys
import threading
import time

import numpy as np
import pytest

from mlpzero.datasets import real
from mlpzero.datasets.real import (
    MNIST_FILES,
    MNIST_SHA256,
    DownloadError,
    load_digits,
    load_mnist,
    parse_idx,
)


# ---------------------------------------------------------------------------- helpers
def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file written with struct, independently of the parser under test."""
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B}
    codes |= {np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}
    code = codes[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    fmt = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}[code]
    body = struct.pack(f">{array.size}{fmt}", *array.ravel().tolist())
    return header + body


def fake_mnist(seed: int = 0, n_train: int = 12, n_test: int = 5, side: int = 4):
    """Four gzip IDX files shaped like MNIST (smaller images), with their arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays["train_images"][0, 0, 0] = 255  # make sure the extremes appear
    arrays["train_images"][0, 0, 1] = 0
    files = {MNIST_FILES[role]: gzip.compress(idx_bytes(a), mtime=0) for role, a in arrays.items()}
    return files, arrays


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksums_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: sha256(data) for name, data in files.items()}


class Server:
    """A local HTTP server whose routes the test sets: path -> (mode, bytes).

    Modes: "ok" serves the bytes; "truncate" announces the full length but sends half and
    hangs up; "slow" waits before answering; "endless" announces no length and sends the
    bytes again and again (for at most 20 s). Unknown paths get 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        routes, requests = self.routes, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                mode, body = routes.get(self.path, ("missing", b""))
                try:
                    if mode == "missing":
                        self.send_error(404)
                        return
                    if mode == "slow":
                        time.sleep(1.5)
                    self.send_response(200)
                    if mode == "endless":
                        self.end_headers()
                        stop = time.monotonic() + 20
                        while time.monotonic() < stop:
                            self.wfile.write(body)
                        return
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if mode == "truncate":
                        self.wfile.write(body[: len(body) // 2])
                        self.close_connection = True
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def serve(self, prefix: str, files: dict[str, bytes], mode: str = "ok") -> str:
        for name, data in files.items():
            self.routes[f"/{prefix}/{name}"] = (mode, data)
        return f"{self.url}/{prefix}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def dead_url() -> str:
    """A URL on a local port with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def cache_listing(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------- IDX parsing
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_parse_idx_reads_every_type_big_endian(dtype):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal((3, 2, 5)) * 100).astype(dtype)
    parsed = parse_idx(idx_bytes(array))
    assert parsed.shape == (3, 2, 5)
    assert parsed.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(parsed, array)


def test_parse_idx_reads_a_hand_written_file():
    # magic 0x00000801 (ubyte, 1-D), 3 items, then 7, 0, 255
    data = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 255])
    np.testing.assert_array_equal(parse_idx(data), [7, 0, 255])
    # 0x0B: int16, 1-D, 2 items, big-endian 0x0102 = 258 and 0xFFFE = -2
    data = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 1, 2, 0xFF, 0xFE])
    np.testing.assert_array_equal(parse_idx(data), [258, -2])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "not an IDX file"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "incomplete"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x05\x06", "trailing bytes"),
    ],
)
def test_parse_idx_rejects_bad_files(data, match):
    with pytest.raises(ValueError, match=match):
        parse_idx(data, name="f.idx")


@pytest.mark.parametrize("data", ["\x00\x00\x08\x01", "abcdef", [0, 0, 8, 1, 0, 0, 0, 1, 5]])
def test_parse_idx_names_data_that_is_not_bytes(data):
    """Text (a file opened without "rb") failed with "'str' object has no attribute
    'hex'", or was read as a header of code points."""
    with pytest.raises(TypeError, match=rf"data must be bytes, got {type(data).__name__} "):
        parse_idx(data, name="f.idx")
    assert parse_idx(memoryview(bytes([0, 0, 8, 1, 0, 0, 0, 1, 5]))).tolist() == [5]


@pytest.mark.parametrize("dims", [(0, 2**32 - 1, 2**32 - 1), (2**32 - 1, 0, 2**32 - 1, 9)])
def test_an_idx_header_of_no_values_but_a_size_numpy_cannot_hold_is_named(tmp_path, dims):
    """No values, so no shortfall of data: NumPy's "array is too big" came out unnamed."""
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    with pytest.raises(ValueError, match=r"^f\.idx: header says shape .* larger than NumPy"):
        parse_idx(header, name="f.idx")
    (tmp_path / "f.idx.gz").write_bytes(gzip.compress(header))
    with pytest.raises(ValueError, match=r"^f\.idx\.gz: header says shape .* larger than NumPy"):
        real._read_idx_file(tmp_path / "f.idx.gz")


# ---------------------------------------------------------------------------- MNIST
def test_load_mnist_downloads_verifies_parses_and_caches(server, tmp_path):
    files, arrays = fake_mnist()
    base = server.serve("mnist", files)
    cache = tmp_path / "cache"
    (X_train, y_train), (X_test, y_test) = load_mnist(
        cache, mirrors=[base], checksums=checksums_of(files)
    )
    assert X_train.dtype == np.float32 and X_train.shape == (12, 16)
    assert y_train.dtype == np.int64 and y_train.shape == (12,)
    assert X_test.shape == (5, 16) and y_test.shape == (5,)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    np.testing.assert_allclose(X_train, arrays["train_images"].reshape(12, 16) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert cache_listing(cache) == sorted(files)
    for name, data in files.items():
        assert (cache / name).read_bytes() == data

    # The second call reads the verified cache and touches no mirror.
    server.requests.clear()
    (again, _), _ = load_mnist(cache, mirrors=[dead_url()], checksums=checksums_of(files))
    np.testing.assert_array_equal(again, X_train)
    assert server.requests == []


def test_load_mnist_reads_file_urls(tmp_path):
    files, arrays = fake_mnist(seed=3)
    source = tmp_path / "source"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    (_, y_train), _ = load_mnist(
        tmp_path / "cache", mirrors=[source.as_uri()], checksums=checksums_of(files)
    )
    np.testing.assert_array_equal(y_train, arrays["train_labels"])


def test_mirrors_given_once_serve_all_four_files_and_non_urls_are_named(tmp_path):
    """A generator of mirrors served the first file only: the other three were then
    "from any mirror: (no mirrors given)"; a path in place of a URL failed with an
    AttributeError."""
    files, arrays = fake_mnist(seed=4)
    source = tmp_path / "source"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    mirrors = (url for url in [source.as_uri()])
    (_, y_train), (_, y_test) = load_mnist(
        tmp_path / "cache", mirrors=mirrors, checksums=checksums_of(files)
    )
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    with pytest.raises(TypeError, match=r"mirrors must hold base URLs.*Path"):
        load_mnist(tmp_path / "other", mirrors=[source], checksums=checksums_of(files))


def test_a_cache_folder_that_is_a_file_is_named_as_such(tmp_path):
    """cache_dir naming a file failed with "[Errno 17] File exists", as if a folder
    that exists were the problem."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    for cache in (data, data / "mnist"):
        with pytest.raises(NotADirectoryError, match=f"cache_dir=.*: {data} is a file, not a"):
            load_mnist(cache, mirrors=[], download=False)
    assert data.read_text() == "a,b\n"


def test_cached_files_get_the_permissions_of_any_new_file(tmp_path):
    """A cache shared by several users must stay readable by them: the files are not left
    owner-only as a temporary file is made."""
    files, _ = fake_mnist(seed=7)
    source = tmp_path / "source"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    cache = tmp_path / "cache"
    load_mnist(cache, mirrors=[source.as_uri()], checksums=checksums_of(files))
    (tmp_path / "made").write_bytes(b"")
    expected = (tmp_path / "made").stat().st_mode
    assert {(cache / name).stat().st_mode for name in files} == {expected}


def test_corrupted_file_is_rejected_and_leaves_nothing(server, tmp_path):
    files, _ = fake_mnist()
    expected = checksums_of(files)
    corrupted = dict(files)
    name = MNIST_FILES["train_images"]
    flipped = bytearray(files[name])
    flipped[len(flipped) // 2] ^= 0xFF
    corrupted[name] = bytes(flipped)
    base = server.serve("bad", corrupted)
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="checksum mismatch") as info:
        load_mnist(cache, mirrors=[base], checksums=expected)
    assert name in str(info.value)
    assert cache_listing(cache) == []  # no partial or unverified file survives


def test_truncated_transfer_is_rejected_and_leaves_nothing(server, tmp_path):
    files, _ = fake_mnist()
    base = server.serve("cut", files, mode="truncate")
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="incomplete download"):
        load_mnist(cache, mirrors=[base], checksums=checksums_of(files))
    assert cache_listing(cache) == []


def test_truncated_file_is_rejected_by_its_checksum(server, tmp_path):
    files, _ = fake_mnist()
    short = {name: data[: len(data) - 7] for name, data in files.items()}
    base = server.serve("short", short)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        load_mnist(tmp_path / "cache", mirrors=[base], checksums=checksums_of(files))
    assert cache_listing(tmp_path / "cache") == []


def test_truncated_idx_with_matching_checksum_fails_parsing(server, tmp_path):
    files, arrays = fake_mnist()
    name = MNIST_FILES["train_images"]
    raw = idx_bytes(arrays["train_images"])
    files[name] = gzip.compress(raw[:-10], mtime=0)
    base = server.serve("mnist", files)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: truncated"):
        load_mnist(tmp_path / "cache", mirrors=[base], checksums=checksums_of(files))


def test_labels_stored_as_floats_are_refused_not_truncated(tmp_path):
    files, arrays = fake_mnist(seed=6)
    labels = arrays["train_labels"].astype(np.float32) + 0.7  # 3.7 read as 3 before
    files[MNIST_FILES["train_labels"]] = gzip.compress(idx_bytes(labels), mtime=0)
    cache = tmp_path / "cache"
    cache.mkdir()
    for filename, content in files.items():
        (cache / filename).write_bytes(content)
    with pytest.raises(ValueError, match=r"MNIST train labels: expected a 1-D IDX array of "):
        load_mnist(cache, checksums=checksums_of(files), download=False)
    files[MNIST_FILES["train_labels"]] = gzip.compress(
        idx_bytes(arrays["train_labels"].astype(np.int32)), mtime=0
    )
    (cache / MNIST_FILES["train_labels"]).write_bytes(files[MNIST_FILES["train_labels"]])
    (_, y), _ = load_mnist(cache, checksums=checksums_of(files), download=False)
    np.testing.assert_array_equal(y, arrays["train_labels"])  # other integer types are fine


@pytest.mark.parametrize(
    ("role", "array", "message"),
    [
        # Labels that name no digit were returned as they were.
        (
            "train_labels",
            np.array([3, -1] + [0] * 10, np.int32),
            "expected digits 0 to 9, got -1 at index 1",
        ),
        (
            "test_labels",
            np.array([1, 2, 3, 4, 10], np.uint8),
            "expected digits 0 to 9, got 10 at index 4",
        ),
        # Images of another size than the other split's: each split's model fits only it.
        (
            "test_images",
            np.zeros((5, 3, 3), np.uint8),
            "training images are 4x4 and the test images 3x3",
        ),
    ],
)
def test_mnist_files_that_hold_no_digits_of_one_size_are_refused(tmp_path, role, array, message):
    files, _ = fake_mnist(seed=7)
    files[MNIST_FILES[role]] = gzip.compress(idx_bytes(array), mtime=0)
    cache = tmp_path / "cache"
    cache.mkdir()
    for filename, content in files.items():
        (cache / filename).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_mnist(cache, checksums=checksums_of(files), download=False)


def test_mnist_files_without_images_are_refused_by_name(tmp_path):
    """NumPy's "cannot reshape array of size 0" before."""
    files, _ = fake_mnist(seed=8)
    empty = {"train_images": np.zeros((0, 4, 4), np.uint8), "train_labels": np.zeros(0, np.uint8)}
    for role, array in empty.items():
        files[MNIST_FILES[role]] = gzip.compress(idx_bytes(array), mtime=0)
    cache = tmp_path / "cache"
    cache.mkdir()
    for filename, content in files.items():
        (cache / filename).write_bytes(content)
    with pytest.raises(ValueError, match="MNIST train: the files hold no images"):
        load_mnist(cache, checksums=checksums_of(files), download=False)


def test_a_gzip_file_is_inflated_only_as_far_as_its_idx_header_declares(tmp_path):
    """Custom checksums can vouch for any file: a small .gz that inflates far beyond what
    its header declares, or whose header declares more than gzip can hold, is refused
    after a bounded read, not inflated whole; broken deflate data is named as such."""
    import tracemalloc
    import zlib

    def deflated(header: bytes, zero_megabytes: int) -> bytes:
        stream = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip file
        start = stream.compress(header)
        body = b"".join(stream.compress(bytes(1 << 20)) for _ in range(zero_megabytes))
        return start + body + stream.flush()

    files, arrays = fake_mnist(seed=5)
    name = MNIST_FILES["train_images"]
    declared = idx_bytes(arrays["train_images"])  # 12 images of 4x4, then 64 MB of zeros
    huge = bytes([0, 0, 0x08, 3]) + (0xFFFFFFFF).to_bytes(4, "big") * 3  # 2**96 bytes
    broken = bytearray(gzip.compress(idx_bytes(np.zeros((12, 4, 4), np.uint8)), mtime=0))
    broken[10] ^= 0x55  # the first deflate block's header: an invalid block type
    cases = [
        (deflated(declared, 64), "has trailing bytes"),
        (deflated(huge, 64), r"truncated: header says shape \(4294967295, "),
        (bytes(broken), "not a readable gzip file"),
    ]
    cache = tmp_path / "cache"
    cache.mkdir()
    for data, match in cases:
        files[name] = data
        for filename, content in files.items():
            (cache / filename).write_bytes(content)
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=rf"{name}: {match}"):
                load_mnist(cache, checksums=checksums_of(files), download=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 << 20, (match, peak)  # was 128 MB: the whole 64 MB inflated, twice


@pytest.mark.parametrize("first", ["404", "dead port", "truncate", "corrupt"])
def test_falls_back_to_the_next_mirror(server, tmp_path, capsys, first):
    files, arrays = fake_mnist()
    if first == "404":
        bad = f"{server.url}/nothing-here/"
    elif first == "dead port":
        bad = dead_url()
    elif first == "truncate":
        bad = server.serve("cut", files, mode="truncate")
    else:
        bad = server.serve("corrupt", {n: d[::-1] for n, d in files.items()})
    good = server.serve("good", files)
    (_, y_train), _ = load_mnist(
        tmp_path / "cache", mirrors=[bad, good], checksums=checksums_of(files), verbose=True
    )
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    assert cache_listing(tmp_path / "cache") == sorted(files)
    err = capsys.readouterr().err
    assert err.count("failed:") == 4  # each of the four files failed once on the first mirror
    assert "100.0%" in err  # progress reached the end on the good mirror


def test_a_silent_mirror_times_out_and_the_next_one_serves(server, tmp_path):
    files, _ = fake_mnist()
    slow = server.serve("slow", {MNIST_FILES["train_images"]: files[MNIST_FILES["train_images"]]})
    slow_only_first = {n: d for n, d in files.items() if n != MNIST_FILES["train_images"]}
    server.serve("slow", slow_only_first)  # the other files answer at once
    server.routes[f"/slow/{MNIST_FILES['train_images']}"] = (
        "slow",
        files[MNIST_FILES["train_images"]],
    )
    good = server.serve("good", files)
    start = time.perf_counter()
    load_mnist(tmp_path / "cache", mirrors=[slow, good], checksums=checksums_of(files), timeout=0.3)
    assert time.perf_counter() - start < 1.4  # did not wait for the slow answer
    assert f"/good/{MNIST_FILES['train_images']}" in server.requests


def test_all_mirrors_failing_names_each_failure(server, tmp_path):
    files, _ = fake_mnist()
    first, second = f"{server.url}/a/", dead_url()
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path / "cache", mirrors=[first, second], checksums=checksums_of(files))
    message = str(info.value)
    assert "from any mirror" in message
    assert f"{first}train-images-idx3-ubyte.gz: HTTP Error 404" in message
    assert second in message
    assert cache_listing(tmp_path / "cache") == []


def test_an_interrupted_download_leaves_no_file(server, tmp_path, monkeypatch):
    files, _ = fake_mnist(n_train=4000)  # large enough to arrive in several chunks
    base = server.serve("mnist", files)
    calls = []

    def interrupt(name, received, total, done=False):
        calls.append(received)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(real, "_report", interrupt)
    monkeypatch.setattr(real, "_CHUNK_BYTES", 1024)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        load_mnist(cache, mirrors=[base], checksums=checksums_of(files), verbose=True)
    assert 0 < calls[-1] < len(files[MNIST_FILES["train_images"]])
    assert cache_listing(cache) == []


@pytest.mark.parametrize("mode", ["ok", "endless"])
def test_an_answer_larger_than_any_of_the_files_stops_the_download(
    server, tmp_path, monkeypatch, mode
):
    """A mirror that announced a huge length, or sent bytes without end, filled the disk:
    the download stopped only on a read timeout, which a steady stream never meets."""
    files, _ = fake_mnist()
    limit = len(files[MNIST_FILES["train_images"]]) - 1
    monkeypatch.setattr(real, "_DOWNLOAD_LIMIT", limit)
    base = server.serve("mnist", files, mode=mode)
    cache = tmp_path / "cache"
    started = time.monotonic()
    with pytest.raises(DownloadError, match=rf"more than one of these files can hold \({limit}"):
        load_mnist(cache, mirrors=[base], checksums=checksums_of(files))
    assert time.monotonic() - started < 10
    assert cache_listing(cache) == []


def test_a_damaged_cached_file_is_fetched_again(server, tmp_path):
    files, arrays = fake_mnist()
    cache = tmp_path / "cache"
    cache.mkdir()
    name = MNIST_FILES["train_images"]  # the first one read
    (cache / name).write_bytes(b"not the file")
    with pytest.raises(DownloadError, match="does not match"):
        load_mnist(cache, mirrors=[], checksums=checksums_of(files), download=False)
    base = server.serve("mnist", files)
    (X_train, _), _ = load_mnist(cache, mirrors=[base], checksums=checksums_of(files))
    np.testing.assert_allclose(X_train * 255, arrays["train_images"].reshape(12, 16), rtol=1e-6)
    assert (cache / name).read_bytes() == files[name]


def test_a_whole_idx_file_of_other_data_in_the_cache_is_not_replaced(server, tmp_path):
    """Fashion-MNIST's files have MNIST's names: a cache_dir holding them had all four
    replaced by MNIST without a word. A download is renamed into place only once its
    digest matches, so a whole IDX file with another digest came from elsewhere."""
    files, _ = fake_mnist()
    other, _ = fake_mnist(seed=1)
    cache = tmp_path / "fashion"
    cache.mkdir()
    for name, data in other.items():
        (cache / name).write_bytes(data)
    base = server.serve("mnist", files)
    with pytest.raises(DownloadError, match=r"holds a whole IDX file .* left as it is"):
        load_mnist(cache, mirrors=[base], checksums=checksums_of(files))
    assert all((cache / name).read_bytes() == data for name, data in other.items())
    assert server.requests == []


def test_download_false_needs_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_mnist(tmp_path, mirrors=[], download=False)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="mirrors"):
        load_mnist(tmp_path, mirrors="http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="checksums has no sha256"):
        load_mnist(tmp_path, checksums={})


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf")])
def test_a_timeout_that_no_connection_can_use_is_named_before_any_download(tmp_path, timeout):
    """0 made every socket non-blocking (each mirror failed with "Operation now in
    progress"), a negative or NaN timeout failed each mirror with the socket's own words,
    and infinity crashed with an OverflowError from deep in the download."""
    with pytest.raises(ValueError, match=r"timeout must be a finite number > 0, got"):
        load_mnist(tmp_path / "cache", mirrors=["http://127.0.0.1:1/"], timeout=timeout)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("flag", ["download", "verbose"])
def test_a_flag_given_as_text_is_refused_not_read_as_its_truth_value(tmp_path, flag):
    """download="no" is a true string: it downloaded where the caller said not to."""
    files, _ = fake_mnist()
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    options = {flag: "no"}
    with pytest.raises(TypeError, match=f"{flag} must be True or False, got str 'no'"):
        load_mnist(
            tmp_path / "cache", mirrors=[folder.as_uri()], checksums=checksums_of(files), **options
        )
    assert cache_listing(tmp_path / "cache") == []


@pytest.mark.parametrize("digest", [None, "d41d8cd98f00b204e9800998ecf8427e", "z" * 64])
def test_a_checksum_that_is_no_sha256_digest_is_named_before_any_download(tmp_path, digest):
    """None crashed with "'NoneType' object has no attribute 'lower'"; an MD5 digest or
    other text that can never match was found out only after every mirror's download."""
    files, _ = fake_mnist()
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    checksums = checksums_of(files) | {MNIST_FILES["test_labels"]: digest}
    expected = f"checksums: the sha256 of {MNIST_FILES['test_labels']} must be 64 hex digits"
    with pytest.raises(ValueError, match=expected):
        load_mnist(tmp_path / "cache", mirrors=[folder.as_uri()], checksums=checksums)
    assert cache_listing(tmp_path / "cache") == []


def test_the_published_digests_are_checked_by_default(server, tmp_path):
    files, _ = fake_mnist()
    base = server.serve("mnist", files)
    with pytest.raises(DownloadError, match="checksum mismatch") as info:
        load_mnist(tmp_path / "cache", mirrors=[base])
    assert MNIST_SHA256[MNIST_FILES["train_images"]] in str(info.value)
    assert cache_listing(tmp_path / "cache") == []


def test_default_table_lists_the_four_files_with_sha256_digests():
    assert set(MNIST_SHA256) == set(MNIST_FILES.values())
    for digest in MNIST_SHA256.values():
        assert len(digest) == 64 and int(digest, 16) >= 0


# ---------------------------------------------------------------------------- digits
def test_load_digits_matches_the_known_data_set():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    # The UCI optical digits test set: 1797 images, these counts per digit.
    counts = np.bincount(y)
    np.testing.assert_array_equal(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # Pixel values were 0..16 integers: scaled by 1/16 exactly.
    np.testing.assert_array_equal(X * 16, np.round(X * 16))


def test_load_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'mlpzero\[sklearn\]'"):
        load_digits()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_in_the_cache_is_refused_not_read(tmp_path):
    files, _ = fake_mnist(seed=4)
    cache = tmp_path / "cache"
    cache.mkdir()
    os.mkfifo(cache / MNIST_FILES["train_images"])  # reading it would block forever
    outcome = {}

    def load():
        try:
            load_mnist(cache, mirrors=[dead_url()], checksums=checksums_of(files))
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=load, daemon=True)  # a regression hangs, not the suite
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "load_mnist blocked on a FIFO in its cache"
    assert isinstance(outcome.get("error"), ValueError)
    assert "not a regular file" in str(outcome["error"])


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_file_url_that_is_no_regular_file_is_refused_not_read(tmp_path, capsys, kind):
    """A FIFO named like an MNIST file in a file:// mirror blocked the download forever (no
    timeout applies to a local file), and a device (through a link so named) was copied
    into the cache until the disk was full; the next mirror is now tried."""
    files, arrays = fake_mnist(seed=5)
    broken, good = tmp_path / "broken", tmp_path / "good"
    for folder in (broken, good):
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
    special = broken / MNIST_FILES["train_images"]
    special.unlink()
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to(os.devnull.replace("null", "zero"))  # announces 0 bytes, never ends
    outcome = {}

    def load():
        mirrors = [broken.as_uri(), good.as_uri()]
        try:
            outcome["data"] = load_mnist(
                tmp_path / "cache", mirrors=mirrors, checksums=checksums_of(files), verbose=True
            )
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=load, daemon=True)  # a regression hangs, not the suite
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), f"load_mnist still reading a {kind} named by a file URL"
    (X_train, _), _ = outcome["data"]
    np.testing.assert_array_equal(
        X_train, arrays["train_images"].reshape(len(X_train), -1) / np.float32(255)
    )
    assert f"failed: {special} is not a regular file" in capsys.readouterr().err
    assert cache_listing(tmp_path / "cache") == sorted(files)
