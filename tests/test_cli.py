"""End-to-end tests of the ``mlpzero`` command: each sub-command on real files, and
one-line errors for bad input."""

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest

import mlpzero
from mlpzero import cli
from mlpzero.preparation import split_validation

PNG = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    """Run the command in-process; return (exit status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def succeeds(capsys, *argv):
    """Run a command that must succeed; return its stdout."""
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    return out


def fails(capsys, *argv, status=1):
    """Run a command that must fail: exit status, and one stderr line without traceback."""
    with pytest.raises(SystemExit) if status == 2 else _no_exit() as caught:
        got = cli.main(list(argv))
    out, err = capsys.readouterr()
    got = caught.value.code if status == 2 else got
    assert got == status, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


class _no_exit:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@pytest.fixture
def table(tmp_path):
    """A small CSV with named numeric features and string labels."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    labels = np.where(X[:, 0] + 0.5 * X[:, 2] > 0, "yes", "no")
    path = tmp_path / "data.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["alpha", "beta", "gamma", "answer"])
        for row, label in zip(X, labels, strict=True):
            writer.writerow([*(repr(float(v)) for v in row), label])
    return path, X, labels


@pytest.fixture
def trained(tmp_path, table, capsys):
    path, X, labels = table
    model_path = tmp_path / "model.npz"
    out = succeeds(
        capsys, "train", str(path), "--hidden", "6", "--epochs", "40", "--lr", "0.3",
        "--out", str(model_path), "--quiet",
    )  # fmt: skip
    return model_path, X, labels, out


# ---------------------------------------------------------------------------- help
HELP_PATHS = [
    [], ["demo"], ["train"], ["evaluate"], ["predict"], ["convert"], ["summary"], ["plot"],
    ["plot", "activations"], ["plot", "boundary"], ["plot", "history"],
]  # fmt: skip


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(p) or "mlpzero")
def test_every_command_has_help_with_usage_and_an_example(capsys, path):
    with pytest.raises(SystemExit) as caught:
        cli.main([*path, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mlpzero {' '.join(path)}".rstrip())
    assert "example:\n  mlpzero " in out


# ---------------------------------------------------------------------------- train and use
def test_evaluate_on_a_toy_dataset_redraws_the_training_rows_as_its_help_says(tmp_path, capsys):
    """The help promised the training draw "with the same --seed"; a model trained with
    --samples was then scored on another, larger draw."""
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the same draw as train with the same --seed and --samples" in help_text
    model = tmp_path / "m.npz"
    succeeds(capsys, "train", "xor", "--samples", "60", "--seed", "3", "--epochs", "2",
             "--quiet", "--out", str(model))  # fmt: skip
    out = succeeds(capsys, "evaluate", str(model), "xor", "--seed", "3", "--samples", "60")
    assert out.splitlines()[2].split() == ["samples", "60"]


def test_train_saves_a_model_and_prints_a_metrics_table(trained):
    model_path, X, labels, out = trained
    model = mlpzero.load(model_path)
    assert model.network.layer_sizes == (3, 6, 1)
    assert model.feature_names_in_ == ["alpha", "beta", "gamma"]
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.history.epochs == 40
    metrics = model.evaluate(X, labels)
    table = parse_table(out)
    assert table["samples"] == "60" and table["epochs"] == "40"
    assert table["loss"] == f"{metrics['loss']:.6g}"
    assert table["accuracy"] == f"{metrics['accuracy']:.6g}"
    assert f"saved the model to {model_path}" in out


def parse_table(out):
    """The ``name  value`` rows of a metrics table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and not set(line) <= {"-"}:
            rows[parts[0]] = parts[1]
    return rows


def test_train_shows_progress_unless_quiet(tmp_path, table, capsys):
    path, _, _ = table
    out = succeeds(capsys, "train", str(path), "--epochs", "20", "--out", str(tmp_path / "m.npz"))
    assert out.count("Epoch ") >= 5


def test_training_options_reach_the_model(tmp_path, table, capsys):
    path, _, _ = table
    model_path = tmp_path / "m.npz"
    out = succeeds(
        capsys, "train", str(path), "--epochs", "300", "--optimizer", "adam", "--lr", "0.05",
        "--l2", "0.01", "--dropout", "0.1", "--validation-split", "0.25",
        "--early-stopping", "3", "--out", str(model_path), "--quiet",
    )  # fmt: skip
    model = mlpzero.load(model_path)
    table = parse_table(out)
    assert "val_loss" in table and "train_loss" in table and "loss" not in table
    assert model.history.epochs < 300  # stopped early
    assert model.fit_config_["l2"] == 0.01
    assert model.fit_config_["validation_split"] == 0.25
    assert model.fit_config_["optimizer"]["name"] == "adam"
    assert list(model.dropout) == [0.1, 0.1]


def test_train_with_lbfgs(tmp_path, table, capsys):
    pytest.importorskip("scipy")
    path, X, labels = table
    model_path = tmp_path / "m.npz"
    out = succeeds(
        capsys, "train", str(path), "--optimizer", "lbfgs", "--epochs", "60", "--l2", "0.001",
        "--out", str(model_path), "--quiet",
    )  # fmt: skip
    model = mlpzero.load(model_path)
    assert model.fit_config_["optimizer"] == {"name": "lbfgs"}
    assert 1 <= model.history.epochs <= 60 and "lr" not in model.history.history
    assert model.score(X, labels) >= 0.95 and float(parse_table(out)["accuracy"]) >= 0.95
    message = fails(
        capsys, "train", str(path), "--optimizer", "lbfgs", "--lr", "0.1", "--out",
        str(tmp_path / "n.npz"), "--quiet",
    )  # fmt: skip
    assert message.endswith(
        "--optimizer lbfgs trains on the full batch with its own step "
        "sizes: --lr 0.1 does not apply; leave it out, or pick a "
        "stochastic optimizer such as adam"
    ), message
    message = fails(
        capsys, "train", str(path), "--optimizer", "lbfgs", "--batch-size", "8", "--out",
        str(tmp_path / "n.npz"), "--quiet",
    )  # fmt: skip
    assert "--batch-size 8 does not apply" in message
    status, _, _ = run(
        capsys, "train", str(path), "--optimizer", "LBFGS", "--epochs", "5", "--out",
        str(tmp_path / "upper.npz"), "--quiet",
    )  # fmt: skip
    assert status == 0 and mlpzero.load(tmp_path / "upper.npz").fit_config_["optimizer"] == {
        "name": "lbfgs"
    }
    message = fails(capsys, "train", str(path), "--optimizer", "lbfgsx", "--out", "x.npz")
    assert message.endswith("expected one of: adam, adamw, rmsprop, sgd, or lbfgs"), message


def test_train_table_scores_training_and_validation_rows_apart(tmp_path, table, capsys):
    path, X, labels = table
    model_path = tmp_path / "m.npz"
    out = succeeds(
        capsys, "train", str(path), "--hidden", "6", "--epochs", "40", "--lr", "0.3",
        "--validation-split", "0.25", "--out", str(model_path), "--quiet",
    )  # fmt: skip
    model = mlpzero.load(model_path)
    # the rows fit held out: drawn from the seed (0), stratified by label
    train_rows, held = split_validation(60, 0.25, np.random.default_rng([0, 1]), labels)
    table = parse_table(out)
    assert table["samples"] == "60"
    assert (table["train_samples"], table["val_samples"]) == (str(len(train_rows)), str(len(held)))
    assert len(held) >= 15
    for prefix, rows in (("train_", train_rows), ("val_", held)):
        expected = model.evaluate(X[rows], labels[rows])
        assert table[prefix + "loss"] == f"{expected['loss']:.6g}"
        assert table[prefix + "accuracy"] == f"{expected['accuracy']:.6g}"
    everything = model.evaluate(X, labels)
    assert table["train_loss"] != f"{everything['loss']:.6g}"


def test_train_table_without_a_split_scores_all_rows(trained):
    model_path, X, labels, out = trained
    table = parse_table(out)
    expected = mlpzero.load(model_path).evaluate(X, labels)
    assert table["loss"] == f"{expected['loss']:.6g}" and "val_loss" not in table


def test_evaluate_reports_the_models_own_metrics(trained, capsys):
    model_path, X, labels, _ = trained
    out = succeeds(capsys, "evaluate", str(model_path), str(model_path.parent / "data.csv"))
    metrics = mlpzero.load(model_path).evaluate(X, labels)
    table = parse_table(out)
    assert table["loss"] == f"{metrics['loss']:.6g}"
    assert table["accuracy"] == f"{metrics['accuracy']:.6g}"


def read_csv(text):
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


def test_predict_writes_labels_and_probabilities_as_csv(trained, capsys, tmp_path):
    model_path, X, _, _ = trained
    model = mlpzero.load(model_path)
    data = str(model_path.parent / "data.csv")
    out = succeeds(capsys, "predict", str(model_path), data)
    header, rows = read_csv(out)
    assert header == ["prediction"]
    assert [r[0] for r in rows] == model.predict(X).tolist()

    target = tmp_path / "proba.csv"
    status, out, _ = run(
        capsys, "predict", str(model_path), data, "--proba", "--output", str(target)
    )
    assert status == 0 and out == ""
    header, rows = read_csv(target.read_text())
    assert header == ["p(no)", "p(yes)"]
    got = np.array(rows, dtype=np.float32)
    np.testing.assert_array_equal(got, model.predict_proba(X))  # 9 digits: float32 exactly


def test_predict_output_dash_is_stdout(trained, capsys, tmp_path, monkeypatch):
    # "-" wrote a file named "-" in the current folder, where a user expects stdout.
    model_path, *_ = trained
    data = str(model_path.parent / "data.csv")
    monkeypatch.chdir(tmp_path)
    assert succeeds(capsys, "predict", str(model_path), data, "--output", "-") == succeeds(
        capsys, "predict", str(model_path), data
    )
    assert not (tmp_path / "-").exists()


def test_predict_writes_float_labels_exactly_whatever_the_model_dtype(tmp_path, capsys):
    """A float32 model's float labels were written at 9 digits, the precision of its
    probabilities: the label 0.1234567891234 came out as 0.123456789, neither a class of
    the model nor the text the probabilities' header names (two such labels could print
    alike)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    labels = np.where(X[:, 0] > 0, "0.1234567891234", "0.1")
    data = tmp_path / "labels.csv"
    data.write_text(
        "a,b,label\n"
        + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X.tolist(), labels, strict=True))
    )
    model_path = tmp_path / "m.npz"
    succeeds(
        capsys, "train", str(data), "--loss", "categorical_crossentropy", "--hidden", "4",
        "--epochs", "30", "--lr", "0.3", "--quiet", "--out", str(model_path),
    )  # fmt: skip
    model = mlpzero.load(model_path)
    assert model.dtype == np.float32 and model.classes_.tolist() == [0.1, 0.1234567891234]
    header, rows = read_csv(succeeds(capsys, "predict", str(model_path), str(data)))
    assert {r[0] for r in rows} <= {"0.1", "0.1234567891234"}
    assert [float(r[0]) for r in rows] == model.predict(X).tolist()
    header, _ = read_csv(succeeds(capsys, "predict", str(model_path), str(data), "--proba"))
    assert header == ["p(0.1)", "p(0.1234567891234)"]


