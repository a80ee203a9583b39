"""ONNX export, checked by running the exported file in onnxruntime against the model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from export_cases import ACTIVATIONS, TASKS, data, fitted, inputs, tolerance
from mlpzero import MLP, __version__, load
from mlpzero.activations import LeakyReLU, ReLU
from mlpzero.losses import SquaredError

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

from mlpzero.export.description import describe  # noqa: E402
from mlpzero.export.onnx import DEFAULT_OPSET, MIN_OPSET, build_model  # noqa: E402


def run(model_proto, X: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(
        model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


def assert_matches(model: MLP, outputs: dict[str, np.ndarray], X: np.ndarray) -> None:
    """The ONNX outputs equal ``predict_proba`` / ``predict`` (labels exactly)."""
    tol = tolerance(model.dtype)
    if model.task == "regression":
        assert set(outputs) == {"variable"}
        expected = model.predict(X).reshape(len(X), -1)
        assert outputs["variable"].dtype == model.dtype
        np.testing.assert_allclose(outputs["variable"], expected, rtol=tol, atol=tol)
        return
    assert set(outputs) == {"label", "probabilities"}
    proba = model.predict_proba(X)
    assert outputs["probabilities"].dtype == model.dtype
    assert outputs["probabilities"].shape == proba.shape
    np.testing.assert_allclose(outputs["probabilities"], proba, rtol=tol, atol=tol)
    expected = model.predict(X)
    assert outputs["label"].shape == expected.shape
    assert outputs["label"].tolist() == expected.tolist()


@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", TASKS)
def test_onnxruntime_matches_the_model(task, activation, dtype, standardize, tmp_path):
    model = fitted(task, activation, dtype, standardize=standardize)
    path = tmp_path / "model.onnx"
    returned = model.to_onnx(path)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded == returned
    ops = [node.op_type for node in loaded.graph.node]
    assert (ops[:2] == ["Sub", "Div"]) == standardize
    X = inputs(raw=standardize).astype(dtype)
    assert_matches(model, run(loaded, X), X)


def test_outputs_have_the_shapes_and_types_skl2onnx_gives():
    def declared(model):
        graph = model.to_onnx().graph
        result = {}
        for value in [*graph.input, *graph.output]:
            tensor = value.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in tensor.shape.dim]
            result[value.name] = (onnx.TensorProto.DataType.Name(tensor.elem_type), dims)
        return result

    assert declared(fitted("binary_str", "relu", "float64")) == {
        "X": ("DOUBLE", ["N", 3]),
        "label": ("STRING", ["N"]),
        "probabilities": ("DOUBLE", ["N", 2]),
    }
    assert declared(fitted("multiclass", "relu")) == {
        "X": ("FLOAT", ["N", 3]),
        "label": ("INT64", ["N"]),
        "probabilities": ("FLOAT", ["N", 3]),
    }
    assert declared(fitted("multilabel", "relu"))["label"] == ("INT64", ["N", 3])
    assert declared(fitted("one_class", "relu"))["probabilities"] == ("FLOAT", ["N", 1])
    assert declared(fitted("regression_multi", "relu")) == {
        "X": ("FLOAT", ["N", 3]),
        "variable": ("FLOAT", ["N", 3]),
    }


def test_binary_and_one_class_probabilities_are_predict_probas_columns():
    X = inputs().astype(np.float32)
    two = fitted("binary", "tanh")
    outputs = run(two.to_onnx(), X)
    np.testing.assert_allclose(outputs["probabilities"].sum(axis=1), 1.0, atol=1e-6)
    one = fitted("one_class", "tanh")
    outputs = run(one.to_onnx(), X)
    assert np.array_equal(outputs["probabilities"], np.ones((len(X), 1), np.float32))
    assert np.array_equal(outputs["probabilities"], one.predict_proba(X))
    assert outputs["label"].tolist() == [7] * len(X)


def test_one_activation_per_layer_and_several_leaky_slopes():
    activation = [LeakyReLU(0.3), "sigmoid", LeakyReLU(0.05)]
    model = fitted("multiclass", activation, "float64", hidden=(4, 3, 5))
    X = inputs().astype(np.float64)
    assert_matches(model, run(model.to_onnx(), X), X)
    ops = [node.op_type for node in model.to_onnx().graph.node]
    assert ops.count("Gemm") == 4 and ops.count("Max") == 2 and ops.count("Reciprocal") == 1


def test_dropout_is_absent_from_the_graph():
    X, y = data("binary")
    model = MLP(hidden=(6,), dropout=0.5, seed=0).fit(X, y, epochs=20, optimizer="adam")
    exported = model.to_onnx()
    assert "Dropout" not in {node.op_type for node in exported.graph.node}
    Xt = inputs().astype(np.float32)
    assert_matches(model, run(exported, Xt), Xt)


def test_logistic_regression_without_hidden_layers():
    model = fitted("multiclass_str", "relu", hidden=())
    X = inputs().astype(np.float32)
    assert_matches(model, run(model.to_onnx(), X), X)


def test_metadata_holds_feature_names_and_version():
    pd = pytest.importorskip("pandas")
    X, y = data("binary")
    frame = pd.DataFrame(X, columns=["height", "width", "depth"])
    model = MLP(hidden=(3,), seed=0).fit(frame, y, epochs=5)
    props = {p.key: p.value for p in model.to_onnx().metadata_props}
    assert json.loads(props["feature_names"]) == ["height", "width", "depth"]
    assert props["mlpzero_version"] == __version__
    assert props["task"] == "binary"
    plain = {p.key for p in fitted("binary", "relu").to_onnx().metadata_props}
    assert "feature_names" not in plain


def test_feature_names_that_are_not_strings_are_written_as_the_model_file_holds_them(tmp_path):
    """Names set on the model before fitting may be numbers; the model file keeps their
    text, and the export of the model in memory gives the same."""
    X, y = data("binary")
    model = MLP(hidden=(3,), seed=0)
    model.feature_names_in_ = [1, 2, 3]
    model.fit(X, y, epochs=2)
    model.save(tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    for exported in (model, loaded):
        props = {p.key: p.value for p in exported.to_onnx().metadata_props}
        assert json.loads(props["feature_names"]) == ["1", "2", "3"]


def test_feature_names_of_another_count_than_the_inputs_are_refused():
    model = fitted("regression", "tanh")
    model.feature_names_in_ = ["a", "b"]
    with pytest.raises(ValueError, match=r"feature_names_in_ .* 3 inputs, got \d+ names: \["):
        model.to_onnx()


@pytest.mark.parametrize("opset", [MIN_OPSET, DEFAULT_OPSET, 21])
def test_opsets(opset):
    model = fitted("multiclass_str", "leaky_relu")
    exported = model.to_onnx(opset=opset)
    assert exported.opset_import[0].version == opset
    X = inputs().astype(np.float32)
    assert_matches(model, run(exported, X), X)


def test_refuses_what_it_cannot_export():
    with pytest.raises(ValueError, match="not fitted"):
        MLP().to_onnx()
    with pytest.raises(ValueError, match="opset must be between 13"):
        fitted("binary", "relu").to_onnx(opset=12)
    with pytest.raises(TypeError, match="opset must be an int, got str"):
        fitted("binary", "relu").to_onnx(opset="17")

    class Shifted(ReLU):  # a custom activation: its formula is not the table's
        def __call__(self, z, out=None):
            return np.maximum(z, 1, out=out)

    X, y = data("binary")
    custom = MLP(hidden=(3,), activation=Shifted(), seed=0).fit(X, y, epochs=2)
    with pytest.raises(ValueError, match=r"hidden layer 1: activation .* not one of the built-in"):
        custom.to_onnx()

    class Huber(SquaredError):
        pass

    model = MLP(hidden=(3,), loss=Huber(), seed=0).fit(X, X[:, 0], epochs=2)
    with pytest.raises(ValueError, match="only the built-in losses"):
        model.to_onnx()

    halves = np.array([0.5, 1.5, 2.5])[np.arange(len(X)) % 3]
    floats = MLP(hidden=(3,), loss="categorical_crossentropy", seed=0).fit(X, halves, epochs=2)
    with pytest.raises(ValueError, match=r"neither integers nor strings: got \[0.5, 1.5, 2.5\]"):
        floats.to_onnx()


def test_standardisation_that_does_not_fit_the_dtype_is_refused(tmp_path):
    # A float32 model handed statistics whose scale is subnormal in float32: predict
    # refuses them, and so must every export rather than divide by zero in the graph or
    # the header.
    from mlpzero.standardization import Standardizer

    model = fitted("binary", "relu", "float32", standardize=True)
    stats = model.standardizer_
    scale = stats.scale.copy()
    scale[0] = 1e-40
    model.network.input_transform = Standardizer(stats.mean, scale)
    with pytest.raises(ValueError, match="do not fit in float32"):
        model.predict(inputs(raw=True))
    with pytest.raises(ValueError, match="do not fit in float32"):
        model.to_onnx()
    with pytest.raises(ValueError, match="do not fit in float32"):
        model.to_c(tmp_path / "net.h", name="net")
    assert not (tmp_path / "net.h").exists()


def test_whole_float_labels_come_out_as_equal_integers():
    X, y = data("multiclass")
    model = MLP(hidden=(4,), loss="categorical_crossentropy", seed=0)
    model.fit(X, y.astype(np.float64), epochs=20, optimizer="adam")
    outputs = run(model.to_onnx(), X.astype(np.float32))
    assert outputs["label"].dtype == np.int64
    assert outputs["label"].tolist() == model.predict(X).tolist()


def test_integer_labels_beyond_int64_are_refused_as_such(tmp_path):
    """Exported integer labels are int64: a larger one was refused as "neither integers
    nor strings", and the smallest int64, held as a float, was refused though it fits."""
    X, y = data("binary")
    big = np.where(y == 1, np.uint64(2**64 - 1), np.uint64(3))
    model = MLP(hidden=(3,), seed=0).fit(X, big, epochs=2)
    with pytest.raises(ValueError, match=r"the class label 18446744073709551615: .* int64"):
        model.to_onnx()
    with pytest.raises(ValueError, match=r"the class label 18446744073709551615: .* int64"):
        model.to_c(tmp_path / "net.h", name="net")
    whole = np.where(y == 1, -(2.0**63), 1.0)
    model = MLP(hidden=(3,), loss="categorical_crossentropy", seed=0).fit(X, whole, epochs=2)
    outputs = run(model.to_onnx(), X.astype(np.float32))
    assert outputs["label"].tolist() == model.predict(X).tolist()
    assert set(outputs["label"].tolist()) <= {-(2**63), 1}


