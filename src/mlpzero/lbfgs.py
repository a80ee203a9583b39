r"""Full-batch training by L-BFGS over the flat parameter vector.

L-BFGS is a quasi-Newton method: from the last ``m`` steps :math:`s_k = \theta_{k+1} -
\theta_k` and gradient changes :math:`y_k = g_{k+1} - g_k` it builds an approximation of
the inverse Hessian and moves along :math:`-H_k g_k` with a line search. For the small
problems of the article (XOR, circles) it converges in tens of iterations where gradient
descent needs thousands of epochs. The minimiser is SciPy's
(``scipy.optimize.minimize(method="L-BFGS-B")``); mlpzero gives it the objective

.. math:: J(\theta) = \frac{\sum_i w_i \ell_i(\theta)}{\sum_i w_i}
          + \frac{\lambda_2}{2} \sum_{w} w^2

and its gradient in one call (:func:`loss_and_gradient`): the forward and backward
passes of :class:`~mlpzero.network.Network`, the loss's ``A - Y`` and the weight
penalty of :mod:`mlpzero.regularizers`. The rows are visited a chunk at a time
(:attr:`~mlpzero.network.Network.chunk_rows`, bounded in bytes) and each chunk's mean
gradient is weighted by its share of the sample weight, so memory does not grow with the
data, and a sparse ``X`` (anything with ``toarray``) is densified one chunk at a time.

One L-BFGS iteration is one "epoch" for the history and the callbacks: ``loss`` is the
objective at the new parameters; a callback that sets ``model.stop_training`` ends the
run after that iteration. An error ends the run and propagates, and so does Ctrl-C
unless the caller asks for the epoch loop's handling (``interruptible=True``, what
:meth:`mlpzero.MLP.fit` passes): the run then ends normally, with ``history.interrupted``
set. Either way the parameters are those of the last iteration the history holds (the
starting point before the first), not a point the line search was trying. Dropout would make the
objective random, which breaks the line search, so it is refused.

SciPy is an optional dependency: ``pip install 'mlpzero[lbfgs]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .callbacks import Callback, check_callback_list, logged_names
from .history import History
from .losses import Loss
from .network import Network
from .regularizers import WeightPenalty
from .training import (
    AccuracyCounter,
    TrainingDivergedError,
    close_callbacks,
    forget_epochs,
    predicts_one_class,
    report_interrupted,
)
from .validation import (
    check_int,
    check_non_negative,
    dense_rows,
    relative_sample_weight,
    rows_buffer,
)

__all__ = ["LBFGSResult", "check_scipy", "loss_and_gradient", "minimize", "requested"]


def _scipy_minimize() -> Any:
    try:
        import scipy
        from scipy.optimize import minimize as scipy_minimize
    except ImportError:  # pragma: no cover - scipy comes with the extra
        raise ImportError(
            "optimizer='lbfgs' needs SciPy: install it with pip install 'mlpzero[lbfgs]' "
            "(or pip install scipy)"
        ) from None
    # From 1.11 the callback receives the iteration's result (its point and loss); before,
    # the point alone. scikit-learn, which brings SciPy, accepts older ones.
    version = tuple(int(part) if part.isdigit() else 0 for part in scipy.__version__.split("."))
    if version[:2] < (1, 11):
        raise ImportError(
            f"optimizer='lbfgs' needs SciPy 1.11 or later, found {scipy.__version__}: "
            "pip install 'mlpzero[lbfgs]' (or pip install 'scipy>=1.11')"
        )
    return scipy_minimize


def check_scipy() -> None:
    """Raise an ImportError now, before a model is built, if SciPy cannot serve L-BFGS."""
    _scipy_minimize()


def requested(optimizer: Any, **options: Any) -> bool:
    """Whether ``MLP.fit`` is asked for L-BFGS (``optimizer="lbfgs"``).

    ``options`` are the other arguments of that ``fit`` whose value would be ignored by
    L-BFGS; any of them set (not ``None`` or 0) is an error that names it. The name is
    case-insensitive, as every component name is.
    """

    def names_lbfgs(value: Any) -> bool:
        return isinstance(value, str) and value.lower() == "lbfgs"

    if isinstance(optimizer, dict) and names_lbfgs(optimizer.get("name")):
        if len(optimizer) > 1:
            settings = {key: value for key, value in optimizer.items() if key != "name"}
            raise ValueError(
                f"optimizer='lbfgs' takes no options, got {settings!r}: its iterations are "
                "fit's epochs; pass optimizer='lbfgs' (or {'name': 'lbfgs'})"
            )
        optimizer = "lbfgs"  # as MLP.fit_config_ records it
    if not names_lbfgs(optimizer):
        return False
    ignored = {name: value for name, value in options.items() if value not in (None, 0, 0.0)}
    if ignored:
        given = ", ".join(f"{name}={value!r}" for name, value in ignored.items())
        raise ValueError(
            f"optimizer='lbfgs' trains on the full batch with its own step sizes, without "
            f"{', '.join(ignored)}; got {given}. Leave them unset, or pick a stochastic "
            "optimizer such as 'adam'"
        )
    return True


def loss_and_gradient(
    network: Network,
    loss: Loss,
    X: Any,
    Y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    penalty: WeightPenalty | None = None,
    chunk_rows: int | None = None,
    buffer: np.ndarray | None = None,
    on_logits: Callable[[int, int, np.ndarray], None] | None = None,
) -> tuple[float, np.ndarray]:
    r"""The objective :math:`J` at ``network.params`` and its gradient (a new float64 array).

    ``X`` is ``(n, n_0)`` (an array, or a sparse matrix read chunk by chunk), ``Y`` is
    ``(n, n_L)`` in the network's dtype; ``sample_weight`` is ``(n,)`` or ``None``. With
    chunks :math:`C` of weight :math:`W_C` out of :math:`W`, the data term is
    :math:`\sum_C (W_C / W) \bar\ell_C` and its gradient likewise, which equals the
    full-batch mean exactly.

    The rows are visited ``chunk_rows`` at a time (default ``network.chunk_rows``); those
    that must be made (sparse, converted, or read from a row source) are written into
    ``buffer`` (``(chunk_rows, n_0)`` in the network's dtype, made here when needed and not
    given, or too small): the network keeps its last input, so repeated calls should share
    one buffer. ``on_logits(start, stop, logits)`` sees each chunk's logits, before the
    backward pass reuses their buffers.
    """
    if chunk_rows is None:
        chunk_rows = network.chunk_rows
    n = Y.shape[0]
    value = 0.0
    gradient = np.zeros(network.n_params, dtype=np.float64)
    if buffer is None or len(buffer) < min(chunk_rows, n):
        buffer = rows_buffer(X, chunk_rows, network.dtype)
    for start, stop, w, share in _weighted_chunks(n, sample_weight, chunk_rows):
        logits = network.forward(dense_rows(X, start, stop, network.dtype, buffer))
        if on_logits is not None:
            on_logits(start, stop, logits)
        Yc = dense_rows(Y, start, stop, network.dtype)
        value += share * loss.value(logits, Yc, w)
        dlogits = loss.gradient(logits, Yc, w, out=network.output_delta())
        gradient += share * network.backward(dlogits)
    if penalty is not None and penalty.active:
        network.grads.fill(0)
        value += penalty.apply(network.params, network.grads)
        gradient += network.grads
    return value, gradient


def _weighted_chunks(
    n: int, sample_weight: np.ndarray | None, chunk_rows: int
) -> Iterator[tuple[int, int, np.ndarray | None, float]]:
    """``(start, stop, w, share)`` for each chunk of ``chunk_rows`` of ``n`` rows: its
    relative weights (None without weights) and its share of the total weight. Chunks of
    zero weight, which carry neither loss nor gradient, are skipped."""
    weights = relative_sample_weight(sample_weight)
    total_weight = float(n) if weights is None else float(np.sum(weights, dtype=np.float64))
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        w = None if weights is None else weights[start:stop]
        share = (stop - start) / total_weight if w is None else float(np.sum(w)) / total_weight
        if share:
            yield start, stop, w, share


def _loss_value(
    network: Network,
    loss: Loss,
    X: Any,
    Y: Any,
    sample_weight: np.ndarray | None,
    penalty: WeightPenalty,
    chunk_rows: int,
    buffer: np.ndarray | None = None,
) -> float:
    """:math:`J` at ``network.params``, as :func:`loss_and_gradient` has it, from forward
    passes alone."""
    value = 0.0
    for start, stop, w, share in _weighted_chunks(Y.shape[0], sample_weight, chunk_rows):
        logits = network.forward(dense_rows(X, start, stop, network.dtype, buffer))
        value += share * loss.value(logits, dense_rows(Y, start, stop, network.dtype), w)
    if penalty.active:
        value += penalty.value(network.params)
    return value


def _accuracy(
    network: Network,
    X: Any,
    counter: AccuracyCounter,
    chunk_rows: int,
    buffer: np.ndarray | None = None,
) -> float:
    """The share of rows of ``X`` predicted right, read ``chunk_rows`` at a time."""
    n = len(counter.all)
    hits = 0
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        logits = network.forward(dense_rows(X, start, stop, network.dtype, buffer))
        hits += counter.hits(logits, counter.all[start:stop])
    return hits / n


@dataclass
class LBFGSResult:
    """What :func:`minimize` did: iterations, objective evaluations, and why it stopped."""

    n_iter: int
    n_evaluations: int
    loss: float
    converged: bool
    message: str
    losses: list[float] = field(default_factory=list)


class _CallbackStopIteration(Exception):
    """A callback's own ``StopIteration``, carried past SciPy, which reads one raised in
    its iteration callback as a request to stop (and would swallow the error)."""

    def __init__(self, error: StopIteration) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class _Interrupted:
    """The parts of SciPy's result that :func:`minimize` reads, for a run Ctrl-C ended."""

    nit: int
    nfev: int
    fun: float  # the last iteration's objective, NaN before the first
    status: int = -1
    message: str = "interrupted (Ctrl-C)"


