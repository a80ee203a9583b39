"""scikit-learn estimators: :class:`MLPClassifier` and :class:`MLPRegressor`.

Drop-in replacements for scikit-learn's estimators of the same names, built on
:class:`mlpzero.MLP`. They take scikit-learn's parameter names and defaults, expose its
fitted attributes (``coefs_``, ``loss_curve_``, ``n_iter_``, ...), stop on ``tol`` and
``n_iter_no_change`` as it does, and work in pipelines, grid searches and
``cross_val_score``. They add what scikit-learn's MLP lacks: ``"leaky_relu"`` and
per-layer activations, dropout, class weights, a validation loss curve, mlpzero
callbacks, and float32 training.

These classes translate names and shapes only: the forward and backward passes, the
losses and the update rules are mlpzero's (:mod:`mlpzero.network`, :mod:`mlpzero.losses`,
:mod:`mlpzero.optimizers`); the validation scores are scikit-learn's metrics.

Differences from scikit-learn:

- ``solver`` names an mlpzero optimizer (``"adam"``, the default as in scikit-learn, or
  ``"sgd"``, ...). There is no ``"lbfgs"``: mlpzero trains by stochastic gradients only.
- ``dtype="auto"`` trains in float32 when ``X`` is float32 and in float64 otherwise.
- ``coefs_[i]`` has shape ``(fan_in, fan_out)`` as in scikit-learn; it is a transposed
  view of mlpzero's ``(fan_out, fan_in)`` weights, so writing to it changes the model.

Requires scikit-learn (``pip install mlpzero[sklearn]``).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import optimizers as _optimizers
from .activations import ACTIVATIONS, Activation
from .callbacks import Callback
from .model import MLP
from .regularizers import WeightPenalty
from .schedules import InverseScaling
from .training import TrainingDivergedError
from .validation import check_sample_weight, is_memory_mapped

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn calls the sigmoid "logistic"; mlpzero accepts both.
_ACTIVATION_NAMES = {*ACTIVATIONS, "logistic"}
_OUT_ACTIVATION = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
# scikit-learn's "adaptive" schedule: divide by this when the loss stalls ...
_ADAPTIVE_FACTOR = 5.0
# ... until the learning rate falls below this.
_ADAPTIVE_FLOOR = 1e-6
# What validate_data records about X; restored when a fit fails.
_INPUT_DESCRIPTION = ("n_features_in_", "feature_names_in_")


_PARAMETERS_DOC = """hidden_layer_sizes:
        Width of each hidden layer, e.g. ``(100,)`` or ``(64, 32)``.
    activation:
        Hidden activation: ``"relu"``, ``"tanh"``, ``"logistic"`` (or ``"sigmoid"``),
        ``"leaky_relu"``, ``"identity"``, or a list with one per hidden layer.
    solver:
        The mlpzero optimizer: ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``.
    alpha:
        L2 penalty on the weights (not the biases), on scikit-learn's scale: the batch's
        summed loss gains ``alpha / 2 * sum(w ** 2)``.
    batch_size:
        Rows per gradient step; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate:
        ``"constant"``, ``"invscaling"`` (``learning_rate_init / (t + 1) ** power_t``
        after ``t`` samples, updated every epoch) or ``"adaptive"`` (divided by 5 each
        time the loss stalls for ``n_iter_no_change`` epochs); ``solver="sgd"`` only,
        as in scikit-learn.
    learning_rate_init, power_t:
        Initial learning rate; exponent of ``"invscaling"``.
    max_iter:
        Most epochs per ``fit``.
    shuffle:
        Reshuffle the rows every epoch.
    random_state:
        Seeds the initial weights, the shuffling and the validation split.
    tol, n_iter_no_change:
        Training stops when the training loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for more than ``n_iter_no_change``
        epochs.
    verbose:
        Print the loss (and validation score) after every epoch.
    warm_start:
        ``fit`` continues from the previous weights instead of starting again.
    momentum, nesterovs_momentum:
        SGD's momentum and Nesterov's variant.
    early_stopping, validation_fraction:
        Hold out this fraction (stratified for classifiers), stop on its score and keep
        the weights of the best epoch.
    beta_1, beta_2, epsilon:
        Adam's moment decay rates and denominator guard.
    dropout:
        Fraction of each hidden layer's units dropped at every training step (extra).
    callbacks:
        :class:`mlpzero.callbacks.Callback` objects run during ``fit`` (extra).
    dtype:
        ``"auto"`` trains in float32 when ``X`` is float32 and in float64 otherwise;
        ``"float32"`` or ``"float64"`` force one (extra)."""


class _Progress(Callback):
    """scikit-learn's per-epoch bookkeeping and stopping rule, as an mlpzero callback.

    After each epoch it records the training loss (and, with a validation set, the
    validation score and loss), counts the epochs without an improvement of at least
    ``tol``, and when that count exceeds ``n_iter_no_change`` either divides the learning
    rate (``learning_rate="adaptive"``) or stops training.

    The losses are reported on scikit-learn's scale. mlpzero's squared error sums over
    the ``k`` outputs; scikit-learn's reported loss averages over them while its gradient
    (and so its training) uses the sum, as mlpzero's does. So each batch's loss is
    reported as ``(loss - penalty) / k + penalty``, the penalty taken at the weights the
    batch saw, and the epoch's loss is the row-weighted mean of its batches' losses.
    ``k`` is 1 for classifiers (scikit-learn's log losses sum over outputs too).
    """

    def __init__(
        self,
        estimator: _BaseMLP,
        optimizer: _optimizers.Optimizer,
        n_samples: int,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
        previous: _Progress | None,
        batch_size: int = 1,
        outputs: int = 1,
        penalty: WeightPenalty | None = None,
    ) -> None:
        self.estimator = estimator
        self.batch_size = batch_size
        self.outputs = outputs
        self.penalty = penalty if penalty is not None and penalty.active else None
        self._epoch_total = 0.0
        self._penalty_now = 0.0
        self.optimizer = optimizer
        self.n_samples = n_samples
        self.validation = validation
        self.converged = False
        self.best_params: np.ndarray | None = None
        if previous is None:
            self.loss_curve: list[float] = []
            self.validation_scores: list[float] = []
            self.validation_losses: list[float] = []
            self.best_loss = np.inf
            self.best_score = -np.inf
            self.no_improvement = 0
            self.n_iter = 0
            self.t = 0
        else:  # warm start or partial_fit: carry on counting
            self.loss_curve = list(previous.loss_curve)
            self.validation_scores = list(previous.validation_scores)
            self.validation_losses = list(previous.validation_losses)
            self.best_loss = previous.best_loss
            self.best_score = previous.best_score
            self.no_improvement = previous.no_improvement
            self.n_iter = previous.n_iter
            self.t = previous.t

    def _penalty_value(self) -> float:
        return 0.0 if self.penalty is None else self.penalty.value(self.model.network.params)

    def _rescaled(self, loss: float, penalty: float) -> float:
        return (loss - penalty) / self.outputs + penalty

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch_total = 0.0
        self._penalty_now = self._penalty_value()

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.outputs == 1:
            return
        rows = min(self.batch_size, self.n_samples - batch * self.batch_size)
        self._epoch_total += rows * self._rescaled(float(logs["loss"]), self._penalty_now)
        self._penalty_now = self._penalty_value()  # the next batch starts from these weights

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        est = self.estimator
        loss = float(logs["loss"])
        if self.outputs != 1:
            loss = self._epoch_total / self.n_samples
        self.loss_curve.append(loss)
        self.n_iter += 1
        self.t += self.n_samples
        message = f"Iteration {self.n_iter}, loss = {loss:.8f}"
        if self.validation is not None:
            X_val, y_val, w_val = self.validation
            predicted = self.model.predict(X_val)
            score = float(est._score_metric(y_val, predicted, sample_weight=w_val))
            self.validation_scores.append(score)
            self.validation_losses.append(
                self._rescaled(float(logs["val_loss"]), self._penalty_now)
            )
            message += f", validation score = {score:.6f}"
            if score < self.best_score + est.tol:
                self.no_improvement += 1
            else:
                self.no_improvement = 0
            if score > self.best_score:
                self.best_score = score
                self.best_params = self.model.network.params.copy()
        else:
            if loss > self.best_loss - est.tol:
                self.no_improvement += 1
            else:
                self.no_improvement = 0
            self.best_loss = min(self.best_loss, loss)
        if est.verbose:
            print(message)
        if self.no_improvement > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            if (
                est.solver == "sgd"
                and est.learning_rate == "adaptive"
                and self.optimizer.learning_rate > _ADAPTIVE_FLOOR
            ):
                self.optimizer.learning_rate /= _ADAPTIVE_FACTOR
                self.no_improvement = 0
                if est.verbose:
                    print(
                        f"{what} gained less than tol={est.tol} for {est.n_iter_no_change} "
                        f"epochs: learning rate now {self.optimizer.learning_rate:g}"
                    )
            else:
                self.converged = True
                self.model.stop_training = True
                if est.verbose:
                    print(
                        f"{what} gained less than tol={est.tol} for "
                        f"{est.n_iter_no_change} epochs: stopping."
                    )


class _BaseMLP(BaseEstimator):
    """The parameters, fitting and fitted attributes shared by both estimators."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATION_NAMES), list, tuple, Activation],
        "solver": [StrOptions(set(_optimizers.OPTIMIZERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "callbacks": [list, tuple, None],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
    }

    #: accuracy for the classifier, R² for the regressor (set by the subclasses)
    _score_metric: Any = None

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dropout: float = 0.0,
        callbacks: Sequence[Callback] | None = None,
        dtype: str = "auto",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.callbacks = callbacks
        self.dtype = dtype

    # ------------------------------------------------------------------ fitted views
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)`` (views)."""
        return [w.T for w in self._mlp.network.weights]

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self._set_layers("coefs_", values, [w.T for w in self._mlp.network.weights])

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape ``(fan_out,)`` (views)."""
        return list(self._mlp.network.biases)

    @intercepts_.setter
    def intercepts_(self, values: Sequence[Any]) -> None:
        self._set_layers("intercepts_", values, list(self._mlp.network.biases))

    def _set_layers(self, name: str, values: Sequence[Any], targets: list[np.ndarray]) -> None:
        """Copy ``values`` into the model's arrays after checking every shape first."""
        arrays = [np.asarray(v) for v in values]
        expected = [t.shape for t in targets]
        if [a.shape for a in arrays] != expected:
            raise ValueError(
                f"{name} must be {len(expected)} arrays of shapes {expected}, "
                f"got shapes {[a.shape for a in arrays]}"
            )
        for target, array in zip(targets, arrays, strict=True):
            target[...] = array

    @property
    def n_layers_(self) -> int:
        """Number of layers, input and output included."""
        return len(self._mlp.network.layer_sizes)

    @property
    def n_outputs_(self) -> int:
        return self._mlp.network.layer_sizes[-1]

    @property
    def out_activation_(self) -> str:
        """``"logistic"``, ``"softmax"`` or ``"identity"``."""
        return _OUT_ACTIVATION[self._mlp.loss_.output_activation]

    @property
    def model_(self) -> MLP:
        """The trained :class:`mlpzero.MLP` (its ``summary()``, ``history``, ...)."""
        return self._mlp

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_mlp")

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y``; returns ``self``.

        Trains for up to ``max_iter`` epochs and stops early when the training loss (or,
        with ``early_stopping=True``, the validation score) has not improved by ``tol``
        for more than ``n_iter_no_change`` epochs. ``warm_start=True`` continues from the
        previous fit's weights.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        *,
        incremental: bool,
        classes: Any = None,
    ) -> _BaseMLP:
        """Train, or raise and leave a previously fitted estimator exactly as it was."""
        described = {k: v for k, v in vars(self).items() if k in _INPUT_DESCRIPTION}
        try:
            return self._train(X, y, sample_weight, incremental, classes)
        except BaseException:
            for key in _INPUT_DESCRIPTION:
                vars(self).pop(key, None)
            vars(self).update(described)
            raise

    def _train(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any
    ) -> _BaseMLP:
        fresh = not hasattr(self, "_mlp") or not (incremental or self.warm_start)
        X, y = validate_data(
            self,
            X,
            y,
            reset=fresh,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=isinstance(self, RegressorMixin),
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = self._check_targets(y, fresh, classes)
        weights = check_sample_weight(sample_weight, X.shape[0])
        weights = self._class_weights(y, weights)
        if fresh:
            dtype = X.dtype if self.dtype == "auto" else np.dtype(self.dtype)
        else:
            dtype = self._mlp.dtype
        if not is_memory_mapped(X):  # MLP.fit converts a memory-mapped X batch by batch
            X = np.asarray(X, dtype=dtype)

        rng = check_random_state(self.random_state)
        validation = None
        if self.early_stopping and not incremental:
            X, y, weights, validation = self._split_validation(X, y, weights, rng)

        if fresh:
            mlp = MLP(
                hidden=self._hidden_sizes(),
                activation=self.activation,
                loss=self._loss_for(y, classes),
                seed=int(rng.randint(np.iinfo(np.int32).max)),
                dtype=dtype,
                dropout=self.dropout,
            )
            mlp.build(X, y, classes=classes)
            optimizer = self._make_optimizer()
            previous = None
        else:
            mlp, optimizer, previous = self._mlp, self._optimizer, self._progress
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        l2 = self._l2(n_samples, batch_size, weights)
        progress = _Progress(
            self,
            optimizer,
            n_samples,
            validation,
            previous,
            batch_size=batch_size,
            outputs=self._reported_loss_outputs(mlp),
            penalty=WeightPenalty(mlp.network.weight_mask, mlp.network.dtype, l2=l2),
        )
        start = progress.n_iter
        if not fresh:  # to put back if this round fails
            saved_params, saved_optimizer = mlp.network.params.copy(), copy.deepcopy(optimizer)
        try:
            # A diverging run overflows on its way to NaN; training stops it with one error.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                mlp.fit(
                    X,
                    y,
                    epochs=1 if incremental else self.max_iter,
                    learning_rate=None,  # the optimizer's current rate
                    batch_size=batch_size,
                    optimizer=optimizer,
                    schedule=self._schedule(n_samples),
                    l2=l2,
                    shuffle=self.shuffle,
                    validation_data=validation,
                    sample_weight=weights,
                    callbacks=[progress, *(self.callbacks or ())],
                )
        except BaseException as error:
            if not fresh:  # leave the previous model as it was
                mlp.network.params[...] = saved_params
                self._optimizer = saved_optimizer
            if isinstance(error, TrainingDivergedError):
                raise TrainingDivergedError(
                    f"{type(self).__name__} diverged in epoch {progress.n_iter + 1}: the loss "
                    "or the weights became NaN or infinite. Lower learning_rate_init (now "
                    f"{self.learning_rate_init:g}), use solver='adam', or standardise X "
                    "(e.g. StandardScaler in a Pipeline)"
                    + ("; the estimator keeps its previous weights." if not fresh else "."),
                    error.epoch,
                ) from error
            raise
        if validation is not None and progress.best_params is not None:
            mlp.network.params[...] = progress.best_params
        self._commit(mlp, optimizer, progress, validation is not None)
        if not incremental and not progress.converged and progress.n_iter - start >= self.max_iter:
            watched = "validation score" if validation is not None else "training loss"
            warnings.warn(
                f"{type(self).__name__} ran max_iter={self.max_iter} epochs and the "
                f"{watched} still improved by more than tol={self.tol}; raise max_iter "
                "(or learning_rate_init) to train further",
                ConvergenceWarning,
                stacklevel=5,  # _train, _fit, fit, scikit-learn's fit wrapper, the caller
            )
        return self

    def _commit(
        self, mlp: MLP, optimizer: _optimizers.Optimizer, progress: _Progress, validated: bool
    ) -> None:
        """Set the fitted attributes once training has succeeded."""
        self._mlp, self._optimizer, self._progress = mlp, optimizer, progress
        progress.estimator = progress.model = None  # no cycles in pickles
        self.n_iter_ = progress.n_iter
        self.t_ = progress.t
        self.loss_curve_ = list(progress.loss_curve)
        self.loss_ = self.loss_curve_[-1]
        if validated:
            self.best_loss_ = None
            self.validation_scores_ = list(progress.validation_scores)
            self.validation_loss_curve_ = list(progress.validation_losses)
            self.best_validation_score_ = progress.best_score
        else:
            self.best_loss_ = progress.best_loss
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
        progress.validation = progress.best_params = progress.penalty = None  # lean pickles

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
                raise ValueError(
                    "hidden_layer_sizes must hold positive integers, got "
                    f"{self.hidden_layer_sizes!r}"
                )
        return tuple(int(s) for s in sizes)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} training "
                f"samples; using {n_samples}",
                UserWarning,
                stacklevel=6,  # as above, below _batch_size
            )
        return min(self.batch_size, n_samples)

    def _l2(self, n_samples: int, batch_size: int, weights: np.ndarray | None) -> float:
        """mlpzero's ``l2`` for scikit-learn's ``alpha``.

        scikit-learn adds ``alpha / 2 * sum(w ** 2)`` to a batch's *summed* loss, that is
        ``alpha / (2 m)`` times it to the mean loss of ``m`` rows. mlpzero's ``l2`` is
        the coefficient for the (weighted) mean loss, so it is ``alpha`` over a batch's
        expected weight: ``m`` rows of average weight. With integer weights this equals
        repeating the rows, as scikit-learn's checks expect.
        """
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        return self.alpha / (batch_size * mean_weight)

    def _schedule(self, n_samples: int) -> InverseScaling | None:
        if self.solver == "sgd" and self.learning_rate == "invscaling":
            return InverseScaling(power=self.power_t, rate=n_samples)
        return None

    def _make_optimizer(self) -> _optimizers.Optimizer:
        options: dict[str, Any] = {"learning_rate": self.learning_rate_init}
        if self.solver == "sgd":
            options.update(momentum=self.momentum, nesterov=self.nesterovs_momentum)
            if self.momentum == 0:
                options["nesterov"] = False  # Nesterov needs momentum; plain SGD then
        elif self.solver in ("adam", "adamw"):
            options.update(betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        return _optimizers.get(self.solver, **options)

    def _split_validation(
        self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, rng: np.random.RandomState
    ) -> tuple[Any, ...]:
        stratify = y if self._stratify(y) else None
        arrays = [X, y] if weights is None else [X, y, weights]
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = (parts[4], parts[5]) if weights is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves "
                f"{X_val.shape[0]} validation sample(s) out of {X.shape[0]}; "
                "early_stopping needs at least 2: raise validation_fraction"
            )
        return X_train, y_train, w_train, (X_val, y_val, w_val)

    # ------------------------------------------------------------------ subclass hooks
    def _check_targets(self, y: np.ndarray, fresh: bool, classes: Any) -> np.ndarray:
        return y

    def _class_weights(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        return weights

    def _loss_for(self, y: np.ndarray, classes: Any) -> str:
        raise NotImplementedError

    def _stratify(self, y: np.ndarray) -> bool:
        return False

    def _reported_loss_outputs(self, mlp: MLP) -> int:
        """The number of outputs the reported loss is averaged over (see _Progress)."""
        return 1

    # ------------------------------------------------------------------ inference
    def _validate_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=(np.float64, np.float32))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classifier) or values (regressor) for ``X``."""
        X = self._validate_X(X)
        return self._mlp.predict(X)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: binary, multi-class and multi-label.

    Two classes train one sigmoid output with binary cross-entropy; more classes train a
    softmax with categorical cross-entropy; a 0/1 indicator matrix ``y`` trains one
    sigmoid output per label.

    Parameters
    ----------
    {parameters}
    class_weight:
        ``{{label: weight}}`` or ``"balanced"`` (``n / (n_classes * count)``, scikit-learn's
        formula): multiplies each sample's weight by its class's.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlpzero.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _score_metric = staticmethod(accuracy_score)

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dropout: float = 0.0,
        class_weight: dict[Any, float] | str | None = None,
        callbacks: Sequence[Callback] | None = None,
        dtype: str = "auto",
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            dropout=dropout,
            callbacks=callbacks,
            dtype=dtype,
        )
        self.class_weight = class_weight

    @property
    def classes_(self) -> np.ndarray:
        """The class labels (for multi-label ``y``: the column indices)."""
        return self._mlp.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights.

        ``classes`` (every label the model will ever see) is required on the first call
        and optional afterwards; multi-label ``y`` needs no ``classes``.
        """
        first = not hasattr(self, "_mlp")
        if classes is not None:
            classes = np.unique(np.asarray(classes))
        if first and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit")
        if not first and classes is not None and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"classes={classes.tolist()} differs from the classes of the first call "
                f"to partial_fit, {self.classes_.tolist()}"
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes if first else None)

    def _check_targets(self, y: np.ndarray, fresh: bool, classes: Any) -> np.ndarray:
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                "y with several columns must be a 0/1 label indicator matrix (multi-label); "
                "got several columns of class labels, which MLPClassifier does not support"
            )
        return y

    def _class_weights(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        if self.class_weight is None:
            return weights
        per_sample = compute_sample_weight(self.class_weight, y)
        return per_sample if weights is None else per_sample * weights

    def _loss_for(self, y: np.ndarray, classes: Any) -> str:
        if type_of_target(y) == "multilabel-indicator":
            return "binary_crossentropy"
        labels = np.unique(y) if classes is None else classes
        return "binary_crossentropy" if len(labels) <= 2 else "categorical_crossentropy"

    def _stratify(self, y: np.ndarray) -> bool:
        return y.ndim == 1

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_``
        order (multi-label: one probability per label)."""
        X = self._validate_X(X)
        return self._mlp.predict_proba(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba` (``-inf`` where a probability is 0)."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: squared error, one or several outputs.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from mlpzero.sklearn import MLPRegressor
    >>> X = np.linspace(-2, 2, 200).reshape(-1, 1)
    >>> y = X[:, 0] ** 2
    >>> reg = MLPRegressor(
    ...     hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=2000, random_state=0
    ... )
    >>> round(reg.fit(X, y).score(X, y), 2)
    0.99
    """

    _score_metric = staticmethod(r2_score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _loss_for(self, y: np.ndarray, classes: Any) -> str:
        return "squared_error"

    def _reported_loss_outputs(self, mlp: MLP) -> int:
        return int(mlp.encoder.n_outputs_)


for _estimator in (MLPClassifier, MLPRegressor):
    if _estimator.__doc__:  # None under python -OO
        _estimator.__doc__ = _estimator.__doc__.format(parameters=_PARAMETERS_DOC)
