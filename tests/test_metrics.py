import tracemalloc

import numpy as np
import pytest

from mlpzero.metrics import confusion_matrix, label_pair, r2_score


def test_confusion_matrix_counts_by_hand():
    y_true = ["cat", "dog", "cat", "bird", "dog", "cat"]
    y_pred = ["cat", "cat", "cat", "bird", "dog", "bird"]
    counts, labels = confusion_matrix(y_true, y_pred)
    assert labels.tolist() == ["bird", "cat", "dog"]
    #                 predicted: bird cat dog
    expected = [[1, 0, 0], [1, 2, 0], [0, 1, 1]]  # true bird, cat, dog
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.int64 and counts.sum() == 6


def test_confusion_matrix_with_a_given_order_and_absent_labels():
    counts, labels = confusion_matrix([2, 0, 2], [2, 2, 2], labels=[2, 1, 0])
    assert labels.tolist() == [2, 1, 0]
    np.testing.assert_array_equal(counts, [[2, 0, 0], [0, 0, 0], [1, 0, 0]])


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="not in labels"):
        confusion_matrix([0, 1, 5], [0, 1, 1], labels=[0, 1])
    with pytest.raises(ValueError, match="distinct"):
        confusion_matrix([0], [0], labels=[0, 0])
    with pytest.raises(ValueError, match="1-D"):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 2)))
    # Numbers against their names: NumPy would compare them as text, and nothing matches.
    with pytest.raises(ValueError, match=r"y_true holds numbers .* and y_pred strings"):
        confusion_matrix([0, 1, 1], ["0", "1", "1"])


def test_r2_score_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, 2.5)) == 0.0
    # residuals 0.5, -0.5, 0, 0 -> 0.5; spread 5 -> 1 - 0.1
    assert r2_score(y, [0.5, 2.5, 3.0, 4.0]) == pytest.approx(0.9)
    assert r2_score([3.0, 3.0], [3.0, 3.0]) == 1.0


@pytest.mark.parametrize("scale", [1e-312, 1e-200, 1e-160, 1e160, 1e200, 1e300])
def test_r2_score_is_the_same_at_any_magnitude(scale):
    # R^2 is a ratio: the values' scale does not change it. Squared, tiny values
    # underflowed to 0 and scored a perfect 1.0; huge ones overflowed to NaN. Targets
    # below the smallest normal float64 (1e-312) scored NaN: the factor that scaled them
    # up, 2^1034, was itself beyond the largest float64.
    y = np.array([1.0, 2.0, 3.0])
    assert r2_score(y * scale, y[::-1] * scale) == pytest.approx(-3.0)
    assert r2_score(y * scale, [0.5 * scale, 2 * scale, 3 * scale]) == pytest.approx(0.875)


def test_r2_score_of_outputs_far_beyond_the_targets_is_minus_infinity():
    assert r2_score([1e-300, 2e-300], [1e300, -1e300]) == -np.inf


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([1.0, 2.0, 3.0], [1.0, np.nan, 3.0], r"y_pred holds nan at index 1"),
        ([1.0, np.inf, 3.0], [1.0, 2.0, 3.0], r"y_true holds inf at index 1"),
        ([[1.0, 2.0], [3.0, -np.inf]], np.ones((2, 2)), r"y_true holds -inf at index \(1, 1\)"),
        ([1.0, 2.0], [1.0 + 1j, 2.0], "y_pred must hold real numbers"),
        ([[1.0, 2.0], [3.0]], [1.0, 2.0, 3.0], "y_true must hold numbers"),
        (1.0, 1.0, "y_true must hold one value per sample"),
    ],
)
def test_r2_score_refuses_values_it_cannot_score_by_name(y_true, y_pred, match):
    # NaN scored NaN in silence, infinity warned, and the others raised NumPy's own
    # messages (a scalar: "axis 0 is out of bounds")
    with pytest.raises(ValueError, match=match):
        r2_score(y_true, y_pred)


def test_confusion_matrix_with_no_labels_given_names_the_labels_it_misses():
    # labels=[] raised "IndexError: index -1 is out of bounds for axis 0 with size 0"
    with pytest.raises(ValueError, match=r"y_true holds labels not in labels: \[1\]"):
        confusion_matrix([1, 1], [1, 1], labels=[])
    counts, labels = confusion_matrix([], [], labels=[])
    assert counts.shape == (0, 0) and labels.size == 0


