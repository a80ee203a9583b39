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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import io as _io
from . import lbfgs as _lbfgs
from . import losses as _losses
from . import optimizers as _optimizers
from . import schedules as _schedules
from .activations import Activation
from .callbacks import Callback, History
from .network import Network
from .progress import ProgressLogger
from .regularizers import dropout_rates
from .targets import TargetEncoder, infer_task, loss_for_task
from .training import class_weights, split_validation, train
from .validation import (
    check_dtype,
    check_features,
    check_int,
    check_positive,
    check_sample_weight,
    check_targets,
    relative_sample_weight,
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
        # Fail early on a bad activation list rather than at the first fit.
        Network([1, *self.hidden, 1], self.activation, init=self.init, dtype=self.dtype, rng=0)

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
        y: Any,
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
        shuffle: bool = True,
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
            Reshuffle the rows every epoch (mini-batches only).
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
        if callbacks is None:
            callbacks = ()
        if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
            raise TypeError(
                "callbacks must be a list of Callback objects, got "
                f"{type(callbacks).__name__} {callbacks!r}"
            )
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(
                f"shuffle must be True or False, got {type(shuffle).__name__} {shuffle!r}"
            )
        callbacks = list(callbacks)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be Callback objects, got "
                    f"{type(callback).__name__} {callback!r}"
                )
        if schedule is not None:
            schedule = _schedules.get(schedule)
        # --- L-BFGS (mlpzero.lbfgs): full batch, in place of the epoch loop; see below ---
        use_lbfgs = _lbfgs.requested(
            optimizer, learning_rate=learning_rate, batch_size=batch_size, schedule=schedule,
            l1=l1, clip_norm=clip_norm, checkpoint=checkpoint, resume=resume,
        )  # fmt: skip
        opt = _resolve_optimizer("sgd" if use_lbfgs else optimizer, learning_rate)

        user_callbacks = list(callbacks)
        resumed = None if resume is None else _io.load_checkpoint(resume)
        if resumed is not None:
            self._check_same_model(resumed.model, resume)
            _io.check_callbacks(user_callbacks, resumed, resume)
        source = self if resumed is None else resumed.model
        n_features = source.network.layer_sizes[0] if source.built else None
        X_given = X
        X = check_features(X, dtype=self.dtype, n_features=n_features)
        y = check_targets(y, X.shape[0])
        # Only the ratios of the weights matter; scaled to a largest of 1, no product
        # with class weights, sum or cast below can overflow.
        weights = relative_sample_weight(check_sample_weight(sample_weight, X.shape[0]))
        validation = None
        if validation_data is not None:
            validation = _check_validation_data(validation_data, self.dtype, X.shape[1])

        was_built, rng_state = self.built, self._rng.bit_generator.state
        before_resume = dict(vars(self))
        try:
            if resumed is not None:
                # Take the checkpoint over; the random state goes back to where the
                # interrupted fit drew its validation split, so the split is the same.
                _io.restore_optimizer(opt, resumed, resume)
                _io.restore_schedule(schedule, resumed, resume)
                vars(self).update(vars(resumed.model))
                epoch_state = self._rng.bit_generator.state
                self._rng.bit_generator.state = resumed.progress["fit_random_state"]
            elif not was_built:
                self._build(X, y, verbose)
                self.feature_names_in_ = _column_names(X_given, X.shape[1])
            fit_random_state = self._rng.bit_generator.state
            encoder = self.encoder
            labels = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
            is_labelled = encoder.task in ("binary", "multiclass")
            self.validation_rows_ = None
            if validation_split:
                strata = labels if is_labelled else None
                # Drawn from the seed, not the running generator: every fit on the same
                # data holds out the same rows, so continued training never sees them.
                split_rng = (
                    self._rng if self.seed is None else np.random.default_rng([self.seed, 1])
                )
                rows, held = split_validation(len(y), validation_split, split_rng, strata)
                self.validation_rows_ = held
                held_w = None if weights is None else weights[held]
                validation = (X[held], y[held], held_w)
                X, y, labels = X[rows], y[rows], labels[rows]
                weights = None if weights is None else weights[rows]
            Y = encoder.encode(y, dtype=self.dtype)
            check_loss_targets = getattr(self.loss_, "check_targets", None)
            if check_loss_targets is not None:  # e.g. Poisson: no negative counts
                check_loss_targets(Y)
            if class_weight is not None:
                if not is_labelled:
                    raise ValueError(
                        f"class_weight applies to binary and multi-class classifiers, "
                        f"not to a {encoder.task} model"
                    )
                per_sample = class_weights(class_weight, labels, encoder.classes_)
                weights = per_sample if weights is None else weights * per_sample
            if weights is not None:  # the training rows must still carry some weight
                check_sample_weight(weights, len(weights))
            if validation is not None:
                X_val, y_val, w_val = validation
                validation = (X_val, encoder.encode(y_val, dtype=self.dtype), w_val)
        except BaseException:
            vars(self).clear()
            vars(self).update(before_resume)
            if not was_built:
                self.network = self.encoder = self.loss_ = None
            self._rng.bit_generator.state = rng_state
            raise

        if resumed is not None:
            self._rng.bit_generator.state = epoch_state
            start_epoch = resumed.progress["start_epoch"]
            epochs_left = max(0, epochs - (self.history.epochs - start_epoch))
        else:
            start_epoch, epochs_left = self.history.epochs, epochs
        self.fit_config_ = {
            "epochs": epochs,
            "learning_rate": opt.initial_learning_rate,
            "batch_size": batch_size,
            "optimizer": opt.config,
            "schedule": None if schedule is None else schedule.config,
            "l2": l2,
            "l1": l1,
            "clip_norm": clip_norm,
            "validation_split": validation_split,
            "shuffle": bool(shuffle),
        }
        if checkpoint is not None:
            progress = {
                "start_epoch": start_epoch,
                "epochs": epochs,
                "fit_random_state": fit_random_state,
            }
            final_epoch = self.history.epochs + epochs_left - 1
            writer = _io.CheckpointWriter(
                checkpoint, opt, schedule, progress, checkpoint_interval, final_epoch,
                user_callbacks,
            )  # fmt: skip
            callbacks.append(writer)
        if resumed is not None:
            callbacks.append(_io.CallbackRestorer(user_callbacks, resumed, resume))

        network = self.network
        network.dropout = list(self.dropout)
        network.dropout_rng = self._rng
        if verbose or print_every:
            callbacks.insert(
                0, ProgressLogger(epochs_left, verbose=verbose, print_every=print_every)
            )
        # --- L-BFGS: the branch that replaces the loop (the options were checked above) ---
        if use_lbfgs:
            self.optimizer_ = None
            self.fit_config_["optimizer"] = {"name": "lbfgs"}
            _lbfgs.minimize(
                network, self.loss_, X, Y, max_iter=epochs, sample_weight=weights, l2=l2,
                model=self, callbacks=callbacks, history=self.history, validation=validation,
            )  # fmt: skip
            return self
        # --- end of the L-BFGS branch ---
        self.optimizer_ = opt
        train(
            network,
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
            schedule=schedule,
            l2=l2,
            l1=l1,
            clip_norm=clip_norm,
            validation=validation,
            shuffle=bool(shuffle),
        )
        return self

    def _check_same_model(self, other: MLP, source: Any) -> None:
        """Refuse to resume from a checkpoint of a different architecture."""
        mine, theirs = self._architecture(), other._architecture()
        differ = [key for key in mine if mine[key] != theirs[key]]
        if differ:
            saved = ", ".join(f"{key}={theirs[key]!r}" for key in differ)
            given = ", ".join(f"{key}={mine[key]!r}" for key in differ)
            raise ValueError(
                f"resume: {source} holds a model with {saved}, but this MLP has {given}"
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
        ``mse`` instead of accuracy."""
        network = self._require_built()
        X = check_features(X, dtype=self.dtype, n_features=network.layer_sizes[0])
        y = check_targets(y, X.shape[0])
        weights = relative_sample_weight(check_sample_weight(sample_weight, X.shape[0]))
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


def _check_validation_data(
    data: Any, dtype: np.dtype, n_features: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise TypeError(
            "validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val), "
            f"got {type(data).__name__}"
        )
    X_val = check_features(data[0], dtype=dtype, n_features=n_features, name="X_val")
    y_val = check_targets(data[1], X_val.shape[0], name="y_val")
    w_val = check_sample_weight(data[2], X_val.shape[0]) if len(data) == 3 else None
    return X_val, y_val, w_val