def test_predict_output_that_fails_leaves_the_earlier_file(trained, capsys, tmp_path, monkeypatch):
    model_path, _, _, _ = trained
    data = str(model_path.parent / "data.csv")
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "predictions.csv"
    target.write_text("earlier predictions\n")

    def fail_half_way(handle, header, values, digits):
        handle.write("prediction\n" + "half a row")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "_write_csv", fail_half_way)
    status, _, err = run(capsys, "predict", str(model_path), data, "--output", str(target))
    assert status == 1 and f"no space left on device: {target}" in err
    assert target.read_text() == "earlier predictions\n"
    assert [p.name for p in target.parent.iterdir()] == ["predictions.csv"]  # no leftover


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_output_written_in_place_that_fails_names_its_path(trained, capsys):
    """A device (written in place) or a descriptor of the process: the error named no file."""
    model_path, _, _, _ = trained
    data = str(model_path.parent / "data.csv")
    closed = 987
    with pytest.raises(OSError):
        os.fstat(closed)
    for output, problem in (("/dev/full", "no space left on device"),
                            (f"/dev/fd/{closed}", "bad file descriptor")):  # fmt: skip
        status, _, err = run(capsys, "predict", str(model_path), data, "--output", output)
        assert status == 1 and f"{problem}: {output}" in err
        status, _, err = run(capsys, "train", "xor", "--epochs", "1", "--quiet", "--out", output)
        assert status == 1 and f"{problem}: {output}" in err


def test_predict_output_that_holds_a_model_or_arrays_is_refused(trained, capsys, tmp_path):
    model_path, _, _, _ = trained
    other = tmp_path / "other.npz"
    other.write_bytes(model_path.read_bytes())
    npy = tmp_path / "X.npy"
    np.save(npy, np.eye(2))
    data = str(model_path.parent / "data.csv")
    before = {path: path.read_bytes() for path in (other, npy)}
    for path in before:
        line = fails(capsys, "predict", str(model_path), data, "--output", str(path))
        assert f"--output {path} holds a model file or NumPy arrays; refusing" in line
    assert {path: path.read_bytes() for path in before} == before
    earlier = tmp_path / "earlier.csv"  # earlier predictions are replaced
    earlier.write_text("prediction\n1\n")
    succeeds(capsys, "predict", str(model_path), data, "--output", str(earlier))
    assert len(earlier.read_text().splitlines()) == 61


