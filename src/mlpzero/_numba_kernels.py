r"""The jitted loops behind :mod:`mlpzero.kernels` (imported only when numba is on).

Every function here restates a formula whose reference implementation is NumPy code
elsewhere: the forward and backward passes of :mod:`mlpzero.network`, the derivatives of
:mod:`mlpzero.activations`, the output gradient and binary cross-entropy value of
:mod:`mlpzero.losses`, and the SGD and Adam updates of :mod:`mlpzero.optimizers`. Keep
them in step; ``tests/test_kernels.py`` compares the two on every case.

In float32 the kernels read and write float32 arrays only; inside, sums over samples,
sigmoids, tanh and the output link are computed in float64 registers and rounded once
when stored. A value is widened with ``np.float64(x)``: numba's ``float(x)`` keeps a float32
``x`` float32.

Shapes: ``X`` is ``(m, n_0)``; ``sizes`` holds ``n_0 .. n_L``. ``inputs`` holds ``X``
transposed, ``(n_0, m)``; ``pre`` and ``delta`` hold ``Z[l]^T`` and ``dZ[l]^T``, each
``(n_l, m)``, for ``l = 1 .. L`` one after the other; ``post`` holds ``A[l]^T`` for the
hidden layers the same way.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from decimal import Decimal

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

try:
    from numba.core.caching import FunctionCache
except ImportError:  # pragma: no cover - moved in another numba version: numba's own cache
    FunctionCache = None

try:
    from numba.core.compiler_lock import global_compiler_lock
except ImportError:  # pragma: no cover - moved in another numba version: forks as before
    global_compiler_lock = None

# A child process made by fork has only the thread that forked: a compile running in
# another thread at that moment held numba's compiler lock in the child for ever, and the
# child's first compile waited for it. A fork now waits for a compile under way to end.
if global_compiler_lock is not None and hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=global_compiler_lock.acquire,
        after_in_parent=global_compiler_lock.release,
        after_in_child=global_compiler_lock.release,
    )


def _jit(**options):
    """numba's ``njit`` with its disk cache (``cache=True``: ``NUMBA_CACHE_DIR`` when set,
    else the package's folder, else numba's user cache directory), or without it where
    numba finds no folder to cache in: the kernels are then compiled in each process that
    uses them, instead of failing to import."""

    def decorate(function):
        if _MendingCache is None:  # another numba version: its own cache
            try:
                return njit(cache=True, **options)(function)
            except RuntimeError:  # numba's "cannot cache function ...: no locator available"
                return njit(**options)(function)
        dispatcher = njit(**options)(function)
        with contextlib.suppress(RuntimeError):  # no locator: not cached
            dispatcher._cache = _MendingCache(function)  # numba's, mending damaged files
        return dispatcher

    return decorate


if FunctionCache is None:  # pragma: no cover
    _MendingCache = None
else:

    class _MendingCache(FunctionCache):
        """numba's disk cache of one kernel, reading a damaged cache file as a missing one.

        numba raises when a cache file it finds cannot be read (cut short, or changed on disk),
        so one damaged file failed every fit that used its kernel, until the file was deleted
        by hand. Here the kernel is compiled again instead, with a warning, and its entry is
        written anew over a fresh index (the kernel's other signatures are compiled once more
        on their next use)."""

        def __init__(self, function) -> None:
            super().__init__(function)
            self._kernel = function.__name__
            self._damaged = False

        def load_overload(self, sig, target_context):
            try:
                return super().load_overload(sig, target_context)
            except Exception as error:
                warnings.warn(
                    f"mlpzero: numba's cache of the kernel {self._kernel} in "
                    f"{self.cache_path} could not be read ({type(error).__name__}: {error}); "
                    "the kernel is compiled again and its cache written anew",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self._damaged = True
                return None

        def save_overload(self, sig, data):
            if self._damaged:  # an index that cannot be read cannot be added to: start anew
                with self._guard_against_spurious_io_errors():
                    self.flush()
                self._damaged = False
            super().save_overload(sig, data)


# Reassociation lets the sums over samples run in SIMD lanes and contraction allows fused
# multiply-adds; unlike full fastmath, NaN and infinity still propagate as in NumPy, which
# the divergence checks rely on. error_model="numpy" makes x / 0 give inf or NaN as in
# NumPy, instead of Python's ZeroDivisionError check, a branch that keeps a loop from
# vectorising: Adam and the kernels that call _exp_parts take it. Those that sum nothing
# over samples (the forward pass, the output gradient, Adam) compile without reassoc, which
# _exp_parts' range reduction must not have, and which would let Adam multiply the step by
# m before dividing: in float32 that product can overflow, and inf / inf made NaN of a
# parameter that NumPy leaves in place.
_FLAGS = {"reassoc", "contract"}
_FORWARD_FLAGS = {"contract"}

# The helpers that other kernels call are inlined by numba (inline="always"), which
# shortens a first run's compile: each no longer goes through numba's pipeline as a function
# of its own. Inlined code takes its caller's fastmath flags, whatever its own decorator
# says: a helper's decorator names the flags its arithmetic is written for (and gets when a
# test calls it directly), and its callers must be compiled with no more than those.
# Helpers that only compare, copy or count carry none.

_IDENTITY, _RELU, _LEAKY_RELU, _SIGMOID, _TANH = 0, 1, 2, 3, 4


@intrinsic
def _float64_from_bits(typingctx, bits):  # pragma: no cover - compiled
    """The float64 whose IEEE 754 bit pattern is the int64 ``bits`` (a reinterpretation,
    not a conversion), which the loop vectoriser can keep in SIMD registers."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


