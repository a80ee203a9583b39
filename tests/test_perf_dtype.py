"""float32 training must stay in float32: no float64 array, operand or temporary.

A float64 temporary in a float32 step doubles the memory traffic of every pass it touches
and silently changes the arithmetic. These tests run real training with a *tracer*:

- every array NumPy allocates during the fit (``np.empty``, ``np.zeros``, ``np.*_like``,
  ..., and ``np.asarray`` and its kind applied to a traced array) is made an instance of
  :class:`_Traced`, an ``ndarray`` subclass: the network's parameters and gradients, its
  workspace buffers, the optimizer's state, the batch buffers; the data is traced too;
- a subclass propagates: every ufunc (``matmul`` included), reduction and array function
  that touches one of them goes through :meth:`_Traced.__array_ufunc__` or
  :meth:`_Traced.__array_function__`, and every array derived from one (a view, a copy, an
  ``astype``, a ufunc result) passes through :meth:`_Traced.__array_finalize__`;
- each of those hooks records a float64 operand (array or ``np.float64`` scalar: Python
  floats are weak and do not upcast), a float64 result, or a new float64 array.

Only what happens inside the training loop is recorded. Two things are allowed in float64:
a reduction to a scalar, and the loss value the loop reports for each batch, which
:mod:`mlpzero.losses` computes on a float64 copy of the batch's logits so that no float32
input can overflow it (``Loss.value`` and ``per_sample``), and which the compiled
full-batch epochs record in a float64 array of one value per epoch (``_loss_record`` in
:mod:`mlpzero.training`). Forward, gradient, backward
and the update must stay float32. With the numba backend the same holds for every array
the step allocates or hands to the compiled kernels; what happens inside a kernel is not
seen here (the kernels sum in float64 registers on purpose and store float32), and
``tests/test_kernels.py`` checks their float32 results against NumPy's instead. The
tracer's own tests below show that it fails when a float64 upcast or temporary is
injected into the step.
"""

from __future__ import annotations

import traceback

import numpy as np
import pytest

from mlpzero import MLP, optimizers

_ALLOCATORS = (
    "empty",
    "zeros",
    "ones",
    "full",
    "empty_like",
    "zeros_like",
    "ones_like",
    "full_like",
)
_CONVERTERS = ("array", "asarray", "asanyarray", "ascontiguousarray")
# The reported loss value is computed in float64 by design (mlpzero.losses widens the
# logits so that no float32 input can overflow it); it is a metric read by the loop, not a
# part of the arithmetic of the step, which is forward, gradient, backward and update.
_REPORTED_LOSS = {"value", "per_sample", "_as_wide"}


class _Traced(np.ndarray):
    """An ndarray that reports float64 operands, results and new arrays to ``found``."""

    found: list[str] | None = None

    @classmethod
    def _report(cls, what: str) -> None:
        """Record ``what`` if it happens inside the training loop (``mlpzero/training.py``
        is on the stack): building the model, drawing its initial weights (in float64, to
        reproduce the article's random numbers) and checking the input are not the step."""
        if cls.found is None:
            return
        frames = [f for f in traceback.extract_stack()[:-2] if "mlpzero" in f.filename]
        if not any(f.filename.endswith("training.py") for f in frames):
            return
        if any(f.filename.endswith("losses.py") and f.name in _REPORTED_LOSS for f in frames):
            return
        if any(f.filename.endswith("training.py") and f.name == "_loss_record" for f in frames):
            return
        cls.found.append(f"{what} at {frames[-1].filename.split('/')[-1]}:{frames[-1].lineno}")

    def __array_finalize__(self, obj: object) -> None:
        if self.dtype == np.float64 and self.ndim > 0:
            _Traced._report(f"new float64 array of shape {self.shape}")

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = f"{ufunc.__name__}.{method}"
        for x in inputs:
            if isinstance(x, (np.ndarray, np.generic)) and x.dtype == np.float64:
                _Traced._report(f"float64 operand to {name}")
        if kwargs.get("dtype") is not None and np.dtype(kwargs["dtype"]) == np.float64:
            if method != "reduce":
                _Traced._report(f"float64 loop forced in {name}")
        plain = [x.view(np.ndarray) if isinstance(x, _Traced) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Traced) else o for o in out)
        if isinstance(kwargs.get("where"), _Traced):
            kwargs["where"] = kwargs["where"].view(np.ndarray)
        result = getattr(ufunc, method)(*plain, **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        for r in results:
            if isinstance(r, np.ndarray) and r.dtype == np.float64 and r.ndim > 0:
                _Traced._report(f"float64 result of {name}")
        wrapped = tuple(
            r.view(_Traced) if isinstance(r, np.ndarray) and r.dtype != np.float64 else r
            for r in results
        )
        return wrapped if isinstance(result, tuple) else wrapped[0]

    def __array_function__(self, func, types, args, kwargs):
        def visit(value):
            if isinstance(value, (np.ndarray, np.generic)) and value.dtype == np.float64:
                _Traced._report(f"float64 argument to np.{func.__name__}")
            elif isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)

        visit(args)
        visit(list(kwargs.values()))
        result = super().__array_function__(func, types, args, kwargs)
        if isinstance(result, np.ndarray) and result.dtype == np.float64 and result.ndim > 0:
            _Traced._report(f"float64 result of np.{func.__name__}")
        return result


