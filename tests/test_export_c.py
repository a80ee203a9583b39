"""C export: the header is compiled with a strict C99 compiler and run on drawn inputs."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from export_cases import ACTIVATIONS, TASKS, data, fitted, inputs, tolerance
from mlpzero import MLP, load
from mlpzero.activations import LeakyReLU
from mlpzero.export.c import c_source
from mlpzero.export.description import describe

#: Seconds a compile or a run of a compiled program may take before it counts as hung.
TIMEOUT = 120
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc, gcc or clang) on PATH")

_DRIVER = """#include <stdio.h>
#include <stdlib.h>
#include "net.h"

int main(void)
{
    REAL x[NET_N_FEATURES];
    char token[64];
    int j, k;
    for (;;) {
        for (j = 0; j < NET_N_FEATURES; ++j) {
            if (scanf("%63s", token) != 1) {
                return 0;
            }
            x[j] = (REAL)strtod(token, NULL);
        }
        BODY
        printf("\\n");
    }
}
"""
_CLASSIFIER = """REAL proba[NET_N_CLASSES];
        net_predict_proba(x, proba);
        for (k = 0; k < NET_N_CLASSES; ++k) {
            printf("%a ", (double)proba[k]);
        }
        k = net_predict(x);
        printf("%d " LABEL, k, net_classes[k]);"""
_MULTILABEL = """REAL proba[NET_N_OUTPUTS];
        int labels[NET_N_OUTPUTS];
        net_predict_proba(x, proba);
        net_predict(x, labels);
        for (k = 0; k < NET_N_OUTPUTS; ++k) {
            printf("%a %d ", (double)proba[k], labels[k]);
        }"""
_REGRESSION = """REAL y[NET_N_OUTPUTS];
        net_predict(x, y);
        for (k = 0; k < NET_N_OUTPUTS; ++k) {
            printf("%a ", (double)y[k]);
        }"""


def compile_and_run(
    source: str, model: MLP, X: np.ndarray, tmp_path, flags=FLAGS
) -> list[list[str]]:
    """Compile ``source`` (the header) with a driver for ``model``'s task; run it on ``X``."""
    (tmp_path / "net.h").write_text(source, encoding="utf-8")
    if model.task == "regression":
        body = _REGRESSION
    elif model.task == "multilabel":
        body = _MULTILABEL
    else:
        strings = model.classes_.dtype.kind in "UOT"
        body = _CLASSIFIER.replace("LABEL", '"%s"' if strings else '"%lld"')
    real = "float" if model.dtype == np.float32 else "double"
    driver = _DRIVER.replace("BODY", body).replace("REAL", real)
    (tmp_path / "driver.c").write_text(driver, encoding="utf-8")
    program = tmp_path / "driver"
    built = subprocess.run(
        [CC, *flags, "driver.c", "-o", str(program), "-lm"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    stdin = "\n".join(" ".join(float(v).hex() for v in row) for row in X) + "\n"
    ran = subprocess.run(
        [str(program)], input=stdin, capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    return [line.split() for line in ran.stdout.splitlines()]


def check(model: MLP, X: np.ndarray, rows: list[list[str]]) -> None:
    """The program's outputs equal ``predict_proba`` / ``predict`` (labels exactly)."""
    tol = tolerance(model.dtype)
    assert len(rows) == len(X)
    if model.task == "regression":
        values = np.array([[float.fromhex(v) for v in row] for row in rows])
        expected = model.predict(X).reshape(len(X), -1)
        np.testing.assert_allclose(values, expected, rtol=tol, atol=tol)
    elif model.task == "multilabel":
        proba = np.array([[float.fromhex(v) for v in row[0::2]] for row in rows])
        labels = np.array([[int(v) for v in row[1::2]] for row in rows])
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=tol, atol=tol)
        assert labels.tolist() == model.predict(X).tolist()
    else:
        width = model.predict_proba(X).shape[1]
        proba = np.array([[float.fromhex(v) for v in row[:width]] for row in rows])
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=tol, atol=tol)
        predicted = model.predict(X)
        index = [int(row[width]) for row in rows]
        assert model.classes_[index].tolist() == predicted.tolist()
        labels = [row[width + 1] for row in rows]
        assert labels == [str(label) for label in predicted.tolist()]


@needs_cc
@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("task", TASKS)
def test_compiled_header_matches_the_model(task, dtype, standardize, tmp_path):
    # Five hidden layers: every activation in one network.
    model = fitted(task, list(ACTIVATIONS), dtype, hidden=(6, 5, 4, 5, 3), standardize=standardize)
    path = model.to_c(tmp_path / "exported.h", name="net")
    source = path.read_text(encoding="utf-8")
    assert ("net_mean[NET_N_FEATURES]" in source) == standardize
    assert ("3 inputs -> standardise -> 6 sigmoid" in source) == standardize
    X = inputs(raw=standardize).astype(dtype)
    check(model, X, compile_and_run(path.read_text(encoding="utf-8"), model, X, tmp_path))


@needs_cc
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_each_activation_alone(activation, tmp_path):
    model = fitted("regression_multi", activation, hidden=(6, 4))
    X = inputs().astype(np.float32)
    check(model, X, compile_and_run(c_source(describe(model), "net"), model, X, tmp_path))


@needs_cc
def test_leaky_slopes_per_layer_and_no_hidden_layer(tmp_path):
    model = fitted("multiclass", [LeakyReLU(0.3), LeakyReLU(0.05)], "float64", hidden=(5, 4))
    X = inputs().astype(np.float64)
    source = c_source(describe(model), "net")
    assert "3e-01 * v[i]" in source and "5e-02 * v[i]" in source
    (tmp_path / "deep").mkdir()
    check(model, X, compile_and_run(source, model, X, tmp_path / "deep"))
    flat = fitted("binary_str", "relu", hidden=())
    X = inputs().astype(np.float32)
    check(flat, X, compile_and_run(c_source(describe(flat), "net"), flat, X, tmp_path))


@needs_cc
def test_an_input_transform_is_one_step_before_the_first_layer(tmp_path):
    model = fitted("multiclass_str", "tanh", "float32")
    mean = np.array([1.0, -2.0, 0.5], np.float32)
    scale = np.array([2.0, 0.5, 4.0], np.float32)
    description = dataclasses.replace(describe(model), mean=mean, scale=scale)
    X = inputs().astype(np.float32)
    rows = compile_and_run(c_source(description, "net"), model, X, tmp_path)
    check(model, (X - mean) / scale, rows)


def test_an_input_transform_other_than_the_standardizer_is_refused(tmp_path):
    """A subclass of Standardizer set as the network's input transform computes something
    else than ``(x - mean) / scale``: the exports refuse it rather than write the plain
    standardisation, as they refuse a subclass of a built-in activation or loss."""
    from mlpzero.standardization import Standardizer

    class Clipped(Standardizer):
        def apply(self, X, out=None):
            return np.clip(super().apply(X, out=out), -1.0, 1.0, out=out)

    model = fitted("binary", "relu", standardize=True)
    stats = model.standardizer_
    model.network.input_transform = Clipped(stats.mean, stats.scale)
    with pytest.raises(ValueError, match=r"input transform .*\(Clipped\)"):
        describe(model)
    with pytest.raises(ValueError, match="input transform"):
        model.to_c(tmp_path / "net.h", name="net")
    assert not (tmp_path / "net.h").exists()


@needs_cc
def test_string_labels_are_escaped(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3))
    names = np.array(['say "hi"', "back\\slash", "caf\u00e9??="])
    y = names[np.arange(30) % 3]
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    (tmp_path / "net.h").write_text(c_source(describe(model), "net"), encoding="utf-8")
    driver = '#include <stdio.h>\n#include "net.h"\nint main(void)\n{\n    int k;\n' \
        '    for (k = 0; k < NET_N_CLASSES; ++k) {\n        printf("%s\\n", net_classes[k]);\n' \
        "    }\n    return 0;\n}\n"  # fmt: skip
    (tmp_path / "driver.c").write_text(driver, encoding="utf-8")
    subprocess.run(
        [CC, *FLAGS, "driver.c", "-o", "driver"], cwd=tmp_path, check=True, timeout=TIMEOUT
    )
    ran = subprocess.run(
        [str(tmp_path / "driver")], capture_output=True, check=True, timeout=TIMEOUT
    )
    assert ran.stdout.decode("utf-8").splitlines() == model.classes_.tolist()


