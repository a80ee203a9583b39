r"""The article's API, line for line, running on mlpzero's engine.

A learner following the article can write ``from mlpzero.tutorial import *`` and keep its
code: the same function names and signatures, the same layout (``X`` is
``(n_features, m)``, ``Y`` is ``(n_outputs, m)``), the same dictionaries
(``parameters = {"W1", "b1", ...}`` with ``W[l]`` of shape ``(n[l], n[l-1])`` and ``b[l]``
of shape ``(n[l], 1)``; ``cache = {"A0", "Z1", "A1", ...}``;
``grads = {"dW1", "db1", "dZ1", ...}``) and the same global-seed behaviour: after
``np.random.seed(42)`` and the article's draws in its order (its data first),
:func:`init_params` draws exactly the article's initial weights, and every step of
:func:`multi_layer_neural_network` agrees with the article's to float64 rounding. Over a
long run that rounding can grow where training is sensitive to the weights: on the
article's sigmoid network (circles, learning rate 1.0, 10 000 epochs) the trained weights,
which reach about 12, end up to some 3e-2 from those of the article's code, depending on
the backend; the article's own result moves by 2e-4 when the last bit of one initial
weight changes. The accuracies are the article's.

This module holds no math of its own. Each function copies the dictionaries into a
float64 :class:`~mlpzero.network.Network` (the engine works with samples as rows, so the
translation is a transpose) and lets the engine do the work: the network's forward and
backward passes, :class:`~mlpzero.losses.BinaryCrossEntropy` for the output gradient
``dZ[L] = A[L] - Y``, :class:`~mlpzero.optimizers.SGD` for the update and
:func:`~mlpzero.losses.article_cost` for the cost it prints; the training function is
the article's own loop over those steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from . import kernels as _kernels
from .losses import BinaryCrossEntropy, article_cost
from .network import Network
from .optimizers import SGD
from .training import _LARGE_FEATURE, TrainingDivergedError, compiled_call_epochs
from .validation import check_int

__all__ = [
    "ACTIVATIONS",
    "backward_propagation",
    "forward_propagation",
    "init_params",
    "layer_sizes",
    "multi_layer_neural_network",
    "plot_decision_boundary",
    "predict",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
    "update_params",
]

Params = dict[str, np.ndarray]


# ---------------------------------------------------------------------- activations
def sigmoid(z: Any) -> np.ndarray:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow."""
    return _activations.sigmoid(np.asarray(z, dtype=float))


def sigmoid_derivative(A: Any) -> np.ndarray:
    r""":math:`\sigma'(z) = A (1 - A)`, from the activation ``A = sigmoid(z)`` in [0, 1]."""
    A = _check_output_range("A", A, 0.0, "sigmoid")
    return _activations.sigmoid.derivative_from_output(A)


def tanh(z: Any) -> np.ndarray:
    r""":math:`\tanh(z)`, in (-1, 1)."""
    return _activations.tanh(np.asarray(z, dtype=float))


def tanh_derivative(A: Any) -> np.ndarray:
    r""":math:`\tanh'(z) = 1 - A^2`, from the activation ``A = tanh(z)`` in [-1, 1]."""
    A = _check_output_range("A", A, -1.0, "tanh")
    return _activations.tanh.derivative_from_output(A)


def relu(z: Any) -> np.ndarray:
    r""":math:`\max(0, z)`, element-wise."""
    return _activations.relu(np.asarray(z, dtype=float))


def relu_derivative(Z: Any) -> np.ndarray:
    """1.0 where ``Z > 0``, else 0.0; takes the pre-activation ``Z``, as the article does."""
    return _activations.relu.derivative(np.asarray(Z, dtype=float))


#: Activation name -> (function, derivative), as in the article. The ReLU derivative takes
#: ``Z``; the sigmoid and tanh derivatives take ``A``. Hidden layers run on the engine,
#: which computes these three itself: an entry added or replaced here is refused as a
#: hidden activation (``forward_propagation`` applies it at the output layer only).
ACTIVATIONS: dict[str, tuple[Callable[[Any], np.ndarray], Callable[[Any], np.ndarray]]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}
#: The entries as defined here, the ones the engine's hidden layers compute.
_OWN_ACTIVATIONS = dict(ACTIVATIONS)