@pytest.mark.parametrize("kind", ["numpy booleans", "whole floats"])
def test_labels_held_as_objects_export_as_equal_integers(kind):
    """An object array of NumPy booleans or of whole floats (a data frame's object
    column) was refused, while the same labels in a bool or float array exported."""
    X, y = data("binary")
    labels = np.array(
        [np.bool_(v) for v in y] if kind == "numpy booleans" else [float(v) for v in y],
        dtype=object,
    )
    model = MLP(hidden=(4,), seed=0).fit(X, labels, epochs=20, optimizer="adam")
    outputs = run(model.to_onnx(), X.astype(np.float32))
    assert outputs["label"].dtype == np.int64
    assert outputs["label"].tolist() == model.predict(X).tolist()


@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
def test_labels_in_numpys_string_dtype_export_as_strings():
    """NumPy's variable-width ``StringDType`` holds str labels, as ``<U`` does."""
    X, y = data("multiclass_str")
    labels = y.astype(np.dtypes.StringDType())
    model = MLP(hidden=(4,), seed=0).fit(X, labels, epochs=20, optimizer="adam")
    outputs = run(model.to_onnx(), X.astype(np.float32))
    assert outputs["label"].tolist() == model.predict(X).tolist()


def test_an_input_transform_is_one_step_before_the_first_layer():
    """The exporter applies ``(x - mean) / scale`` when the description carries it."""
    model = fitted("multiclass", "tanh", "float64")
    mean, scale = np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.5, 4.0])
    description = dataclasses.replace(describe(model), mean=mean, scale=scale)
    X = inputs().astype(np.float64)
    outputs = run(build_model(description), X)
    expected = model.predict_proba((X - mean) / scale)
    np.testing.assert_allclose(outputs["probabilities"], expected, rtol=1e-10, atol=1e-10)
    assert outputs["label"].tolist() == model.predict((X - mean) / scale).tolist()


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), max_size=3),
    activations=st.lists(st.sampled_from(ACTIVATIONS), min_size=3, max_size=3),
    task=st.sampled_from(TASKS),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_random_architectures_match(hidden, activations, task, dtype, seed):
    """Untrained networks of random shapes: the exported graph computes the model."""
    X, y = data(task, seed=seed)
    model = MLP(hidden=hidden, activation=activations[: len(hidden)], dtype=dtype, seed=seed)
    model.build(X, y)
    Xt = inputs(seed=seed).astype(dtype)
    outputs = run(model.to_onnx(), Xt)
    tol = tolerance(dtype)
    if model.task == "regression":
        expected = model.predict(Xt).reshape(len(Xt), -1)
        np.testing.assert_allclose(outputs["variable"], expected, rtol=tol, atol=tol)
        return
    proba = model.predict_proba(Xt)
    np.testing.assert_allclose(outputs["probabilities"], proba, rtol=tol, atol=tol)
    # Labels agree exactly except where the model itself is within rounding of a tie.
    if model.task == "multiclass":
        top2 = np.sort(proba, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 10 * tol
    else:
        clear = (np.abs(proba - 0.5) > 10 * tol).all(axis=1)
    predicted = model.predict(Xt)
    assert outputs["label"][clear].tolist() == predicted[clear].tolist()


# ---------------------------------------------------------------- scikit-learn pipelines
@pytest.fixture(scope="module")
def skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
    import mlpzero.onnx  # noqa: F401  (registers the converters)

    return skl2onnx


def _pipeline(estimator, X, y):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), estimator).fit(X, y)