def test_confusion_matrix_takes_the_memory_of_its_counts_once():
    # the counts were copied into a second int64 matrix of k * k cells
    labels = np.arange(1500)
    tracemalloc.start()
    try:
        counts, _ = confusion_matrix(labels, labels[::-1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts.dtype == np.int64 and counts.sum() == 1500
    assert peak < 1.25 * counts.nbytes


@pytest.mark.parametrize(
    ("y_true", "match"),
    [
        (np.array(["a", None, "b"], dtype=object), r"^y_true holds None at index 1: a label"),
        ([["a", "b"], ["a"], ["b"]], r"^y_true could not be read as an array: "),
    ],
)
def test_confusion_matrix_names_a_missing_or_ragged_y_true(y_true, match):
    # None made the sort raise "'<' not supported between instances of 'NoneType' and
    # 'str'", and ragged rows NumPy's "setting an array element with a sequence"
    with pytest.raises(ValueError, match=match):
        confusion_matrix(y_true, ["a", "b", "b"])


def test_confusion_matrix_names_a_missing_label_rather_than_calling_it_unknown():
    # without labels=, "y_true holds labels not in labels: [nan]" blamed an argument
    # that was never given
    with pytest.raises(ValueError, match=r"y_true holds NaN at index 1"):
        confusion_matrix([0.0, np.nan, 1.0], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"y_pred holds NaN at index 0"):
        confusion_matrix([0.0, 1.0], [np.nan, 1.0], labels=[0.0, 1.0])


def test_r2_score_refuses_mismatched_or_empty_inputs_by_name():
    with pytest.raises(ValueError, match=r"y_true and y_pred .* shapes \(3,\) and \(2,\)"):
        r2_score([1.0, 2.0, 3.0], [1.0, 2.0])
    # the same number of values in other rows would be compared out of order
    with pytest.raises(ValueError, match=r"shapes \(3, 2\) and \(2, 3\)"):
        r2_score(np.zeros((3, 2)), np.zeros((2, 3)))
    # a mean over no samples warned and then scored a perfect 1.0
    with pytest.raises(ValueError, match="at least one sample"):
        r2_score([], [])
    assert r2_score([[1.0], [2.0], [4.0]], [1.0, 2.0, 4.0]) == 1.0  # a column is one output


def test_r2_score_refuses_a_scalar_by_name():
    # two single numbers failed inside NumPy: "axis 0 is out of bounds for array of
    # dimension 0", naming neither argument
    with pytest.raises(ValueError, match=r"y_true must hold one value per sample, got the single"):
        r2_score(3.0, 3.0)


def test_confusion_matrix_refuses_measurements_for_labels():
    """Regression values, each its own label, gave a matrix of 3000 x 3000 counts from
    3000 samples (and a figure that took a minute and 800 MB to draw)."""
    values = np.random.default_rng(0).standard_normal(3000)
    for y_true, y_pred, name in ((values, values.round(), "y_true"), ([0, 1], [0.5, 1], "y_pred")):
        with pytest.raises(ValueError, match=rf"^{name} holds .* at index 0: a confusion matrix"):
            confusion_matrix(y_true, y_pred)
    counts, labels = confusion_matrix([0.0, 1.0, 2.0], [0.0, 2.0, 2.0])
    assert labels.tolist() == [0.0, 1.0, 2.0] and counts.trace() == 2
    counts, labels = confusion_matrix([0.5, 1.5], [0.5, 0.5], labels=[0.5, 1.5])
    assert counts.tolist() == [[1, 0], [1, 0]]


@pytest.mark.parametrize(
    "labels, y_pred, message",
    [
        (["a", 1], ["a"], r"labels holds strings \(\['a', '1'\], ...\) and y_true numbers"),
        ([0, 1], ["0"], r"labels holds numbers \(\[0, 1\], ...\) and y_pred strings"),
    ],
)
def test_confusion_matrix_names_labels_of_another_kind_than_the_values(labels, y_pred, message):
    """A list mixing strings and numbers is read as text, so the number 1 was "not in
    labels" though the list held it."""
    y_true = [1] if isinstance(labels[0], str) else [0]
    with pytest.raises(ValueError, match=message):
        confusion_matrix(y_true, y_pred, labels=labels)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "labels", "message"),
    [
        # a pandas object column mixing numbers and text
        (np.array([1, "a"], dtype=object), [1, 1], None, r"^y_true and y_pred mix labels"),
        (np.array([1, 2], dtype=object), ["1", "2"], None, r"^y_true and y_pred mix labels"),
        ([1, 2], [1, 2], np.array([1, "a"], dtype=object), r"^labels mix labels"),
        ([1, 2], [1, 2], [1, 2, None], r"^labels mix labels .*NoneType, int"),
        (np.array([1, "a"], dtype=object), [1, 1], [1, 2], r"^y_true holds labels that"),
    ],
)
def test_confusion_matrix_names_labels_that_cannot_be_sorted(y_true, y_pred, labels, message):
    # the sort raised Python's bare "'<' not supported between instances of 'str' and 'int'"
    with pytest.raises(ValueError, match=message):
        confusion_matrix(y_true, y_pred, labels=labels)


