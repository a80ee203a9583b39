"""Arrays on disk: a NumPy ``.npz`` archive, and a data directory of ``.npy`` files.

A data directory ``DIR`` holds ``X.npy`` (numeric, ``(n_samples, n_features)``), ``y.npy``
(one entry per row; absent for features only) and optionally ``columns.json`` (a JSON list
of the feature names). It is the format for data larger than memory:
:func:`load_npy_dir` opens the arrays memory-mapped after checking their headers, and
``mlpzero convert`` writes it from a CSV file. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from tokenize import TokenError
from typing import IO

import numpy as np

from ..io import npy_shape_problem, zip_entries_at_most
from .csv_reader import existing_file

__all__ = ["NpyWriter", "load_npy_dir", "load_npz"]

#: Rows checked at a time for NaN and infinity in a memory-mapped array.
_SCAN_BYTES = 1 << 23
#: The most bytes deflate (zip's and gzip's compression) makes of one compressed byte.
DEFLATE_RATIO = 1032
#: The zip compressions that have no such bound: a few bytes may inflate to gigabytes.
_UNBOUNDED = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
#: The most arrays a data archive may list: the zip directory is read whole, an object
#: per entry, before any is read (many tiny entries take far more memory than their file).
_MAX_ARRAYS = 1024
#: What reading a damaged zip archive raises: zipfile's and zlib's errors, and for a
#: compression or zip version zipfile does not know NotImplementedError, for an encrypted
#: member RuntimeError.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def load_npz(
    path: str | os.PathLike[str],
    *,
    x_key: str = "X",
    y_key: str = "y",
    features_only: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read ``X`` and ``y`` from a ``.npz`` archive (as written by :func:`numpy.savez`).

    The archive is opened with ``allow_pickle=False``: it can hold only plain numeric or
    string arrays, never code. Its arrays must be stored or deflated, as NumPy writes
    them: a bzip2 or LZMA member could inflate to any size, and is refused. ``X`` must be
    numeric and 2-D; ``y`` must have one entry per row of ``X``; neither may hold NaN or
    infinity. Returns ``X`` as float64 and ``y`` unchanged; with ``features_only`` only
    ``X`` is read and ``y`` is None.
    """
    file = existing_file(path)
    keys_wanted = (x_key,) if features_only else (x_key, y_key)
    with open_npz(file) as archive:
        keys = list(archive.files)
        missing = [key for key in keys_wanted if key not in keys]
        if missing:
            raise ValueError(f"{file.name}: no array named {missing[0]!r}; it holds {keys}")
        try:
            objects = [_check_member(archive, file.name, key) for key in keys_wanted]
            try:
                X = archive[x_key]
                y = None if features_only else archive[y_key]
            except ValueError as error:
                if not any(objects):  # a member shorter than its zip entry says
                    raise ValueError(
                        f"{file.name} is not a readable .npz archive: {error}"
                    ) from None
                raise ValueError(  # object arrays need pickle, which is refused
                    f"{file.name}: cannot read {'/'.join(map(repr, keys_wanted))} without "
                    f"pickle ({error}); save plain numeric or string arrays"
                ) from None
        except _ZIP_ERRORS as error:  # damaged data
            raise ValueError(f"{file.name} is not a readable .npz archive: {error}") from None
    _check_shapes(file.name, X, y, x_key, y_key)
    for key, array in ((x_key, X), (y_key, y)):
        if array is not None:
            _check_finite(file.name, key, array)
    return X.astype(np.float64, copy=False), y


def open_npz(file: Path) -> np.lib.npyio.NpzFile:
    """``file`` opened as an ``.npz`` archive without pickle, or a :class:`ValueError`
    naming it: it must be a zip archive (of ``.npy`` arrays, as :func:`numpy.savez` writes)."""
    if not zipfile.is_zipfile(file):
        raise ValueError(
            f"{file.name} is not an .npz archive (a zip file of .npy arrays, as numpy.savez "
            "writes; a single array saved with numpy.save is not one)"
        )
    # Opened here and closed on every error: NumPy leaves open a file it opened itself
    # when the archive's directory cannot be read.
    handle = file.open("rb")
    try:
        if not zip_entries_at_most(handle, os.fstat(handle.fileno()).st_size, _MAX_ARRAYS):
            raise ValueError(
                f"it lists more than {_MAX_ARRAYS} arrays, which NumPy would each describe "
                "in memory before reading one; save X and y in an archive of their own"
            )
        magic = np.lib.format.MAGIC_PREFIX
        single = handle.read(len(magic)) == magic
        handle.seek(0)
        archive = None if single else np.lib.npyio.NpzFile(handle, own_fid=True, allow_pickle=False)
    except (*_ZIP_ERRORS, ValueError) as error:
        handle.close()
        raise ValueError(f"{file.name} is not a readable .npz archive: {error}") from None
    if archive is None:
        handle.close()
        raise ValueError(f"{file.name} holds a single array, not an .npz archive with X and y")
    return archive