def _raw_data(task):
    X, y = data(task, n=60)
    return X * np.array([10.0, 0.1, 3.0]) + np.array([50.0, -1.0, 0.0]), y


@pytest.mark.parametrize("zipmap", [True, False, "columns"])
@pytest.mark.parametrize("task", ["binary", "binary_str", "multiclass", "multiclass_str"])
def test_pipeline_converts_with_skl2onnx(skl2onnx, task, zipmap):
    from mlpzero.sklearn import MLPClassifier

    X, y = _raw_data(task)
    estimator = MLPClassifier(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=40,
                              random_state=0, tol=0)  # fmt: skip
    with pytest.warns(Warning, match="max_iter"):
        pipe = _pipeline(estimator, X, y)
    exported = skl2onnx.to_onnx(
        pipe, X[:1].astype(np.float32), options={id(estimator): {"zipmap": zipmap}}
    )
    onnx.checker.check_model(exported)
    session = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    label, *rest = session.run(None, {"X": X.astype(np.float32)})
    classes = pipe.classes_.tolist()
    if zipmap is True:
        proba = np.array([[row[c] for c in classes] for row in rest[0]])
    elif zipmap == "columns":
        proba = np.column_stack(rest)
    else:
        proba = rest[0]
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)
    assert label.tolist() == pipe.predict(X).tolist()


