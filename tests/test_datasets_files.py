import gc
import json
import re
import time
import warnings
import zipfile

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.datasets import convert_csv, load_csv, load_data, load_npy_dir, load_npz
from mlpzero.datasets.csv_reader import plan_csv


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_a_named_string_target(tmp_path):
    path = write(
        tmp_path / "iris.csv",
        "sepal,petal,species\n1.0,2.5,setosa\n3,4e-1,virginica\n-1.5,0,setosa\n",
    )
    X, y = load_csv(path, target="species")
    np.testing.assert_array_equal(X, [[1.0, 2.5], [3.0, 0.4], [-1.5, 0.0]])
    assert X.dtype == np.float64
    assert y.tolist() == ["setosa", "virginica", "setosa"]


def test_csv_target_by_index_and_numeric_targets(tmp_path):
    path = write(tmp_path / "d.csv", "label,a,b\n1,0.5,2\n0,1.5,3\n2,2.5,4\n")
    X, y = load_csv(path, target=0)
    np.testing.assert_array_equal(X, [[0.5, 2], [1.5, 3], [2.5, 4]])
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 2]
    X, y = load_csv(path, target=-1)  # the last column; the labels become a feature
    assert X.shape == (3, 2) and y.dtype == np.int64 and y.tolist() == [2, 3, 4]
    path = write(tmp_path / "r.csv", "x,y\n0,0.25\n1,1.5\n")
    _, y = load_csv(path, target="y")
    assert y.dtype == np.float64 and y.tolist() == [0.25, 1.5]


def test_csv_string_labels_train_and_come_back(tmp_path):
    rows = ["f1,f2,kind"]
    rng = np.random.default_rng(0)
    for _ in range(60):
        a, b = rng.standard_normal(2)
        rows.append(f"{a},{b},{'left' if a < 0 else 'right'}")
    X, y = load_csv(write(tmp_path / "t.csv", "\n".join(rows) + "\n"), target="kind")
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=300, learning_rate=0.5)
    assert set(model.predict(X)) <= {"left", "right"}
    assert model.score(X, y) > 0.9


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_csv(tmp_path / "nope.csv", target="y")


def test_csv_missing_column_names_the_available_ones(tmp_path):
    path = write(tmp_path / "d.csv", "a,b,label\n1,2,x\n")
    with pytest.raises(ValueError, match=r"no column named 'target'.*\['a', 'b', 'label'\]"):
        load_csv(path, target="target")
    with pytest.raises(ValueError, match="target index 5 is out of range for 3 columns"):
        load_csv(path, target=5)
    with pytest.raises(TypeError, match="target must be a column name or index"):
        load_csv(path, target=1.5)


def test_csv_non_numeric_value_names_line_and_column(tmp_path):
    path = write(tmp_path / "d.csv", "a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(ValueError, match=r"d\.csv, line 3, column 'b'.*not a number: 'oops'"):
        load_csv(path, target="label")


def test_csv_underscores_in_numbers_are_not_digit_separators(tmp_path):
    # Python's float() and int() read "1_000" as 1000; a CSV file does not.
    path = write(tmp_path / "d.csv", "a,b,label\n1_000,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match=r"line 2, column 'a'.*not a number: '1_000'"):
        load_csv(path)
    path = write(tmp_path / "l.csv", "a,label\n1,1_0\n2,1\n3,10\n")
    X, y = load_csv(path)
    assert X.tolist() == [[1.0], [2.0], [3.0]] and y.tolist() == ["1_0", "1", "10"]
    convert_csv(path, tmp_path / "out")
    assert load_npy_dir(tmp_path / "out")[1].tolist() == ["1_0", "1", "10"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("\n", "is empty"),
        # Not empty: a blank line or commas alone before the header
        ("\na,b\n1,2\n", r"d.csv, line 1: the header row names no column; expected"),
        (",\n1,2\n", r"d.csv, line 1: the header row names no column; expected"),
        ("a,b\n", "no data rows"),
        ("a,b\n1\n", "line 2: expected 2 fields, got 1"),
        ("a,b\n,1\n", "line 2, column 'a': the value is empty"),
        ("a,b\n1,\n", "line 2, column 'b': the target is empty"),
        ("a,b\nnan,1\n", "line 2, column 'a'.*not finite"),
        ("a;b\n1;2\n", "delimiter"),
    ],
)
def test_csv_malformed_tables(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load_csv(write(tmp_path / "d.csv", text), target=-1)


def test_csv_other_delimiter_and_trailing_blank_lines(tmp_path):
    path = write(tmp_path / "d.tsv", "a\tb\ty\n1\t2\tcat\n\n\n")
    X, y = load_csv(path, target="y", delimiter="\t")
    assert X.tolist() == [[1.0, 2.0]] and y.tolist() == ["cat"]


def test_npz_round_trip(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array(["a", "b", "a", "c"])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(X2, X)
    assert X2.dtype == np.float64
    assert y2.tolist() == y.tolist()
    np.savez(tmp_path / "e.npz", features=X, labels=y)
    X3, _ = load_npz(tmp_path / "e.npz", x_key="features", y_key="labels")
    np.testing.assert_array_equal(X3, X)


def test_npz_refuses_pickled_objects(tmp_path):
    np.savez(tmp_path / "o.npz", X=np.zeros((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="without pickle"):
        load_npz(tmp_path / "o.npz")


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"X": np.zeros((3, 2))}, r"no array named 'y'; it holds \['X'\]"),
        ({"X": np.zeros(3), "y": np.zeros(3)}, "must be 2-D"),
        ({"X": np.zeros((3, 2)), "y": np.zeros(2)}, r"one entry per row of 'X' \(3\)"),
        ({"X": np.array([["a", "b"]]), "y": np.zeros(1)}, "must be numeric"),
    ],
)
def test_npz_bad_contents(tmp_path, arrays, match):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(ValueError, match=match):
        load_npz(tmp_path / "d.npz")


def test_npz_not_an_archive(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"hello")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "one.npy", np.zeros((3, 2)))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    for name in ("junk.npz", "empty.npz", "one.npz"):
        match = rf"{name.replace('.', '[.]')} is not an \.npz archive \(a zip file of \.npy"
        with pytest.raises(ValueError, match=match):
            load_npz(tmp_path / name)
        with pytest.raises(ValueError, match=match):  # also where only X is expected
            load_data(tmp_path / name, n_features=2)
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "missing.npz")