# ln 2 in two parts: _LN2_HIGH keeps 42 bits after the point, so k * _LN2_HIGH is exact
# for every |k| < 2048 that _exp_parts meets, and _LN2_LOW holds the next 53 bits of ln 2.
_LN2 = Decimal("0.69314718055994530941723212145817656807550013436026")
_LN2_HIGH = math.floor(float(_LN2) * 2.0**42) / 2.0**42
_LN2_LOW = float(_LN2 - Decimal(_LN2_HIGH))
# 1 / n! for n = 13 down to 2: the Taylor series of (e^r - 1 - r) / r^2, highest power first.
_EXP_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))


@_jit(fastmath=_FORWARD_FLAGS, inline="always")
def _exp_parts(x):  # pragma: no cover - compiled
    r"""``(s, h, g)`` with :math:`e^x = (1 + s)\, h g`, :math:`|s| < 0.42` and
    :math:`h g = 2^k`, in float64 with no library call, so that a loop of them vectorises
    (``math.exp`` calls the C library once per value). ``(1 + s) * h * g`` is less than
    one unit in the last place from the exact :math:`e^x` (the 1 is added last).

    :math:`k = \mathrm{round}(x / \ln 2)` and :math:`r = x - k \ln 2`,
    :math:`|r| \le \ln(2) / 2`, taken in two steps (``_LN2_HIGH`` then ``_LN2_LOW``) so
    that it keeps its low bits; :math:`s = e^r - 1` is its Taylor series to
    :math:`r^{13} / 13!` (the rest is below :math:`2^{-56}`), by Horner's rule.
    :math:`2^k` comes as two powers of two made from their exponent bits,
    :math:`h = 2^{\lfloor k/2 \rfloor}` and :math:`g = 2^{k - \lfloor k/2 \rfloor}`, to be
    applied one after the other, so that results beyond the float64 range round to
    infinity or, below it, to subnormals and zero. ``x`` is first clamped to
    ``[-746, 710]``, beyond which :math:`e^x` is 0 or infinite in float64; NaN stays NaN.
    Callers must not be compiled with ``reassoc``: reordering the two subtractions would
    lose ``r``'s low bits.
    """
    if x > 710.0:
        x = 710.0
    if x < -746.0:
        x = -746.0
    k = np.floor(x * 1.4426950408889634 + 0.5)  # x / ln 2, rounded
    r = (x - k * _LN2_HIGH) - k * _LN2_LOW
    q = _EXP_TAYLOR[0]
    for coefficient in _EXP_TAYLOR[1:]:
        q = q * r + coefficient
    n = np.int64(k if k == k else 0.0)  # NaN has no integer; s carries the NaN out
    half = n >> 1
    h = _float64_from_bits((half + 1023) << 52)
    g = _float64_from_bits((n - half + 1023) << 52)
    return r + (r * r) * q, h, g