def test_predict_proba_of_a_one_class_model_has_one_column(tmp_path, capsys):
    data = tmp_path / "one.csv"
    data.write_text("a,b,label\n" + "".join(f"{i},{i % 3},only\n" for i in range(8)))
    model_path = tmp_path / "m.npz"
    succeeds(capsys, "train", str(data), "--epochs", "2", "--quiet", "--out", str(model_path))
    header, rows = read_csv(succeeds(capsys, "predict", str(model_path), str(data), "--proba"))
    assert header == ["p(only)"]
    assert rows == [["1"]] * 8


def test_predict_proba_of_a_regression_model_fails_before_reading_the_data(
    tmp_path, capsys, monkeypatch
):
    """``--proba`` with a regression model was refused only after the whole dataset had
    been read, which on a large file is the long part of the command."""
    X = np.random.default_rng(0).standard_normal((30, 2))
    data = tmp_path / "points.npz"
    np.savez(data, X=X, y=X.sum(axis=1))
    model_path = tmp_path / "regression.npz"
    mlpzero.MLP(hidden=(3,), loss="squared_error").fit(X, X.sum(axis=1), epochs=2).save(model_path)
    read = []
    monkeypatch.setattr(cli, "_data", lambda *args, **kwargs: read.append(1))
    output = tmp_path / "p.csv"
    argv = ["predict", str(model_path), str(data), "--proba", "--output", str(output)]
    assert "--proba needs a classifier; this model does regression" in fails(capsys, *argv)
    assert not read
    assert not output.exists()


def test_predict_takes_feature_only_csv_and_orders_columns_by_name(trained, capsys, tmp_path):
    model_path, X, _, _ = trained
    shuffled = tmp_path / "new.csv"
    with shuffled.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["gamma", "alpha", "beta"])
        for row in X[:5]:
            writer.writerow([repr(float(row[2])), repr(float(row[0])), repr(float(row[1]))])
    out = succeeds(capsys, "predict", str(model_path), str(shuffled))
    _, rows = read_csv(out)
    assert [r[0] for r in rows] == mlpzero.load(model_path).predict(X[:5]).tolist()


def test_checkpoints_of_train_know_the_feature_names(tmp_path, table, capsys):
    """A checkpoint predicts on columns in another order as the final model does."""
    path, X, _ = table
    model_path, checkpoint = tmp_path / "m.npz", tmp_path / "run.npz"
    succeeds(
        capsys, "train", str(path), "--hidden", "6", "--epochs", "40", "--lr", "0.3",
        "--checkpoint", str(checkpoint), "--out", str(model_path), "--quiet",
    )  # fmt: skip
    assert mlpzero.load(checkpoint).feature_names_in_ == ["alpha", "beta", "gamma"]
    shuffled = tmp_path / "new.csv"
    with shuffled.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["gamma", "alpha", "beta"])
        writer.writerows([repr(float(v)) for v in row[[2, 0, 1]]] for row in X)
    from_checkpoint = succeeds(capsys, "predict", str(checkpoint), str(shuffled), "--proba")
    assert from_checkpoint == succeeds(capsys, "predict", str(model_path), str(shuffled), "--proba")


def test_summary_prints_the_layer_table(trained, capsys):
    model_path, _, _, _ = trained
    out = succeeds(capsys, "summary", str(model_path))
    assert mlpzero.load(model_path).summary() in out
    assert "Total params: 31 (float32)" in out  # 3*6+6 + 6*1+1
    assert "classes         no, yes" in out


def test_summary_of_many_classes_and_features_lists_a_few_of_each(tmp_path, capsys):
    X = np.random.default_rng(0).standard_normal((300, 30))
    names = [f"f{i}" for i in range(30)]
    model = mlpzero.MLP(hidden=(2,), seed=0)
    model.feature_names_in_ = names  # names the columns of the array
    model.fit(X, np.arange(300), epochs=1)
    path = model.save(tmp_path / "many.npz")
    lines = succeeds(capsys, "summary", str(path)).splitlines()
    details = {line[:16].strip(): line[16:] for line in lines}
    assert details["classes"] == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ..., 298, 299 (300 in all)"
    features = "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, ..., f28, f29 (30 in all)"
    assert details["features"] == features


def test_summary_quotes_names_that_would_break_its_lines(tmp_path, capsys):
    """A CSV header cell with a line break (as spreadsheets export wrapped headers) or a
    label with a terminal escape was printed raw: the summary's lines broke apart, and
    the escape reached the terminal."""
    X = np.random.default_rng(0).standard_normal((20, 2))
    model = mlpzero.MLP(hidden=(2,), seed=0)
    model.feature_names_in_ = ["price\n(USD)", "weight"]
    model.fit(X, np.where(X[:, 0] > 0, "\x1b[31mred", "blue"), epochs=1)
    path = model.save(tmp_path / "odd.npz")
    out = succeeds(capsys, "summary", str(path))
    assert "\x1b" not in out
    details = {line[:16].strip(): line[16:] for line in out.splitlines()}
    assert details["features"] == "'price\\n(USD)', 'weight'"
    assert details["classes"] == "'\\x1b[31mred', 'blue'"
    assert list(details)[-1] == "epochs trained"


def test_summary_quotes_names_that_would_read_as_other_names(tmp_path, capsys):
    """The features and classes are listed joined by ", ": a name holding a comma (a
    CSV header cell such as "width, cm") read as two, and an empty name as none."""
    X = np.random.default_rng(0).standard_normal((20, 3))
    model = mlpzero.MLP(hidden=(2,), seed=0)
    model.feature_names_in_ = ["width, cm", "", "height"]
    model.fit(X, np.where(X[:, 0] > 0, "yes, sure", "no"), epochs=1)
    path = model.save(tmp_path / "commas.npz")
    out = succeeds(capsys, "summary", str(path))
    details = {line[:16].strip(): line[16:] for line in out.splitlines()}
    assert details["features"] == "'width, cm', '', 'height'"
    assert details["classes"] == "'no', 'yes, sure'"


