"""``MLP``: the model a user builds, trains and queries.

An :class:`MLP` holds the choices (hidden sizes, activation, loss, seed, dtype) and, once
built, a :class:`~mlpzero.network.Network` and a
:class:`~mlpzero.targets.TargetEncoder`. It is built lazily on the first :meth:`MLP.fit`:
the input width comes from ``X`` and the output width from ``y``, as the article's
``layer_sizes`` does. Later calls to ``fit`` continue training the same weights.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import io as _io
from . import losses as _losses
from . import optimizers as _optimizers
from .activations import Activation
from .callbacks import Callback, History
from .network import Network
from .targets import TargetEncoder, infer_task, loss_for_task
from .training import train
from .validation import (
    check_features,
    check_int,
    check_sample_weight,
    check_targets,
)

__all__ = ["MLP", "load"]


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
        per column; real numbers: squared error). A name or a
        :class:`~mlpzero.losses.Loss` always wins.
    init:
        Weight initialiser; ``None`` follows the activation (He for ReLU, Xavier else).
    seed:
        Seeds the initial weights and the shuffling: the same seed gives the same model.
    dtype:
        ``"float32"`` (default) or ``"float64"``.

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
    ) -> None:
        self.hidden = tuple(check_int("hidden", h) for h in _as_sequence(hidden, "hidden"))
        self.activation = activation
        self.loss = loss
        self.init = init
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
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
        self._rng = np.random.default_rng(self.seed)
        # Fail early on a bad activation list rather than at the first fit.
        Network([1, *self.hidden, 1], self.activation, init=self.init, dtype=self.dtype, rng=0)

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self.network is not None

    @property
    def classes_(self) -> np.ndarray | None:
        """The class labels seen in training (``None`` for regression or before fit)."""
        return None if self.encoder is None else self.encoder.classes_

    @property
    def task(self) -> str | None:
        return None if self.encoder is None else self.encoder.task

    def _build(self, X: np.ndarray, y: np.ndarray) -> None:
        if self.loss == "auto":
            task = infer_task(y)
            encoder = TargetEncoder(task)
            loss = _losses.get(loss_for_task(task))
        else:
            loss = _losses.get(self.loss)
            encoder = TargetEncoder.for_loss(loss.name, y)
        encoder.fit(y)
        self.encoder, self.loss_ = encoder, loss
        sizes = [X.shape[1], *self.hidden, encoder.n_outputs_]
        self.network = Network(
            sizes, self.activation, init=self.init, dtype=self.dtype, rng=self._rng
        )

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1000,
        learning_rate: float = 0.01,
        batch_size: int | None = None,
        optimizer: str | _optimizers.Optimizer = "sgd",
        sample_weight: Any = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 0,
        print_every: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: str | os.PathLike[str] | None = None,
    ) -> MLP:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)`` or 2-D.

        ``batch_size=None`` is full-batch gradient descent (the article's loop); an int
        gives mini-batches reshuffled every epoch. ``verbose`` prints the article's
        ``Epoch e: cost = c`` line every ``print_every`` epochs (200 by default).
        Returns the model, so calls chain.

        ``checkpoint=PATH`` writes the model, the optimizer state, the history and the
        random state to ``PATH`` after every epoch. ``resume=PATH`` loads such a checkpoint
        into this model and runs only the epochs that the interrupted ``fit`` had left of
        ``epochs``: with the same data and options, the final weights equal bit for bit
        those of a run that was never interrupted.
        """
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size, allow_none=True)
        print_every = check_int("print_every", print_every, allow_none=True)
        resumed = None if resume is None else _io.load_checkpoint(resume)
        if resumed is not None:
            self._check_same_model(resumed.model, resume)
        source = self if resumed is None else resumed.model
        n_features = source.network.layer_sizes[0] if source.built else None
        X_given = X
        X = check_features(X, dtype=self.dtype, n_features=n_features)
        y = check_targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0])
        opt = _optimizers.get(optimizer, learning_rate=learning_rate)
        if not isinstance(optimizer, str):
            opt.learning_rate = learning_rate
        if resumed is not None:
            # Everything is checked before this model changes: then take the checkpoint over.
            Y = resumed.model.encoder.encode(y, dtype=self.dtype)
            _io.restore_optimizer(opt, resumed, resume)
            self.__dict__.update(resumed.model.__dict__)
            fit_random_state = resumed.progress["fit_random_state"]
            start_epoch = resumed.progress["start_epoch"]
            epochs_left = max(0, epochs - (self.history.epochs - start_epoch))
        else:
            if not self.built:
                self._build(X, y)
                self.feature_names_in_ = _column_names(X_given, X.shape[1])
            Y = self.encoder.encode(y, dtype=self.dtype)
            fit_random_state = self._rng.bit_generator.state
            start_epoch, epochs_left = self.history.epochs, epochs
        if verbose and print_every is None:
            print_every = 200
        self.fit_config_ = {
            "epochs": epochs,
            "learning_rate": float(learning_rate),
            "batch_size": batch_size,
            "optimizer": opt.config,
        }
        if checkpoint is not None:
            progress = {
                "start_epoch": start_epoch,
                "epochs": epochs,
                "fit_random_state": fit_random_state,
            }
            callbacks = [*callbacks, _io.CheckpointWriter(checkpoint, opt, None, progress)]
        train(
            self.network,
            self.loss_,
            opt,
            X,
            Y,
            epochs=epochs_left,
            batch_size=batch_size,
            sample_weight=weights,
            rng=self._rng,
            model=self,
            callbacks=callbacks,
            history=self.history,
            print_every=print_every if verbose else None,
        )
        return self

    def _check_same_model(self, other: MLP, source: Any) -> None:
        """Refuse to resume from a checkpoint of a different architecture."""
        mine, theirs = self._architecture(), other._architecture()
        if mine != theirs:
            raise ValueError(
                f"resume: {source} holds a model with {theirs}, but this MLP has {mine}"
            )

    def _architecture(self) -> dict[str, Any]:
        if self.built:
            hidden = tuple(self.network.layer_sizes[1:-1])
            acts = [a.config for a in self.network.activations]
        else:
            hidden = self.hidden
            acts = [a.config for a in Network([1, *hidden, 1], self.activation, rng=0).activations]
        dropout = tuple(getattr(self, "dropout", ()) or ())
        return {"hidden": hidden, "activations": acts, "dtype": self.dtype.name, "dropout": dropout}

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path`` (``.npz``; see :mod:`mlpzero.io`)."""
        return _io.save_model(self, path)

    # ------------------------------------------------------------------ inference
    def _require_built(self) -> Network:
        if self.network is None:
            raise RuntimeError("this MLP is not fitted yet: call fit(X, y) first")
        return self.network

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits ``Z[L]``, shape ``(n_samples, n_outputs)``."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        return _checked_logits(network.predict_logits(X), X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        Binary models give two columns ``[P(classes_[0]), P(classes_[1])]``; multi-label
        models give one probability per label. For regression, the predicted values.
        """
        outputs = self._outputs(X)
        if self.encoder.task == "binary":
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
        ``mse`` instead of accuracy."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        y = check_targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0])
        Y = self.encoder.encode(y, dtype=self.dtype)
        logits = _checked_logits(network.predict_logits(X), X)
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


def _checked_logits(logits: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``logits``, after checking that the forward pass did not overflow.

    Inputs far larger than the training data can push a layer beyond the dtype's range;
    the result would be NaN probabilities, so that is an error that says which rows.
    """
    finite = np.isfinite(logits).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"X: the network's outputs overflow for {len(rows)} of {len(X)} rows (first: row "
            f"{rows[0]}, largest |value| {np.abs(X[rows[0]]).max():.3g}); these inputs are "
            "too large for this model: scale them like the training data"
        )
    return logits


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
