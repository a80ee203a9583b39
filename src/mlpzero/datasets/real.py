"""Real data sets: the 8x8 digits that scikit-learn ships, and MNIST.

:func:`load_digits` reads the 1797 small digit images bundled inside scikit-learn (no
network access). :func:`load_mnist` downloads the four MNIST files once into a cache
folder and reads them from there afterwards.

The MNIST download is careful about what ends up on disk:

- each file is streamed into a temporary file *inside* the cache folder while its
  SHA-256 is computed; only when the digest matches the expected one is the file moved
  into place with :func:`os.replace` (atomic on one file system), so an interrupted or
  corrupted download never leaves a file that looks complete;
- when a mirror fails (unreachable, HTTP error, short read, wrong checksum, a ``file://``
  URL of a FIFO or device) the next mirror is tried, and the error names every mirror's
  failure;
- a cached file is checked against its digest again before use; one that does not match
  is fetched again when it is damaged, and refused, left as it is, when it is a whole IDX
  file (another data set under the same names, such as Fashion-MNIST's).

The files are in the IDX format, parsed here by :func:`parse_idx`: a 4-byte magic number
(two zero bytes, a type code, the number of dimensions), one big-endian ``uint32`` per
dimension, then the values in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import reprlib
import secrets
import string
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import make_folder
from ..validation import check_flag, check_positive
from .arrays import DEFLATE_RATIO

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "DownloadError",
    "load_digits",
    "load_mnist",
    "parse_idx",
]

#: The four MNIST files by role.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: SHA-256 of the published gzip files (9,912,422 / 28,881 / 1,648,877 / 4,542 bytes).
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}

#: Base URLs tried in order; each holds the four files under their usual names.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_CHUNK_BYTES = 1 << 16
_HEX = set(string.hexdigits)

#: The most bytes one download may bring, far more than any of the four files holds
#: (60,000 images of 28 x 28, unpacked, take 47 MB): an answer that never ends, or
#: announces more, stops with an error instead of filling the disk.
_DOWNLOAD_LIMIT = 1 << 28

# IDX type code -> NumPy big-endian dtype
_IDX_TYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


class DownloadError(OSError):
    """No mirror delivered a file with the expected checksum."""


# ---------------------------------------------------------------------------- digits
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits bundled with scikit-learn (read from disk, no download).

    Returns ``X`` of shape ``(1797, 64)``, float32 pixel intensities scaled from ``0..16``
    to ``[0, 1]`` (each row is an 8x8 image, row-major), and ``y`` of shape ``(1797,)``,
    int64 digits ``0..9``.

    Raises :class:`ModuleNotFoundError` when scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits as _sklearn_digits
    except ImportError as error:
        raise ModuleNotFoundError(
            "load_digits() reads the digits that ship with scikit-learn, which is not "
            "installed; install it with: pip install 'mlpzero[sklearn]'",
            name="sklearn",
        ) from error
    bunch = _sklearn_digits()
    X = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y


# ---------------------------------------------------------------------------- IDX
def parse_idx(data: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array in native byte order.

    ``name`` is used in error messages. Raises :class:`ValueError` on a bad magic number,
    an unknown type code, or a payload that is shorter or longer than the header says,
    and :class:`TypeError` when ``data`` is not bytes (``bytearray`` and ``memoryview``
    are bytes too).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"data must be bytes, got {type(data).__name__} {reprlib.repr(data)} (read the "
            "file in binary mode)"
        )
    shape, dtype, header = _idx_header(data, name)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
    payload = len(data) - header
    if payload != expected:
        problem = "truncated" if payload < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: {problem}: header says shape {shape} ({expected} bytes of data), "
            f"found {payload} bytes"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _idx_header(data: bytes, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape, dtype and header size (bytes) of the IDX file that ``data`` begins."""
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_TYPES:
        raise ValueError(
            f"{name}: not an IDX file (magic number {data[:4].hex()}; expected 0000 then a "
            f"type code in {sorted(f'{t:02x}' for t in _IDX_TYPES)} and the dimension count)"
        )
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{name}: IDX header for {ndim} dimensions is incomplete")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[type_code])
    # A shape with a 0 in it declares no data (any other is refused as truncated), yet
    # NumPy refuses it when the other sizes overflow its index type.
    span = math.prod(size or 1 for size in shape) * dtype.itemsize
    if 0 in shape and span > np.iinfo(np.intp).max:
        raise ValueError(f"{name}: header says shape {shape}, larger than NumPy can hold")
    return shape, dtype, header


def _require_file(path: Path) -> None:
    """A FIFO or a device in the cache would block or never end a read: refuse it."""
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} is not a regular file; remove it and load the data again")


