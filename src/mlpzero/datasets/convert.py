"""Convert a CSV file into a data directory (``X.npy``, ``y.npy``, ``columns.json``).

The CSV is read by the same parser as :func:`~mlpzero.datasets.load_csv`, a chunk at a
time, and each chunk is appended to the ``.npy`` files at once: memory stays bounded by the
chunk size whatever the file's size. A new directory is written under a temporary sibling
name and renamed when complete; an empty folder given as the destination (a link to one, or
a mount point, included) is filled where it is, keeping its permissions, the files moved in
when complete. Either way a bad row leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO

import numpy as np

from ..io import missing_folder
from ..progress import bar_class
from .arrays import NpyWriter
from .csv_reader import (
    CsvPlan,
    WiderTarget,
    check_label_width,
    longer_label,
    plan_csv,
    read_csv_chunks,
)
from .loading import BUILTIN_DATASETS

__all__ = ["convert_csv"]

#: Files larger than this show a progress bar unless told otherwise.
PROGRESS_BYTES = 16 << 20

#: The file that marks a folder as a conversion's own scratch folder.
_SCRATCH_MARK = ".mlpzero-conversion"


def _check_destination(destination: Path, source: Path) -> None:
    if destination.exists() or destination.is_symlink():
        if not destination.is_dir():
            raise ValueError(
                f"{str(destination)!r} exists and is not a folder; choose a new folder"
            )
        if any(p for p in destination.iterdir() if not _is_scratch(p, destination)):
            raise ValueError(
                f"the folder {str(destination)!r} already exists and is not empty; "
                "choose a new folder (nothing is overwritten)"
            )
    if not destination.parent.is_dir():  # missing, or a file on its path (data.csv/out)
        raise ValueError(f"cannot write {str(destination)!r}: {missing_folder(destination.parent)}")
    if os.path.realpath(destination) == os.path.realpath(source):
        raise ValueError(f"the output {str(destination)!r} is the input file")


def _is_scratch(path: Path, destination: Path) -> bool:
    """Whether ``path`` is the scratch folder of a conversion into ``destination`` that
    was killed while filling it: left behind, it does not make the folder taken. Its name
    and its mark file must both say so; a folder of the user's is never taken for one."""
    name = path.name
    named = name.startswith(f".{destination.name}.") and name.endswith(".partial")
    return named and (path / _SCRATCH_MARK).is_file() and not path.is_symlink()