def test_pipeline_converts_multilabel_and_regressors(skl2onnx):
    from mlpzero.sklearn import MLPClassifier, MLPRegressor

    cases = [
        ("multilabel", MLPClassifier, {"zipmap": False}),
        ("regression", MLPRegressor, {}),
        ("regression_multi", MLPRegressor, {}),
    ]
    for task, kind, options in cases:
        X, y = _raw_data(task)
        estimator = kind(hidden_layer_sizes=(5,), max_iter=30, random_state=0, tol=0)
        with pytest.warns(Warning, match="max_iter"):
            pipe = _pipeline(estimator, X, y)
        exported = skl2onnx.to_onnx(
            pipe, X[:1].astype(np.float32), options={id(estimator): options}
        )
        session = ort.InferenceSession(
            exported.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        outputs = session.run(None, {"X": X.astype(np.float32)})
        if task == "multilabel":
            assert outputs[0].tolist() == pipe.predict(X).tolist()
            np.testing.assert_allclose(outputs[1], pipe.predict_proba(X), atol=1e-5)
        else:
            assert [o.name for o in session.get_outputs()] == ["variable"]
            expected = pipe.predict(X).reshape(len(X), -1)
            np.testing.assert_allclose(outputs[0], expected, rtol=1e-5, atol=1e-4)


def test_nocl_gives_class_indices(skl2onnx):
    from mlpzero.sklearn import MLPClassifier

    X, y = _raw_data("multiclass_str")
    estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0, tol=0)
    with pytest.warns(Warning, match="max_iter"):
        pipe = _pipeline(estimator, X, y)
    exported = skl2onnx.to_onnx(
        pipe, X[:1].astype(np.float32), options={id(estimator): {"zipmap": False, "nocl": True}}
    )
    session = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    label, _ = session.run(None, {"X": X.astype(np.float32)})
    assert pipe.classes_[label].tolist() == pipe.predict(X).tolist()


