"""Model files: bit-exact round trips, atomic writes, refusal of anything malformed,
and checkpoints that resume to exactly the weights of an uninterrupted run."""

import errno
import json
import os
import pickle
import re
import stat
import zipfile

import numpy as np
import pytest

import mlpzero
from conftest import blobs, read_model_file, write_model_file
from mlpzero import MLP, checkpointing, io
from mlpzero.callbacks import Callback
from mlpzero.history import History
from mlpzero.schedules import Schedule


def assert_same_predictions(a, b, X):
    for method in ("decision_function", "predict_proba", "predict"):
        left, right = getattr(a, method)(X), getattr(b, method)(X)
        assert left.dtype == right.dtype
        np.testing.assert_array_equal(left, right, err_msg=method)


CASES = {
    "binary-int": dict(classes=(0, 1)),
    "binary-str": dict(classes=("no", "yes")),
    "binary-bool": dict(classes=(False, True)),
    "multiclass-str": dict(classes=("cat", "dog", "émeu")),
    "multiclass-int": dict(classes=(3, 7, 11, 20)),
    "multiclass-float": dict(classes=(0.0, 1.0, 2.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_and_loaded_model_predicts_bit_for_bit_the_same(tmp_path, case, dtype):
    X, y = blobs(**CASES[case])
    model = MLP(
        hidden=(5, 4),
        activation=["tanh", {"name": "leaky_relu", "alpha": 0.2}],
        # float labels are classes only when the loss says so (a float y means regression)
        loss="categorical_crossentropy" if case == "multiclass-float" else "auto",
        dtype=dtype,
        seed=4,
    )
    model.fit(X, y, epochs=15, learning_rate=0.1, batch_size=16)
    path = model.save(tmp_path / "model.npz")
    loaded = mlpzero.load(path)
    assert_same_predictions(model, loaded, X)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.classes_.tolist() == model.classes_.tolist()
    assert loaded.history.as_dict() == model.history.as_dict()
    assert loaded.summary() == model.summary()
    assert loaded.fit_config_ == model.fit_config_
    assert loaded.fit_config_["epochs"] == 15
    assert loaded.fit_config_["batch_size"] == 16
    assert loaded.fit_config_["optimizer"]["name"] == "sgd"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_model_file_written_in_the_other_byte_order_loads_the_same(tmp_path, dtype):
    """A machine of the other byte order (s390x, big-endian; x86 and ARM are little-endian)
    writes its arrays in its own order; the file was refused as "has dtype >f4"."""
    X, y = blobs()
    model = mlpzero.MLP(hidden=(5,), seed=0, dtype=dtype, standardize=True)
    model.fit(X, y, epochs=5)
    path = model.save(tmp_path / "model.npz")
    document, arrays = read_model_file(path)
    other = "<" if np.dtype(dtype).byteorder == ">" else ">"
    swapped = {key: value.astype(value.dtype.newbyteorder(other)) for key, value in arrays.items()}
    assert any(not value.dtype.isnative for value in swapped.values())
    loaded = mlpzero.load(write_model_file(tmp_path / "swapped.npz", document, swapped))
    assert loaded.network.params.dtype == np.dtype(dtype) and loaded.network.params.dtype.isnative
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.network.params, model.network.params)


@pytest.mark.parametrize("target", ["regression-1d", "regression-2d", "multilabel"])
def test_round_trip_for_regression_and_multilabel(tmp_path, target):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 4))
    y = {
        "regression-1d": X @ [0.5, -1.0, 2.0, 0.25] + 0.1,
        "regression-2d": np.column_stack([X[:, 0] * 1.5, X[:, 1] - 0.3]),
        "multilabel": (X[:, :3] > 0).astype(int),
    }[target]
    model = MLP(hidden=(6,), seed=2).fit(X, y, epochs=10)
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(model.predict(X), loaded.predict(X))
    assert loaded.task == model.task
    assert loaded.evaluate(X, y) == model.evaluate(X, y)


def test_training_after_loading_continues_as_if_never_saved(tmp_path):
    # The random state is saved too, so the shuffling after loading is the same.
    X, y = blobs(n=50)
    model = MLP(hidden=(4,), seed=9).fit(X, y, epochs=3, batch_size=8)
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    model.fit(X, y, epochs=4, batch_size=8)
    loaded.fit(X, y, epochs=4, batch_size=8)
    np.testing.assert_array_equal(model.network.params, loaded.network.params)


class FrameLike:
    """The part of a data frame that MLP looks at: named columns and an array view."""

    def __init__(self, data, columns):
        self.data, self.columns = np.asarray(data), list(columns)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


def test_feature_names_are_kept(tmp_path):
    X, y = blobs(features=2)
    model = MLP(hidden=(3,)).fit(FrameLike(X, ["height", "weight"]), y, epochs=2)
    assert model.feature_names_in_ == ["height", "weight"]
    assert mlpzero.load(model.save(tmp_path / "m.npz")).feature_names_in_ == ["height", "weight"]
    assert MLP(hidden=(3,)).fit(X, y, epochs=1).feature_names_in_ is None


@pytest.mark.parametrize(
    "loss", ["bce", "log_loss", "mse", {"name": "squared_error"}, "binary_crossentropy"]
)
def test_a_loss_given_by_alias_or_config_is_saved_by_name_and_loads(tmp_path, loss):
    """The file names the loss; a file that holds an alias (as saves once wrote them)
    loads too, and a checkpoint of such a fit resumes."""
    X, y = blobs()
    model = MLP(hidden=(3,), loss=loss, seed=0).fit(X, y, epochs=2)
    path = model.save(tmp_path / "m.npz")
    document, arrays = read_model_file(path)
    assert document["model"]["loss"] == model.loss_.name
    np.testing.assert_array_equal(mlpzero.load(path).predict_proba(X), model.predict_proba(X))
    if isinstance(loss, str):
        document["model"]["loss"] = loss
        old = write_model_file(tmp_path / "old.npz", document, arrays)
        np.testing.assert_array_equal(mlpzero.load(old).predict_proba(X), model.predict_proba(X))
    checkpoint = tmp_path / "c.npz"
    MLP(hidden=(3,), loss=loss, seed=0).fit(X, y, epochs=1, checkpoint=checkpoint)
    resumed = MLP(hidden=(3,), loss=loss, seed=0).fit(X, y, epochs=2, resume=checkpoint)
    np.testing.assert_array_equal(resumed.network.params, model.network.params)


CLIPPED = {"name": "categorical_crossentropy", "epsilon": 1e-7}


def test_a_loss_with_epsilon_is_saved_as_its_config_and_loads_with_it(tmp_path):
    """A loss whose hyper-parameter is not the default is stored as its config (a bare
    name would load it without its epsilon); the loaded model reports the same loss."""
    X, y = blobs(classes=("a", "b", "c"))
    model = MLP(hidden=(3,), loss=CLIPPED, seed=0).fit(X, y, epochs=2)
    path = model.save(tmp_path / "m.npz")
    document, _ = read_model_file(path)
    assert document["loss"] == CLIPPED and document["model"]["loss"] == CLIPPED
    loaded = mlpzero.load(path)
    assert loaded.loss_ == model.loss_ and loaded.loss_.epsilon == 1e-7
    assert_same_predictions(model, loaded, X)
    far = X * 1e3  # saturated outputs: the clipped loss shows
    assert loaded.evaluate(far, y) == model.evaluate(far, y)
    exact = mlpzero.losses.CategoricalCrossEntropy().value(
        model.network.forward(far), model.encoder.encode(y, dtype=np.float64)
    )
    assert loaded.evaluate(far, y)["loss"] < exact - 1