def test_train_plot_draws_a_boundary_for_2d_classification_only(tmp_path, capsys, monkeypatch):
    """The help promised a decision boundary for any 2-D data; a regression on two
    features gets the loss curve, as the help now says."""
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the decision boundary (2-D classification data) or else the loss curve" in help_text
    import mlpzero.plotting

    drawn = []
    monkeypatch.setattr(mlpzero.plotting, "plot_loss_curve", lambda *a, **k: drawn.append("loss"))
    monkeypatch.setattr(
        mlpzero.plotting, "plot_decision_boundary", lambda *a, **k: drawn.append("boundary")
    )
    X = np.random.default_rng(0).standard_normal((30, 2))
    data = tmp_path / "plane.npz"
    np.savez(data, X=X, y=X.sum(axis=1))
    argv = ["train", str(data), "--loss", "squared_error", "--epochs", "2", "--quiet"]
    succeeds(capsys, *argv, "--out", str(tmp_path / "m.npz"), "--plot", str(tmp_path / "f.png"))
    assert drawn == ["loss"]


def test_train_on_a_toy_dataset_with_a_plot_and_all_plot_kinds(tmp_path, capsys):
    model_path, figure = tmp_path / "xor.npz", tmp_path / "train.png"
    status, _, _ = run(
        capsys, "train", "xor", "--samples", "80", "--hidden", "4", "--epochs", "30",
        "--out", str(model_path), "--plot", str(figure), "--quiet",
    )  # fmt: skip
    assert status == 0
    assert figure.read_bytes().startswith(PNG)
    for argv in (
        ["plot", "activations", "relu", "tanh", "--out", str(tmp_path / "a.png")],
        ["plot", "history", str(model_path), "--out", str(tmp_path / "h.png")],
        ["plot", "boundary", str(model_path), "xor", "--samples", "80", "--out",
         str(tmp_path / "b.png")],
    ):  # fmt: skip
        status, _, _ = run(capsys, *argv)
        assert status == 0
        assert (tmp_path / argv[-1].rsplit("/", 1)[-1]).read_bytes().startswith(PNG)


def test_resume_through_the_command_continues_a_checkpointed_run(tmp_path, table, capsys):
    path, _, _ = table
    checkpoint = tmp_path / "run.ckpt.npz"
    common = ["train", str(path), "--epochs", "12", "--batch-size", "16", "--quiet"]
    run(capsys, *common, "--out", str(tmp_path / "full.npz"))
    run(capsys, *common[:3], "5", *common[4:], "--checkpoint", str(checkpoint),
        "--out", str(tmp_path / "half.npz"))  # fmt: skip
    status, _, _ = run(
        capsys, *common, "--resume", str(checkpoint), "--out", str(tmp_path / "r.npz")
    )
    assert status == 0
    full, resumed = mlpzero.load(tmp_path / "full.npz"), mlpzero.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(full.network.params, resumed.network.params)


def test_resume_takes_the_csv_columns_by_name_as_predict_does(tmp_path, table, capsys):
    """The same CSV with its feature columns in another order was refused as other data
    (the rows were signed in file order); predict and evaluate match columns by name."""
    path, X, labels = table
    checkpoint = tmp_path / "run.ckpt.npz"
    common = ["--epochs", "12", "--batch-size", "16", "--quiet"]
    succeeds(capsys, "train", str(path), *common, "--out", str(tmp_path / "full.npz"))
    succeeds(capsys, "train", str(path), "--epochs", "5", *common[2:], "--checkpoint",
             str(checkpoint), "--out", str(tmp_path / "half.npz"))  # fmt: skip
    moved = tmp_path / "moved.csv"
    with moved.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["gamma", "answer", "alpha", "beta"])
        for row, label in zip(X, labels, strict=True):
            writer.writerow([repr(float(row[2])), label, repr(float(row[0])), repr(float(row[1]))])
    out = tmp_path / "r.npz"
    succeeds(capsys, "train", str(moved), "--target", "answer", *common,
             "--resume", str(checkpoint), "--out", str(out))  # fmt: skip
    full, resumed = mlpzero.load(tmp_path / "full.npz"), mlpzero.load(out)
    np.testing.assert_array_equal(full.network.params, resumed.network.params)
    assert resumed.feature_names_in_ == ["alpha", "beta", "gamma"]


def _ctrl_c_as_in_a_terminal():
    """Give the child Ctrl-C's default action, as a terminal does. A test run started in
    the background (``make test &``) has SIGINT ignored, as shells do for such jobs, and
    its children would inherit that and never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_command(*argv, stderr):
    """Start ``mlpzero argv`` in a process whose stdout is a pipe, line by line; a
    watchdog kills it after 60 seconds so that a test never hangs."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpzero", *argv],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )  # fmt: skip
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    process.watchdog = watchdog
    return process


def finish(process):
    """The exit status of ``process`` (killed if it does not end within 30 seconds)."""
    try:
        return process.wait(timeout=30)
    finally:
        process.kill()
        process.watchdog.cancel()
        process.stdout.close()


def test_ctrl_c_in_train_exits_130_and_keeps_the_previous_model(tmp_path):
    model_path, checkpoint = tmp_path / "m.npz", tmp_path / "run.npz"
    X, y = mlpzero.datasets.make_moons(n_samples=20, random_state=0)
    mlpzero.MLP(hidden=(2,)).fit(X, y, epochs=1).save(model_path)  # an earlier run's
    before = model_path.read_bytes()
    with (tmp_path / "stderr").open("w+") as errors:
        process = start_command(
            "train", "moons", "--samples", "100", "--hidden", "4", "--epochs", "1000000",
            "--checkpoint", str(checkpoint), "--checkpoint-interval", "0",
            "--out", str(model_path), stderr=errors,
        )  # fmt: skip
        assert process.stdout.readline().startswith("Epoch 0: cost = ")
        deadline = time.monotonic() + 30
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        status = finish(process)
        errors.seek(0)
        message = errors.read()
    assert status == 130, message
    assert model_path.read_bytes() == before
    assert f"{model_path} was not written" in message
    assert f"--resume {checkpoint}" in message and checkpoint.exists()