def test_npz_arrays_that_are_short_damaged_or_no_npy_are_named_before_any_allocation(tmp_path):
    """A header declaring more data than the archive holds is refused before NumPy
    allocates it all (1.6 GB here, for a file of 1 kB); a damaged member or one that is no
    .npy file is named as such, not as pickle, AttributeError or BadZipFile."""
    import io
    import tracemalloc
    import zipfile

    def npy(shape, payload=bytes(80)):
        header = io.BytesIO()
        fields = {"descr": "<f8", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(header, fields)
        return header.getvalue() + payload

    def archive(name, members):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(member, data)
        return tmp_path / name

    short = archive("short.npz", {"X.npy": npy((20_000_000, 10)), "y.npy": npy((10,))})
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"short\.npz, array 'X': the header declares shape \(20000000, 10\) of "
            r"float64 \(1600000128 bytes with the header\), but the archive holds 208 bytes",
        ):
            load_npz(short)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    with pytest.raises(ValueError, match=r"short\.npz, array 'X': the header declares"):
        load_data(short, n_features=10, features_only=True)
    raw = archive("raw.npz", {"X": b"hello", "y": b"world"})
    with pytest.raises(ValueError, match=r"raw\.npz, array 'X': not a valid \.npy file"):
        load_npz(raw)
    np.savez_compressed(tmp_path / "crc.npz", X=np.zeros((100, 3)), y=np.zeros(100))
    damaged = bytearray((tmp_path / "crc.npz").read_bytes())
    damaged[damaged.index(b"X.npy") + 45] ^= 0xFF  # in X's compressed data
    (tmp_path / "crc.npz").write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=r"crc\.npz is not a readable \.npz archive: "):
        load_npz(tmp_path / "crc.npz")


def _npz_stating(path, shape, stated):
    """An .npz whose ``X.npy`` (float64, ``shape``) holds 80 zero bytes of data, deflated,
    while its zip entry states ``stated`` bytes, in the local header and the directory."""
    import io
    import struct

    header = io.BytesIO()
    fields = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(header, fields)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", header.getvalue() + bytes(80))
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, data.index(b"PK\x03\x04") + 22, stated)  # local header
    struct.pack_into("<I", data, data.index(b"PK\x01\x02") + 24, stated)  # central directory
    path.write_bytes(bytes(data))
    return path


def test_npz_a_member_whose_stated_size_lies_is_refused_before_any_allocation(tmp_path):
    """The sizes a zip file states for a member are the file's word: a member stating
    1.6 GB in 1 kB of deflate data (which inflates at most 1032-fold) is refused before
    NumPy allocates what its .npy header declares, not blamed on pickle after."""
    import tracemalloc

    _npz_stating(tmp_path / "lie.npz", (20_000_000, 10), 20_000_000 * 10 * 8 + 128)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"lie\.npz, array 'X': the header declares shape \(20000000, 10\) of float64 "
            r"\(1600000128 bytes with the header\), but the archive holds at most \d+ bytes",
        ):
            load_npz(tmp_path / "lie.npz", features_only=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_npz_a_member_compressed_beyond_any_bound_is_refused_before_it_is_inflated(
    tmp_path, method, name
):
    """bzip2 and LZMA, which numpy.savez never writes, have no bound on what a byte
    inflates to: an archive of 765 bytes held 400 MB of zeros, all read into memory. Only
    stored and deflated members, whose size the archive's bounds, are read."""
    import io
    import tracemalloc

    X = io.BytesIO()
    np.save(X, np.zeros((200_000, 10)))
    y = io.BytesIO()
    np.save(y, np.zeros(200_000))
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", method) as z:
        z.writestr("X.npy", X.getvalue())
        z.writestr("y.npy", y.getvalue())
    assert (tmp_path / "bomb.npz").stat().st_size < 20_000  # 17.6 MB inflated
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=rf"bomb\.npz, array 'X': compressed with {name}, whose output the archive's "
            r"size does not bound; save the arrays with numpy\.savez or numpy\.savez_compressed",
        ):
            load_npz(tmp_path / "bomb.npz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


def test_npz_listing_more_arrays_than_data_needs_is_refused_before_they_are_listed(tmp_path):
    """zipfile makes an object of every entry of the directory before NumPy reads one:
    a 26 MB archive of 300,000 empty arrays took 218 MB to open."""
    X, y = np.zeros((3, 2)), np.arange(3)
    many = {f"extra{i}": np.zeros(0) for i in range(1025)}
    np.savez(tmp_path / "many.npz", X=X, y=y, **many)
    with pytest.raises(ValueError, match=r"many\.npz .*lists more than 1024 arrays"):
        load_npz(tmp_path / "many.npz")
    few = {f"extra{i}": np.zeros(0) for i in range(1020)}
    np.savez(tmp_path / "few.npz", X=X, y=y, **few)
    X_read, y_read = load_npz(tmp_path / "few.npz")
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(y_read, y)


def test_npz_a_member_shorter_than_its_stated_size_is_called_damaged_not_pickled(tmp_path):
    """A deflated member whose zip entry states the 928 bytes its header declares but
    inflates to 208 (its checksum that of those 208) failed as "cannot read 'X' without
    pickle": the archive is damaged, and holds no object array."""
    _npz_stating(tmp_path / "short.npz", (100, 1), 128 + 800)
    with pytest.raises(ValueError) as caught:
        load_npz(tmp_path / "short.npz", features_only=True)
    message = str(caught.value)
    assert message.startswith("short.npz is not a readable .npz archive: "), message
    assert "pickle" not in message


def test_an_idx_header_whose_size_overflows_int64_is_refused_as_truncated():
    from mlpzero.datasets import parse_idx

    header = bytes([0, 0, 0x08, 3]) + (0xFFFFFFFF).to_bytes(4, "big") * 3
    declared = (2**32 - 1) ** 3  # bytes of uint8 data: beyond int64, where it used to wrap
    with pytest.raises(ValueError, match=rf"truncated: header says shape .* \({declared} bytes"):
        parse_idx(header + b"\0" * 16, name="big")


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"X": [[0.0, 1.0], [2.0, np.nan]], "y": [0, 1]}, r"'X' .*, nan at index \(1, 1\)"),
        ({"X": np.array([[np.inf, 1.0]], np.float32), "y": [0]}, r"'X' .*, inf at index \(0, 0\)"),
        ({"X": [[0.0], [1.0], [2.0]], "y": [0.5, -np.inf, 1.0]}, r"'y' .*, -inf at index \(1,\)"),
    ],
)
def test_npz_refuses_nan_and_infinity_like_csv(tmp_path, arrays, match):
    np.savez(tmp_path / "d.npz", **{key: np.asarray(value) for key, value in arrays.items()})
    with pytest.raises(ValueError, match=r"d\.npz: .*holds a value that is not finite"):
        load_npz(tmp_path / "d.npz")
    with pytest.raises(ValueError, match=match):
        load_npz(tmp_path / "d.npz")