def test_a_loss_with_epsilon_resumes_and_a_changed_epsilon_is_refused(tmp_path):
    X, y = blobs(classes=("a", "b", "c"))
    whole = MLP(hidden=(3,), loss=CLIPPED, seed=0).fit(X, y, epochs=3, batch_size=16)
    checkpoint = tmp_path / "c.npz"
    MLP(hidden=(3,), loss=CLIPPED, seed=0).fit(
        X, y, epochs=2, batch_size=16, checkpoint=checkpoint, checkpoint_interval=0
    )
    resumed = MLP(hidden=(3,), loss=CLIPPED, seed=0).fit(
        X, y, epochs=3, batch_size=16, resume=checkpoint
    )
    np.testing.assert_array_equal(resumed.network.params, whole.network.params)
    assert resumed.history["loss"] == whole.history["loss"] and resumed.loss_ == whole.loss_
    auto = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, batch_size=16, resume=checkpoint)
    assert auto.loss_ == whole.loss_  # "auto" takes the checkpoint's loss, epsilon and all
    for other in ({**CLIPPED, "epsilon": 1e-3}, "categorical_crossentropy"):
        with pytest.raises(ValueError, match=r"resume: .* holds a model with loss=.*epsilon"):
            MLP(hidden=(3,), loss=other, seed=0).fit(
                X, y, epochs=3, batch_size=16, resume=checkpoint
            )


def test_a_file_with_a_loss_config_without_epsilon_loads_with_the_default(good_file):
    def change(document, arrays):
        document["loss"] = document["model"]["loss"] = {"name": "categorical_crossentropy"}

    loaded = mlpzero.load(doctored(good_file, change))
    assert loaded.loss_ == mlpzero.load(good_file).loss_ and loaded.loss_.epsilon == 0.0


def test_load_refuses_a_model_loss_setting_that_is_not_the_files_loss(tmp_path):
    X, y = blobs(classes=("a", "b", "c"))
    path = MLP(hidden=(3,), loss=CLIPPED, seed=0).fit(X, y, epochs=1).save(tmp_path / "m.npz")
    document, arrays = read_model_file(path)
    document["model"]["loss"] = "categorical_crossentropy"  # the epsilon lost on one side
    doctored_path = write_model_file(tmp_path / "doctored.npz", document, arrays)
    with pytest.raises(ValueError, match=r"model\.loss is 'categorical_crossentropy', but the"):
        mlpzero.load(doctored_path)
    document["model"]["loss"] = "auto"  # a model that chose its loss: nothing to compare
    assert mlpzero.load(write_model_file(doctored_path, document, arrays)).loss_.epsilon == 1e-7


BAD_LOSS_CONFIGS = {
    "string epsilon": ({**CLIPPED, "epsilon": "1e-7"}, "epsilon must be a number"),
    "negative epsilon": ({**CLIPPED, "epsilon": -1e-7}, "epsilon must be a number"),
    "epsilon above one half": ({**CLIPPED, "epsilon": 0.7}, "epsilon must be a number"),
    "huge epsilon": ({**CLIPPED, "epsilon": 10**400}, "epsilon must be a number"),
    "bool epsilon": ({**CLIPPED, "epsilon": True}, "epsilon must be a number"),
    "null epsilon": ({**CLIPPED, "epsilon": None}, "epsilon must be a number"),
    "NaN epsilon": ({**CLIPPED, "epsilon": float("nan")}, "NaN"),
    "unknown key": ({**CLIPPED, "gamma": 2.0}, "has the key 'gamma'"),
    "epsilon of squared error": ({"name": "squared_error", "epsilon": 0.1}, "'epsilon'"),
    "unknown name": ({"name": "hinge", "epsilon": 0.1}, "name must be one of"),
    "no name": ({"epsilon": 0.1}, "name must be one of"),
}


@pytest.mark.parametrize("field", ["loss", "model.loss"])
@pytest.mark.parametrize("case", sorted(BAD_LOSS_CONFIGS))
def test_load_refuses_a_bad_loss_config_naming_file_and_field(good_file, field, case):
    value, message = BAD_LOSS_CONFIGS[case]
    path = doctored(good_file, set_in(field.split("."), value))
    with pytest.raises(ValueError, match=message) as caught:
        mlpzero.load(path)
    assert str(path) in str(caught.value)
    if case != "NaN epsilon":  # refused by the JSON reader, before any field
        assert f"{path}: {field}" in str(caught.value)


@pytest.mark.parametrize("columns", [["weight", 0], ["weight", "weight"]])
def test_columns_that_cannot_be_matched_by_name_are_refused(tmp_path, columns):
    """A model trained on named features never reads a frame with some string labels by
    position: its columns may be in another order. Integer labels are read in order."""
    X, y = blobs(features=2)
    model = MLP(hidden=(3,)).fit(FrameLike(X, ["height", "weight"]), y, epochs=2)
    for fitted in (model, mlpzero.load(model.save(tmp_path / "m.npz"))):
        with pytest.raises(ValueError, match=r"cannot be matched to them by name"):
            fitted.predict(FrameLike(X[:, ::-1], columns))
    np.testing.assert_array_equal(model.predict(FrameLike(X, [0, 1])), model.predict(X))


def test_file_is_a_plain_npz_with_a_json_document(tmp_path):
    X, y = blobs()
    model = MLP(hidden=(4,)).fit(X, y, epochs=2)
    path = model.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["metadata", "params"]
        document = json.loads(data["metadata"].tobytes())
        np.testing.assert_array_equal(data["params"], model.network.params)
    assert document["format_version"] == io.FORMAT_VERSION
    assert document["network"]["layer_sizes"] == [3, 4, 1]
    assert document["loss"] == "binary_crossentropy"
    assert document["target"]["classes"] == {"kind": "int", "dtype": "<i8", "values": [0, 1]}


def test_a_history_of_a_million_epochs_is_saved_and_read_back(tmp_path):
    # Beyond the 16 MB a compressed document may take, which a long run used to reach
    # only to fail at its first save after it (about 150,000 epochs of five metrics).
    model = fitted()
    rng = np.random.default_rng(0)
    epochs = 1_000_000
    values = {key: rng.random(epochs).tolist() for key in ("loss", "accuracy", "lr")}
    model.history.history = values
    path = model.save(tmp_path / "long.npz")
    assert path.stat().st_size > 3 * io._MAX_METADATA_BYTES // 2
    loaded = mlpzero.load(path)
    assert loaded.history.epochs == epochs
    assert loaded.history.history == values


def test_a_history_too_long_for_a_model_file_is_refused_when_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_MAX_STORED_METADATA_BYTES", 1 << 20)
    model = fitted()
    model.history.history = {"loss": [0.5] * 400_000}
    with pytest.raises(ValueError, match="more than the 1048576 a model file may hold"):
        model.save(tmp_path / "long.npz")
    assert not (tmp_path / "long.npz").exists()


# ---------------------------------------------------------------------------- atomic writes
def fitted(seed=0):
    X, y = blobs()
    return MLP(hidden=(4,), seed=seed).fit(X, y, epochs=2)


