r"""The one table of element-wise steps an exported model is made of.

Every hidden activation and every output link of an mlpzero model is one
:class:`Operation`; the table :data:`OPERATIONS` says how each is written in ONNX and in C.
The exporters (:mod:`mlpzero.export.onnx`, :mod:`mlpzero.export.c`) look steps up here
and nowhere else, so a step that is missing from this table cannot be exported, and the
two formats cannot drift apart.

===============  ==============================  =========================================
step             ONNX                            C, over ``v[0..n)``
===============  ==============================  =========================================
``identity``     (no node)                       (no statement)
``sigmoid``      ``Reciprocal(Add(Exp(Neg(v)),   ``v[i] = 1 / (1 + exp(-v[i]))``
                 1))``
``tanh``         ``Tanh``                        ``v[i] = tanh(v[i])``
``relu``         ``Relu``                        ``v[i] = v[i] < 0 ? 0 : v[i]``
``leaky_relu``   ``Max(v, Mul(v, alpha))``       ``v[i] = v[i] > 0 ? v[i] : alpha * v[i]``
``softmax``      ``Softmax(axis=-1)``            subtract the maximum, ``exp``, divide by
                                                 the sum
``exp``          ``Exp(Min(v, limit))``          ``v[i] = exp(v[i] > limit ? limit : v[i])``
===============  ==============================  =========================================

``exp`` is the Poisson loss's link; ``limit`` is :func:`mlpzero.losses.exp_limit` in the
model's dtype, the same clip the model applies.

Every step keeps a NaN a NaN, as NumPy's ``maximum`` and ``minimum`` and the ONNX
operators do: each C comparison is written so that a NaN, for which it is false, takes
the branch that passes ``v[i]`` on.

Sigmoid is written as mlpzero computes it, :math:`1 / (1 + e^{-z})`, not as ONNX's
``Sigmoid``, which onnxruntime evaluates with only absolute accuracy: probabilities
smaller than about the dtype's epsilon lose their digits or become 0, where the formula
keeps them to relative accuracy (and still gives exactly 0 and 1 at large logits).

Leaky ReLU is written as mlpzero computes it, :math:`\max(z, \alpha z)`, with
:math:`\alpha` a constant of the model's dtype: ONNX's ``LeakyRelu`` holds its
:math:`\alpha` as a float32 attribute, which would shift a float64 model's outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..activations import ACTIVATIONS, Activation
from ..losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Loss,
    Poisson,
    SquaredError,
    exp_limit,
)

__all__ = ["OPERATIONS", "Emitter", "Operation", "Step", "activation_step", "link_step"]


class Emitter(Protocol):
    """Where ONNX nodes go: a plain graph, or a converter framework's container."""

    #: The floating-point dtype the graph computes in.
    dtype: np.dtype

    def node(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        """Add node ``op_type(inputs)``; returns the name of its (single) output."""

    def constant(self, value: Any) -> str:
        """Add ``value`` (an array, or a number in :attr:`dtype`) as an initializer."""


@dataclass(frozen=True)
class Operation:
    """One element-wise step, as ONNX nodes and as the body of a C function.

    ``onnx(emitter, x, parameters)`` adds the nodes that compute the step of ``x`` and
    returns the name of the result (``x`` itself for the identity). ``c`` is the body of
    ``static void f(real *v, int n)`` with ``{real}`` (the C type), ``{exp}``, ``{tanh}`` (its math
    functions) and ``{alpha}``-like parameters left to fill in; empty for the identity.
    """

    name: str
    onnx: Callable[[Emitter, str, Mapping[str, float]], str]
    c: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """An :class:`Operation` with its parameters (e.g. leaky ReLU's ``alpha``)."""

    operation: Operation
    parameters: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.operation.name

    def onnx(self, emitter: Emitter, x: str) -> str:
        return self.operation.onnx(emitter, x, self.parameters)


def _unary(op_type: str) -> Callable[[Emitter, str, Mapping[str, float]], str]:
    return lambda g, x, p: g.node(op_type, x)


def _elementwise(expression: str) -> str:
    """A C loop setting every ``v[i]`` to ``expression``."""
    return "for (i = 0; i < n; ++i) {{\n        v[i] = " + expression + ";\n    }}"


_SOFTMAX_C = """{real} top = v[0];
    {real} total = 0;
    for (i = 1; i < n; ++i) {{
        if (v[i] > top) {{
            top = v[i];
        }}
    }}
    for (i = 0; i < n; ++i) {{
        v[i] = {exp}(v[i] - top);
        total += v[i];
    }}
    for (i = 0; i < n; ++i) {{
        v[i] /= total;
    }}"""

OPERATIONS: dict[str, Operation] = {
    "identity": Operation("identity", lambda g, x, p: x, ""),
    "sigmoid": Operation(
        "sigmoid",
        lambda g, x, p: g.node(
            "Reciprocal", g.node("Add", g.node("Exp", g.node("Neg", x)), g.constant(1.0))
        ),
        _elementwise("1 / (1 + {exp}(-v[i]))"),
    ),
    "tanh": Operation("tanh", _unary("Tanh"), _elementwise("{tanh}(v[i])")),
    "relu": Operation("relu", _unary("Relu"), _elementwise("v[i] < 0 ? 0 : v[i]")),
    "leaky_relu": Operation(
        "leaky_relu",
        lambda g, x, p: g.node("Max", x, g.node("Mul", x, g.constant(p["alpha"]))),
        _elementwise("v[i] > 0 ? v[i] : {alpha} * v[i]"),
        parameters=("alpha",),
    ),
    "softmax": Operation("softmax", lambda g, x, p: g.node("Softmax", x, axis=-1), _SOFTMAX_C),
    "exp": Operation(
        "exp",
        lambda g, x, p: g.node("Exp", g.node("Min", x, g.constant(exp_limit(g.dtype)))),
        _elementwise("{exp}(v[i] > {exp_limit} ? {exp_limit} : v[i])"),
    ),
}

#: The output link of each built-in loss. Only these exact classes: a subclass may have
#: changed the link, and would be exported as something it does not compute.
_LINKS: dict[type[Loss], str] = {
    BinaryCrossEntropy: "sigmoid",
    CategoricalCrossEntropy: "softmax",
    SquaredError: "identity",
    Poisson: "exp",
}


def activation_step(activation: Activation, where: str) -> Step:
    """The step for a hidden activation; ``ValueError`` for one that cannot be exported.

    Only the built-in classes qualify (a subclass may compute something else).
    """
    name = getattr(activation, "name", None)
    if name not in OPERATIONS or type(activation) is not ACTIVATIONS.get(name):
        raise ValueError(
            f"cannot export {where}: activation {activation!r} is not one of the built-in "
            f"activations {sorted(ACTIVATIONS)}"
        )
    config = activation.config
    operation = OPERATIONS[name]
    return Step(operation, {key: float(config[key]) for key in operation.parameters})


def link_step(loss: Loss) -> Step:
    """The step for the output link of ``loss``; ``ValueError`` for an unknown loss."""
    name = _LINKS.get(type(loss))
    if name is None:
        raise ValueError(
            f"cannot export the output link of loss {loss!r}: only the built-in losses "
            f"{sorted(cls.name for cls in _LINKS)} can be exported"
        )
    return Step(OPERATIONS[name])