# ---------------------------------------------------------------------------- the chunked parser
@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few hundred bytes, so that small files span many of them."""
    from mlpzero.datasets import csv_reader

    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 200)


def test_csv_integer_labels_stay_exact_and_out_of_range_ones_name_their_line(tmp_path):
    path = write(tmp_path / "d.csv", "a,label\n1,9007199254740993\n2,9007199254740992\n")
    _, y = load_csv(path)
    assert y.dtype == np.int64 and y.tolist() == [9007199254740993, 9007199254740992]
    assert len(np.unique(y)) == 2
    big = write(tmp_path / "b.csv", "a,label\n1,5\n\n2,99999999999999999999\n")
    with pytest.raises(ValueError, match=r"b\.csv, line 4, column 'label': the integer 9{20} "):
        load_csv(big)
    low = write(tmp_path / "l.csv", "a,label\n1,-9223372036854775809\n2,-9223372036854775808\n")
    with pytest.raises(ValueError, match=r"line 2, .*-9223372036854775809 is outside"):
        load_csv(low)
    # A number that is not an integer makes the column float64 targets, as before.
    _, y = load_csv(write(tmp_path / "f.csv", "a,t\n1,99999999999999999999\n2,0.5\n"))
    assert y.dtype == np.float64 and y.tolist() == [1e20, 0.5]


def test_csv_duplicate_column_names_are_refused(tmp_path):
    path = write(tmp_path / "d.csv", "a,a,label\n1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match=r"d\.csv: the column name 'a' appears twice .*1 and 2"):
        load_csv(path)
    with pytest.raises(ValueError, match="appears twice"):
        load_data(path, features=["a"], n_features=1)


@pytest.mark.parametrize(
    ("encoding", "match"),
    [("latin-1", r"l\.csv, line 3: the file is not UTF-8 text \(byte 0xe9\)"),
     ("utf-16", r"l\.csv is UTF-16 text; save it as UTF-8")],
)  # fmt: skip
def test_csv_in_another_encoding_is_refused_naming_the_file(tmp_path, encoding, match):
    path = tmp_path / "l.csv"
    path.write_text("a,b,label\n1,2,cafe\n3,4,caf\u00e9\n", encoding=encoding)
    with pytest.raises(ValueError, match=match):
        load_csv(path)


def test_csv_utf16_without_a_byte_order_mark_is_refused(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("a,b,label\n1,2,x\n".encode("utf-16-le"))
    with pytest.raises(ValueError, match=r"u\.csv, line 1: .*NUL bytes"):
        load_csv(path)


@pytest.mark.parametrize("row", ["3,4,\x00", "3,4,y\x00", "3,\x004,y"])
def test_csv_a_nul_byte_in_a_data_row_is_refused_naming_its_line(tmp_path, row):
    # Text arrays drop trailing NULs: "\x00" became an empty label and "y\x00" was "y".
    path = tmp_path / "n.csv"
    path.write_bytes(f"a,b,label\n1,2,x\n{row}\n5,6,y\n".encode())
    with pytest.raises(ValueError, match=r"n\.csv, line 3: the line holds a NUL byte"):
        load_csv(path)
    with pytest.raises(ValueError, match=r"n\.csv, line 3: the line holds a NUL byte"):
        convert_csv(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_csv_quotes_bom_crlf_and_line_breaks_in_quoted_fields(tmp_path, small_chunks):
    rows = ['"a","b",label']
    for i in range(40):
        label = '"two\nlines"' if i == 17 else ('"x,y"' if i % 2 else "z")
        rows.append(f'"{i}",{i / 4},{label}')
    path = tmp_path / "q.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    X, y = load_csv(path)
    assert X.tolist() == [[i, i / 4] for i in range(40)]
    assert y[17].splitlines() == ["two", "lines"]
    assert y[1] == "x,y" and y[0] == "z" and len(y) == 40


def test_csv_errors_name_the_right_line_in_any_chunk(tmp_path, small_chunks):
    lines = ["a,b,label"] + [f"{i},{i + 1},{i % 3}" for i in range(100)]
    lines[73] = "1,2"  # line 74 of the file
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"d\.csv, line 74: expected 3 fields, got 2"):
        load_csv(path)
    lines[73] = "1,2,3,4"
    with pytest.raises(ValueError, match=r"line 74: expected 3 fields, got 4"):
        load_csv(write(path, "\n".join(lines) + "\n"))
    lines[73] = "1,inf,2"
    with pytest.raises(ValueError, match=r"line 74, column 'b': the value 'inf' is not finite"):
        load_csv(write(path, "\n".join(lines) + "\n"))


def test_csv_chunked_result_equals_the_row_by_row_reading(tmp_path, small_chunks):
    """Against an independent oracle: Python's csv module and float(), row by row."""
    import csv as pycsv

    rng = np.random.default_rng(1)
    values = rng.standard_normal((300, 3))
    path = tmp_path / "d.csv"
    with path.open("w", newline="") as handle:
        writer = pycsv.writer(handle)
        writer.writerow(["p", "q", "r", "kind"])
        for i, row in enumerate(values):
            writer.writerow([*(repr(float(v)) for v in row), "a b" if i % 7 else "c"])
            if i % 50 == 0:
                handle.write("\n")  # blank lines are skipped
    with path.open(newline="") as handle:
        rows = [r for r in pycsv.reader(handle) if r][1:]
    X, y = load_csv(path)
    np.testing.assert_array_equal(X, [[float(c) for c in r[:3]] for r in rows])
    assert y.tolist() == [r[3] for r in rows]
    X32, _ = load_csv(path, dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_array_equal(X32, X.astype(np.float32))


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 here")
def test_csv_dtype_wider_than_float64_is_refused_not_read_two_ways(tmp_path):
    """The fast pass parsed "0.1" as a long double, the row-by-row pass (any chunk with a
    quoted or odd cell) as a float64 widened: one value, two answers, by chunk."""
    plain = write(tmp_path / "plain.csv", "a,b\n0.1,1\n")
    quoted = write(tmp_path / "quoted.csv", 'a,b\n"0.1" ,1\n')
    for path in (plain, quoted):
        with pytest.raises(ValueError, match=r"dtype must be float16, float32 or float64, got"):
            load_csv(path, dtype=np.longdouble)
    with pytest.raises(ValueError, match=r"dtype must be float16, float32 or float64, got"):
        convert_csv(plain, tmp_path / "out", dtype=np.longdouble)
    assert not (tmp_path / "out").exists()


def test_csv_labels_that_turn_to_text_in_a_later_chunk(tmp_path, small_chunks):
    lines = ["a,label"] + [f"{i},{i % 2}" for i in range(60)] + ["60,007", "61,cat"]
    X, y = load_csv(write(tmp_path / "d.csv", "\n".join(lines) + "\n"))
    assert y.dtype.kind == "U" and y[:2].tolist() == ["0", "1"]
    assert y[-2:].tolist() == ["007", "cat"] and len(X) == 62
    lines = ["a,t"] + [f"{i},{i}" for i in range(60)] + ["60,0.5"]
    _, y = load_csv(write(tmp_path / "r.csv", "\n".join(lines) + "\n"))
    assert y.dtype == np.float64 and y[-1] == 0.5 and y[59] == 59.0


def test_csv_quote_inside_an_unquoted_field_is_a_character(tmp_path, small_chunks):
    """As in Python's csv module (the oracle): a quote opens a quoted field only at a
    field's start; elsewhere, in the header or in a label, it is text like any other."""
    import csv as pycsv

    rows = ['diag_in",weight,model'] + [f"{i},{i / 8},air" for i in range(30)]
    rows[5] = '4,0.5,pro 16"'
    rows[20] = '19,2.375,"a\nb"'
    rows[25] = '24,3,x"y'
    path = write(tmp_path / "q.csv", "\n".join(rows) + "\n")
    with path.open(newline="") as handle:
        expected = list(pycsv.reader(handle))
    X, y = load_csv(path)
    assert len(X) == 30 == len(expected) - 1
    np.testing.assert_array_equal(X, [[float(r[0]), float(r[1])] for r in expected[1:]])
    assert y.tolist() == [r[2] for r in expected[1:]]
    assert y[4] == 'pro 16"' and y[19] == "a\nb" and y[24] == 'x"y'


def test_csv_a_quoted_header_name_after_a_byte_order_mark(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b'\xef\xbb\xbf"a\nq",b,y\n1,2,x\n3,4,z\n')
    X, y = load_csv(path)
    assert X.tolist() == [[1.0, 2.0], [3.0, 4.0]] and y.tolist() == ["x", "z"]
    assert plan_csv(path).header == ("a\nq", "b", "y")


def test_csv_a_header_name_past_the_field_limit_is_refused_naming_the_file(tmp_path):
    """An unquoted name of 200 kB escaped as the csv module's own error ("field larger
    than field limit"), no ValueError and no file named; a quoted one was named."""
    for name, header in [("bare", "a," + "b" * 200_000), ("quoted", 'a,"' + "b" * 200_000 + '"')]:
        path = write(tmp_path / f"{name}.csv", f"{header}\n1,2\n")
        with pytest.raises(ValueError, match=rf"^{name}\.csv, line 1: a field in this record runs"):
            load_csv(path)


def test_csv_a_quoted_field_that_never_closes_is_refused(tmp_path, small_chunks):
    text = 'x1,x2,species\n1.0,2.0,setosa\n1.5,2.5,"versicolor\n3.0,1.0,setosa\n4.0,2.0,b\n'
    path = write(tmp_path / "u.csv", text)
    with pytest.raises(ValueError, match=r"u\.csv, line 3: a quoted field .* never closed"):
        load_csv(path)
    with pytest.raises(ValueError, match=r"line 3: a quoted field .* never closed"):
        convert_csv(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_csv_a_text_field_past_the_field_limit_is_refused_whatever_else_its_chunk_holds(
    tmp_path,
):
    """A label (or an unused column's cell) of 200 kB was read when its chunk parsed
    fast, and refused when a quote anywhere in the chunk sent it to the row-by-row pass,
    the reference: one field, two outcomes."""
    long = "x" * 200_000
    expected = r"line 2: a field in this record runs on for more than 128 kB of text"
    for name, rows in [
        ("plain", [f"1,{long}", "2,y"]),
        ("quoted", [f"1,{long}", '2,"y"']),
    ]:
        path = write(tmp_path / f"{name}.csv", "\n".join(["a,b", *rows]) + "\n")
        with pytest.raises(ValueError, match=rf"{name}\.csv, {expected}"):
            load_csv(path)
    path = write(tmp_path / "unused.csv", f"a,note,b\n1,{long},0\n2,z,1\n")
    with pytest.raises(ValueError, match=rf"unused\.csv, {expected}"):
        load_data(path, features=["a"], target="b")


def test_csv_an_open_quote_costs_bounded_memory(tmp_path):
    """An open quote early in a large file is refused after a bounded stretch of text,
    not read to the end of the file as one field."""
    import tracemalloc

    lines = ["a,b,label", '1,2,"open'] + [f"{i},{i},x" for i in range(400_000)]
    path = write(tmp_path / "o.csv", "\n".join(lines) + "\n")
    assert path.stat().st_size > 4 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"line 2: a (quoted )?field .* (kB|closed)"):
            load_csv(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


def test_a_first_line_without_a_line_break_costs_bounded_memory(tmp_path, monkeypatch):
    """A file with lone carriage returns, or no line break at all, is refused after a
    bounded stretch of its first line, not read whole as the header."""
    import tracemalloc

    from mlpzero.datasets import csv_reader

    monkeypatch.setattr(csv_reader, "HEADER_BYTES", 1 << 16)
    mac = tmp_path / "mac.csv"
    mac.write_bytes(b"a,b,label\r" + b"0.25,0.5,1\r" * 400_000)  # 4.4 MB
    line = tmp_path / "line.csv"
    line.write_bytes(b"a," * 2_000_000 + b"label")  # 4 MB
    refusals = [
        (mac, r"mac\.csv, line 1: lines end with a lone carriage return"),
        (line, r"line\.csv, line 1: the first line runs on for more than 0\.0625 MB without"),
    ]
    for path, match in refusals:
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=match):
                convert_csv(path, tmp_path / "out")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20, (path.name, peak)  # was twice the file's size


def test_a_data_line_without_a_line_break_costs_bounded_memory(tmp_path):
    """After a header ending in \\n, data lines ending in a lone carriage return (or none at
    all) are refused once the line is longer than any row of the table can be (3 fields
    of at most 128 kB each), not read whole as one line."""
    import tracemalloc

    mac = tmp_path / "mac.csv"
    mac.write_bytes(b"a,b,label\n" + b"0.25,0.5,1\r" * 400_000)  # 4.4 MB
    line = tmp_path / "line.csv"
    line.write_bytes(b"a,b,label\n1,2,0\n" + b"0" * (4 << 20))
    refusals = [
        (mac, r"mac\.csv, line 2: the line runs on for more than 1,536 kB .* lone carriage"),
        (line, r"line\.csv, line 3: the line runs on for more than 1,536 kB without a line"),
    ]
    for path, match in refusals:
        for read in (load_csv, lambda path: convert_csv(path, tmp_path / "out")):
            tracemalloc.start()
            try:
                with pytest.raises(ValueError, match=match):
                    read(path)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < 8 << 20, (path.name, peak)  # was three times the file's size


def test_csv_mixed_line_endings_are_refused_naming_the_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"a,b,y\n1,2,0\r3,4,1\n5,6,0\n")
    with pytest.raises(ValueError, match=r"r\.csv, line 2: .*carriage return"):
        load_csv(path)
    path.write_bytes(b"a,b,y\r1,2,0\r3,4,1\r")
    with pytest.raises(ValueError, match=r"r\.csv, line 1: .*lone carriage return"):
        load_csv(path)