@needs_cc
@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
def test_labels_in_numpys_string_dtype_are_c_strings(tmp_path):
    X, y = data("multiclass_str")
    model = MLP(hidden=(4,), seed=0).fit(X, y.astype(np.dtypes.StringDType()), epochs=5)
    assert model.classes_.dtype.kind == "T"
    X = inputs().astype(np.float32)
    check(model, X, compile_and_run(c_source(describe(model), "net"), model, X, tmp_path))


def test_header_states_the_architecture_and_bytes():
    model = fitted("multiclass", ["relu", "tanh"], "float64", hidden=(5, 4))
    source = c_source(describe(model), "iris")
    n_params = model.network.n_params
    assert "Architecture: 3 inputs -> 5 relu -> 4 tanh -> 3 softmax." in source
    assert f"Weights: {n_params} parameters in double, {8 * n_params} bytes." in source
    assert "malloc" not in source and source.count("#include") == 1
    assert "#define IRIS_WIDEST 5" in source
    assert "iris_predict_proba(const double *x, double *proba)" in source


def test_an_export_while_another_thread_trains_holds_the_weights_of_one_moment(monkeypatch):
    """The exporters copied the weights, then the biases, while a fit in another thread
    went on stepping them: a header or ONNX file could hold one step's weights with the
    next step's biases, without an error. The export now waits for the fit."""
    import threading

    model = fitted("binary", "relu", "float32", hidden=(3,))
    network = model.network
    weights = [w.copy() for w in network.weights]
    biases = [b.copy() for b in network.biases]

    def step():  # as the fit's loop does, holding the network's lock
        with network.lock:
            network.params += 1

    trainer = threading.Thread(target=step)

    class StepBeforeTheBiases(list):
        def __iter__(self):
            if trainer.ident is None:
                trainer.start()
                trainer.join(timeout=0.5)  # a step that waits for the export waits no longer
            return super().__iter__()

    monkeypatch.setattr(network, "biases", StepBeforeTheBiases(network.biases))
    try:
        description = describe(model)
    finally:
        trainer.join(timeout=60)
    for got, expected in zip(
        description.weights + description.biases, weights + biases, strict=True
    ):
        np.testing.assert_array_equal(got, expected)


