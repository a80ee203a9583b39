"""The model file: bytes on disk <-> a checked :class:`ModelRecord`.

This module is the file format and nothing else: it knows no model class. A model turns
itself into a record (:meth:`MLP.to_record <mlpzero.model.MLP.to_record>`) and back
(:meth:`MLP.from_record <mlpzero.model.MLP.from_record>`); :func:`write_record` and
:func:`read_record` move a record to and from a file. ``MLP.save`` and :func:`mlpzero.load`
are the two together.

A model file is a ``.npz`` archive of two arrays (more for a checkpoint):

- ``params``: the network's flat parameter vector (see :class:`mlpzero.network.Network`),
  in the model's dtype, written and read back bit for bit;
- ``metadata``: a UTF-8 JSON document stored as a ``uint8`` array. It records the format
  version, the layer sizes and activations, the loss, the task and its classes (with their
  kind, so string and integer labels both come back as they were), the dtype, the
  feature names when known, the last training configuration, the history and the state of
  the model's random generator. A loss is named, or, when a hyper-parameter differs from
  its default (a cross-entropy's ``epsilon``), given as its config
  (``{"name": "categorical_crossentropy", "epsilon": 1e-07}``);
- ``standardize.mean`` and ``standardize.scale`` (only for a model built with
  ``standardize=True``): the input standardisation, float64 arrays of shape
  ``(n_features,)``, finite, the scale > 0. A file without them holds a model that feeds
  its inputs to the first layer as they are.

A checkpoint (``fit(..., checkpoint=PATH)``, see :mod:`mlpzero.checkpointing`) is a model
file with a ``checkpoint`` entry in the document (optimizer configuration, progress
through ``fit``, schedule and callback states: a :class:`CheckpointState`) and the arrays
of those states as extra members named ``optimizer.<key>`` and ``callbacks.<key>``.
:func:`read_record` reads the model part of either.

Writing is atomic: the archive is written to a temporary file in the target's folder,
flushed to disk, and renamed over the target with :func:`os.replace`, so an interrupted
save leaves the previous file (or none) under the target name, never a partial one.

Reading never unpickles and never takes more memory than the model the file describes.
Only regular files are opened (a FIFO or a device would block or never end). Members are
read one at a time, only those needed (a model read leaves a checkpoint's state unread;
an unknown or unreferenced member is refused): first the metadata document (at most
16 MB, or 256 MB in a member stored uncompressed, which the file must then hold
whole; parsed only if its lists, objects, strings and numbers would take at most 16
times its size; nested at most 32 deep), then each array with a limit from the layer sizes, the
parameter count (a checkpoint's state arrays are each referred to by one state, and take
at most 8 times the parameters' bytes together). The zip entry's declared size and the
``.npy`` header (plain numeric dtype, a shape within the limit, exactly the bytes
declared) are checked before any data is inflated, and the data is read in chunks into
an array of the declared size, so a stream that inflates to more is cut there. The
document is then checked field by field: known format version, known activations and
losses, layer sizes that match the parameter count, finite parameters, classes
consistent with the task (labels of at most 1,000 characters, a string dtype narrowed
to the longest), history lists no longer than the epochs recorded. Anything else
raises a :class:`ValueError` that names the file and the field; no record comes from a
file that fails a check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import stat
import struct
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from . import losses as _losses
from .activations import Activation
from .components import Component
from .network import resolve_activations
from .standardization import Standardizer
from .targets import TASKS, TargetEncoder, loss_fits_task, plain_labels

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointState",
    "ModelRecord",
    "check_label_lengths",
    "check_writable",
    "file_path",
    "generator_from_state",
    "holds_model_metadata",
    "jsonable",
    "loss_entry",
    "make_folder",
    "missing_folder",
    "read_record",
    "replace_atomically",
    "short_repr",
    "write_record",
    "zip_entries_at_most",
]

FORMAT = "mlpzero-model"
FORMAT_VERSION = 1
_MAX_MEMBERS = 1024
#: A zip archive's end of central directory record, and its size without comment.
_END = b"PK\x05\x06"
_END_BYTES = 22
_MAX_HEADER_BYTES = 10_000
_MAX_MEMBER_BYTES = 1 << 31
#: The metadata document's size in a compressed member, whose size in the file says
#: nothing of what it inflates to: about 150,000 epochs of five metrics' history.
_MAX_METADATA_BYTES = 16 << 20
#: The metadata document's size in a member stored as it is, as mlpzero writes it: the
#: file then holds every byte, so reading it takes memory in proportion to the file.
#: About 2.5 million epochs of five metrics' history.
_MAX_STORED_METADATA_BYTES = 256 << 20
#: What parsing the document may take, as estimated by ``_parse_cost``: this many times
#: its size, or this floor for a small one. mlpzero writes ``", "`` between numbers, so its
#: history takes at most about 13 times its text (all ``0.5``), usually 3 times; ten
#: million empty objects or compact zeros (``{},`` or ``0,``) in 30 MB take several GB.
_MAX_PARSE_MULTIPLE = 16
_MIN_PARSE_BUDGET = 64 << 20
#: How deep the document may nest lists and objects (mlpzero's own go about 6 deep).
_MAX_DEPTH = 32
#: What the compressed members of one file may inflate to together: this many times the
#: file's size, or this floor for a small file. Deflate reaches about a thousand to one on
#: zeros, so a file of a few megabytes could otherwise declare (and truly hold) gigabytes of
#: parameters. The trained numbers of a model compress far less than this.
_MAX_INFLATE_MULTIPLE = 64
_MIN_INFLATE_BUDGET = 32 << 20
#: What building one layer of a loaded model may take, at most, in bytes: its activation,
#: the views of its weights, biases and gradients, and its entries in the metadata (about
#: 1.2 kB in all). The layers of one file may take together what its compressed members
#: may inflate to, so a few kilobytes that list a hundred thousand one-unit layers are
#: refused before any is built.
_LAYER_BYTES = 2048
_READ_CHUNK = 1 << 20
#: How many characters of a target's name its temporary file's name repeats (at most
#: 4 bytes each, well within the 255 bytes a file name may take).
_TEMPORARY_NAME_CHARS = 32
_RNG_KINDS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_CLASS_KINDS = {"bool": "b", "int": "iu", "float": "f", "str": "UO"}
#: The longest class label a file holds: predictions are as wide as the longest label.
_MAX_LABEL_LENGTH = 1000
_OPTIMIZER_PREFIX = "optimizer."
_CALLBACK_PREFIX = "callbacks."
#: The members a file may hold: these arrays, and a checkpoint's state arrays.
_STANDARDIZE_MEMBERS = ("standardize.mean", "standardize.scale")
_MEMBERS = ("metadata", "params", *_STANDARDIZE_MEMBERS)
_STATE_PREFIXES = (_OPTIMIZER_PREFIX, _CALLBACK_PREFIX)
#: How a checkpoint's fit ended: not yet, after all its epochs, or stopped by a callback.
_FINISHED = (None, "epochs", "restored", "stopped")
#: A checkpoint's state arrays together hold at most this many times the parameters'
#: bytes: an optimizer keeps up to three parameter-sized buffers, an EarlyStopping one.
_MAX_STATE_MULTIPLE = 8
#: The parts of a fit's data a checkpoint signs (``mlpzero.checkpointing.data_signature``).
_DATA_SIGNATURE = ("X", "y", "sample_weight", "validation_data")


# ---------------------------------------------------------------------------- records
@dataclass(frozen=True)
class CheckpointState:
    """What a checkpoint holds beyond the model: where an interrupted ``fit`` stood.

    ``progress`` holds ``start_epoch`` (the history length when the interrupted ``fit``
    began), ``epochs`` (how many epochs that ``fit`` was asked for) and
    ``fit_random_state`` (the model's random state where that ``fit`` started drawing).
    ``callback_states`` is ``[{"type": class name, "state": state_dict()}, ...]`` of the
    stateful callbacks. States may hold NumPy arrays at any depth.
    """

    optimizer_config: dict[str, Any]
    optimizer_state: dict[str, Any]
    progress: dict[str, Any]
    schedule_state: dict[str, Any] | None = None
    callback_states: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ModelRecord:
    """A model as a file holds it; :func:`read_record` returns only checked records.

    Attributes
    ----------
    settings:
        The model's constructor arguments: ``hidden``, ``activation``, ``loss``, ``init``,
        ``seed``, ``dtype`` and (when recorded) ``dropout``. Read from a file they are
        plain JSON values; a record made for writing may hold the objects the model was
        given, which :func:`write_record` refuses unless it can name them.
    layer_sizes:
        ``(n_inputs, hidden_1, ..., n_outputs)``.
    activations:
        The activation of each hidden layer.
    params:
        The flat parameter vector, ``(sum of n_l * (n_{l-1} + 1),)``, in the model's dtype.
    loss:
        The loss as :func:`loss_entry` gives it: its name, or its config when a
        hyper-parameter is not the default.
    encoder:
        The fitted :class:`~mlpzero.targets.TargetEncoder` (task, classes, outputs).
    history:
        ``{metric: [one value per epoch]}``; NaN where a value was not finite.
    random_state:
        The state of the model's random generator, as ``bit_generator.state`` gives it
        (:func:`generator_from_state` turns it back into a generator).
    feature_names:
        The training data's column names, or ``None``.
    training:
        The options of the last ``fit``, or ``None``.
    checkpoint:
        The training state of a checkpoint (``read_record(..., checkpoint=True)``), else
        ``None``.
    standardizer:
        The input standardisation of a model with ``settings["standardize"]`` true, else
        ``None``.
    """

    settings: dict[str, Any]
    layer_sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    params: np.ndarray
    loss: str | dict[str, Any]
    encoder: TargetEncoder
    history: dict[str, list[float]]
    random_state: dict[str, Any]
    feature_names: list[str] | None = None
    training: dict[str, Any] | None = None
    checkpoint: CheckpointState | None = None
    standardizer: Standardizer | None = None


# ---------------------------------------------------------------------------- writing
def write_record(record: ModelRecord, path: str | os.PathLike[str]) -> Path:
    """Write ``record`` to ``path`` (a ``.npz`` file, replaced atomically); returns the path.

    The parameters must be finite and every component nameable (mlpzero's own
    activations, loss and initialisers): a model that could not be read back is refused
    rather than written.
    """
    document, arrays = _describe(record)
    state = record.checkpoint
    if state is not None:
        json_state, state_arrays = _split_arrays(
            state.optimizer_state, _OPTIMIZER_PREFIX.rstrip(".")
        )
        json_callbacks, callback_arrays = _split_arrays(
            state.callback_states, _CALLBACK_PREFIX.rstrip(".")
        )
        schedule = state.schedule_state
        document["checkpoint"] = {
            "optimizer": {"config": jsonable(state.optimizer_config), "state": json_state},
            "schedule": None if schedule is None else jsonable(schedule),
            "callbacks": json_callbacks,
            "progress": jsonable(dict(state.progress)),
        }
        # A user's own schedule or callback may keep what JSON cannot hold: named here,
        # not left to the whole document's "Object of type ... is not JSON serializable".
        where = f"cannot save to {path}: a checkpoint cannot store"
        _check_storable(document["checkpoint"]["schedule"], f"{where} the schedule's state")
        for entry in json_callbacks:
            _check_storable(entry["state"], f"{where} the state of callback {entry['type']}")
        for key, array in (*state_arrays.items(), *callback_arrays.items()):
            owner = "the optimizer's state"
            if key.startswith(_CALLBACK_PREFIX):
                owner = f"the state of callback {json_callbacks[int(key.split('.')[1])]['type']}"
            _check_state_array(array, record.params, f"{where} {owner}: {key}")
        nbytes = sum(a.nbytes for a in (*state_arrays.values(), *callback_arrays.values()))
        _check_state_bytes(nbytes, record.params, f"cannot save to {path}: ")
        arrays.update(state_arrays)
        arrays.update(callback_arrays)
    return _write_atomic(path, document, arrays)


def check_writable(record: ModelRecord) -> None:
    """Raise the :class:`ValueError` that :func:`write_record` would raise for ``record``'s
    model (a component mlpzero cannot name, labels of a type a file cannot hold, ...),
    without writing anything."""
    _describe(record)


def _check_state_array(array: np.ndarray, params: np.ndarray, where: str) -> None:
    """Refuse a checkpoint's state array that a read would refuse, as a :class:`ValueError`
    that begins with ``where``: numbers other than plain ones of at most 8 bytes (complex,
    text, dates, objects), or more values than the parameters have."""
    if not _plain_numbers(array.dtype):
        raise ValueError(f"{where} has dtype {array.dtype}; only plain numbers can be stored")
    if array.size > params.size:
        raise ValueError(
            f"{where} has shape {array.shape}, more than the {params.size} values of the "
            "parameters, the most a state array may hold"
        )


def _check_state_bytes(nbytes: int, params: np.ndarray, where: str) -> None:
    """Refuse a checkpoint whose state arrays take ``nbytes``, more than
    ``_MAX_STATE_MULTIPLE`` times the bytes of the parameters (a read and a write alike)."""
    limit = _MAX_STATE_MULTIPLE * params.nbytes
    if nbytes > limit:
        raise ValueError(
            f"{where}the checkpoint's state arrays (optimizer and callbacks) take more than "
            f"{limit} bytes, {_MAX_STATE_MULTIPLE} times the parameters', the most a "
            "checkpoint may hold"
        )


def _describe(record: ModelRecord) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    params = record.params
    if not np.isfinite(params).all():
        raise ValueError("cannot save a model whose parameters are not all finite")
    for activation in record.activations:
        _require_known(activation, _activations.get, "activation")
    _require_known(record.loss, _losses.get, "loss")
    settings, encoder = record.settings, record.encoder
    loss = settings["loss"]
    if isinstance(loss, _losses.Loss):
        _require_known(loss, _losses.get, "loss")
    _check_settings_fit_network(record)
    feature_names = record.feature_names
    if feature_names is not None:
        feature_names = [str(n) for n in feature_names]
        _check_feature_names(feature_names, record.layer_sizes[0], "cannot save a model: ")
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {
            "hidden": list(settings["hidden"]),
            "activation": _activation_setting(settings["activation"]),
            "loss": loss if loss == "auto" else loss_entry(loss),  # aliases by name
            "init": _init_setting(settings["init"]),
            "seed": settings["seed"],
            "dtype": np.dtype(settings["dtype"]).name,
            "dropout": jsonable(settings.get("dropout")),
            "standardize": bool(settings.get("standardize", False)),
        },
        "network": {
            "layer_sizes": list(record.layer_sizes),
            "activations": [a.config for a in record.activations],
            "dtype": params.dtype.name,
        },
        "loss": loss_entry(record.loss),
        "target": {
            "task": encoder.task,
            "n_outputs": int(encoder.n_outputs_),
            "classes": _classes_document(encoder.classes_),
        },
        "feature_names": feature_names,
        "training": _training_document(record.training),
        "history": {
            key: [v if math.isfinite(v) else None for v in values]
            for key, values in record.history.items()
        },
        "random_state": jsonable(record.random_state),
    }
    arrays = {"params": params}
    if record.standardizer is not None:
        mean_key, scale_key = _STANDARDIZE_MEMBERS
        arrays[mean_key], arrays[scale_key] = record.standardizer.mean, record.standardizer.scale
    return document, arrays


def settings_mismatch(record: ModelRecord) -> tuple[str, Any, Any] | None:
    """The first setting of ``record`` changed after the model was fitted to disagree
    with its network (``model.hidden = (8,)``): ``(name, setting, what the network
    has)``, or None. Later fits continue the same network regardless, and a file holding
    both would contradict itself (:func:`read_record` refuses such a file for the hidden
    sizes, dtype, loss and standardisation)."""
    settings = record.settings
    loss = settings["loss"]
    hidden = tuple(record.layer_sizes[1:-1])
    fitted: dict[str, tuple[Any, Any]] = {
        "hidden": (tuple(settings["hidden"]), hidden),
        "dtype": (np.dtype(settings["dtype"]).name, record.params.dtype.name),
        "loss": (loss, record.loss),
        "standardize": (bool(settings.get("standardize", False)), record.standardizer is not None),
    }
    for name, (value, network) in fitted.items():
        differs = (
            loss != "auto" and loss_entry(value) != loss_entry(network)
            if name == "loss"
            else value != network
        )
        if differs:
            return name, value, network
    activation = settings["activation"]
    wanted = [a.config for a in resolve_activations(activation, len(hidden))]
    if wanted != [a.config for a in record.activations]:
        return "activation", activation, [a.name for a in record.activations]
    return None


def _check_settings_fit_network(record: ModelRecord) -> None:
    """Refuse to save a model whose settings were changed after it was fitted to disagree
    with its network (:func:`settings_mismatch`)."""
    mismatch = settings_mismatch(record)
    if mismatch is not None:
        name, value, network = mismatch
        raise ValueError(
            f"cannot save a model whose {name} {value!r} is not what it was fitted with "
            f"({network!r}); set {name} back before saving"
        )


def _training_document(training: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The last fit's options as JSON values, or a :class:`ValueError` naming the option
    that holds something else (the config of a user's own schedule or optimizer)."""
    if training is None:
        return None
    document = jsonable(training)
    for key, value in document.items():
        _check_storable(
            value,
            "cannot save a model whose last fit's options hold a value a model file cannot "
            f"store: fit_config_[{key!r}]",
        )
    return document


def _check_storable(value: Any, what: str) -> None:
    """Refuse ``value`` (made :func:`jsonable`) if JSON cannot hold it, as a
    :class:`ValueError` that begins with ``what``, then shows the value."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} = {short_repr(value)} ({error})") from None


def _require_known(component: Any, get: Any, what: str) -> None:
    """Only components that a read can rebuild by name are saved: ``component`` (a name,
    config or instance) must come back from its config equal, of the same class."""
    config = component.config if isinstance(component, Component) else component
    try:
        rebuilt = get(config)
    except (TypeError, ValueError):
        rebuilt = None
    name = config.get("name") if isinstance(config, dict) else config
    if (
        rebuilt is None
        or (isinstance(config, dict) and rebuilt.config != config)
        or (isinstance(component, Component) and rebuilt != component)
    ):
        raise ValueError(
            f"cannot save a model with the custom {what} {name!r}: a model file names its "
            f"{what} and only mlpzero's own can be rebuilt from a name"
        )


def loss_entry(loss: Any) -> str | dict[str, Any]:
    """``loss`` (a name, config or instance) as a model file holds it: its name when its
    hyper-parameters are the defaults (so such files are as they always were), else its
    config, such as ``{"name": "categorical_crossentropy", "epsilon": 1e-07}``."""
    loss = _losses.get(loss)
    known = _losses.LOSSES.get(loss.name)
    if known is not None and loss.config == known().config:
        return loss.name
    return loss.config


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
    classes = plain_labels(classes)  # an object array of ints is stored as int64, ...
    kind = next((k for k, codes in _CLASS_KINDS.items() if classes.dtype.kind in codes), None)
    values = _float_labels(classes) if kind == "float" else classes.tolist()
    if kind is None or (classes.dtype.kind == "O" and not all(isinstance(v, str) for v in values)):
        raise ValueError(
            f"cannot save class labels of dtype {classes.dtype} (such as {values[:3]}); "
            "labels must be booleans, integers, floats or strings"
        )
    if kind == "str":
        check_label_lengths(values, "cannot save a model: ")
    return {"kind": kind, "dtype": classes.dtype.str, "values": values}


def check_label_lengths(labels: list[str] | list[bytes], where: str) -> None:
    """Refuse a label longer than ``_MAX_LABEL_LENGTH`` characters: every prediction
    array would be as wide as it (a megabyte per row for a label of a million)."""
    longest = max(map(len, labels), default=0)
    if longest > _MAX_LABEL_LENGTH:
        raise ValueError(
            f"{where}a class label has {longest} characters, more than the "
            f"{_MAX_LABEL_LENGTH} a model file allows"
        )


def _float_labels(classes: np.ndarray) -> list[float]:
    """Float class labels as JSON numbers (Python floats, i.e. float64), refusing any that
    a float64 does not hold exactly: ``tolist`` keeps a ``longdouble`` as a NumPy scalar,
    which JSON cannot write, and rounding it would change the label."""
    inexact = [v for v in classes.ravel() if float(v) != v]
    if inexact:
        raise ValueError(
            f"cannot save class labels of dtype {classes.dtype} such as {inexact[0]!s}: a "
            "model file stores float labels as float64, which does not hold it exactly; "
            "convert y to float64 (or integers) before fitting"
        )
    return [float(v) for v in classes.ravel()]


def jsonable(value: Any) -> Any:
    """Plain JSON types from NumPy scalars, tuples and nested dicts (NaN, inf: ``None``)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()  # and a NumPy NaN or inf is None, as Python's are
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
        return jsonable(value)

    return walk(state, prefix), arrays


def _write_npz(handle: Any, arrays: Mapping[str, np.ndarray]) -> None:
    np.savez(handle, **arrays)


def _write_atomic(
    path: str | os.PathLike[str], document: dict[str, Any], arrays: dict[str, np.ndarray]
) -> Path:
    path = file_path(path)
    _refuse_folder_path(path)
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save to {target}: {missing_folder(folder)}")
    if target.is_dir():
        raise IsADirectoryError(f"cannot save to {target}: it is a folder")
    text = json.dumps(document, allow_nan=False, sort_keys=True).encode("utf-8")
    if len(text) > _MAX_STORED_METADATA_BYTES:
        raise ValueError(
            f"cannot save to {target}: the metadata document would take {len(text)} bytes, "
            f"more than the {_MAX_STORED_METADATA_BYTES} a model file may hold (a history "
            "of millions of epochs?)"
        )
    members = {"metadata": np.frombuffer(text, dtype=np.uint8), **arrays}
    return replace_atomically(target, lambda handle: _write_npz(handle, members))


def file_path(path: Any, name: str = "path") -> str:
    """``path`` as text: a str, a bytes path (decoded as the file system does) or an
    :class:`os.PathLike`; anything else is a :class:`TypeError`, and the empty path (which
    names no file, and would be read as the current folder) or one holding a NUL character
    (which no file system takes) a :class:`ValueError`, that names the argument ``name``
    and what it got."""
    try:
        given = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"{name} must be a file path (a str or os.PathLike), got {type(path).__name__} "
            f"{short_repr(path)}"
        ) from None
    if not given:
        raise ValueError(f"{name} must be a file path, got the empty string {path!r}")
    if "\0" in given:
        raise ValueError(f"{name} must not hold a NUL character, got {given!r}")
    return given