@_jit(fastmath=_FORWARD_FLAGS, inline="always")
def _sigmoid_or_tanh(z, tanh):  # pragma: no cover - compiled
    r""":math:`\tanh z` if ``tanh``, else :math:`\sigma(z) = 1 / (1 + e^{-z})`, from one
    :func:`_exp_parts`, with no library call.

    Both are within three units in the last place of the exact values (the sigmoid no
    further than NumPy's ``1 / (1 + exp(-z))``). One function serves both so that a
    kernel inlines one exponential, not two, which keeps a first run's compile short.

    tanh is :math:`-\mathrm{sign}(z)\, m / (2 + m)` with
    :math:`m = e^{-2|z|} - 1 = s\,2^k + (2^k - 1)`, which keeps its accuracy near
    :math:`z = 0`, where :math:`1 - e^{-2|z|}` would cancel. The sign is copied from
    ``z``, so :math:`\tanh(-0) = -0`; NaN stays NaN.
    """
    s, h, g = _exp_parts(-2.0 * abs(z) if tanh else -z)
    if tanh:
        power = h * g  # exact: 2^k with k <= 0, or 0
        m = s * power + (power - 1.0)
        return math.copysign(-m / (2.0 + m), z)
    return 1.0 / (1.0 + (1.0 + s) * h * g)  # e^-z overflowing gives exactly 0


@_jit(fastmath=_FORWARD_FLAGS, inline="always")
def _activate(z, a, code, alpha):  # pragma: no cover - compiled
    """``a = g(z)`` along one row, for the activation ``code``."""
    if code == _RELU:
        for s in range(z.shape[0]):
            a[s] = 0.0 if z[s] <= 0.0 else z[s]  # NaN stays NaN, as with np.maximum
    elif code == _LEAKY_RELU:
        for s in range(z.shape[0]):
            a[s] = alpha * z[s] if z[s] <= 0.0 else z[s]
    elif code == _SIGMOID or code == _TANH:
        tanh = code == _TANH
        for s in range(z.shape[0]):
            a[s] = _sigmoid_or_tanh(np.float64(z[s]), tanh)
    else:
        for s in range(z.shape[0]):
            a[s] = z[s]


@_jit(fastmath=_FLAGS, inline="always")
def _times_slope(d, a, code, alpha):  # pragma: no cover - compiled
    """``d *= g'(z)`` along one row, the derivative read from the output ``a = g(z)``."""
    # Multiplied, not selected, as NumPy does: an infinite d times a zero slope is NaN.
    if code == _RELU:
        for s in range(d.shape[0]):
            d[s] *= 1.0 if a[s] > 0.0 else 0.0
    elif code == _LEAKY_RELU:
        for s in range(d.shape[0]):
            d[s] *= alpha if a[s] <= 0.0 else 1.0  # a NaN output keeps slope 1, as in NumPy
    elif code == _SIGMOID:
        for s in range(d.shape[0]):
            d[s] *= a[s] * (1.0 - a[s])
    elif code == _TANH:
        for s in range(d.shape[0]):
            d[s] *= 1.0 - a[s] * a[s]


@_jit(fastmath=_FLAGS, inline="always")
def _combine(W, j_is_row, index, A, out, start):  # pragma: no cover - compiled
    """``out = start + sum_i c_i A[i]`` over the rows of ``A``, with ``c_i = W[index, i]``
    (``j_is_row``) or ``W[i, index]``: one row of ``W A`` or of ``W^T A``.

    Two rows of ``A`` per pass over ``out``, which halves the traffic through ``out``; the
    first pass (one row if their number is odd, else two) sets ``out``.
    """
    rows = A.shape[0]
    m = out.shape[0]
    if rows % 2 == 1:
        c = W[index, 0] if j_is_row else W[0, index]
        for s in range(m):
            out[s] = start + c * A[0, s]
        i = 1
    else:
        c0 = W[index, 0] if j_is_row else W[0, index]
        c1 = W[index, 1] if j_is_row else W[1, index]
        for s in range(m):
            out[s] = start + (c0 * A[0, s] + c1 * A[1, s])
        i = 2
    while i < rows:
        c0 = W[index, i] if j_is_row else W[i, index]
        c1 = W[index, i + 1] if j_is_row else W[i + 1, index]
        for s in range(m):
            out[s] += c0 * A[i, s] + c1 * A[i + 1, s]
        i += 2