def test_train_whose_reader_goes_away_trains_on_and_saves(tmp_path):
    """``mlpzero train ... | head -1``: the model file is the product, not the output."""
    model_path = tmp_path / "m.npz"
    process = start_command(
        "train", "moons", "--samples", "100", "--hidden", "4", "--epochs", "3000",
        "--out", str(model_path), stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout.readline().startswith("Epoch 0: cost = ")
    process.stdout.close()  # as head does after its line; the next line meets a closed pipe
    try:
        _, errors = process.communicate(timeout=30)
    finally:
        finish(process)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors and "BrokenPipe" not in errors
    assert mlpzero.load(model_path).history.epochs == 3000


# ---------------------------------------------------------------------------- errors
def test_train_whose_error_output_reader_goes_away_trains_on_and_saves(tmp_path, monkeypatch):
    """``mlpzero train ... 2>&1 | head -1``: the progress on a closed stderr ended the
    command with exit status 0 and no model file."""

    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stderr", Gone())
    model_path = tmp_path / "m.npz"
    status = cli.main(["train", "moons", "--samples", "100", "--hidden", "4", "--epochs", "50",
                       "--out", str(model_path)])  # fmt: skip
    assert status == 0
    assert mlpzero.load(model_path).history.epochs == 50


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_train_and_convert_with_a_stream_closed_from_the_start_write_their_files(
    tmp_path, table, monkeypatch, closed
):
    """``mlpzero train ... >&-``: Python then has no sys.stdout (None), and the command
    failed with an AttributeError instead of training and saving."""
    monkeypatch.setattr(sys, closed, None)
    monkeypatch.setattr(mlpzero.datasets.convert, "PROGRESS_BYTES", 0)  # a bar for any file
    model_path = tmp_path / "m.npz"
    status = cli.main(["train", "moons", "--samples", "100", "--hidden", "4", "--epochs", "5",
                       "--out", str(model_path)])  # fmt: skip
    assert status == 0
    assert mlpzero.load(model_path).history.epochs == 5
    folder = tmp_path / "folder"
    assert cli.main(["convert", str(table[0]), str(folder)]) == 0
    assert (folder / "X.npy").is_file()


def test_errors_name_the_problem_in_one_line(tmp_path, table, trained, capsys):
    path, _, _ = table
    model_path = str(trained[0])
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1.0,oops,x\n2.0,3.0,y\n")
    out = str(tmp_path / "m.npz")
    cases = [
        (["train", str(tmp_path / "absent.csv"), "--out", out], "file not found"),
        (["train", str(bad), "--out", out], "column 'b': the value is not a number: 'oops'"),
        (["train", "wobble", "--out", out], "unknown dataset 'wobble'"),
        (["train", str(path), "--target", "nope", "--out", out], "no column named 'nope'"),
        (["train", str(path), "--activation", "swish", "--out", out], "unknown activation"),
        (["train", str(path), "--optimizer", "adamz", "--out", out], "unknown optimizer"),
        (["train", str(path), "--out", str(tmp_path / "no" / "m.npz")], "does not exist"),
        (["evaluate", str(path), str(path)], "not a valid mlpzero model file"),
        (["summary", str(tmp_path / "absent.npz")], "file not found"),
        (["predict", model_path, "moons"], "has 2 features, but the model was built for 3"),
        (["predict", model_path, str(bad)], "bad.csv has no column 'alpha'; the model's features"),
        (["plot", "boundary", model_path, str(path), "--out", str(tmp_path / "b.png")],
         "needs 2-D data"),
    ]  # fmt: skip
    for argv, message in cases:
        line = fails(capsys, *argv)
        assert line.startswith(f"mlpzero {argv[0]}"), line
        assert message in line, (argv, line)
    assert not (tmp_path / "m.npz").exists()


def test_evaluate_needs_a_target(trained, capsys, tmp_path):
    features_only = tmp_path / "x.csv"
    features_only.write_text("alpha,beta,gamma\n1,2,3\n")
    line = fails(capsys, "evaluate", str(trained[0]), str(features_only))
    assert "has no target column" in line


def test_options_that_do_not_apply_are_refused(tmp_path, table, trained, capsys):
    path, _, _ = table
    out = str(tmp_path / "m.npz")
    npz = tmp_path / "d.npz"
    np.savez(npz, X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    for data in (str(path), str(npz), "digits"):
        line = fails(capsys, "train", data, "--samples", "50", "--out", out)
        assert "--samples 50 applies to the generated datasets (linear, xor, " in line, line
        assert f"not to {data}" in line
    line = fails(capsys, "predict", str(trained[0]), str(path), "--samples", "7")
    assert "--samples 7 applies to the generated datasets" in line
    line = fails(capsys, "train", "xor", "--checkpoint-interval", "5", "--out", out)
    assert line.endswith("--checkpoint-interval 5 applies with --checkpoint only")
    assert not (tmp_path / "m.npz").exists()


def test_loss_auto_is_a_name_like_the_others(tmp_path, capsys):
    """Names of losses are case-insensitive, but ``--loss AUTO`` was refused as unknown,
    and the list of losses the error gave left out ``auto``, the default."""
    out = tmp_path / "m.npz"
    succeeds(
        capsys, "train", "xor", "--loss", "AUTO", "--epochs", "2", "--quiet", "--out", str(out)
    )
    assert mlpzero.load(out).loss_.name == "binary_crossentropy"
    line = fails(capsys, "train", "xor", "--loss", "hinge", "--out", str(tmp_path / "n.npz"))
    assert "unknown loss 'hinge'" in line and line.endswith(", or auto")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--lr", "fast"), ("--lr", "-1"), ("--epochs", "0"), ("--batch-size", "2.5"),
     ("--dropout", "1.5"), ("--validation-split", "-0.1"), ("--dtype", "float16"),
     ("--hidden", "0")],
)  # fmt: skip
def test_bad_option_values_exit_2_with_one_line(capsys, option, value):
    line = fails(capsys, "train", "xor", "--out", "m.npz", option, value, status=2)
    assert line.startswith("mlpzero train: error: argument")
    assert option in line and value in line


def test_demo_passes_its_options_to_the_demo(monkeypatch, capsys):
    import mlpzero.demo

    calls = []
    monkeypatch.setattr(mlpzero.demo, "run", lambda **options: calls.append(options))
    assert run(capsys, "demo", "--out", "figs", "--epoch-scale", "0.5")[0] == 0
    assert calls == [{"out": "figs", "epoch_scale": 0.5}]
    assert fails(capsys, "demo", "--epoch-scale", "2", status=2).endswith(
        "argument --epoch-scale: expected a number in (0, 1], got '2' (see: mlpzero demo --help)"
    )


def test_demo_out_that_is_a_file_or_empty_is_refused(monkeypatch, capsys, tmp_path):
    """``demo --out FILE`` said only "file exists: FILE"; ``--out ''`` wrote every figure
    into the current folder."""
    import mlpzero.demo

    calls = []
    monkeypatch.setattr(mlpzero.demo, "run", lambda **options: calls.append(options))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    line = fails(capsys, "demo", "--out", str(a_file))
    assert f"--out {a_file} is a file; give a folder for the figures" in line
    assert "--out '' is empty; give a folder for the figures" in fails(capsys, "demo", "--out", "")
    assert not calls