def test_pipeline_in_double(skl2onnx):
    from skl2onnx.common.data_types import DoubleTensorType

    from mlpzero.sklearn import MLPClassifier

    X, y = _raw_data("multiclass_str")
    estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0, tol=0)
    with pytest.warns(Warning, match="max_iter"):
        pipe = _pipeline(estimator, X, y)
    exported = skl2onnx.to_onnx(
        pipe,
        initial_types=[("X", DoubleTensorType([None, 3]))],
        options={id(estimator): {"zipmap": False}},
    )
    session = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X})
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-10, atol=1e-10)
    assert label.tolist() == pipe.predict(X).tolist()


def _briefly_fitted(kind, task: str):
    """``data(task)``'s ``X`` and an estimator of ``kind`` fitted on it for five epochs."""
    X, y = data(task)
    estimator = kind(hidden_layer_sizes=(4,), max_iter=5, random_state=0, tol=0)
    with pytest.warns(Warning, match="max_iter"):
        estimator.fit(X, y)
    return X, estimator


def test_an_input_per_column_is_refused_naming_the_inputs(skl2onnx):
    """A DataFrame sample gives skl2onnx one input per column; the graph reads one tensor
    of every feature, so it is refused when converted, not when onnxruntime loads it."""
    from skl2onnx.common.data_types import FloatTensorType

    from mlpzero.sklearn import MLPClassifier, MLPRegressor

    columns = [(name, FloatTensorType([None, 1])) for name in ("a", "b", "c")]
    for kind, task in [(MLPClassifier, "multiclass"), (MLPRegressor, "regression")]:
        _, estimator = _briefly_fitted(kind, task)
        with pytest.raises(ValueError, match=r"one input tensor .* 3 inputs \['a', 'b', 'c'\]"):
            skl2onnx.to_onnx(estimator, initial_types=columns)


def test_an_input_of_another_width_is_refused_naming_both(skl2onnx):
    """The graph's Gemm takes the features the estimator was fitted on: a sample of
    another width is refused when converted, not when onnxruntime loads the graph."""
    from mlpzero.sklearn import MLPClassifier, MLPRegressor

    for kind, task in [(MLPClassifier, "binary_str"), (MLPRegressor, "regression_multi")]:
        X, estimator = _briefly_fitted(kind, task)
        with pytest.raises(ValueError, match=r"fitted on 3 features, got the input .* 2 columns"):
            skl2onnx.to_onnx(estimator, X[:1, :2].astype(np.float32))


# ---------------------------------------------------------------- command line
def test_cli_export_writes_onnx_and_refuses_other_extensions(tmp_path, capsys):
    from mlpzero.cli import main

    model = fitted("multiclass_str", "relu")
    saved = model.save(tmp_path / "model.npz")
    out = tmp_path / "model.onnx"
    assert main(["export", str(saved), str(out)]) == 0
    assert "wrote the ONNX model to" in capsys.readouterr().out
    X = inputs().astype(np.float32)
    assert_matches(model, run(onnx.load(str(out)), X), X)

    assert main(["export", str(saved), str(tmp_path / "model.txt")]) == 1
    error = capsys.readouterr().err
    assert "from its extension '.txt'" in error and ".onnx" in error and ".h" in error
    assert main(["export", str(saved), str(out), "--name", "net"]) == 1
    assert "--name applies to a C header" in capsys.readouterr().err


def test_the_example_runs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
    script = Path(__file__).resolve().parents[1] / "examples" / "export_onnx.py"
    ran = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("labels identical") == 2
    assert (tmp_path / "moons.onnx").exists()


