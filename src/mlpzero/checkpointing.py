"""Checkpoints: writing where training stands, and putting it back to resume.

``fit(..., checkpoint=PATH)`` adds a :class:`CheckpointWriter` that writes, at the end of
epochs, a model file (:mod:`mlpzero.io`) holding also the optimizer's, the schedule's and
the stateful callbacks' state and the progress through the ``fit``.
``fit(..., resume=PATH)`` reads it back with :func:`load_checkpoint`, refuses a run that
does not match (:func:`check_callbacks`, :func:`restore_optimizer`,
:func:`restore_schedule`) and puts the callbacks' state back once training has begun
(:class:`CallbackRestorer`). With the same data and options, on the same backend, a
resumed run ends with the weights of an uninterrupted one, bit for bit;
:func:`data_signature` lets a resume refuse other data (:func:`check_same_data`).

This module knows the model only through two methods: ``model.to_record()`` (a
:class:`~mlpzero.io.ModelRecord`) and ``model.stop_training``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed as _distributed
from . import optimizers as _optimizers
from .callbacks import Callback, SettingsChanged
from .io import CheckpointState, ModelRecord, jsonable, read_record, short_repr, write_record
from .optimizers import Optimizer, check_dtype_range
from .schedules import Schedule
from .validation import dense_rows, is_sparse

__all__ = [
    "CallbackRestorer",
    "CheckpointWriter",
    "check_callbacks",
    "check_same_data",
    "data_signature",
    "load_checkpoint",
    "restore_optimizer",
    "restore_schedule",
    "save_checkpoint",
    "stateful",
]


def save_checkpoint(
    model: Any,
    path: str | os.PathLike[str],
    optimizer: Optimizer,
    progress: Mapping[str, Any],
    schedule: Schedule | None = None,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Write a checkpoint: the model, ``optimizer``'s and ``schedule``'s state, ``progress``.

    ``progress`` holds ``start_epoch`` (the history length when the interrupted ``fit``
    began), ``epochs`` (how many epochs that ``fit`` was asked for) and
    ``fit_random_state`` (the model's random state where that ``fit`` started drawing:
    the validation split, then the shuffles and dropout masks), and may hold ``finished``:
    ``"epochs"`` when that ``fit`` ran all its epochs, ``"restored"`` when it did and a
    callback then put back other parameters (the best weights), ``"stopped"`` when a
    callback stopped it (early stopping), absent or None while it runs.
    """
    state = CheckpointState(
        optimizer_config=optimizer.config,
        optimizer_state=dict(optimizer.state_dict()),
        progress=dict(progress),
        schedule_state=None if schedule is None else schedule.state_dict(),
        callback_states=[
            {"type": type(c).__name__, "state": c.state_dict()} for c in stateful(callbacks)
        ],
    )
    record = dataclasses.replace(model.to_record(), checkpoint=state)
    return write_record(record, path)


def load_checkpoint(path: str | os.PathLike[str]) -> ModelRecord:
    """Read a checkpoint written by ``fit(..., checkpoint=PATH)``.

    The record's :attr:`~mlpzero.io.ModelRecord.checkpoint` holds the training state;
    ``MLP.from_record`` makes the model. A model file without training state is refused.
    """
    return read_record(path, checkpoint=True)


#: Bytes of ``X`` (in the model's dtype) per block hashed on its own by
#: :func:`data_signature`; the blocks depend on the shape alone, not on the ranks. The
#: signature depends on it: another value would make every saved signature differ.
SIGNATURE_BLOCK_BYTES = 4 << 20


def data_signature(
    data: Any, dtype: Any, comm: _distributed.Communicator = _distributed.LOCAL
) -> dict[str, str]:
    """A short text per part of a fit's checked data (``X``, ``y``, ``sample_weight``,
    ``validation_data``; see :class:`~mlpzero.preparation.CheckedData`), each naming its
    size and the SHA-256 of its values, as the fit reads them.

    ``X`` is hashed in the model's ``dtype``, C-ordered, a block of about
    :data:`SIGNATURE_BLOCK_BYTES` at a time (a memory-mapped ``X`` is read once more, a
    block at a time). A sparse ``X`` is hashed by its stored values, their columns and the
    row lengths, zeros dropped and columns sorted; it signs otherwise than the same values
    dense. Numbers are hashed with ``-0.0`` as ``0.0``; targets as 64-bit integers, or as
    floats of ``dtype``, or as text, a column ``(n, 1)`` as ``(n,)``; weights as float64.
    So the same data given in another container or dtype that trains alike signs alike.
    A distributed fit hashes each rank's contiguous share of the blocks and gathers them:
    the signature is the one-process one, whatever the number of ranks.
    """
    dtype = np.dtype(dtype)
    signature = {
        "X": _features_signature(data.X, dtype, comm),
        "y": _targets_signature(data.y, dtype),
        "sample_weight": "None",
        "validation_data": "None",
    }
    if data.weights is not None:
        signature["sample_weight"] = _targets_signature(data.weights * data.weight_scale)
    if data.validation is not None:
        X_val, y_val, w_val = data.validation
        parts = [_features_signature(X_val, dtype, comm), _targets_signature(y_val, dtype)]
        parts.append("None" if w_val is None else _targets_signature(w_val))
        signature["validation_data"] = "; ".join(parts)
    return signature