def test_an_os_error_without_a_file_is_its_message_alone(capsys, monkeypatch):
    """An error of the system that names no file showed Python's "[Errno 98]" before its
    message (a playground port already taken, for one)."""

    def fail(args):
        raise OSError(98, "cannot listen on 127.0.0.1:8000: Address already in use")

    monkeypatch.setattr(cli, "_summary", fail)
    line = fails(capsys, "summary", "model.npz")
    assert line == (
        "mlpzero summary: error: cannot listen on 127.0.0.1:8000: Address already in use"
    )


def test_a_dataset_too_large_for_memory_says_so(capsys, tmp_path):
    """``--samples`` or ``--hidden`` beyond the memory was reported as an "unexpected
    MemoryError" to run again with --debug, as for a fault of mlpzero."""
    line = fails(capsys, "train", "xor", "--samples", str(10**14), "--out", str(tmp_path / "m"))
    assert line.startswith("mlpzero train: error: not enough memory: "), line
    assert "unexpected" not in line and "--debug" not in line
    assert not (tmp_path / "m").exists()


def test_debug_shows_the_traceback(capsys, tmp_path):
    with pytest.raises(FileNotFoundError):
        cli.main(["summary", str(tmp_path / "absent.npz"), "--debug"])
    with pytest.raises(FileNotFoundError):
        cli.main(["--debug", "summary", str(tmp_path / "absent.npz")])


def test_the_installed_command_exits_non_zero_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mlpzero", "summary", str(tmp_path / "absent.npz")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == f"mlpzero summary: error: file not found: {tmp_path / 'absent.npz'}\n"


