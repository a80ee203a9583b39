"""The CSV parser: one set of rules and messages for ``load_csv``, ``load_data``, ``convert_csv``.

A table is read in chunks of whole records (about a megabyte of text each). Each chunk is parsed
by NumPy's C parser (:func:`numpy.loadtxt`) straight into typed arrays; only when that fails
(or finds a value that is not finite, or an empty label) is the chunk read again row by row
with Python's :mod:`csv` module, which either finds the exact problem and names its file,
line and column, or accepts what the fast parser refused (the row-by-row reading is the
reference). Nothing holds the rows as strings, so memory follows the size of the arrays,
not the size of the text.

The target column is typed from its text: integers (every label an integer literal) become
int64 without passing through float64, so ``9007199254740993`` stays itself and a literal
out of the int64 range is an error naming its line; other numbers become float64; anything
else stays text (class labels).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..validation import brief_list

__all__ = ["CsvPlan", "load_csv", "plan_csv", "read_csv_chunks"]

#: Text per chunk (bytes); a chunk always holds whole records.
CHUNK_BYTES = 1 << 20
#: Labels held at one width may take this many times the text they come from...
LABEL_TEXT_RATIO = 8
#: ...and this many bytes more (:func:`check_label_width`).
LABEL_SLACK_BYTES = 64 << 20
#: The longest first line read for the header (bytes): a file with lone carriage returns,
#: or no line break, is refused after this much, not read whole as one line.
HEADER_BYTES = 1 << 24
#: Text read at a time to finish a record whose quoted field holds line breaks (bytes).
_MORE_BYTES = 1 << 16
_QUOTE = b'"'
#: The target kinds, narrowest first.
_KINDS = ("int", "float", "str")
_INT64 = np.iinfo(np.int64)


def existing_file(path: str | os.PathLike[str], name: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path` if it names an existing regular file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__} {path!r}")
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(2, "No such file or directory", str(file))
    if file.is_dir():
        raise ValueError(f"{name} must be a file, got the folder {str(file)!r}")
    if not file.is_file():
        raise ValueError(f"{name} must be a regular file, got {str(file)!r}")
    return file


@dataclass(frozen=True)
class CsvPlan:
    """Which columns of a CSV file make ``X`` (in order) and which is the target.

    Made by :func:`plan_csv` from the header row; read with :func:`read_csv_chunks`.
    """

    file: Path
    header: tuple[str, ...]
    features: tuple[int, ...]  # header positions of X's columns, in X's order
    target: int | None
    delimiter: str
    dtype: np.dtype
    header_bytes: int  # the header record's size in the file, BOM included
    header_lines: int

    @property
    def feature_names(self) -> list[str]:
        return [self.header[i] for i in self.features]

    def describe(self, column: int) -> str:
        return f"column {self.header[column]!r}"


def _read_header(file: Path, delimiter: str) -> tuple[list[str], int, int]:
    with file.open("rb") as handle:
        first = handle.readline(HEADER_BYTES + 1)
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValueError(f"{file.name} is UTF-16 text; save it as UTF-8 to read it")
        if b"\r" in first.rstrip(b"\r\n") and _QUOTE not in first:
            raise ValueError(
                f"{file.name}, line 1: lines end with a lone carriage return (\\r); save the "
                "file with \\n or \\r\\n line endings"
            )
        if len(first) > HEADER_BYTES:
            raise ValueError(
                f"{file.name}, line 1: the first line runs on for more than "
                f"{HEADER_BYTES / 2**20:g} MB without a line break; expected a header row "
                "naming the columns (is this a CSV file?)"
            )
        lines = [first]
        if _QUOTE in first:  # a quoted name may hold line breaks: read its whole record
            bom = len(first) - len(first.removeprefix(b"\xef\xbb\xbf"))

            def ends() -> _RecordEnds:  # the byte order mark is no part of the first field
                return _record_ends([lines[0][bom:], *lines[1:]], delimiter, file, 1)

            found = ends()
            while found.open_from is not None and found.first is None:
                _read_more(handle, lines, found.open_from, file, 1, HEADER_BYTES)
                found = ends()
            del lines[found.first or len(lines) :]
    raw = b"".join(lines)
    if b"\x00" in raw:
        raise ValueError(
            f"{file.name}, line 1: the file holds NUL bytes (UTF-16 text?); save it as UTF-8"
        )
    text = _decode(raw, file, 1, bom=True)
    try:
        row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    except csv.Error as error:  # an unquoted name past the field limit
        raise _row_error(file, 1, text, error) from None
    if not row or not any(cell.strip() for cell in row):
        if raw.strip(b"\xef\xbb\xbf \t\r\n") or file.stat().st_size > len(raw):
            raise ValueError(  # a blank line (or delimiters alone) before the header
                f"{file.name}, line 1: the header row names no column; expected a header "
                "row naming the columns on the first line, the data rows after it"
            )
        raise ValueError(f"{file.name} is empty: expected a header row and data rows")
    return [name.strip() for name in row], len(raw), raw.count(b"\n")


def _decode(raw: bytes, file: Path, first_line: int, bom: bool = False) -> str:
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as error:
        line = first_line + raw[: error.start].count(b"\n")
        raise ValueError(
            f"{file.name}, line {line}: the file is not UTF-8 text (byte "
            f"0x{raw[error.start]:02x}); save it as UTF-8 to read it"
        ) from None


def _column_index(target: str | int, header: Sequence[str], file: Path) -> int:
    """A column given by name, or by index (an int, or a string of one that names no column)."""
    if isinstance(target, bool) or not isinstance(target, (str, int, np.integer)):
        raise TypeError(
            f"target must be a column name or index, got {type(target).__name__} {target!r}"
        )
    if isinstance(target, str):
        if target in header:
            return list(header).index(target)
        try:
            target = int(target)
        except ValueError:
            raise ValueError(
                f"{file.name}: no column named {target!r}; the columns are {list(header)}"
            ) from None
    index = int(target)
    if not -len(header) <= index < len(header):
        raise ValueError(
            f"{file.name}: target index {index} is out of range for {len(header)} columns "
            f"{list(header)}"
        )
    return index % len(header)


def plan_csv(
    path: str | os.PathLike[str],
    target: str | int | None = None,
    *,
    features: Sequence[str] | None = None,
    n_features: int | None = None,
    features_only: bool = False,
    delimiter: str = ",",
    dtype: np.typing.DTypeLike = np.float64,
) -> CsvPlan:
    """Read the header of a CSV file and decide which columns are features and target.

    ``target`` names the label column or gives its index; ``None`` means: the one column
    besides ``features`` when those are given (no target when none is left), else the
    last column, unless ``n_features`` equals the number of columns (then the file holds
    only features). ``features`` picks the feature columns by name, in that order (a
    model's recorded names). ``features_only`` reads no target at all.
    """
    file = existing_file(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(
            f"delimiter must be one character other than a quote or a line break, got {delimiter!r}"
        )
    dtype = np.dtype(dtype)
    # A cell is read as a float64 and then cast, by either pass: a wider type (long
    # double) would hold what the fast pass parses and not what the row-by-row one does.
    if dtype.kind != "f" or dtype.itemsize > 8:
        raise ValueError(f"dtype must be float16, float32 or float64, got {dtype}")
    header, header_bytes, header_lines = _read_header(file, delimiter)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise ValueError(
                f"{file.name}: the column name {name!r} appears twice in the header (columns "
                f"{seen[name] + 1} and {i + 1}); column names must be unique"
            )
        seen[name] = i
    column: int | None
    if features is not None:
        missing = [name for name in features if name not in seen]
        if missing:
            wanted, found = brief_list(list(features), quoted=True), brief_list(header, quoted=True)
            raise ValueError(
                f"{file.name} has no column {missing[0]!r}; the model's features are "
                f"[{wanted}] and the file has [{found}]"
            )
        picked = [seen[name] for name in features]
        chosen = set(picked)
        others = [i for i in range(len(header)) if i not in chosen]
        if features_only:
            column = None
        elif target is not None:
            column = _column_index(target, header, file)
        elif len(others) > 1:
            raise ValueError(
                f"{file.name} has the columns {[header[i] for i in others]} besides the "
                "model's features; name the target column"
            )
        else:
            column = others[0] if others else None
        if column is not None and column in picked:
            raise ValueError(f"{file.name}: the target {header[column]!r} is also a feature")
    else:
        if target is None and n_features is not None and n_features == len(header):
            column = None
        else:
            if len(header) < 2:
                raise ValueError(
                    f"{file.name}: the header has {len(header)} column ({header}); need at "
                    f"least one feature and a target (is the delimiter {delimiter!r} right?)"
                )
            column = _column_index(-1 if target is None else target, header, file)
        picked = [i for i in range(len(header)) if i != column]
        if features_only:
            column = None
    return CsvPlan(
        file, tuple(header), tuple(picked), column, delimiter, dtype, header_bytes, header_lines
    )


# ---------------------------------------------------------------------------- chunks of text
@dataclass(frozen=True)
class _RecordEnds:
    """Where the records of some lines end, as counts of lines: after the ``first`` and the
    ``last`` complete record (None: none is complete), and ``open_from``, the line where a
    record still open at the end starts (None: the lines end with a record)."""

    first: int | None
    last: int | None
    open_from: int | None


def _record_ends(lines: list[bytes], delimiter: str, file: Path, first_line: int) -> _RecordEnds:
    """The record boundaries in ``lines``, by the rules of :mod:`csv` (the reference): a
    quote opens a quoted field only at a field's start, and a quoted field may hold line
    breaks; elsewhere a quote is a character like any other.

    Each byte is read as one character: the quote, the delimiter and the line breaks are
    ASCII, which UTF-8 never uses inside a longer character.
    """
    text = [line.decode("latin-1") for line in lines]
    reader = csv.reader(itertools.chain(text, ["\n"]), delimiter=delimiter)
    first = last = None
    try:
        for _ in reader:
            if reader.line_num > len(text):  # the extra line: it ended an open record, or its own
                break
            first = reader.line_num if first is None else first
            last = reader.line_num
    except csv.Error as error:
        raise _row_error(file, first_line + (last or 0), text[last or 0], error) from None
    return _RecordEnds(first, last, None if last == len(text) else (last or 0))


def _read_more(
    handle: IO[bytes],
    lines: list[bytes],
    open_from: int,
    file: Path,
    first_line: int,
    longest: int,
) -> None:
    """Append the next lines to ``lines``, whose record starting at line ``open_from`` holds
    a quoted field not closed yet; refuse a field that never closes or runs on and on."""
    more = _read_lines(handle, _MORE_BYTES, longest, file, first_line + len(lines))
    where = f"{file.name}, line {first_line + open_from}"
    if not more:
        raise ValueError(
            f"{where}: a quoted field opened in this record is never closed; the file ends "
            "inside it (is a closing quote missing?)"
        )
    lines.extend(more)
    if sum(map(len, lines[open_from:])) > CHUNK_BYTES:
        raise ValueError(
            f"{where}: a quoted field opened in this record runs on for more than "
            f"{CHUNK_BYTES // 1024} kB of text (is a closing quote missing?)"
        )


def _row_error(file: Path, line: int, text: str, error: csv.Error) -> ValueError:
    """:mod:`csv`'s refusal of a row, as a message naming the file and line."""
    if "field larger than field limit" in str(error):
        return ValueError(
            f"{file.name}, line {line}: a field in this record runs on for more than "
            f"{csv.field_size_limit() // 1024} kB of text (is a closing quote missing?)"
        )
    if "\r" in text.rstrip("\r\n"):
        return ValueError(
            f"{file.name}, line {line}: the line holds a carriage return (\\r) that does not "
            "end it; save the file with one kind of line ending (\\n or \\r\\n)"
        )
    return ValueError(f"{file.name}, line {line}: cannot read the row: {error}")


def _longest_line(fields: int) -> int:
    """The most bytes a line of a table of ``fields`` columns can take: each field at most
    :func:`csv.field_size_limit` characters of up to 4 bytes, its quotes and delimiter,
    and the line break."""
    return min(fields * (4 * csv.field_size_limit() + 3) + 2, 1 << 62)


def _read_lines(
    handle: IO[bytes], size: int, longest: int, file: Path, first_line: int
) -> list[bytes]:
    """The next lines of ``handle`` as ``handle.readlines(size)`` reads them (``size`` bytes
    and the rest of the line they end in), except that a line running on for more than
    ``longest`` bytes is refused after that much, not read whole: a file whose lines end
    with a lone carriage return is one line."""
    block = handle.read(size)
    if block and not block.endswith(b"\n"):
        rest = handle.readline(longest + 1)
        if len(rest) > longest and not rest.endswith(b"\n"):
            line = first_line + block.count(b"\n")
            where = f"{file.name}, line {line}"
            if b"\r" in rest:
                raise ValueError(
                    f"{where}: the line runs on for more than {longest // 1024:,} kB without "
                    "a line break: its lines end with a lone carriage return (\\r); save the "
                    "file with \\n or \\r\\n line endings"
                )
            raise ValueError(
                f"{where}: the line runs on for more than {longest // 1024:,} kB without a "
                "line break, more than a row of this table can hold (is this a CSV file?)"
            )
        block += rest
    return io.BytesIO(block).readlines()


def _text_chunks(
    handle: IO[bytes], first_line: int, delimiter: str, file: Path, longest: int
) -> Iterator[tuple[int, list[bytes]]]:
    """``(line number of the first, lines)`` for chunks of whole records; a line of more
    than ``longest`` bytes is refused (:func:`_read_lines`)."""
    while True:
        lines = _read_lines(handle, CHUNK_BYTES, longest, file, first_line)
        if not lines:
            return
        if _QUOTE in b"".join(lines):  # a quoted field may hold a line break
            ends = _record_ends(lines, delimiter, file, first_line)
            while ends.open_from is not None:
                start = ends.open_from
                _read_more(handle, lines, start, file, first_line, longest)
                tail = _record_ends(lines[start:], delimiter, file, first_line + start)
                ends = _RecordEnds(
                    None, None, None if tail.open_from is None else start + tail.open_from
                )
        yield first_line, lines
        first_line += len(lines)


def _decode_lines(lines: list[bytes], file: Path, first_line: int) -> list[str]:
    # NumPy's text arrays drop trailing NULs: a label "y\x00" would be read as "y", and
    # "\x00" as an empty label that no check sees any more.
    if b"\x00" in b"".join(lines):
        line = first_line + next(i for i, line in enumerate(lines) if b"\x00" in line)
        raise ValueError(
            f"{file.name}, line {line}: the line holds a NUL byte, which no text holds "
            "(is the file damaged, or not UTF-8 text?)"
        )
    try:
        return [line.decode("utf-8") for line in lines]
    except UnicodeDecodeError:
        for i, line in enumerate(lines):
            _decode(line, file, first_line + i)
        raise


# ---------------------------------------------------------------------------- one chunk
def _row_dtype(plan: CsvPlan) -> np.dtype:
    """One field per run of adjacent columns: features as floats, the rest as text."""
    role = {i: "x" for i in plan.features}
    fields: list[tuple[str, object, tuple[int, ...]]] = []
    start = 0
    n = len(plan.header)
    while start < n:
        kind = role.get(start, "t" if start == plan.target else "-")
        stop = start + 1
        while kind != "t" and stop < n and role.get(stop, "-") == kind and stop != plan.target:
            stop += 1
        base = plan.dtype if kind == "x" else np.dtype(object)
        fields.append((f"c{start}", base, (stop - start,)))
        start = stop
    return np.dtype([(name, base, shape) for name, base, shape in fields])


def _split(plan: CsvPlan, table: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The structured rows of :func:`_row_dtype` as ``X`` and the raw target cells."""
    X = np.empty((len(table), len(plan.features)), dtype=plan.dtype)
    position = {column: j for j, column in enumerate(plan.features)}
    for name in table.dtype.names or ():
        start = int(name[1:])
        field = table[name].reshape(len(table), -1)
        if start in position:
            for k in range(field.shape[1]):
                X[:, position[start + k]] = field[:, k]
    y = None if plan.target is None else table[f"c{plan.target}"].reshape(-1)
    return X, y


def _longest_text(table: np.ndarray) -> int:
    """The length of the longest text cell (the target, unused columns) of ``table``."""
    fields = (table[name] for name in table.dtype.names or () if table.dtype[name].base.hasobject)
    return max((len(cell) for field in fields for cell in field.flat), default=0)


def _fast(plan: CsvPlan, text: list[str]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The chunk parsed by NumPy's C parser, or None when it needs the precise pass."""
    if len(plan.header) == 1 and _inner_blank_line(text) is not None:
        return None  # a missing value, which the precise pass names
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # blank lines alone are "no data": no rows
            table = np.loadtxt(
                text,
                delimiter=plan.delimiter,
                quotechar='"',
                comments=None,
                dtype=_row_dtype(plan),
                ndmin=1,
            )
    except ValueError:
        return None
    if len(table) == 0:  # blank lines alone
        empty = None if plan.target is None else np.empty(0, dtype=object)
        return np.empty((0, len(plan.features)), dtype=plan.dtype), empty
    if _longest_text(table) > csv.field_size_limit():
        return None  # the row-by-row pass refuses such a field, as it must whatever the chunk
    X, y = _split(plan, table)
    if not np.isfinite(X).all():
        return None
    return X, y


def _inner_blank_line(text: list[str]) -> int | None:
    """The index of the first blank line of ``text`` that a line of data follows (None
    when blank lines, if any, only end it)."""
    data = _data_lines(text)
    held = set(data)
    return next((i for i in range(data[-1]) if i not in held), None) if data else None


def _data_lines(text: list[str]) -> list[int]:
    """The indices of the lines of a one-column table that hold any text (``""``, an empty
    value, included): the others are blank lines."""
    return [i for i, line in enumerate(text) if line.strip()]


def _is_blank(row: list[str]) -> bool:
    """Whether a row :mod:`csv` read is a blank line: no field, or one empty field."""
    return len(row) <= 1 and not "".join(row).strip()


def _missing_value(name: str, line: int) -> ValueError:
    return ValueError(
        f"{name}, line {line}: the line is blank and data rows follow it, which in a table "
        "of one column is a missing value; fill it in or remove the line"
    )


def _precise(
    plan: CsvPlan, text: list[str], first_line: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The chunk read row by row: ``X``, raw target cells and each row's line number.

    Raises the :class:`ValueError` that names the first problem's line and column.
    """
    name, width = plan.file.name, len(plan.header)
    reader = csv.reader(text, delimiter=plan.delimiter)
    rows: list[list[float]] = []
    labels: list[str] = []
    lines: list[int] = []
    consumed = 0
    blank = None  # the first of the blank lines since the last row
    for row in _rows(reader, plan.file, first_line, text):
        start, consumed = consumed, reader.line_num
        line = first_line + start
        # One column: "" (or " ") is an empty value, the line holds text; a blank line has none.
        if _is_blank(row) and (width > 1 or not text[start].strip()):
            blank = line if blank is None else blank
            continue  # a blank line
        if width == 1 and blank is not None:
            raise _missing_value(name, blank)
        if len(row) != width:
            raise ValueError(f"{name}, line {line}: expected {width} fields, got {len(row)}")
        values = []
        for i in plan.features:
            cell = row[i].strip()
            try:
                if "_" in cell:  # float() reads "1_000" as 1000; a CSV number has no "_"
                    raise ValueError(cell)
                value = float(cell)
            except ValueError:
                what = "is empty" if not cell else f"is not a number: {cell!r}"
                raise ValueError(
                    f"{name}, line {line}, {plan.describe(i)}: the value {what}"
                ) from None
            with np.errstate(over="ignore"):
                stored = plan.dtype.type(value)
            if not np.isfinite(stored):
                raise ValueError(
                    f"{name}, line {line}, {plan.describe(i)}: the value {cell!r} is not finite"
                    + (f" as {plan.dtype}" if np.isfinite(value) else "")
                )
            values.append(value)
        if plan.target is not None:
            label = row[plan.target].strip()
            if not label:
                raise ValueError(
                    f"{name}, line {line}, {plan.describe(plan.target)}: the target is empty"
                )
            labels.append(label)
        rows.append(values)
        lines.append(line)
        blank = None
    X = np.array(rows, dtype=plan.dtype).reshape(len(rows), len(plan.features))
    y = None if plan.target is None else np.array(labels, dtype=object)
    return X, y, np.array(lines, dtype=np.int64)


def _rows(reader: Any, file: Path, first_line: int, text: list[str]) -> Iterator[list[str]]:
    """The rows of a :func:`csv.reader` over ``text``, its refusals as :class:`ValueError`."""
    consumed = 0
    try:
        for row in reader:
            yield row
            consumed = reader.line_num
    except csv.Error as error:
        raise _row_error(file, first_line + consumed, text[consumed], error) from None


# ---------------------------------------------------------------------------- the target
class WiderTarget(Exception):
    """The target needs a wider kind than the chunks already read: read again with it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Lines:
    """The line number of each row of a chunk, found by the precise pass when first asked."""

    def __init__(
        self, plan: CsvPlan, text: list[str], first: int, lines: np.ndarray | None
    ) -> None:
        self.plan, self.text, self.first, self.lines = plan, text, first, lines

    def __getitem__(self, row: int) -> int:
        if self.lines is None:  # the precise pass raises if the chunk holds a fault
            self.lines = _precise(self.plan, self.text, self.first)[2]
        return int(self.lines[row])

    def explain(self) -> None:
        """Raise the precise pass's message for a fault the fast pass let through."""
        _precise(self.plan, self.text, self.first)


def check_label_width(plan: CsvPlan, rows: int, labels: Iterable[str], text_bytes: int) -> None:
    """Refuse ``rows`` labels that, held at the width of the longest of ``labels`` (4 bytes
    a character), would take more than :data:`LABEL_TEXT_RATIO` times the ``text_bytes``
    they come from and :data:`LABEL_SLACK_BYTES` more: one long label widens every row."""
    labels = list(labels) if not isinstance(labels, (list, np.ndarray)) else labels
    width = max(map(len, labels), default=0)
    need = rows * width * 4
    if need > LABEL_TEXT_RATIO * text_bytes + LABEL_SLACK_BYTES:
        longest = next(str(label) for label in labels if len(label) == width)
        raise ValueError(
            f"{plan.file.name}, {plan.describe(plan.target)}: a label of {width:,} "
            f"characters ({longest[:20]!r}...) would make the {rows:,} labels take "
            f"{need / 2**20:,.0f} MB at one width, out of proportion to the "
            f"{text_bytes / 2**20:,.1f} MB of text they come from; is the target column the "
            "right one?"
        )


def longer_label(longest: str, labels: np.ndarray) -> str:
    """``longest``, or the longest of the text ``labels`` when it is longer (numbers:
    ``longest``)."""
    if labels.dtype.kind != "U" or labels.dtype.itemsize // 4 <= len(longest) or not len(labels):
        return longest
    candidate = str(labels[int(np.argmax(np.char.str_len(labels)))])
    return candidate if len(candidate) > len(longest) else longest


def _typed_target(
    cells: np.ndarray, kind: str, plan: CsvPlan, lines: _Lines, text_bytes: int
) -> tuple[np.ndarray, str]:
    """Raw target cells as int64, float64 or str: at least ``kind``, wider if they need it."""
    check_label_width(plan, len(cells), cells, text_bytes)
    labels = np.char.strip(cells.astype(str)) if len(cells) else np.array([], dtype=str)
    if (np.char.str_len(labels) == 0).any():
        lines.explain()  # names the line whose target is empty
    if kind != "str" and (np.char.find(labels, "_") >= 0).any():
        return labels, "str"  # int() and float() read "1_0" as 10; a CSV number has no "_"
    if kind == "int" and np.char.isdigit(np.char.lstrip(labels, "+-")).all():
        try:
            return labels.astype(np.int64), "int"
        except OverflowError:
            for i in np.flatnonzero(np.char.str_len(labels) >= 19):
                if not _INT64.min <= int(labels[i]) <= _INT64.max:
                    raise ValueError(
                        f"{plan.file.name}, line {lines[int(i)]}, "
                        f"{plan.describe(plan.target)}: the integer {labels[i]} is outside "
                        f"the int64 range [{_INT64.min}, {_INT64.max}]"
                    ) from None
            raise
        except ValueError:
            pass
    if kind in ("int", "float"):
        try:
            values = labels.astype(np.float64)
        except ValueError:
            pass
        else:
            if not np.isfinite(values).all():
                i = int(np.flatnonzero(~np.isfinite(values))[0])
                raise ValueError(
                    f"{plan.file.name}, line {lines[i]}, {plan.describe(plan.target)}: the "
                    f"target {str(labels[i])!r} is not a finite number"
                )
            return values, "float"
    return labels, "str"


# ---------------------------------------------------------------------------- the reader
def read_csv_chunks(
    plan: CsvPlan, *, target_kind: str = "int", progress: object | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(X_chunk, y_chunk)`` for the whole table (``y_chunk`` None without a target).

    The target chunks are all of one kind, at least ``target_kind`` ("int", "float" or
    "str"). When a later chunk needs a wider kind than the earlier ones had, this raises
    :class:`WiderTarget`; read again from the start with its ``kind``. ``progress`` (a
    ``tqdm`` bar over the file's bytes) is advanced as chunks are read.
    """
    for X, y, _ in _read_chunks(plan, target_kind, progress):
        yield X, y


def _read_chunks(
    plan: CsvPlan, target_kind: str, progress: object | None
) -> Iterator[tuple[np.ndarray, np.ndarray | None, int]]:
    """:func:`read_csv_chunks`, with the size of each chunk's text in bytes."""
    kind = target_kind
    rows = 0
    with plan.file.open("rb") as handle:
        handle.seek(plan.header_bytes)
        if progress is not None:
            progress.update(plan.header_bytes)
        longest = _longest_line(len(plan.header))
        chunks = _text_chunks(handle, plan.header_lines + 1, plan.delimiter, plan.file, longest)
        blank = None  # one column: the first of the blank lines that end the last chunk
        for first_line, raw in chunks:
            text = _decode_lines(raw, plan.file, first_line)
            if len(plan.header) == 1:
                data = _data_lines(text)
                if blank is not None and data:
                    raise _missing_value(plan.file.name, blank)
                if data and data[-1] < len(text) - 1:
                    blank = first_line + data[-1] + 1
                elif not data and blank is None:
                    blank = first_line
            parsed = _fast(plan, text)
            lines = None
            if parsed is None:
                X, cells, lines = _precise(plan, text, first_line)
            else:
                X, cells = parsed
            y = None
            size = sum(map(len, raw))
            if cells is not None:
                where = _Lines(plan, text, first_line, lines)
                y, got = _typed_target(cells, kind, plan, where, size)
                if _KINDS.index(got) > _KINDS.index(kind):
                    if rows:
                        raise WiderTarget(got)
                    kind = got
            rows += len(X)
            if progress is not None:
                progress.update(size)
            if len(X):
                yield X, y, size
    if rows == 0:
        raise ValueError(f"{plan.file.name} has a header but no data rows")


def load_csv(
    path: str | os.PathLike[str],
    target: str | int = -1,
    *,
    delimiter: str = ",",
    dtype: np.typing.DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file whose first row names the columns.

    ``target`` picks the label column by name or by index (default: the last column);
    every other column is a feature and must be numeric. The target may hold integers
    (int64 labels, parsed exactly), other numbers (float64 targets) or any strings, which
    are class labels. Blank lines are skipped (in a table of one column, a blank line that
    data rows follow is a missing value, an error, and so is ``""``); fields may be quoted,
    and a quoted field may hold line breaks
    and delimiters. As in Python's :mod:`csv`, a quote opens a quoted field only at a field's
    start; elsewhere it is a character of the field.

    Returns ``X`` of ``dtype`` (float64 by default), shape ``(n_samples, n_features)``, and
    ``y`` of shape ``(n_samples,)``. The text is parsed in chunks straight into arrays, so
    memory follows the size of ``X``, not of the file.

    Raises :class:`FileNotFoundError` for a missing file and :class:`ValueError` for a
    missing or repeated column name (naming the available ones), a file that is not UTF-8,
    a row with the wrong number of fields, an empty cell, a non-numeric or non-finite
    feature, or an integer label outside int64 (naming its line and column); a quoted
    field that is never closed, a field (quoted or not) of more than 128 kB, a carriage
    return inside a line, a first line of more than 16 MB (no header row), a line longer
    than any row of the table can be (lines ending in a lone carriage return), and labels so
    long that, held at one width, they would take far more memory than the file's text
    (:func:`check_label_width`).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b,label\\n1,2.5,9007199254740993\\n3,4,9007199254740992\\n")
    >>> X, y = load_csv(path, target="label")
    >>> X.tolist(), y.tolist()
    ([[1.0, 2.5], [3.0, 4.0]], [9007199254740993, 9007199254740992])
    """
    plan = plan_csv(path, target, delimiter=delimiter, dtype=dtype)
    X, y = read_plan(plan)
    assert y is not None
    return X, y


def read_plan(
    plan: CsvPlan, progress: object | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The whole table of ``plan`` in memory: ``X`` and the typed target (or None)."""
    kind = "int"
    while True:
        try:
            return _gather(plan, kind, progress)
        except WiderTarget as wider:
            kind = wider.kind
            if progress is not None:
                progress.reset()


def _gather(
    plan: CsvPlan, kind: str, progress: object | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fill one ``X`` sized from the first chunk's rows per byte, growing it if need be.

    Joining the chunks at the end would hold ``X`` twice; an estimate that runs short
    costs one copy of what was read so far.
    """
    text_bytes = max(1, plan.file.stat().st_size - plan.header_bytes)
    X = np.empty((0, len(plan.features)), dtype=plan.dtype)
    y_parts: list[np.ndarray] = []
    longest = ""  # the longest text label so far
    rows = 0
    for chunk, y, size in _read_chunks(plan, kind, progress):
        if rows + len(chunk) > len(X):
            per_byte = len(chunk) / size
            wanted = max(rows + len(chunk), int(len(X) * 1.25), int(per_byte * text_bytes * 1.02))
            grown = np.empty((wanted, X.shape[1]), dtype=plan.dtype)
            grown[:rows] = X[:rows]
            X = grown
        X[rows : rows + len(chunk)] = chunk
        rows += len(chunk)
        if y is not None:
            y_parts.append(y)
            longest = longer_label(longest, y)
            if longest:  # as the chunks come: those held stay within the bound
                check_label_width(plan, rows, [longest], text_bytes)
    if rows < len(X):
        X.resize((rows, X.shape[1]), refcheck=False)  # in place: ours, never shared
    if plan.target is None:
        return X, None
    if len(y_parts) == 1:
        return X, y_parts[0]
    return X, np.concatenate(y_parts)  # text at the widest label's width, checked above