def check_same_data(
    saved: Mapping[str, str] | None,
    given: Mapping[str, str] | None,
    path: Any,
    generator: bool = False,
) -> None:
    """Refuse to resume on other data than the checkpoint's fit trained on.

    ``saved`` is the checkpoint's :func:`data_signature` (None in a checkpoint of a
    generator's fit, or of a version before signatures: nothing to compare), ``given``
    this fit's (None for a generator). ``generator``: the checkpoint's fit was given a
    batch generator (``progress["batch_generator"]``), so a fit given arrays is refused."""
    if saved is None:
        if generator and given is not None:
            raise ValueError(
                f"resume: {path} was trained on a batch generator, but fit was given arrays; "
                "a resumed fit continues the same run on the same data"
            )
        return
    if given is None:
        raise ValueError(
            f"resume: {path} was trained on arrays, but fit was given a batch generator; "
            "a resumed fit continues the same run on the same data"
        )
    differ = [key for key in sorted(set(saved) | set(given)) if saved.get(key) != given.get(key)]
    if differ:
        shown = "; ".join(
            f"{key} (in the checkpoint: {saved.get(key, 'missing')}; given: "
            f"{given.get(key, 'missing')})"
            for key in differ
        )
        raise ValueError(
            f"resume: {path} was trained on other data: {shown}. A resumed fit continues "
            "the same run on the same data; to train on new data, load the model and fit "
            "it without resume"
        )