def test_train_to_stdout_keeps_its_report_out_of_the_model_file(tmp_path):
    """train --out /dev/stdout > m.npz wrote the metrics table after the archive."""
    path = tmp_path / "m.npz"
    with open(path, "wb") as out:
        result = subprocess.run(
            [sys.executable, "-m", "mlpzero", "train", "moons", "--epochs", "2", "--quiet",
             "--out", "/dev/stdout"],
            stdout=out, stderr=subprocess.PIPE, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"saved the model" not in path.read_bytes()
    assert "saved the model to /dev/stdout" in result.stderr
    assert mlpzero.load(path).history.epochs == 2


def test_extra_command_modules_register_their_sub_commands(monkeypatch, capsys):
    module = types.ModuleType("fake_commands")

    def add_parser(subparsers, add_command):
        parser = add_command(subparsers, "hello", help="say hello", example="mlpzero hello")
        parser.add_argument("--name", default="world")
        parser.set_defaults(handler=lambda args: print(f"hello {args.name}") or 0)

    module.add_parser = add_parser
    monkeypatch.setitem(sys.modules, "fake_commands", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("fake_commands", "absent_module.cli"))
    assert run(capsys, "hello", "--name", "mlp")[:2] == (0, "hello mlp\n")


# ---------------------------------------------------------------------------- data folders
def test_convert_then_every_command_takes_the_folder(tmp_path, table, capsys):
    path, X, _ = table
    folder = tmp_path / "folder"
    status, out, _ = run(capsys, "convert", str(path), str(folder), "--target", "answer")
    assert status == 0 and f"wrote 60 rows, 3 features (float32) and y (<U3) to {folder}" in out
    model_path = tmp_path / "m.npz"
    common = ["--hidden", "6", "--epochs", "40", "--lr", "0.3", "--quiet"]
    assert run(capsys, "train", str(folder), *common, "--out", str(model_path))[0] == 0
    model = mlpzero.load(model_path)
    assert model.feature_names_in_ == ["alpha", "beta", "gamma"]  # from columns.json
    reference = tmp_path / "ref.npz"  # the same run on the CSV: the same model
    assert run(capsys, "train", str(path), *common, "--out", str(reference))[0] == 0
    np.testing.assert_array_equal(model.network.params, mlpzero.load(reference).network.params)
    status, out, _ = run(capsys, "evaluate", str(model_path), str(folder))
    assert status == 0 and "samples" in out and "accuracy" in out
    assert run(capsys, "evaluate", str(model_path), str(path))[1] == out  # same as the CSV
    out = succeeds(capsys, "predict", str(model_path), str(folder))
    _, rows = read_csv(out)
    assert [r[0] for r in rows] == model.predict(X.astype(np.float32)).tolist()
    (folder / "y.npy").unlink()  # features only: predict still works, evaluate says why not
    assert run(capsys, "predict", str(model_path), str(folder))[1] == out
    assert "has no target column" in fails(capsys, "evaluate", str(model_path), str(folder))


def test_convert_whose_error_output_reader_goes_away_writes_the_folder(
    tmp_path, table, monkeypatch
):
    """``mlpzero convert big.csv big 2>&1 | head -1``: the progress bar on a closed
    stderr ended the command with exit status 0 and no folder."""
    path, X, _ = table

    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(mlpzero.datasets.convert, "PROGRESS_BYTES", 0)  # a bar for any file
    monkeypatch.setattr(sys, "stderr", Gone())
    folder = tmp_path / "folder"
    assert cli.main(["convert", str(path), str(folder)]) == 0
    assert np.load(folder / "X.npy").shape == X.shape


def test_convert_errors_leave_no_folder(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    line = fails(capsys, "convert", str(bad), str(tmp_path / "out"))
    assert (
        line
        == "mlpzero convert: error: bad.csv, line 3, column 'b': the value is not a number: 'x'"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    assert "already exists and is not empty" in fails(
        capsys, "convert", str(bad), str(tmp_path / "full")
    )
    assert "is one of the command's inputs" in fails(capsys, "convert", str(bad), str(bad))


def test_duplicate_columns_and_huge_integer_labels_fail_in_one_line(tmp_path, capsys):
    dup = tmp_path / "dup.csv"
    dup.write_text("a,a,label\n1,2,0\n2,1,1\n")
    out = str(tmp_path / "m.npz")
    assert "the column name 'a' appears twice" in fails(capsys, "train", str(dup), "--out", out)
    huge = tmp_path / "huge.csv"
    huge.write_text("a,label\n1,0\n2,99999999999999999999\n")
    line = fails(capsys, "train", str(huge), "--out", out)
    assert "huge.csv, line 3, column 'label': the integer 99999999999999999999 is outside" in line
    assert not (tmp_path / "m.npz").exists()
    close = tmp_path / "close.csv"
    close.write_text("a,label\n" + "".join(f"{i},{9007199254740992 + i % 2}\n" for i in range(20)))
    assert run(capsys, "train", str(close), "--epochs", "2", "--quiet", "--out", out)[0] == 0
    assert mlpzero.load(out).classes_.tolist() == [9007199254740992, 9007199254740993]


def test_bytes_labels_a_model_file_cannot_hold_are_refused_before_training(
    tmp_path, capsys, monkeypatch
):
    X, y = mlpzero.datasets.make_moons(n_samples=20, random_state=0)
    data = tmp_path / "bytes.npz"
    np.savez(data, X=X, y=np.where(y == 1, b"yes", b"no"))
    out = tmp_path / "m.npz"

    def fit(*args, **kwargs):
        raise AssertionError("the model was trained")

    monkeypatch.setattr(mlpzero.MLP, "fit", fit)
    line = fails(capsys, "train", str(data), "--epochs", "2", "--out", str(out))
    assert "bytes.npz: the labels are bytes (dtype |S3)" in line
    assert not out.exists()


# ---------------------------------------------------------------------------- outputs
def test_outputs_that_are_inputs_are_refused_before_writing(
    tmp_path, table, trained, capsys, monkeypatch
):
    path, _, _ = table
    model_path = trained[0]
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    monkeypatch.chdir(tmp_path)
    before = {p: p.read_bytes() for p in (path, model_path)}
    npz = tmp_path / "moons.npz"
    X, y = mlpzero.datasets.make_moons(n_samples=20, random_state=0)
    np.savez(npz, X=X, y=y)
    before[npz] = npz.read_bytes()
    cases = [
        ["train", str(npz), "--out", str(npz)],
        ["train", str(path), "--out", "./data.csv"],
        ["train", str(link), "--out", str(path)],
        ["train", str(path), "--out", str(tmp_path / "m2.npz"), "--checkpoint", str(path)],
        ["predict", str(model_path), str(path), "--output", str(path)],
        ["predict", str(model_path), str(path), "--output", str(model_path)],
        ["predict", str(model_path), str(link), "--output", "data.csv"],
    ]
    for argv in cases:
        line = fails(capsys, *argv)
        assert "is one of the command's inputs; refusing to overwrite it" in line, (argv, line)
    for argv in (  # no figure format is a data or model format: refused as such
        ["train", str(path), "--out", str(tmp_path / "m2.npz"), "--plot", str(path)],
        ["plot", "history", str(model_path), "--out", str(model_path)],
        ["plot", "boundary", str(model_path), str(path), "--out", str(link)],
    ):
        assert "cannot write a figure as" in fails(capsys, *argv), argv
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "m2.npz").exists()
    line = fails(capsys, "train", str(path), "--out", "o.png", "--plot", "./o.png")
    assert "--plot ./o.png is also --out" in line


def test_outputs_that_are_hard_links_to_inputs_are_refused(tmp_path, trained, capsys):
    """A figure is written in place: to a second name (a hard link) of the model or the
    data, it destroyed that input, since only the paths were compared."""
    model_path = trained[0]
    data = model_path.parent / "data.csv"
    before = {p: p.read_bytes() for p in (model_path, data)}
    model_png, data_png = tmp_path / "model.png", tmp_path / "data.png"
    os.link(model_path, model_png)
    os.link(data, data_png)
    for argv in (
        ["plot", "history", str(model_path), "--out", str(model_png)],
        ["plot", "boundary", str(model_path), str(data), "--out", str(data_png)],
        ["train", str(data), "--out", str(tmp_path / "m2.npz"), "--plot", str(data_png)],
        ["predict", str(model_path), str(data), "--output", str(data_png)],
    ):
        line = fails(capsys, *argv)
        assert "is one of the command's inputs; refusing to overwrite it" in line, (argv, line)
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "m2.npz").exists()
    # Resuming into the checkpoint it resumes from, under another name, is still allowed.
    checkpoint, other_name = tmp_path / "run.npz", tmp_path / "run-link.npz"
    common = ["train", str(data), "--epochs", "2", "--quiet", "--out", str(tmp_path / "a.npz")]
    succeeds(capsys, *common, "--checkpoint", str(checkpoint))
    os.link(checkpoint, other_name)
    succeeds(capsys, *common, "--resume", str(checkpoint), "--checkpoint", str(other_name))


def test_train_out_that_names_a_data_file_is_refused_before_training(tmp_path, table, capsys):
    path, _, _ = table
    other = tmp_path / "other.csv"
    other.write_bytes(path.read_bytes())
    before = other.read_bytes()
    line = fails(capsys, "train", str(path), "--epochs", "2", "--quiet", "--out", str(other))
    assert f"--out {other} names an existing file that is not an mlpzero model file" in line
    assert other.read_bytes() == before
    model = tmp_path / "m.npz"
    succeeds(capsys, "train", str(path), "--epochs", "2", "--quiet", "--out", str(model))
    succeeds(capsys, "train", str(path), "--epochs", "3", "--quiet", "--out", str(model))
    assert mlpzero.load(model).history.epochs == 3  # a model file is replaced, as before


def test_output_paths_that_name_a_folder_are_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """``out/`` lost its slash and became a file named ``out``; a figure to ``figures/``
    was reported as ``figures/.png`` and written as ``figures/.png.png``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figures").mkdir()
    started = []
    monkeypatch.setattr(mlpzero.MLP, "fit", lambda *args, **kwargs: started.append(1))
    for argv, flag in (
        (["train", "xor", "--out", "new/"], "--out new/"),
        (["train", "xor", "--out", "figures"], "--out figures"),  # failed after training
        (["train", "xor", "--out", "m.npz", "--checkpoint", "new/"], "--checkpoint new/"),
        (["plot", "activations", "--out", "figures/"], "--out figures/"),
        (["plot", "activations", "--out", "figures/."], "--out figures/."),
    ):
        assert f"{flag} is a folder; give the path of a file" in fails(capsys, *argv), argv
    assert not started
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["figures"]
    monkeypatch.undo()
    model = mlpzero.MLP(hidden=(2,)).fit(*mlpzero.datasets.make_xor(20, random_state=0), epochs=1)
    with pytest.raises(IsADirectoryError, match="new/: the path names a folder"):
        model.save(f"{tmp_path}/new/")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["figures"]


def test_empty_output_paths_are_refused_before_any_work(trained, tmp_path, capsys, monkeypatch):
    """An empty path (an unset shell variable: ``--out "$OUT"``) trained the whole model
    before failing with "cannot save to ."; ``predict --output ''`` wrote the CSV to
    stdout and exited 0 as if the file had been written."""
    model_path, _, _, _ = trained
    data = str(model_path.parent / "data.csv")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    started = []
    monkeypatch.setattr(mlpzero.MLP, "fit", lambda *args, **kwargs: started.append(1))
    for argv, flag in (
        (["train", "xor", "--out", ""], "--out"),
        (["train", "xor", "--out", "m.npz", "--plot", ""], "--plot"),
        (["predict", str(model_path), data, "--output", ""], "--output"),
        (["plot", "activations", "--out", ""], "--out"),
        (["export", str(model_path), ""], "OUT"),
    ):
        line = fails(capsys, *argv)
        assert f"{flag} '' is empty; give the path of a file" in line, (argv, line)
    # convert's DIR: '' was the current folder, filled with X.npy and y.npy when empty
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    line = fails(capsys, "convert", data, "")
    assert "DIR '' is empty; give the path of a folder" in line, line
    assert not started
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "empty"])
    assert not list((tmp_path / "empty").iterdir())


def test_empty_input_paths_are_refused_naming_the_argument(trained, tmp_path, capsys, monkeypatch):
    """An empty DATA, MODEL or --resume was taken as the current folder: the command
    listed its files as a data folder without X.npy, or trained on it if it was one."""
    model_path = str(trained[0])
    data = str(trained[0].parent / "data.csv")
    monkeypatch.chdir(tmp_path)
    out = str(tmp_path / "new.npz")
    for argv, says in (
        (["train", "", "--out", out], "DATA '' is empty; give a dataset name or the path"),
        (["evaluate", model_path, ""], "DATA '' is empty"),
        (["predict", "", data], "MODEL '' is empty; give the path of a model file"),
        (["summary", ""], "MODEL '' is empty"),
        (["plot", "history", "", "--out", "h.png"], "MODEL '' is empty"),
        (["train", data, "--out", out, "--resume", ""], "--resume '' is empty; give the path"),
        (["convert", "", "folder"], "CSV '' is empty; give the path of a CSV file"),
    ):
        line = fails(capsys, *argv)
        assert says in line and "[" not in line, (argv, line)
    assert not os.path.exists(out)


def test_predict_output_in_no_folder_is_refused_before_reading_the_data(
    trained, tmp_path, capsys, monkeypatch
):
    """A mistyped ``--output`` folder failed only after the whole dataset was read and
    predicted, which on a large data folder is the long part of the command."""
    model_path, _, _, _ = trained
    data = str(model_path.parent / "data.csv")
    (tmp_path / "figures").mkdir()
    read = []
    monkeypatch.setattr(cli, "_data", lambda *args, **kwargs: read.append(1))
    for output, says in (
        (tmp_path / "new" / "p.csv", "does not exist"),
        (tmp_path / "figures", "is a folder"),
    ):
        line = fails(capsys, "predict", str(model_path), data, "--output", str(output))
        assert f"--output {output}" in line and says in line, line
    assert not read
    assert not (tmp_path / "new").exists()


def test_an_output_linked_into_no_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """A symbolic link is written through, so a link to a file in a missing folder failed
    only when the trained model was saved."""
    link = tmp_path / "m.npz"
    link.symlink_to(tmp_path / "gone" / "m.npz")
    trained = []
    monkeypatch.setattr(mlpzero.MLP, "fit", lambda *args, **kwargs: trained.append(1))
    line = fails(capsys, "train", "xor", "--epochs", "2", "--out", str(link))
    assert f"--out {link}" in line and "gone does not exist" in line, line
    assert not trained


def test_an_output_inside_a_file_says_that_the_folder_is_a_file(trained, capsys):
    """``--out data.csv/m.npz`` was reported as "folder data.csv does not exist", which
    the user could see that it did."""
    model_path = trained[0]
    data = model_path.parent / "data.csv"
    for argv, flag in (
        (["train", str(data), "--out", f"{data}/m.npz"], "--out"),
        (["predict", str(model_path), str(data), "--output", f"{data}/p.csv"], "--output"),
        (["plot", "activations", "--out", f"{data}/a.png"], "--out"),
    ):
        line = fails(capsys, *argv)
        assert f"{flag} {data}/" in line and f"{data} is a file, not a folder" in line, line
    line = fails(capsys, "convert", str(data), f"{data}/folder")  # "folder data.csv does not exist"
    assert f"cannot write '{data}/folder': {data} is a file, not a folder" in line, line


def test_figure_paths_are_the_files_matplotlib_writes(tmp_path, trained, capsys, monkeypatch):
    """A figure path without an extension gets matplotlib's ``.png``: that file is what the
    overwrite check compares and the message names; an unknown format fails at once."""
    monkeypatch.chdir(tmp_path)
    model_png = tmp_path / "model.png"
    model_png.write_bytes(trained[0].read_bytes())
    before = model_png.read_bytes()
    line = fails(capsys, "train", "xor", "--out", "fig.png", "--plot", "fig")
    assert "--plot fig.png is also --out" in line
    line = fails(capsys, "plot", "history", "model.png", "--out", "model")
    assert "--out model.png is one of the command's inputs" in line
    assert model_png.read_bytes() == before
    line = fails(capsys, "train", "xor", "--out", "m.npz", "--plot", "figure.xyz")
    assert "--plot figure.xyz: cannot write a figure as 'xyz'" in line and "png" in line
    for argv in (["plot", "activations"], ["plot", "history", "model.png"],
                 ["plot", "boundary", str(trained[0]), str(tmp_path / "data.csv")]):  # fmt: skip
        assert "cannot write a figure as 'xyz'" in fails(capsys, *argv, "--out", "f.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "model.npz", "model.png"]
    assert succeeds(capsys, "plot", "activations", "--out", "a") == "saved the figure to a.png\n"
    assert (tmp_path / "a.png").read_bytes().startswith(PNG)


def test_resuming_into_the_same_checkpoint_is_allowed(tmp_path, table, capsys, monkeypatch):
    path, _, _ = table
    checkpoint = str(tmp_path / "run.npz")
    common = ["train", str(path), "--epochs", "4", "--quiet", "--checkpoint", checkpoint]
    assert run(capsys, *common, "--out", str(tmp_path / "a.npz"))[0] == 0
    assert run(capsys, *common, "--resume", checkpoint, "--out", str(tmp_path / "b.npz"))[0] == 0
    monkeypatch.chdir(tmp_path)  # the same file, spelt another way
    spelt = [*common[:-1], "./run.npz", "--resume", "run.npz", "--out", "c.npz"]
    assert run(capsys, *spelt)[0] == 0
    line = fails(capsys, *common, "--resume", checkpoint, "--out", checkpoint)
    assert "--out" in line and ("is one of the command's inputs" in line or "is also" in line)


def test_a_warning_of_the_library_is_one_line_of_the_command(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    data = tmp_path / "offset.csv"
    rows = np.c_[X[:, 0], X[:, 1] + 1e12, (X[:, 0] > 0).astype(int)]
    np.savetxt(data, rows, delimiter=",", header="a,b,y", comments="", fmt="%.17g")
    out = tmp_path / "model.npz"
    argv = ["train", str(data), "--out", str(out), "--epochs", "1", "--standardize"]
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("mlpzero train: warning: X: the values of column 1 vary by")
    assert "UserWarning" not in err and out.is_file()