def test_a_blank_line_in_a_one_column_table_is_a_missing_value(tmp_path, monkeypatch):
    path = write(tmp_path / "one.csv", "x\n1\n\n3\n4\n")
    with pytest.raises(ValueError, match=r"one\.csv, line 3: the line is blank and data rows"):
        load_data(path, features=["x"], n_features=1)
    ending = write(tmp_path / "end.csv", "x\n1\n2\n\n\n")  # blank lines that only end it
    assert load_data(ending, features=["x"], n_features=1).X.ravel().tolist() == [1.0, 2.0]
    from mlpzero.datasets import csv_reader

    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 64)  # the blank lines end a chunk
    lines = ["x"] + [str(i) for i in range(40)]
    lines[30:30] = ["", ""]  # lines 31 and 32 of the file
    path = write(tmp_path / "chunks.csv", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 31: the line is blank and data rows"):
        load_data(path, features=["x"], n_features=1)
    for text in ('x\n1\n2\n""\n', 'x\n1\n2\n""\n3\n4\n'):  # "" is an empty value
        for chunk in (4, 1 << 20):
            monkeypatch.setattr(csv_reader, "CHUNK_BYTES", chunk)
            with pytest.raises(ValueError, match=r"line 4, column 'x': the value is empty"):
                load_data(write(tmp_path / "q.csv", text), features=["x"], n_features=1)
    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 6)  # a last chunk of blank lines alone
    for text, columns in (("x\n1\n2\n\n\n\n", ["x"]), ("a,y\n1,0\n2,1\n\n\n\n", None)):
        data = load_data(write(tmp_path / "t.csv", text), features=columns, n_features=1)
        assert data.X.ravel().tolist() == [1.0, 2.0]
    data = load_data(write(tmp_path / "ok.csv", "x\n1\n2\n3\n"), features=["x"], n_features=1)
    assert data.X.ravel().tolist() == [1.0, 2.0, 3.0]


