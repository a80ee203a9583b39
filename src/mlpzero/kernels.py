r"""Compiled kernels (numba) for the hot steps, on by default where numba is installed.

numba is a dependency of mlpzero, and the backend is ``"numba"`` unless told otherwise:
:func:`set_backend` ``("numpy")`` or the environment variable ``MLPZERO_BACKEND=numpy``
computes with NumPy alone, as does an installation without numba (numba is imported on
the first compiled call; if it is missing or cannot be imported, NumPy takes over). With
the numba backend these steps run as compiled loops:

- **Small networks** (:func:`plan_for`: every layer at most :data:`SMALL_LAYER` units
  wide, built-in activations (tanh in float64 only); and per call
  :func:`suits`: ``X`` of the network's dtype and width, at most :data:`MAX_WORK`
  multiply-adds):
  :meth:`Network.forward <mlpzero.network.Network.forward>` and
  :meth:`~mlpzero.network.Network.backward` each become one call that runs every layer,
  instead of several NumPy calls per layer. On tiny arrays NumPy's cost is the call, not
  the arithmetic, so this is where the time goes for the article's networks.
- **Adam and AdamW**: the update is one pass over the flat buffers instead of twelve.
- **Around the matrix products of any network** (:func:`layer_codes`, batches of at
  least 16 rows): the bias and the activation after each forward product, the
  derivative and the bias gradient after each backward product, one pass each.
- **The output layer**: without sample weights, the gradient of the sigmoid, softmax and
  identity outputs and the binary and categorical cross-entropy values are one pass each.
- **Full-batch gradient descent** on a small network (the article's training, as
  :mod:`mlpzero.tutorial` runs it): :func:`gradient_descent` runs many epochs in one call,
  with no Python between the steps; :func:`fit_epochs` does the same for
  :mod:`mlpzero.training`, recording each epoch's loss and accuracy.

The kernels compute the same formulas as the NumPy code, which remains the reference:
:mod:`mlpzero.network` and :mod:`mlpzero.optimizers` state them, and
``tests/test_kernels.py`` checks that both backends agree on every activation, shape and
dtype. Results differ only by rounding (sums are accumulated in another order, and the
kernels compute ``exp`` and ``tanh`` themselves, within a few units in the last place),
so a seed gives bit-identical runs within one backend, not across the two. Wide layers
keep using NumPy's matrix products (BLAS), which no simple loop beats.

The buffers follow :class:`~mlpzero.network.Network`'s layout: parameters flat (``W[l]``
row-major ``(n_l, n_{l-1})`` then ``b[l]``, layer by layer), activations transposed,
units by samples, each layer's ``(n_l, m)`` block one after the other in one flat vector.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .validation import check_int, check_non_negative

__all__ = [
    "BACKENDS",
    "COMPILED_DTYPES",
    "SMALL_LAYER",
    "fit_epochs",
    "get_backend",
    "gradient_descent",
    "layer_codes",
    "numba_available",
    "plan_for",
    "set_backend",
    "suits",
]

#: The backends :func:`set_backend` accepts.
BACKENDS = ("numpy", "numba")

#: The dtypes the compiled kernels take, in the machine's byte order: numba has no
#: float16 or long double and reads no other byte order, so arrays of any other dtype go
#: to NumPy.
COMPILED_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})

#: Widest layer (in units, input included) for which a network runs on the compiled
#: small-network kernels; wider layers are faster through BLAS.
SMALL_LAYER = 32

#: Most multiply-adds a pass may take (rows × the network's multiply-adds per sample) to
#: run on the kernels (:func:`suits`). Beyond it BLAS's blocked products win; the
#: crossovers it was set from are in ``docs/architecture.md``.
MAX_WORK = 600_000

#: Activation name -> code understood by the kernels (every built-in activation).
_ACTIVATION_CODES = {"identity": 0, "relu": 1, "leaky_relu": 2, "sigmoid": 3, "tanh": 4}

#: Activations whose float32 NumPy ufunc (SIMD, in float32 lanes) beats the kernels'
#: float64 loop in small networks (``benchmarks/activations.py``).
_SLOW_IN_FLOAT32 = frozenset({_ACTIVATION_CODES["tanh"]})

_backend = "numpy"
_compiled: Any = None  # the module of jitted functions, once numba is switched on
#: True while the backend is numba by default (not asked for): numba is then imported on
#: the first compiled call, and a numba that fails to import leaves NumPy in charge.
_automatic = False


#: What importing a numba that is installed but broken raises: ImportError, or OSError
#: where llvmlite cannot load its shared library.
_IMPORT_ERRORS = (ImportError, OSError)


def numba_available() -> bool:
    """True when numba can be imported."""
    return _numba_import_error() is None


def _numba_import_error() -> Exception | None:
    """What importing numba raises, or None when it imports."""
    try:
        import numba  # noqa: F401
    except _IMPORT_ERRORS as error:
        return error
    return None


def _import_failure() -> str | None:
    """How numba's import fails where it is installed (``"installed but fails to import
    (OSError: ...)"``), or None where it is not installed (or imports)."""
    error = _numba_import_error()
    if error is None or (isinstance(error, ModuleNotFoundError) and error.name == "numba"):
        return None
    return f"installed but fails to import ({type(error).__name__}: {error})"