def _refuse_folder_path(given: str) -> None:
    """Refuse ``out/``: as a :class:`~pathlib.Path` it loses its slash, and a file named
    like the folder would be written."""
    if given.endswith(("/", os.sep)):
        raise IsADirectoryError(f"cannot write {given}: the path names a folder, not a file")


def make_folder(folder: str | os.PathLike[str], what: str) -> None:
    """Create ``folder`` and the folders above it that are missing. A file in the way is
    a :class:`NotADirectoryError` that names it after ``what`` (the file to be written, or
    the argument), where :func:`os.makedirs` says only "File exists"."""
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = _file_in_the_way(folder)
        if blocking is None:
            raise
        raise NotADirectoryError(f"{what}: {blocking} is a file, not a folder") from None


def missing_folder(folder: str | os.PathLike[str]) -> str:
    """Why the folder ``folder``, which is not one, cannot hold a file: ``"the folder F does
    not exist"``, or ``"F is a file, not a folder"`` for the file that stands on its path
    (``data.csv`` of ``data.csv/model.npz``)."""
    blocking = _file_in_the_way(folder)
    if blocking is None:
        return f"the folder {os.fspath(folder)} does not exist"
    return f"{blocking} is a file, not a folder"


def _file_in_the_way(folder: str | os.PathLike[str]) -> Path | None:
    """The first of ``folder`` and the folders above it that exists as no folder, if any."""
    path = Path(os.path.abspath(folder))
    files = (p for p in (*reversed(path.parents), path) if p.exists() and not p.is_dir())
    return next(files, None)