def _features_signature(X: Any, dtype: np.dtype, comm: _distributed.Communicator) -> str:
    n, width = X.shape
    sparse = is_sparse(X)
    # stored values and their column indices, or whole dense rows
    row_bytes = (X.nnz / max(1, n)) * (dtype.itemsize + 8) if sparse else width * dtype.itemsize
    rows = max(1, int(SIGNATURE_BLOCK_BYTES // max(1.0, row_bytes)))
    blocks = [(start, min(start + rows, n)) for start in range(0, n, rows)]
    first, last = _distributed.share(len(blocks), comm.rank, comm.size)

    def hash_blocks() -> list[bytes]:
        return [_block_digest(X, start, stop, dtype) for start, stop in blocks[first:last]]

    if comm.size == 1:
        digests = hash_blocks()
    else:  # every rank's share, in block order
        shares = _distributed.gathered(comm, hash_blocks, "hash its rows of X")
        digests = [digest for share in shares for digest in share]
    digest = hashlib.sha256(b"".join(digests)).hexdigest()[:16]
    kind = "sparse " if sparse else ""
    return f"{n} rows x {width} features, {kind}{dtype.name} sha256:{digest}"


def _block_digest(X: Any, start: int, stop: int, dtype: np.dtype) -> bytes:
    digest = hashlib.sha256()
    if is_sparse(X):
        block = X[start:stop].tocsr().astype(dtype)  # a copy of these rows: ours to tidy
        block.sum_duplicates()  # sorts the columns too
        block.eliminate_zeros()
        digest.update((block.data + dtype.type(0)).tobytes())
        digest.update(block.indices.astype(np.int64).tobytes())
        digest.update(np.diff(block.indptr).astype(np.int64).tobytes())
    else:
        digest.update((dense_rows(X, start, stop, dtype) + dtype.type(0)).tobytes())
    return digest.digest()


def _targets_signature(values: np.ndarray, dtype: Any = np.float64) -> str:
    """``y`` (or weights) as text: integers as int64, floats in ``dtype``, others as text."""
    values, dtype = np.asarray(values), np.dtype(dtype)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.dtype.kind in "biu":
        data = values.astype(np.int64).tobytes()
    elif values.dtype.kind == "f":
        data = (values.astype(dtype) + dtype.type(0)).tobytes()
    else:  # labels as text, whatever their string type, separated by NUL
        data = "\0".join(str(value) for value in values.ravel().tolist()).encode()
    shape = "x".join(map(str, values.shape))
    return f"{shape} sha256:{hashlib.sha256(data).hexdigest()[:16]}"


#: What restoring a crafted state may raise besides ValueError; each means a bad file.
_STATE_ERRORS = (TypeError, ValueError, LookupError, ArithmeticError, RecursionError)
#: Step counts beyond this lose precision in the bias corrections (float64 mantissa).
_MAX_ITERATIONS = 1 << 53


def restore_optimizer(
    optimizer: Optimizer, state: CheckpointState, path: Any, params: np.ndarray
) -> None:
    """Load the checkpoint's optimizer state into ``optimizer`` (same kind required).

    Every state buffer must be a finite vector of ``params``' size and dtype (a wrong one
    would fail only in the first step) and the step count an integer in ``[0, 2**53]``.
    """
    saved = state.optimizer_config.get("name")
    if saved != optimizer.name:
        raise ValueError(
            f"resume: {path} was trained with optimizer {short_repr(saved)}, but fit was given "
            f"{optimizer.name!r}"
        )
    saved_state = state.optimizer_state
    _check_same_hyperparameters(optimizer, saved_state.get("hyperparameters"), path)
    iterations = saved_state.get("iterations", 0)
    if not isinstance(iterations, int) or not 0 <= iterations <= _MAX_ITERATIONS:
        raise ValueError(
            f"resume: {path}: checkpoint.optimizer.state.iterations must be an integer in "
            f"[0, 2**53], got {short_repr(iterations)}"
        )
    buffers = saved_state.get("state") or {}
    for key, buffer in buffers.items() if isinstance(buffers, dict) else ():
        shown = key if len(key) <= 60 else f"{key[:57]}..."  # a crafted key may be long
        field = f"checkpoint.optimizer.state.state.{shown}"
        if not isinstance(buffer, np.ndarray) or buffer.shape != params.shape:
            raise ValueError(
                f"resume: {path}: {field} must be an array of shape {params.shape}, got "
                f"{short_repr(buffer)}"
            )
        if buffer.dtype != params.dtype:
            raise ValueError(
                f"resume: {path}: {field} must hold {params.dtype}, as the parameters do, got "
                f"dtype {buffer.dtype}"
            )
        if not np.isfinite(buffer).all():
            raise ValueError(f"resume: {path}: {field} must hold finite numbers")
    try:
        optimizer.load_state_dict(saved_state)
    except _STATE_ERRORS as error:
        raise ValueError(
            f"resume: {path}: the optimizer state is not valid: {short_repr(error, 200)}"
        ) from None
    try:
        check_dtype_range(optimizer, params.dtype)
    except ValueError as error:
        raise ValueError(f"resume: {path}: {error}") from None


def _check_same_hyperparameters(optimizer: Optimizer, saved: Any, path: Any) -> None:
    """Refuse a state whose hyper-parameters (all but the learning rate, which a run may
    lower) are not those of the fit's optimizer: loading it would replace them. One missing
    from the file (a file from before it existed) ran with its default."""
    if not isinstance(saved, dict):
        return  # refused by the optimizer when it loads the state
    try:
        defaults = _optimizers.get(optimizer.name).config
    except (TypeError, ValueError):  # an optimizer of the user's: compared as saved
        defaults = {}
    saved, given = jsonable({**defaults, **saved}), jsonable(optimizer.config)
    for key in sorted((set(saved) | set(given)) - {"name", "learning_rate"}):
        if saved.get(key) != given.get(key):
            raise ValueError(
                f"resume: {path}: checkpoint.optimizer.state.hyperparameters has "
                f"{key}={short_repr(saved.get(key))}, but the optimizer of the run (as fit "
                f"was given it) has {key}={short_repr(given.get(key))}"
            )


def restore_schedule(schedule: Schedule | None, state: CheckpointState, path: Any) -> None:
    """Load the checkpoint's schedule state into ``schedule`` (same schedule required)."""
    saved = state.schedule_state
    if schedule is None or saved is None:
        return
    if saved.get("config") != jsonable(schedule.config):
        raise ValueError(
            f"resume: {path} was trained with schedule {short_repr(saved.get('config'))}, but "
            f"fit was given {short_repr(schedule.config)}"
        )
    try:
        schedule.load_state_dict(saved)
    except _STATE_ERRORS as error:
        raise ValueError(
            f"resume: {path}: the schedule state is not valid: {short_repr(error, 200)}"
        ) from None


def stateful(callbacks: Sequence[Any]) -> list[Any]:
    """The callbacks whose running state a checkpoint keeps (those with ``state_dict``)."""
    return [c for c in callbacks if hasattr(c, "state_dict") and hasattr(c, "load_state_dict")]


def check_callbacks(
    callbacks: Sequence[Any], state: CheckpointState, path: Any, model: Any
) -> None:
    """Refuse to resume with other stateful callbacks than the interrupted run had, or
    from a callback state they cannot load.

    Each state is loaded once here, with ``model`` (the checkpoint's) as the callback's
    model, so a bad state fails before the first epoch rather than when it is used;
    the callbacks reset themselves when training begins, and :class:`CallbackRestorer`
    loads the states again then.
    """
    kept = stateful(callbacks)
    given = [type(c).__name__ for c in kept]
    saved = [entry["type"] for entry in state.callback_states]
    if given != saved:
        raise ValueError(
            f"resume: {path} was trained with the callbacks {short_repr(saved, 200)}, but fit was "
            f"given {given}"
        )
    for callback, entry in zip(kept, state.callback_states, strict=True):
        previous = callback.model
        callback.set_model(model)
        try:
            _load_callback_state(callback, entry, path)
        finally:
            callback.model = previous


def _load_callback_state(callback: Any, entry: Mapping[str, Any], path: Any) -> None:
    try:
        callback.load_state_dict(entry["state"])
    except SettingsChanged as error:
        raise ValueError(f"resume: {path}: {error}") from None
    except _STATE_ERRORS as error:
        raise ValueError(
            f"resume: {path}: the state of {entry['type']} is not valid: {short_repr(error, 200)}"
        ) from None


class CallbackRestorer(Callback):
    """Puts the checkpoint's callback states back once training has begun.

    Callbacks reset themselves in ``on_train_begin``; this one comes after them in the
    list, so its ``on_train_begin`` restores what the interrupted run had reached.
    """

    def __init__(self, callbacks: Sequence[Any], state: CheckpointState, path: Any) -> None:
        self.callbacks, self.state, self.path = stateful(callbacks), state, path

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        for callback, entry in zip(self.callbacks, self.state.callback_states, strict=True):
            _load_callback_state(callback, entry, self.path)


class CheckpointWriter(Callback):
    """Writes a checkpoint at the end of an epoch (used by ``fit(checkpoint=PATH)``).

    A write costs a few milliseconds (most of it making the file durable), which would
    dominate small full-batch epochs; so it happens at most every ``interval`` seconds,
    and always at ``final_epoch`` and when training is asked to stop (early stopping).
    A run killed in between resumes from the last write, exactly.

    When the run has finished (all its epochs, or stopped by a callback) the last write
    waits for the end of training, after the callbacks' own ends (such as restoring the
    best weights), and the checkpoint says so (``progress["finished"]``): resuming it
    gives that finished model. A run stopped by a callback trains no more; one that ran
    all its epochs continues when a resumed fit asks for more, unless a callback's end
    put back other parameters than its last epoch ended with (``"restored"``): it cannot
    then continue as one uninterrupted run would, and such a resume is refused.
    """

    def __init__(
        self,
        path: Any,
        optimizer: Optimizer,
        schedule: Schedule | None,
        progress: Mapping[str, Any],
        interval: float = 0.0,
        final_epoch: int | None = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        self.path, self.optimizer, self.schedule = path, optimizer, schedule
        self.progress, self.callbacks = dict(progress), list(callbacks)
        self.interval, self.final_epoch = float(interval), final_epoch
        self.last_write = time.monotonic()
        self.last_epoch_params: np.ndarray | None = None  # as the final epoch left them

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        now = time.monotonic()
        due = now - self.last_write >= self.interval
        if self.model.stop_training:
            self.progress["finished"] = "stopped"
        elif epoch == self.final_epoch:
            self.progress["finished"] = "epochs"
            self.last_epoch_params = self.model.network.params.copy()
        if due and not self.progress.get("finished"):  # a finished run: at on_train_end
            self._write()
            self.last_write = now

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        # A stop that another rank's callbacks asked for reaches this rank's model after
        # the epoch's callbacks have run (mlpzero.distributed.any_rank).
        stopped = self.model.stop_training and not self.model.history.interrupted
        if stopped and not self.progress.get("finished"):
            self.progress["finished"] = "stopped"
        last = self.last_epoch_params
        if self.progress.get("finished") == "epochs" and last is not None:
            # A callback's end (restoring the best weights) may have put back other
            # parameters than those the last epoch ended with, from which alone the
            # run could continue as one uninterrupted run would.
            if not np.array_equal(last, self.model.network.params):
                self.progress["finished"] = "restored"
        if self.progress.get("finished"):
            self._write()

    def _write(self) -> None:
        save_checkpoint(
            self.model, self.path, self.optimizer, self.progress, self.schedule, self.callbacks
        )
