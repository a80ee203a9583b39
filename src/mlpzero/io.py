"""The model file: a ``.npz`` archive with the flat parameters and a JSON document.

A model file holds two arrays (more for a checkpoint):

- ``params``: the network's flat parameter vector (see :class:`mlpzero.network.Network`),
  in the model's dtype, written and read back bit for bit;
- ``metadata``: a UTF-8 JSON document stored as a ``uint8`` array. It records the format
  version, the layer sizes and activations, the loss, the task and its classes (with their
  kind, so string and integer labels both come back as they were), the dtype, the
  feature names when known, the last training configuration, the history and the state of
  the model's random generator.

A checkpoint (``fit(..., checkpoint=PATH)``) is a model file with a ``checkpoint`` entry in
the document (optimizer configuration, progress through ``fit``) and the optimizer's
array state as extra members named ``optimizer.<key>``. :func:`load_model` reads either.

Writing is atomic: the archive is written to a temporary file in the target's folder,
flushed to disk, and renamed over the target with :func:`os.replace`, so an interrupted
save leaves the previous file (or none) under the target name, never a partial one.

Reading never unpickles: each member's ``.npy`` header is checked (plain numeric dtype, a
size that matches the bytes present) before ``numpy.lib.format.read_array`` reads it with
``allow_pickle=False``. The document is then checked field by field: known format version,
known activation and loss names, layer sizes that match the parameter count, finite
parameters, classes consistent with the task. Anything else raises a :class:`ValueError`
that names the file and the problem; no model is built from a file that fails a check.
"""

from __future__ import annotations

import contextlib
import io as _bytes_io
import json
import math
import os
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from . import losses as _losses
from .callbacks import Callback, History
from .network import Network
from .targets import TASKS, TargetEncoder, loss_fits_task

if TYPE_CHECKING:
    from .model import MLP
    from .optimizers import Optimizer

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CallbackRestorer",
    "Checkpoint",
    "CheckpointWriter",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
]

FORMAT = "mlpzero-model"
FORMAT_VERSION = 1
_MAX_MEMBERS = 1024
_MAX_MEMBER_BYTES = 1 << 31
_MAX_HEADER_BYTES = 10_000
_RNG_KINDS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_CLASS_KINDS = {"bool": "b", "int": "iu", "float": "f", "str": "UO"}
_OPTIMIZER_PREFIX = "optimizer."
_CALLBACK_PREFIX = "callbacks."


