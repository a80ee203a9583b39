"""The demo's next steps, run in full: each reaches its result and writes its figures."""

from mlpzero import demo_next
from mlpzero.demo import Context

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def written(out):
    return {path.stem for path in out.glob("*.png") if path.read_bytes()[:8] == PNG_SIGNATURE}


def test_spirals_three_classes(tmp_path):
    (row,) = demo_next.spirals(Context(out=tmp_path))
    assert row["layers"] == "2-32-32-3"
    assert row["accuracy"] >= 0.97
    assert written(tmp_path) == {"spirals_3_classes"}


def test_regression_curve_fits_down_to_the_noise(tmp_path):
    (row,) = demo_next.regression_curve(Context(out=tmp_path))
    assert row["layers"] == "1-32-32-1" and row["accuracy"] is None
    # the samples carry noise of variance 0.01: a good fit has about that mean squared error
    assert 0.005 < row["mse"] < 0.02
    assert written(tmp_path) == {"regression_curve", "regression_predicted_vs_true"}


def test_digits_step_reports_the_recipe_accuracy(tmp_path):
    (row,) = demo_next.digits(Context(out=tmp_path))
    assert row["layers"] == "64-128-10"
    assert row["accuracy"] >= 0.975
    assert written(tmp_path) == {
        "digits_confusion",
        "digits_misclassified",
        "digits_curves",
        "digits_weights",
    }


def test_digits_step_is_skipped_without_scikit_learn(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    (row,) = demo_next.digits(Context(out=tmp_path))
    assert "skipped" in row["experiment"] and row["accuracy"] is None
    assert written(tmp_path) == set()