def set_backend(name: str) -> None:
    """Compute with ``"numba"`` (the default where numba is installed) or ``"numpy"``.

    The first calls with each dtype compile the kernels they use (a few seconds), cached
    on disk afterwards (:func:`_numba_kernels <mlpzero._numba_kernels>`'s ``cache=True``,
    in ``NUMBA_CACHE_DIR`` when it is set, otherwise in the package's ``__pycache__`` or,
    where that is read-only, numba's user cache directory; where none of them can be
    written, not cached: each process compiles the kernels it uses).

    The choice holds in this process and in the processes it forks afterwards. A new
    Python process (a worker of joblib's default ``loky`` backend, as scikit-learn's
    ``n_jobs`` starts them, a ``spawn`` process of :mod:`multiprocessing`, a Dask worker)
    starts on the backend ``MLPZERO_BACKEND`` names instead. The two backends round
    differently, so for workers to compute bit for bit as this process does, set that
    variable before they start.
    """
    global _backend, _compiled, _automatic
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {name!r}")
    if name == "numba":
        if not numba_available():
            failure = _import_failure()
            why = "not installed: pip install numba" if failure is None else failure
            raise ImportError(
                f"backend 'numba' needs numba, which is {why} (or use the backend 'numpy')"
            )
        _load_kernels()
    _backend, _automatic = name, False


def get_backend() -> str:
    """The backend in use: ``"numba"`` or ``"numpy"``."""
    if _automatic and _compiled is None:
        compiled()  # imports numba now, or falls back to NumPy if it cannot
    return _backend


def compiled() -> Any:
    """The jitted functions when the numba backend is on, else None."""
    global _backend, _automatic
    if _backend != "numba":
        return None
    if _compiled is None:  # numba by default: imported on first use
        try:
            _load_kernels()
        except _IMPORT_ERRORS:
            _backend, _automatic = "numpy", False
            return None
    return _compiled


def _load_kernels() -> None:
    global _compiled
    if _compiled is None:
        _compiled = importlib.import_module(f"{__package__}._numba_kernels")


class SmallNetworkPlan:
    """What the small-network kernels need to know about a network, as arrays.

    ``sizes`` are the layer sizes, ``codes`` the hidden activations' codes and ``alphas``
    their slopes (leaky ReLU; 0 otherwise).
    """

    def __init__(self, sizes: Sequence[int], codes: Sequence[int], alphas: Sequence[float]):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        #: Multiply-adds per sample of a forward pass: the sum of ``n_{l-1} n_l``.
        self.work_per_row = int(sum(a * b for a, b in pairwise(sizes)))
        self.codes = np.asarray(codes, dtype=np.int64)
        self.alphas = np.asarray(alphas, dtype=np.float64)


def plan_for(
    sizes: Sequence[int], activations: Sequence[Any], dtype: Any = np.float64
) -> SmallNetworkPlan | None:
    """A :class:`SmallNetworkPlan` when the network suits the small-network kernels.

    None when a layer is wider than :data:`SMALL_LAYER`, when an activation is not one of
    the built-in identity, ReLU, leaky ReLU, sigmoid and tanh (a user-defined one, for
    instance), and for tanh layers in float32: NumPy's float32 SIMD ``tanh`` beats the
    kernels' float64 loop there.
    """
    if max(sizes) > SMALL_LAYER:
        return None
    codes, alphas = [], []
    for activation in activations:
        code = _ACTIVATION_CODES.get(activation.name)
        if code is None or type(activation).__module__ != "mlpzero.activations":
            return None
        if np.dtype(dtype) == np.float32 and code in _SLOW_IN_FLOAT32:
            return None
        codes.append(code)
        alphas.append(float(activation.alpha) if activation.name == "leaky_relu" else 0.0)
    return SmallNetworkPlan(sizes, codes, alphas)