def test_confusion_matrix_names_a_missing_date_label():
    # NaT, the missing date, was "not in labels", an argument that was never given
    days = np.array(["2024-01-01", "NaT", "2024-01-02"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"^y_true holds NaT at index 1: a label cannot be"):
        confusion_matrix(days, days[[0, 0, 2]])
    counts, labels = confusion_matrix(days[[0, 2]], days[[0, 0]])
    assert counts.tolist() == [[1, 0], [1, 0]] and len(labels) == 2


@pytest.mark.parametrize("value", [0.3, 1 / 3, 7.7])
def test_r2_score_of_constant_targets_is_zero_whatever_their_rounded_mean(value):
    # The mean of ten copies of 0.3 rounds to a neighbour of 0.3, whose tiny spread
    # gave an R^2 of -3e28 for predictions 0.01 off.
    y = np.full(10, value)
    assert r2_score(y, y + 0.01) == 0.0
    assert r2_score(y, y) == 1.0
    # Beside a varying output, the constant one adds no spread.
    both = np.c_[y, np.arange(10.0)]
    assert r2_score(both, both + np.array([0.0, 1.0])) == pytest.approx(1 - 10 / 82.5)


@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
def test_confusion_matrix_reads_numpy_string_dtype_labels_as_text():
    """NumPy's StringDType labels (a model trained on them predicts them) were refused
    against the same labels as fixed-width text as "str against str", met NumPy's
    promotion error against numbers, and a missing one raised "Cannot compare null"."""
    text = np.dtypes.StringDType()
    y_true = np.array(["cat", "dog", "cat"], dtype=text)
    counts, labels = confusion_matrix(y_true, np.array(["cat", "cat", "cat"]))
    assert counts.tolist() == [[2, 0], [1, 0]] and labels.tolist() == ["cat", "dog"]
    assert confusion_matrix(y_true, y_true.astype(object))[0].trace() == 3
    with pytest.raises(ValueError, match=r"^y_true holds strings .* and y_pred numbers"):
        confusion_matrix(y_true, [1, 2, 1])
    with pytest.raises(ValueError, match=r"^y_true holds strings .* and y_pred numbers"):
        label_pair(y_true, [1, 2, 1])
    counts, labels = confusion_matrix(["dog", "cat"], ["cat", "cat"], labels=y_true[1::-1])
    assert counts.tolist() == [[0, 1], [0, 1]] and labels.tolist() == ["dog", "cat"]
    with pytest.raises(ValueError, match=r"^labels holds strings .* and y_true numbers"):
        confusion_matrix([1, 2], [1, 1], labels=y_true[:2])
    for missing in (None, np.nan):
        with_missing = np.array(
            ["cat", missing, "dog"], dtype=np.dtypes.StringDType(na_object=missing)
        )
        with pytest.raises(ValueError, match=r"^y_true holds .* at index 1: a label cannot be"):
            confusion_matrix(with_missing, ["cat", "cat", "cat"])
        with pytest.raises(ValueError, match=r"^labels holds .* at index 1: a label cannot be"):
            confusion_matrix(["cat"], ["cat"], labels=with_missing)