def test_no_size_or_index_is_a_product_that_a_16_bit_int_would_overflow():
    """Where int has 16 bits (AVR, MSP430), C evaluates 200 * 200 in int: an array size
    written so, or a weight index j * n_in + i, overflows past 32,767 weights. Sizes are
    single constants (which take a wider type by themselves) and the weights are read by
    a pointer that steps a row at a time."""
    model = fitted("binary", "relu", "float32", hidden=(3,))
    source = c_source(describe(model), "net")
    sizes = re.findall(r"net_[wb]\d+\[([^\]]*)\]", source)
    assert len(sizes) == 4
    assert all(re.fullmatch(r"\d+( /\* \d+ x \d+ \*/)?", size) for size in sizes), sizes
    assert "w[j * n_in + i]" not in source and "w += n_in" in source


def test_refuses_bad_names_and_unfitted_models(tmp_path):
    model = fitted("binary", "relu")
    for name in ("1net", "my-net", "int", "", "net name"):
        with pytest.raises(ValueError, match="name must be a C identifier"):
            model.to_c(tmp_path / "x.h", name=name)
    for name in ("_", "_net", "__tanh"):  # reserved: "_" would define __tanh
        with pytest.raises(ValueError, match=f"name must not start with '_'.*got '{name}'"):
            model.to_c(tmp_path / "x.h", name=name)
    with pytest.raises(ValueError, match="not fitted"):
        MLP().to_c(tmp_path / "x.h")
    assert not (tmp_path / "x.h").exists()