def convert_csv(
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    target: str | int = -1,
    dtype: np.typing.DTypeLike = np.float32,
    delimiter: str = ",",
    progress: bool | None = None,
) -> Path:
    """Stream the CSV file ``source`` into the data directory ``destination``.

    ``X.npy`` gets the feature columns as ``dtype`` (float32 by default), ``y.npy`` the
    ``target`` column typed as :func:`~mlpzero.datasets.load_csv` types it (int64 integer
    labels, float64 numbers, or strings), ``columns.json`` the feature names. The parsing
    rules and error messages are those of ``load_csv``; a bad row stops the conversion
    with its line number and leaves no directory behind. ``destination`` must not exist
    or be an empty folder (the scratch folder of a conversion killed while filling it
    aside, which is removed). ``progress`` shows a bar on stderr (default: for files over
    16 MB). Returns the directory's path.
    """
    if not isinstance(destination, (str, os.PathLike)):
        raise TypeError(
            f"destination must be a folder path, got {type(destination).__name__} {destination!r}"
        )
    if isinstance(destination, str) and destination.lower() in BUILTIN_DATASETS:
        raise ValueError(
            f"destination {destination!r} is the name of a built-in dataset, which that name "
            "would go on meaning where a dataset is asked for; choose another name"
        )
    plan = plan_csv(source, target, delimiter=delimiter, dtype=dtype)
    out = Path(destination)
    _check_destination(out, plan.file)
    size = plan.file.stat().st_size
    show = size > PROGRESS_BYTES if progress is None else bool(progress)
    # An empty folder is filled where it is: replacing it would fail on a link or a mount
    # point (after the whole conversion) and would lose its permissions.
    fill = out.is_dir()
    scratch = Path(
        tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out if fill else out.parent)
    )
    (scratch / _SCRATCH_MARK).touch()
    work = scratch / "data"
    work.mkdir()  # with the permissions mkdir gives, not mkdtemp's owner-only ones
    try:
        with bar_class()(
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"converting {plan.file.name}",
            file=sys.stderr,
            disable=not show,
            leave=False,
        ) as bar:
            _write(plan, work, bar)
        (work / "columns.json").write_text(json.dumps(plan.feature_names), encoding="utf-8")
        if fill:
            for name in ("columns.json", "y.npy", "X.npy"):  # X.npy, looked for first, last
                os.replace(work / name, out / name)
        else:
            os.replace(work, out)
        shutil.rmtree(scratch)
        if fill:  # what earlier conversions, killed while filling it, left behind
            for leftover in out.iterdir():
                if _is_scratch(leftover, out):
                    shutil.rmtree(leftover, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return out


def _write(plan, work: Path, bar) -> None:
    """Write X.npy and y.npy into ``work``, reading again when the target widens."""
    kind = "int"
    while True:
        X_file = NpyWriter(work / "X.npy", plan.dtype, (len(plan.features),))
        labels = _Labels(work, plan)
        try:
            for X, y in read_csv_chunks(plan, target_kind=kind, progress=bar):
                X_file.write(X)
                labels.write(y)
        except WiderTarget as wider:
            kind = wider.kind
            bar.reset()
            continue
        finally:
            X_file.close()
            labels.close_files()
        labels.finish()
        return


class _Labels:
    """``y.npy`` written as the chunks come: numbers directly, text a chunk at a time.

    The width of a string array is known only at the end, so each chunk of string labels
    is stored at its own width in a scratch file, and :meth:`finish` writes them out at
    the widest one, a chunk at a time: memory follows the chunk, not the number of
    distinct labels. The labels so far, at the widest width so far, are held to
    :func:`~mlpzero.datasets.csv_reader.check_label_width`'s bound as each chunk comes,
    so the scratch file is too.
    """

    def __init__(self, work: Path, plan: CsvPlan) -> None:
        self.work, self.plan = work, plan
        self.text_bytes = max(1, plan.file.stat().st_size - plan.header_bytes)
        self.rows = 0
        self.numbers: NpyWriter | None = None
        self.text: IO[bytes] | None = None
        self.parts: list[tuple[int, np.dtype]] = []  # rows and dtype of each text chunk
        self.longest = ""

    def write(self, y: np.ndarray | None) -> None:
        if y is None:
            return
        if y.dtype.kind in "iuf":
            if self.numbers is None:
                self.numbers = NpyWriter(self.work / "y.npy", y.dtype)
            self.numbers.write(y)
            return
        if self.text is None:
            self.text = (self.work / "y.text").open("wb")
        y = np.ascontiguousarray(y, dtype=str)
        self.rows += len(y)
        self.longest = longer_label(self.longest, y)
        # Before writing: the scratch file, like y.npy, stays within the bound.
        check_label_width(self.plan, self.rows, [self.longest], self.text_bytes)
        self.text.write(y.tobytes())
        self.parts.append((len(y), y.dtype))

    def close_files(self) -> None:
        if self.numbers is not None:
            self.numbers.close()
        if self.text is not None:
            self.text.close()

    def finish(self) -> None:
        """Write ``y.npy`` from the chunks of string labels (numbers are already there)."""
        if self.text is None:
            return
        out = NpyWriter(self.work / "y.npy", np.dtype(f"<U{max(1, len(self.longest))}"))
        path = self.work / "y.text"
        try:
            with path.open("rb") as handle:
                for count, dtype in self.parts:
                    out.write(np.fromfile(handle, dtype=dtype, count=count))
        finally:
            out.close()
        path.unlink()