@pytest.fixture
def tracer(monkeypatch):
    """Make every array allocated through NumPy's allocators a :class:`_Traced`."""
    found: list[str] = []
    for name in _ALLOCATORS:
        real = getattr(np, name)

        def traced(*args, _real=real, **kwargs):
            return _real(*args, **kwargs).view(_Traced)

        monkeypatch.setattr(np, name, traced)
    for name in _CONVERTERS:  # keep a traced input traced through a conversion
        real = getattr(np, name)

        def converted(value, *args, _real=real, **kwargs):
            result = _real(value, *args, **kwargs)
            if isinstance(value, _Traced) and isinstance(result, np.ndarray):
                return result.view(_Traced)
            return result

        monkeypatch.setattr(np, name, converted)
    monkeypatch.setattr(_Traced, "found", found)
    return found


def _problem(task: str, rows: int = 96):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 5)).astype(np.float32)
    if task == "binary":
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
    elif task == "multiclass":
        y = np.argmax(X[:, :3], axis=1)
    else:
        y = (X[:, 0] - 2 * X[:, 1]).astype(np.float32)
    return X.view(_Traced), y


def _float_arrays(obj: object) -> list[np.ndarray]:
    """Every float ndarray among an object's attributes (lists and dicts looked into)."""
    arrays = []

    def visit(value, depth=0):
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "f":
                arrays.append(value)
        elif isinstance(value, (list, tuple)) and depth < 3:
            for item in value:
                visit(item, depth + 1)
        elif isinstance(value, dict) and depth < 3:
            for item in value.values():
                visit(item, depth + 1)
        elif hasattr(value, "__dict__") and depth < 2 and not isinstance(value, type):
            for item in vars(value).values():
                visit(item, depth + 1)

    visit(vars(obj))
    return arrays


@pytest.mark.parametrize("optimizer", sorted(optimizers.OPTIMIZERS))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_float32_training_creates_no_float64_array(tracer, optimizer, task, batch_size, backend):
    X, y = _problem(task)
    model = MLP(hidden=(6, 4), activation="relu", seed=0, dtype="float32")
    model.fit(X, y, epochs=2, batch_size=batch_size, optimizer=optimizer, learning_rate=0.01)
    assert tracer == [], "\n".join(sorted(set(tracer)))
    net = model.network
    # and everything the step keeps is float32: parameters, gradients, workspace, state
    kept = [net.params, net.grads]
    for workspace in net._workspaces.values():
        kept += _float_arrays(workspace)
    kept += [a for act in net.activations for a in _float_arrays(act)]
    assert len(kept) > 2
    assert {a.dtype for a in kept} == {np.dtype(np.float32)}


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "identity"])
def test_float32_training_with_sample_weights_and_other_activations(tracer, activation):
    X, y = _problem("multiclass")
    weights = np.linspace(0.5, 2.0, len(y)).astype(np.float32).view(_Traced)
    model = MLP(hidden=(6,), activation=activation, seed=0, dtype="float32")
    model.fit(X, y, epochs=2, batch_size=40, sample_weight=weights, learning_rate=0.01)
    assert tracer == [], "\n".join(sorted(set(tracer)))


def test_the_tracer_catches_an_injected_float64_upcast(tracer, monkeypatch):
    """The oracle must be able to fail: a ReLU that compares against ``np.float64(0)``
    (a strongly typed scalar: NumPy then runs the loop in float64) is reported."""
    from mlpzero.activations import ReLU

    def upcasting_relu(self, z, out=None):
        return np.maximum(z, np.float64(0.0), out=out)

    from mlpzero import kernels

    monkeypatch.setattr(ReLU, "__call__", upcasting_relu)
    monkeypatch.setattr(kernels, "_backend", "numpy")  # the compiled passes skip __call__
    X, y = _problem("binary")
    MLP(hidden=(4,), seed=0, dtype="float32").fit(X, y, epochs=1, learning_rate=0.01)
    assert any("float64 operand to maximum" in f for f in tracer), tracer


def test_the_tracer_catches_a_float64_temporary(tracer, monkeypatch):
    """A gradient computed through a float64 copy of the logits is reported too."""
    from mlpzero.losses import Loss

    real = Loss.gradient

    def upcasting_gradient(self, logits, targets, sample_weight=None, out=None):
        wide = logits.astype(np.float64)
        return real(self, wide.astype(np.float32), targets, sample_weight, out=out)

    monkeypatch.setattr(Loss, "gradient", upcasting_gradient)
    X, y = _problem("regression")
    MLP(hidden=(4,), seed=0, dtype="float32").fit(X, y, epochs=1, learning_rate=0.01)
    assert any("new float64 array" in f for f in tracer), tracer
