"""What an exporter needs to know about a fitted model, read once into plain arrays.

:func:`describe` reads an :class:`~mlpzero.MLP`'s network (layer sizes, activations, the
weight and bias views of the flat parameter vector), its loss's output link and its
:class:`~mlpzero.targets.TargetEncoder` (task and classes), and checks that every piece
is one the exporters can write. The exporters then work from the :class:`Description`
alone and never touch the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io import file_path, missing_folder
from ..standardization import Standardizer
from ..targets import plain_labels
from .operations import Step, activation_step, link_step

__all__ = [
    "FORMATS",
    "Description",
    "checked_output",
    "describe",
    "export_format",
    "input_transform",
]


@dataclass(frozen=True)
class Description:
    r"""A fitted model as the exporters see it.

    The model computes, for ``x`` of shape ``(n_features,)``:

    .. math::
        h_0 = (x - \mu) / s \ \text{(or } x \text{ without an input transform)},\qquad
        h_l = g_l(W_l h_{l-1} + b_l),\qquad
        \text{outputs} = \mathrm{link}(W_L h_{L-1} + b_L),

    with ``weights[l]`` of shape ``(fan_out, fan_in)`` and ``biases[l]`` of ``(fan_out,)``.

    Attributes
    ----------
    task:
        ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``.
    labels:
        The class labels as ``predict`` gives them (int64 or str), ``None`` for regression.
        A binary model has two (or one, when training saw a single class).
    mean, scale:
        The input transform :math:`(x - \mu) / s`, or both ``None``.
    """

    task: str
    dtype: np.dtype
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[Step, ...]
    link: Step
    labels: np.ndarray | None
    feature_names: tuple[str, ...] | None = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def layer_sizes(self) -> list[int]:
        return [self.weights[0].shape[1], *(w.shape[0] for w in self.weights)]

    @property
    def n_features(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        """Width of the last layer (1 for a binary model)."""
        return self.layer_sizes[-1]

    @property
    def n_columns(self) -> int:
        """Columns of ``predict_proba`` (classifiers) or of the predicted values."""
        if self.task == "binary":
            return len(self.labels)
        return self.n_outputs

    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True))

    def architecture(self) -> str:
        """One line, e.g. ``"4 inputs -> 16 relu -> 3 softmax"``."""
        parts = [f"{self.n_features} inputs"]
        if self.mean is not None:
            parts.append("standardise")
        names = [s.name for s in self.activations] + [self.link.name]
        parts += [f"{w.shape[0]} {n}" for w, n in zip(self.weights, names, strict=True)]
        return " -> ".join(parts)


def input_transform(model: Any) -> tuple[np.ndarray, np.ndarray] | None:
    r"""The model's input transform :math:`(x - \mu) / s` as ``(mean, scale)``, or None.

    The one place the exporters learn of preprocessing that travels with the model: the
    statistics of an ``MLP(standardize=True)`` (``model.standardizer_``, float64 copies;
    the exporters write them in the model's dtype). None for a model without them. A
    ``ValueError`` when that dtype cannot hold them (a scale that rounds to zero or a
    subnormal, a mean to infinity), as ``predict`` refuses them, and for an input
    transform that is not exactly a :class:`~mlpzero.standardization.Standardizer` (a
    subclass, or another object set as ``network.input_transform``, may compute something
    else).
    """
    standardizer = getattr(model, "standardizer_", None)
    if standardizer is None:
        return None
    if type(standardizer) is not Standardizer:
        raise ValueError(
            f"cannot export the model's input transform {standardizer!r} "
            f"({type(standardizer).__name__}): only mlpzero's Standardizer, the "
            "standardisation of MLP(standardize=True), can be exported"
        )
    try:
        standardizer.statistics_in(model.network.dtype)
    except ValueError as error:
        raise ValueError(f"cannot export the model's input standardisation: {error}") from None
    return standardizer.mean.copy(), standardizer.scale.copy()


def describe(model: Any) -> Description:
    """Read a fitted :class:`~mlpzero.MLP` into a :class:`Description`.

    Raises
    ------
    ValueError
        The model is not fitted, or holds a piece no exporter can write (a custom
        activation, loss or input transform, non-finite weights, class labels that are
        neither integers nor strings, a feature name or string label that is not valid
        Unicode, more or fewer feature names than inputs).
    """
    if not all(hasattr(model, key) for key in ("network", "encoder", "loss_")):
        raise TypeError(f"model must be a fitted mlpzero.MLP, got {type(model).__name__}")
    network = model.network
    if network is None or model.encoder is None or model.loss_ is None:
        raise ValueError("cannot export an MLP that is not fitted: call fit(X, y) first")
    hidden = tuple(
        activation_step(a, f"hidden layer {i + 1}") for i, a in enumerate(network.activations)
    )
    link = link_step(model.loss_)
    task = model.encoder.task
    expected = {
        "binary": ("sigmoid",),
        "multilabel": ("sigmoid",),
        "multiclass": ("softmax",),
        "regression": ("identity", "exp"),
    }
    if link.name not in expected.get(task, ()):
        raise ValueError(
            f"cannot export a {task} model whose loss {model.loss_.name!r} has the output link "
            f"{link.name!r}: its predictions would not follow from the link"
        )
    # Read holding the network's lock, as predictions are: a fit in another thread waits,
    # and the weights and biases are those of one moment, not of two steps.
    with network.lock:
        if not np.isfinite(network.params).all():
            raise ValueError("cannot export a model whose weights are not all finite")
        weights = tuple(w.copy() for w in network.weights)
        biases = tuple(b.copy() for b in network.biases)
    labels = None if task == "regression" else export_labels(model.encoder.classes_)
    names = model.feature_names_in_
    if names is not None:
        # as text, as the model file holds them: names set before a fit may be numbers
        names = [str(name) for name in names]
        if len(names) != network.layer_sizes[0]:
            raise ValueError(
                f"cannot export the model: its feature_names_in_ must name its "
                f"{network.layer_sizes[0]} inputs, got {len(names)} names: {names[:10]}"
            )
    if labels is not None and labels.dtype == object:
        _require_unicode(labels.tolist(), "class label")
    if names is not None:
        _require_unicode(names, "feature name")
    transform = input_transform(model)
    mean, scale = (None, None) if transform is None else transform
    return Description(
        task=task,
        dtype=np.dtype(network.dtype),
        weights=weights,
        biases=biases,
        activations=hidden,
        link=link,
        labels=labels,
        feature_names=None if names is None else tuple(names),
        mean=mean,
        scale=scale,
    )


def export_labels(classes: np.ndarray) -> np.ndarray:
    """``classes`` as int64 (integers, booleans, whole floats) or str; else ``ValueError``,
    also for an integer beyond int64's range.

    ONNX labels, like scikit-learn converters', are int64 or strings: float labels that are
    whole numbers are given as the equal integers.
    """
    classes = plain_labels(np.asarray(classes))  # object or StringDType labels, plainly
    values = classes.tolist()
    kind = classes.dtype.kind
    if kind == "U":
        return classes.astype(object)
    if kind in "ib":
        return classes.astype(np.int64)
    if kind == "u" or (kind == "f" and all(np.isfinite(v) and v == round(v) for v in values)):
        info = np.iinfo(np.int64)
        beyond = [v for v in values if not info.min <= v <= info.max]
        if beyond:
            raise ValueError(
                f"cannot export the class label {beyond[0]!r}: exported integer labels are "
                "int64, and it is beyond int64's range; train on smaller integers or str labels"
            )
        return np.asarray([int(v) for v in values], dtype=np.int64)
    raise ValueError(
        "cannot export class labels that are neither integers nor strings: got "
        f"{values[:10]} (dtype {classes.dtype}); train on int or str labels"
    )


def _require_unicode(texts: Any, what: str) -> None:
    """A ``ValueError`` naming the first of ``texts`` that UTF-8 cannot encode (a lone
    surrogate, as a file name read with ``surrogateescape`` may hold): no export can
    write it."""
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"cannot export the {what} {text!r}: it is not valid Unicode text (a lone "
                "surrogate), so no file can hold it; rename it"
            ) from None


#: The file extensions an export is written to, and what each holds.
FORMATS = {".onnx": "ONNX model", ".h": "C99 header"}

#: The first bytes of a zip archive: what a model file (``.npz``) and an ``.npz`` data set
#: start with. An export never writes over one.
_ZIP_MAGIC = b"PK\x03\x04"


def export_format(path: Any) -> str:
    """The extension of ``path`` in lower case, one of :data:`FORMATS`; a
    :class:`ValueError` naming the known ones for any other."""
    out = Path(file_path(path))
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(f"{ext} ({what})" for ext, what in FORMATS.items())
        raise ValueError(
            f"cannot tell the export format of {str(out)!r} from its extension "
            f"{suffix or '(none)'!r}; use one of {known}"
        )
    return suffix


def checked_output(path: Any, suffix: str) -> Path:
    """``path`` as a place an export may write its :data:`FORMATS` ``[suffix]`` to; a
    :class:`ValueError` naming it when it is a folder (or ends in a slash), has no parent
    folder, has another extension than ``suffix`` or links to a file that has (an export
    never replaces a data file such as ``train.csv`` by mistake) or into a folder that does
    not exist, or holds a model file or another ``.npz`` archive (nor the model it was
    made from)."""
    given = file_path(path)
    out = Path(given)
    what = FORMATS[suffix]
    # Path drops the slash of "net.h/", which names a folder, not the file net.h
    if given.endswith(("/", os.sep)) or out.is_dir():
        raise ValueError(f"path {given!r} is a folder; give a file name for the {what}")
    if not out.parent.is_dir():
        raise ValueError(f"path {str(out)!r}: {missing_folder(out.parent)}")
    if export_format(out) != suffix:
        raise ValueError(f"path {str(out)!r}: the {what} is written to a {suffix} file")
    target = Path(os.path.realpath(out))  # the file a symbolic link names is replaced
    if target.suffix.lower() != suffix:
        raise ValueError(
            f"path {str(out)!r} links to {str(target)!r}; the {what} is written to a {suffix} file"
        )
    if not target.parent.is_dir():
        raise ValueError(
            f"path {str(out)!r} links to {str(target)!r}, whose folder "
            f"{str(target.parent)!r} does not exist"
        )
    if out.is_file():
        with open(out, "rb") as handle:
            if handle.read(4) == _ZIP_MAGIC:
                raise ValueError(
                    f"path {str(out)!r} holds a model file or another .npz archive; "
                    f"refusing to write the {what} over it"
                )
    return out