# ---------------------------------------------------------------------- architecture
def layer_sizes(X: np.ndarray, Y: np.ndarray, n_hs: Sequence[int]) -> list[int]:
    """``[n_features, *n_hs, n_outputs]`` from ``X`` ``(n_features, m)`` and ``Y``
    ``(n_outputs, m)``; e.g. ``[2, 4, 3, 1]`` for ``n_hs=[4, 3]``."""
    X, Y = _as_2d("X", X), _as_2d("Y", Y)
    if isinstance(n_hs, (str, bytes)) or not hasattr(n_hs, "__iter__"):
        raise TypeError(
            f"n_hs must be a list of hidden layer sizes such as [4, 3], "
            f"got {type(n_hs).__name__} {n_hs!r}"
        )
    hidden = [check_int(f"n_hs[{i}]", n) for i, n in enumerate(n_hs)]
    return [int(X.shape[0]), *hidden, int(Y.shape[0])]


def init_params(ls: Sequence[int], activation: str = "relu") -> Params:
    """Initial weights and zero biases, drawn from the global ``np.random`` state.

    ``W{l} = randn(ls[l], ls[l-1]) * sqrt(gain / ls[l-1])``, with ``gain`` 2 (He) for
    ``"relu"`` and 1 (Xavier) otherwise, for every layer including the output, as the
    article does; ``b{l}`` is zeros of shape ``(ls[l], 1)``. Seed with
    ``np.random.seed(42)`` first to get the article's numbers.
    """
    _check_activation("activation", activation)
    network = _network(ls, activation, rng=np.random)
    return _to_dict(network)