def minimize(
    network: Network,
    loss: Loss,
    X: Any,
    Y: np.ndarray,
    *,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    sample_weight: np.ndarray | None = None,
    l2: float = 0.0,
    model: Any = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    validation: tuple[Any, np.ndarray, np.ndarray | None] | None = None,
    chunk_rows: int | None = None,
    verbose: bool = False,
    interruptible: bool = False,
) -> LBFGSResult:
    """Minimise :math:`J` over ``network.params`` in place with L-BFGS-B.

    A loss or gradient that is NaN or infinite at every point the line search tries (the
    data overflow the dtype) raises :class:`~mlpzero.training.TrainingDivergedError`,
    with the parameters of the last finite iteration.

    Stops after ``max_iter`` iterations, after ``max_fun`` evaluations of :math:`J`
    (counted between iterations: the last line search may take a few more), when the
    largest gradient component falls to ``tol`` (SciPy's ``gtol``, as scikit-learn passes
    it), when the objective stalls (SciPy's ``ftol``), or when a callback sets
    ``model.stop_training``. ``converged`` is True only for the gradient and stall
    criteria. ``validation`` is ``(X_val, Y_val, weights)``. Each iteration is one epoch of
    ``history``: it logs ``loss`` (and for a classifier ``accuracy``, counted from the
    logits of the evaluation at the iteration's parameters, or from one more forward pass
    over the rows when there is none), and with validation ``val_loss`` (and ``val_accuracy``),
    the metrics of the epoch loop of :func:`mlpzero.training.train` but its ``lr``. The
    rows are visited ``chunk_rows`` at a time (default ``network.chunk_rows``).

    With ``interruptible``, Ctrl-C ends the run as it ends the epoch loop: the parameters
    of the last iteration, ``history.interrupted`` True, ``on_train_end`` called, and a
    result that has not ``converged``, whose ``loss`` is the last iteration's (NaN before
    the first). Without it, ``KeyboardInterrupt`` propagates.
    """
    if chunk_rows is None:
        chunk_rows = network.chunk_rows
    if any(getattr(network, "dropout", ())):
        raise ValueError(
            "optimizer='lbfgs' cannot train a network with dropout "
            f"(dropout={list(network.dropout)}): its line search needs the same objective "
            "at every evaluation; use dropout=0 or a stochastic optimizer such as 'adam'"
        )
    max_iter = check_int("max_iter", max_iter, minimum=1)
    max_fun = check_int("max_fun", max_fun, minimum=1)
    tol = check_non_negative("tol", tol)
    scipy_minimize = _scipy_minimize()
    history = history if history is not None else History()
    penalty = WeightPenalty(network.weight_mask, network.dtype, l2=l2)
    callbacks = list(callbacks)
    check_callback_list(callbacks)
    counts = {"evaluations": 0}
    losses: list[float] = []
    # One buffer for every evaluation (the network keeps a reference to its last input).
    buffers = [rows_buffer(x, chunk_rows, network.dtype) for x in (X, *(validation or ())[:1])]
    buffer = max((b for b in buffers if b is not None), key=len, default=None)

    single_class = predicts_one_class(model)
    counter = AccuracyCounter(loss, Y, min(chunk_rows, Y.shape[0]), single_class)
    if validation is not None:
        X_val, Y_val, w_val = validation
        val_counter = AccuracyCounter(loss, Y_val, min(chunk_rows, Y_val.shape[0]), single_class)
    # The rows predicted right at the last evaluated parameters, counted from the logits of
    # that evaluation: an iteration usually ends at the point its line search evaluated
    # last, whose accuracy then costs no forward pass of its own. (Chunks of zero sample
    # weight are not evaluated; their rows leave the count short, and it is not used.)
    evaluated: dict[str, Any] = {"theta": None, "hits": 0, "rows": 0}

    def count_hits(start: int, stop: int, logits: np.ndarray) -> None:
        evaluated["hits"] += counter.hits(logits, counter.all[start:stop])
        evaluated["rows"] += stop - start

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        counts["evaluations"] += 1
        network.params[...] = theta
        evaluated.update(theta=None, hits=0, rows=0)
        with np.errstate(over="ignore", invalid="ignore"):
            value, gradient = loss_and_gradient(
                network, loss, X, Y, sample_weight, penalty, chunk_rows, buffer,
                on_logits=count_hits if counter.kind is not None else None,
            )  # fmt: skip
        evaluated["theta"] = theta.copy()
        if not (math.isfinite(value) and np.isfinite(gradient).all()):
            return math.inf, np.zeros_like(gradient)  # L-BFGS-B backs off from it
        return value, gradient

    def diverged() -> TrainingDivergedError:
        return TrainingDivergedError(
            f"L-BFGS reached a NaN or infinite loss or gradient in iteration "
            f"{len(losses) + 1}: the data overflow the network's {network.dtype.name} "
            "numbers. Standardise X (MLP(standardize=True)) and scale y; the model keeps "
            "the weights of its last finite iteration",
            history.epochs,
        )

    def after_iteration(intermediate_result: Any) -> None:
        if not (
            math.isfinite(intermediate_result.fun) and np.isfinite(intermediate_result.x).all()
        ):
            raise diverged()
        epoch = history.epochs
        network.params[...] = intermediate_result.x
        logs = {"loss": float(intermediate_result.fun)}
        if counter.kind is not None:
            n = len(counter.all)
            if evaluated["rows"] == n and np.array_equal(evaluated["theta"], intermediate_result.x):
                logs["accuracy"] = evaluated["hits"] / n
            else:
                logs["accuracy"] = _accuracy(network, X, counter, chunk_rows, buffer)
        if validation is not None:
            logs["val_loss"] = _loss_value(
                network, loss, X_val, Y_val, w_val, penalty, chunk_rows, buffer
            )
            if val_counter.kind is not None:
                logs["val_accuracy"] = _accuracy(network, X_val, val_counter, chunk_rows, buffer)
        losses.append(logs["loss"])
        history.append(logs)
        # One store: Ctrl-C before it goes back to the previous iteration, history too.
        completed["last"] = (intermediate_result.x.copy(), history.epochs)
        if verbose:
            print(f"Iteration {len(losses)}, loss = {logs['loss']:.8f}")
        for callback in callbacks:
            try:
                callback.on_epoch_end(epoch, logs)
            except StopIteration as error:  # an error in the callback, as in the epoch loop
                raise _CallbackStopIteration(error) from None
        if model is not None and model.stop_training:
            raise StopIteration

    # What each iteration logs (no lr): a callback naming another metric is refused now.
    names = logged_names(counter.kind is not None, validation is not None, lr=False)
    for callback in callbacks:
        callback.check_log_names(names)
    if model is not None:
        model.stop_training = False
    for callback in callbacks:
        callback.set_model(model)
    start = np.array(network.params, dtype=np.float64)
    # The point of the last iteration the history holds, and the history's length then: an
    # error or Ctrl-C during a line search leaves the network there, not at a trial point
    # that no epoch recorded, and the history without an iteration recorded after it.
    first = history.epochs
    completed = {"last": (start.copy(), first)}

    def back_to_last_iteration() -> None:
        point, epochs = completed["last"]
        network.params[...] = point
        forget_epochs(history, epochs)
        del losses[epochs - first :]

    history.interrupted = False
    try:
        for callback in callbacks:  # an error or Ctrl-C here ends the run as later ones do
            callback.on_train_begin()
        result = scipy_minimize(
            objective,
            start,
            method="L-BFGS-B",
            jac=True,
            callback=after_iteration,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
        if not math.isfinite(result.fun):  # the start overflowed: no iteration was made
            raise diverged()
    except KeyboardInterrupt:
        back_to_last_iteration()
        if not interruptible:
            close_callbacks(callbacks)
            raise
        report_interrupted(history)
        last_loss = losses[-1] if losses else math.nan
        result = _Interrupted(len(losses), counts["evaluations"], last_loss)
    except BaseException as error:  # as the epoch loop ends by an error: no on_train_end
        back_to_last_iteration()
        close_callbacks(callbacks)
        if isinstance(error, _CallbackStopIteration):
            raise error.error from None
        raise
    else:
        network.params[...] = result.x
    final = float(result.fun)
    last = history.last_epoch()
    for callback in callbacks:
        callback.on_train_end(last)
    # scipy's status 0 is convergence (gradient or stall); 1 is a budget exhausted.
    return LBFGSResult(
        n_iter=int(result.nit),
        n_evaluations=int(result.nfev),
        loss=final,
        converged=result.status == 0 and not (model is not None and model.stop_training),
        message=str(result.message),
        losses=losses,
    )