def replace_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any]) -> Path:
    """Write a file at ``path`` with ``write(handle)``, replacing any file there only once
    it is complete; returns the path (a bytes path decoded, as :func:`file_path` does).

    ``write`` fills a temporary file in the same folder, which is flushed to disk and
    renamed over ``path`` with :func:`os.replace` (an existing file keeps its permissions,
    a new one gets those the umask allows). If ``write`` raises, or Ctrl-C interrupts it,
    the temporary file is removed and whatever was at ``path`` is left as it was. A process
    killed outright (``SIGTERM`` without a handler, ``SIGKILL``) leaves ``path`` whole too,
    but may leave the temporary file (``.NAME.<random>.tmp``, beside it) for you to
    remove. A system error that names no file (a full disk), or the temporary one, is given
    ``path`` as its file name. A symbolic link is followed: the file it names is replaced,
    the link stays. One of the process's streams (``/dev/stdout``) is written through its
    descriptor, and a path that is not a regular file (a named pipe) in place, as nothing
    can be renamed over them.
    """
    given = file_path(path)
    _refuse_folder_path(given)
    target = Path(os.path.realpath(given))
    descriptor = _stream_descriptor(given)
    if descriptor is not None:  # written through the process's own descriptor and offset
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.flush()
        with _naming_the_file(given), os.fdopen(os.dup(descriptor), "wb") as handle:
            write(_streaming(handle))
        return Path(given)
    if _written_in_place(given, target):
        with _naming_the_file(given), open(given, "wb") as handle:
            write(_streaming(handle))
        return Path(given)
    # The temporary name starts with the target's, cut short: a target name of the
    # longest length the folder allows would leave no room for the rest.
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name[:_TEMPORARY_NAME_CHARS]}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:  # named after the temporary file, which the user never named
        folder = target.parent
        reason = (
            missing_folder(folder)
            if isinstance(error, (FileNotFoundError, NotADirectoryError))
            else f"no file can be made in its folder {folder} ({error.strerror}); the file "
            "is written under a temporary name there, then renamed"
        )
        raise type(error)(f"cannot write {given}: {reason}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.filename == temporary:
            # A rename refused (over another user's file in a shared folder) named the
            # temporary file, removed by now and never named by the user.
            raise type(error)(error.errno, error.strerror, given) from None
        _name_file(error, given)
        raise
    return Path(given)


@contextlib.contextmanager
def _naming_the_file(given: str) -> Iterator[None]:
    """Give a system error raised in the block that names no file ``given`` as its file."""
    try:
        yield
    except OSError as error:
        _name_file(error, given)
        raise


def _name_file(error: BaseException, given: str) -> None:
    """A system error that names no file (a full disk: "[Errno 28] No space left on
    device", a closed descriptor ``/dev/fd/9``) is given ``given`` as its file name."""
    if isinstance(error, OSError) and error.errno is not None and error.filename is None:
        error.filename = given


class _WriteOnly(io.RawIOBase):
    """A handle that only writes (it cannot tell nor seek): a zip archive written to it
    streams, with no seeking back."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__()
        self._handle = handle

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._handle.write(data)

    def flush(self) -> None:
        if not self._handle.closed:
            self._handle.flush()


def _streaming(handle: BinaryIO) -> Any:
    """``handle``, or for anything but a regular file a :class:`_WriteOnly` view of it: a
    device such as ``/dev/null`` accepts a seek but keeps its position at 0, so a zip
    archive that reads its position back would compute negative offsets and fail."""
    if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        return handle
    return _WriteOnly(handle)


def _stream_descriptor(given: str) -> int | None:
    """The descriptor a path such as ``/dev/stdout``, ``/dev/fd/3`` or ``/proc/self/fd/1``
    names, through any symbolic links to it (None for other paths). Opened again, such a
    path would write from the start of the file the shell redirected the stream to."""
    named = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
    prefixes = ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/")
    path = os.path.abspath(given)
    for _ in range(40):  # as many links as the system follows
        if path in named:
            return named[path]
        prefix = next((p for p in prefixes if path.startswith(p)), None)
        if prefix is not None and path[len(prefix) :].isdigit():
            return int(path[len(prefix) :])
        if not os.path.islink(path):
            return None
        path = os.path.abspath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None


def _written_in_place(given: str, target: Path) -> bool:
    """Whether a path cannot be replaced by renaming a file over it: it is no regular file
    (a device such as ``/dev/null``, a pipe), or it is under ``/proc`` (a descriptor of a
    process, whose file, if any, belongs to the shell that opened it). A regular file
    under ``/dev`` (in the memory-backed folder ``/dev/shm``) is replaced like any other:
    written in place, a failed save would leave it cut short."""
    if os.path.abspath(given).startswith("/proc/") or str(target).startswith("/proc/"):
        return True
    try:
        return not stat.S_ISREG(os.stat(given).st_mode)
    except FileNotFoundError:
        return False


def _file_mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets ``rw-rw-rw-`` less the umask,
    as :func:`open` would give it."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask: read from ``/proc`` where there is one, since the portable way,
    setting it and setting it back, would briefly change it for every other thread."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


# ---------------------------------------------------------------------------- reading
def read_record(path: str | os.PathLike[str], *, checkpoint: bool = False) -> ModelRecord:
    """Read and check the model in ``path`` (a model file or a checkpoint).

    With ``checkpoint=True`` the file must be a checkpoint, and its training state is
    checked too and returned as :attr:`ModelRecord.checkpoint`; otherwise any training
    state in the file is left unread.

    Raises :class:`FileNotFoundError` if ``path`` does not exist and :class:`ValueError`
    if it is not a valid mlpzero model file (or, with ``checkpoint=True``, checkpoint),
    including anything that is not a regular file (a FIFO, a device).
    """
    source = _source_path(path)
    with _open_regular(source) as handle, _Archive(source, handle) as archive:
        try:
            document = archive.document()
            record = _record(source, document, archive)
            entry = document.get("checkpoint")
            if not checkpoint:
                if entry is None:
                    _StateArrays(source, archive, record.params).refuse_unused()
                return record
            if not isinstance(entry, dict):
                raise ValueError(
                    f"{source} is a model file without training state, not a checkpoint"
                )
            state = _checkpoint_state(source, entry, archive, record)
        except (ArithmeticError, LookupError, TypeError, RecursionError, MemoryError) as error:
            # Every field has its own check; this names the file should one be missed.
            raise ValueError(
                f"{source} is not a valid mlpzero model file: {type(error).__name__}: "
                f"{short_repr(str(error), 200)}"
            ) from None
    return dataclasses.replace(record, checkpoint=state)


def holds_model_metadata(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file whose metadata is that of an mlpzero model file
    or checkpoint (the document alone is read and checked, within its bounds; not the
    parameters)."""
    source = _source_path(path)
    try:
        with _open_regular(source) as handle, _Archive(source, handle) as archive:
            archive.document()
    except Exception:  # whatever the bytes raise, they are not such metadata
        return False
    return True


def _checkpoint_state(
    path: Any, entry: dict[str, Any], archive: _Archive, record: ModelRecord
) -> CheckpointState:
    check = _Checker(path, "checkpoint")
    epochs = len(record.history.get("loss", []))
    optimizer = check.mapping(entry, "optimizer")
    config = check.mapping(optimizer, "config")
    if not isinstance(config.get("name"), str):
        raise ValueError(f"{path}: checkpoint.optimizer.config has no optimizer name")
    arrays = _StateArrays(path, archive, record.params)
    state = arrays.join(optimizer.get("state", {}), "checkpoint.optimizer.state")
    progress = check.mapping(entry, "progress")
    for key in ("start_epoch", "epochs"):  # fit takes any epochs (sys.maxsize: until a stop)
        value = progress.get(key)
        if not _is_int(value) or value < 0:
            check.fail(f"progress.{key}", f"must be an integer >= 0, got {short_repr(value)}")
    if progress["start_epoch"] > epochs:
        raise ValueError(
            f"{path}: checkpoint.progress.start_epoch ({progress['start_epoch']}) is past the "
            f"{epochs} epochs in the history"
        )
    finished = progress.get("finished")
    if finished not in _FINISHED:
        check.fail("progress.finished", f"must be one of {_FINISHED}, got {short_repr(finished)}")
    fit_state = progress.get("fit_random_state")
    _generator(path, fit_state)  # a valid state, or ValueError
    kind, own = fit_state["bit_generator"], record.random_state["bit_generator"]
    if kind != own:  # resuming puts it back into the model's own generator
        check.fail(
            "progress.fit_random_state",
            f"is a state of {kind}, but the model's random generator (random_state) is {own}",
        )
    generator = progress.get("batch_generator", True)  # present in a generator's fit
    if generator is not True:
        check.fail("progress.batch_generator", f"must be true, got {short_repr(generator)}")
    signature = progress.get("data")  # absent for a generator's fit, and in older files
    if signature is not None and not (
        isinstance(signature, dict)
        and set(signature) == set(_DATA_SIGNATURE)
        and all(
            isinstance(text, str) and len(text) <= 400 and text.isascii() and text.isprintable()
            for text in signature.values()
        )
    ):
        check.fail(
            "progress.data",
            f"must map {list(_DATA_SIGNATURE)} to short printable texts, got "
            f"{short_repr(signature)}",
        )
    schedule = entry.get("schedule")
    if schedule is not None and not isinstance(schedule, dict):
        raise ValueError(f"{path}: checkpoint.schedule must be an object or null")
    kept = arrays.join(entry.get("callbacks", []), "checkpoint.callbacks")
    if not isinstance(kept, list) or not all(
        isinstance(k, dict) and isinstance(k.get("type"), str) and isinstance(k.get("state"), dict)
        for k in kept
    ):
        raise ValueError(f"{path}: checkpoint.callbacks must list {{type, state}} objects")
    arrays.refuse_unused()
    return CheckpointState(
        dict(config), state if isinstance(state, dict) else {}, progress, schedule, kept
    )


def _source_path(path: str | os.PathLike[str]) -> Path:
    """``path`` to read from, taken as :func:`file_path` takes a path to write to (a bytes
    path too, so that a model saved to one loads from it)."""
    return Path(file_path(path))


@contextlib.contextmanager
def _open_regular(source: Path) -> Iterator[BinaryIO]:
    """``source`` opened for reading, if it is a regular file.

    A FIFO would block the read forever and a device such as ``/dev/zero`` never ends, so
    both are refused: first by :func:`os.stat`, then again on the opened descriptor (opened
    without blocking), in case the name was replaced in between. A missing file raises
    :class:`FileNotFoundError`, as :func:`open` does.
    """
    mode = os.stat(source).st_mode
    if stat.S_ISDIR(mode):
        raise ValueError(f"{source} is a folder, not a model file")
    _require_regular(source, mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(source, flags)
    try:
        _require_regular(source, os.fstat(descriptor).st_mode)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle


def _require_regular(source: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device, socket or other special file"
        raise ValueError(f"{source} is {kind}, not a regular file: a model file must be a file")


class _Invalid(Exception):
    """A problem with one member of the archive (the caller adds the file's name)."""


class _Archive:
    """The members of a model file, each read only when asked for, and only within bounds.

    Opening reads the zip directory alone and refuses unknown member names. :meth:`array`
    then reads one member: its declared size and its ``.npy`` header are checked against
    the caller's bound before a byte of data is inflated, and the data is read in chunks
    into an array of the declared size, so a member that inflates to more fails there.
    """

    def __init__(self, source: Path, handle: BinaryIO) -> None:
        self.source = source
        self.size = os.fstat(handle.fileno()).st_size
        #: Bytes the compressed members read so far inflate to (``_MAX_INFLATE_MULTIPLE``).
        self.inflated = 0
        try:
            few = zip_entries_at_most(handle, self.size, _MAX_MEMBERS)
        except OSError as error:
            raise self._damaged("the archive", error) from None
        if not few:
            raise self._invalid(f"more than {_MAX_MEMBERS} members")
        try:
            self.zip = zipfile.ZipFile(handle)
            members = self.zip.infolist()
        except Exception as error:
            raise self._damaged("the archive", error) from None
        if len(members) > _MAX_MEMBERS:
            raise self._invalid(f"{len(members)} members is too many")
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            name = info.filename
            key = name[: -len(".npy")]
            if not name.endswith(".npy") or not _known_member(key):
                raise self._invalid(f"unexpected member {name!r}")
            if key in self.members:
                raise self._invalid(f"member {name!r} appears twice")
            if info.flag_bits & 0x1:
                raise self._invalid(f"member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self._invalid(f"member {name!r} uses an unsupported compression")
            self.members[key] = info

    @property
    def budget(self) -> int:
        """Bytes that what the file holds may take once read: ``_MAX_INFLATE_MULTIPLE``
        times its size, at least ``_MIN_INFLATE_BUDGET``."""
        return max(_MIN_INFLATE_BUDGET, _MAX_INFLATE_MULTIPLE * self.size)

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def _invalid(self, message: str) -> ValueError:
        return ValueError(f"{self.source} is not a valid mlpzero model file: {message}")

    def _damaged(self, what: str, error: Exception) -> ValueError:
        # zipfile, zlib and numpy raise many types on damaged bytes (BadZipFile, zlib.error,
        # EOFError, struct.error, OverflowError, ...); every one means the same thing.
        return ValueError(
            f"{self.source} is not a valid mlpzero model file ({what} is damaged or not an "
            f".npz archive): {type(error).__name__}: {short_repr(str(error), 200)}"
        )

    def document(self) -> dict[str, Any]:
        """The metadata document: at most ``_MAX_METADATA_BYTES`` of JSON in a compressed
        member, ``_MAX_STORED_METADATA_BYTES`` in a stored one, nested at most
        ``_MAX_DEPTH`` deep, of this format and version."""
        info = self.members.get("metadata")
        if info is None:
            raise self._invalid("no metadata document")
        stored = info.compress_type == zipfile.ZIP_STORED
        limit = _MAX_STORED_METADATA_BYTES if stored else _MAX_METADATA_BYTES
        metadata = self.array("metadata", limit, "metadata", np.dtype(np.uint8))
        if metadata.ndim != 1:
            raise self._invalid("no metadata document")
        source = self.source
        try:
            text = str(metadata.data, "utf-8")
            del metadata
            cost = _parse_cost(text)
            if cost > max(_MIN_PARSE_BUDGET, _MAX_PARSE_MULTIPLE * len(text)):
                raise _Invalid(
                    f"the document's {len(text)} characters would take about {cost >> 20} MB "
                    f"to read, more than {_MAX_PARSE_MULTIPLE} times their size: far more "
                    "lists, objects, strings or numbers than mlpzero writes there"
                )
            document = json.loads(text, parse_constant=_no_constant)
        except _Invalid as error:
            raise ValueError(f"{source}: metadata: {error}") from None
        except (ValueError, RecursionError) as error:
            message = short_repr(str(error), 200)
            raise ValueError(
                f"{source}: the metadata document is not valid JSON: {message}"
            ) from None
        del text
        if not _nested_at_most(document, _MAX_DEPTH):
            raise ValueError(
                f"{source}: metadata: the document is nested more than {_MAX_DEPTH} deep"
            )
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"{source} is not an mlpzero model file (format is not {FORMAT!r})")
        version = document.get("format_version")
        if version != FORMAT_VERSION or not _is_int(version):
            raise ValueError(
                f"{source}: unsupported model format version {short_repr(version)}; this "
                f"mlpzero reads version {FORMAT_VERSION}"
            )
        return document

    def array(
        self, key: str, limit: int, field: str, dtype: np.dtype[Any] | None = None
    ) -> np.ndarray:
        """Member ``key`` as an array of at most ``limit`` values of ``dtype`` (any plain
        number of at most 8 bytes if None); a :class:`ValueError` naming the file and
        ``field`` otherwise."""
        info = self.members.get(key)
        if info is None:
            raise ValueError(f"{self.source}: {field}: the file has no member {key + '.npy'!r}")
        try:
            itemsize = 8 if dtype is None else dtype.itemsize
            allowed = min(_MAX_MEMBER_BYTES, _MAX_HEADER_BYTES + 16 + itemsize * limit)
            if info.file_size > allowed:
                raise _Invalid(
                    f"declares {info.file_size} bytes, more than the {allowed} allowed here "
                    f"(at most {limit} values)"
                )
            stored = info.compress_type == zipfile.ZIP_STORED
            if stored and (
                info.compress_size != info.file_size
                or info.header_offset + info.compress_size > self.size
            ):
                raise _Invalid(
                    f"declares {info.file_size} bytes stored as they are, more than the "
                    f"file's {self.size} bytes hold"
                )
            if not stored:
                if self.inflated + info.file_size > self.budget:
                    raise _Invalid(
                        f"inflates to {info.file_size} bytes: with the compressed members "
                        f"before it, more than the {self.budget} bytes a file of {self.size} "
                        f"bytes may inflate to ({_MAX_INFLATE_MULTIPLE} times its size, at "
                        f"least {_MIN_INFLATE_BUDGET}); a model's numbers compress far less"
                    )
                self.inflated += info.file_size
            with self.zip.open(info) as stream:
                return _read_npy(stream, info.file_size, limit, dtype)
        except _Invalid as error:
            raise ValueError(f"{self.source}: {field} (member {info.filename!r}) {error}") from None
        except Exception as error:
            raise self._damaged(f"member {info.filename!r}", error) from None


def zip_entries_at_most(handle: BinaryIO, size: int, limit: int) -> bool:
    """Whether the zip directory that :class:`zipfile.ZipFile` would read lists at most
    ``limit`` entries, counted from their fixed-size headers: zipfile makes an object of
    every entry before their number can be checked (a million tiny entries in 47 MB took
    400 MB). The directory is found as zipfile finds it; what this does not recognise is
    left to zipfile to refuse."""
    tail = min(size, _END_BYTES + 0xFFFF)
    handle.seek(size - tail)
    data = handle.read(tail)
    at = len(data) - _END_BYTES  # an end record without comment, else the last one
    if at < 0 or not (data[at : at + 4] == _END and data[-2:] == b"\0\0"):
        at = data.rfind(_END)
    if at < 0 or len(data) - at < _END_BYTES:
        return True
    end = size - tail + at
    directory = struct.unpack("<L", data[at + 12 : at + 16])[0]
    start = end - directory
    if end >= 76:  # a zip64 end record and its locator just before: its size counts
        handle.seek(end - 76)
        record = handle.read(76)
        if record[56:60] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            directory = struct.unpack("<Q", record[40:48])[0]
            start = end - 76 - directory
    position, read, count = start, 0, 0
    while read < directory:
        if count == limit:
            return False
        handle.seek(max(position, 0))
        header = handle.read(46)
        if position < 0 or len(header) < 46 or header[:4] != b"PK\x01\x02":
            return True
        step = 46 + sum(struct.unpack("<3H", header[28:34]))
        position, read, count = position + step, read + step, count + 1
    return True


def _known_member(key: str) -> bool:
    if key in _MEMBERS:
        return True
    prefix = next((p for p in _STATE_PREFIXES if key.startswith(p)), None)
    return prefix is not None and len(key) > len(prefix)


def npy_shape_problem(shape: tuple[Any, ...]) -> str | None:
    """What makes the ``shape`` of an ``.npy`` header unusable although NumPy's header
    reader takes it, as words to follow the shape (``"with a negative size"``); ``None``
    for a usable shape. NumPy takes booleans as sizes, and then fails on them with errors
    that name no file, and negative sizes too."""
    if any(isinstance(size, bool) for size in shape):
        return "with a size that is not an integer"
    if any(size < 0 for size in shape):
        return "with a negative size"
    return None


def _read_npy(
    stream: BinaryIO, size: int, limit: int, required: np.dtype[Any] | None
) -> np.ndarray:
    """One ``.npy`` member of ``size`` bytes: the header is checked (plain numbers, at most
    ``limit`` values, exactly the bytes declared) before any array is allocated. An array
    in the other byte order (written on a big-endian machine, say) is returned in this
    machine's, the same values."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        read_header = np.lib.format.read_array_header_1_0
    elif version == (2, 0):
        read_header = np.lib.format.read_array_header_2_0
    else:
        raise _Invalid(f"has .npy version {version}")
    shape, fortran, dtype = read_header(stream, max_header_size=_MAX_HEADER_BYTES)
    problem = npy_shape_problem(shape)
    if problem is not None:
        raise _Invalid(f"declares shape {shape}, {problem}")
    if not _plain_numbers(dtype):
        raise _Invalid(f"has dtype {dtype}; only plain numbers are allowed")
    native = dtype.newbyteorder("=")  # a file written on a machine of the other byte order
    if required is not None and native != required:
        raise _Invalid(f"has dtype {dtype}, not {required}")
    count = math.prod(shape)
    if count > limit:
        raise _Invalid(f"declares shape {shape}, more than the {limit} values allowed here")
    data_bytes = size - stream.tell()
    if count * dtype.itemsize != data_bytes:
        raise _Invalid(f"declares shape {shape} but holds {data_bytes} bytes of data")
    flat = np.empty(count, dtype=dtype)
    buffer = memoryview(flat.view(np.uint8))
    filled = 0
    while filled < len(buffer):
        got = stream.readinto(buffer[filled : filled + _READ_CHUNK])
        if not got:
            raise _Invalid(f"ends after {filled} of its {data_bytes} bytes of data")
        filled += got
    if stream.read(1):  # also makes zipfile check the CRC
        raise _Invalid(f"holds more than the {data_bytes} bytes of data it declares")
    if not dtype.isnative:  # swapped in place: the values, in this machine's order
        flat = flat.byteswap(inplace=True).view(native)
    return flat.reshape(shape, order="F" if fortran else "C")


def _plain_numbers(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` holds plain numbers (booleans, integers, floats) of at most 8
    bytes, the only arrays a model file holds: no objects, text, dates or structures."""
    return (
        not dtype.hasobject
        and dtype.kind in "biuf"
        and dtype.fields is None
        and dtype.subdtype is None
        and dtype.itemsize <= 8
    )


def _nested_at_most(value: Any, limit: int) -> bool:
    """Whether ``value`` (JSON) nests lists and objects at most ``limit`` deep (no recursion).

    It walks the document with one iterator per open level, so it takes memory for the
    depth alone: a stack of every value still to visit would hold a tuple per number of a
    long history, several times the document's own memory.
    """
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, dict):
                children: Any = item.values()
            elif isinstance(item, list):
                children = item
            else:
                continue
            if len(stack) > limit:
                return False
            stack.append(iter(children))
            break
        else:
            stack.pop()
    return True


def _parse_cost(text: str) -> int:
    """About the most memory :func:`json.loads` and the checks after it take for ``text``,
    the objects of one of its values each counted from the characters that can begin it
    (those within strings too, which only overcounts): a number or other value after
    every ``,`` and ``:`` (its object, its place in a list, the float a history makes of
    an integer and the model's copy of the list), a string per two ``"``, a list per
    ``[``, an object per ``{`` (a small dict is a few hundred bytes)."""
    values = text.count(",") + text.count(":") + 1
    return 64 * values + 32 * text.count('"') + 96 * text.count("[") + 320 * text.count("{")


def _no_constant(name: str) -> None:
    """mlpzero writes strict JSON: ``NaN`` and ``Infinity`` mean the file was altered."""
    raise ValueError(f"{name} is not allowed in a model file")


class _StateArrays:
    """Undo :func:`_split_arrays`: the checkpoint's arrays read back into its states.

    Every array of a checkpoint (an optimizer buffer, a callback's best weights) is at most
    parameter-sized, so each is read with the parameter count as its limit, and all of them
    together within :func:`_check_state_bytes`. Each member is referred to by one state
    exactly: a second reference, or a member that no state refers to, is refused.
    """

    def __init__(self, path: Any, archive: _Archive, params: np.ndarray) -> None:
        self.path, self.archive, self.params = path, archive, params
        self.read: set[str] = set()
        self.nbytes = 0

    def join(self, state: Any, field: str) -> Any:
        if isinstance(state, dict):
            if set(state) == {"__array__"}:
                key = state["__array__"]
                if not isinstance(key, str) or not key.startswith(_STATE_PREFIXES):
                    raise ValueError(
                        f"{self.path}: {field} refers to an invalid array {short_repr(key)}"
                    )
                if key in self.read:
                    raise ValueError(
                        f"{self.path}: {field} refers to the array {key!r} a second time; "
                        "each state array belongs to one state"
                    )
                self.read.add(key)
                array = self.archive.array(key, self.params.size, field)
                self.nbytes += array.nbytes
                _check_state_bytes(self.nbytes, self.params, f"{self.path}: ")
                return array
            return {k: self.join(v, f"{field}.{_cut(k, 60)}") for k, v in state.items()}
        if isinstance(state, list):
            return [self.join(v, f"{field}[{i}]") for i, v in enumerate(state)]
        return state

    def refuse_unused(self) -> None:
        unused = sorted(
            key
            for key in self.archive.members
            if key.startswith(_STATE_PREFIXES) and key not in self.read
        )
        if unused:
            raise ValueError(
                f"{self.path}: checkpoint: member {unused[0] + '.npy'!r} is not referred to by "
                "any state"
            )


class _Checker:
    """Field checks that raise ``ValueError("<file>: <field> ...")``."""

    def __init__(self, path: Any, section: str) -> None:
        self.path, self.section = path, section

    def fail(self, key: str, message: str) -> None:
        raise ValueError(f"{self.path}: {self.section}.{key} {message}")

    def mapping(self, parent: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.fail(key, f"must be an object, got {short_repr(value)}")
        return value

    def name(self, value: Any, key: str, known: Mapping[str, Any] | tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in known:
            self.fail(key, f"must be one of {sorted(known)}, got {short_repr(value)}")
        return value


def _record(path: Any, document: dict[str, Any], archive: _Archive) -> ModelRecord:
    check = _Checker(path, "network")
    network_doc = check.mapping(document, "network")
    sizes = network_doc.get("layer_sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(_is_int(n) and 1 <= n <= 2**31 for n in sizes)
    ):
        check.fail(
            "layer_sizes", f"must be a list of at least two positive sizes, got {short_repr(sizes)}"
        )
    if (len(sizes) - 1) * _LAYER_BYTES > archive.budget:
        check.fail(
            "layer_sizes",
            f"lists {len(sizes) - 1} layers, more than a file of {archive.size} bytes may "
            f"declare: building them would take about {_LAYER_BYTES} bytes each, beyond the "
            f"{archive.budget} its contents may take ({_MAX_INFLATE_MULTIPLE} times its size, "
            f"at least {_MIN_INFLATE_BUDGET})",
        )
    dtype = check.name(network_doc.get("dtype"), "dtype", ("float32", "float64"))
    layer_activations = network_doc.get("activations")
    if not isinstance(layer_activations, list) or len(layer_activations) != len(sizes) - 2:
        check.fail(
            "activations",
            f"must list one activation per hidden layer "
            f"({len(sizes) - 2}), got {short_repr(layer_activations)}",
        )
    resolved = [
        _activation(path, a, f"network.activations[{i}]") for i, a in enumerate(layer_activations)
    ]

    expected = sum(a * b + b for a, b in pairwise(sizes))
    params = archive.array("params", expected, "params", np.dtype(dtype))
    if params.ndim != 1 or params.dtype != np.dtype(dtype) or params.size != expected:
        raise ValueError(
            f"{path}: parameters have shape {params.shape} and dtype {params.dtype}, but "
            f"layer sizes {sizes} in {dtype} need shape ({expected},)"
        )
    if not np.isfinite(params).all():
        raise ValueError(f"{path}: the parameters contain NaN or infinity")
    standardize, standardizer = _standardization(
        path, document.get("model"), archive, sizes[0], dtype
    )

    loss = document.get("loss")
    if isinstance(loss, dict):
        loss_name = _loss_config(path, loss, "loss")
    else:
        loss_name = _Checker(path, "file").name(loss, "loss", _losses.LOSSES)
    encoder = _encoder(path, document.get("target"), loss_name, sizes[-1])
    settings = _settings(path, document.get("model"), sizes, dtype)
    declared = settings["loss"]
    if declared != "auto" and loss_entry(declared) != loss_entry(loss):
        raise ValueError(
            f"{path}: model.loss is {short_repr(declared)}, but the file's loss is "
            f"{short_repr(loss)}"
        )
    if standardize is not None:
        settings["standardize"] = standardize
    feature_names = document.get("feature_names")
    _check_feature_names(feature_names, sizes[0], f"{path}: ")
    history = _history(path, document.get("history"))
    rng = _generator(path, document.get("random_state"))
    training = document.get("training")
    if training is not None and not isinstance(training, dict):
        raise ValueError(f"{path}: training must be an object, got {short_repr(training)}")
    epochs = None if training is None else training.get("epochs")
    if epochs is not None and (type(epochs) is not int or epochs < 0):
        raise ValueError(
            f"{path}: training.epochs must be a whole number >= 0, got {short_repr(epochs)}"
        )

    return ModelRecord(
        settings=settings,
        layer_sizes=tuple(sizes),
        activations=tuple(resolved),
        params=params,
        loss=loss,
        encoder=encoder,
        history=history,
        random_state=rng.bit_generator.state,
        feature_names=None if feature_names is None else list(feature_names),
        training=training,
        standardizer=standardizer,
    )


def _check_feature_names(names: Any, n_features: int, where: str) -> None:
    """Refuse feature names that are not ``n_features`` distinct strings (columns are
    matched by name at prediction, so a repeated name is ambiguous)."""
    if names is None:
        return
    if (
        not isinstance(names, (list, tuple))
        or len(names) != n_features
        or not all(isinstance(n, str) for n in names)
    ):
        raise ValueError(
            f"{where}feature_names must be {n_features} strings, got {short_repr(names)}"
        )
    if len(set(names)) != len(names):
        repeated, times = Counter(names).most_common(1)[0]
        raise ValueError(
            f"{where}feature_names must be distinct (columns are matched by name), but "
            f"{short_repr(repeated)} appears {times} times"
        )


def _standardization(
    path: Any, settings: Any, archive: _Archive, n_features: int, dtype: str
) -> tuple[bool | None, Standardizer | None]:
    """The ``standardize`` setting (None when the file predates it) and the statistics,
    read from ``archive``: present exactly when the setting is true, float64, one finite
    value per feature, the scale > 0, and in the model's ``dtype`` a finite mean and a
    normal scale (as predicting needs, and an export writes)."""
    flag = settings.get("standardize") if isinstance(settings, dict) else None
    if flag is not None and not isinstance(flag, bool):
        raise ValueError(f"{path}: model.standardize must be true or false, got {flag!r}")
    found = {
        key: archive.array(key, n_features, key)
        for key in _STANDARDIZE_MEMBERS
        if key in archive.members
    }
    if not flag:
        if found:
            raise ValueError(f"{path}: {sorted(found)[0]} in a model without standardize")
        return flag, None
    for key in _STANDARDIZE_MEMBERS:
        value = found.get(key)
        if value is None:
            raise ValueError(f"{path}: {key} is missing from a model with standardize=True")
        if value.dtype != np.float64 or value.shape != (n_features,):
            raise ValueError(
                f"{path}: {key} has shape {value.shape} and dtype {value.dtype}, but the "
                f"model needs float64 of shape ({n_features},)"
            )
        if not np.isfinite(value).all():
            raise ValueError(f"{path}: {key} contains NaN or infinity")
    mean, scale = (found[key] for key in _STANDARDIZE_MEMBERS)
    if not (scale > 0).all():
        raise ValueError(f"{path}: standardize.scale must be > 0, got {float(scale.min())!r}")
    standardizer = Standardizer(mean, scale)
    try:
        standardizer.statistics_in(dtype)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return flag, standardizer


def _activation(path: Any, config: Any, where: str) -> _activations.Activation:
    try:
        if not isinstance(config, (str, dict)):
            raise TypeError(f"expected a name or an object, got {short_repr(config)}")
        return _activations.get(config)
    except (TypeError, ValueError, OverflowError) as error:  # it may echo the config whole
        raise ValueError(f"{path}: {where}: {_cut(str(error), 200)}") from None


def _settings(path: Any, settings: Any, sizes: list[int], dtype: str) -> dict[str, Any]:
    check = _Checker(path, "model")
    if not isinstance(settings, dict):
        raise ValueError(f"{path}: model settings must be an object, got {short_repr(settings)}")
    hidden = settings.get("hidden")
    if hidden != sizes[1:-1]:
        check.fail("hidden", f"is {short_repr(hidden)} but the layer sizes say {sizes[1:-1]}")
    if settings.get("dtype") != dtype:
        check.fail("dtype", f"is {short_repr(settings.get('dtype'))} but the network is {dtype}")
    activation = settings.get("activation")
    if isinstance(activation, list):
        for i, a in enumerate(activation):
            _activation(path, a, f"model.activation[{i}]")
    else:
        _activation(path, activation, "model.activation")
    loss = settings.get("loss")
    if isinstance(loss, dict):
        _loss_config(path, loss, "model.loss")
    elif loss != "auto":  # files written before aliases were saved by name hold an alias
        check.name(loss, "loss", {**_losses.LOSSES, **_losses.ALIASES})
    init = settings.get("init")
    if init is not None:
        check.name(init, "init", _initializers.INITIALIZERS)
    seed = settings.get("seed")
    if seed is not None and (not _is_int(seed) or seed < 0):
        check.fail("seed", f"must be an integer >= 0 or null, got {short_repr(seed)}")
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
            isinstance(r, (int, float)) and not isinstance(r, bool) and 0 <= r < 1 for r in dropout
        ):
            check.fail("dropout", f"must be a list of rates in [0, 1), got {short_repr(dropout)}")
        settings_out["dropout"] = dropout  # MLP checks the rates themselves
    return settings_out


def _loss_config(path: Any, config: dict[str, Any], where: str) -> str:
    """Check a loss given by its config (``where`` names the field); return its name.

    The name is one of mlpzero's losses and every other key one of its
    hyper-parameters; ``epsilon`` is a number in ``[0, 0.5)`` (not NaN or infinite).
    """
    name = config.get("name")
    if not isinstance(name, str) or name not in _losses.LOSSES:
        raise ValueError(
            f"{path}: {where}.name must be one of {sorted(_losses.LOSSES)}, got {short_repr(name)}"
        )
    known = ("name", *_losses.LOSSES[name].hyperparameters)
    unknown = [key for key in config if key not in known]
    if unknown:
        raise ValueError(
            f"{path}: {where} has the key {short_repr(unknown[0])}, which the loss {name!r} "
            f"does not take; its keys are {list(known)}"
        )
    if "epsilon" in config:
        epsilon = config["epsilon"]
        if type(epsilon) not in (int, float) or not 0 <= epsilon < 0.5:  # NaN fails too
            raise ValueError(
                f"{path}: {where}.epsilon must be a number with 0 <= epsilon < 0.5, "
                f"got {short_repr(epsilon)}"
            )
    try:  # the loss's own checks, should it have others
        _losses.get(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {where}: {error}") from None
    return name


def _encoder(path: Any, target: Any, loss_name: str, n_outputs: int) -> TargetEncoder:
    check = _Checker(path, "target")
    if not isinstance(target, dict):
        raise ValueError(f"{path}: target must be an object, got {short_repr(target)}")
    task = check.name(target.get("task"), "task", TASKS)
    if not loss_fits_task(loss_name, task):
        raise ValueError(f"{path}: loss {loss_name!r} does not fit the task {task!r}")
    if target.get("n_outputs") != n_outputs:
        check.fail(
            "n_outputs",
            f"is {short_repr(target.get('n_outputs'))} but the network has {n_outputs} outputs",
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
        raise ValueError(f"{path}: target.classes must be an object, got {short_repr(entry)}")
    kind = check.name(entry.get("kind"), "kind", _CLASS_KINDS)
    values = entry.get("values")
    python_type = {"bool": bool, "int": int, "float": (int, float), "str": str}[kind]
    if not isinstance(values, list) or not all(
        isinstance(v, python_type) and (kind == "bool" or not isinstance(v, bool)) for v in values
    ):
        check.fail("values", f"must be a list of {kind} labels, got {short_repr(values)}")
    if kind == "str":
        check_label_lengths(values, f"{path}: target.classes.values: ")
    dtype = _plain_dtype(entry.get("dtype"))
    if dtype is None or dtype.kind not in _CLASS_KINDS[kind]:
        check.fail("dtype", f"is not a {kind} dtype: {short_repr(entry.get('dtype'))}")
    if dtype.kind == "U":
        # A string dtype wider than the longest label would only make every prediction
        # array wider (a "<U100000000" turns a few rows into gigabytes): narrow it.
        dtype = np.dtype(f"{dtype.byteorder}U{max([1, *map(len, values)])}".lstrip("="))
    try:
        classes = np.array(values, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: target.classes do not fit dtype {dtype}: {error}") from None
    if kind == "float" and not np.isfinite(classes).all():
        check.fail("values", "must be finite")
    if classes.tolist() != values:
        check.fail("values", f"change when stored as {dtype}")
    return classes


def _history(path: Any, entry: Any) -> dict[str, list[float]]:
    """The per-epoch metrics: lists of numbers, none longer than ``loss``, returned with
    one value per epoch. A file written before every list held one value per epoch has
    fewer for a metric that some ``fit`` did not measure, without saying which epochs
    they were: they are taken to be the last ones (validation data first given to a
    later ``fit``), NaN before them, so that the epochs of a further ``fit`` line up."""
    history: dict[str, list[float]] = {}
    if entry is None:
        return history
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: history must be an object, got {short_repr(entry)}")
    epochs = entry.get("loss", [])
    if not isinstance(epochs, list):
        raise ValueError(f"{path}: history['loss'] must be a list of numbers")
    for key, values in entry.items():
        if not isinstance(values, list) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            raise ValueError(f"{path}: history[{short_repr(key)}] must be a list of numbers")
        if len(values) > len(epochs):
            raise ValueError(
                f"{path}: history[{short_repr(key)}] has {len(values)} values, more than the "
                f"{len(epochs)} epochs recorded in history['loss']"
            )
        try:
            history[key] = [math.nan if v is None else float(v) for v in values]
        except OverflowError:
            raise ValueError(
                f"{path}: history[{short_repr(key)}] holds a number too large for a float"
            ) from None
    # Each NaN added costs memory that the file does not hold: at most as many as the
    # values it does hold (an old file pads a few validation metrics, never more).
    missing = sum(len(epochs) - len(values) for values in history.values())
    held = sum(len(values) for values in history.values())
    if missing > held:
        raise ValueError(
            f"{path}: history: its metrics hold {held} values, and lining them up with the "
            f"{len(epochs)} epochs of history['loss'] would take {missing} more"
        )
    for key, values in history.items():
        if len(values) < len(epochs):
            history[key] = [math.nan] * (len(epochs) - len(values)) + values
    return history


def _plain_dtype(spec: Any) -> np.dtype[Any] | None:
    """The dtype a short string such as ``"<U5"`` or ``"<i8"`` names; None for anything else
    (a dict, a subarray such as ``"(1000000000,)<U5"``, a structure, an object)."""
    if not isinstance(spec, str) or len(spec) > 16:
        return None
    try:
        dtype = np.dtype(spec)
    except Exception:  # NumPy raises TypeError, ValueError, OverflowError... on bad specs
        return None
    if dtype.fields is not None or dtype.subdtype is not None:
        return None
    return dtype


def generator_from_state(state: Mapping[str, Any]) -> np.random.Generator:
    """A new :class:`numpy.random.Generator` in ``state`` (as ``bit_generator.state`` is).

    Raises :class:`ValueError` unless ``state`` is the state of one of NumPy's bit
    generators (PCG64, PCG64DXSM, MT19937, Philox, SFC64).
    """
    if not isinstance(state, Mapping) or state.get("bit_generator") not in _RNG_KINDS:
        raise ValueError(
            f"random_state must be a NumPy bit generator state "
            f"({', '.join(_RNG_KINDS)}), got {short_repr(state)}"
        )
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = dict(state)
    except (TypeError, ValueError, LookupError, OverflowError) as error:
        raise ValueError(f"random_state is not valid: {short_repr(error, 200)}") from None
    return np.random.Generator(bit_generator)


def _generator(path: Any, state: Any) -> np.random.Generator:
    try:
        return generator_from_state(state)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (with ``...``), for error messages."""
    return _cut(repr(value), limit)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (with ``...``): a file's text in an error
    message (a name, a key) may be megabytes long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