# ---------------------------------------------------------------------- the three steps
def forward_propagation(
    parameters: Params,
    ls: Sequence[int],
    X: np.ndarray,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> tuple[np.ndarray, Params]:
    """Run ``X`` ``(n_features, m)`` through the network.

    Returns ``(A_L, cache)``: the output activation ``A[L]`` of shape ``(n_outputs, m)``
    and ``cache = {"A0": X, "Z1": ..., "A1": ..., ..., "ZL": ..., "AL": ...}``, each
    ``(n[l], m)``, where ``Z[l] = W[l] A[l-1] + b[l]`` and ``A[l] = g(Z[l])``.
    """
    _check_activation("hidden_activation", hidden_activation)
    output_act, _ = ACTIVATIONS[
        _check_activation("output_activation", output_activation, engine=False)
    ]
    network = _network(ls, hidden_activation, parameters)
    X = _check_input(X, network)
    with np.errstate(over="ignore", invalid="ignore"):
        logits = network.forward(np.ascontiguousarray(X.T))
    if not np.isfinite(logits).all():
        column = int(np.flatnonzero(~np.isfinite(logits).all(axis=1))[0])
        raise ValueError(
            f"X: the network's outputs overflow for example {column} (column {column} of X); "
            "these inputs are too large for these parameters"
        )
    passes = network.cache()
    cache: Params = {"A0": X}
    for layer in range(1, network.n_layers):
        cache[f"Z{layer}"] = passes["Z"][layer - 1].T.copy()
        cache[f"A{layer}"] = passes["A"][layer].T.copy()
    last = network.n_layers
    cache[f"Z{last}"] = logits.T.copy()
    cache[f"A{last}"] = output_act(cache[f"Z{last}"])
    return cache[f"A{last}"], cache


def backward_propagation(
    parameters: Params,
    cache: Params,
    ls: Sequence[int],
    X: np.ndarray,
    Y: np.ndarray,
    hidden_activation: str = "relu",
) -> Params:
    """Gradients of the mean binary cross-entropy for every layer.

    Returns ``{"dW1": ..., "db1": ..., "dZ1": ..., ...}`` with ``dW[l]`` like ``W[l]``,
    ``db[l]`` like ``b[l]`` and ``dZ[l]`` like ``Z[l]``:
    ``dZ[L] = A[L] - Y``, ``dZ[l] = (W[l+1]^T dZ[l+1]) * g'(Z[l])``,
    ``dW[l] = dZ[l] A[l-1]^T / m``, ``db[l] = sum(dZ[l]) / m``. The output layer is the
    sigmoid with cross-entropy, as in the article: ``Y`` must hold 0 and 1, and a cache
    whose ``A[L]`` is not ``sigmoid(Z[L])`` (from another ``output_activation``) is
    refused. The pass runs on the engine, which reads the hidden activations ``A[l]``
    and the output logits ``Z[L]`` from ``cache``.
    """
    _check_activation("hidden_activation", hidden_activation)
    network = _network(ls, hidden_activation, parameters)
    X = _check_input(X, network)
    Y = _check_labels(Y, network.layer_sizes[-1], X.shape[1])
    last = network.n_layers
    if f"Z{last}" not in cache:
        raise ValueError(
            f"cache has no 'Z{last}': pass the cache that forward_propagation returned "
            f"for these layer sizes {list(network.layer_sizes)}"
        )
    m = X.shape[1]
    # Set the engine's state for this batch, then let the cached activations stand in for
    # the recomputed ones, so the backward pass reads the cache as the article's does.
    network.forward(np.ascontiguousarray(X.T))
    hidden = network.cache()["A"]
    for layer in range(1, last):
        key = f"A{layer}"
        if key in cache:
            cached = np.asarray(cache[key], dtype=np.float64)
            if cached.shape != (network.layer_sizes[layer], m):
                raise ValueError(
                    f"cache[{key!r}] has shape {cached.shape}, expected "
                    f"{(network.layer_sizes[layer], m)} to match X"
                )
            hidden[layer][...] = cached.T
    logits = np.ascontiguousarray(np.asarray(cache[f"Z{last}"], dtype=np.float64).T)
    if logits.shape != (m, network.layer_sizes[-1]):
        raise ValueError(
            f"cache['Z{last}'] has shape {logits.T.shape}, expected "
            f"{(network.layer_sizes[-1], m)} to match X"
        )
    _check_sigmoid_output(cache, last, logits)
    # The loss gives dL/dZ[L] = (A[L] - Y) / m; the article's dZ carry no 1/m.
    dlogits = BinaryCrossEntropy().gradient(logits, np.ascontiguousarray(Y.T))
    network.backward(dlogits)
    deltas = network.cache()["dZ"]
    grads: Params = {}
    for layer in range(last, 0, -1):
        grads[f"dW{layer}"] = network.weight_grads[layer - 1].copy()
        grads[f"db{layer}"] = network.bias_grads[layer - 1].reshape(-1, 1).copy()
        grads[f"dZ{layer}"] = deltas[layer - 1].T * m
    return grads


def update_params(
    parameters: Params, grads: Params, ls: Sequence[int], learning_rate: float
) -> Params:
    """One gradient-descent step, in place: ``W[l] -= learning_rate * dW[l]``, and the
    same for ``b[l]``. Returns ``parameters`` (the same dictionary and arrays).

    Each ``dW[l]`` must have the shape of ``W[l]`` and each ``db[l]`` that of ``b[l]``,
    ``(n[l], 1)``, as :func:`backward_propagation` returns them; another shape (a
    transposed ``dW``) is refused before any parameter changes, and so is a parameter
    that is not a writable float array (integers would be truncated; a list, or an array
    loaded read-only, cannot change in place)."""
    network = _network(ls, "relu", parameters)
    for layer in range(1, network.n_layers + 1):
        for name in ("W", "b"):
            value = parameters[f"{name}{layer}"]
            if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
                kind = (
                    f"{value.dtype} array"
                    if isinstance(value, np.ndarray)
                    else type(value).__name__
                )
                raise TypeError(
                    f"parameters['{name}{layer}'] must be a float NumPy array, which "
                    f"update_params changes in place, got {kind}: make it with "
                    f"np.array(..., dtype=float), as init_params does"
                )
            if not value.flags.writeable:
                raise ValueError(
                    f"parameters['{name}{layer}'] is a read-only array, which update_params "
                    f"cannot change in place: pass a writable copy, "
                    f"parameters['{name}{layer}'].copy()"
                )
    for layer in range(1, network.n_layers + 1):
        for name, views in (("W", network.weight_grads), ("b", network.bias_grads)):
            key = f"d{name}{layer}"
            if key not in grads:
                raise ValueError(f"grads has no {key!r}: expected the keys of backward_propagation")
            target = views[layer - 1]
            want = target.shape if name == "W" else (target.shape[0], 1)
            if np.shape(grads[key]) != want:
                raise ValueError(
                    f"grads[{key!r}] has shape {np.shape(grads[key])}, expected {want}, the "
                    f"shape of parameters['{name}{layer}'] for layer sizes "
                    f"{list(network.layer_sizes)}"
                )
            target[...] = np.reshape(grads[key], target.shape)
    SGD(learning_rate).step(network.params, network.grads)
    for layer in range(1, network.n_layers + 1):
        parameters[f"W{layer}"][...] = network.weights[layer - 1]
        parameters[f"b{layer}"][...] = network.biases[layer - 1].reshape(-1, 1)
    return parameters


# ---------------------------------------------------------------------- training and use
def multi_layer_neural_network(
    X: np.ndarray,
    Y: np.ndarray,
    n_hs: Sequence[int],
    num_epochs: int = 10000,
    learning_rate: float = 0.01,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
    print_cost: bool = False,
) -> tuple[Params, list[int]]:
    """Train by full-batch gradient descent; returns ``(parameters, ls)``.

    The initial weights come from :func:`init_params` (the global ``np.random`` state).
    Each epoch is the article's loop body, on the engine: one forward pass, the output
    gradient ``dZ[L] = (A[L] - Y) / m`` from :class:`~mlpzero.losses.BinaryCrossEntropy`,
    one backward pass and one :class:`~mlpzero.optimizers.SGD` update (with the numba
    backend on, the same steps run many epochs per compiled call,
    :func:`mlpzero.kernels.gradient_descent`; Ctrl-C is seen between calls, about a tenth
    of a second apart: :func:`mlpzero.training.compiled_call_epochs`). As in the article,
    the cost is computed only to be printed: with ``print_cost=True``, before the update
    of every 200th epoch, the article's cost
    ``-mean(Y log(A[L] + 1e-15) + (1 - Y) log(1 - A[L] + 1e-15))`` over every entry of
    ``Y``. Only the sigmoid output is trainable here, as in the article (binary
    classification). A parameter that becomes NaN or infinite stops training with
    :class:`~mlpzero.training.TrainingDivergedError`.
    """
    if output_activation != "sigmoid":
        raise ValueError(
            "output_activation must be 'sigmoid' for training (binary cross-entropy), "
            f"got {output_activation!r}"
        )
    _check_activation("hidden_activation", hidden_activation)
    num_epochs = check_int("num_epochs", num_epochs)
    ls = layer_sizes(X, Y, n_hs)
    # Every argument is checked before init_params draws from the global random state,
    # so that a refused call leaves the article's seeded sequence where it was.
    Y = np.ascontiguousarray(_check_labels(Y, ls[-1], np.shape(X)[1], np.shape(X)).T)
    loss, optimizer = BinaryCrossEntropy(), SGD(learning_rate)
    parameters = init_params(ls, activation=hidden_activation)
    network = _network(ls, hidden_activation, parameters)
    X = np.ascontiguousarray(_check_input(X, network).T)
    # Epochs per call of _descend: a compiled call cannot be interrupted, so Ctrl-C is
    # seen between calls of about a tenth of a second, as in MLP.fit.
    per_call = compiled_call_epochs(network, X.shape[0])
    epoch = 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        while epoch < num_epochs:
            span = min(num_epochs - epoch, per_call)
            if print_cost:
                if epoch % _PRINT_EVERY == 0:
                    cost = article_cost(sigmoid(network.forward(X)), Y)
                    print(f"Epoch {epoch}: cost = {cost:.4f}")
                span = min(span, _PRINT_EVERY - epoch % _PRINT_EVERY)
            done = _descend(network, loss, optimizer, X, Y, span)
            if done < span:
                largest = float(np.abs(X).max())  # read only now, as MLP.fit reads it
                scale = (
                    f", or rescale X, whose largest |X| is {largest:.3g}: standardise each "
                    "feature (row of X) to mean 0 and standard deviation 1"
                    if largest > _LARGE_FEATURE
                    else ""
                )
                raise TrainingDivergedError(
                    f"training diverged in epoch {epoch + done}: a parameter became NaN or "
                    f"infinite. The learning rate ({learning_rate:g}) is probably too high: "
                    f"try learning_rate={learning_rate / 10:g}{scale}",
                    epoch + done,
                )
            epoch += span
    return _to_dict(network), ls


def _descend(
    network: Network, loss: BinaryCrossEntropy, optimizer: SGD, X: np.ndarray, Y: np.ndarray,
    epochs: int,
) -> int:  # fmt: skip
    """``epochs`` epochs of the article's loop body on ``X`` ``(m, n_0)``, ``Y`` ``(m, 1)``;
    returns how many left every parameter finite (``epochs`` unless training diverged).

    With the numba backend on and a small network, the epochs run in one compiled call
    (:func:`mlpzero.kernels.gradient_descent`, the same steps); otherwise one by one here.
    """
    done = _kernels.gradient_descent(network, X, Y, optimizer.learning_rate, epochs, "sigmoid")
    if done is not None:
        return done
    for epoch in range(epochs):
        logits = network.forward(X)
        network.backward(loss.gradient(logits, Y, out=network.output_delta()))
        optimizer.step(network.params, network.grads)
        if not np.isfinite(network.params).all():
            return epoch
    return epochs


#: The article prints the cost every 200 epochs.
_PRINT_EVERY = 200


def predict(
    parameters: Params,
    ls: Sequence[int],
    X: np.ndarray,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> np.ndarray:
    """Boolean predictions ``A[L] > 0.5``, shape ``(n_outputs, m)``."""
    A_out, _ = forward_propagation(parameters, ls, X, hidden_activation, output_activation)
    return A_out > 0.5


def plot_decision_boundary(
    predict: Callable[..., np.ndarray],
    parameters: Params,
    ls: Sequence[int],
    X: np.ndarray,
    Y: np.ndarray,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
    *,
    path: Any = None,
) -> Any:
    """Colour the plane by ``predict``'s class and draw the points of ``X`` ``(2, m)``.

    As in the article, the colours are the predicted classes, 0 and 1, and the colour
    scale says so. Returns the matplotlib Figure (saved to ``path`` when given); it never
    opens a window.
    """
    from .plotting._figure import check_figure_path, save
    from .plotting.boundary import plot_decision_boundary as _plot

    def classes(points: np.ndarray) -> np.ndarray:
        # points are rows (n, 2); the article's predict takes columns.
        predicted = predict(parameters, ls, points.T, hidden_activation, output_activation)
        predicted = np.asarray(predicted, dtype=float)
        if predicted.size != len(points):  # a network of several outputs
            raise ValueError(
                f"predict must give one class per example, shape (1, m), to colour the "
                f"plane; it gave shape {predicted.shape} for {len(points)} examples "
                f"(layer sizes {list(ls)})"
            )
        return predicted.reshape(-1)

    X = _as_2d("X", X)
    if X.shape[0] != 2:  # checked here, in the article's layout, not as the rows below
        transposed = ", which looks transposed: pass X.T" if X.shape[1] == 2 else ""
        raise ValueError(
            "X must have 2 rows (features) to draw a plane, one column per example, got "
            f"shape {X.shape}{transposed}"
        )
    labels = np.asarray(Y)
    if labels.size != X.shape[1]:
        raise ValueError(
            f"Y must hold one label per example, shape (1, {X.shape[1]}) as X has "
            f"{X.shape[1]} columns, got shape {labels.shape}"
        )
    labels = labels.reshape(-1)
    if path is not None:
        check_figure_path(path)
    figure = _plot(classes, X.T, labels)
    if len(figure.axes) > 1:  # the colour scale: classes, not probabilities
        scale = figure.axes[-1]
        scale.set_ylabel("predicted class")
        scale.set_yticks([0.0, 1.0])
    return save(figure, path)


# ---------------------------------------------------------------------- translation
def _as_2d(name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        sample = np.asarray(value, dtype=object).ravel()[:3].tolist()
        raise ValueError(f"{name} must be numeric, got values such as {sample}") from None
    if array.ndim != 2:
        rows = "labels (outputs)" if name == "Y" else "features"
        hint = ""
        if array.ndim == 1 and name == "Y":
            hint = ": one row of labels is Y.reshape(1, -1)"
        elif array.ndim == 1:
            hint = f": one example is {name}.reshape(-1, 1), one feature {name}.reshape(1, -1)"
        raise ValueError(
            f"{name} must be 2-D in the article's layout (rows are {rows}, columns are "
            f"examples), got shape {array.shape}{hint}"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty: got shape {array.shape}")
    if not np.isfinite(array).all():
        row, column = np.argwhere(~np.isfinite(array))[0].tolist()
        raise ValueError(f"{name} contains NaN or infinity (first at row {row}, column {column})")
    return array


def _check_activation(name: str, activation: Any, engine: bool = True) -> str:
    """``activation``, a key of :data:`ACTIVATIONS`; with ``engine``, for layers the engine
    computes, also one of the tutorial's own entries (the engine would not call others)."""
    if activation not in ACTIVATIONS:
        known = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"{name} must be one of {known}, got {activation!r}")
    if engine and ACTIVATIONS[activation] != _OWN_ACTIVATIONS.get(activation):
        own = ", ".join(repr(k) for k in _OWN_ACTIVATIONS)
        raise ValueError(
            f"{name}={activation!r}: ACTIVATIONS[{activation!r}] is not the tutorial's own "
            f"pair; hidden layers run on mlpzero's engine, which computes only {own} "
            "itself and would not call the functions put there"
        )
    return activation


def _check_output_range(name: str, value: Any, low: float, activation: str) -> np.ndarray:
    """``value`` as a float array, refused unless every entry is in ``[low, 1]``, the
    range of ``activation``'s outputs (outside it the derivative has no meaning)."""
    array = np.asarray(value, dtype=float)
    inside = (array >= low) & (array <= 1)
    if not inside.all():
        where = np.unravel_index(int(np.argmin(inside)), array.shape)
        position = f" at index {tuple(int(i) for i in where)}" if array.ndim else ""
        raise ValueError(
            f"{name} must be {activation} outputs, in [{low:g}, 1]; got "
            f"{float(array[where]):g}{position}"
        )
    return array


def _check_sigmoid_output(cache: Params, last: int, logits: np.ndarray) -> None:
    """Refuse a cache whose ``A[L]`` is not ``sigmoid(Z[L])``: the output gradient
    ``A[L] - Y`` holds only for the sigmoid output with binary cross-entropy."""
    key = f"A{last}"
    if key not in cache:
        return
    cached = np.asarray(cache[key], dtype=np.float64)
    expected = sigmoid(logits.T)
    if cached.shape != expected.shape or not np.allclose(cached, expected, rtol=1e-6, atol=1e-12):
        raise ValueError(
            f"cache[{key!r}] is not sigmoid(cache['Z{last}']): backward_propagation assumes "
            "the sigmoid output with binary cross-entropy (dZ[L] = A[L] - Y); call "
            "forward_propagation with output_activation='sigmoid'"
        )


def _check_input(X: Any, network: Network) -> np.ndarray:
    X = _as_2d("X", X)
    if X.shape[0] != network.layer_sizes[0]:
        transposed = (
            f": X has shape {X.shape}, which looks transposed: pass X.T"
            if X.shape[1] == network.layer_sizes[0]
            else ""
        )
        raise ValueError(
            f"X has {X.shape[0]} rows (features), but ls[0] is {network.layer_sizes[0]}"
            + transposed
        )
    return X


def _check_labels(
    Y: Any, n_outputs: int, m: int, x_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """``Y`` as ``(n_outputs, m)``; ``x_shape``, when given, names an ``X`` whose rows are
    the examples when ``Y``'s shape points to it."""
    Y = _as_2d("Y", Y)
    if Y.shape[1] != m and Y.shape[0] != m and x_shape is not None:
        if Y.shape[1] == x_shape[0]:
            raise ValueError(
                f"X has shape {x_shape}: the article's layout has one column per example, "
                f"and Y has {Y.shape[1]} columns (examples); X looks transposed: pass X.T"
            )
        if Y.shape[0] == x_shape[0]:
            raise ValueError(
                f"X and Y have one row per example (shapes {x_shape} and {Y.shape}); the "
                "article's layout has one column per example: pass X.T and Y.T"
            )
    if Y.shape[1] != m:
        transposed = ", which looks transposed: pass Y.T" if Y.shape[0] == m else ""
        raise ValueError(
            f"Y must have one column per example: shape (n_outputs, {m}), as X has {m} "
            f"columns; got shape {Y.shape}{transposed}"
        )
    if Y.shape[0] != n_outputs:
        raise ValueError(
            f"Y has {Y.shape[0]} rows, but the output layer ls[-1] has {n_outputs}: "
            f"Y must have shape ({n_outputs}, {m})"
        )
    labels = np.unique(Y)
    if not np.isin(labels, (0.0, 1.0)).all():
        others = labels[~np.isin(labels, (0.0, 1.0))][:5].tolist()
        raise ValueError(
            f"Y must hold binary labels 0 and 1 (sigmoid output with binary cross-entropy), "
            f"got other values: {others}"
        )
    return Y


def _network(
    ls: Sequence[int], activation: str, parameters: Params | None = None, rng: Any = None
) -> Network:
    """A float64 engine network for ``ls``, filled from ``parameters`` when given.

    The initialiser follows the article's rule for every layer (He for ReLU, Xavier
    otherwise), also when there is no hidden layer.
    """
    init = _initializers.default_for(activation)
    network = Network(ls, activation, init=init, dtype="float64", rng=0 if rng is None else rng)
    if parameters is not None:
        for layer in range(1, network.n_layers + 1):
            for name, views in (("W", network.weights), ("b", network.biases)):
                key = f"{name}{layer}"
                if key not in parameters:
                    raise ValueError(
                        f"parameters has no {key!r}: expected the keys of init_params for "
                        f"layer sizes {list(network.layer_sizes)}"
                    )
                target = views[layer - 1]
                value = np.asarray(parameters[key], dtype=np.float64)
                want = target.shape if name == "W" else (target.shape[0], 1)
                if value.shape != want:
                    raise ValueError(
                        f"parameters[{key!r}] has shape {value.shape}, expected {want} "
                        f"for layer sizes {list(network.layer_sizes)}"
                    )
                target[...] = value.reshape(target.shape)
        beyond = [f"{name}{network.n_layers + 1}" for name in ("W", "b")]
        if any(key in parameters for key in beyond):
            # A shorter ls would run (and update) only the first layers, silently.
            raise ValueError(
                f"parameters has {beyond[0]!r}, a layer beyond the {network.n_layers} of "
                f"layer sizes {list(network.layer_sizes)}: pass the ls that came with these "
                "parameters (from multi_layer_neural_network or layer_sizes)"
            )
    return network


def _to_dict(network: Network) -> Params:
    parameters: Params = {}
    for layer in range(1, network.n_layers + 1):
        parameters[f"W{layer}"] = network.weights[layer - 1].copy()
        parameters[f"b{layer}"] = network.biases[layer - 1].reshape(-1, 1).copy()
    return parameters
