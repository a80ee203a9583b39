import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.datasets import load_csv, load_npz


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


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
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
    with pytest.raises(ValueError, match=r"not a readable \.npz archive"):
        load_npz(tmp_path / "junk.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        load_npz(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "missing.npz")


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