@needs_cc
def test_cli_export_writes_a_header_named_after_the_file(tmp_path, capsys):
    from mlpzero.cli import main

    model = fitted("binary", "tanh")
    saved = model.save(tmp_path / "model.npz")
    assert main(["export", str(saved), str(tmp_path / "sensor.h")]) == 0
    assert "wrote the C99 header to" in capsys.readouterr().out
    source = (tmp_path / "sensor.h").read_text(encoding="utf-8")
    assert "sensor_predict(const float *x)" in source
    assert main(["export", str(saved), str(tmp_path / "out.h"), "--name", "net"]) == 0
    X = inputs().astype(np.float32)
    check(model, X, compile_and_run((tmp_path / "out.h").read_text(), model, X, tmp_path))


@needs_cc
def test_the_readme_program_compiles_and_agrees(tmp_path):
    import re
    from pathlib import Path

    from mlpzero.datasets import make_moons

    readme = Path(__file__).resolve().parents[1] / "README.md"
    (program,) = re.findall(r"```c\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    X, y = make_moons(400, noise=0.2, random_state=0)
    model = MLP(hidden=(16, 8), seed=0).fit(X, y, epochs=300, learning_rate=0.1)
    model.to_c(tmp_path / "moons.h", name="moons")
    (tmp_path / "main.c").write_text(program, encoding="utf-8")
    subprocess.run(
        [CC, *FLAGS, "main.c", "-o", "moons", "-lm"], cwd=tmp_path, check=True, timeout=TIMEOUT
    )
    ran = subprocess.run(
        [str(tmp_path / "moons")], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    x = np.array([[0.5, -0.25]])
    expected = f"class {model.predict(x)[0]}, p = {model.predict_proba(x)[0, 1]:.3f}"
    assert ran.stdout.strip() == expected


def test_the_example_runs(tmp_path):
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "export_c.py"
    ran = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "moons.h").exists()
    if CC is not None:
        assert "so does the model" in ran.stdout


def test_an_export_never_writes_over_a_model_file_or_into_a_folder(tmp_path):
    model = fitted("binary", "relu")
    saved = model.save(tmp_path / "own.npz")
    before = saved.read_bytes()
    renamed = tmp_path / "own.h"  # a model file under another extension
    renamed.write_bytes(before)
    for path, message in [
        (saved, "from its extension '.npz'"),
        (renamed, "holds a model file"),
        (tmp_path, "is a folder"),
        (tmp_path / "absent" / "m.h", "does not exist"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.to_c(path, name="m")
    with pytest.raises(ValueError, match=r"from its extension '\.npz'"):
        model.to_onnx(saved)
    assert saved.read_bytes() == before and renamed.read_bytes() == before


def test_a_bytes_path_is_written_and_a_folder_path_refused(tmp_path):
    from mlpzero.export import export

    model = fitted("binary", "relu")
    written = model.to_c(os.fsencode(tmp_path / "net.h"), name="net")
    assert written == tmp_path / "net.h" and "net_predict" in written.read_text()
    assert export(model, os.fsencode(tmp_path / "other.h")) == tmp_path / "other.h"
    for path in (f"{tmp_path / 'dir.h'}{os.sep}", f"{tmp_path / 'dir.h'}/"):
        with pytest.raises(ValueError, match="is a folder"):
            model.to_c(path, name="net")
        with pytest.raises(ValueError, match="is a folder"):
            export(model, path)
    with pytest.raises(TypeError, match=r"path must be a file path .*got int 5"):
        model.to_c(5, name="net")
    assert sorted(os.listdir(tmp_path)) == ["net.h", "other.h"]


def test_to_c_writes_only_to_a_dot_h_file(tmp_path):
    model = fitted("binary", "relu")
    data = tmp_path / "train.csv"
    data.write_text("a,b,c,y\n1,2,3,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"'.*train.csv' from its extension '.csv'; use one of"):
        model.to_c(data, name="net")
    with pytest.raises(ValueError, match=r"'.*net.onnx': the C99 header is written to a .h file"):
        model.to_c(tmp_path / "net.onnx", name="net")
    with pytest.raises(ValueError, match=r"from its extension '\(none\)'"):
        model.to_c(tmp_path / "net", name="net")
    assert data.read_text(encoding="utf-8") == "a,b,c,y\n1,2,3,0\n"
    assert sorted(os.listdir(tmp_path)) == ["train.csv"]
    assert model.to_c(tmp_path / "NET.H", name="net").exists()


def test_a_link_named_like_a_header_never_replaces_the_data_file_it_names(tmp_path):
    model = fitted("binary", "relu")
    data = tmp_path / "train.csv"
    data.write_text("a,b,c,y\n1,2,3,0\n", encoding="utf-8")
    (tmp_path / "net.h").symlink_to("train.csv")
    with pytest.raises(ValueError, match=r"'.*net.h' links to '.*train.csv'.*\.h file"):
        model.to_c(tmp_path / "net.h", name="net")
    assert data.read_text(encoding="utf-8") == "a,b,c,y\n1,2,3,0\n"
    (tmp_path / "latest.h").symlink_to("build.h")  # a link to a header is followed
    assert "net_predict" in model.to_c(tmp_path / "latest.h", name="net").read_text()
    assert (tmp_path / "latest.h").is_symlink() and (tmp_path / "build.h").is_file()


def test_a_link_into_a_missing_folder_is_refused_naming_the_link(tmp_path):
    (tmp_path / "net.h").symlink_to(tmp_path / "absent" / "net.h")
    with pytest.raises(ValueError, match=r"'.*net.h' links to '.*absent.net.h'.* does not exist"):
        fitted("binary", "relu").to_c(tmp_path / "net.h", name="net")
    assert sorted(os.listdir(tmp_path)) == ["net.h"] and (tmp_path / "net.h").is_symlink()


def test_a_header_named_after_a_file_that_is_no_c_identifier_asks_for_a_name(tmp_path):
    from mlpzero.export import export

    with pytest.raises(ValueError, match=r"'1bad' is not a C identifier .*: pass name="):
        export(fitted("binary", "relu"), tmp_path / "1bad.h")
    with pytest.raises(ValueError, match=r"'_net' is not a C identifier .*: pass name="):
        export(fitted("binary", "relu"), tmp_path / "_net.h")
    assert export(fitted("binary", "relu"), tmp_path / "1bad.h", name="ok").exists()


def test_a_header_named_after_a_c_keyword_says_it_is_a_keyword(tmp_path):
    from mlpzero.export import export

    with pytest.raises(ValueError, match=r"'int' is a C keyword: pass name="):
        export(fitted("binary", "relu"), tmp_path / "int.h")
    assert not (tmp_path / "int.h").exists()


def _frame_model(columns, y=None):
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(30, len(columns)))
    y = (X[:, 0] > 0).astype(np.int64) if y is None else y
    return MLP(hidden=(3,), seed=0).fit(pd.DataFrame(X, columns=columns), y, epochs=2)


def test_a_failed_export_leaves_the_file_it_would_replace(tmp_path, monkeypatch):
    path = tmp_path / "net.h"
    path.write_text("/* the previous header */\n", encoding="utf-8")
    # A column name read with surrogateescape: no UTF-8 text can hold it.
    model = _frame_model(["a", "b", "c\udcff"])
    with pytest.raises(ValueError, match=r"feature name 'c\\udcff'"):
        model.to_c(path, name="net")
    labels = np.array(["a", "b\udcff"])[np.arange(30) % 2]
    with pytest.raises(ValueError, match=r"class label 'b\\udcff'"):
        _frame_model(["a", "b", "c"], labels).to_c(path, name="net")

    def full_disk(descriptor):
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        fitted("binary", "relu").to_c(path, name="net")
    assert path.read_text(encoding="utf-8") == "/* the previous header */\n"
    assert os.listdir(tmp_path) == ["net.h"]  # no temporary file left behind


#: Feature names that would leave, break or splice a comment, or hold trigraphs.
HOSTILE_NAMES = [
    "x*\\\n/\n#define expf(v) 0.0f\n/*",
    "km/*h",
    "??/",
    "a */ b",
    "end\\",
    'say "hi"\t\u00e9',
]


@needs_cc
def test_hostile_feature_names_stay_strings(tmp_path):
    model = _frame_model(HOSTILE_NAMES)
    source = c_source(describe(model), "net")
    X = np.random.default_rng(1).normal(size=(20, len(HOSTILE_NAMES))).astype(np.float32)
    check(model, X, compile_and_run(source, model, X, tmp_path))
    assert _printed_feature_names(source, tmp_path) == HOSTILE_NAMES


@needs_cc
def test_feature_names_longer_than_c99_strings_compile(tmp_path):
    # C99 promises string literals of 4095 bytes; -pedantic refuses longer ones
    names = ["a" * 5000, "\u00e9" * 2048 + "?", "short"]
    source = c_source(describe(_frame_model(names)), "net")
    assert _printed_feature_names(source, tmp_path) == names


def _printed_feature_names(source: str, tmp_path) -> list[str]:
    """``NAME_feature_names`` of the header ``source``, as a strict C99 program prints them."""
    (tmp_path / "net.h").write_text(source, encoding="utf-8")
    driver = '#include <stdio.h>\n#include "net.h"\nint main(void)\n{\n    int j;\n' \
        "    for (j = 0; j < NET_N_FEATURES; ++j) {\n" \
        '        printf("%s%c", net_feature_names[j], 0);\n    }\n    return 0;\n}\n'  # fmt: skip
    (tmp_path / "names.c").write_text(driver, encoding="utf-8")
    built = subprocess.run(
        [CC, *FLAGS, "names.c", "-o", "names", "-lm"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[:2000]
    ran = subprocess.run(
        [str(tmp_path / "names")], capture_output=True, check=True, timeout=TIMEOUT
    )
    return ran.stdout.decode("utf-8").split("\0")[:-1]


@needs_cc
@pytest.mark.parametrize("task", ["multiclass", "regression_multi", "poisson"])
def test_nan_comes_out_where_onnxruntime_gives_it(task, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    model = fitted(task, ["relu", "leaky_relu"], hidden=(5, 4))
    X = inputs(6).astype(np.float32)
    X[0, 0] = np.nan
    X[1] = np.nan
    X[2] = [3e38, -3e38, 3e38]  # inf - inf in the first layer
    session = ort.InferenceSession(
        model.to_onnx().SerializeToString(), providers=["CPUExecutionProvider"]
    )
    expected = session.run(None, {"X": X})[-1]  # probabilities, or the values
    rows = compile_and_run(c_source(describe(model), "net"), model, X, tmp_path)
    got = np.array([[float.fromhex(v) for v in row[: expected.shape[1]]] for row in rows])
    assert np.isnan(expected[:3]).any(axis=1).all()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)  # NaN where both are


@needs_cc
def test_a_row_whose_logits_overflow_comes_out_as_the_links_limit(tmp_path):
    """Where ``predict`` refuses a row whose logit overflows, the exports give the
    sigmoid's limit, a finite probability of exactly 1 and no NaN: nothing in the output
    marks the row, as the README says."""
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    model = fitted("binary", "relu", hidden=(4,))
    for w, b in zip(model.network.weights, model.network.biases, strict=True):
        w[...], b[...] = 1.0, 0.0
    X = np.full((1, 3), 3e38, dtype=np.float32)  # 9e38 in the first layer: inf in float32
    with pytest.raises(ValueError, match="overflow"):
        model.predict(X)
    session = ort.InferenceSession(
        model.to_onnx().SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"X": X})
    rows = compile_and_run(c_source(describe(model), "net"), model, X, tmp_path)
    got = np.array([[float.fromhex(v) for v in row[:2]] for row in rows])
    assert proba.tolist() == got.tolist() == [[0.0, 1.0]]
    assert label.tolist() == [model.classes_[1]] and rows[0][2] == "1"


@needs_cc
def test_the_extreme_integer_labels_compile(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3))
    info = np.iinfo(np.int64)
    y = np.array([info.min, 0, info.max])[np.arange(30) % 3]
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    check(model, X, compile_and_run(c_source(describe(model), "net"), model, X, tmp_path))


def _first_probabilities_of_two_headers(first, second, names, tmp_path):
    """Export ``first`` and ``second`` under ``names``, compile one program including both
    headers and return each model's ``p[1]`` for one input row, with that row."""
    first.to_c(tmp_path / "first.h", name=names[0])
    second.to_c(tmp_path / "second.h", name=names[1])
    driver = f"""#include <stdio.h>
#include "first.h"
#include "second.h"
int main(void)
{{
    const float x[{names[0].upper()}_N_FEATURES] = {{0.5f, -1.0f, 2.0f}};
    float p[{names[0].upper()}_N_CLASSES], q[{names[1].upper()}_N_CLASSES];
    {names[0]}_predict_proba(x, p);
    {names[1]}_predict_proba(x, q);
    printf("%a %a\\n", (double)p[1], (double)q[1]);
    return 0;
}}
"""
    (tmp_path / "both.c").write_text(driver, encoding="utf-8")
    built = subprocess.run(
        [CC, *FLAGS, "both.c", "-o", "both", "-lm"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    ran = subprocess.run(
        [str(tmp_path / "both")], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    return [float.fromhex(v) for v in ran.stdout.split()], np.array([[0.5, -1.0, 2.0]], np.float32)


@needs_cc
def test_headers_whose_names_differ_in_case_both_count(tmp_path):
    lower = fitted("binary", "relu")
    upper = fitted("binary", "tanh")  # the same shape: its macros have the same values
    got, x = _first_probabilities_of_two_headers(lower, upper, ("net", "NET"), tmp_path)
    expected = [lower.predict_proba(x)[0, 1], upper.predict_proba(x)[0, 1]]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_feature_names_that_are_not_strings_are_written_as_the_model_file_holds_them(tmp_path):
    X, y = data("binary")
    model = MLP(hidden=(3,), seed=0)
    model.feature_names_in_ = [1, 2, 3]
    model.fit(X, y, epochs=2)
    model.save(tmp_path / "model.npz")
    source = model.to_c(tmp_path / "memory.h", name="net").read_text(encoding="utf-8")
    assert '"1",\n    "2",\n    "3",' in source
    saved = load(tmp_path / "model.npz").to_c(tmp_path / "file.h", name="net")
    assert saved.read_text(encoding="utf-8") == source


@pytest.mark.parametrize("names", [["a"], ["a", "b", "c", "d"]])
def test_feature_names_of_another_count_than_the_inputs_are_refused(names, tmp_path):
    """NAME_feature_names is read for each of the NAME_N_FEATURES inputs: a shorter array
    would be read past its end."""
    model = fitted("binary", "relu")
    model.feature_names_in_ = names
    with pytest.raises(ValueError, match=r"feature_names_in_ .* 3 inputs, got \d+ names: \["):
        model.to_c(tmp_path / "net.h", name="net")
    assert not (tmp_path / "net.h").exists()


@needs_cc
def test_a_name_that_extends_another_does_not_collide_with_its_steps(tmp_path):
    """Models named "net" and "net_leaky" are two headers of one program, though the
    first has a leaky ReLU and the second a ReLU."""
    leaky = fitted("binary", "leaky_relu")
    plain = fitted("binary", "relu")
    got, x = _first_probabilities_of_two_headers(leaky, plain, ("net", "net_leaky"), tmp_path)
    expected = [leaky.predict_proba(x)[0, 1], plain.predict_proba(x)[0, 1]]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@needs_cc
def test_two_models_under_one_name_do_not_hide_one_another(tmp_path):
    """Two headers of one name but different models fail to compile together, rather than
    the second being skipped by the first's include guard; one header twice is fine."""
    fitted("binary", "relu").to_c(tmp_path / "cats.h")  # both named "model"
    fitted("binary", "tanh").to_c(tmp_path / "dogs.h")
    main = "int main(void)\n{\n    return model_predict(model_w1);\n}\n"
    (tmp_path / "twice.c").write_text('#include "dogs.h"\n#include "dogs.h"\n' + main)
    (tmp_path / "both.c").write_text('#include "cats.h"\n#include "dogs.h"\n' + main)
    twice = subprocess.run(
        [CC, *FLAGS, "twice.c", "-o", "twice", "-lm"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert twice.returncode == 0, twice.stderr
    both = subprocess.run(
        [CC, *FLAGS, "both.c", "-o", "both", "-lm"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert both.returncode != 0 and "redefinition" in both.stderr


@needs_cc
@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass", "poisson"])
def test_float32_headers_compute_in_float_alone(task, tmp_path):
    """No double arithmetic: it is software-emulated on single-precision microcontrollers."""
    model = fitted(task, list(ACTIVATIONS), hidden=(4, 4, 4, 4, 4))
    X = inputs().astype(np.float32)
    rows = compile_and_run(
        c_source(describe(model), "net"), model, X, tmp_path, [*FLAGS, "-Wdouble-promotion"]
    )
    check(model, X, rows)


def test_a_nul_in_a_label_or_a_feature_name_is_refused(tmp_path):
    labels = np.array(["a\0b", "c"])[np.arange(30) % 2]
    with pytest.raises(ValueError, match=r"class label 'a\\x00b' in a C header: .* NUL"):
        _frame_model(["x", "y", "z"], labels).to_c(tmp_path / "net.h", name="net")
    with pytest.raises(ValueError, match=r"feature name 'y\\x00z' in a C header: .* NUL"):
        _frame_model(["x", "y\0z", "z"]).to_c(tmp_path / "net.h", name="net")
    assert not (tmp_path / "net.h").exists()


def test_a_header_is_written_a_few_rows_at_a_time(tmp_path):
    """to_c writes the header as it formats it: its peak memory is far below the header's
    size (it held the whole text, several times, before), and the file is the text
    c_source gives, byte for byte."""
    import tracemalloc

    X = np.random.default_rng(0).normal(size=(8, 400))
    y = np.arange(8) % 2
    model = MLP(hidden=(400, 100), dtype="float64", seed=0).fit(X, y, epochs=1)
    path = tmp_path / "wide.h"
    tracemalloc.start()
    try:
        model.to_c(path, name="wide")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert size > 4_000_000
    # the description's copy of the weights (a third of the header's size) and a few
    # rows of text
    assert peak < size / 2, f"peak {peak} bytes for a header of {size} bytes"
    assert path.read_bytes() == c_source(describe(model), "wide").encode("utf-8")
