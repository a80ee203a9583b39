"""``MLP``: the model a user builds, trains and queries.

An :class:`MLP` holds the choices (hidden sizes, activation, loss, seed, dtype) and, once
built, a :class:`~mlpzero.network.Network` and a
:class:`~mlpzero.targets.TargetEncoder`. It is built lazily on the first :meth:`MLP.fit`:
the input width comes from ``X`` and the output width from ``y``, as the article's
``layer_sizes`` does. Later calls to ``fit`` continue training the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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

__all__ = ["MLP"]


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

    def build(self, X: Any, y: Any, classes: Sequence[Any] | None = None) -> MLP:
        """Create the network for ``X``'s width and ``y``'s task without training.

        ``classes`` lists every label training will meet, for incremental training whose
        first batch may lack some. :meth:`fit` builds on its own when this is not called.
        """
        X = check_features(X, dtype=self.dtype)
        self._build(X, check_targets(y, X.shape[0]), classes)
        return self

    def _build(self, X: np.ndarray, y: np.ndarray, classes: Any = None) -> None:
        labels = y if classes is None else np.asarray(classes)
        if self.loss == "auto":
            task = infer_task(labels)
            encoder = TargetEncoder(task)
            loss = _losses.get(loss_for_task(task))
        else:
            loss = _losses.get(self.loss)
            encoder = TargetEncoder.for_loss(loss.name, labels)
        encoder.fit(labels)
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
    ) -> MLP:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)`` or 2-D.

        ``batch_size=None`` is full-batch gradient descent (the article's loop); an int
        gives mini-batches reshuffled every epoch. ``verbose`` prints the article's
        ``Epoch e: cost = c`` line every ``print_every`` epochs (200 by default).
        Returns the model, so calls chain.
        """
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size, allow_none=True)
        print_every = check_int("print_every", print_every, allow_none=True)
        n_features = self.network.layer_sizes[0] if self.built else None
        X = check_features(X, dtype=self.dtype, n_features=n_features)
        y = check_targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0])
        opt = _optimizers.get(optimizer, learning_rate=learning_rate)
        if not isinstance(optimizer, str):
            opt.learning_rate = learning_rate
        if not self.built:
            self._build(X, y)
        Y = self.encoder.encode(y, dtype=self.dtype)
        if verbose and print_every is None:
            print_every = 200
        train(
            self.network,
            self.loss_,
            opt,
            X,
            Y,
            epochs=epochs,
            batch_size=batch_size,
            sample_weight=weights,
            rng=self._rng,
            model=self,
            callbacks=callbacks,
            history=self.history,
            print_every=print_every if verbose else None,
        )
        return self

    # ------------------------------------------------------------------ inference
    def _require_built(self) -> Network:
        if self.network is None:
            raise RuntimeError("this MLP is not fitted yet: call fit(X, y) first")
        return self.network

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits ``Z[L]``, shape ``(n_samples, n_outputs)``."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        return network.predict_logits(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        Binary models give two columns ``[P(classes_[0]), P(classes_[1])]``; multi-label
        models give one probability per label. For regression, the predicted values.
        """
        logits = self.decision_function(X)
        outputs = self.loss_.link(logits, out=logits)
        if self.encoder.task == "binary":
            return np.hstack([1 - outputs, outputs])
        return outputs

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        logits = self.decision_function(X)
        return self.encoder.decode(self.loss_.link(logits, out=logits))

    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(X, y)``; regression reports ``loss`` and
        ``mse`` instead of accuracy."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        y = check_targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0])
        Y = self.encoder.encode(y, dtype=self.dtype)
        logits = network.predict_logits(X)
        result = {"loss": self.loss_.value(logits, Y, weights)}
        outputs = self.loss_.link(logits, out=logits)
        if self.encoder.is_classifier:
            hits = _hits(self.encoder.decode(outputs), y, self.encoder.task)
            result["accuracy"] = float(np.average(hits, weights=weights))
        else:
            errors = ((outputs - Y) ** 2).mean(axis=1)
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