def layer_codes(activations: Sequence[Any], dtype: Any) -> list[tuple[int, float] | None]:
    """For each hidden layer, ``(code, alpha)`` when the per-layer kernels serve its
    activation (:func:`plan_for`'s rule: a built-in activation, no tanh in float32), else
    None.

    Those kernels run around the matrix products of any network, however wide: the bias
    and the activation after a forward product, the derivative and the bias gradient
    after a backward one, each in one pass instead of several NumPy calls.
    """
    codes: list[tuple[int, float] | None] = []
    for activation in activations:
        code = _ACTIVATION_CODES.get(getattr(activation, "name", None))
        if code is None or type(activation).__module__ != "mlpzero.activations":
            codes.append(None)
        elif np.dtype(dtype) == np.float32 and code in _SLOW_IN_FLOAT32:
            codes.append(None)
        else:
            codes.append((code, float(getattr(activation, "alpha", 0.0))))
    return codes


def suits(plan: SmallNetworkPlan, X: np.ndarray, dtype: np.dtype) -> bool:
    """Whether the small-network kernels should run a pass of ``X`` for ``plan``.

    Only for a 2-D ``X`` of the network's width and exact dtype (anything else goes to
    NumPy, which converts or raises as it always has), and only up to :data:`MAX_WORK`
    multiply-adds: beyond it the kernels' passes over each row fall out of cache and
    BLAS's blocked products win.
    """
    return (
        X.ndim == 2
        and X.shape[1] == plan.sizes[0]
        and X.dtype == dtype
        and X.shape[0] * plan.work_per_row <= MAX_WORK
    )


def gradient_descent(
    network: Any, X: np.ndarray, Y: np.ndarray, learning_rate: float, epochs: int, link: str
) -> int | None:
    """``epochs`` full-batch gradient-descent steps in one compiled call, if they apply.

    Each step is the network's forward pass on ``X`` ``(m, n_0)``, the output gradient
    ``(link(Z) - Y) / m`` with ``link`` ``"sigmoid"`` (binary cross-entropy) or
    ``"identity"`` (squared error), the backward pass and ``params -= learning_rate *
    grads``: what the separate calls compute, in the same order. Returns how many steps
    left every parameter finite (``epochs`` unless one became NaN or infinite, where it
    stops), or None when the kernels do not apply: the numba backend is off, the network
    is not small (:func:`plan_for`), has dropout or an input transform, ``X`` has no
    rows, or ``X`` and ``Y`` are not the network's dtype and shapes (:func:`suits`). The
    caller then takes the steps one by one.
    """
    epochs = check_int("epochs", epochs, minimum=0)  # 2.7 would run 2 steps on numba
    if link not in ("sigmoid", "identity"):
        return None
    # Empty records, of the types fit_epochs passes: both calls share one compiled version.
    totals, hits = np.empty(0), np.empty(0, dtype=np.int64)
    snapshot = np.empty(0, dtype=network.dtype)
    sigmoid = link == "sigmoid"
    return _descend(network, X, Y, learning_rate, epochs, sigmoid, totals, hits, snapshot, 0.0)