@_jit(inline="always")
def _offsets(sizes, m):  # pragma: no cover - compiled
    """Start of each layer's ``W`` in ``params``, and of its block in ``pre``/``delta``
    and (hidden layers) in ``post``."""
    n_layers = sizes.shape[0] - 1
    weights = np.empty(n_layers, dtype=np.int64)
    blocks = np.empty(n_layers, dtype=np.int64)
    w_at = 0
    block_at = 0
    for layer in range(n_layers):
        weights[layer] = w_at
        blocks[layer] = block_at
        w_at += sizes[layer + 1] * (sizes[layer] + 1)
        block_at += sizes[layer + 1] * m
    return weights, blocks


@_jit(inline="always")
def _transpose_input(X, inputs):  # pragma: no cover - compiled
    """``inputs`` (its first ``n_0 * m`` values, as ``(n_0, m)``) ``= X^T``."""
    m, n_0 = X.shape
    a = inputs[: n_0 * m].reshape((n_0, m))
    for s in range(m):
        for k in range(n_0):
            a[k, s] = X[s, k]


@_jit(fastmath=_FORWARD_FLAGS, error_model="numpy")
def forward(params, sizes, codes, alphas, m, inputs, pre, post):  # pragma: no cover
    r"""Every layer: :math:`Z^T = W A^T + b`, then :math:`A = g(Z)` for hidden layers,
    from ``X^T`` ``(n_0, m)`` in ``inputs``.

    The caller transposes ``X`` (NumPy, or :func:`gradient_descent` once for all its
    steps): a kernel taking ``X`` itself would be compiled again for each of its layouts,
    and a first run would compile the whole pass twice, here and in
    :func:`gradient_descent`, which calls this one."""
    n_layers = sizes.shape[0] - 1
    weights, blocks = _offsets(sizes, m)
    a_prev = inputs[: sizes[0] * m].reshape((sizes[0], m))
    for layer in range(n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w_at = weights[layer]
        W = params[w_at : w_at + n_out * n_in].reshape((n_out, n_in))
        b = params[w_at + n_out * n_in : w_at + n_out * (n_in + 1)]
        Z = pre[blocks[layer] : blocks[layer] + n_out * m].reshape((n_out, m))
        last = layer == n_layers - 1
        A = post[blocks[layer] : blocks[layer] + n_out * m].reshape((n_out, m))
        for j in range(n_out):
            _combine(W, True, j, a_prev, Z[j], b[j])
            if not last:
                _activate(Z[j], A[j], codes[layer], alphas[layer])
        a_prev = A


@_jit(fastmath=_FLAGS)
def backward(params, grads, sizes, codes, alphas, inputs, post, delta, m):  # pragma: no cover
    r"""From ``dZ[L]`` (already in ``delta``): :math:`dW = dZ^T A_{prev}`,
    :math:`db = \sum_s dZ`, :math:`dZ_{prev} = (dZ\, W) \odot g'`, layer by layer down."""
    n_layers = sizes.shape[0] - 1
    weights, blocks = _offsets(sizes, m)
    for layer in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w_at = weights[layer]
        W = params[w_at : w_at + n_out * n_in].reshape((n_out, n_in))
        dW = grads[w_at : w_at + n_out * n_in].reshape((n_out, n_in))
        db = grads[w_at + n_out * n_in : w_at + n_out * (n_in + 1)]
        D = delta[blocks[layer] : blocks[layer] + n_out * m].reshape((n_out, m))
        if layer == 0:
            A_prev = inputs[: n_in * m].reshape((n_in, m))
        else:
            below = blocks[layer - 1]
            A_prev = post[below : below + n_in * m].reshape((n_in, m))
        for j in range(n_out):
            db[j] = _weight_gradient_row(D[j], A_prev, dW[j])
        if layer > 0:
            D_below = delta[below : below + n_in * m].reshape((n_in, m))
            for k in range(n_in):
                _combine(W, False, k, D, D_below[k], 0.0)
                _times_slope(D_below[k], A_prev[k], codes[layer - 1], alphas[layer - 1])


@_jit(fastmath=_FLAGS, inline="always")
def _weight_gradient_row(d, A, dw):  # pragma: no cover - compiled
    """``dw[k] = sum_s d[s] A[k, s]`` for every row ``k`` of ``A`` (one row of
    :math:`dW = dZ^T A_{prev}`); returns ``sum_s d[s]``, the bias gradient.

    Two rows of ``A`` per pass over ``d``, as in :func:`_combine`; the first pass (one
    row if their number is odd, else two) also sums ``d``.
    """
    rows, m = A.shape
    bias = 0.0
    if rows % 2 == 1:
        t0 = 0.0
        for s in range(m):
            bias += d[s]
            t0 += d[s] * A[0, s]
        dw[0] = t0
        k = 1
    else:
        t0 = t1 = 0.0
        for s in range(m):
            bias += d[s]
            t0 += d[s] * A[0, s]
            t1 += d[s] * A[1, s]
        dw[0], dw[1] = t0, t1
        k = 2
    while k < rows:
        t0 = t1 = 0.0
        for s in range(m):
            t0 += d[s] * A[k, s]
            t1 += d[s] * A[k + 1, s]
        dw[k], dw[k + 1] = t0, t1
        k += 2
    return bias


@_jit(fastmath=_FORWARD_FLAGS, error_model="numpy")
def add_bias_activate(z, b, a, code, alpha):  # pragma: no cover - compiled
    r"""One layer after its product, in one pass: :math:`Z^T \mathrel{+}= b` along the
    rows of ``z`` ``(n, m)``, then :math:`A^T = g(Z^T)` into ``a`` (same shape) for the
    activation ``code``; the output layer passes ``a = z`` and ``code = -1`` (bias only)."""
    for j in range(z.shape[0]):
        zj = z[j]
        bj = b[j]
        for s in range(zj.shape[0]):
            zj[s] += bj
        if code >= 0:
            _activate(zj, a[j], code, alpha)


@_jit(fastmath=_FLAGS)
def slope_and_bias_gradient(d, a, db, code, alpha):  # pragma: no cover - compiled
    r"""Below a product, in one pass over ``d`` ``(n, m)``:
    :math:`dZ^T \mathrel{*}= g'` read from the layer's output ``a`` (``code = -1``: the
    identity, for the output layer), then :math:`db = \sum_s dZ^T` (sum in float64)."""
    for j in range(d.shape[0]):
        dj = d[j]
        if code >= 0:
            _times_slope(dj, a[j], code, alpha)
        total = 0.0
        for s in range(dj.shape[0]):
            total += dj[s]
        db[j] = total


@_jit(fastmath=_FLAGS)
def softmax_error(logits, targets, scale, out):  # pragma: no cover - compiled
    r"""``out = (softmax(Z) - Y) * scale`` row by row, the categorical cross-entropy's
    output gradient of :mod:`mlpzero.losses` without sample weights, in one pass per row
    (in float64 registers, rounded once). All arrays are ``(m, k)``."""
    m, k = logits.shape
    for i in range(m):
        top = np.float64(logits[i, 0])
        for j in range(1, k):
            if logits[i, j] > top:
                top = np.float64(logits[i, j])
        total = 0.0
        for j in range(k):
            total += math.exp(np.float64(logits[i, j]) - top)
        norm = 1.0 / total
        for j in range(k):
            p = math.exp(np.float64(logits[i, j]) - top) * norm
            out[i, j] = (p - targets[i, j]) * scale


@_jit(fastmath=_FLAGS)
def categorical_crossentropy_total(logits, targets, limit):  # pragma: no cover - compiled
    r""":math:`\sum_i \log \sum_k e^{z_{ik} - \max_k z_{ik}} - \sum_k (z_{ik} - \max_k
    z_{ik}) y_{ik}` in float64, each logit first clipped to ``[-limit, limit]``: the sum
    behind :meth:`mlpzero.losses.CategoricalCrossEntropy.value`, one row at a time. A
    NaN logit gives NaN."""
    m, k = logits.shape
    result = 0.0
    for i in range(m):
        top = _row_max(logits, i, limit)
        total = 0.0
        dot = 0.0
        for j in range(k):
            shifted = _clip(np.float64(logits[i, j]), limit) - top
            total += math.exp(shifted)
            dot += shifted * targets[i, j]
        result += math.log(total) - dot
    return result


@_jit(fastmath=_FLAGS)
def sigmoid_error_and_crossentropy(
    logits, targets, scale, out, limit, clipped, low, high
):  # pragma: no cover - compiled
    r""":func:`output_error` with the sigmoid link and :func:`binary_crossentropy_total`
    in one pass, sharing :math:`e = e^{-|z|}`: :math:`\sigma(z) = 1 / (1 + e)` for
    :math:`z \ge 0` and :math:`e / (1 + e)` below, the loss term
    :math:`\max(z, 0) - z y + \log(1 + e)`; with ``clipped``, the term of
    :func:`binary_crossentropy_clipped_total` (log-probabilities bounded to
    ``[low, high]``) instead. Returns the loss total (float64)."""
    m, k = logits.shape
    total = 0.0
    for j in range(k):
        for i in range(m):
            z = np.float64(logits[i, j])
            y = targets[i, j]
            e = math.exp(-abs(z))
            p = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
            out[i, j] = (p - y) * scale
            bounded = _clip(z, limit)
            if clipped:
                tail = math.log1p(e if bounded == z else math.exp(-abs(bounded)))
                total -= _clipped_binary_term(bounded, y, tail, low, high)
            else:
                positive = bounded if bounded > 0.0 else 0.0
                total += positive - bounded * y + math.log1p(e)
    return total


@_jit(fastmath=_FLAGS)
def softmax_error_and_crossentropy(
    logits, targets, scale, out, limit, clipped, low, high
):  # pragma: no cover - compiled
    r""":func:`softmax_error` and :func:`categorical_crossentropy_total` (with ``clipped``,
    :func:`categorical_crossentropy_clipped_total`) together, sharing each row's maximum
    and exponentials (the loss takes its own pass only for a row with a logit beyond
    ``limit``, which it clips). Returns the loss total (float64)."""
    m, k = logits.shape
    result = 0.0
    for i in range(m):
        top = np.float64(logits[i, 0])
        beyond = abs(top) > limit
        for j in range(1, k):
            z = np.float64(logits[i, j])
            beyond = beyond or abs(z) > limit
            if z > top or z != z:
                top = z
        total = 0.0
        dot = 0.0
        for j in range(k):
            shifted = np.float64(logits[i, j]) - top
            total += math.exp(shifted)
            dot += shifted * targets[i, j]
        # The row's loss before its gradient: out may be the logits themselves.
        row = logits[i : i + 1]
        if clipped and beyond:
            result += categorical_crossentropy_clipped_total(
                row, targets[i : i + 1], limit, low, high
            )
        elif clipped:
            result -= _clipped_log_likelihood(
                logits, targets, i, limit, top, math.log(total), low, high
            )
        elif beyond:
            result += categorical_crossentropy_total(row, targets[i : i + 1], limit)
        else:
            result += math.log(total) - dot
        norm = 1.0 / total
        for j in range(k):
            p = math.exp(np.float64(logits[i, j]) - top) * norm
            out[i, j] = (p - targets[i, j]) * scale
    return result


@_jit(inline="always")
def _clip(z, limit):  # pragma: no cover - compiled
    """``z`` clipped to ``[-limit, limit]`` where finite; NaN and infinity stay as they
    are (:func:`mlpzero.losses._saturate`)."""
    if limit < z < math.inf:
        return limit
    if -math.inf < z < -limit:
        return -limit
    return z


@_jit(fastmath=_FORWARD_FLAGS, error_model="numpy")
def adam(
    params, g, exp_avg, exp_avg_sq, beta1, rest1, beta2, rest2, step, eps_hat
):  # pragma: no cover
    r"""One Adam update in a single pass: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - s\, m / (\sqrt v + \hat\epsilon)`.

    ``rest1`` and ``rest2`` are ``1 - beta1`` and ``1 - beta2``; every scalar comes in
    the parameters' dtype, so float32 stays float32.
    """
    for i in range(params.shape[0]):
        gi = g[i]
        mi = exp_avg[i] * beta1 + gi * rest1
        vi = exp_avg_sq[i] * beta2 + (gi * gi) * rest2
        exp_avg[i] = mi
        exp_avg_sq[i] = vi
        params[i] -= step * (mi / (math.sqrt(vi) + eps_hat))


@_jit(fastmath=_FORWARD_FLAGS, error_model="numpy")
def output_error(logits, targets, scale, out, sigmoid):  # pragma: no cover - compiled
    r"""``out = (link(Z) - Y) * scale``, the output gradient of :mod:`mlpzero.losses`
    without sample weights; the link is the sigmoid when ``sigmoid`` is true, else the
    identity. All arrays are ``(m, k)``."""
    m, k = logits.shape
    for j in range(k):
        for i in range(m):
            z = np.float64(logits[i, j])
            if sigmoid:
                z = _sigmoid_or_tanh(z, False)
            out[i, j] = (z - targets[i, j]) * scale


@_jit(fastmath=_FLAGS)
def binary_crossentropy_total(logits, targets, limit):  # pragma: no cover - compiled
    r""":math:`\sum_{i,k} \max(z, 0) - z y + \log(1 + e^{-|z|})` in float64, each logit
    first clipped to ``[-limit, limit]`` where finite: the sum behind
    :meth:`mlpzero.losses.BinaryCrossEntropy.value`, in one pass. A NaN or infinite
    logit gives NaN or infinity."""
    m, k = logits.shape
    total = 0.0
    for j in range(k):
        for i in range(m):
            z = _clip(np.float64(logits[i, j]), limit)
            positive = z if z > 0.0 else 0.0
            total += positive - z * targets[i, j] + math.log1p(math.exp(-abs(z)))
    return total


@_jit(fastmath=_FLAGS)
def binary_crossentropy_clipped_total(logits, targets, limit, low, high):  # pragma: no cover
    r""":func:`binary_crossentropy_total` with both log-probabilities bounded to
    ``[low, high]``: :math:`-\sum_{i,k} y\,b(\log a) + (1 - y)\,b(\log(1 - a))`, with
    :math:`\log a = -\mathrm{softplus}(-z)` and :math:`\log(1 - a) =
    -\mathrm{softplus}(z)`; the sum behind a ``BinaryCrossEntropy(epsilon)``'s value."""
    m, k = logits.shape
    total = 0.0
    for j in range(k):
        for i in range(m):
            z = _clip(np.float64(logits[i, j]), limit)
            tail = math.log1p(math.exp(-abs(z)))
            total -= _clipped_binary_term(z, targets[i, j], tail, low, high)
    return total


@_jit(fastmath=_FLAGS, inline="always")
def _clipped_binary_term(z, y, tail, low, high):  # pragma: no cover - compiled
    r""":math:`y\,b(\log a) + (1 - y)\,b(\log(1 - a))` for one clipped logit ``z``, given
    ``tail`` :math:`= \log(1 + e^{-|z|})`, the part both softplus terms share."""
    log_a = -((-z if z < 0.0 else 0.0) + tail)
    log_not_a = -((z if z > 0.0 else 0.0) + tail)
    return y * _bound(log_a, low, high) + (1.0 - y) * _bound(log_not_a, low, high)


@_jit(fastmath=_FLAGS)
def categorical_crossentropy_clipped_total(logits, targets, limit, low, high):  # pragma: no cover
    r""":func:`categorical_crossentropy_total` with each log-probability bounded to
    ``[low, high]``: :math:`-\sum_{i,k} y_{ik}\, b(z_{ik} - \log \sum_j e^{z_{ij}})`; the
    sum behind a ``CategoricalCrossEntropy(epsilon)``'s value, one row at a time."""
    m, k = logits.shape
    result = 0.0
    for i in range(m):
        top = _row_max(logits, i, limit)
        total = 0.0
        for j in range(k):
            total += math.exp(_clip(np.float64(logits[i, j]), limit) - top)
        log_norm = math.log(total)
        result -= _clipped_log_likelihood(logits, targets, i, limit, top, log_norm, low, high)
    return result


@_jit(fastmath=_FLAGS, inline="always")
def _clipped_log_likelihood(
    logits, targets, i, limit, top, log_norm, low, high
):  # pragma: no cover - compiled
    r""":math:`\sum_k y_{ik}\, b(z_{ik} - t - \ell)` over row ``i``, with ``top`` as
    :math:`t` and ``log_norm`` as :math:`\ell`, each logit clipped to
    ``[-limit, limit]``: the row's bounded log-likelihood."""
    result = 0.0
    for j in range(logits.shape[1]):
        log_p = _clip(np.float64(logits[i, j]), limit) - top - log_norm
        result += targets[i, j] * _bound(log_p, low, high)
    return result


@_jit(inline="always")
def _row_max(logits, i, limit):  # pragma: no cover - compiled
    """The largest of row ``i``'s logits, each clipped to ``[-limit, limit]``; NaN if one
    is NaN."""
    top = _clip(np.float64(logits[i, 0]), limit)
    for j in range(1, logits.shape[1]):
        z = _clip(np.float64(logits[i, j]), limit)
        if z > top or z != z:
            top = z
    return top


@_jit(inline="always")
def _bound(value, low, high):  # pragma: no cover - compiled
    """``value`` within ``[low, high]``; NaN stays NaN."""
    if value < low:
        return low
    if value > high:
        return high
    return value


@_jit()
def gradient_descent(  # pragma: no cover - compiled
    params, grads, sizes, codes, alphas, X, Y, inputs, pre, post, delta,
    neg_rate, scale, sigmoid, epochs, totals, hits, snapshot, limit,
):  # fmt: skip
    r"""``epochs`` steps of full-batch gradient descent, each :func:`forward`,
    :func:`output_error` (``dZ[L] = (link(Z[L]) - Y) * scale``), :func:`backward` and
    :math:`\theta \leftarrow \theta + (-\alpha) g` (``neg_rate`` is :math:`-\alpha` in
    the parameters' dtype), as the separate calls would do them.

    With ``totals`` as long as ``epochs`` (else empty; sigmoid link only), each step also
    does what a training epoch records: ``snapshot`` gets the parameters before the step,
    the output gradient and the loss total come from
    :func:`sigmoid_error_and_crossentropy` (into ``totals``, the loss of the logits before
    the update), and ``hits`` counts the rows whose every output is on the right side of
    0 (logit > 0 where the target is > 0.5).

    Returns the number of steps after which the loss and every parameter were still
    finite: ``epochs``, or the index of the step that made one NaN or infinite (training
    stops there). Compiled without fastmath, so the update rounds as NumPy's ``SGD`` does,
    with no fused multiply-add.
    """
    m = X.shape[0]
    k = sizes[sizes.shape[0] - 1]
    last = pre.shape[0] - k * m
    logits = pre[last:].reshape((k, m)).T
    error = delta[last:].reshape((k, m)).T
    record = totals.shape[0] > 0
    _transpose_input(X, inputs)  # X is the same every step
    for epoch in range(epochs):
        if record:
            for i in range(params.shape[0]):  # a loop: a slice copy costs seconds to compile
                snapshot[i] = params[i]
        forward(params, sizes, codes, alphas, m, inputs, pre, post)
        finite = True
        if record:
            total = sigmoid_error_and_crossentropy(logits, Y, scale, error, limit, False, 0.0, 0.0)
            totals[epoch] = total
            hits[epoch] = _threshold_hits(logits, Y)
            finite = math.isfinite(total)
        else:
            output_error(logits, Y, scale, error, sigmoid)
        backward(params, grads, sizes, codes, alphas, inputs, post, delta, m)
        for i in range(params.shape[0]):
            params[i] = params[i] + grads[i] * neg_rate
            if not math.isfinite(params[i]):
                finite = False
        if not finite:
            return epoch
    return epochs


@_jit(inline="always")
def _threshold_hits(logits, targets):  # pragma: no cover - compiled
    """Rows of ``logits`` ``(m, k)`` whose every output is > 0 exactly where its target is
    > 0.5: the binary and multi-label accuracy count of :mod:`mlpzero.training`."""
    m, k = logits.shape
    count = 0
    for i in range(m):
        right = True
        for j in range(k):
            if (logits[i, j] > 0.0) != (targets[i, j] > 0.5):
                right = False
        if right:
            count += 1
    return count
