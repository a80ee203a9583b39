"""Export a fitted model to ONNX, built with the ``onnx`` package's helpers.

The graph takes ``X`` of shape ``[N, n_features]`` in the model's dtype and computes, with
one ``Gemm`` per layer (``transB=1``: mlpzero's weights are ``(fan_out, fan_in)``)
followed by the layer's step from :data:`~mlpzero.export.operations.OPERATIONS`, the same
numbers as :meth:`MLP.predict_proba <mlpzero.MLP.predict_proba>` and
:meth:`MLP.predict <mlpzero.MLP.predict>`. Dropout acts only in training and is absent.
The outputs are named as skl2onnx names them:

==============  ==========================================  ===========================
task            ``label``                                   second output
==============  ==========================================  ===========================
binary          ``[N]``: the class, int64 or string         ``probabilities [N, 2]``
multiclass      ``[N]``: the class of largest probability   ``probabilities [N, k]``
multilabel      ``[N, k]``: 0/1 as int64                    ``probabilities [N, k]``
regression      (none; the only output is ``variable``)     ``variable [N, n_outputs]``
==============  ==========================================  ===========================

A binary model that saw one class in training gives ``probabilities`` of one column of
ones and that class as every label, as ``predict_proba`` and ``predict`` do.

:func:`add_model` writes the nodes through an :class:`~mlpzero.export.operations.Emitter`,
so the same code serves :func:`to_onnx` and the skl2onnx converters of :mod:`mlpzero.onnx`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .._version import installed_version
from ..io import replace_atomically
from .description import Description, checked_output, describe

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "GraphEmitter",
    "add_model",
    "build_model",
    "constant_array",
    "tensor_type",
    "to_onnx",
]

#: The opset written when none is asked for (every operator used here is stable in it).
DEFAULT_OPSET = 17
#: The oldest opset whose operators mean what the graph needs (Softmax over the last axis).
MIN_OPSET = 13

_FLOAT_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


def tensor_type(dtype: Any) -> int:
    """The ONNX element type of a NumPy dtype used here (floats, int64, str)."""
    dtype = np.dtype(dtype)
    if dtype in _FLOAT_TYPES:
        return _FLOAT_TYPES[dtype]
    if dtype == np.int64:
        return TensorProto.INT64
    if dtype.kind in "OU":
        return TensorProto.STRING
    raise ValueError(f"no ONNX element type for dtype {dtype}")


class GraphEmitter:
    """Collects the nodes and initializers of one graph, with unique names."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def node(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        output = output or self._name(op_type.lower())
        name = self._name(op_type)
        self.nodes.append(
            helper.make_node(op_type, list(inputs), [output], name=name, **attributes)
        )
        return output

    def constant(self, value: Any) -> str:
        name = self._name("const")
        self.initializers.append(numpy_helper.from_array(constant_array(value, self.dtype), name))
        return name


def constant_array(value: Any, dtype: np.dtype) -> np.ndarray:
    """``value`` as the array a graph holds: floats in ``dtype``, integers in int64."""
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return array.astype(dtype)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    return array


def add_model(description: Description, g: Any, x: str) -> dict[str, str]:
    """Add the nodes that compute the model on input ``x``; returns the outputs by name.

    The keys are ``"label"`` and ``"probabilities"`` for classifiers and ``"variable"`` for
    regressors. Weights are written in ``g.dtype``, the dtype of ``x``.
    """
    d = description
    h = x
    if d.mean is not None:
        h = g.node("Div", g.node("Sub", h, g.constant(d.mean)), g.constant(d.scale))
    last = len(d.weights) - 1
    for layer, (w, b) in enumerate(zip(d.weights, d.biases, strict=True)):
        h = g.node("Gemm", h, g.constant(w), g.constant(b), transB=1)
        h = d.activations[layer].onnx(g, h) if layer < last else d.link.onnx(g, h)
    if d.task == "regression":
        return {"variable": h}
    if d.task == "multilabel":
        return {"label": _above_half(g, h), "probabilities": h}
    classes = g.constant(d.labels)
    if d.task == "multiclass":
        index = g.node("ArgMax", h, axis=1, keepdims=0)
        return {"label": g.node("Gather", classes, index, axis=0), "probabilities": h}
    if len(d.labels) == 1:  # the one class seen in training is certain
        ones = g.node("Expand", g.constant(np.ones((1, 1))), g.node("Shape", h))
        rows = g.node("Gather", g.node("Shape", h), g.constant([0]), axis=0)
        first = g.node("Expand", g.constant([0]), rows)
        return {"label": g.node("Gather", classes, first, axis=0), "probabilities": ones}
    probabilities = g.node("Concat", g.node("Sub", g.constant(1.0), h), h, axis=1)
    index = g.node("Reshape", _above_half(g, h), g.constant([-1]))
    return {"label": g.node("Gather", classes, index, axis=0), "probabilities": probabilities}