def fit_epochs(
    network: Any,
    X: np.ndarray,
    Y: np.ndarray,
    learning_rate: float,
    epochs: int,
    totals: np.ndarray,
    hits: np.ndarray,
    snapshot: np.ndarray,
    limit: float,
) -> int | None:
    """``epochs`` epochs of full-batch gradient descent on the binary cross-entropy in one
    compiled call, recording what each training epoch records, if they apply.

    Each epoch is a step of :func:`gradient_descent` (sigmoid link) whose output gradient
    and loss come from the same pass as in :meth:`mlpzero.losses.Loss.value_and_gradient`:
    ``totals[e]`` (float64) gets the loss total of epoch ``e``'s logits, before its
    update (the mean is ``totals[e] / m``), ``hits[e]`` (int64) the rows whose every
    output has the right sign, and ``snapshot`` (like ``params``) the parameters at the
    start of the last epoch run. Finite logits beyond ``limit`` count as ``limit`` in the
    loss, an infinite one makes it infinite or NaN (:data:`mlpzero.losses.LOGIT_LIMIT`).
    Returns how many epochs kept the loss and every parameter finite (the failing one,
    if any, is left in ``params``; ``snapshot`` holds its start), or None where
    :func:`gradient_descent` would.
    """
    # The kernel writes these without bounds checks: a wrong buffer would corrupt memory.
    for name, buffer, dtype, shape in (
        ("totals", totals, np.dtype(np.float64), None),
        ("hits", hits, np.dtype(np.int64), None),
        ("snapshot", snapshot, network.params.dtype, network.params.shape),
    ):
        if not isinstance(buffer, np.ndarray) or buffer.ndim != 1 or buffer.dtype != dtype:
            raise TypeError(
                f"{name} must be a 1-D {dtype} array, got "
                f"{getattr(buffer, 'dtype', type(buffer).__name__)} "
                f"of shape {getattr(buffer, 'shape', None)}"
            )
        if shape is not None and buffer.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} (the parameters'), got {buffer.shape}"
            )
        if not buffer.flags.writeable:
            raise ValueError(
                f"{name} must be writable (the epochs are recorded in it), got a read-only array"
            )
    epochs = check_int("epochs", epochs, minimum=0)
    if not 0 < epochs <= min(len(totals), len(hits)):
        raise ValueError(f"epochs must be in 1..{min(len(totals), len(hits))}, got {epochs}")
    return _descend(network, X, Y, learning_rate, epochs, True, totals, hits, snapshot, limit)


def _descend(
    network: Any,
    X: np.ndarray,
    Y: np.ndarray,
    learning_rate: float,
    epochs: int,
    sigmoid: bool,
    totals: np.ndarray,
    hits: np.ndarray,
    snapshot: np.ndarray,
    limit: float,
) -> int | None:
    # Refused on either backend, as the caller's SGD would: NaN or a negative rate would
    # run on numba (a step away from the minimum), and text failed on its negation.
    learning_rate = check_non_negative("learning_rate", learning_rate)
    kernels, plan = compiled(), network.kernel_plan
    if kernels is None or plan is None or network.input_transform is not None:
        return None
    if any(network.dropout):
        return None
    if not isinstance(X, np.ndarray) or not isinstance(Y, np.ndarray):
        return None  # a list, say: the caller's steps convert or refuse it, as on NumPy
    if not suits(plan, X, network.dtype) or Y.shape != (X.shape[0], plan.sizes[-1]):
        return None
    if X.shape[0] == 0:  # no mean gradient of no rows: the caller's steps decide
        return None
    if Y.dtype != network.dtype:
        return None
    if epochs == 0:  # no pass runs: the network's last pass stays the one backward reads
        return 0
    inputs, pre, post, delta = network.pass_buffers(X.shape[0])
    kind = network.dtype.type
    done = kernels.gradient_descent(
        network.params, network.grads, plan.sizes, plan.codes, plan.alphas, X, Y,
        inputs, pre, post, delta, kind(-learning_rate), kind(1.0 / X.shape[0]), sigmoid,
        int(epochs), totals, hits, snapshot, float(limit),
    )  # fmt: skip
    network.record_compiled_pass(X)
    return int(done)


def _initial_backend() -> tuple[str, bool]:
    """The backend ``MLPZERO_BACKEND`` names, else numba if it is installed (looked up,
    not imported: importing numba waits for the first compiled call), else NumPy.

    A bad value must not stop ``import mlpzero``: it is reported as a warning and NumPy,
    the reference, is used. A bad name given to :func:`set_backend` still raises.
    """
    given = os.environ.get("MLPZERO_BACKEND", "")
    name = given.strip().lower()
    installed = importlib.util.find_spec("numba") is not None
    if not name:
        return ("numba", True) if installed else ("numpy", False)
    if name not in BACKENDS:
        problem = f"must be one of {', '.join(map(repr, BACKENDS))}"
    elif name == "numba" and not numba_available():
        failure = _import_failure()
        problem = "is 'numba', which needs numba" + (
            ": pip install numba" if failure is None else f", which is {failure}"
        )
    else:
        return name, False
    warnings.warn(
        f"MLPZERO_BACKEND {problem}, got {given!r}; using the backend 'numpy'",
        RuntimeWarning,
        stacklevel=2,
    )
    return "numpy", False


_chosen, _by_default = _initial_backend()
if _by_default:
    _backend, _automatic = _chosen, True
else:
    set_backend(_chosen)