def _read_idx_file(path: Path) -> np.ndarray:
    _require_file(path)
    if path.suffix == ".gz":
        return parse_idx(_inflate_idx(path), name=path.name)
    return parse_idx(path.read_bytes(), name=path.name)


def _whole_idx(path: Path) -> bool:
    """Whether ``path`` holds a complete, readable IDX file (not a damaged one)."""
    try:
        _read_idx_file(path)
    except ValueError:
        return False
    return True


def _inflate_idx(path: Path) -> bytearray:
    """The IDX file compressed in the gzip file ``path``, inflated no further than its header
    declares: a small file that would inflate to gigabytes is refused after a bounded read.
    """
    try:
        with gzip.open(path, "rb") as stream:
            data = bytearray(stream.read(4))
            if len(data) == 4:
                data += stream.read(4 * data[3])
            shape, dtype, header = _idx_header(data, path.name)
            size = header + math.prod(shape) * dtype.itemsize
            compressed = path.stat().st_size
            if size > DEFLATE_RATIO * compressed:
                raise ValueError(
                    f"{path.name}: truncated: header says shape {shape} ({size - header} bytes "
                    f"of data), more than its {compressed} compressed bytes can hold"
                )
            while len(data) <= size:  # one byte more than declared shows trailing data
                chunk = stream.read(min(_CHUNK_BYTES, size + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path.name}: not a readable gzip file ({error})") from None
    if len(data) > size:
        raise ValueError(
            f"{path.name}: has trailing bytes: header says shape {shape} ({size - header} "
            f"bytes of data), found more"
        )
    return data


# ---------------------------------------------------------------------------- download
def _sha256_of(path: Path) -> str:
    _require_file(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _report(name: str, received: int, total: int | None, done: bool = False) -> None:
    """Progress line on stderr, rewritten in place."""
    if total:
        line = f"{name}: {received / total:6.1%} of {total / 1e6:.1f} MB"
    else:
        line = f"{name}: {received / 1e6:.1f} MB"
    print(f"\r{line}", end="\n" if done else "", file=sys.stderr, flush=True)


def _download(url: str, target: Path, sha256: str, *, timeout: float, verbose: bool) -> None:
    """Stream ``url`` into ``target`` via a temporary file in the same folder.

    The temporary file is removed on any failure (including KeyboardInterrupt); ``target``
    appears, atomically, only when the received bytes have the expected digest.
    """
    _require_file_source(url)
    # A name no other download uses, opened as any new file is: a cache shared by several
    # users stays readable, where mkstemp would make the file its owner's only.
    temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
    out = temp.open("xb")
    try:
        digest = hashlib.sha256()
        received = 0
        with out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > _DOWNLOAD_LIMIT:
                raise DownloadError(_too_large(f"announces {total} bytes"))
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if received > _DOWNLOAD_LIMIT:
                    raise DownloadError(_too_large(f"sent more than {_DOWNLOAD_LIMIT} bytes"))
                if verbose:
                    _report(target.name, received, total)
            out.flush()
            os.fsync(out.fileno())
        if verbose:
            _report(target.name, received, total, done=True)
        if total is not None and received != total:
            raise DownloadError(f"incomplete download: got {received} of {total} bytes")
        actual = digest.hexdigest()
        if actual != sha256:
            raise DownloadError(f"checksum mismatch: expected sha256 {sha256}, got {actual}")
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _too_large(what: str) -> str:
    return (
        f"the answer {what}, more than one of these files can hold ({_DOWNLOAD_LIMIT} "
        "bytes at most): not the file asked for"
    )


def _require_file_source(url: str) -> None:
    """A ``file://`` URL must name a regular file: no timeout applies to a local file, and
    a FIFO would block the download forever, a device (``/dev/zero``) never end it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "file":
        return
    path = Path(urllib.request.url2pathname(parts.path))
    if path.exists() and not path.is_file():
        raise DownloadError(f"{path} is not a regular file")


def _fetch(
    filename: str,
    folder: Path,
    sha256: str,
    mirrors: Sequence[str],
    *,
    download: bool,
    timeout: float,
    verbose: bool,
) -> Path:
    """Path of a verified copy of ``filename`` in ``folder``, downloading it if needed."""
    target = folder / filename
    if target.exists():
        if _sha256_of(target) == sha256:
            return target
        if not download:
            raise DownloadError(
                f"cached {target} does not match its sha256 {sha256}; delete it or pass "
                "download=True to fetch it again"
            )
        if _whole_idx(target):  # a download is renamed into place only once it matches
            raise DownloadError(
                f"cache_dir holds a whole IDX file {target} whose sha256 is not {sha256}: "
                "another data set under MNIST's file names (Fashion-MNIST?), which is left "
                "as it is; give another cache_dir, or delete the file to download MNIST"
            )
        if verbose:
            print(f"{target} does not match its checksum: fetching it again", file=sys.stderr)
    elif not download:
        raise FileNotFoundError(f"{target} is not in the cache and download=False")
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        if verbose:
            print(f"downloading {url}", file=sys.stderr)
        try:
            _download(url, target, sha256, timeout=timeout, verbose=verbose)
        except (OSError, ValueError, http.client.HTTPException) as error:
            # URLError, HTTPError, timeouts and DownloadError are OSError; HTTPException
            # covers a broken HTTP stream, ValueError a malformed mirror URL.
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # release the response it carries
            failures.append(f"  {url}: {error}")
            if verbose:
                print(f"  failed: {error}", file=sys.stderr)
            continue
        return target
    listing = "\n".join(failures) if failures else "  (no mirrors given)"
    raise DownloadError(f"could not download {filename} from any mirror:\n{listing}")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlpzero" / "mnist"


def load_mnist(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_SHA256,
    download: bool = True,
    timeout: float = 30.0,
    verbose: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(X_train, y_train), (X_test, y_test)``.

    ``X`` is float32 of shape ``(n, 784)`` (each row a 28x28 image, row-major) with values
    in ``[0, 1]``; ``y`` is int64 of shape ``(n,)``. The standard split is 60,000 training
    and 10,000 test images.

    Parameters
    ----------
    cache_dir:
        Folder for the four ``.gz`` files; by default ``$XDG_CACHE_HOME/mlpzero/mnist``
        (``~/.cache/mlpzero/mnist``). Created if missing.
    mirrors:
        Base URLs tried in order (``http(s)://`` or ``file://``).
    checksums:
        Expected SHA-256 per file name; the published digests by default.
    download:
        ``False`` only reads the cache and fails if a file is missing.
    timeout:
        Seconds to wait on a silent connection before trying the next mirror (a finite
        number > 0).
    verbose:
        Print download progress to stderr.
    """
    if isinstance(mirrors, str):
        raise TypeError(f"mirrors must be a sequence of base URLs, got the string {mirrors!r}")
    mirrors = tuple(mirrors)  # each of the four files tries them all: an iterator would not
    for mirror in mirrors:
        if not isinstance(mirror, str):
            raise TypeError(
                f"mirrors must hold base URLs (strings such as a folder's Path.as_uri()), got "
                f"{type(mirror).__name__} {mirror!r}"
            )
    # 0 would make each socket non-blocking, infinity overflow the socket's clock.
    timeout = check_positive("timeout", timeout)
    download, verbose = check_flag("download", download), check_flag("verbose", verbose)
    missing = [name for name in MNIST_FILES.values() if name not in checksums]
    if missing:
        raise ValueError(f"checksums has no sha256 for {missing}")
    digests = {}
    for name in MNIST_FILES.values():  # a digest no file can have fails every mirror
        digest = checksums[name]
        if not (isinstance(digest, str) and len(digest) == 64 and set(digest) <= _HEX):
            raise ValueError(
                f"checksums: the sha256 of {name} must be 64 hex digits, got "
                f"{type(digest).__name__} {digest!r}"
            )
        digests[name] = digest.lower()
    folder = Path(cache_dir) if cache_dir is not None else _default_cache()
    make_folder(folder, f"cache_dir={str(folder)!r}")
    arrays = {}
    for role, filename in MNIST_FILES.items():
        path = _fetch(
            filename,
            folder,
            digests[filename],
            mirrors,
            download=download,
            timeout=timeout,
            verbose=verbose,
        )
        arrays[role] = _read_idx_file(path)
    train = _images_and_labels(arrays["train_images"], arrays["train_labels"], "train")
    test = _images_and_labels(arrays["test_images"], arrays["test_labels"], "test")
    shapes = arrays["train_images"].shape[1:], arrays["test_images"].shape[1:]
    if shapes[0] != shapes[1]:  # else a model of one split cannot read the other
        raise ValueError(
            f"MNIST: the training images are {shapes[0][0]}x{shapes[0][1]} and the test "
            f"images {shapes[1][0]}x{shapes[1][1]}; both splits need images of one size"
        )
    return train, test


def _images_and_labels(images: np.ndarray, labels: np.ndarray, split: str) -> Any:
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"MNIST {split} images: expected a 3-D uint8 IDX array, got {images.dtype} "
            f"of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":  # float labels would truncate
        raise ValueError(
            f"MNIST {split} labels: expected a 1-D IDX array of integers, got {labels.dtype} "
            f"of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise ValueError(f"MNIST {split}: the files hold no images")
    outside = np.flatnonzero((labels < 0) | (labels > 9))
    if outside.size:  # each label names the digit an image shows
        first = int(outside[0])
        raise ValueError(
            f"MNIST {split} labels: expected digits 0 to 9, got {labels[first]} at index {first}"
        )
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return X, labels.astype(np.int64)