# ---------------------------------------------------------------------------- saving
def save_model(model: MLP, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` (a ``.npz`` file, replaced atomically); returns the path.

    The model must be fitted and its parameters finite: a broken model is refused rather
    than written.
    """
    document, arrays = _describe(model)
    return _write_atomic(path, document, arrays)


def save_checkpoint(
    model: MLP,
    path: str | os.PathLike[str],
    optimizer: Optimizer,
    progress: Mapping[str, Any],
    schedule: Any = None,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Write a checkpoint: the model, ``optimizer``'s and ``schedule``'s state, ``progress``.

    ``progress`` holds ``start_epoch`` (the history length when the interrupted ``fit``
    began), ``epochs`` (how many epochs that ``fit`` was asked for) and
    ``fit_random_state`` (the model's random state where that ``fit`` started drawing:
    the validation split, then the shuffles and dropout masks).
    """
    document, arrays = _describe(model)
    state = optimizer_state(optimizer)
    json_state, state_arrays = _split_arrays(state, _OPTIMIZER_PREFIX.rstrip("."))
    schedule_state = getattr(schedule, "state_dict", None)
    kept = [{"type": type(c).__name__, "state": c.state_dict()} for c in stateful(callbacks)]
    json_callbacks, callback_arrays = _split_arrays(kept, _CALLBACK_PREFIX.rstrip("."))
    document["checkpoint"] = {
        "optimizer": {"config": _jsonable(optimizer.config), "state": json_state},
        "schedule": None if schedule_state is None else _jsonable(schedule_state()),
        "callbacks": json_callbacks,
        "progress": _jsonable(dict(progress)),
    }
    arrays.update(state_arrays)
    arrays.update(callback_arrays)
    return _write_atomic(path, document, arrays)


def _describe(model: MLP) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    network = model._require_built()
    if not np.isfinite(network.params).all():
        raise ValueError("cannot save a model whose parameters are not all finite")
    for activation in network.activations:
        _require_known(activation.config, _activations.get, "activation")
    _require_known(model.loss_.name, _losses.get, "loss")
    encoder = model.encoder
    feature_names = getattr(model, "feature_names_in_", None)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {
            "hidden": list(model.hidden),
            "activation": _activation_setting(model.activation),
            "loss": model.loss if isinstance(model.loss, str) else model.loss.name,
            "init": _init_setting(model.init),
            "seed": model.seed,
            "dtype": model.dtype.name,
            "dropout": _jsonable(getattr(model, "dropout", None)),
        },
        "network": {
            "layer_sizes": list(network.layer_sizes),
            "activations": [a.config for a in network.activations],
            "dtype": network.dtype.name,
        },
        "loss": model.loss_.name,
        "target": {
            "task": encoder.task,
            "n_outputs": int(encoder.n_outputs_),
            "classes": _classes_document(encoder.classes_),
        },
        "feature_names": None if feature_names is None else [str(n) for n in feature_names],
        "training": _jsonable(getattr(model, "fit_config_", None)),
        "history": {
            key: [v if math.isfinite(v) else None for v in values]
            for key, values in model.history.as_dict().items()
        },
        "random_state": _jsonable(model._rng.bit_generator.state),
    }
    return document, {"params": network.params}


def _require_known(config: Any, get: Any, what: str) -> None:
    """Only components that :func:`load_model` can rebuild by name are saved."""
    try:
        rebuilt = get(config)
    except (TypeError, ValueError):
        rebuilt = None
    name = config.get("name") if isinstance(config, dict) else config
    if rebuilt is None or (isinstance(config, dict) and rebuilt.config != config):
        raise ValueError(
            f"cannot save a model with the custom {what} {name!r}: a model file names its "
            f"{what} and only mlpzero's own can be rebuilt from a name"
        )


def _activation_setting(activation: Any) -> Any:
    if isinstance(activation, str):
        return activation
    if isinstance(activation, (_activations.Activation, dict)):
        return _activations.get(activation).config
    return [a if isinstance(a, str) else _activations.get(a).config for a in activation]


def _init_setting(init: Any) -> str | None:
    if init is None:
        return None
    name = _initializers.name_of(init)
    if name not in _initializers.INITIALIZERS:
        raise ValueError(
            f"cannot save a model with a custom initializer {init!r}: only the named "
            f"initializers ({', '.join(sorted(_initializers.INITIALIZERS))}) can be saved"
        )
    return name


def _classes_document(classes: np.ndarray | None) -> dict[str, Any] | None:
    if classes is None:
        return None
    kind = next((k for k, codes in _CLASS_KINDS.items() if classes.dtype.kind in codes), None)
    values = classes.tolist()
    if kind is None or (classes.dtype.kind == "O" and not all(isinstance(v, str) for v in values)):
        raise ValueError(
            f"cannot save class labels of dtype {classes.dtype} (such as {values[:3]}); "
            "labels must be booleans, integers, floats or strings"
        )
    return {"kind": kind, "dtype": classes.dtype.str, "values": values}


def _jsonable(value: Any) -> Any:
    """Plain JSON types from NumPy scalars, tuples and nested dicts."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _split_arrays(state: Any, prefix: str) -> tuple[Any, dict[str, np.ndarray]]:
    """Replace every array in a nested dict by ``{"__array__": name}``; return both parts."""
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any, key: str) -> Any:
        if isinstance(value, np.ndarray):
            arrays[key] = np.ascontiguousarray(value)
            return {"__array__": key}
        if isinstance(value, Mapping):
            return {str(k): walk(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{key}.{i}") for i, v in enumerate(value)]
        return _jsonable(value)

    return walk(state, prefix), arrays


def _write_npz(handle: Any, arrays: Mapping[str, np.ndarray]) -> None:
    np.savez(handle, **arrays)


def _write_atomic(
    path: str | os.PathLike[str], document: dict[str, Any], arrays: dict[str, np.ndarray]
) -> Path:
    target = Path(os.fspath(path))
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save to {target}: folder {folder} does not exist")
    if target.is_dir():
        raise IsADirectoryError(f"cannot save to {target}: it is a folder")
    text = json.dumps(document, allow_nan=False, sort_keys=True)
    members = {"metadata": np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write_npz(handle, members)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def _file_mode(target: Path) -> int:
    """Keep an existing file's permissions; new files get ``rw-r--r--``."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


# ---------------------------------------------------------------------------- loading
@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: the model and where training stood."""

    model: MLP
    optimizer_config: dict[str, Any]
    optimizer_state: dict[str, Any]
    progress: dict[str, Any] = field(default_factory=dict)
    schedule_state: dict[str, Any] | None = None
    #: ``[{"type": class name, "state": state_dict()}, ...]`` of the stateful callbacks.
    callback_states: list[dict[str, Any]] = field(default_factory=list)


def load_model(path: str | os.PathLike[str]) -> MLP:
    """Read a model (or a checkpoint's model) written by :func:`save_model`.

    Raises :class:`FileNotFoundError` if ``path`` does not exist and :class:`ValueError`
    if it is not a valid mlpzero model file.
    """
    document, arrays = _read(path)
    return _build_model(path, document, arrays)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``fit(..., checkpoint=PATH)``."""
    document, arrays = _read(path)
    model = _build_model(path, document, arrays)
    entry = document.get("checkpoint")
    if not isinstance(entry, dict):
        raise ValueError(f"{path} is a model file without training state, not a checkpoint")
    check = _Checker(path, "checkpoint")
    optimizer = check.mapping(entry, "optimizer")
    config = check.mapping(optimizer, "config")
    if not isinstance(config.get("name"), str):
        raise ValueError(f"{path}: checkpoint.optimizer.config has no optimizer name")
    state = _join_arrays(path, optimizer.get("state", {}), arrays)
    progress = check.mapping(entry, "progress")
    for key in ("start_epoch", "epochs"):
        value = progress.get(key)
        if not _is_int(value) or value < 0:
            raise ValueError(f"{path}: checkpoint.progress.{key} must be an integer >= 0")
    if progress["start_epoch"] > model.history.epochs:
        raise ValueError(
            f"{path}: checkpoint.progress.start_epoch ({progress['start_epoch']}) is past the "
            f"{model.history.epochs} epochs in the history"
        )
    _generator(path, progress.get("fit_random_state"))  # a valid state, or ValueError
    schedule = entry.get("schedule")
    if schedule is not None and not isinstance(schedule, dict):
        raise ValueError(f"{path}: checkpoint.schedule must be an object or null")
    kept = _join_arrays(path, entry.get("callbacks", []), arrays)
    if not isinstance(kept, list) or not all(
        isinstance(k, dict) and isinstance(k.get("type"), str) and isinstance(k.get("state"), dict)
        for k in kept
    ):
        raise ValueError(f"{path}: checkpoint.callbacks must list {{type, state}} objects")
    return Checkpoint(
        model, dict(config), state if isinstance(state, dict) else {}, progress, schedule, kept
    )


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        source = Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a file path, got {type(path).__name__} {path!r}") from None
    if source.is_dir():
        raise ValueError(f"{source} is a folder, not a model file")
    with open(source, "rb") as handle:  # missing file: FileNotFoundError, as usual
        try:
            arrays = _read_members(handle)
        except _Invalid as error:
            raise ValueError(f"{source} is not a valid mlpzero model file: {error}") from None
        except Exception as error:
            # zipfile and numpy raise many types on damaged bytes (BadZipFile, zlib.error,
            # EOFError, struct.error, OverflowError, ...); every one means the same thing.
            raise ValueError(
                f"{source} is not a valid mlpzero model file (damaged or not an .npz "
                f"archive): {type(error).__name__}: {error}"
            ) from None
    metadata = arrays.pop("metadata", None)
    if metadata is None or metadata.dtype != np.uint8 or metadata.ndim != 1:
        raise ValueError(f"{source} is not a valid mlpzero model file: no metadata document")
    try:
        document = json.loads(metadata.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{source}: the metadata document is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{source} is not an mlpzero model file (format is not {FORMAT!r})")
    version = document.get("format_version")
    if version != FORMAT_VERSION or not _is_int(version):
        raise ValueError(
            f"{source}: unsupported model format version {version!r}; this mlpzero reads "
            f"version {FORMAT_VERSION}"
        )
    return document, arrays


def _no_constant(name: str) -> None:
    """mlpzero writes strict JSON: ``NaN`` and ``Infinity`` mean the file was altered."""
    raise ValueError(f"{name} is not allowed in a model file")


class _Invalid(Exception):
    """A structural problem found while reading the archive."""


def _read_members(handle: Any) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        if len(members) > _MAX_MEMBERS:
            raise _Invalid(f"{len(members)} members is too many")
        for info in members:
            name = info.filename
            if not name.endswith(".npy"):
                raise _Invalid(f"unexpected member {name!r}")
            key = name[: -len(".npy")]
            if key in arrays:
                raise _Invalid(f"member {name!r} appears twice")
            if info.flag_bits & 0x1:
                raise _Invalid(f"member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _Invalid(f"member {name!r} uses an unsupported compression")
            if info.file_size > _MAX_MEMBER_BYTES:
                raise _Invalid(f"member {name!r} claims {info.file_size} bytes")
            arrays[key] = _parse_npy(archive.read(info), name)
    return arrays


def _parse_npy(data: bytes, name: str) -> np.ndarray:
    """One ``.npy`` member, with its header checked before any array is allocated."""
    stream = _bytes_io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(
            stream, max_header_size=_MAX_HEADER_BYTES
        )
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(
            stream, max_header_size=_MAX_HEADER_BYTES
        )
    else:
        raise _Invalid(f"member {name!r} has .npy version {version}")
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
        raise _Invalid(f"member {name!r} has dtype {dtype}; only plain numbers are allowed")
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) - stream.tell():
        raise _Invalid(
            f"member {name!r} declares shape {shape} but holds "
            f"{len(data) - stream.tell()} bytes of data"
        )
    stream.seek(0)
    return np.lib.format.read_array(stream, allow_pickle=False)


def _join_arrays(path: Any, state: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Undo :func:`_split_arrays`: put the optimizer's arrays back into its state."""
    if isinstance(state, dict):
        if set(state) == {"__array__"}:
            key = state["__array__"]
            if not isinstance(key, str) or key not in arrays:
                raise ValueError(f"{path}: the checkpoint refers to a missing array {key!r}")
            return arrays[key].copy()
        return {k: _join_arrays(path, v, arrays) for k, v in state.items()}
    if isinstance(state, list):
        return [_join_arrays(path, v, arrays) for v in state]
    return state


class _Checker:
    """Field checks that raise ``ValueError("<file>: <field> ...")``."""

    def __init__(self, path: Any, section: str) -> None:
        self.path, self.section = path, section

    def fail(self, key: str, message: str) -> None:
        raise ValueError(f"{self.path}: {self.section}.{key} {message}")

    def mapping(self, parent: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.fail(key, f"must be an object, got {_short(value)}")
        return value

    def name(self, value: Any, key: str, known: Mapping[str, Any] | tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in known:
            self.fail(key, f"must be one of {sorted(known)}, got {_short(value)}")
        return value


def _build_model(path: Any, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> MLP:
    from .model import MLP  # model imports io for fit(checkpoint=...)

    check = _Checker(path, "network")
    network_doc = check.mapping(document, "network")
    sizes = network_doc.get("layer_sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(_is_int(n) and 1 <= n <= 2**31 for n in sizes)
    ):
        check.fail(
            "layer_sizes", f"must be a list of at least two positive sizes, got {_short(sizes)}"
        )
    dtype = check.name(network_doc.get("dtype"), "dtype", ("float32", "float64"))
    layer_activations = network_doc.get("activations")
    if not isinstance(layer_activations, list) or len(layer_activations) != len(sizes) - 2:
        check.fail(
            "activations",
            f"must list one activation per hidden layer "
            f"({len(sizes) - 2}), got {_short(layer_activations)}",
        )
    resolved = [
        _activation(path, a, f"network.activations[{i}]") for i, a in enumerate(layer_activations)
    ]

    params = arrays.pop("params", None)
    expected = sum(a * b + b for a, b in pairwise(sizes))
    if params is None:
        raise ValueError(f"{path}: the file holds no parameters")
    if params.ndim != 1 or params.dtype != np.dtype(dtype) or params.size != expected:
        raise ValueError(
            f"{path}: parameters have shape {params.shape} and dtype {params.dtype}, but "
            f"layer sizes {sizes} in {dtype} need shape ({expected},)"
        )
    if not np.isfinite(params).all():
        raise ValueError(f"{path}: the parameters contain NaN or infinity")
    for key in arrays:
        if not key.startswith((_OPTIMIZER_PREFIX, _CALLBACK_PREFIX)):
            raise ValueError(f"{path}: unexpected array {key!r} in the file")

    loss_name = _Checker(path, "file").name(document.get("loss"), "loss", _losses.LOSSES)
    encoder = _encoder(path, document.get("target"), loss_name, sizes[-1])
    settings = _settings(path, document.get("model"), sizes, dtype)
    feature_names = document.get("feature_names")
    if feature_names is not None and (
        not isinstance(feature_names, list)
        or len(feature_names) != sizes[0]
        or not all(isinstance(n, str) for n in feature_names)
    ):
        raise ValueError(
            f"{path}: feature_names must be {sizes[0]} strings, got {_short(feature_names)}"
        )
    history = _history(path, document.get("history"))
    rng = _generator(path, document.get("random_state"))
    training = document.get("training")
    if training is not None and not isinstance(training, dict):
        raise ValueError(f"{path}: training must be an object, got {_short(training)}")

    try:
        model = MLP(**settings)
        network = Network(sizes, resolved, init=settings["init"], dtype=dtype, rng=0)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: invalid model settings: {error}") from None
    network.params[...] = params
    model.network, model.encoder, model.loss_ = network, encoder, _losses.get(loss_name)
    model.history, model._rng = history, rng
    model.feature_names_in_ = None if feature_names is None else list(feature_names)
    model.fit_config_ = training
    return model


def _activation(path: Any, config: Any, where: str) -> _activations.Activation:
    try:
        if not isinstance(config, (str, dict)):
            raise TypeError(f"expected a name or an object, got {_short(config)}")
        return _activations.get(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {where}: {error}") from None


def _settings(path: Any, settings: Any, sizes: list[int], dtype: str) -> dict[str, Any]:
    check = _Checker(path, "model")
    if not isinstance(settings, dict):
        raise ValueError(f"{path}: model settings must be an object, got {_short(settings)}")
    hidden = settings.get("hidden")
    if hidden != sizes[1:-1]:
        check.fail("hidden", f"is {_short(hidden)} but the layer sizes say {sizes[1:-1]}")
    if settings.get("dtype") != dtype:
        check.fail("dtype", f"is {_short(settings.get('dtype'))} but the network is {dtype}")
    activation = settings.get("activation")
    if isinstance(activation, list):
        for i, a in enumerate(activation):
            _activation(path, a, f"model.activation[{i}]")
    else:
        _activation(path, activation, "model.activation")
    loss = settings.get("loss")
    if loss != "auto":
        check.name(loss, "loss", _losses.LOSSES)
    init = settings.get("init")
    if init is not None:
        check.name(init, "init", _initializers.INITIALIZERS)
    seed = settings.get("seed")
    if seed is not None and (not _is_int(seed) or seed < 0):
        check.fail("seed", f"must be an integer >= 0 or null, got {_short(seed)}")
    settings_out = {
        "hidden": tuple(hidden),
        "activation": activation,
        "loss": loss,
        "init": init,
        "seed": seed,
        "dtype": dtype,
    }
    dropout = settings.get("dropout")
    if dropout is not None:
        if not isinstance(dropout, list) or not all(
            isinstance(r, (int, float)) and not isinstance(r, bool) for r in dropout
        ):
            check.fail("dropout", f"must be a list of rates, got {_short(dropout)}")
        settings_out["dropout"] = dropout  # MLP checks the rates themselves
    return settings_out


def _encoder(path: Any, target: Any, loss_name: str, n_outputs: int) -> TargetEncoder:
    check = _Checker(path, "target")
    if not isinstance(target, dict):
        raise ValueError(f"{path}: target must be an object, got {_short(target)}")
    task = check.name(target.get("task"), "task", TASKS)
    if not loss_fits_task(loss_name, task):
        raise ValueError(f"{path}: loss {loss_name!r} does not fit the task {task!r}")
    if target.get("n_outputs") != n_outputs:
        check.fail(
            "n_outputs",
            f"is {_short(target.get('n_outputs'))} but the network has {n_outputs} outputs",
        )
    classes = _classes(path, target.get("classes"))
    if task == "regression":
        if classes is not None:
            check.fail("classes", "must be null for regression")
        encoder = TargetEncoder(task)
        encoder.n_outputs_ = n_outputs
        return encoder
    if classes is None or classes.ndim != 1 or classes.size == 0:
        check.fail("classes", f"must list the class labels for {task}")
    if classes.size > 1 and not np.array_equal(np.unique(classes), classes):
        check.fail("classes", "must be sorted and distinct")
    expected = {"binary": 1, "multiclass": classes.size, "multilabel": classes.size}[task]
    if (task == "binary" and classes.size > 2) or expected != n_outputs:
        check.fail("classes", f"({classes.size} labels) do not fit {n_outputs} outputs for {task}")
    if task == "multilabel" and not np.array_equal(classes, np.arange(n_outputs)):
        check.fail("classes", "must be 0 .. n_outputs - 1 for multilabel")
    return TargetEncoder(task, classes)


def _classes(path: Any, entry: Any) -> np.ndarray | None:
    if entry is None:
        return None
    check = _Checker(path, "target.classes")
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: target.classes must be an object, got {_short(entry)}")
    kind = check.name(entry.get("kind"), "kind", _CLASS_KINDS)
    values = entry.get("values")
    python_type = {"bool": bool, "int": int, "float": (int, float), "str": str}[kind]
    if not isinstance(values, list) or not all(
        isinstance(v, python_type) and (kind == "bool" or not isinstance(v, bool)) for v in values
    ):
        check.fail("values", f"must be a list of {kind} labels, got {_short(values)}")
    try:
        dtype = np.dtype(entry.get("dtype"))
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _CLASS_KINDS[kind] or dtype.fields is not None:
        check.fail("dtype", f"is not a {kind} dtype: {_short(entry.get('dtype'))}")
    try:
        classes = np.array(values, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: target.classes do not fit dtype {dtype}: {error}") from None
    if kind == "float" and not np.isfinite(classes).all():
        check.fail("values", "must be finite")
    if classes.tolist() != values:
        check.fail("values", f"change when stored as {dtype}")
    return classes


def _history(path: Any, entry: Any) -> History:
    history = History()
    if entry is None:
        return history
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: history must be an object, got {_short(entry)}")
    for key, values in entry.items():
        if not isinstance(values, list) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            raise ValueError(f"{path}: history[{key!r}] must be a list of numbers")
        history.history[key] = [math.nan if v is None else float(v) for v in values]
    return history


def _generator(path: Any, state: Any) -> np.random.Generator:
    if not isinstance(state, dict) or state.get("bit_generator") not in _RNG_KINDS:
        raise ValueError(
            f"{path}: random_state must be a NumPy bit generator state "
            f"({', '.join(_RNG_KINDS)}), got {_short(state)}"
        )
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"{path}: random_state is not valid: {error!r}") from None
    return np.random.Generator(bit_generator)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------- training state
def optimizer_state(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer's state: its ``state_dict()`` when it has one, else its step count."""
    if hasattr(optimizer, "state_dict"):
        return dict(optimizer.state_dict())
    return {"iterations": int(optimizer.iterations)}


def restore_optimizer(optimizer: Optimizer, checkpoint: Checkpoint, path: Any) -> None:
    """Load the checkpoint's optimizer state into ``optimizer`` (same kind required)."""
    saved = checkpoint.optimizer_config.get("name")
    if saved != optimizer.name:
        raise ValueError(
            f"resume: {path} was trained with optimizer {saved!r}, but fit was given "
            f"{optimizer.name!r}"
        )
    state = checkpoint.optimizer_state
    try:
        if hasattr(optimizer, "load_state_dict"):
            optimizer.load_state_dict(state)
        else:
            iterations = state.get("iterations")
            if not _is_int(iterations) or iterations < 0:
                raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
            optimizer.iterations = iterations
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"resume: {path}: the optimizer state is not valid: {error}") from None


def restore_schedule(schedule: Any, checkpoint: Checkpoint, path: Any) -> None:
    """Load the checkpoint's schedule state into ``schedule`` (same schedule required)."""
    saved = checkpoint.schedule_state
    if schedule is None or saved is None or not hasattr(schedule, "load_state_dict"):
        return
    if saved.get("config") != _jsonable(schedule.config):
        raise ValueError(
            f"resume: {path} was trained with schedule {_short(saved.get('config'))}, but "
            f"fit was given {_short(schedule.config)}"
        )
    try:
        schedule.load_state_dict(saved)
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"resume: {path}: the schedule state is not valid: {error!r}") from None


def stateful(callbacks: Sequence[Any]) -> list[Any]:
    """The callbacks whose running state a checkpoint keeps (those with ``state_dict``)."""
    return [c for c in callbacks if hasattr(c, "state_dict") and hasattr(c, "load_state_dict")]


def check_callbacks(callbacks: Sequence[Any], checkpoint: Checkpoint, path: Any) -> None:
    """Refuse to resume with other stateful callbacks than the interrupted run had."""
    given = [type(c).__name__ for c in stateful(callbacks)]
    saved = [entry["type"] for entry in checkpoint.callback_states]
    if given != saved:
        raise ValueError(
            f"resume: {path} was trained with the callbacks {saved}, but fit was given {given}"
        )


class CallbackRestorer(Callback):
    """Puts the checkpoint's callback states back once training has begun.

    Callbacks reset themselves in ``on_train_begin``; this one comes after them in the
    list, so its ``on_train_begin`` restores what the interrupted run had reached.
    """

    def __init__(self, callbacks: Sequence[Any], checkpoint: Checkpoint, path: Any) -> None:
        self.callbacks, self.checkpoint, self.path = stateful(callbacks), checkpoint, path

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        for callback, entry in zip(self.callbacks, self.checkpoint.callback_states, strict=True):
            try:
                callback.load_state_dict(entry["state"])
            except (TypeError, ValueError, KeyError, OverflowError) as error:
                raise ValueError(
                    f"resume: {self.path}: the state of {entry['type']} is not valid: {error!r}"
                ) from None


class CheckpointWriter(Callback):
    """Writes a checkpoint at the end of an epoch (used by ``fit(checkpoint=PATH)``).

    A write costs a few milliseconds (most of it making the file durable), which would
    dominate small full-batch epochs; so it happens at most every ``interval`` seconds,
    and always at ``final_epoch`` and when training is asked to stop (early stopping).
    A run killed in between resumes from the last write, exactly.
    """

    def __init__(
        self,
        path: Any,
        optimizer: Optimizer,
        schedule: Any,
        progress: Mapping[str, Any],
        interval: float = 0.0,
        final_epoch: int | None = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        self.path, self.optimizer, self.schedule = path, optimizer, schedule
        self.progress, self.callbacks = dict(progress), list(callbacks)
        self.interval, self.final_epoch = float(interval), final_epoch
        self.last_write = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        now = time.monotonic()
        due = now - self.last_write >= self.interval
        stopping = bool(getattr(self.model, "stop_training", False))
        if due or stopping or epoch == self.final_epoch:
            save_checkpoint(
                self.model, self.path, self.optimizer, self.progress, self.schedule, self.callbacks
            )
            self.last_write = now