def _above_half(g: Any, p: str) -> str:
    """``(p > 0.5)`` as int64, the decision ``predict`` takes on a sigmoid output."""
    return g.node("Cast", g.node("Greater", p, g.constant(0.5)), to=TensorProto.INT64)


def build_model(description: Description, opset: int | None = None) -> onnx.ModelProto:
    """The ONNX model of ``description`` (checked with ``onnx.checker``)."""
    opset = _check_opset(opset)
    version = installed_version()
    d = description
    g = GraphEmitter(d.dtype)
    outputs = add_model(d, g, "X")
    float_type = tensor_type(d.dtype)
    declared: list[onnx.ValueInfoProto] = []
    if d.task == "regression":
        g.node("Identity", outputs["variable"], output="variable")
        declared.append(helper.make_tensor_value_info("variable", float_type, ["N", d.n_outputs]))
    else:
        g.node("Identity", outputs["label"], output="label")
        g.node("Identity", outputs["probabilities"], output="probabilities")
        label_shape = ["N", d.n_outputs] if d.task == "multilabel" else ["N"]
        label_type = TensorProto.INT64 if d.task == "multilabel" else tensor_type(d.labels.dtype)
        declared.append(helper.make_tensor_value_info("label", label_type, label_shape))
        declared.append(
            helper.make_tensor_value_info("probabilities", float_type, ["N", d.n_columns])
        )
    graph = helper.make_graph(
        g.nodes,
        "mlpzero_mlp",
        [helper.make_tensor_value_info("X", float_type, ["N", d.n_features])],
        declared,
        initializer=g.initializers,
        doc_string=f"mlpzero MLP: {d.architecture()}",
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="mlpzero",
        producer_version=version,
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    metadata = {"mlpzero_version": version, "task": d.task}
    if d.feature_names is not None:
        metadata["feature_names"] = json.dumps(list(d.feature_names))
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def to_onnx(
    model: Any, path: str | os.PathLike[str] | None = None, *, opset: int | None = None
) -> onnx.ModelProto:
    """Export a fitted :class:`~mlpzero.MLP` to ONNX; write it to ``path`` when given.

    Parameters
    ----------
    model:
        A fitted :class:`~mlpzero.MLP`.
    path:
        Where to write the ONNX file, a name that ends in ``.onnx`` (``None``: only
        return the model).
    opset:
        The ONNX opset to target, at least :data:`MIN_OPSET` (default
        :data:`DEFAULT_OPSET`).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` ``[N, n_features]`` in the model's dtype; outputs as in the table
        of :mod:`mlpzero.export.onnx`. The metadata properties hold ``mlpzero_version``,
        ``task`` and, when the model knows them, ``feature_names`` (a JSON list).

    Raises
    ------
    ValueError
        The model is not fitted or holds a piece ONNX cannot express here, or ``path``
        does not end in ``.onnx`` (or holds a model file).
    """
    built = build_model(describe(model), opset)
    if path is not None:
        data = built.SerializeToString()
        replace_atomically(checked_output(path, ".onnx"), lambda handle: handle.write(data))
    return built


def _check_opset(opset: Any) -> int:
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an int, got {type(opset).__name__} {opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must be between {MIN_OPSET} and {newest} (this onnx's newest), got {opset}"
        )
    return int(opset)
