r"""The layer stack: parameters in one flat buffer, forward with a cache, backward.

Shapes (samples are rows): the input ``X`` is ``(m, n_0)``; layer ``l`` has weights
``W[l]`` of shape ``(n_l, n_{l-1})`` (the article's orientation) and bias ``b[l]`` of
shape ``(n_l,)``. Forward propagation computes, for ``l = 1 .. L``,

.. math:: Z^{[l]} = A^{[l-1]} W^{[l]T} + b^{[l]}, \qquad A^{[l]} = g^{[l]}(Z^{[l]}),

with ``A[0] = X``. The output layer is linear: :meth:`Network.forward` returns the logits
``Z[L]``, and the loss applies the output link (see :mod:`mlpzero.losses`).

Backward propagation takes ``dZ[L] = dL/dZ[L]`` (``(A - Y) / m`` for every loss here)
and walks back:

.. math::
    dW^{[l]} = dZ^{[l]T} A^{[l-1]}, \qquad db^{[l]} = \textstyle\sum_i dZ^{[l]}_{i},
    \qquad dZ^{[l-1]} = (dZ^{[l]} W^{[l]}) \odot g'^{[l-1]}(Z^{[l-1]}).

The ``1/m`` of the article's ``dW = dZ A^T / m`` lives in ``dZ[L]``, where the loss puts
it, and so reaches every layer.

With the numba backend (:mod:`mlpzero.kernels`, the default where numba is installed), a
network whose layers are all narrow runs each of the two passes as one compiled call over
the same buffers; in any other network, the work around each matrix product (bias and
activation; derivative and bias gradient) is one compiled pass per layer.

All weights and biases are views into one contiguous vector :attr:`Network.params`
(layer by layer: ``W[1]`` row-major, ``b[1]``, ``W[2]``, ...); the gradients are the same
views into :attr:`Network.grads`. An optimizer step is a few operations on two vectors.
Buffers for the activations of a batch size are allocated once and reused.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from . import kernels as _kernels
from .activations import Activation
from .regularizers import dropout_rates
from .validation import check_dtype, check_int

__all__ = ["CHUNK_MAX_BYTES", "CHUNK_ROWS", "Network", "resolve_activations"]

#: Most rows per forward pass when a whole data set goes through a network in blocks
#: (prediction, evaluation, the L-BFGS objective); a wide network takes fewer
#: (:attr:`Network.chunk_rows`).
CHUNK_ROWS = 4096
#: Most bytes a pass over a data set may hold in blocks of rows: the dense input block
#: and the network's buffers for it (:attr:`Network.chunk_rows`).
CHUNK_MAX_BYTES = 64 << 20

_MAX_WORKSPACES = 4
#: Fewest samples for which the per-layer kernels replace the NumPy calls around the
#: products: below it the kernels' per-row loops are too short to pay for their calls.
_FUSED_ROWS = 16
#: Bounds, in multiply-adds, of the matrix products whose second operand is copied into
#: row order first when it is a transposed view (``W X^T``, ``dZ^T A``: both operands
#: stored by rows, summed along both rows). OpenBLAS runs products up to
#: ``_SMALL_PRODUCT`` multiply-adds in one thread when both operands are in row order,
#: but hands them to its threads from ``_THREADED_PRODUCT`` on when one is such a view.
#: The hand-off costs little on idle cores and up to milliseconds when other processes
#: hold them (``benchmarks/contention.py``); the copy is one pass over the operand, of at
#: most ``_MAX_COPY`` values (every such product whose first operand has 16 rows or more).
_THREADED_PRODUCT = 1 << 18
_SMALL_PRODUCT = 1_000_000
_MAX_COPY = 1 << 16


class _Workspace:
    """Reusable buffers for one batch size.

    The buffers are stored transposed, one row per unit and one column per sample
    (``Z[l]^T`` is ``(n_l, m)``, the article's layout): a bias then broadcasts along
    rows of length ``m`` and the bias gradient sums along them, which keeps NumPy's inner
    loops long even for layers of a few units. ``pre``, ``post`` and ``delta`` are the
    ``(m, n_l)`` views of ``Z[l]``, ``A[l]`` and ``dZ[l]`` that the public API shows.

    Each kind lives in one flat vector, layer ``l``'s block after layer ``l - 1``'s, the
    layout the compiled kernels read (:mod:`mlpzero.kernels`); ``post_flat`` keeps a block
    for the output layer too, unused, so that all three share their offsets.
    """

    def __init__(self, rows: int, sizes: Sequence[int], dtype: np.dtype) -> None:
        self.pre_flat = np.empty(sum(sizes[1:]) * rows, dtype=dtype)
        self.post_flat = np.empty_like(self.pre_flat)
        self.delta_flat = np.empty_like(self.pre_flat)
        self.pre_t = _blocks(self.pre_flat, sizes[1:], rows)
        self.post_t = _blocks(self.post_flat, sizes[1:-1], rows)
        self.delta_t = _blocks(self.delta_flat, sizes[1:], rows)
        self.pre = [z.T for z in self.pre_t]
        self.post = [a.T for a in self.post_t]
        self.delta = [d.T for d in self.delta_t]
        #: ``X^T`` as ``(n_0, m)``, filled by the compiled forward pass (made on first use).
        self.inputs: np.ndarray | None = None
        #: ``X`` after the network's input transform, ``(m, n_0)`` (made on first use).
        self.transformed: np.ndarray | None = None
        self._input_size = sizes[0] * rows
        #: Room for the operand :meth:`product` copies (made on first use).
        self._operand: np.ndarray | None = None
        self._operand_size = _largest_copy(sizes, rows, rows)

    def input_buffer(self) -> np.ndarray:
        if self.inputs is None:
            self.inputs = np.empty(self._input_size, dtype=self.pre_flat.dtype)
        return self.inputs

    def product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out = a @ b``, ``(p, k) @ (k, q)``, copying ``b`` into row order first when
        it is a transposed view and the product is small (:data:`_SMALL_PRODUCT`, and
        ``b`` at most :data:`_MAX_COPY` values)."""
        work = a.shape[0] * a.shape[1] * b.shape[1]
        small = _THREADED_PRODUCT < work <= _SMALL_PRODUCT and b.size <= _MAX_COPY
        if small and not b.flags.c_contiguous:
            if self._operand is None:
                self._operand = np.empty(self._operand_size, dtype=self.pre_flat.dtype)
            copy = self._operand[: b.size].reshape(b.shape)
            np.copyto(copy, b)
            b = copy
        np.matmul(a, b, out=out)


def _copy_bounds(sizes: Sequence[int]) -> Iterator[tuple[int, int, int]]:
    """``(n_{l-1}, fewest, most)`` for each layer ``l``: its products over ``r`` rows,
    ``W A^T`` forward and ``dZ^T A`` backward, take ``n_l n_{l-1} r`` multiply-adds and
    an operand of ``n_{l-1} r`` values, which :meth:`_Workspace.product` copies when ``r``
    is from ``fewest`` to ``most``."""
    for n_in, n_out in pairwise(sizes):
        fewest = _THREADED_PRODUCT // (n_out * n_in) + 1
        yield n_in, fewest, min(_SMALL_PRODUCT // (n_out * n_in), _MAX_COPY // n_in)


def _largest_copy(sizes: Sequence[int], fewest_rows: int, most_rows: int) -> int:
    """The most values :meth:`_Workspace.product` copies for a pass over a number of rows
    from ``fewest_rows`` to ``most_rows`` (0: it copies nothing)."""
    return max(
        (
            n_in * min(most, most_rows)
            for n_in, fewest, most in _copy_bounds(sizes)
            if max(fewest, fewest_rows) <= min(most, most_rows)
        ),
        default=0,
    )


def _layer_size(index: int, size: Any) -> int:
    """Entry ``index`` of ``layer_sizes`` as an int; a float or a string is refused rather
    than truncated (``int(3.7)`` would build a layer of 3 units)."""
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
        raise TypeError(
            f"layer_sizes[{index}] must be an integer, got {type(size).__name__} {size!r}"
        )
    return int(size)


def _blocks(flat: np.ndarray, sizes: Sequence[int], rows: int) -> list[np.ndarray]:
    """Consecutive ``(n, rows)`` views into ``flat``, one per entry of ``sizes``."""
    views, offset = [], 0
    for n in sizes:
        views.append(flat[offset : offset + n * rows].reshape(n, rows))
        offset += n * rows
    return views


#: Every network alive: a child process made by fork gives each a new lock (below).
_NETWORKS: weakref.WeakSet[Network] = weakref.WeakSet()


def _new_lock(network: Network) -> threading.RLock:
    """A new lock for ``network``'s buffers, renewed in every child process made by fork."""
    _NETWORKS.add(network)
    return threading.RLock()


def _renew_locks_after_fork() -> None:
    """In a child process made by fork, free the locks other threads of the parent held.

    Only the thread that forked goes on in the child: a network's lock held at that moment
    by another thread (predicting, or training) would stay held for ever, and every
    prediction of the child would wait for it. A lock the forking thread holds itself (a
    fork from inside ``fit``) stays, so that its ``with`` block releases it as usual.
    """
    for network in list(_NETWORKS):
        lock = network.__dict__.get("_lock")
        if lock is not None and not lock._is_owned():
            network._lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_locks_after_fork)


class Network:
    """A stack of dense layers with per-layer hidden activations and a linear output.

    Parameters
    ----------
    layer_sizes:
        ``[n_inputs, hidden_1, ..., n_outputs]``, at least two entries.
    activation:
        The hidden activation: a name, an :class:`~mlpzero.activations.Activation`, or a
        list with one per hidden layer.
    init:
        An initialiser name or callable; ``None`` picks He or Xavier per layer from its
        activation, as the article does.
    dtype:
        ``"float32"`` (default) or ``"float64"``.
    rng:
        Source of the initial weights: a :class:`numpy.random.Generator`, the legacy
        ``numpy.random`` module (the article's global seed), or an int seed.
    params:
        Flat parameters ``(n_params,)`` to start from, copied in, instead of drawing
        initial weights (``rng`` is then unused), as when a saved model is loaded.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "relu",
        init: str | Any | None = None,
        dtype: str | np.dtype = "float32",
        rng: Any = None,
        params: Any = None,
    ) -> None:
        if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Iterable):
            raise TypeError(  # bytes would be read as character codes: b"32" as [51, 50]
                "layer_sizes must be a sequence of layer sizes, [n_inputs, hidden_1, ..., "
                f"n_outputs], got {type(layer_sizes).__name__} {layer_sizes!r}"
            )
        sizes = [_layer_size(index, n) for index, n in enumerate(layer_sizes)]
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise ValueError(
                f"layer_sizes must hold at least two positive sizes, got {list(layer_sizes)!r}"
            )
        self._layer_sizes = tuple(sizes)
        self._activations = tuple(resolve_activations(activation, len(sizes) - 2))
        self._dtype = check_dtype(dtype)
        self.init = init

        counts = [(n_out * n_in, n_out) for n_in, n_out in pairwise(sizes)]
        self.n_params = sum(w + b for w, b in counts)
        self._params = np.zeros(self.n_params, dtype=self.dtype)
        self._grads = np.zeros(self.n_params, dtype=self.dtype)
        self.weights, self.biases = _layer_views(self.params, sizes)
        self.weight_grads, self.bias_grads = _layer_views(self.grads, sizes)
        self._weights_t = [w.T for w in self.weights]
        self._bias_columns = [b[:, None] for b in self.biases]
        #: Boolean mask over :attr:`params`: True where the entry is a weight, not a bias.
        self.weight_mask = np.zeros(self.n_params, dtype=bool)
        offset = 0
        for n_weights, n_biases in counts:
            self.weight_mask[offset : offset + n_weights] = True
            offset += n_weights + n_biases

        self._workspaces: dict[int, _Workspace] = {}
        self._lock = _new_lock(self)
        self._input: np.ndarray | None = None
        self._dropout_rates: list[float] = [0.0] * (len(sizes) - 2)
        #: Generator for the dropout masks (set by the trainer; a fresh one if None).
        self.dropout_rng: np.random.Generator | None = None
        self._dropout_buffers: dict[int, _Dropout] = {}
        self._dropout: _Dropout | None = None  # masks of the last training forward pass
        self._rows = 0
        #: The compiled kernels the last forward pass ran on (None: it ran on NumPy).
        self._pass_kernels: Any = None
        self._plan = _kernels.plan_for(sizes, self.activations, self.dtype)
        #: A fixed transform of the inputs (``apply(X, out=)``), applied by every forward
        #: pass before the first layer: the model's standardisation, or None.
        self.input_transform: Any = None
        self._layer_codes = _kernels.layer_codes(self.activations, self.dtype)
        if params is None:
            self.initialize(rng)
            return
        for init in [self.init] if self.init is not None else self.init_names():
            _initializers.get(init)  # an unknown name is refused as initialize refuses it
        params = np.asarray(params)
        if params.shape != self.params.shape:
            raise ValueError(
                f"params must hold the network's {self.n_params} parameters, got an array "
                f"of shape {params.shape}"
            )
        _fill("params", self.params, params)

    # ------------------------------------------------------------------ set-up
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_inputs, hidden_1, ..., n_outputs)``, fixed once the network is made: the
        parameter buffers and the compiled kernels' plan are laid out from it."""
        return self._layer_sizes

    @property
    def activations(self) -> tuple[Activation, ...]:
        """The activation of each hidden layer, fixed once the network is made: the
        compiled kernels run the ones they were planned for."""
        return self._activations

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters and of every pass, fixed once the network is made."""
        return self._dtype

    @property
    def lock(self) -> threading.RLock:
        """The lock of the network's reused buffers: :meth:`predict_logits` and the
        model's predictions and training each hold it, so that threads sharing a model
        take turns instead of writing into one another's passes. Hold it around your own
        :meth:`forward` and :meth:`backward` calls when other threads use the network. A
        child process made by fork gets the lock free, whichever other thread held it."""
        return self._lock

    @property
    def params(self) -> np.ndarray:
        """Every weight and bias in one vector, the buffer :attr:`weights` and
        :attr:`biases` are views of. Assigning to it copies the values into that buffer
        (same length), so the views keep seeing them."""
        return self._params

    @params.setter
    def params(self, values: Any) -> None:
        _fill("params", self._params, values)

    @property
    def grads(self) -> np.ndarray:
        """The gradient of every parameter, laid out as :attr:`params`; the buffer
        :attr:`weight_grads` and :attr:`bias_grads` are views of. Assigning copies."""
        return self._grads

    @grads.setter
    def grads(self, values: Any) -> None:
        _fill("grads", self._grads, values)

    @property
    def dropout(self) -> list[float]:
        """Dropout rate of each hidden layer, used by ``forward(X, training=True)`` only.

        Set it to one rate for every hidden layer or a list with one per layer, each in
        ``[0, 1)``, as ``MLP(dropout=...)`` takes it; anything else is refused when set.
        """
        return self._dropout_rates

    @dropout.setter
    def dropout(self, rates: float | Sequence[float]) -> None:
        self._dropout_rates = dropout_rates(rates, len(self.layer_sizes) - 2, self.dtype)

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers plus the output layer)."""
        return len(self.layer_sizes) - 1

    def initialize(self, rng: Any = None) -> None:
        """Draw fresh weights layer by layer (``W[1]``, ``W[2]``, ...) and zero the biases."""
        seed = isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_))
        if seed and rng < 0:
            raise ValueError(f"rng must be a seed >= 0 or a generator, got {rng!r}")
        if rng is None or seed:
            rng = np.random.default_rng(rng)
        elif not hasattr(rng, "standard_normal"):
            raise TypeError(
                "rng must be a numpy.random.Generator, the numpy.random module or an int "
                f"seed, got {type(rng).__name__} {rng!r}"
            )
        names = self.init_names()
        for layer, w in enumerate(self.weights):
            fan_out, fan_in = w.shape
            init = self.init if self.init is not None else names[layer]
            drawn = np.asarray(_initializers.get(init)(fan_in, fan_out, rng))
            if drawn.shape != w.shape:  # a row or column would broadcast to every unit
                raise ValueError(
                    f"initializer {_initializers.name_of(init)} returned weights of shape "
                    f"{drawn.shape} for layer {layer + 1}; expected (fan_out, fan_in) = {w.shape}"
                )
            w[...] = drawn
            if not np.isfinite(w).all():  # NaN weights would only show as NaN losses
                raise ValueError(
                    f"initializer {_initializers.name_of(init)} returned non-finite weights "
                    f"for layer {layer + 1} (fan_in={fan_in}, fan_out={fan_out}, stored as "
                    f"{self.dtype.name})"
                )
        for b in self.biases:
            b.fill(0)

    def init_names(self) -> list[str]:
        """The initialiser of each layer, by name.

        Without an explicit ``init``, each hidden layer follows its activation (He for
        ReLU-like, Xavier otherwise) and the output layer follows the last hidden layer, as
        the article uses one scheme for the whole network.
        """
        if self.init is not None:
            return [_initializers.name_of(self.init)] * self.n_layers
        if not self.activations:
            return ["xavier_normal"]
        names = [_initializers.default_for(a) for a in self.activations]
        return [*names, names[-1]]

    # ------------------------------------------------------------------ passes
    def _workspace(self, rows: int) -> _Workspace:
        ws = self._workspaces.get(rows)
        if ws is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.clear()
            ws = self._workspaces[rows] = _Workspace(rows, self.layer_sizes, self.dtype)
        return ws

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute the logits ``Z[L]`` for ``X`` of shape ``(m, n_0)``.

        The returned array, and the cache that :meth:`backward` uses, live in buffers
        reused by the next call with the same number of rows: copy the result to keep it.
        ``X`` should already have the network's dtype (the model converts it); another
        number of columns, or a 1-D ``X``, is refused.

        With an :attr:`input_transform`, the layers see ``input_transform.apply(X)``
        (kept in a reused buffer) rather than ``X``, and the cache's ``A[0]`` is that.

        ``training=True`` applies inverted dropout to each hidden layer ``l`` with a rate
        ``p = dropout[l] > 0``: the layer passes on ``A * M`` with
        ``M = Bernoulli(1 - p) / (1 - p)`` drawn from :attr:`dropout_rng`, so the expected
        value of each unit is unchanged; :meth:`backward` uses the same masks.
        """
        if np.ndim(X) != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"X must have shape (m, {self.layer_sizes[0]}), one row per sample, "
                f"got shape {np.shape(X)}"
            )
        rows = X.shape[0]
        ws = self._workspaces.get(rows) or self._workspace(rows)
        if self.input_transform is not None:  # X becomes A[0], what the first layer reads
            if ws.transformed is None:
                ws.transformed = np.empty((rows, self.layer_sizes[0]), dtype=self.dtype)
            X = self.input_transform.apply(X, out=ws.transformed)
        dropping = training and any(self.dropout)
        compiled = _kernels.compiled()
        use_kernels = (
            compiled is not None
            and self._plan is not None
            and not dropping
            and _kernels.suits(self._plan, X, self.dtype)
        )
        self._pass_kernels = compiled if use_kernels else None
        if use_kernels:
            plan, inputs = self._plan, ws.input_buffer()
            n_0 = plan.sizes[0]
            np.copyto(inputs[: n_0 * rows].reshape(n_0, rows), X.T)  # X^T, as the kernel reads
            compiled.forward(
                self.params, plan.sizes, plan.codes, plan.alphas, rows,
                inputs, ws.pre_flat, ws.post_flat,
            )  # fmt: skip
            self._record_compiled_pass(compiled, X)
            return ws.pre[-1]
        drop = self._dropout_masks(rows) if dropping else None
        last = len(self.weights) - 1
        a_t = X.T
        for layer, (w, z_t) in enumerate(zip(self.weights, ws.pre_t, strict=True)):
            ws.product(w, a_t, z_t)  # Z^T = W A^T + b, as (n_l, m)
            if layer == last:
                self._add_bias(compiled, layer, z_t)
            else:
                a_t = self._add_bias_activate(compiled, layer, z_t, ws.post_t[layer])
                if drop is not None and self.dropout[layer]:
                    a_t = drop.apply(layer, a_t)
        self._dropout = drop
        self._input = X
        self._rows = rows
        return ws.pre[-1]

    @property
    def kernel_plan(self) -> _kernels.SmallNetworkPlan | None:
        """What the compiled small-network kernels need to run this network (sizes,
        activation codes), or None when they never serve it (:func:`~mlpzero.kernels.plan_for`)."""
        return self._plan

    def pass_buffers(self, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The flat buffers of a pass over ``rows`` samples, in the compiled kernels' layout:
        ``X^T``, then ``Z``, ``A`` and ``dZ`` of every layer, each layer's ``(n_l, rows)``
        block after the previous one's. After a compiled pass has filled them, call
        :meth:`record_compiled_pass`."""
        ws = self._workspace(rows)
        return ws.input_buffer(), ws.pre_flat, ws.post_flat, ws.delta_flat

    def record_compiled_pass(self, X: np.ndarray) -> None:
        """The compiled kernels just ran a forward pass on ``X`` into :meth:`pass_buffers`:
        :meth:`backward` and :meth:`cache` now refer to it."""
        self._record_compiled_pass(_kernels.compiled(), X)

    def _add_bias(self, compiled: Any, layer: int, z_t: np.ndarray) -> None:
        """``Z^T += b`` for layer ``layer`` (the output layer), in place."""
        if compiled is not None and z_t.shape[1] >= _FUSED_ROWS:
            compiled.add_bias_activate(z_t, self.biases[layer], z_t, -1, 0.0)
        else:
            np.add(z_t, self._bias_columns[layer], out=z_t)

    def _add_bias_activate(
        self, compiled: Any, layer: int, z_t: np.ndarray, a_t: np.ndarray
    ) -> np.ndarray:
        """``Z^T += b``, then ``A^T = g(Z^T)`` into ``a_t``, for hidden layer ``layer``.

        With the numba backend on and a built-in activation it serves, both in one pass.
        """
        fused = self._layer_codes[layer]
        if compiled is not None and fused is not None and z_t.shape[1] >= _FUSED_ROWS:
            compiled.add_bias_activate(z_t, self.biases[layer], a_t, *fused)
            return a_t
        np.add(z_t, self._bias_columns[layer], out=z_t)
        return self.activations[layer](z_t, out=a_t)

    def _slope_and_bias_gradient(
        self, compiled: Any, layer: int, a_t: np.ndarray | None, delta_t: np.ndarray
    ) -> None:
        """``dZ^T *= g'`` (read from ``A^T``; skipped for the output layer, ``a_t`` None)
        in place, then ``db = sum over samples of dZ^T`` for layer ``layer``.

        With the numba backend on and a built-in activation it serves, both in one pass.
        """
        fused = (-1, 0.0) if a_t is None else self._layer_codes[layer]
        if compiled is not None and fused is not None and delta_t.shape[1] >= _FUSED_ROWS:
            compiled.slope_and_bias_gradient(
                delta_t, delta_t if a_t is None else a_t, self.bias_grads[layer], *fused
            )
            return
        if a_t is not None:
            self.activations[layer].backward(a_t, delta_t)
        np.add.reduce(delta_t, axis=1, out=self.bias_grads[layer])  # sum over samples

    def _record_compiled_pass(self, compiled: Any, X: np.ndarray) -> None:
        """The compiled kernels just ran a forward pass on ``X``: :meth:`backward` and
        :meth:`cache` now refer to it."""
        self._pass_kernels, self._input, self._rows, self._dropout = compiled, X, X.shape[0], None

    def _dropout_masks(self, rows: int) -> _Dropout:
        drop = self._dropout_buffers.get(rows)
        if drop is None or drop.rates != self.dropout:
            if len(self._dropout_buffers) >= _MAX_WORKSPACES:
                self._dropout_buffers.clear()
            drop = _Dropout(rows, self.layer_sizes[1:-1], self.dropout, self.dtype)
            self._dropout_buffers[rows] = drop
        if self.dropout_rng is None:
            self.dropout_rng = np.random.default_rng()
        drop.rng = self.dropout_rng
        return drop

    def backward(self, dlogits: np.ndarray) -> np.ndarray:
        """Fill :attr:`grads` from ``dL/dZ[L]`` (shape ``(m, n_L)``) of the last forward.

        Returns the flat gradient vector :attr:`grads`. The per-layer ``dZ`` stay in the
        cache (:meth:`cache`).
        """
        if self._input is None:
            raise ValueError(
                "backward needs a forward pass first: call forward(X) on the batch, then "
                "backward with dL/dZ[L] of shape (len(X), n_outputs)"
            )
        if dlogits.shape != (self._rows, self.layer_sizes[-1]):
            raise ValueError(
                "backward needs the forward pass of the same batch first: expected dlogits of "
                f"shape {(self._rows, self.layer_sizes[-1])}, got {dlogits.shape}"
            )
        ws = self._workspaces[self._rows]
        if dlogits is not ws.delta[-1]:
            ws.delta[-1][...] = dlogits
        if self._pass_kernels is not None:  # the backward of the forward that ran
            plan = self._plan
            self._pass_kernels.backward(
                self.params, self.grads, plan.sizes, plan.codes, plan.alphas,
                ws.inputs, ws.post_flat, ws.delta_flat, self._rows,
            )  # fmt: skip
            return self.grads
        drop = self._dropout
        compiled = _kernels.compiled()
        delta_t = ws.delta_t[-1]
        self._slope_and_bias_gradient(compiled, self.n_layers - 1, None, delta_t)
        for layer in range(len(self.weights) - 1, -1, -1):
            a_prev_t = self._input.T if layer == 0 else ws.post_t[layer - 1]
            masked = drop is not None and layer > 0 and drop.masks[layer - 1] is not None
            inputs_t = drop.outputs[layer - 1] if masked else a_prev_t
            ws.product(delta_t, inputs_t.T, self.weight_grads[layer])  # dZ^T A
            if layer > 0:
                below_t = ws.delta_t[layer - 1]
                w_t = self._weights_t[layer]
                if w_t.shape[1] == 1:  # one unit: an outer product, cheaper broadcast
                    np.multiply(w_t, delta_t, out=below_t)
                else:
                    np.matmul(w_t, delta_t, out=below_t)  # (dZ W)^T = W^T dZ^T
                if masked:
                    below_t *= drop.masks[layer - 1]
                # dZ[l-1] = (dZ W) * g'(Z[l-1]); db[l-1] sums it over samples
                self._slope_and_bias_gradient(compiled, layer - 1, a_prev_t, below_t)
                delta_t = below_t
        return self.grads

    def output_delta(self) -> np.ndarray:
        """The buffer that holds ``dZ[L]`` for the last forward pass's batch size.

        A loss may write its gradient straight into it, saving :meth:`backward` a copy.
        """
        return self._workspace(self._rows).delta[-1]

    def cache(self) -> dict[str, list[np.ndarray]]:
        """The last pass's intermediate values (views): ``Z``, ``A`` and ``dZ`` per layer.

        ``A`` starts with the input ``A[0] = X`` and ends with the last hidden layer.
        """
        ws = self._workspace(self._rows)
        return {
            "Z": list(ws.pre),
            "A": [self._input, *ws.post],
            "dZ": list(ws.delta),
        }

    @property
    def chunk_rows(self) -> int:
        """Rows per block when a whole data set goes through the network: at most
        :data:`CHUNK_ROWS`, and fewer so that a pass stays within :data:`CHUNK_MAX_BYTES`.

        A pass holds the caller's dense block of inputs, ``n_0`` values per row, and this
        network's buffers for two numbers of rows (the full blocks and the shorter last
        one; both stay cached after the pass). Those take, per row, a pre-activation,
        an output and an error per unit, ``3 (n_1 + ... + n_L)`` values, and ``n_0`` more
        for the standardised input when there is an :attr:`input_transform`. Each may also
        hold the copy of one small product's operand (:meth:`_Workspace.product`): room
        for the largest such copy of a block of any size is kept twice.

        It depends on the network alone, so that a memory-mapped, sparse or in-memory
        ``X`` meets the same matrix products and gives the same outputs bit for bit.
        """
        n_0 = self.layer_sizes[0]
        cached = 3 * sum(self.layer_sizes[1:]) + (n_0 if self.input_transform is not None else 0)
        values = n_0 + 2 * cached
        budget = CHUNK_MAX_BYTES // self.dtype.itemsize - 2 * _largest_copy(
            self.layer_sizes, 1, CHUNK_ROWS
        )
        return max(1, min(CHUNK_ROWS, budget // values))

    def predict_logits(self, X: np.ndarray, chunk_rows: int | None = None) -> np.ndarray:
        """Logits for ``X`` as a new array, computed ``chunk_rows`` at a time (default
        :attr:`chunk_rows`).

        Overflow is not warned about here: inputs too large for the network give
        infinite or NaN logits (NaN too where only a hidden layer overflowed,
        :meth:`mark_overflow`), which the caller checks (see ``MLP.decision_function``).
        """
        chunk_rows = check_int("chunk_rows", chunk_rows, allow_none=True) or self.chunk_rows
        out = np.empty((X.shape[0], self.layer_sizes[-1]), dtype=self.dtype)
        with self._lock, np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], chunk_rows):
                stop = start + chunk_rows
                out[start:stop] = self.mark_overflow(self.forward(X[start:stop]))
        return out

    def mark_overflow(self, logits: np.ndarray) -> np.ndarray:
        """The last :meth:`forward` pass's ``logits`` ``(m, n_L)``, with NaN in every row
        where a hidden layer's ``Z[l]`` is not finite; the same array, changed in place.

        A sigmoid or tanh turns an infinite ``Z`` into a finite output, so the logits
        alone would not show a hidden layer that overflowed the dtype, and a sum that
        overflows part way may even have the wrong sign: the callers that check the logits
        for overflow see it in the NaN.
        """
        for Z in self._workspace(self._rows).pre[:-1]:
            finite = np.isfinite(Z)
            if not finite.all():
                logits[~finite.all(axis=1)] = np.nan
        return logits

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the flat vectors only: per-layer views and per-batch buffers are rebuilt.

        Pickle copies a view as an array of its own, so an unpickled network whose
        ``weights`` were pickled would no longer see its optimizer's updates to ``params``.
        """
        state = dict(self.__dict__)
        for views in ("weights", "biases", "weight_grads", "bias_grads"):
            del state[views]
        for views in ("_weights_t", "_bias_columns", "_plan", "_layer_codes", "_lock"):
            state.pop(views, None)
        state.update(
            _workspaces={}, _input=None, _rows=0, _dropout_buffers={}, _dropout=None,
            _pass_kernels=None,
        )  # fmt: skip
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "dropout" in state:  # pickled before the rates were checked when set
            state["_dropout_rates"] = list(state.pop("dropout"))
        for name in ("params", "grads"):  # pickled before they were properties
            if name in state:
                state[f"_{name}"] = state.pop(name)
        for name in ("layer_sizes", "activations"):  # pickled as lists, before properties
            if name in state:
                state[f"_{name}"] = tuple(state.pop(name))
        if "dtype" in state:
            state["_dtype"] = state.pop("dtype")
        self.__dict__.update(state)
        self.weights, self.biases = _layer_views(self.params, self.layer_sizes)
        self.weight_grads, self.bias_grads = _layer_views(self.grads, self.layer_sizes)
        self._weights_t = [w.T for w in self.weights]
        self._bias_columns = [b[:, None] for b in self.biases]
        self._plan = _kernels.plan_for(self.layer_sizes, self.activations, self.dtype)
        self._layer_codes = _kernels.layer_codes(self.activations, self.dtype)
        self._lock = _new_lock(self)

    # ------------------------------------------------------------------ description
    @property
    def config(self) -> dict[str, Any]:
        return {
            "layer_sizes": list(self.layer_sizes),
            "activations": [a.config for a in self.activations],
            "init": self.init_names(),
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        acts = [a.name for a in self.activations]
        return (
            f"Network(layer_sizes={list(self.layer_sizes)}, activation={acts}, "
            f"dtype={self.dtype.name}, n_params={self.n_params})"
        )


class _Dropout:
    """Dropout masks and masked outputs of the hidden layers for one batch size, stored
    transposed ``(n_l, m)`` like the workspace."""

    def __init__(self, rows: int, sizes: Sequence[int], rates: Sequence[float], dtype) -> None:
        self.rates = list(rates)
        shapes = [(n, rows) if p else None for n, p in zip(sizes, rates, strict=True)]
        self.masks = [None if s is None else np.empty(s, dtype) for s in shapes]
        self.outputs = [None if s is None else np.empty(s, dtype) for s in shapes]
        self.rng: np.random.Generator | None = None

    def apply(self, layer: int, a: np.ndarray) -> np.ndarray:
        """``a * mask`` for hidden layer ``layer``, with a fresh inverted-dropout mask."""
        mask, out = self.masks[layer], self.outputs[layer]
        # The draws and the rate compared in the masks' dtype: a unit is kept with
        # probability 1 - p for p the rate rounded to it (exactly, for p >= 0.5), which
        # the survivors' scale must use too (float32: 1 - 1e-7 is 1 - 1.19e-7 there).
        rate = float(mask.dtype.type(self.rates[layer]))
        self.rng.random(dtype=mask.dtype, out=mask)  # uniform in [0, 1)
        np.greater_equal(mask, rate, out=mask, casting="unsafe")  # keep with prob. 1 - p
        mask *= mask.dtype.type(1 / (1 - rate))
        return np.multiply(a, mask, out=out)


def _fill(name: str, buffer: np.ndarray, values: Any) -> None:
    """Copy ``values`` into ``buffer``, refusing another shape by ``name``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":  # NumPy would drop an imaginary part, read text
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {values.dtype}")
    if values.shape != buffer.shape:
        raise ValueError(
            f"{name} must have shape {buffer.shape}, one value per parameter, got {values.shape}"
        )
    np.copyto(buffer, values, casting="same_kind")


def _layer_views(
    flat: np.ndarray, sizes: Sequence[int]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights, biases, offset = [], [], 0
    for n_in, n_out in pairwise(sizes):
        weights.append(flat[offset : offset + n_out * n_in].reshape(n_out, n_in))
        offset += n_out * n_in
        biases.append(flat[offset : offset + n_out])
        offset += n_out
    return weights, biases


def resolve_activations(
    activation: str | Activation | Sequence[str | Activation], n_hidden: int
) -> list[Activation]:
    """The activation of each of ``n_hidden`` hidden layers: one name, config or object
    for all, or a list with exactly one per layer (an error names what was received)."""
    # Bytes are one (bad) name, not a list of character codes: refused whole, by value.
    one = (str, bytes, bytearray, Activation, dict)
    if isinstance(activation, one) or not isinstance(activation, Iterable):
        first = _activations.get(activation)  # refuses None or a number, naming it
        return [first, *(_activations.get(activation) for _ in range(n_hidden - 1))][:n_hidden]
    given = list(activation)
    if len(given) != n_hidden:
        raise ValueError(
            f"activation: expected one activation per hidden layer ({n_hidden}), "
            f"got a list of {len(given)}: {given!r}"
        )
    return [_activations.get(a) for a in given]