def test_a_save_that_fails_midway_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    fitted(seed=1).save(path)
    before = path.read_bytes()

    def write_half_then_fail(handle, arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("No space left on device")

    monkeypatch.setattr(io, "_write_npz", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        fitted(seed=2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    mlpzero.load(path)


def test_a_refused_rename_names_the_path_not_the_removed_temporary_file(tmp_path, monkeypatch):
    # Over another user's file in a folder such as /tmp, the rename is refused, and the
    # error named the temporary file: ".model.npz.x1y2.tmp", gone by then.
    path = tmp_path / "model.npz"
    fitted(seed=1).save(path)
    before = path.read_bytes()

    def refused(source, target):
        raise PermissionError(errno.EPERM, "Operation not permitted", source, None, target)

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(PermissionError) as raised:
        fitted(seed=2).save(path)
    assert raised.value.filename == str(path) and raised.value.filename2 is None
    assert str(raised.value) == f"[Errno 1] Operation not permitted: {str(path)!r}"
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_an_interrupted_first_save_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(handle, arrays):
        handle.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "_write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fitted().save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_a_failing_rename_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    fitted(seed=1).save(path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(io.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        fitted(seed=2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="needs resource limits")
def test_a_save_the_disk_cannot_hold_names_the_file_and_leaves_the_old_one(tmp_path):
    # A full disk (here a limit on file sizes) said "[Errno 27] File too large", naming
    # no file: mlpzero train printed "file too large" alone.
    import subprocess
    import sys

    path = tmp_path / "model.npz"
    fitted(seed=1).save(path)
    before = path.read_bytes()
    script = (
        "import resource, numpy as np\n"
        "from mlpzero import MLP\n"
        "X = np.random.default_rng(0).standard_normal((20, 3))\n"
        "model = MLP(hidden=(2000,), seed=0).fit(X, X[:, 0] > 0, epochs=1)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "try:\n"
        f"    model.save({str(path)!r})\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "File too large" in ran.stdout and str(path) in ran.stdout, ran.stdout
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_save_refuses_what_it_cannot_write_well(tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        MLP().save(tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fitted().save(tmp_path / "no" / "such" / "m.npz")
    broken = fitted()
    broken.network.params[0] = np.nan
    with pytest.raises(ValueError, match="not all finite"):
        broken.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


SETTINGS_CHANGED_AFTER_FIT = {
    "hidden": ((8,), r"hidden.\(8,\).*\(4,\)"),
    "dtype": ("float64", "dtype.'float64'.*float32'?"),
    "loss": ("mse", "loss.'mse'.*binary_crossentropy'?"),
    "standardize": (True, "standardize.True.*False"),
    "activation": ("tanh", r"activation.'tanh'.*\['relu'\]"),
}


@pytest.mark.parametrize("setting", sorted(SETTINGS_CHANGED_AFTER_FIT))
def test_a_setting_changed_after_fitting_is_refused_by_save_and_fit_not_by_load(tmp_path, setting):
    # The model file held the new setting beside the fitted network, which load refuses
    # as a contradiction: the save succeeded and the model could never be read back. A
    # later fit trained the fitted network as it was, the new setting unused.
    value, message = SETTINGS_CHANGED_AFTER_FIT[setting]
    model = fitted()
    before = model.network.params.copy()
    setattr(model, setting, value)
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=f"cannot save a model whose {message}"):
        model.save(path)
    assert not path.exists()
    X, y = blobs()
    for options in ({}, {"checkpoint": path}):
        with pytest.raises(ValueError, match=f"^{message}; a later fit continues the same"):
            model.fit(X, y, epochs=1, **options)
    assert not path.exists() and np.array_equal(model.network.params, before)
    setattr(model, setting, getattr(fitted(), setting))  # set back: saved and read back
    assert mlpzero.load(model.save(path)).network.layer_sizes == model.network.layer_sizes


def test_save_writes_over_a_model_or_checkpoint_but_not_over_a_data_file(tmp_path):
    model = fitted()
    data = tmp_path / "train.csv"
    data.write_text("a,b,y\n1,2,0\n")
    X, y = blobs(n=20)
    arrays = tmp_path / "data.npz"
    np.savez(arrays, X=X, y=y)
    before = {path: path.read_bytes() for path in (data, arrays)}
    for path in before:
        with pytest.raises(ValueError, match=r"not an mlpzero model file.*refusing to write"):
            model.save(path)
    assert {path: path.read_bytes() for path in before} == before
    old = tmp_path / "m.npz"
    fitted(seed=1).save(old)
    model.save(old)  # a model file is replaced, as before
    np.testing.assert_array_equal(mlpzero.load(old).network.params, model.network.params)
    model.save(tmp_path / "new.npz")
    assert str(model.save(os.devnull)) == os.devnull


def test_save_names_a_path_that_is_no_path_and_takes_a_bytes_path(tmp_path):
    model = fitted()
    for bad in (123, None, ["m.npz"]):
        expected = rf"path must be a file path .*got {type(bad).__name__}"
        with pytest.raises(TypeError, match=expected):
            model.save(bad)
    saved = model.save(os.fsencode(tmp_path / "m.npz"))
    np.testing.assert_array_equal(mlpzero.load(saved).network.params, model.network.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_the_empty_path_is_refused_by_name_not_taken_as_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "" was "." there: "cannot save to .: it is a folder"
    model = fitted()
    for call in (model.save, mlpzero.load, io.read_record):
        for empty in ("", b""):
            with pytest.raises(
                ValueError,
                match=re.escape(f"path must be a file path, got the empty string {empty!r}"),
            ):
                call(empty)
    X, y = blobs()
    with pytest.raises(ValueError, match="resume must be a file path, got the empty string ''"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, resume="")
    with pytest.raises(TypeError, match=r"resume must be a file path .*got int 5"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, resume=5)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_custom_components_it_could_not_rebuild(tmp_path):
    from mlpzero.activations import Activation
    from mlpzero.losses import BinaryCrossEntropy

    class Cube(Activation):
        name = "cube"

        def __call__(self, z, out=None):
            return np.power(z, 3, out=out)

        def derivative_from_output(self, a, out=None):
            return np.multiply(3, np.cbrt(a) ** 2, out=out)

    class Focal(BinaryCrossEntropy):
        name = "focal"

    X, y = blobs()
    with pytest.raises(ValueError, match="custom activation 'cube'"):
        MLP(hidden=(3,), activation=Cube()).fit(X, X[:, 0], epochs=1).save(tmp_path / "a.npz")
    with pytest.raises(ValueError, match="custom loss 'focal'"):
        MLP(hidden=(3,), loss=Focal()).fit(X, y, epochs=1).save(tmp_path / "b.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_custom_subclass_that_keeps_a_built_in_name(tmp_path):
    # Its config is the built-in's, so a file would load as the built-in: another model.
    from mlpzero.activations import ReLU
    from mlpzero.losses import SquaredError

    class HalfLeaky(ReLU):
        def __call__(self, z, out=None):
            return np.maximum(z, 0.5 * z, out=out)

        def backward(self, a, grad):
            grad *= np.where(a > 0, 1.0, 0.5)
            return grad

    class Doubled(SquaredError):
        def per_sample(self, logits, targets):
            return 2 * super().per_sample(logits, targets)

    X, _ = blobs()
    model = MLP(hidden=(3,), activation=HalfLeaky(), seed=0).fit(X, X[:, 0], epochs=1)
    with pytest.raises(ValueError, match="custom activation 'relu'"):
        model.save(tmp_path / "a.npz")
    model = MLP(hidden=(3,), loss=Doubled(), seed=0).fit(X, X[:, 0], epochs=1)
    with pytest.raises(ValueError, match="custom loss 'squared_error'"):
        model.save(tmp_path / "b.npz")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- refusing bad files
@pytest.fixture
def good_file(tmp_path):
    X, y = blobs(classes=("a", "b", "c"))
    path = MLP(hidden=(4, 3), seed=0).fit(X, y, epochs=2).save(tmp_path / "good.npz")
    return path


def doctored(good_file, change):
    document, arrays = read_model_file(good_file)
    change(document, arrays)
    path = good_file.with_name("bad.npz")
    write_model_file(path, document, arrays)
    return path


def set_in(keys, value):
    def change(document, arrays):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


BAD_DOCUMENTS = {
    "future version": (set_in(["format_version"], 99), "unsupported model format version 99"),
    "other format": (set_in(["format"], "keras"), "not an mlpzero model file"),
    "unknown activation": (
        set_in(["network", "activations", 0], {"name": "swish"}),
        "unknown activation 'swish'",
    ),
    "unknown loss": (set_in(["loss"], "hinge"), "loss must be one of"),
    "loss against task": (set_in(["loss"], "squared_error"), "does not fit the task"),
    "sizes against params": (set_in(["network", "layer_sizes"], [4, 4, 3, 3]), "need shape"),
    "negative size": (set_in(["network", "layer_sizes"], [3, -4, 3, 3]), "positive sizes"),
    "bool size": (set_in(["network", "layer_sizes"], [True, 4, 3, 3]), "positive sizes"),
    "unknown dtype": (set_in(["network", "dtype"], "float16"), "dtype must be one of"),
    "hidden against sizes": (set_in(["model", "hidden"], [9]), "model.hidden"),
    "unsorted classes": (
        set_in(["target", "classes", "values"], ["b", "a", "c"]),
        "sorted and distinct",
    ),
    "too few classes": (set_in(["target", "classes", "values"], ["a", "b"]), "do not fit"),
    "class kind": (set_in(["target", "classes", "kind"], "complex"), "kind must be one of"),
    "class values": (set_in(["target", "classes", "values"], [1, 2, 3]), "str labels"),
    "class dtype": (set_in(["target", "classes", "dtype"], "<i8"), "not a str dtype"),
    "pickled dtype": (set_in(["target", "classes", "dtype"], "datetime64"), "dtype"),
    "unknown task": (set_in(["target", "task"], "ranking"), "task must be one of"),
    "feature names": (set_in(["feature_names"], ["x"]), "feature_names must be 3 strings"),
    "random state": (set_in(["random_state"], {"bit_generator": "os.system"}), "random_state"),
    "random state fields": (set_in(["random_state", "state"], "zero"), "random_state"),
    "history": (set_in(["history", "loss"], ["low"]), "history"),
    "seed": (set_in(["model", "seed"], -3), "model.seed"),
    "init": (set_in(["model", "init"], "ones"), "model.init"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_load_refuses_a_bad_document_and_says_what_is_wrong(good_file, case):
    change, message = BAD_DOCUMENTS[case]
    with pytest.raises(ValueError, match=message):
        mlpzero.load(doctored(good_file, change))


BAD_ARRAYS = {
    "nan parameter": (lambda d, a: a["params"].__setitem__(3, np.nan), "NaN or infinity"),
    "wrong dtype": (
        lambda d, a: a.__setitem__("params", a["params"].astype(np.float64)),
        "dtype float64",
    ),
    "short": (lambda d, a: a.__setitem__("params", a["params"][:-1]), "need shape"),
    "2-D": (lambda d, a: a.__setitem__("params", a["params"].reshape(1, -1)), "need shape"),
    "extra": (lambda d, a: a.__setitem__("payload", np.zeros(3)), "unexpected member 'payload"),
    "none": (lambda d, a: a.pop("params"), "params: the file has no member 'params.npy'"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_load_refuses_bad_arrays(good_file, case):
    change, message = BAD_ARRAYS[case]
    with pytest.raises(ValueError, match=message):
        mlpzero.load(doctored(good_file, change))


class Boom:
    ran = False

    def __reduce__(self):
        return (Boom._explode, ())

    @staticmethod
    def _explode():
        Boom.ran = True
        return "exploded"


def test_load_never_unpickles(tmp_path, good_file):
    path = tmp_path / "pickled.npz"
    document, arrays = read_model_file(good_file)
    text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(
        path,
        metadata=text,
        params=arrays["params"],
        **{"optimizer.m": np.array([Boom()], dtype=object)},
    )
    with pytest.raises(ValueError, match=r"'optimizer\.m\.npy' is not referred to"):
        mlpzero.load(path)  # not needed by a model file: refused unread
    document["checkpoint"] = {"optimizer": {"config": {"name": "sgd"}, "state": {}}}
    document["checkpoint"]["optimizer"]["state"]["m"] = {"__array__": "optimizer.m"}
    document["checkpoint"]["progress"] = {"start_epoch": 0, "epochs": 2}
    document["checkpoint"]["progress"]["fit_random_state"] = document["random_state"]
    np.savez(
        path,
        metadata=np.frombuffer(json.dumps(document).encode(), dtype=np.uint8),
        params=arrays["params"],
        **{"optimizer.m": np.array([Boom()], dtype=object)},
    )
    with pytest.raises(ValueError, match="only plain numbers"):
        checkpointing.load_checkpoint(path)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="not a valid mlpzero model file"):
        mlpzero.load(raw)
    assert not Boom.ran


def test_load_refuses_damaged_archives(tmp_path, good_file):
    data = good_file.read_bytes()
    cases = {
        "empty": b"",
        "text": b"hello, I am not a model\n",
        "truncated": data[: len(data) // 2],
        "flipped byte": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
    }
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="not a valid mlpzero model file"):
            mlpzero.load(path)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        # A member whose header claims a huge shape must be refused, not allocated.
        (b"10000000000000, ", r"declares shape"),
        # NumPy's header reader takes (True, 13) and the reshape then failed with
        # "TypeError: 'an integer is required'", which said nothing of the shape.
        (b"True, ", r"declares shape \(True, \d+\), with a size that is not an integer"),
    ],
)
def test_load_checks_the_npy_header_before_allocating(tmp_path, good_file, prefix, message):
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(good_file) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "params.npy":
                content = content.replace(b"'shape': (", b"'shape': (" + prefix, 1)
            target.writestr(info.filename, content)
    with pytest.raises(ValueError, match=message):
        mlpzero.load(path)


def test_a_model_saved_to_a_bytes_path_loads_from_it(tmp_path):
    # save took the bytes path and load refused it: "path must be a file path, got bytes"
    model = fitted()
    path = os.fsencode(tmp_path / "m.npz")
    model.save(path)
    np.testing.assert_array_equal(mlpzero.load(path).network.params, model.network.params)
    assert io.holds_model_metadata(path)


def test_load_reports_missing_files_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError):
        mlpzero.load(tmp_path / "absent.npz")
    with pytest.raises(ValueError, match="is a folder"):
        mlpzero.load(tmp_path)
    with pytest.raises(TypeError, match="path must be a file path"):
        mlpzero.load(3.5)


# ---------------------------------------------------------------------------- checkpoints
class Killed(Exception):
    """Stands for the process dying (power cut, OOM kill) in the middle of training."""


class EpochCounter(Callback):
    def __init__(self):
        self.begun = []

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append(epoch)


class Interrupt(Callback):
    """Stops training like a killed process would: at a given epoch and batch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise Killed


EPOCHS = 6


def train_run(**fit_options):
    X, y = blobs(n=70, classes=("a", "b", "c"), features=4, seed=3)
    model = MLP(hidden=(8, 5), activation="tanh", seed=11)
    fit_options.setdefault("checkpoint_interval", 0)  # write every epoch
    return model.fit(X, y, epochs=EPOCHS, learning_rate=0.05, batch_size=16, **fit_options)


def test_save_and_checkpoint_write_over_an_empty_file(tmp_path):
    """An empty file holds nothing to lose: ``tempfile.NamedTemporaryFile(suffix=".npz")``
    makes one, and a model or checkpoint is written over it, through a link too."""
    X, y = blobs()
    model = fitted()
    empty = tmp_path / "empty.npz"
    empty.touch()
    model.save(empty)
    np.testing.assert_array_equal(mlpzero.load(empty).network.params, model.network.params)
    empty.write_bytes(b"")
    link = tmp_path / "link.npz"
    link.symlink_to(empty)
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, checkpoint=link)
    assert len(mlpzero.load(empty).history.history["loss"]) == 1
    assert link.is_symlink()


def test_a_checkpoint_path_never_replaces_a_model_or_data_file(tmp_path):
    """The first checkpoint write would replace what the path names: a saved model, or
    the memory-mapped X being trained on, is refused and left as it was. An earlier
    checkpoint, or the file resumed from, may be written over."""
    X, y = blobs()
    model_path = fitted().save(tmp_path / "model.npz")
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    for path in (model_path, tmp_path / "X.npy", tmp_path / "notes.txt"):
        if path.suffix == ".txt":
            path.write_text("keep me")
        before = path.read_bytes()
        with pytest.raises(ValueError, match=r"not an mlpzero checkpoint.*refusing to write"):
            MLP(hidden=(3,)).fit(X_map, y, epochs=1, checkpoint=path)
        assert path.read_bytes() == before
    checkpoint = tmp_path / "c.npz"
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, checkpoint=checkpoint)
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, checkpoint=checkpoint)  # a rerun
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, checkpoint=checkpoint, resume=checkpoint)
    assert len(mlpzero.load(checkpoint).history.history["loss"]) == 2


@pytest.mark.parametrize(
    ("checkpoint", "error", "message"),
    [
        (123, TypeError, "checkpoint must be a file path (a str or path-like), got int 123"),
        (b"run.npz", TypeError, "checkpoint must be a file path (a str or path-like), got bytes"),
        ("", ValueError, "checkpoint must be a file path, got the empty string ''"),
        (
            "missing/run.npz",
            ValueError,
            "checkpoint='{folder}/missing/run.npz': the folder {folder}/missing does not exist",
        ),
        # A folder was said to be a missing folder's file, or a file that is no checkpoint.
        ("missing/", ValueError, "checkpoint='{folder}/missing/' is a folder; give the path"),
        (".", ValueError, "checkpoint='{folder}/.' is a folder; give the path of a file"),
    ],
)
def test_a_checkpoint_path_that_cannot_be_written_is_refused_before_training(
    tmp_path, checkpoint, error, message
):
    if isinstance(checkpoint, str) and checkpoint:
        checkpoint = f"{tmp_path}/{checkpoint}"
    X, y = blobs()
    counter = EpochCounter()
    model = MLP(hidden=(3,))
    with pytest.raises(error, match=re.escape(message.format(folder=tmp_path))):
        model.fit(X, y, epochs=2, checkpoint=checkpoint, callbacks=[counter])
    assert counter.begun == [] and not model.built


OPTIMIZERS = {  # settings that give each optimizer all its state buffers; the buffers
    "sgd": ({"momentum": 0.9}, ["momentum_buffer"]),
    "rmsprop": ({"centered": True, "momentum": 0.9}, ["grad_avg", "momentum_buffer", "square_avg"]),
    "adam": ({}, ["exp_avg", "exp_avg_sq"]),
    "adamw": ({}, ["exp_avg", "exp_avg_sq"]),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_checkpoints_of_every_optimizer_and_stateful_callback_read_back(tmp_path, optimizer, dtype):
    """The limits on a checkpoint's state arrays leave room for all that mlpzero keeps."""
    from mlpzero.callbacks import EarlyStopping, ModelCheckpoint
    from mlpzero.convergence import ToleranceStopping
    from mlpzero.optimizers import get

    X, y = blobs()
    path = tmp_path / "run.npz"
    settings, names = OPTIMIZERS[optimizer]
    callbacks = [
        EarlyStopping(patience=50, restore_best_weights=True),
        EarlyStopping(monitor="loss", patience=50, restore_best_weights=True),
        ModelCheckpoint(tmp_path / "best.npz", save_best_only=True),
        ToleranceStopping(patience=50),
    ]
    MLP(hidden=(5,), dtype=dtype, seed=0).fit(
        X, y, epochs=2, optimizer=get(optimizer, **settings), batch_size=16,
        validation_split=0.2, checkpoint=path, callbacks=callbacks,
    )  # fmt: skip
    state = checkpointing.load_checkpoint(path).checkpoint
    assert [entry["type"] for entry in state.callback_states] == [
        type(callback).__name__ for callback in callbacks
    ]
    buffers = state.optimizer_state["state"]
    assert sorted(buffers) == names
    assert all(buffer.dtype == np.dtype(dtype) for buffer in buffers.values())


@pytest.mark.parametrize("epoch", range(EPOCHS))
@pytest.mark.parametrize("batch", [0, 3])
def test_resumed_run_ends_with_the_same_weights_bit_for_bit(tmp_path, epoch, batch):
    reference = train_run()
    path = tmp_path / "run.ckpt.npz"
    with pytest.raises(Killed):
        train_run(checkpoint=path, callbacks=[Interrupt(epoch, batch)])
    if epoch == 0:
        assert not path.exists()  # killed before the first epoch ended
        resumed = train_run(checkpoint=path)
    else:
        assert mlpzero.load(path).history.epochs == epoch
        resumed = train_run(checkpoint=path, resume=path)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    assert resumed.history.as_dict() == reference.history.as_dict()
    assert mlpzero.load(path).history.epochs == EPOCHS


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
@pytest.mark.parametrize("epoch", [1, 3, 5])
def test_resume_is_exact_with_adam_dropout_validation_and_a_schedule(tmp_path, schedule, epoch):
    X, y = blobs(n=70, classes=("a", "b", "c"), features=4, seed=3)

    def run(**options):
        model = MLP(hidden=(8, 5), dropout=0.2, seed=11)
        return model.fit(
            X, y, epochs=EPOCHS, optimizer="adam", learning_rate=0.02, batch_size=16,
            validation_split=0.2, schedule=schedule, checkpoint_interval=0, **options,
        )  # fmt: skip

    reference = run()
    path = tmp_path / "run.npz"
    with pytest.raises(Killed):
        run(checkpoint=path, callbacks=[Interrupt(epoch, 2)])
    resumed = run(checkpoint=path, resume=path)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    assert resumed.history.as_dict() == reference.history.as_dict()
    assert resumed.optimizer_.state_dict()["iterations"] == reference.optimizer_.iterations


def _fit_stopped_by(rule, X, y, epochs, extra=(), **options):
    """A mini-batch Adam fit whose ``rule`` (a stopping callback) watches a validation
    split, with a checkpoint every epoch when ``options`` ask for one."""
    return MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=epochs, optimizer="adam", learning_rate=0.03, batch_size=16,
        validation_split=0.25, checkpoint_interval=0, callbacks=[rule, *extra], **options,
    )  # fmt: skip


@pytest.mark.parametrize("epoch", [2, 12, 25])
def test_resume_is_exact_with_early_stopping(tmp_path, epoch):
    from mlpzero.callbacks import EarlyStopping

    X, y = blobs(n=80, classes=("a", "b", "c"), features=4, seed=3)

    def run(**options):
        stopping = EarlyStopping(patience=3, restore_best_weights=True)
        return _fit_stopped_by(stopping, X, y, epochs=40, **options), stopping

    reference, stopped = run()
    assert stopped.stopped_epoch is not None and stopped.stopped_epoch > 25  # it does stop
    path = tmp_path / "run.npz"
    with pytest.raises(Killed):
        run(checkpoint=path, extra=[Interrupt(epoch, 1)])
    resumed, stopping = run(checkpoint=path, resume=path)
    assert stopping.stopped_epoch == stopped.stopped_epoch
    assert stopping.best_epoch == stopped.best_epoch
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    with pytest.raises(ValueError, match=r"callbacks \['EarlyStopping'\], but fit was given \[\]"):
        MLP(hidden=(6,), seed=3).fit(X, y, epochs=40, resume=path, optimizer="adam")


@pytest.mark.parametrize("epoch", [5, 20, 24])
def test_resume_is_exact_with_tolerance_stopping(tmp_path, epoch):
    """Its count of epochs without progress and its best value are in the checkpoint, so a
    run killed while counting stops where an uninterrupted one does."""
    from mlpzero.convergence import ToleranceStopping

    X, y = blobs(n=80, classes=("a", "b", "c"), features=4, seed=3)

    def run(patience=3, **options):
        rule = ToleranceStopping(tol=1e-3, patience=patience)
        return _fit_stopped_by(rule, X, y, epochs=60, **options), rule

    reference, stopped = run()
    assert stopped.stopped_epoch == 26  # it stops, a few epochs after the kills
    path = tmp_path / "run.npz"
    with pytest.raises(Killed):
        run(checkpoint=path, extra=[Interrupt(epoch, 1)])
    resumed, rule = run(checkpoint=path, resume=path)
    assert rule.stopped_epoch == stopped.stopped_epoch
    assert (rule.best, rule.wait) == (stopped.best, stopped.wait)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    assert resumed.history.as_dict() == reference.history.as_dict()
    with pytest.raises(ValueError, match=r"ToleranceStopping\(patience=5\) differs"):
        run(patience=5, resume=path)


def test_resume_keeps_model_checkpoints_best_and_refuses_other_callback_settings(tmp_path):
    """A resumed run's ModelCheckpoint(save_best_only=True) starts from the interrupted
    run's best value, so the best file is the uninterrupted run's; an EarlyStopping or a
    ModelCheckpoint with other settings than the checkpoint's is refused by name."""
    from mlpzero.callbacks import EarlyStopping, ModelCheckpoint

    X, y = blobs()
    options = dict(epochs=12, validation_split=0.3, learning_rate=0.5, batch_size=16)

    def callbacks(best, patience=50, **early):
        return [
            ModelCheckpoint(best, save_best_only=True),
            EarlyStopping(patience=patience, **early),
        ]

    MLP(hidden=(8,), seed=0).fit(X, y, callbacks=callbacks(tmp_path / "a.npz"), **options)
    checkpoint = tmp_path / "c.npz"
    first = dict(options, epochs=6)
    MLP(hidden=(8,), seed=0).fit(
        X, y, callbacks=callbacks(tmp_path / "b.npz"), checkpoint=checkpoint, **first
    )
    MLP(hidden=(8,), seed=0).fit(
        X, y, callbacks=callbacks(tmp_path / "b.npz"), resume=checkpoint, **options
    )
    best_a, best_b = mlpzero.load(tmp_path / "a.npz"), mlpzero.load(tmp_path / "b.npz")
    assert best_a.history.history == best_b.history.history
    np.testing.assert_array_equal(best_a.network.params, best_b.network.params)
    for changed in ({"patience": 3}, {"monitor": "loss"}, {"mode": "min"}):
        name = next(iter(changed))
        with pytest.raises(ValueError, match=rf"EarlyStopping\({name}="):
            MLP(hidden=(8,), seed=0).fit(
                X, y, callbacks=callbacks(tmp_path / "b.npz", **changed), resume=checkpoint,
                **options,
            )  # fmt: skip
    with pytest.raises(ValueError, match=r"ModelCheckpoint\(path="):
        MLP(hidden=(8,), seed=0).fit(
            X, y, callbacks=callbacks(tmp_path / "other.npz"), resume=checkpoint, **options
        )


def test_a_resumed_run_can_be_interrupted_and_resumed_again(tmp_path):
    reference = train_run()
    path = tmp_path / "run.npz"
    with pytest.raises(Killed):
        train_run(checkpoint=path, callbacks=[Interrupt(2, 1)])
    with pytest.raises(Killed):
        train_run(checkpoint=path, resume=path, callbacks=[Interrupt(4, 0)])
    resumed = train_run(checkpoint=path, resume=path)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)


def test_checkpoints_are_written_at_most_every_interval_and_at_the_end(tmp_path, monkeypatch):
    written = []
    real = checkpointing.save_checkpoint

    def counting(model, path, *args):
        written.append(model.history.epochs)
        return real(model, path, *args)

    monkeypatch.setattr(checkpointing, "save_checkpoint", counting)
    train_run(checkpoint=tmp_path / "a.npz", checkpoint_interval=0)
    assert written == list(range(1, EPOCHS + 1))
    written.clear()
    train_run(checkpoint=tmp_path / "b.npz", checkpoint_interval=3600)
    assert written == [EPOCHS]  # only the last epoch within the hour
    with pytest.raises(ValueError, match="checkpoint_interval must be a finite number >= 0"):
        train_run(checkpoint=tmp_path / "c.npz", checkpoint_interval=-1)


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    path = tmp_path / "run.npz"
    finished = train_run(checkpoint=path)
    again = train_run(resume=path)
    np.testing.assert_array_equal(again.network.params, finished.network.params)
    assert again.history.epochs == EPOCHS


def test_resume_refuses_a_different_model_or_optimizer_and_leaves_the_model_alone(tmp_path):
    path = tmp_path / "run.npz"
    train_run(checkpoint=path)
    X, y = blobs(n=70, classes=("a", "b", "c"), features=4, seed=3)
    other = MLP(hidden=(3,), seed=11)
    with pytest.raises(ValueError, match=r"resume: .* holds a model with"):
        other.fit(X, y, epochs=2, resume=path)
    assert not other.built
    same = MLP(hidden=(8, 5), activation="tanh", seed=11)
    with pytest.raises(ValueError, match="features"):
        same.fit(X[:, :2], y, epochs=2, batch_size=16, resume=path)
    with pytest.raises(ValueError, match="trained on other data: y"):  # a new label
        same.fit(X, np.where(y == "a", "z", y), epochs=2, batch_size=16, resume=path)
    assert not same.built
    plain = tmp_path / "plain.npz"
    fitted().save(plain)
    with pytest.raises(ValueError, match="not a checkpoint"):
        MLP(hidden=(4,)).fit(*blobs(), epochs=1, resume=plain)


# ---------------------------------------------------------------------------- records
def test_a_file_reads_into_a_checked_record_that_makes_the_same_model(tmp_path):
    model = fitted()
    path = model.save(tmp_path / "model.npz")
    record = io.read_record(path)
    assert record.layer_sizes == (3, 4, 1)
    assert [a.name for a in record.activations] == ["relu"]
    assert record.loss == "binary_crossentropy" and record.encoder.task == "binary"
    assert record.history == model.history.as_dict()
    assert record.checkpoint is None
    np.testing.assert_array_equal(record.params, model.network.params)
    rebuilt = MLP.from_record(record)
    assert_same_predictions(model, rebuilt, blobs()[0])
    assert rebuilt._rng.bit_generator.state == model._rng.bit_generator.state
    rebuilt.network.params[0] += 1  # the model owns its parameters
    assert record.params[0] == model.network.params[0]
    with pytest.raises(ValueError, match="without training state, not a checkpoint"):
        io.read_record(path, checkpoint=True)


def test_a_checkpoint_record_carries_the_training_state(tmp_path):
    path = tmp_path / "run.npz"
    train_run(checkpoint=path, optimizer="adam")
    state = checkpointing.load_checkpoint(path).checkpoint
    assert state.optimizer_config["name"] == "adam"
    assert state.optimizer_state["iterations"] > 0
    assert state.progress["start_epoch"] == 0 and state.progress["epochs"] == EPOCHS
    assert io.read_record(path).checkpoint is None  # a model read leaves it unread


# ---------------------------------------------------------------------- label dtypes
# Class labels of every NumPy dtype a model accepts either survive a save and load
# exactly, dtype included, or are refused at save time with a clear error.

EXTENDED = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _fit(labels):
    """A classifier of ``labels`` (categorical cross-entropy: float labels are classes)."""
    rng = np.random.default_rng(0)
    y = labels[rng.integers(0, len(labels), 60)]
    X = rng.standard_normal((60, 2)) + np.searchsorted(labels, y)[:, None]
    model = MLP(hidden=(3,), seed=0, loss="categorical_crossentropy")
    return X, model.fit(X, y, epochs=2, verbose=0)


@pytest.mark.parametrize("labels", [[0, 1], [0.5, 1.5, 2.25], [-3.0, 1e-300, 2.0**70]])
def test_longdouble_labels_round_trip(tmp_path, labels):
    labels = np.array(labels, dtype=np.longdouble)
    X, model = _fit(labels)
    assert model.classes_.dtype == np.longdouble
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    assert loaded.classes_.dtype == np.longdouble
    np.testing.assert_array_equal(loaded.classes_, labels)
    predicted = loaded.predict(X)
    assert predicted.dtype == np.longdouble
    np.testing.assert_array_equal(predicted, model.predict(X))


@pytest.mark.skipif(not EXTENDED, reason="long double is double on this platform")
def test_longdouble_labels_a_json_number_cannot_hold_are_refused(tmp_path):
    labels = np.array([np.longdouble("0.1"), np.longdouble("0.7"), np.longdouble(2)])
    _, model = _fit(labels)
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError) as error:
        model.save(path)
    message = str(error.value)
    assert "cannot save class labels of dtype float128" in message
    assert "0.1" in message and "exactly" in message
    assert not path.exists()


@pytest.mark.parametrize(
    ("labels", "stored"),
    [
        (np.array([np.False_, np.True_], dtype=object), np.bool_),
        (np.array([0, 1], dtype=object), np.int64),
        (np.array([0.0, 2.5], dtype=object), np.float64),
        (np.array(["no", "yes"], dtype=np.dtypes.StringDType()), np.str_),
    ],
)
def test_labels_held_as_objects_of_one_kind_are_saved_in_their_plain_dtype(
    tmp_path, labels, stored
):
    """Labels from a data frame's object column (Python ints, NumPy booleans) trained but
    could not be saved; nor could StringDType labels. They are stored as the plain dtype
    their values share, and the loaded model predicts the same labels."""
    model = _fit(labels)[1]
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    assert loaded.classes_.dtype.type is stored
    assert loaded.classes_.tolist() == model.classes_.tolist()
    X = np.random.default_rng(3).normal(size=(30, 2))
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


def test_complex_labels_are_refused_by_name(tmp_path):
    # refused by fit, before a model could be trained on them and then not saved
    labels = np.array([1 + 0j, 2 + 0j])
    with pytest.raises(ValueError, match=r"y holds complex numbers \(complex128\)"):
        _fit(labels)


def test_replacing_follows_a_link_writes_a_device_in_place_and_keeps_the_umask(tmp_path):
    """Written through a link, the file it names is replaced and the link stays; a path
    that is no regular file is written in place; a new file gets what the umask allows."""
    from mlpzero.io import replace_atomically

    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    replace_atomically(link, lambda handle: handle.write(b"new\n"))
    assert link.is_symlink() and real.read_text() == "new\n"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        replace_atomically(fifo, lambda handle: handle.write(b"through\n"))
        assert os.read(read, 100) == b"through\n"
    finally:
        os.close(read)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    previous = os.umask(0o077)
    try:
        made = replace_atomically(tmp_path / "private.csv", lambda handle: handle.write(b"x"))
    finally:
        os.umask(previous)
    assert made == tmp_path / "private.csv"
    assert stat.S_IMODE(os.stat(made).st_mode) == 0o600


def test_replacing_a_bytes_path_returns_it_rather_than_failing_after_writing(tmp_path):
    """A bytes path was written, then the call raised a TypeError on making the Path it
    returns: the caller was told the write failed while the file had been replaced."""
    from mlpzero.io import replace_atomically

    target = tmp_path / "out.csv"
    target.write_text("old\n")
    made = replace_atomically(os.fsencode(target), lambda handle: handle.write(b"new\n"))
    assert made == target and target.read_text() == "new\n"


def test_replacing_a_stream_path_writes_through_the_process_descriptor(tmp_path):
    """/dev/stdout (or a link to it) redirected to a file: the bytes land where the process
    is writing, between what it printed before and after, not over the file's start."""
    import subprocess
    import sys

    link = tmp_path / "out-link"
    link.symlink_to("/dev/stdout")
    script = (
        "from mlpzero.io import replace_atomically\n"
        "print('HEADER', flush=True)\n"
        f"replace_atomically({str(link)!r}, lambda handle: handle.write(b'PAYLOAD\\n'))\n"
        "print('FOOTER')\n"
    )
    target = tmp_path / "captured.txt"
    with open(target, "wb") as captured:
        subprocess.run([sys.executable, "-c", script], stdout=captured, check=True, timeout=60)
    assert target.read_text() == "HEADER\nPAYLOAD\nFOOTER\n"
    assert link.is_symlink() and os.readlink(link) == "/dev/stdout"


@pytest.mark.skipif(
    not (os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)),
    reason="no writable /dev/shm",
)
def test_a_failed_save_in_dev_shm_leaves_the_model_it_would_replace(tmp_path, monkeypatch):
    """/dev/shm holds regular files like any folder: a model saved there is replaced
    whole or not at all, not truncated and rewritten in place."""
    X, y = blobs()
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2)
    path = f"/dev/shm/mlpzero-test-{os.getpid()}-{tmp_path.name}.npz"
    try:
        model.save(path)
        with open(path, "rb") as handle:
            before = handle.read()

        def fail_midway(handle, arrays):
            handle.write(b"PK\x03\x04 half a model")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(io, "_write_npz", fail_midway)
        with pytest.raises(OSError, match="No space left"):
            model.save(path)
        with open(path, "rb") as handle:
            assert handle.read() == before
        monkeypatch.undo()
        np.testing.assert_array_equal(mlpzero.load(path).network.params, model.network.params)
    finally:
        for name in os.listdir("/dev/shm"):
            if name.startswith(f".{os.path.basename(path)}.") or name == os.path.basename(path):
                os.unlink(os.path.join("/dev/shm", name))


def test_a_history_with_shorter_lists_is_read_one_value_per_epoch(tmp_path):
    # Files written before every history list held one value per epoch: 5 epochs without
    # validation data, then 3 with it, stored val_loss as 3 values. They are the last 3
    # epochs, and the epochs of a further fit must land after them, not at index 3.
    X, y = blobs()
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    model.fit(X, y, epochs=3, validation_data=(X, y))
    document, arrays = read_model_file(model.save(tmp_path / "model.npz"))
    stored = {key: values[5:] for key, values in document["history"].items() if "val_" in key}
    document["history"].update(stored)
    loaded = mlpzero.load(write_model_file(tmp_path / "old.npz", document, arrays))
    assert {len(values) for values in loaded.history.history.values()} == {8}
    assert np.isnan(loaded.history["val_loss"][:5]).all()
    assert loaded.history["val_loss"][5:] == stored["val_loss"]
    loaded.fit(X, y, epochs=2, validation_data=(X, y))
    assert len(loaded.history["val_loss"]) == loaded.history.epochs == 10
    assert loaded.history.best_epoch() in range(5, 10)
    assert History.from_dict(loaded.history.as_dict()).epochs == 10


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_model_can_be_saved_to_dev_null(tmp_path):
    """A device keeps no position: an archive written to it must stream, not seek back."""
    import subprocess
    import sys

    X, y = blobs()
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2)
    assert str(model.save("/dev/null")) == "/dev/null"
    # /dev/stdout sent to /dev/null by the shell: written through the process's descriptor.
    script = (
        "import numpy as np\n"
        "from mlpzero import MLP\n"
        "X = np.random.default_rng(0).normal(size=(20, 2))\n"
        "model = MLP(hidden=(3,), seed=0).fit(X, (X[:, 0] > 0).astype(int), epochs=1)\n"
        "print(model.save('/dev/stdout'))\n"
    )
    with open(os.devnull, "wb") as null:
        ran = subprocess.run(
            [sys.executable, "-c", script], stdout=null, stderr=subprocess.PIPE, timeout=120
        )
    assert ran.returncode == 0, ran.stderr.decode()


def test_repr_of_a_loaded_model_shows_its_leaky_relu_slope(tmp_path):
    X, y = blobs()
    model = MLP(hidden=(4,), activation={"name": "leaky_relu", "alpha": 0.3}).fit(X, y, epochs=2)
    model.save(tmp_path / "m.npz")
    loaded = mlpzero.load(tmp_path / "m.npz")
    assert "activation={'alpha': 0.3, 'name': 'leaky_relu'}" in repr(loaded)
    given = MLP(hidden=(4,), activation=mlpzero.activations.LeakyReLU(0.3))
    assert "activation=LeakyReLU(alpha=0.3)" in repr(given)
    per_layer = MLP(hidden=(4, 2), activation=("tanh", "relu"))
    assert "activation=['tanh', 'relu']" in repr(per_layer)


def test_a_model_saves_to_a_file_name_of_the_longest_length_allowed(tmp_path):
    X, y = blobs()
    model = MLP(hidden=(3,)).fit(X, y, epochs=1)
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")
    for stem in ("m" * (longest - 4), "é" * ((longest - 4) // 2)):  # bytes, not characters
        path = tmp_path / f"{stem}.npz"
        model.save(path)
        model.save(path)  # and over it
        np.testing.assert_array_equal(mlpzero.load(path).predict_proba(X), model.predict_proba(X))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


class _Milestones(Schedule):
    """A schedule of the user's whose config holds an array, which JSON cannot."""

    name = "milestones"

    def __init__(self, milestones=(1, 3)):
        self.milestones = np.asarray(milestones)

    def learning_rate(self, epoch, initial):
        return initial * 0.5 ** int((self.milestones <= epoch).sum())

    @property
    def config(self):
        return {"name": self.name, "milestones": self.milestones}


def test_save_names_the_fit_option_a_model_file_cannot_hold(tmp_path):
    X, y = blobs()
    model = MLP(hidden=(3,)).fit(X, y, epochs=2, schedule=_Milestones())
    fitted().save(tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()
    with pytest.raises(ValueError, match=r"fit_config_\['schedule'\].*ndarray"):
        model.save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == before


def test_a_checkpoint_of_a_fit_option_a_file_cannot_hold_is_refused_before_training(tmp_path):
    X, y = blobs()
    counter = EpochCounter()
    model = MLP(hidden=(3,))
    with pytest.raises(ValueError, match=r"checkpoint=.*fit_config_\['schedule'\]"):
        model.fit(
            X, y, epochs=2, schedule=_Milestones(), checkpoint=tmp_path / "run.npz",
            callbacks=[counter],
        )  # fmt: skip
    assert counter.begun == [] and not (tmp_path / "run.npz").exists()


def test_saving_through_a_link_into_a_missing_folder_names_that_folder(tmp_path):
    link = tmp_path / "m.npz"
    link.symlink_to(tmp_path / "gone" / "m.npz")
    with pytest.raises(FileNotFoundError, match=r"m\.npz.*folder .*gone does not exist"):
        fitted().save(link)
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_loading_a_large_model_draws_no_initial_weights(tmp_path):
    """load reads the parameters and copies them into the new network: it does not first
    draw initial weights that the file's then replace (in float64, twice the largest
    layer of a float32 model at a time). Its peak stays within the file's parameters, the
    network's parameters and gradients, and a margin."""
    from conftest import traced_peak

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 1000))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(1000,), seed=0).fit(X, y, epochs=1)
    path = tmp_path / "m.npz"
    model.save(path)
    mlpzero.load(path)  # warm-up
    size = model.network.params.nbytes
    loaded = []
    peak = traced_peak(lambda: loaded.append(mlpzero.load(path)))
    assert peak < 3.5 * size, (peak, size)
    assert np.array_equal(loaded[0].network.params, model.network.params)
    assert np.array_equal(loaded[0].predict_proba(X), model.predict_proba(X))


def test_a_path_inside_a_file_says_that_the_file_is_no_folder(tmp_path):
    """``save("data.csv/m.npz")`` said "folder data.csv does not exist", which the user
    could see that it did; each writer now names the file in the way."""
    X, y = blobs()
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    model = mlpzero.MLP(hidden=(2,), seed=0).fit(X, y, epochs=1)
    expected = re.escape(f"{data} is a file, not a folder")
    with pytest.raises(FileNotFoundError, match=expected):
        model.save(data / "m.npz")
    with pytest.raises(ValueError, match=expected):
        mlpzero.MLP(hidden=(2,), seed=0).fit(X, y, epochs=1, checkpoint=data / "run.npz")
    with pytest.raises(ValueError, match=expected):
        model.to_c(data / "m.h")
    with pytest.raises(ValueError, match=expected):
        model.to_onnx(data / "m.onnx")
    assert data.read_text() == "x\n1\n"


@pytest.mark.parametrize("write", ["save", "load", "to_c"])
def test_a_path_holding_a_nul_character_is_refused_naming_it(tmp_path, write):
    """The file system's "embedded null byte" named neither the argument nor the path."""
    X, y = blobs(30)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=1)
    path = str(tmp_path / "model\0.npz")
    calls = {
        "save": lambda: model.save(path),
        "load": lambda: mlpzero.load(path),
        "to_c": lambda: model.to_c(path[:-4] + ".h"),
    }
    with pytest.raises(ValueError, match=r"path must not hold a NUL character, got '.*model\\x00"):
        calls[write]()
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_path_holding_a_nul_character_is_refused_before_the_first_epoch(tmp_path):
    """It was refused as "path must not hold a NUL character" only at the first write, after
    the fit's epochs had run, and not by the name of the argument."""
    X, y = blobs(30)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=1)
    before = model.network.params.copy()
    path = str(tmp_path / "run\0.npz")
    with pytest.raises(ValueError, match=r"^checkpoint must not hold a NUL character, got '.*run"):
        model.fit(X, y, epochs=3, checkpoint=path)
    np.testing.assert_array_equal(model.network.params, before)
    assert len(model.history["loss"]) == 1
    assert list(tmp_path.iterdir()) == []
