"""The demo: the article's experiments and its next steps, their figures and the printed
table. First the whole run and its table, then the article's steps in full, then the next
steps in full."""

import sys

import pytest

from mlpzero import demo
from mlpzero.cli import main
from mlpzero.demo import Context, next_steps

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = {"activations", "linear", "xor", "circles", "activation_comparison"}
# the next steps (mlpzero.demo.next_steps) that follow the article's experiments
FIGURES |= {"spirals_3_classes", "regression_curve", "regression_predicted_vs_true"}
FIGURES |= {f"digits_{name}" for name in ("confusion", "misclassified", "curves", "weights")}
EXPERIMENTS = [
    "activations",
    "linear",
    "xor",
    "circles",
    "circles (sigmoid)",
    "circles (tanh)",
    "circles (relu)",
    "spirals (3 classes)",
    "digits (test set)",
    "regression 1-D curve",
]


def written(out):
    return {path.stem for path in out.glob("*.png") if path.read_bytes()[:8] == PNG_SIGNATURE}


def check_figures(out):
    written = {path.stem for path in out.glob("*.png")}
    assert written == FIGURES
    for path in out.glob("*.png"):
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 5000, path.name


# ------------------------------------------------------------ the run and its table
def test_quick_run_writes_every_figure_and_the_table(tmp_path, capsys):
    rows = demo.run(tmp_path / "out", epoch_scale=0.01)
    assert [row["experiment"] for row in rows] == EXPERIMENTS
    check_figures(tmp_path / "out")
    layers = {row["experiment"]: row["layers"] for row in rows}
    assert layers["linear"] == "2-4-3-1"
    assert layers["xor"] == "2-8-4-1"
    assert layers["circles"] == "2-16-8-1"
    epochs = {row["experiment"]: row["epochs"] for row in rows}
    assert epochs == {
        "activations": 0,
        "linear": 20,
        "xor": 100,
        "circles": 150,
        "circles (sigmoid)": 100,
        "circles (tanh)": 100,
        "circles (relu)": 100,
        "spirals (3 classes)": 10,
        "digits (test set)": 1,
        "regression 1-D curve": 3,
    }
    for row in rows[1:-1]:
        assert 0.0 <= row["accuracy"] <= 1.0 and row["seconds"] >= 0
        assert row["figure"].exists()
    assert rows[-1]["accuracy"] is None and rows[-1]["mse"] > 0  # regression
    printed = capsys.readouterr().out
    table = printed[printed.index("experiment") :].splitlines()
    assert table[0].split() == ["experiment", "layers", "epochs", "accuracy", "seconds"]
    for name, line in zip(EXPERIMENTS, table[2:], strict=False):
        assert line.startswith(name)
    assert demo.format_table(rows) in printed


def test_steps_can_be_appended(tmp_path):
    def extra(context):
        return [
            {
                "experiment": "extra",
                "layers": "1-1",
                "activation": "relu",
                "epochs": context.epochs(1000),
                "accuracy": 0.5,
                "seconds": 0.0,
                "figure": None,
            }
        ]

    rows = demo.run(tmp_path, epoch_scale=0.5, steps=[extra], verbose=False)
    assert rows[0]["epochs"] == 500
    assert "extra" in demo.format_table(rows)
    assert demo.STEPS[:5] == [
        demo.activations_figure,
        demo.linear,
        demo.xor,
        demo.circles,
        demo.activation_comparison,
    ]


@pytest.mark.parametrize("scale", [0, 1.5, -1, "fast", True])
def test_bad_epoch_scale(tmp_path, scale):
    with pytest.raises(ValueError, match="epoch_scale"):
        demo.run(tmp_path, epoch_scale=scale)
    assert not any(tmp_path.iterdir())


def test_table_shows_the_error_of_a_regression_row():
    row = {
        "experiment": "curve",
        "layers": "1-8-1",
        "epochs": 10,
        "accuracy": None,
        "seconds": 0.5,
        "mse": 0.01234,
    }
    table = demo.format_table([row])
    assert "MSE 0.0123" in table.splitlines()[-1]


@pytest.mark.slow
def test_full_demo_through_the_command(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    check_figures(tmp_path)
    printed = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in printed


# ------------------------------------------------------------ the article's steps, in full
def test_linear_xor_and_circles_reach_99_percent(tmp_path):
    # The article's settings in full (2000, 10000 and 15000 epochs).
    rows = demo.run(tmp_path, steps=[demo.linear, demo.xor, demo.circles], verbose=False)
    accuracies = {row["experiment"]: row["accuracy"] for row in rows}
    assert set(accuracies) == {"linear", "xor", "circles"}
    for name, accuracy in accuracies.items():
        assert accuracy >= 0.99, (name, accuracy)


# ------------------------------------------------------------ the next steps, in full
def test_spirals_three_classes(tmp_path):
    (row,) = next_steps.spirals(Context(out=tmp_path))
    assert row["layers"] == "2-32-32-3"
    assert row["accuracy"] >= 0.97
    assert written(tmp_path) == {"spirals_3_classes"}


def test_regression_curve_fits_down_to_the_noise(tmp_path):
    (row,) = next_steps.regression_curve(Context(out=tmp_path))
    assert row["layers"] == "1-32-32-1" and row["accuracy"] is None
    # the samples carry noise of variance 0.01: a good fit has about that mean squared error
    assert 0.005 < row["mse"] < 0.02
    assert written(tmp_path) == {"regression_curve", "regression_predicted_vs_true"}


def test_digits_step_reports_the_recipe_accuracy(tmp_path):
    (row,) = next_steps.digits(Context(out=tmp_path))
    assert row["layers"] == "64-128-10"
    assert row["accuracy"] >= 0.975
    assert written(tmp_path) == {
        "digits_confusion",
        "digits_misclassified",
        "digits_curves",
        "digits_weights",
    }


def test_digits_step_is_skipped_without_scikit_learn(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    (row,) = next_steps.digits(Context(out=tmp_path))
    assert "skipped" in row["experiment"] and row["accuracy"] is None
    assert written(tmp_path) == set()