def test_one_long_label_cannot_make_the_labels_take_memory_out_of_proportion(tmp_path):
    text = "a,b,y\n" + "1,2,cat\n" * 100_000 + "1,2," + "x" * 1000 + "\n"
    path = write(tmp_path / "l.csv", text)
    with pytest.raises(ValueError, match=r"column 'y': a label of 1,000 characters .* 381 MB"):
        load_csv(path)
    with pytest.raises(ValueError, match=r"a label of 1,000 characters"):
        convert_csv(path, tmp_path / "out")
    # Labels of ordinary lengths are read as before.
    _, y = load_csv(write(tmp_path / "ok.csv", "a,y\n" + "1,cat\n" * 1000 + "2,dog food\n"))
    assert y.dtype == np.dtype("<U8") and y[-1] == "dog food"


def test_a_folder_named_like_a_built_in_dataset_is_never_taken_for_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv_path = write(tmp_path / "mine.csv", "a,b,y\n" + "1,2,0\n3,4,1\n" * 5)
    with pytest.raises(ValueError, match=r"destination 'xor' is the name of a built-in dataset"):
        convert_csv(csv_path, "xor")
    convert_csv(csv_path, "./xor")
    with pytest.raises(ValueError, match=r"'xor' names a built-in dataset and also the folder"):
        load_data("xor")
    assert len(load_data("./xor").X) == 10
    assert len(load_data("moons").X) == 100  # no such folder: the built-in one
    (tmp_path / "circles").write_text("a program, say")  # a file is never a data source
    assert len(load_data("circles").X) == 100


