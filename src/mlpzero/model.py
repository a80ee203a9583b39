"""``MLP``: the model a user builds, trains and queries.

An :class:`MLP` holds the choices (hidden sizes, activation, loss, seed, dtype) and, once
built, a :class:`~mlpzero.network.Network` and a
:class:`~mlpzero.targets.TargetEncoder`. It is built lazily on the first :meth:`MLP.fit`:
the input width comes from ``X`` and the output width from ``y``, as the article's
``layer_sizes`` does. Later calls to ``fit`` continue training the same weights.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import initializers as _initializers
from . import io as _io
from . import losses as _losses
from . import optimizers as _optimizers
from . import schedules as _schedules
from .activations import Activation
from .callbacks import Callback, History
from .network import Network, resolve_activations
from .preparation import check_data, is_batch_source, prepare
from .progress import ProgressLogger
from .regularizers import dropout_rates
from .targets import TargetEncoder, infer_task, loss_for_task
from .training import train
from .validation import (
    check_dtype,
    check_features,
    check_int,
    check_positive,
    check_sample_weight,
    check_targets,
    is_memory_mapped,
    relative_sample_weight,
)

__all__ = ["MLP", "FitOptions", "load"]


class MLP:
    """A multi-layer perceptron for classification and regression.

    Parameters
    ----------
    hidden:
        Sizes of the hidden layers, e.g. ``(16, 8)``; ``()`` gives logistic regression.
    activation:
        Hidden activation: one name or object for every hidden layer, or a list with one
        per layer (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``, ``"identity"``).
    loss:
        ``"auto"`` infers it from ``y`` on the first fit (two classes: binary
        cross-entropy; more: categorical cross-entropy; a 0/1 matrix: binary cross-entropy
        per column; real numbers: squared error); :attr:`task` records the choice, and
        ``fit(..., verbose=1)`` prints it on stderr. A name or a
        :class:`~mlpzero.losses.Loss` always wins.
    init:
        Weight initialiser; ``None`` follows the activation (He for ReLU, Xavier else).
    seed:
        Seeds the initial weights and the shuffling: the same seed gives the same model.
    dtype:
        ``"float32"`` (default) or ``"float64"``.
    dropout:
        Inverted dropout rate of the hidden layers while training: one rate for all, or a
        list with one per hidden layer (0 turns it off). It is part of the architecture,
        so it lives here rather than in ``fit``; predictions never use it.

    Examples
    --------
    >>> from mlpzero import MLP
    >>> from mlpzero.datasets import make_xor
    >>> X, y = make_xor(n_samples=200, random_state=0)
    >>> model = MLP(hidden=(8, 4), seed=0).fit(X, y, epochs=500, learning_rate=0.1)
    >>> model.evaluate(X, y)["accuracy"] > 0.9
    True
    """

    def __init__(
        self,
        hidden: Sequence[int] = (16, 8),
        activation: str | Activation | Sequence[str | Activation] = "relu",
        loss: str | _losses.Loss = "auto",
        init: str | Any | None = None,
        seed: int | None = 0,
        dtype: str = "float32",
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        self.hidden = tuple(check_int("hidden", h) for h in _as_sequence(hidden, "hidden"))
        self.dropout = tuple(dropout_rates(dropout, len(self.hidden)))
        self.activation = activation
        self.loss = loss
        self.init = init
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.dtype = check_dtype(dtype)
        if loss != "auto":
            _losses.get(loss)  # fail now on an unknown name
        self.network: Network | None = None
        self.encoder: TargetEncoder | None = None
        self.loss_: _losses.Loss | None = None
        self.history = History()
        self.stop_training = False
        #: Column names of the training data, when it had them (saved with the model).
        self.feature_names_in_: list[str] | None = None
        #: The options of the last ``fit`` (saved with the model).
        self.fit_config_: dict[str, Any] | None = None
        #: Indices of the rows the last ``fit`` held out with ``validation_split``.
        self.validation_rows_: np.ndarray | None = None
        #: The optimizer of the last fit, with its state (pass it to fit to continue).
        self.optimizer_: _optimizers.Optimizer | None = None
        self._rng = np.random.default_rng(self.seed)
        # Fail now on a bad activation list or initialiser rather than at the first fit.
        resolve_activations(self.activation, len(self.hidden))
        if init is not None:
            _initializers.get(init)

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self.network is not None

    def build(self, X: Any, y: Any, classes: Sequence[Any] | None = None) -> MLP:
        """Create the network for ``X``'s width and ``y``'s task without training.

        ``classes`` lists every label training will meet (the task and the outputs are
        then read from it rather than from ``y``), for incremental training whose first
        batch may lack some. :meth:`fit` builds on its own when this is not called.
        """
        X = check_features(X, dtype=self.dtype)
        y = check_targets(y, X.shape[0])
        self._build(X, y if classes is None else np.asarray(classes))
        return self

    @property
    def classes_(self) -> np.ndarray | None:
        """The class labels seen in training (``None`` for regression or before fit)."""
        return None if self.encoder is None else self.encoder.classes_

    @property
    def task(self) -> str | None:
        """``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"`` once built."""
        return None if self.encoder is None else self.encoder.task

    def _build(self, X: np.ndarray, y: np.ndarray, verbose: int = 0) -> None:
        if self.loss == "auto":
            task = infer_task(y)
            encoder = TargetEncoder(task)
            loss = _losses.get(loss_for_task(task))
        else:
            loss = _losses.get(self.loss)
            encoder = TargetEncoder.for_loss(loss.name, y)
        encoder.fit(y)
        if verbose and self.loss == "auto":  # on stderr: stdout keeps the article's cost lines
            choice = f"{encoder.describe()} -> {loss.name} with {loss.output_activation}"
            print(f"loss='auto': {choice}", file=sys.stderr)
        self.encoder, self.loss_ = encoder, loss
        sizes = [X.shape[1], *self.hidden, encoder.n_outputs_]
        self.network = Network(
            sizes, self.activation, init=self.init, dtype=self.dtype, rng=self._rng
        )

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        epochs: int = 1000,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        optimizer: str | dict[str, Any] | _optimizers.Optimizer = "sgd",
        schedule: str | dict[str, Any] | _schedules.Schedule | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        clip_norm: float | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        sample_weight: Any = None,
        class_weight: str | dict[Any, float] | None = None,
        shuffle: bool | None = None,
        classes: Sequence[Any] | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 0,
        print_every: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_interval: float = 1.0,
        resume: str | os.PathLike[str] | None = None,
    ) -> MLP:
        r"""Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)`` or 2-D.

        Later calls continue training the same weights; :attr:`history` keeps growing.
        Returns the model, so calls chain.

        ``X`` and ``y`` may be memory-mapped (``np.load(path, mmap_mode="r")``,
        :func:`mlpzero.datasets.load_npy_dir`): they are then checked in chunks and read a
        batch at a time, never copied whole (full-batch training, ``batch_size=None``,
        still holds every row). ``X`` may also be a callable that returns an iterable of
        ``(X_batch, y_batch)`` or ``(X_batch, y_batch, w_batch)`` for one epoch, for data
        made on the fly (``y`` is then None); it is called once per epoch and its batches
        are used in its order and sizes. The first batch (or ``classes``) builds the model.
        A shuffled ``validation_split``, ``class_weight="balanced"`` (which needs every
        class's count), ``shuffle``, ``batch_size`` and ``sample_weight`` do not apply to
        it and are refused; ``validation_data`` and a ``class_weight`` dict work.

        Parameters
        ----------
        epochs:
            Passes over the training data.
        learning_rate:
            The optimizer's initial rate. ``None`` keeps the optimizer's own: its
            default for a name (SGD 0.01, the article's; Adam and AdamW 0.001; RMSprop
            0.01), or the rate an optimizer object was built with.
        batch_size:
            ``None`` (or at least the number of samples) is full-batch gradient descent,
            the article's loop; an int gives mini-batches reshuffled every epoch, the
            last partial batch included.
        optimizer:
            ``"sgd"`` (default), ``"rmsprop"``, ``"adam"``, ``"adamw"``, a config dict, or
            an :class:`~mlpzero.optimizers.Optimizer` (its state carries over between
            fits). The one used is kept as :attr:`optimizer_`.
        schedule:
            Learning-rate schedule (:mod:`mlpzero.schedules`): ``"step"``,
            ``"exponential"``, ``"cosine"``, ``"plateau"``, a config dict or an object.
        l2, l1:
            Penalties on the weights (never the biases): the objective becomes
            :math:`L + \tfrac{\lambda_2}{2}\sum w^2 + \lambda_1 \sum |w|`, and the
            reported ``loss`` and ``val_loss`` include them.
        clip_norm:
            Rescale the gradient whenever its global L2 norm exceeds this value.
        validation_split:
            Fraction of the rows held out for validation (stratified by class for
            classifiers). The rows are drawn from the model's seed, so every fit on the
            same data holds out the same ones. Their metrics are ``val_loss`` and
            ``val_accuracy``; their indices into ``X`` are kept in ``validation_rows_``
            (``None`` after a fit without a split).
        validation_data:
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` instead.
        sample_weight:
            One non-negative weight per sample; the loss is the weighted mean.
        class_weight:
            ``"balanced"`` (weight :math:`n / (k\,n_c)` for class ``c``) or a dict
            ``{label: weight}``; multiplies ``sample_weight``. Classifiers only.
        shuffle:
            Reshuffle the rows every epoch (mini-batches only; the default, except for a
            batch generator, which yields its batches in its own order).
        classes:
            Every label training will meet, when the first batch of a generator (or
            ``y`` of a first incremental fit) may lack some; used when the model is built.
        callbacks:
            :class:`~mlpzero.callbacks.Callback` objects, e.g.
            :class:`~mlpzero.callbacks.EarlyStopping`.
        verbose:
            0: silent; 1: a progress bar for runs longer than about two seconds, and the
            article's line every ``print_every`` epochs (200 by default); 2: one line of
            metrics per epoch.
        print_every:
            Print the article's ``Epoch e: cost = c`` line every ``N`` epochs (even with
            ``verbose=0``).
        checkpoint:
            Write the model, the optimizer and schedule state, the history and the random
            state to this path at the end of an epoch (atomically; see :mod:`mlpzero.io`):
            at most every ``checkpoint_interval`` seconds (0: every epoch), and always
            after the last epoch or an early stop.
        resume:
            Load such a checkpoint into this model and run only the epochs that the
            interrupted ``fit`` had left of ``epochs``. With the same data and options,
            the final weights equal bit for bit those of an uninterrupted run.

        Raises
        ------
        TrainingDivergedError
            The loss or the weights became NaN or infinite (the learning rate is too
            high); the model keeps its last finite weights and the history so far.
        """
        options = FitOptions.check(
            stream=is_batch_source(X), epochs=epochs, learning_rate=learning_rate,
            batch_size=batch_size, optimizer=optimizer, schedule=schedule, l2=l2, l1=l1,
            clip_norm=clip_norm, validation_split=validation_split,
            validation_data=validation_data, class_weight=class_weight, shuffle=shuffle,
            callbacks=callbacks, verbose=verbose, print_every=print_every,
            checkpoint=checkpoint, checkpoint_interval=checkpoint_interval, resume=resume,
        )  # fmt: skip
        resumed = _read_checkpoint(self, options.resume, options.callbacks)
        source = self if resumed is None else resumed.model
        n_features = source.network.layer_sizes[0] if source.built else None
        data = check_data(X, y, sample_weight, validation_data, self.dtype, n_features)
        with _restored_on_error(self):
            if resumed is not None:
                epoch_state = _take_over(self, resumed, options)
            elif not self.built:
                labels = data.y if classes is None else np.asarray(classes)
                self._build(data.X, labels, options.verbose)
                self.feature_names_in_ = _column_names(X, data.X.shape[1])
            fit_random_state = self._rng.bit_generator.state
            # Drawn from the seed, not the running generator: every fit on the same
            # data holds out the same rows, so continued training never sees them.
            split_rng = self._rng if self.seed is None else np.random.default_rng([self.seed, 1])
            prepared = prepare(
                data, self.encoder, self.dtype, validation_split=options.validation_split,
                class_weight=options.class_weight, split_rng=split_rng,
            )  # fmt: skip
        self.validation_rows_ = prepared.validation_rows
        if resumed is not None:
            self._rng.bit_generator.state = epoch_state
            start_epoch = resumed.progress["start_epoch"]
            epochs_left = max(0, options.epochs - (self.history.epochs - start_epoch))
        else:
            start_epoch, epochs_left = self.history.epochs, options.epochs
        self.fit_config_ = options.fit_config()
        progress = {
            "start_epoch": start_epoch,
            "epochs": options.epochs,
            "fit_random_state": fit_random_state,
        }
        callbacks = _fit_callbacks(self, options, resumed, progress, epochs_left)
        self.network.dropout, self.network.dropout_rng = list(self.dropout), self._rng
        self.optimizer_ = options.optimizer
        train(
            self.network, self.loss_, options.optimizer, prepared.X, prepared.Y,
            epochs=epochs_left, sample_weight=prepared.sample_weight, rng=self._rng, model=self,
            callbacks=callbacks, history=self.history, validation=prepared.validation,
            **options.loop_options(),
        )  # fmt: skip
        return self

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path`` (``.npz``; see :mod:`mlpzero.io`)."""
        return _io.save_model(self, path)

    def to_onnx(
        self, path: str | os.PathLike[str] | None = None, *, opset: int | None = None
    ) -> Any:
        """The fitted model as an ``onnx.ModelProto``, also written to ``path`` when given.

        Outputs ``label`` and ``probabilities`` (classifiers) or ``variable`` (regressors),
        as skl2onnx names them; see :mod:`mlpzero.export.onnx`. Needs the ``onnx`` extra.
        """
        from .export import to_onnx

        return to_onnx(self, path, opset=opset)

    def to_c(self, path: str | os.PathLike[str], *, name: str = "model") -> Path:
        """Write the fitted model as a self-contained C99 header (``NAME_predict``, ...).

        See :mod:`mlpzero.export.c`.
        """
        from .export import to_c

        return to_c(self, path, name=name)

    # ------------------------------------------------------------------ inference
    def _require_built(self) -> Network:
        if self.network is None:
            raise RuntimeError("this MLP is not fitted yet: call fit(X, y) first")
        return self.network

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits ``Z[L]``, shape ``(n_samples, n_outputs)``."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        return _checked_logits(_logits(network, X), X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        Binary models give two columns ``[P(classes_[0]), P(classes_[1])]`` (one column of
        ones when training saw a single class); multi-label models give one probability
        per label. For regression, the predicted values.
        """
        outputs = self._outputs(X)
        if self.encoder.task == "binary":
            if len(self.encoder.classes_) == 1:  # the one class seen in training is certain
                return np.ones((outputs.shape[0], 1), dtype=self.dtype)
            return np.hstack([1 - outputs, outputs])
        return outputs

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        outputs = self._outputs(X)
        return self.encoder.decode(outputs)

    def _outputs(self, X: Any) -> np.ndarray:
        logits = self.decision_function(X)
        # Softmax subtracts each row's maximum; a float32 row spanning more than 3.4e38
        # overflows there to -inf, whose exp is the right limit, 0.
        with np.errstate(over="ignore"):
            return self.loss_.link(logits, out=logits)

    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(X, y)``; regression reports ``loss`` and
        ``mse`` instead of accuracy.

        A memory-mapped ``X`` is evaluated in chunks of rows; each metric is then the
        weighted mean of the chunks' metrics, weighted by their total sample weight.
        """
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        y = check_targets(y, X.shape[0])
        weights = relative_sample_weight(check_sample_weight(sample_weight, X.shape[0]))
        if not is_memory_mapped(X):
            return self._evaluate_rows(X, y, weights)
        sums: dict[str, float] = {}
        total = 0.0
        for rows in _row_blocks(X):
            w = None if weights is None else weights[rows]
            mass = float(rows.stop - rows.start) if w is None else float(w.sum())
            if mass == 0:
                continue  # rows of zero weight count for nothing
            block = np.ascontiguousarray(X[rows], dtype=self.dtype)
            part = self._evaluate_rows(block, np.asarray(y[rows]), w, first_row=rows.start)
            for key, value in part.items():
                sums[key] = sums.get(key, 0.0) + value * mass
            total += mass
        return {key: value / total for key, value in sums.items()}

    def _evaluate_rows(
        self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, first_row: int = 0
    ) -> dict[str, float]:
        """:meth:`evaluate` on checked rows held in memory (row ``0`` is ``first_row``)."""
        network = self.network
        Y = self.encoder.encode(y, dtype=self.dtype)
        logits = _checked_logits(network.predict_logits(X), X, first_row)
        result = {"loss": self.loss_.value(logits, Y, weights)}
        with np.errstate(over="ignore"):
            outputs = self.loss_.link(logits, out=logits)
        if self.encoder.is_classifier:
            hits = _hits(self.encoder.decode(outputs), y, self.encoder.task)
            result["accuracy"] = float(np.average(hits, weights=weights))
        else:
            # 2 * loss / n_outputs, but said plainly (the loss is half the squared error).
            errors = self.loss_.per_sample(outputs, Y) * (2.0 / Y.shape[1])
            result["mse"] = float(np.average(errors, weights=weights))
        return result

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for classification, mean squared error for regression."""
        result = self.evaluate(X, y)
        return result.get("accuracy", result.get("mse", float("nan")))

    # ------------------------------------------------------------------ description
    def summary(self) -> str:
        """A table of layers: output shape, activation, initialiser and parameter count."""
        network = self._require_built()
        rows = [("layer", "output shape", "activation", "init", "params")]
        rows.append(("input", f"(None, {network.layer_sizes[0]})", "", "", "0"))
        out_act = self.loss_.output_activation
        inits = network.init_names()
        for i, w in enumerate(network.weights):
            act = network.activations[i].name if i < network.n_layers - 1 else out_act
            kind = "hidden" if i < network.n_layers - 1 else "output"
            rows.append(
                (
                    f"dense_{i + 1} ({kind})",
                    f"(None, {w.shape[0]})",
                    act,
                    inits[i],
                    f"{w.size + w.shape[0]:,}",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        rule = "-" * len(lines[0])
        total = f"Total params: {network.n_params:,} ({network.dtype.name})"
        return "\n".join([lines[0], rule, *lines[1:], rule, total])

    def __repr__(self) -> str:
        act = self.activation if isinstance(self.activation, str) else list(self.activation)
        return (
            f"MLP(hidden={self.hidden}, activation={act!r}, loss={self.loss!r}, "
            f"seed={self.seed}, dtype={self.dtype.name!r})"
        )


def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model saved with :meth:`MLP.save` (or a checkpoint); see :mod:`mlpzero.io`."""
    return _io.load_model(path)


def _checked_logits(logits: np.ndarray, X: np.ndarray, first_row: int = 0) -> np.ndarray:
    """``logits``, after checking that the forward pass did not overflow.

    Inputs far larger than the training data can push a layer beyond the dtype's range;
    the result would be NaN probabilities, so that is an error that says which rows
    (counted from ``first_row`` when ``X`` is a chunk of the user's rows).
    """
    finite = np.isfinite(logits).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"X: the network's outputs overflow for {len(rows)} of {len(X)} rows (first: row "
            f"{first_row + rows[0]}, largest |value| {np.abs(X[rows[0]]).max():.3g}); these "
            "inputs are too large for this model: scale them like the training data"
        )
    return logits


#: Rows per forward pass at inference (``Network.predict_logits``'s chunk).
_PREDICT_ROWS = 4096


def _row_blocks(X: np.ndarray) -> list[slice]:
    """``X``'s rows in blocks of :data:`_PREDICT_ROWS`: a memory-mapped ``X`` is read one
    block at a time, and its products are those of ``predict_logits`` on ``X`` in memory
    (the same rows per matrix product), so its outputs are the same bit for bit."""
    n = X.shape[0]
    return [slice(start, min(start + _PREDICT_ROWS, n)) for start in range(0, n, _PREDICT_ROWS)]


def _logits(network: Network, X: np.ndarray) -> np.ndarray:
    """The logits of every row of checked ``X``; a memory-mapped ``X`` is read a block of
    rows at a time, converted to the network's dtype, never whole."""
    if not is_memory_mapped(X):
        return network.predict_logits(X, chunk_rows=_PREDICT_ROWS)
    out = np.empty((X.shape[0], network.layer_sizes[-1]), dtype=network.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # as predict_logits: checked after
        for rows in _row_blocks(X):
            out[rows] = network.forward(np.ascontiguousarray(X[rows], dtype=network.dtype))
    return out


def _column_names(X: Any, width: int) -> list[str] | None:
    """The column names of a data frame (pandas or alike), if it has string names."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    if len(names) != width or not all(isinstance(n, str) for n in names):
        return None
    return names


def _hits(predicted: np.ndarray, y: np.ndarray, task: str) -> np.ndarray:
    y = np.asarray(y)
    if task == "multilabel":
        return (predicted == y.reshape(predicted.shape)).all(axis=1)
    return predicted == (y[:, 0] if y.ndim == 2 else y)


def _as_sequence(value: Any, name: str) -> tuple[Any, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of layer sizes, got {value!r}") from None


# ---------------------------------------------------------------------- fit options
@dataclass(frozen=True)
class FitOptions:
    """The options of one :meth:`MLP.fit`, checked once by :meth:`check`.

    The data arguments (``X``, ``y``, ``sample_weight``, ``validation_data``) are not
    options: :mod:`mlpzero.preparation` checks them. ``optimizer`` and ``schedule`` hold
    the resolved objects.
    """

    epochs: int
    batch_size: int | None
    optimizer: _optimizers.Optimizer
    schedule: _schedules.Schedule | None
    l2: float
    l1: float
    clip_norm: float | None
    validation_split: float
    class_weight: str | dict[Any, float] | None
    shuffle: bool
    callbacks: tuple[Callback, ...]
    verbose: int
    print_every: int | None
    checkpoint: str | os.PathLike[str] | None
    checkpoint_interval: float
    resume: str | os.PathLike[str] | None

    @classmethod
    def check(
        cls,
        *,
        stream: bool = False,
        epochs: Any,
        learning_rate: Any,
        batch_size: Any,
        optimizer: Any,
        schedule: Any,
        l2: Any,
        l1: Any,
        clip_norm: Any,
        validation_split: Any,
        validation_data: Any,
        class_weight: Any,
        shuffle: Any,
        callbacks: Any,
        verbose: Any,
        print_every: Any,
        checkpoint: Any,
        checkpoint_interval: Any,
        resume: Any,
    ) -> FitOptions:
        """The options of :meth:`MLP.fit`, checked; an error names the argument and echoes
        the value. ``validation_data`` is only looked at to refuse it together with
        ``validation_split``; ``stream`` says that the data is a batch generator, for which
        ``batch_size`` and ``shuffle`` do not apply."""
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size, allow_none=True)
        print_every = check_int("print_every", print_every, allow_none=True)
        if isinstance(verbose, bool):
            verbose = int(verbose)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        l2 = check_positive("l2", l2, allow_zero=True)
        checkpoint_interval = check_positive(
            "checkpoint_interval", checkpoint_interval, allow_zero=True
        )
        l1 = check_positive("l1", l1, allow_zero=True)
        if clip_norm is not None:
            clip_norm = check_positive("clip_norm", clip_norm)
        validation_split = check_positive("validation_split", validation_split, allow_zero=True)
        if validation_split >= 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is not None:
            raise ValueError("pass validation_split or validation_data, not both")
        callbacks = _check_callbacks(callbacks)
        if stream:
            _refuse_for_stream(batch_size=batch_size, shuffle=shuffle)
        if shuffle is None:
            shuffle = not stream
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(
                f"shuffle must be True or False, got {type(shuffle).__name__} {shuffle!r}"
            )
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be Callback objects, got "
                    f"{type(callback).__name__} {callback!r}"
                )
        return cls(
            epochs=epochs,
            batch_size=batch_size,
            schedule=None if schedule is None else _schedules.get(schedule),
            optimizer=_resolve_optimizer(optimizer, learning_rate),
            l2=l2,
            l1=l1,
            clip_norm=clip_norm,
            validation_split=validation_split,
            class_weight=class_weight,
            shuffle=bool(shuffle),
            callbacks=callbacks,
            verbose=verbose,
            print_every=print_every,
            checkpoint=checkpoint,
            checkpoint_interval=checkpoint_interval,
            resume=resume,
        )

    def fit_config(self) -> dict[str, Any]:
        """The record of these options kept as :attr:`MLP.fit_config_` (and saved)."""
        return {
            "epochs": self.epochs,
            "learning_rate": self.optimizer.initial_learning_rate,
            "batch_size": self.batch_size,
            "optimizer": self.optimizer.config,
            "schedule": None if self.schedule is None else self.schedule.config,
            "l2": self.l2,
            "l1": self.l1,
            "clip_norm": self.clip_norm,
            "validation_split": self.validation_split,
            "shuffle": self.shuffle,
        }

    def loop_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~mlpzero.training.train` these options set."""
        return {
            "batch_size": self.batch_size,
            "schedule": self.schedule,
            "l2": self.l2,
            "l1": self.l1,
            "clip_norm": self.clip_norm,
            "shuffle": self.shuffle,
        }


def _refuse_for_stream(**options: Any) -> None:
    """Refuse the options that a batch generator decides itself."""
    reasons = {
        "batch_size": "its batches are the ones it yields",
        "shuffle": "it yields its batches in its own order (shuffle inside it)",
    }
    for name, value in options.items():
        if value is not None and value is not False:
            raise ValueError(
                f"{name}={value!r} does not apply to a batch generator: {reasons[name]}"
            )


def _check_callbacks(callbacks: Any) -> tuple[Any, ...]:
    """``callbacks`` as a tuple; a single callback or a non-iterable is refused."""
    if callbacks is None:
        return ()
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
        raise TypeError(
            "callbacks must be a list of Callback objects, got "
            f"{type(callbacks).__name__} {callbacks!r}"
        )
    return tuple(callbacks)


def _resolve_optimizer(
    optimizer: str | dict[str, Any] | _optimizers.Optimizer, learning_rate: float | None
) -> _optimizers.Optimizer:
    """The optimizer for a fit; ``learning_rate``, when given, sets its initial rate."""
    if isinstance(optimizer, _optimizers.Optimizer):
        if learning_rate is not None:
            rate = check_positive("learning_rate", learning_rate)
            optimizer.learning_rate = optimizer.initial_learning_rate = rate
        return optimizer
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    return _optimizers.get(optimizer, **kwargs)


def _fit_callbacks(
    model: MLP,
    options: FitOptions,
    resumed: _io.Checkpoint | None,
    progress: dict[str, Any],
    epochs_left: int,
) -> list[Callback]:
    """The user's callbacks, plus the progress logger, the checkpoint writer and the
    restorer of a resumed fit's callback state, as the options ask."""
    user_callbacks = list(options.callbacks)
    callbacks = list(user_callbacks)
    if options.verbose or options.print_every:
        logger = ProgressLogger(
            epochs_left, verbose=options.verbose, print_every=options.print_every
        )
        callbacks.insert(0, logger)
    if options.checkpoint is not None:
        final_epoch = model.history.epochs + epochs_left - 1
        writer = _io.CheckpointWriter(
            options.checkpoint, options.optimizer, options.schedule, progress,
            options.checkpoint_interval, final_epoch, user_callbacks,
        )  # fmt: skip
        callbacks.append(writer)
    if resumed is not None:
        callbacks.append(_io.CallbackRestorer(user_callbacks, resumed, options.resume))
    return callbacks


@contextmanager
def _restored_on_error(model: MLP) -> Iterator[None]:
    """Put ``model``'s attributes and random state back if the block raises: a fit that
    fails while resuming, building or preparing its data leaves the model as it was."""
    before, rng_state = dict(vars(model)), model._rng.bit_generator.state
    try:
        yield
    except BaseException:
        vars(model).clear()
        vars(model).update(before)
        model._rng.bit_generator.state = rng_state
        raise


# ---------------------------------------------------------------------- resume
def _read_checkpoint(
    model: MLP, path: str | os.PathLike[str] | None, callbacks: Sequence[Callback]
) -> _io.Checkpoint | None:
    """The checkpoint to resume from (None without ``path``), after checking that it holds
    ``model``'s architecture and state for ``callbacks``."""
    if path is None:
        return None
    checkpoint = _io.load_checkpoint(path)
    _check_same_architecture(model, checkpoint.model, path)
    _io.check_callbacks(list(callbacks), checkpoint, path)
    return checkpoint


def _take_over(model: MLP, checkpoint: _io.Checkpoint, options: FitOptions) -> dict[str, Any]:
    """Load ``checkpoint`` into ``model`` and the fit's optimizer and schedule.

    The random state goes back to where the interrupted fit drew its validation split, so
    the split is the same; the state at the checkpoint's epoch is returned, for the loop.
    """
    _io.restore_optimizer(options.optimizer, checkpoint, options.resume)
    _io.restore_schedule(options.schedule, checkpoint, options.resume)
    vars(model).update(vars(checkpoint.model))
    epoch_state = model._rng.bit_generator.state
    model._rng.bit_generator.state = checkpoint.progress["fit_random_state"]
    return epoch_state


def _check_same_architecture(model: MLP, saved: MLP, source: Any) -> None:
    """Refuse to resume ``model`` from a checkpoint of a different architecture."""
    mine, theirs = _architecture(model), _architecture(saved)
    differ = [key for key in mine if mine[key] != theirs[key]]
    if differ:
        in_file = ", ".join(f"{key}={theirs[key]!r}" for key in differ)
        given = ", ".join(f"{key}={mine[key]!r}" for key in differ)
        raise ValueError(f"resume: {source} holds a model with {in_file}, but this MLP has {given}")


def _architecture(model: MLP) -> dict[str, Any]:
    if model.built:
        hidden = tuple(model.network.layer_sizes[1:-1])
        activations = model.network.activations
    else:
        hidden = model.hidden
        activations = resolve_activations(model.activation, len(hidden))
    return {
        "hidden": hidden,
        "activations": [a.config for a in activations],
        "dtype": model.dtype.name,
        "dropout": tuple(model.dropout),
    }