def test_a_failed_export_leaves_the_file_it_would_replace(tmp_path, monkeypatch):
    import os

    path = tmp_path / "net.onnx"
    path.write_bytes(b"the previous model")
    X, _ = data("binary", n=30)
    labels = np.array(["a", "b\udcff"])[np.arange(30) % 2]
    model = MLP(hidden=(3,), seed=0).fit(X, labels, epochs=2)
    with pytest.raises(ValueError, match=r"class label 'b\\udcff'"):
        model.to_onnx(path)

    def full_disk(descriptor):
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        fitted("binary", "relu").to_onnx(path)
    assert path.read_bytes() == b"the previous model"
    assert os.listdir(tmp_path) == ["net.onnx"]


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-6), ("float64", 1e-12)])
def test_sigmoid_keeps_relative_accuracy_far_from_zero(dtype, rtol):
    """Confident negatives (probabilities far below the dtype's epsilon) and the limits at
    large logits, for the sigmoid link and a hidden sigmoid layer alike."""
    z = np.concatenate([np.linspace(-80, 30, 45), [-1000.0, 1000.0]]).astype(dtype)
    X = np.zeros((len(z), 3), dtype)
    X[:, 0] = z
    # logistic regression whose logit is the first feature
    binary = MLP(hidden=(), dtype=dtype, seed=0).fit(*data("binary"), epochs=1)
    # a hidden sigmoid unit that outputs sigmoid(first feature), passed on unchanged
    regression = MLP(hidden=(1,), activation="sigmoid", dtype=dtype, seed=0)
    regression.fit(*data("regression"), epochs=1)
    for model in (binary, regression):
        for w, b in zip(model.network.weights, model.network.biases, strict=True):
            w[...] = 0
            w[0, 0] = 1
            b[...] = 0
        outputs = run(model.to_onnx(), X)
        got = outputs["probabilities"] if "probabilities" in outputs else outputs["variable"]
        expected = model.predict_proba(X)
        assert expected[:, -1].min() < 1e-30 and not np.isnan(got).any()
        np.testing.assert_allclose(got, expected.reshape(got.shape), rtol=rtol, atol=0)


def test_to_onnx_writes_only_to_a_dot_onnx_file(tmp_path):
    model = fitted("binary", "relu")
    data = tmp_path / "train.csv"
    data.write_text("a,b,c,y\n1,2,3,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"'.*train.csv' from its extension '.csv'; use one of"):
        model.to_onnx(data)
    with pytest.raises(ValueError, match=r"'.*net.h': the ONNX model is written to a .onnx file"):
        model.to_onnx(tmp_path / "net.h")
    assert data.read_text(encoding="utf-8") == "a,b,c,y\n1,2,3,0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]
    assert model.to_onnx(tmp_path / "net.ONNX") is not None
    assert (tmp_path / "net.ONNX").exists()


def test_a_bytes_path_is_written_and_a_folder_path_refused(tmp_path):
    import os

    from mlpzero.export import export

    model = fitted("binary", "relu")
    model.to_onnx(os.fsencode(tmp_path / "net.onnx"))
    assert export(model, os.fsencode(tmp_path / "other.onnx")) == tmp_path / "other.onnx"
    X = inputs().astype(np.float32)
    assert_matches(model, run(onnx.load(str(tmp_path / "net.onnx")), X), X)
    for path in (f"{tmp_path / 'dir.onnx'}{os.sep}", f"{tmp_path / 'dir.onnx'}/"):
        with pytest.raises(ValueError, match="is a folder"):
            model.to_onnx(path)
        with pytest.raises(ValueError, match="is a folder"):
            export(model, path)
    assert sorted(os.listdir(tmp_path)) == ["net.onnx", "other.onnx"]


def test_a_link_named_like_an_onnx_file_never_replaces_the_data_file_it_names(tmp_path):
    model = fitted("binary", "relu")
    data = tmp_path / "train.csv"
    data.write_text("a,b,c,y\n1,2,3,0\n", encoding="utf-8")
    (tmp_path / "net.onnx").symlink_to("train.csv")
    with pytest.raises(ValueError, match=r"'.*net.onnx' links to '.*train.csv'.*\.onnx file"):
        model.to_onnx(tmp_path / "net.onnx")
    assert data.read_text(encoding="utf-8") == "a,b,c,y\n1,2,3,0\n"