def test_csv_memory_follows_the_arrays_not_the_text(tmp_path):
    import tracemalloc

    rng = np.random.default_rng(0)
    n, f = 40_000, 10
    block = np.round(rng.standard_normal((n, f)), 6)
    path = tmp_path / "m.csv"
    lines = [",".join(f"x{i}" for i in range(f)) + ",label"]
    lines += [",".join(map(str, row)) + f",{i % 5}" for i, row in enumerate(block.tolist())]
    path.write_text("\n".join(lines) + "\n")
    del lines
    size = path.stat().st_size
    tracemalloc.start()
    try:
        X, y = load_csv(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(X, block)
    assert size > 3e6
    # Rows held as lists of str take tens of bytes per cell (36 MB here with the reader
    # this replaced); now X once, y's chunks twice and the work on one chunk (under 10 MB).
    assert peak < X.nbytes + 2 * y.nbytes + 12 * (1 << 20), (peak, X.nbytes)
    assert peak < 4 * size, (peak, size)


# ---------------------------------------------------------------------------- data folders
def test_npy_dir_round_trip_is_memory_mapped_and_checked(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", np.array([0, 1, 0, 1]))
    (folder / "columns.json").write_text('["a", "b", "c"]')
    X2, y2, names = load_npy_dir(folder)
    assert isinstance(X2, np.memmap) and X2.dtype == np.float32 and not X2.flags.writeable
    np.testing.assert_array_equal(X2, X)
    assert y2.tolist() == [0, 1, 0, 1] and names == ["a", "b", "c"]
    X3, y3, _ = load_npy_dir(folder, features_only=True)
    assert y3 is None and X3.shape == (4, 3)
    data = load_data(folder, features=["c", "a", "b"])
    np.testing.assert_array_equal(data.X, X[:, [2, 0, 1]])
    assert data.feature_names == ["c", "a", "b"]


def test_a_folder_in_another_column_order_is_copied_once_ready_for_the_model(tmp_path, monkeypatch):
    # The reordered copy must be C-ordered in X's dtype, so that check_features returns it
    # as it is instead of copying it a second time; it is written a block of rows at a time.
    from mlpzero.datasets import loading
    from mlpzero.validation import check_features

    monkeypatch.setattr(loading, "_REORDER_BYTES", 16)
    folder = tmp_path / "data"
    folder.mkdir()
    X = np.arange(35, dtype=np.float32).reshape(7, 5)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", np.arange(7) % 2)
    (folder / "columns.json").write_text('["a", "b", "c", "d", "e"]')
    data = load_data(folder, features=["e", "a", "d", "b", "c"])
    np.testing.assert_array_equal(data.X, X[:, [4, 0, 3, 1, 2]])
    assert data.X.flags.c_contiguous and data.X.dtype == np.float32
    assert check_features(data.X, dtype=np.float32) is data.X


def test_npy_dir_scan_can_be_left_to_the_fit(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", np.array([[0.0, 1.0], [np.inf, 2.0]]))
    np.save(folder / "y.npy", np.array([0, 1]))
    with pytest.raises(ValueError, match="not finite"):
        load_npy_dir(folder)
    X, y, _ = load_npy_dir(folder, scan=False)  # headers and shapes still checked
    assert X.shape == (2, 2) and np.isinf(X[1, 0]) and y.tolist() == [0, 1]
    data = load_data(folder, scan=False)
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(first at row 1, column"):
        MLP(hidden=(2,)).fit(data.X, data.y, epochs=1)


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ({"X.npy": np.zeros((3, 2))}, r"data: no y\.npy in the folder; it holds \['X\.npy'\]"),
        ({"X.npy": np.zeros(3), "y.npy": np.zeros(3)}, "must be 2-D"),
        ({"X.npy": np.zeros((3, 2)), "y.npy": np.zeros(2)}, r"one entry per row .*\(3\)"),
        ({"X.npy": np.array([["a"]]), "y.npy": np.zeros(1)}, "must be numeric"),
        ({"X.npy": np.array([[np.nan]]), "y.npy": np.zeros(1)}, r"'X\.npy' holds .*not finite"),
        ({"X.npy": np.zeros((2, 2)), "y.npy": np.zeros(2), "columns.json": '["a"]'},
         r"columns\.json names 1 features, but X\.npy has 2"),
        ({"X.npy": np.zeros((2, 2)), "y.npy": np.zeros(2), "columns.json": '["a", "a"]'},
         "names the feature 'a' twice"),
        ({"X.npy": np.zeros((2, 2)), "y.npy": np.zeros(2), "columns.json": "{"},
         "not valid JSON"),
        ({"X.npy": b"not an array", "y.npy": np.zeros(2)}, r"X\.npy: not a valid \.npy"),
    ],
)  # fmt: skip
def test_npy_dir_bad_contents(tmp_path, files, match):
    folder = tmp_path / "data"
    folder.mkdir()
    for name, value in files.items():
        if isinstance(value, np.ndarray):
            np.save(folder / name, value)
        else:
            (folder / name).write_bytes(value if isinstance(value, bytes) else value.encode())
    with pytest.raises(ValueError, match=match):
        load_npy_dir(folder)


def test_npy_dir_refuses_a_truncated_file_and_object_arrays(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", np.zeros((100, 4)))
    np.save(folder / "y.npy", np.zeros(100))
    raw = (folder / "X.npy").read_bytes()
    (folder / "X.npy").write_bytes(raw[:-8])
    with pytest.raises(ValueError, match=r"shape \(100, 4\) .*but the file has"):
        load_npy_dir(folder)
    np.save(folder / "X.npy", np.array([[None]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        load_npy_dir(folder)
    with pytest.raises(FileNotFoundError):
        load_npy_dir(tmp_path / "absent")


def test_an_npy_file_of_a_format_version_numpy_never_wrote_is_named(tmp_path):
    """Version 4.0 (laid out as 2.0) passed the header check and failed in NumPy's reader
    without naming the file, or in an npz as an array that "cannot be read without
    pickle"; 1.5 was read as 2.0, its header length taken from its first bytes."""
    import io

    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "y.npy", np.zeros(3))
    fields = {"descr": "<f8", "fortran_order": False, "shape": (3, 2)}
    for (major, minor), write_header in [
        ((4, 0), np.lib.format.write_array_header_2_0),
        ((1, 5), np.lib.format.write_array_header_1_0),
    ]:
        header = io.BytesIO()
        write_header(header, fields)
        raw = bytearray(header.getvalue() + np.ones((3, 2)).tobytes())
        raw[6:8] = bytes([major, minor])
        (folder / "X.npy").write_bytes(bytes(raw))
        version = rf"not a valid \.npy file \(format version {major}\.{minor}; NumPy writes"
        with pytest.raises(ValueError, match=rf"data/X\.npy: {version}"):
            load_npy_dir(folder)
        with zipfile.ZipFile(tmp_path / "d.npz", "w") as z:
            z.write(folder / "X.npy", "X.npy")
            z.write(folder / "y.npy", "y.npy")
        with pytest.raises(ValueError, match=rf"d\.npz, array 'X': {version}"):
            load_npz(tmp_path / "d.npz")


# ---------------------------------------------------------------------------- convert
def test_convert_writes_what_load_csv_reads(tmp_path, small_chunks):
    rows = ["\ufeffa,b,label"] + [f'{i / 8},"{-i}",{i % 3}' for i in range(50)]
    path = write(tmp_path / "d.csv", "\n".join(rows) + "\n")
    folder = convert_csv(path, tmp_path / "out")
    X, y, names = load_npy_dir(folder)
    X_ref, y_ref = load_csv(path)
    assert X.dtype == np.float32 and y.dtype == np.int64 and names == ["a", "b"]
    np.testing.assert_array_equal(X, X_ref.astype(np.float32))
    np.testing.assert_array_equal(y, y_ref)
    assert sorted(p.name for p in folder.iterdir()) == ["X.npy", "columns.json", "y.npy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "out"]


def test_convert_string_labels_exact_integers_and_float64(tmp_path, small_chunks):
    rows = ["a,kind"] + [f"{i},{'cat' if i % 3 else 'mouse'}" for i in range(40)]
    path = write(tmp_path / "s.csv", "\n".join(rows) + "\n")
    _, y, _ = load_npy_dir(convert_csv(path, tmp_path / "s", dtype="float64"))
    assert y.tolist() == load_csv(path)[1].tolist()
    rows = ["a,label"] + [f"{i},{9007199254740992 + i % 2}" for i in range(40)]
    path = write(tmp_path / "i.csv", "\n".join(rows) + "\n")
    _, y, _ = load_npy_dir(convert_csv(path, tmp_path / "i"))
    assert y.dtype == np.int64 and y[:2].tolist() == [9007199254740992, 9007199254740993]
    rows.append("1,x")
    path = write(tmp_path / "w.csv", "\n".join(rows) + "\n")  # text only in the last chunk
    X, y, _ = load_npy_dir(convert_csv(path, tmp_path / "w", dtype="float64"))
    assert X.dtype == np.float64 and y.tolist() == load_csv(path)[1].tolist()
    assert y[1] == "9007199254740993"


def test_convert_a_bad_row_leaves_nothing_behind(tmp_path, small_chunks):
    rows = ["a,b,label"] + [f"{i},{i},{i % 2}" for i in range(60)]
    rows[45] = "1,oops,0"
    path = write(tmp_path / "d.csv", "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"d\.csv, line 46, column 'b'.*not a number: 'oops'"):
        convert_csv(path, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_convert_refuses_an_existing_folder_with_files(tmp_path):
    path = write(tmp_path / "d.csv", "a,label\n1,0\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="already exists and is not empty"):
        convert_csv(path, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="exists and is not a folder"):
        convert_csv(path, path)
    (tmp_path / "empty").mkdir()
    _, y, _ = load_npy_dir(convert_csv(path, tmp_path / "empty"))
    assert y.tolist() == [0]


def test_convert_names_a_destination_that_is_no_folder_path(tmp_path):
    """A bytes or numeric destination failed, after the CSV was read, with Path's own
    words, which name neither the argument nor what it got."""
    path = write(tmp_path / "d.csv", "a,label\n1,0\n")
    for destination in (b"out", 3):
        kind = type(destination).__name__
        with pytest.raises(TypeError, match=f"destination must be a folder path, got {kind}"):
            convert_csv(path, destination)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_convert_fills_an_empty_folder_where_it_is_and_makes_a_new_one_as_mkdir_does(tmp_path):
    import stat

    path = write(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    shared = tmp_path / "disk" / "shared"
    shared.mkdir(parents=True)
    shared.chmod(0o2775)  # a folder prepared for a group
    link = tmp_path / "data"
    link.symlink_to(shared)  # the empty folder, on another disk say
    _, y, _ = load_npy_dir(convert_csv(path, link))
    assert y.tolist() == [0, 1] and link.is_symlink()
    assert sorted(p.name for p in shared.iterdir()) == ["X.npy", "columns.json", "y.npy"]
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2775
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "data", "disk"]
    (tmp_path / "made").mkdir()
    convert_csv(path, tmp_path / "new")  # readable as any folder the user makes, not 0700
    assert (tmp_path / "new").stat().st_mode == (tmp_path / "made").stat().st_mode
    rows = "a,label\n1,0\n2,x\n3,oops,1\n"
    with pytest.raises(ValueError, match="line 4: expected 2 fields"):
        convert_csv(write(tmp_path / "bad.csv", rows), tmp_path / "disk" / "empty")
    (tmp_path / "disk" / "empty").mkdir()
    with pytest.raises(ValueError, match="line 4: expected 2 fields"):
        convert_csv(tmp_path / "bad.csv", tmp_path / "disk" / "empty")
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["empty", "shared"]
    assert list((tmp_path / "disk" / "empty").iterdir()) == []


def test_convert_killed_while_filling_a_folder_leaves_it_usable_for_a_rerun(tmp_path):
    """A conversion killed mid-way (no chance to clean up) leaves its scratch folder in
    the empty destination it was filling; a rerun takes that folder as empty still, and
    removes the leftover once its own data is in place."""
    import os
    import subprocess
    import sys

    path = write(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    out = tmp_path / "out"
    out.mkdir()
    script = (
        "import os, signal, sys\n"
        "from mlpzero.datasets import convert\n"
        "def killed(plan, work, bar):\n"
        "    (work / 'X.npy').write_bytes(b'partial')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "convert._write = killed\n"
        "convert.convert_csv(sys.argv[1], sys.argv[2])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", script, str(path), str(out)], env=env, timeout=120, check=False
    )
    assert run.returncode != 0
    assert [p.name.endswith(".partial") for p in out.iterdir()] == [True]  # the leftover
    _, y, _ = load_npy_dir(convert_csv(path, out))
    assert y.tolist() == [0, 1]
    assert sorted(p.name for p in out.iterdir()) == ["X.npy", "columns.json", "y.npy"]


def test_labels_too_wide_together_are_refused_as_the_chunks_come(tmp_path, monkeypatch):
    """Each chunk's labels fitted the bound against its own text, and the whole was
    checked only at the end: load_csv held, and convert wrote to a scratch file, every
    chunk's labels first, up to the slack once per chunk."""
    from mlpzero.datasets import csv_reader

    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 1 << 11)  # each chunk within its bound
    monkeypatch.setattr(csv_reader, "LABEL_SLACK_BYTES", 1 << 16)
    lines = [f"1,{'x' * 40 if i % 100 == 0 else 'cat'}\n" for i in range(20_000)]
    path = write(tmp_path / "w.csv", "a,y\n" + "".join(lines))
    real, read_rows = csv_reader._read_chunks, []

    def counted(*args):
        for chunk, y, size in real(*args):
            read_rows.append(len(chunk))
            yield chunk, y, size

    monkeypatch.setattr(csv_reader, "_read_chunks", counted)
    for read in (lambda: load_csv(path), lambda: convert_csv(path, tmp_path / "out")):
        read_rows.clear()
        with pytest.raises(ValueError, match=r"a label of 40 characters"):
            read()
        # 160 bytes a label against 8 x the file's 6-7 bytes a row and 64 kB: by row 7,100
        assert sum(read_rows) < 10_000, sum(read_rows)


def _convert_peaks(tmp_path, monkeypatch, header, make_rows):
    """Peak traced memory of ``convert_csv`` on a file and on four times it, chunks of
    256 kB; ``make_rows(copies)`` gives the lines after ``header``."""
    import tracemalloc

    from mlpzero.datasets import csv_reader

    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 1 << 18)
    peaks = {}
    for copies in (1, 4):
        path = tmp_path / f"c{copies}.csv"
        path.write_text(header + "".join(make_rows(copies)))
        tracemalloc.start()
        try:
            convert_csv(path, tmp_path / f"out{copies}")
            peaks[copies] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[4] < 1.25 * peaks[1] + (1 << 18), peaks  # bounded by the chunk, not the file
    return peaks


def test_convert_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    block = np.round(rng.standard_normal((10_000, 10)), 6)
    text = "".join(",".join(map(str, r)) + f",{i % 4}\n" for i, r in enumerate(block.tolist()))
    header = "a,b,c,d,e,f,g,h,i,j,label\n"
    peaks = _convert_peaks(tmp_path, monkeypatch, header, lambda copies: [text] * copies)
    X, _, _ = load_npy_dir(tmp_path / "out4")
    assert X.shape == (40_000, 10) and (tmp_path / "c4.csv").stat().st_size > 3.5e6
    assert peaks[4] < 16 * (1 << 18), peaks


def test_convert_memory_does_not_grow_with_the_file_for_distinct_text_labels(tmp_path, monkeypatch):
    """Text labels were gathered into a table of the distinct ones: with a label per row
    (an id column taken as the target, say) a 15 MB file peaked at 240 MB."""

    def rows(copies):
        return (f"{i % 7},{i % 5},id{i:08d}\n" for i in range(50_000 * copies))

    _convert_peaks(tmp_path, monkeypatch, "a,b,id\n", rows)
    X, y, _ = load_npy_dir(tmp_path / "out4")
    assert y.dtype == np.dtype("<U10") and len(y) == len(X) == 200_000
    assert y[0] == "id00000000" and y[-1] == "id00199999" and y[123_456] == "id00123456"


def test_convert_shows_progress_on_stderr_when_asked(tmp_path, capsys):
    path = write(tmp_path / "d.csv", "a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
    convert_csv(path, tmp_path / "quiet")
    assert capsys.readouterr().err == ""  # a small file: no bar
    convert_csv(path, tmp_path / "shown", progress=True)
    captured = capsys.readouterr()
    assert "converting d.csv" in captured.err and captured.out == ""


def test_a_target_column_for_a_source_that_is_not_a_csv_is_refused(tmp_path):
    from mlpzero.datasets import load_data

    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.array([0, 1, 0]))
    for source in ("moons", tmp_path / "d.npz", tmp_path):
        with pytest.raises(ValueError, match="target='a' names a CSV column"):
            load_data(source, target="a")


def test_a_target_that_is_not_a_finite_number_names_its_line(tmp_path, small_chunks):
    lines = ["a,t"] + [f"{i},{i / 2}" for i in range(40)]
    lines[31] = "30,nan"  # line 32 of the file
    with pytest.raises(ValueError, match=r"d\.csv, line 32, column 't': the target 'nan' is not"):
        load_csv(write(tmp_path / "d.csv", "\n".join(lines) + "\n"))
    lines[31] = "30,-inf"
    with pytest.raises(ValueError, match=r"line 32, .*'-inf' is not a finite number"):
        load_csv(write(tmp_path / "d.csv", "\n".join(lines) + "\n"))


def test_load_data_checks_split_and_features(tmp_path):
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test', got 'tset'"):
        load_data("mnist", split="tset")
    path = write(tmp_path / "d.csv", "a,b,y\n1,2,0\n")
    with pytest.raises(TypeError, match=r"features must be a list of column names, got the"):
        load_data(path, features="ab")


def test_load_data_refuses_a_sample_count_for_data_that_has_its_own(tmp_path):
    """n_samples sizes a generated dataset; a file (or the digits) came back whole with
    it, more rows than asked for, without a word (the command line refuses --samples)."""
    path = write(tmp_path / "d.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n")
    for source in (path, str(path), "digits"):
        with pytest.raises(ValueError, match=r"n_samples=2 applies to the generated datasets"):
            load_data(source, n_samples=2)
    assert len(load_data("moons", n_samples=6).X) == 6


def test_convert_takes_only_its_own_scratch_folders_for_leftovers(tmp_path):
    """A folder of the user's that happens to be named like a scratch folder is data: it
    keeps the destination from being empty and is never removed."""
    path = write(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    out = tmp_path / "out"
    mine = out / ".out.notes.partial"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="already exists and is not empty"):
        convert_csv(path, out)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_features_by_name_of_a_wide_table_are_matched_in_linear_time(tmp_path):
    """60,000 named columns, read in a model's order: a scan of the header per feature
    makes 3.6e9 comparisons, many seconds; looked up by name, the match is linear."""
    import json
    import time

    names = [f"c{i}" for i in range(60_000)]
    order = names[::-1]
    csv = write(tmp_path / "wide.csv", ",".join([*names, "y"]) + "\n" + ",".join("0" * 60_001))
    folder = tmp_path / "wide"
    folder.mkdir()
    np.save(folder / "X.npy", np.arange(60_000.0)[None, :])
    np.save(folder / "y.npy", np.array([1.0]))
    (folder / "columns.json").write_text(json.dumps(names))
    start = time.perf_counter()
    plan = plan_csv(csv, features=order)
    data = load_data(folder, features=order)
    assert time.perf_counter() - start < 5
    assert plan.features == tuple(range(59_999, -1, -1)) and plan.target == 60_000
    assert data.X.ravel().tolist() == list(np.arange(60_000.0)[::-1])
    for source in (csv, folder):  # a name missing: the error names it, the lists in brief
        with pytest.raises(ValueError, match="has no column 'd'") as caught:
            load_data(source, features=[*order[1:], "d"])
        assert len(str(caught.value)) < 400


def _npy_bytes_with_shape(shape, data=b""):
    """A ``.npy`` file of float64 whose header declares ``shape`` (as is, even negative)."""
    text = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return np.lib.format.magic(1, 0) + len(text).to_bytes(2, "little") + text + data


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ((-2, -3), "negative size"),
        ((-1, 5), "negative size"),
        ((3, -1), "negative size"),
        # NumPy's header reader took True for 1; mapping the array then failed with a bare
        # "TypeError: an integer is required", naming no file.
        ((True, 2), "size that is not an integer"),
        ((2, True), "size that is not an integer"),
        ((3, False), "size that is not an integer"),
    ],
)
def test_a_npy_header_with_a_size_numpy_takes_but_cannot_map_is_refused_naming_the_file(
    tmp_path, shape, problem
):
    data = b"\0" * 48  # as many bytes as (-2) x (-3) values take
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "X.npy").write_bytes(_npy_bytes_with_shape(shape, data))
    np.save(folder / "y.npy", np.zeros(2))
    with pytest.raises(ValueError, match=rf"data/X\.npy: .*{problem}"):
        load_npy_dir(folder, features_only=True)
    archive = tmp_path / "data.npz"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("X.npy", _npy_bytes_with_shape(shape, data))
    with pytest.raises(ValueError, match=rf"data\.npz, array 'X': .*{problem}"):
        load_npz(archive, features_only=True)


@pytest.mark.parametrize("shape", [(0, 10**30), (10**30, 0), (0, 2**62, 2**62)])
def test_a_npy_header_of_no_values_but_a_size_numpy_cannot_hold_is_refused_naming_it(
    tmp_path, shape
):
    """No values, so no shortfall of data: NumPy's "Maximum allowed dimension exceeded"
    or "array is too big" came out unnamed, and an npz raised an OverflowError."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "X.npy").write_bytes(_npy_bytes_with_shape(shape))
    with pytest.raises(ValueError, match=r"data/X\.npy: .*larger than NumPy can hold"):
        load_npy_dir(folder, features_only=True)
    archive = tmp_path / "data.npz"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("X.npy", _npy_bytes_with_shape(shape))
    with pytest.raises(ValueError, match=r"data\.npz, array 'X': .*larger than NumPy can hold"):
        load_npz(archive, features_only=True)


@pytest.mark.parametrize("delimiter", ['"', "\n", "\r"])
def test_a_delimiter_the_csv_rules_give_another_meaning_is_refused_by_name(tmp_path, delimiter):
    # a quote raised the csv module's TypeError about "control characters"; a line break
    # read the header as one column and blamed the table
    path = tmp_path / "t.csv"
    path.write_text(f"a{delimiter}b\n1{delimiter}2\n")
    with pytest.raises(ValueError, match=rf"^delimiter must be .*got {re.escape(repr(delimiter))}"):
        load_csv(path, delimiter=delimiter)


def test_a_deeply_nested_columns_file_is_refused_naming_it(tmp_path):
    # json raised its RecursionError, which named no file
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", np.zeros((2, 2)))
    np.save(folder / "y.npy", np.zeros(2))
    (folder / "columns.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"^data/columns\.json is not valid JSON: .*recursion"):
        load_npy_dir(folder)


def test_a_repeated_name_at_the_end_of_many_columns_is_found_in_one_pass(tmp_path):
    """The repeated name was found by counting each name among all of them: 100,000
    columns whose last name repeats the one before took minutes (a header-only X.npy of
    that width is a few bytes)."""
    folder = tmp_path / "data"
    folder.mkdir()
    n = 100_000
    np.save(folder / "X.npy", np.zeros((0, n)))
    names = [f"c{i}" for i in range(n - 1)] + [f"c{n - 2}"]
    (folder / "columns.json").write_text(json.dumps(names))
    started = time.perf_counter()
    with pytest.raises(
        ValueError, match=rf"^data/columns\.json names the feature 'c{n - 2}' twice"
    ):
        load_npy_dir(folder, features_only=True)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("rows", [0, 3])
def test_a_data_folder_s_arrays_are_read_only_even_when_empty(tmp_path, rows):
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", np.zeros((rows, 2)))
    np.save(folder / "y.npy", np.zeros(rows))
    X, y, _ = load_npy_dir(folder)
    assert not X.flags.writeable and not y.flags.writeable


def _zip_with_field(path, offset_in_entry, value, width=2):
    """``path``'s zip archive with a field of every member's local and central entry
    (``offset_in_entry`` bytes after the local entry's signature; 2 more in the central
    entry, which also holds the version made by) set to ``value``."""
    data = bytearray(path.read_bytes())
    for signature, shift in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):
        start = data.find(signature)
        while start >= 0:
            at = start + offset_in_entry + shift
            data[at : at + width] = value.to_bytes(width, "little")
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("offset", "value", "what"),
    [(8, 99, "compression method 99"), (6, 1, "encrypted"), (4, 99, "zip version 9.9")],
)
def test_an_npz_archive_zipfile_cannot_read_is_refused_naming_it(tmp_path, offset, value, what):
    # zipfile raised NotImplementedError (a compression or version it does not know) or
    # RuntimeError (an encrypted member), which the reader let through
    path = tmp_path / "odd.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.zeros(3))
    _zip_with_field(path, offset, value)
    with pytest.raises(ValueError, match=r"^odd\.npz is not a readable \.npz archive: "):
        load_npz(path)


def test_an_npz_archive_whose_directory_is_damaged_is_closed_after_the_error(tmp_path):
    # NumPy leaves the file it opened open when its zip directory cannot be read
    path = tmp_path / "damaged.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.zeros(3))
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x01\x02") : data.index(b"PK\x01\x02") + 4] = b"QQQQ"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"^damaged\.npz is not a readable \.npz archive"):
            load_npz(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_npy_header_numpy_cannot_tokenize_is_refused_naming_the_file(tmp_path):
    # an unclosed parenthesis made NumPy's fallback parser raise tokenize's TokenError
    text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, "
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    folder = tmp_path / "data"
    folder.mkdir()
    header = np.lib.format.magic(1, 0) + len(text).to_bytes(2, "little") + text
    (folder / "X.npy").write_bytes(header + bytes(48))
    with pytest.raises(ValueError, match=r"^data/X\.npy: not a valid \.npy file"):
        load_npy_dir(folder, features_only=True)