def _check_member(archive: np.lib.npyio.NpzFile, where: str, key: str) -> bool:
    """Refuse the array ``key`` of ``archive`` if it is no ``.npy`` file, or if its header
    declares more data than the archive holds for it: NumPy would allocate all of it
    before finding the shortfall. Returns whether it holds Python objects (left to the
    reading, which refuses them without pickle)."""
    names = archive.zip.namelist()
    member = key if key in names else f"{key}.npy"  # the member NpzFile reads for key
    info = archive.zip.getinfo(member)
    where = f"{where}, array {key!r}"
    held = info.file_size  # as the archive states it: no more than its data can make
    if info.compress_type == zipfile.ZIP_STORED:
        held = min(held, info.compress_size)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        held = min(held, DEFLATE_RATIO * info.compress_size)
    elif info.compress_type in _UNBOUNDED:
        raise ValueError(
            f"{where}: compressed with {_UNBOUNDED[info.compress_type]}, whose output the "
            "archive's size does not bound; save the arrays with numpy.savez or "
            "numpy.savez_compressed"
        )
    with archive.zip.open(member) as handle:
        shape, dtype, offset = _npy_header(handle, where)
    if dtype.hasobject:
        return True  # refused by the reading, which needs pickle
    needed = offset + math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
    if held < needed:
        raise ValueError(
            f"{where}: the header declares shape {shape} of {dtype} ({needed} bytes with "
            f"the header), but the archive holds {'' if held == info.file_size else 'at most '}"
            f"{held} bytes for it"
        )
    return False


def _check_shapes(where: str, X: np.ndarray, y: np.ndarray | None, x_key: str, y_key: str) -> None:
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{where}: {x_key!r} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{where}: {x_key!r} must be 2-D (n_samples, n_features), got shape {X.shape}"
        )
    if y is None:
        return
    if y.dtype.kind not in "biufUS":
        raise ValueError(f"{where}: {y_key!r} must hold numbers or strings, got dtype {y.dtype}")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{where}: {y_key!r} must have one entry per row of {x_key!r} "
            f"({X.shape[0]}), got shape {y.shape}"
        )


