"""skl2onnx converters for :class:`mlpzero.sklearn.MLPClassifier` and ``MLPRegressor``.

Importing this module registers, with skl2onnx, a shape calculator and a converter for
each estimator, so that whole scikit-learn pipelines that end in one convert::

    import mlpzero.onnx  # registers the converters
    from skl2onnx import to_onnx
    onx = to_onnx(make_pipeline(StandardScaler(), MLPClassifier()).fit(X, y),
                  X[:1].astype(np.float32))

The converters write the same nodes as :func:`mlpzero.export.to_onnx` (through
:func:`mlpzero.export.onnx.add_model`), in the dtype of the tensor they receive (float32
above, whatever dtype the estimator trained in). Classifiers take skl2onnx's ``zipmap``
option (``True``, the default: probabilities as a list of dicts; ``False``: a matrix;
``"columns"``) and ``nocl`` (``True``: labels are the class indices). Requires skl2onnx
(``pip install 'mlpzero[onnx]'``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

try:
    from onnx import numpy_helper
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
except ModuleNotFoundError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mlpzero.onnx registers converters with skl2onnx, which is not installed: "
        "pip install 'mlpzero[onnx]'"
    ) from error

from mlpzero.export.description import Description, describe
from mlpzero.export.onnx import MIN_OPSET, add_model, constant_array, tensor_type
from mlpzero.sklearn import MLPClassifier, MLPRegressor

__all__ = ["register"]

_FLOAT_TENSORS = {FloatTensorType: np.float32, DoubleTensorType: np.float64}


class _ContainerEmitter:
    """Writes nodes into skl2onnx's container, with names from its scope."""

    def __init__(self, scope: Any, container: Any, dtype: Any) -> None:
        self.scope, self.container, self.dtype = scope, container, np.dtype(dtype)

    def node(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        output = output or self.scope.get_unique_variable_name(f"mlpzero_{op_type.lower()}")
        self.container.add_node(
            op_type,
            list(inputs),
            [output],
            name=self.scope.get_unique_operator_name(f"Mlpzero{op_type}"),
            op_version=MIN_OPSET,
            **attributes,
        )
        return output

    def constant(self, value: Any) -> str:
        array = constant_array(value, self.dtype)
        name = self.scope.get_unique_variable_name("mlpzero_const")
        element = tensor_type(array.dtype)
        if array.dtype == object:
            content = [str(v).encode("utf-8") for v in array.ravel().tolist()]
            self.container.add_initializer(name, element, list(array.shape), content)
        else:
            self.container.add_initializer(
                name, element, list(array.shape), numpy_helper.from_array(array)
            )
        return name


def _input_dtype(operator: Any) -> np.dtype:
    kind = type(operator.inputs[0].type)
    if kind not in _FLOAT_TENSORS:
        raise ValueError(
            f"{type(operator.raw_operator).__name__} converts float or double inputs, "
            f"got {kind.__name__}"
        )
    return np.dtype(_FLOAT_TENSORS[kind])


def _require_one_input(operator: Any) -> None:
    """Refuse several inputs, as skl2onnx gives for a DataFrame sample (one per column):
    the graph would read the first alone and fail to load in onnxruntime."""
    if len(operator.inputs) != 1:
        names = [variable.raw_name for variable in operator.inputs]
        raise ValueError(
            f"{type(operator.raw_operator).__name__} converts one input tensor of all the "
            f"features, got {len(names)} inputs {names[:10]} (a DataFrame sample gives one "
            "per column): pass a NumPy array such as X[:1].to_numpy(), or one tensor in "
            "initial_types"
        )


def _require_width(operator: Any, n_features: int) -> None:
    """Refuse an input whose declared columns are not the ``n_features`` the estimator
    was fitted on: its ``Gemm`` would fail to load in onnxruntime."""
    variable = operator.inputs[0]
    shape = getattr(variable.type, "shape", None) or []
    width = shape[1] if len(shape) == 2 else None
    if isinstance(width, (int, np.integer)) and width != n_features:
        raise ValueError(
            f"{type(operator.raw_operator).__name__} was fitted on {n_features} features, "
            f"got the input {variable.raw_name!r} of {width} columns (shape {list(shape)})"
        )


def _describe(scope: Any, estimator: Any) -> Description:
    """The estimator's model, with class indices for labels under the ``nocl`` option."""
    description = describe(estimator.model_)
    if description.labels is not None and isinstance(estimator, MLPClassifier):
        if scope.get_options(estimator, {"nocl": False})["nocl"]:
            indices = np.arange(len(description.labels), dtype=np.int64)
            description = dataclasses.replace(description, labels=indices)
    return description


def _shape_calculator(operator: Any) -> None:
    """Declare the output types: ``label`` and ``probabilities``, or ``variable``; a
    ``ValueError`` for more than one input or one of another width (the graph reads one
    ``[N, n_features]`` tensor)."""
    _require_one_input(operator)
    description = _describe(operator.scope_inst, operator.raw_operator)
    _require_width(operator, description.n_features)
    rows = operator.inputs[0].get_first_dimension()
    float_type = type(operator.inputs[0].type)
    if float_type not in _FLOAT_TENSORS:
        float_type = FloatTensorType
    if description.task == "regression":
        operator.outputs[0].type = float_type([rows, description.n_outputs])
        return
    if description.task == "multilabel":
        operator.outputs[0].type = Int64TensorType([rows, description.n_outputs])
    elif description.labels.dtype == object:
        operator.outputs[0].type = StringTensorType([rows])
    else:
        operator.outputs[0].type = Int64TensorType([rows])
    operator.outputs[1].type = float_type([rows, description.n_columns])


def _converter(scope: Any, operator: Any, container: Any) -> None:
    """Add the estimator's nodes: the same graph as :func:`mlpzero.export.to_onnx`."""
    description = _describe(scope, operator.raw_operator)
    emitter = _ContainerEmitter(scope, container, _input_dtype(operator))
    outputs = add_model(description, emitter, operator.inputs[0].full_name)
    names = ["variable"] if description.task == "regression" else ["label", "probabilities"]
    for key, variable in zip(names, operator.outputs, strict=False):
        emitter.node("Identity", outputs[key], output=variable.full_name)


def register() -> None:
    """Register both estimators with skl2onnx (done on import; calling again is harmless)."""
    update_registered_converter(
        MLPClassifier,
        "MlpzeroMLPClassifier",
        _shape_calculator,
        _converter,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )
    update_registered_converter(MLPRegressor, "MlpzeroMLPRegressor", _shape_calculator, _converter)


register()