def _check_finite(where: str, key: str, array: np.ndarray) -> None:
    """Refuse NaN and infinity, scanning a few MB of rows at a time."""
    if array.dtype.kind not in "fc" or array.size == 0:
        return
    step = max(1, _SCAN_BYTES // max(1, array[:1].nbytes))
    for start in range(0, len(array), step):
        block = np.asarray(array[start : start + step])
        if not np.isfinite(block).all():
            where_in = np.argwhere(~np.isfinite(block))[0]
            index = (int(where_in[0]) + start, *(int(i) for i in where_in[1:]))
            raise ValueError(
                f"{where}: {key!r} holds a value that is not finite, "
                f"{block[tuple(where_in)]!s} at index {index}"
            )


def _npy_header(handle: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape, dtype and header size (bytes) of the ``.npy`` file open in ``handle``."""
    try:
        version = np.lib.format.read_magic(handle)
        if version not in ((1, 0), (2, 0), (3, 0)):  # NumPy reads no other
            raise ValueError(
                f"format version {version[0]}.{version[1]}; NumPy writes 1.0, 2.0 and 3.0"
            )
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    except (ValueError, SyntaxError, TokenError) as error:  # the last two from a fallback
        raise ValueError(f"{where}: not a valid .npy file ({error})") from None
    problem = npy_shape_problem(shape)
    if problem is not None:
        raise ValueError(
            f"{where}: not a valid .npy file (the header declares shape {shape}, {problem})"
        )
    # Checked whatever the data: a shape with a 0 in it declares no bytes at all, and
    # NumPy refuses it still, unnamed, when the other sizes overflow its index type.
    if math.prod(size or 1 for size in shape) * max(dtype.itemsize, 1) > np.iinfo(np.intp).max:
        raise ValueError(
            f"{where}: not a valid .npy file (the header declares shape {shape} of {dtype}, "
            "larger than NumPy can hold)"
        )
    return shape, dtype, handle.tell()


def _open_npy(path: Path, where: str) -> np.ndarray:
    """A ``.npy`` file memory-mapped, after its header has been read and checked."""
    with path.open("rb") as handle:
        shape, dtype, offset = _npy_header(handle, where)
    if dtype.hasobject:
        raise ValueError(f"{where}: holds Python objects (dtype {dtype}); they are never loaded")
    needed = offset + math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
    size = path.stat().st_size
    if size < needed:
        raise ValueError(
            f"{where}: the header declares shape {shape} of {dtype} ({needed} bytes with "
            f"the header), but the file has {size} bytes"
        )
    if math.prod(shape) == 0:  # nothing to map
        empty = np.zeros(shape, dtype=dtype)
        empty.flags.writeable = False  # as a mapped array is
        return empty
    return np.load(path, mmap_mode="r", allow_pickle=False)


def load_npy_dir(
    path: str | os.PathLike[str], *, features_only: bool = False, scan: bool = True
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Open a data directory memory-mapped: ``X``, ``y`` and the feature names.

    ``path/X.npy`` must be numeric and 2-D, ``path/y.npy`` (not read with
    ``features_only``; then None) must hold numbers or strings, one entry per row of ``X``
    (1-D, or 2-D for several outputs such as a multi-label 0/1 matrix), and
    ``path/columns.json``, when present, a list of ``n_features`` distinct names (else the
    names are None). Each header is checked before the data is mapped, and floating-point
    arrays are scanned for NaN and infinity a few MB at a time: the arrays are never read
    into memory whole. They are returned read-only, as stored (``X`` is not converted).
    ``scan=False`` leaves the scan to the caller: a distributed fit, whose ranks each scan
    a share of the rows, so that no rank reads the whole file.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> np.save(f"{folder}/X.npy", np.eye(3, dtype=np.float32))
    >>> np.save(f"{folder}/y.npy", np.array([0, 1, 1]))
    >>> X, y, names = load_npy_dir(folder)
    >>> type(X).__name__, X.dtype, y.tolist(), names
    ('memmap', dtype('float32'), [0, 1, 1], None)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a folder path, got {type(path).__name__} {path!r}")
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(2, "No such file or directory", str(folder))
    if not folder.is_dir():
        raise ValueError(f"path must be a data folder (X.npy, y.npy), got the file {str(folder)!r}")
    name = folder.name or str(folder)
    wanted = ["X.npy"] if features_only else ["X.npy", "y.npy"]
    missing = [file for file in wanted if not (folder / file).is_file()]
    if missing:
        if (folder / missing[0]).exists():  # a FIFO or a device would block the read
            raise ValueError(f"{name}/{missing[0]} must be a regular file")
        held = sorted(entry.name for entry in folder.iterdir())
        raise ValueError(f"{name}: no {missing[0]} in the folder; it holds {held}")
    X = _open_npy(folder / "X.npy", f"{name}/X.npy")
    y = None if features_only else _open_npy(folder / "y.npy", f"{name}/y.npy")
    _check_shapes(name, X, y, "X.npy", "y.npy")
    if scan:
        _check_finite(name, "X.npy", X)
        if y is not None:
            _check_finite(name, "y.npy", y)
    return X, y, _column_names(folder / "columns.json", name, X.shape[1])


def _column_names(path: Path, where: str, n_features: int) -> list[str] | None:
    if not path.exists():
        return None
    if not path.is_file():  # a FIFO would block the read forever
        raise ValueError(f"{where}/columns.json must be a regular file")
    if path.stat().st_size > 1 << 24:
        raise ValueError(f"{where}/columns.json is larger than 16 MB; expected a list of names")
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:  # a UnicodeDecodeError is a ValueError
        raise ValueError(f"{where}/columns.json is not valid JSON: {error}") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"{where}/columns.json must hold a list of feature names, got {str(names)[:80]}"
        )
    if len(names) != n_features:
        raise ValueError(
            f"{where}/columns.json names {len(names)} features, but X.npy has {n_features}"
        )
    seen: set[str] = set()
    for name_ in names:  # one pass: a count per name would take time quadratic in them
        if name_ in seen:
            raise ValueError(f"{where}/columns.json names the feature {name_!r} twice")
        seen.add(name_)
    return names


class NpyWriter:
    """Write a ``.npy`` file a block of rows at a time, its row count unknown until the end.

    The header is written first with room for any row count and rewritten with the real
    shape by :meth:`close` (the format allows spaces before its closing newline), so the
    data is written once and never held in memory.
    """

    def __init__(self, path: str | os.PathLike[str], dtype: np.dtype, row_shape: tuple = ()):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.rows = 0
        self._size = len(self._header(10**20))
        self._handle: IO[bytes] = self.path.open("wb")
        self._handle.write(self._header(0))

    def _header(self, rows: int) -> bytes:
        fields = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (rows, *self.row_shape),
        }
        text = repr(fields).encode("latin1")
        size = getattr(self, "_size", None)
        if size is None:  # the reserved size: a multiple of 64 bytes, magic included
            size = -(-(10 + len(text) + 1) // 64) * 64
        padding = size - 10 - len(text) - 1
        return (
            np.lib.format.magic(1, 0)
            + (size - 10).to_bytes(2, "little")
            + text
            + b" " * padding
            + b"\n"
        )

    def write(self, block: np.ndarray) -> None:
        """Append rows (shape ``(k, *row_shape)``), cast to the file's dtype."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        self._handle.write(block.tobytes())
        self.rows += len(block)

    def close(self) -> None:
        """Write the final shape into the header and close the file (once)."""
        if self._handle.closed:
            return
        self._handle.seek(0)
        self._handle.write(self._header(self.rows))
        self._handle.close()
