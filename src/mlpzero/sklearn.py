"""scikit-learn estimators: :class:`MLPClassifier` and :class:`MLPRegressor`.

Drop-in replacements for scikit-learn's estimators of the same names, built on
:class:`mlpzero.MLP`. They take scikit-learn's parameter names and defaults, draw its
initial weights, hold out its validation rows and take its batches in its order for the
same ``random_state`` (so the same run trains alike, up to rounding), expose
its fitted attributes (``coefs_``, ``loss_curve_``, ``n_iter_``, ...), stop on ``tol``
and ``n_iter_no_change`` as it does, and work in pipelines, grid searches and
``cross_val_score``. They add what scikit-learn's MLP lacks: ``"leaky_relu"`` and
per-layer activations, dropout, class weights, a validation loss curve, mlpzero
callbacks, and float32 training.

These classes translate names, shapes and units only: the forward and backward passes,
the losses and the update rules are mlpzero's (:mod:`mlpzero.network`,
:mod:`mlpzero.losses`, :mod:`mlpzero.optimizers`, :mod:`mlpzero.lbfgs`), the stopping
rule is :class:`mlpzero.convergence.ToleranceStopping`; the validation scores are
scikit-learn's metrics.

Differences from scikit-learn:

- ``solver`` is ``"lbfgs"`` or names an mlpzero optimizer (``"adam"``, the default as in
  scikit-learn, ``"sgd"``, ``"rmsprop"``, ``"adamw"``).
- A diverging run raises at once (outside early stopping) rather than after ``max_iter``
  epochs; under early stopping it records a NaN score, keeps the best weights and stops.
- A changed ``hidden_layer_sizes`` under ``warm_start`` or in ``partial_fit`` raises a
  ``ValueError`` (the fitted weights have the old sizes).
- ``dtype="auto"`` trains in float32 when ``X`` is float32 and in float64 otherwise.
- ``coefs_[i]`` has shape ``(fan_in, fan_out)`` as in scikit-learn; it is a transposed
  view of mlpzero's ``(fan_out, fan_in)`` weights, so writing to it changes the model.

Requires scikit-learn (``pip install mlpzero[sklearn]``).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import csr_matrix, issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

try:  # private modules of scikit-learn: its declared parameter checks
    from sklearn.base import _fit_context
    from sklearn.utils._param_validation import Interval, Options, StrOptions
except ImportError as _error:  # pragma: no cover - depends on the installed version
    import sklearn as _sklearn

    raise ImportError(
        "mlpzero.sklearn checks its parameters with scikit-learn's parameter validation "
        "(sklearn.base._fit_context, sklearn.utils._param_validation), which scikit-learn "
        f"{_sklearn.__version__} does not provide as expected ({_error}); install a "
        "scikit-learn from 1.6 to 1.9: pip install 'mlpzero[sklearn]'"
    ) from _error

from . import activations as _activations
from . import lbfgs as _lbfgs
from . import losses as _losses
from . import optimizers as _optimizers
from .activations import ACTIVATIONS, Activation
from .callbacks import Callback, Diagnostics, LambdaCallback
from .convergence import ToleranceStopping
from .initializers import glorot_uniform_layers
from .model import MLP
from .network import Network
from .preparation import encode_targets
from .regularizers import PenaltyRangeError, WeightPenalty
from .schedules import InverseScaling
from .snapshot import ParameterSnapshot
from .training import TrainingDivergedError
from .validation import (
    check_features,
    check_fits,
    check_sample_weight,
    float_duplicates,
    is_memory_mapped,
)

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn calls the sigmoid "logistic"; mlpzero accepts both.
_ACTIVATION_NAMES = {*ACTIVATIONS, "logistic"}
_OUT_ACTIVATION = {
    "sigmoid": "logistic",
    "softmax": "softmax",
    "identity": "identity",
    "exp": "exp",
}
# scikit-learn's "adaptive" schedule: divide by this when the loss stalls ...
_ADAPTIVE_FACTOR = 5.0
# ... until the learning rate falls below this.
_ADAPTIVE_FLOOR = 1e-6
# What validate_data records about X; restored when a fit fails.
_INPUT_DESCRIPTION = ("n_features_in_", "feature_names_in_")
# scikit-learn's words for weights that became NaN or infinite (its tests match them).
_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large "
    "values and need to be preprocessed."
)


#: The numeric parameters, which refuse a bool (scikit-learn would take True as 1 in some).
_NUMBERS = (
    "alpha", "batch_size", "learning_rate_init", "power_t", "max_iter", "tol", "momentum",
    "validation_fraction", "beta_1", "beta_2", "epsilon", "n_iter_no_change", "max_fun",
    "dropout",
)  # fmt: skip


def _input_dtypes(X: Any) -> Any:
    """What ``validate_data`` may convert ``X`` to: float64 or float32, except for a
    memory-mapped ``X``, which keeps its dtype (None): :class:`~mlpzero.MLP` converts its
    rows batch by batch, where a conversion here would copy it whole."""
    return None if is_memory_mapped(X) else (np.float64, np.float32)


def _sparse_sums(X: Any) -> Any:
    """``X``, a sparse ``X`` checked (:func:`~mlpzero.validation.float_duplicates`), as
    float64 where it is of integers with duplicate entries: ``validate_data`` converts a
    COO matrix to CSR, trusting its indices and adding duplicates in its dtype (uint8
    200 + 100 is 44)."""
    return float_duplicates(X) if issparse(X) else X


def _auto_dtype(X: Any, given: Any) -> np.dtype:
    """``dtype="auto"``: float32 when the caller's ``X`` is float32 (``given``, its dtype
    before validation, counts a big-endian one too; a DataFrame has none, and its
    validated ``X`` counts), else float64."""
    float32 = X.dtype == np.float32 or (
        isinstance(given, np.dtype) and given.kind == "f" and given.itemsize == 4
    )
    return np.dtype(np.float32 if float32 else np.float64)


def _init_like_scikit_learn(
    sizes: Sequence[int], activation: Any, rng: np.random.RandomState
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The initial ``(coefs_[i], intercepts_[i])`` of scikit-learn's MLP
    (:func:`mlpzero.initializers.glorot_uniform_layers`). With one activation per hidden
    layer, each layer takes its own's gain (the output layer the last hidden layer's)."""
    n_layers = len(sizes) - 1
    if isinstance(activation, (str, Activation)):
        activation = [activation] * max(n_layers - 1, 1)
    names = [_activations.get(a).name for a in activation] or ["identity"]
    sigmoid = [names[min(layer, len(names) - 1)] == "sigmoid" for layer in range(n_layers)]
    return glorot_uniform_layers(list(sizes), sigmoid, rng)


def _text_labels(labels: np.ndarray, name: str = "y") -> bool:
    """Whether ``labels`` are of object dtype and all strings. Strings mixed with other
    labels are refused, naming the argument ``name``: they have no order to sort them in."""
    if labels.dtype != object:
        return False
    strings = [isinstance(label, str) for label in labels.ravel()]
    if all(strings) and strings:
        return True
    if any(strings):
        flat = labels.ravel()
        other = flat[strings.index(False)]
        raise ValueError(
            f"{name}: the labels mix strings ({flat[strings.index(True)]!r}) with other "
            f"values ({other!r} of type {type(other).__name__}); give labels of one type"
        )
    return False


def _string_labels(labels: np.ndarray, name: str = "y") -> np.ndarray:
    """Labels of object dtype that are all strings as a string array (dtype ``<U``, as
    scikit-learn's ``classes_``); others as they are. For a few labels (``classes``): a
    ``y`` stays of object dtype, as a string array each row would be as wide as its
    longest label (:meth:`MLPClassifier._labels_of`)."""
    return labels.astype(str) if _text_labels(labels, name) else labels


#: mlpzero's names of the optimizer settings and scikit-learn's
_OPTIMIZER_NAMES = (("learning_rate=", "learning_rate_init="), ("eps=", "epsilon="))


def _check_optimizer_range(optimizer: _optimizers.Optimizer, dtype: Any) -> None:
    """Refuse a rate or an ``epsilon`` that ``dtype``, the weights', cannot hold
    (:func:`mlpzero.optimizers.check_dtype_range`), naming them as scikit-learn does."""
    try:
        _optimizers.check_dtype_range(optimizer, dtype)
    except ValueError as error:
        message = str(error)
        for ours, theirs in _OPTIMIZER_NAMES:
            if message.startswith(ours):
                message = theirs + message[len(ours) :]
        raise ValueError(message) from None


class _ScikitLearnOrder:
    """scikit-learn's batch order as a row-order function for ``MLP.fit(shuffle=)``:
    each epoch permutes the previous epoch's order by a shuffle of ``0..n-1`` drawn from
    ``random_state``, as ``sklearn.utils.shuffle`` does, so the same ``random_state``
    gives scikit-learn's batches."""

    def __init__(self, random_state: np.random.RandomState) -> None:
        self.random_state = random_state

    def __call__(self, order: np.ndarray) -> None:
        permutation = np.arange(order.shape[0])
        self.random_state.shuffle(permutation)
        order[...] = order[permutation]


def _packing_order(network: Network) -> np.ndarray:
    """Indices into ``network.params`` in scikit-learn's packing: each ``coefs_[i]``
    ``(fan_in, fan_out)`` raveled, layer by layer, then each ``intercepts_[i]``."""
    positions = np.arange(network.n_params)
    coefs, intercepts, offset = [], [], 0
    for fan_in, fan_out in zip(network.layer_sizes[:-1], network.layer_sizes[1:], strict=True):
        block = positions[offset : offset + fan_out * fan_in].reshape(fan_out, fan_in)
        coefs.append(block.T.ravel())
        offset += fan_out * fan_in
        intercepts.append(positions[offset : offset + fan_out])
        offset += fan_out
    return np.concatenate(coefs + intercepts)


_PARAMETERS_DOC = """hidden_layer_sizes:
        Width of each hidden layer, e.g. ``(100,)`` or ``(64, 32)``.
    activation:
        Hidden activation: ``"relu"``, ``"tanh"``, ``"logistic"`` (or ``"sigmoid"``),
        ``"leaky_relu"``, ``"identity"``, or a list with one per hidden layer.
    solver:
        ``"lbfgs"`` (full-batch quasi-Newton, :mod:`mlpzero.lbfgs`; best for small
        data) or an mlpzero optimizer: ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``.
    alpha:
        L2 penalty on the weights (not the biases), on scikit-learn's scale: the batch's
        summed loss gains ``alpha / 2 * sum(w ** 2)``.
    batch_size:
        Rows per gradient step; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate:
        ``"constant"``, ``"invscaling"`` (``learning_rate_init / (t + 1) ** power_t``
        after ``t`` samples, updated every epoch) or ``"adaptive"`` (divided by 5 each
        time the loss, or with ``early_stopping`` the validation score, stalls for more
        than ``n_iter_no_change`` epochs, as ``tol`` below says; training stops once the
        rate is at most 1e-6); ``solver="sgd"`` only, as in scikit-learn.
    learning_rate_init, power_t:
        Initial learning rate; exponent of ``"invscaling"``.
    max_iter:
        Most epochs (for ``"lbfgs"``, iterations) per ``fit``.
    max_fun:
        ``"lbfgs"`` only: evaluations of the loss and its gradient after which a ``fit``
        stops. SciPy checks the count between iterations, so the last one's line search
        may take a few more, as scikit-learn's does.
    shuffle:
        Reshuffle the rows every epoch.
    random_state:
        Seeds the initial weights, the shuffling and the validation split.
    tol, n_iter_no_change:
        Training stops when the training loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for more than ``n_iter_no_change``
        epochs (``np.inf``: never). For ``"lbfgs"``, ``tol`` bounds the largest
        gradient component instead.
    verbose:
        Print the loss (and validation score) after every epoch.
    warm_start:
        ``fit`` continues from the previous weights instead of starting again, with the
        current parameters (a changed ``activation`` or ``dropout`` applies to the old
        weights; a changed ``hidden_layer_sizes`` is refused).
    momentum, nesterovs_momentum:
        SGD's momentum and Nesterov's variant.
    early_stopping, validation_fraction:
        Hold out this fraction (stratified for binary classifiers, as scikit-learn
        does), stop on its score and keep the weights of the best epoch.
    beta_1, beta_2, epsilon:
        Adam's moment decay rates and denominator guard.
    dropout:
        Fraction of each hidden layer's units dropped at every training step (extra).
    callbacks:
        :class:`mlpzero.callbacks.Callback` objects run during ``fit`` (extra).
    dtype:
        ``"auto"`` trains in float32 when ``X`` is float32 and in float64 otherwise;
        ``"float32"`` or ``"float64"`` force one (extra). A fit that starts the weights
        afresh reads it; ``warm_start`` and ``partial_fit`` train on in the dtype of the
        fitted weights, whatever ``dtype`` has become since."""


class _LayerArrays(list):
    """The per-layer views of a fitted estimator's ``coefs_`` or ``intercepts_``.

    scikit-learn keeps these lists as attributes, so ``coefs_[0] = W`` replaces a layer
    there. Here the list is made on each access, so assigning an item writes into the
    model's array instead (same shape required); other changes to the list do nothing.
    """

    def __init__(self, name: str, arrays: list[np.ndarray]) -> None:
        super().__init__(arrays)
        self.name = name

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"{self.name}[{index!r}] = ...: assign one layer by its index")
        target = list.__getitem__(self, index)
        array = np.asarray(value)
        if array.shape != target.shape:
            raise ValueError(
                f"{self.name}[{index}] must have shape {target.shape}, got {array.shape}"
            )
        target[...] = array


@dataclass(frozen=True)
class _RateSchedule:
    """The settings an optimizer's learning rate follows: those of the call that made
    the optimizer. ``partial_fit`` trains on with that optimizer, and so, as in
    scikit-learn, with its schedule, whatever ``set_params`` changed since."""

    solver: str
    learning_rate: str
    learning_rate_init: float
    power_t: float

    @classmethod
    def of(cls, estimator: _BaseMLP) -> _RateSchedule:
        return cls(
            estimator.solver,
            estimator.learning_rate,
            estimator.learning_rate_init,
            estimator.power_t,
        )

    @property
    def invscaling(self) -> bool:
        return self.solver == "sgd" and self.learning_rate == "invscaling"

    @property
    def adaptive(self) -> bool:
        return self.solver == "sgd" and self.learning_rate == "adaptive"


class _Bookkeeping(Callback):
    """scikit-learn's per-epoch bookkeeping, as an mlpzero callback.

    After each epoch it records the training loss (and, with a validation set, the
    validation score and loss) and counts the epochs (``n_iter``, per call) and the
    samples seen (``t``, over all calls). It logs ``reported_loss`` and
    ``validation_score`` for the stopping rule (:class:`~mlpzero.convergence.
    ToleranceStopping`), keeps the weights of the best validation score, and sets the
    ``"invscaling"`` rate for the next epoch, ``learning_rate_init / (t + 1) ** power_t``.

    The losses are reported on scikit-learn's scale. mlpzero's squared error sums over
    the ``k`` outputs; scikit-learn's reported loss averages over them while its gradient
    (and so its training) uses the sum, as mlpzero's does. So each batch's loss is
    reported as ``(loss - penalty) / k + penalty``, with the penalty that batch's loss
    includes (its ``penalty`` log); the validation loss likewise, with the penalty of the
    weights at the epoch's end for a batch of average weight. The epoch's loss is the mean
    of its batches' losses weighted by their rows, not by their sample weights, as
    scikit-learn's (a batch of zero weight, which trains nothing, is left out). ``k`` is 1
    for classifiers (scikit-learn's log losses sum over outputs too).
    """

    def __init__(
        self,
        estimator: _BaseMLP,
        n_samples: int,
        validation: tuple[Any, np.ndarray, np.ndarray | None] | None,
        previous: _Bookkeeping | None,
        batch_size: int = 1,
        outputs: int = 1,
        penalty: WeightPenalty | None = None,
        schedule: _RateSchedule | None = None,
    ) -> None:
        self.estimator = estimator
        self.schedule = schedule
        self.batch_size = batch_size
        self.outputs = outputs
        self.penalty = penalty if penalty is not None and penalty.active else None
        self._epoch_total = 0.0
        self._epoch_rows = 0
        self.n_samples = n_samples
        self.validation = validation
        self.best_params = ParameterSnapshot()
        self.n_iter = 0  # per call, as scikit-learn counts n_iter_
        if previous is None:
            self.loss_curve: list[float] = []
            self.validation_scores: list[float] = []
            self.validation_losses: list[float] = []
            self.best_loss = np.inf
            self.best_score = -np.inf
            self.t = 0
        else:  # warm start or partial_fit: record on into the same lists (as scikit-learn's
            # attributes grow); a call that fails cuts them back (_fit), so that a long run
            # of partial_fit calls does not copy every epoch so far at each call
            self.loss_curve = previous.loss_curve
            self.validation_scores = previous.validation_scores
            self.validation_losses = previous.validation_losses
            self.best_loss = previous.best_loss
            self.best_score = previous.best_score
            self.t = previous.t

    def lengths(self) -> tuple[int, int, int]:
        """How many values each list holds, for :meth:`cut_back`."""
        return len(self.loss_curve), len(self.validation_scores), len(self.validation_losses)

    def cut_back(self, lengths: tuple[int, int, int]) -> None:
        """Drop what was recorded after :meth:`lengths` gave ``lengths``."""
        for values, length in zip(
            (self.loss_curve, self.validation_scores, self.validation_losses), lengths, strict=True
        ):
            del values[length:]

    def _penalty_value(self) -> float:
        """The penalty of the current weights for a batch of average weight."""
        return 0.0 if self.penalty is None else self.penalty.value(self.model.network.params)

    def rescaled(self, loss: float, penalty: float) -> float:
        return (loss - penalty) / self.outputs + penalty

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch_total = 0.0
        self._epoch_rows = 0  # of the batches trained on: one of zero weight is skipped

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        rows = min(self.batch_size, self.n_samples - batch * self.batch_size)
        loss = float(logs["loss"])
        if self.outputs != 1:  # with one output the rescaled loss is the loss itself
            loss = self.rescaled(loss, float(logs.get("penalty", 0.0)))
        self._epoch_total += rows * loss
        self._epoch_rows += rows

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.record_epoch(self._epoch_total / self._epoch_rows, logs)
        schedule = self.schedule
        if schedule is not None and schedule.invscaling:
            optimizer = self.model.optimizer_
            # invscaling's rate after t samples seen: InverseScaling with time in samples.
            decay = InverseScaling(power=schedule.power_t, rate=1.0)
            optimizer.learning_rate = decay.learning_rate(self.t, schedule.learning_rate_init)

    def record_epoch(self, loss: float, logs: dict[str, float]) -> None:
        """Record one epoch whose reported training loss is ``loss``; adds to ``logs``."""
        est = self.estimator
        self.loss_curve.append(loss)
        self.n_iter += 1
        self.t += self.n_samples
        logs["reported_loss"] = loss
        self.best_loss = min(self.best_loss, loss)
        message = f"Iteration {self.n_iter}, loss = {loss:.8f}"
        if self.validation is not None:
            X_val, y_val, w_val = self.validation
            score = est._validation_score(self.model, X_val, y_val, w_val)
            self.validation_scores.append(score)
            val_loss = float(logs.get("val_loss", np.nan))
            self.validation_losses.append(self.rescaled(val_loss, self._penalty_value()))
            logs["validation_score"] = score
            message += f", validation score = {score:.6f}"
            if score > self.best_score:
                self.best_score = score
                self.best_params.take(self.model.network.params)
        if est.verbose:
            print(message)


class _BaseMLP(BaseEstimator):
    """The parameters, fitting and fitted attributes shared by both estimators."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATION_NAMES), list, tuple, Activation],
        "solver": [StrOptions({*_optimizers.OPTIMIZERS, "lbfgs"})],
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
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
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
        max_fun: int = 15000,
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
        self.max_fun = max_fun
        self.dropout = dropout
        self.callbacks = callbacks
        self.dtype = dtype

    # ------------------------------------------------------------------ fitted views
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)`` (views; assigning
        ``coefs_[i] = W`` writes ``W`` into the model)."""
        return _LayerArrays("coefs_", [w.T for w in self._fitted("coefs_").network.weights])

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        weights = self._fitted("coefs_").network.weights
        self._set_layers("coefs_", values, [w.T for w in weights])

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape ``(fan_out,)`` (views; assigning
        ``intercepts_[i] = b`` writes ``b`` into the model)."""
        return _LayerArrays("intercepts_", list(self._fitted("intercepts_").network.biases))

    @intercepts_.setter
    def intercepts_(self, values: Sequence[Any]) -> None:
        biases = self._fitted("intercepts_").network.biases
        self._set_layers("intercepts_", values, list(biases))

    def _fitted(self, name: str) -> MLP:
        """The trained model, for the fitted attribute ``name``: before ``fit``, an
        AttributeError naming ``name`` (``hasattr`` is then False, as in scikit-learn)."""
        try:
            return vars(self)["_mlp"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: it is set by "
                "fit; call fit first"
            ) from None

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
        return len(self._fitted("n_layers_").network.layer_sizes)

    @property
    def n_outputs_(self) -> int:
        return self._fitted("n_outputs_").network.layer_sizes[-1]

    @property
    def out_activation_(self) -> str:
        """``"logistic"``, ``"softmax"``, ``"identity"`` or ``"exp"`` (Poisson)."""
        return _OUT_ACTIVATION[self._fitted("out_activation_").loss_.output_activation]

    @property
    def model_(self) -> MLP:
        """The trained :class:`mlpzero.MLP` (its ``summary()``, ``history``, ...)."""
        return self._fitted("model_")

    @property
    def _no_improvement_count(self) -> int:
        """scikit-learn's name for the stopping rule's count of epochs without progress."""
        rule = getattr(self, "_rule", None)
        return 0 if rule is None else rule.wait

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_mlp")

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y``; returns ``self``.

        Stochastic solvers train for up to ``max_iter`` epochs and stop early when the
        training loss (or, with ``early_stopping=True``, the validation score) has not
        improved by ``tol`` for more than ``n_iter_no_change`` epochs; ``"lbfgs"`` runs up
        to ``max_iter`` iterations. ``warm_start=True`` continues from the previous fit's
        weights (with a fresh optimizer state, as scikit-learn does).
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        """``partial_fit`` exists for the stochastic solvers only."""
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

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
        mlp = getattr(self, "_mlp", None)
        hidden = None if mlp is None else (mlp.network, mlp.activation, mlp.dropout)
        progress = getattr(self, "_progress", None)  # whose lists a continued fit extends
        recorded = None if progress is None else progress.lengths()
        epochs = None if mlp is None else mlp.history.lengths()
        try:
            return self._train(X, y, sample_weight, incremental, classes)
        except BaseException:
            if vars(self).get("_progress") is not progress:
                raise  # after _commit (a warning raised as an error): the fit stands
            for key in _INPUT_DESCRIPTION:
                vars(self).pop(key, None)
            vars(self).update(described)
            if mlp is not None:
                mlp.network, mlp.activation, mlp.dropout = hidden
            if progress is not None:
                progress.cut_back(recorded)
                if mlp is not None:  # the model's history, of the weights put back
                    mlp.history.cut_back(epochs)
            raise

    def _train(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any
    ) -> _BaseMLP:
        for name in _NUMBERS:  # a bool is an int to scikit-learn's checks
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a number, got bool {value!r}")
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: each call trains on the "
                "batch it is given, with no rows held out; set early_stopping=False"
            )
        fresh = not hasattr(self, "_mlp") or not (incremental or self.warm_start)
        if not fresh:
            self._check_same_layers(incremental)
        given = getattr(X, "dtype", None)  # before validate_data converts X
        X, y = validate_data(
            self,
            _sparse_sums(X),
            y,
            reset=fresh,
            accept_sparse=["csr", "csc"],
            dtype=_input_dtypes(X),
            multi_output=True,
            y_numeric=isinstance(self, RegressorMixin),
        )
        # A sparse y (multi-label) is read dense, and predict answers in kind, as in
        # scikit-learn; partial_fit and warm_start keep the kind of the first fit.
        sparse_targets = issparse(y) if fresh else None
        if issparse(y):
            y = self._dense_targets(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = self._check_targets(y, fresh, classes, incremental)
        weights = check_sample_weight(sample_weight, X.shape[0])
        weights = self._class_weights(y, weights)
        if fresh:
            dtype = _auto_dtype(X, given) if self.dtype == "auto" else np.dtype(self.dtype)
        else:
            dtype = self._mlp.dtype
        # validate_data made X float64 or float32: a float64 value beyond float32 would
        # become infinity in the cast below, and then be refused as if X held one.
        if issparse(X):  # CSR rows are what every solver reads, checked as they add up
            X = check_features(X, dtype=dtype, accept_sparse=True)
        elif not is_memory_mapped(X):  # MLP.fit converts a memory-mapped X batch by batch
            check_fits(X, dtype, "X")
            X = np.asarray(X, dtype=dtype)

        # The random draws come in scikit-learn's order: initial weights, validation
        # split, then each epoch's shuffle; the same random_state then gives
        # scikit-learn's initial weights, held-out rows and batches.
        rng = check_random_state(self.random_state)
        if fresh and classes is None:
            classes = self._labels_of(y)
        if fresh:
            initial = _init_like_scikit_learn(
                [X.shape[1], *self._hidden_sizes(), self._n_outputs(y, classes)],
                self.activation,
                rng,
            )
        X_all, y_all = X, y
        validation = None
        if self.early_stopping and self.solver != "lbfgs":
            X, y, weights, validation = self._split_validation(X, y, weights, rng)
        if fresh:
            # mlpzero's own seed (dropout masks) from a copy: rng's draws stay scikit-learn's
            seed = int(copy.deepcopy(rng).randint(np.iinfo(np.int32).max))
            mlp, previous = self._new_model(X_all, y_all, classes, dtype, seed, initial), None
        else:  # as scikit-learn: the old weights, the current activation (and dropout)
            mlp, previous = (
                self._mlp.use_hidden_options(self.activation, self.dropout),
                self._progress,
            )
        if self.solver == "lbfgs":
            return self._train_lbfgs(mlp, X, y, weights, previous, fresh, sparse_targets)

        keep_optimizer = incremental and getattr(self, "_optimizer", None) is not None
        optimizer = self._optimizer if keep_optimizer else self._make_optimizer()
        _check_optimizer_range(optimizer, mlp.dtype)
        # the kept optimizer's rate follows the schedule it was made with, as scikit-learn's
        schedule = getattr(self, "_schedule", None) if keep_optimizer else None
        schedule = schedule or _RateSchedule.of(self)
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        l2 = self._l2(n_samples, batch_size, weights, mlp.dtype)
        progress = _Bookkeeping(
            self,
            n_samples,
            validation,
            previous,
            batch_size=batch_size,
            outputs=self._reported_loss_outputs(mlp),
            penalty=WeightPenalty(mlp.network.weight_mask, mlp.network.dtype, l2=l2),
            schedule=schedule,
        )
        rule = self._stopping_rule(validation is not None, fresh, schedule.adaptive)
        if not fresh:  # to put back if this round fails: the weights, and the optimizer
            # partial_fit goes on with (a copy of the one kept, or the one a warm fit replaces)
            saved_params = ParameterSnapshot(mlp.network.params)
            saved_optimizers = (
                (copy.deepcopy(optimizer),) * 2
                if keep_optimizer
                else (getattr(self, "_optimizer", None), getattr(mlp, "optimizer_", None))
            )
        # Held until the weights are in place: a prediction in another thread waits for
        # the best epoch's weights (or the previous ones) to be put back whole.
        with mlp.network.lock:
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
                        l2=self.alpha,
                        penalty_per_sample=True,  # alpha / (each batch's weight), as scikit-learn
                        shuffle=_ScikitLearnOrder(rng) if self.shuffle else False,
                        validation_data=validation,
                        sample_weight=weights,
                        callbacks=[progress, rule, *(self.callbacks or ())],
                    )
            except TrainingDivergedError as error:
                if validation is not None:
                    # scikit-learn records a NaN validation score and keeps the best weights.
                    progress.loss_curve.append(float("nan"))
                    progress.validation_scores.append(float("nan"))
                    progress.validation_losses.append(float("nan"))
                    progress.n_iter += 1
                    progress.t += n_samples
                else:
                    if not fresh:  # leave the previous model as it was
                        saved_params.restore(mlp.network.params)
                        self._optimizer, mlp.optimizer_ = saved_optimizers
                    where = f"{type(self).__name__} diverged in epoch {progress.n_iter + 1}"
                    if error.overflowed_state:  # the weights are finite, but some would freeze
                        what = (
                            f"{where}: the squares of the gradients overflowed the optimizer's "
                            f"{', '.join(error.overflowed_state)}, which would stop the weights "
                            "they scale. Standardise X (e.g. StandardScaler in a Pipeline), "
                            "scale y, or give sample weights nearer 1"
                        )
                    else:
                        what = (
                            f"{_NON_FINITE} {where}: the loss or the weights became NaN or "
                            "infinite. Lower learning_rate_init (now "
                            f"{self.learning_rate_init:g}), use solver='adam', or standardise "
                            "X (e.g. StandardScaler in a Pipeline)"
                        )
                    kept = "; the estimator keeps its previous weights." if not fresh else "."
                    raise TrainingDivergedError(
                        what + kept,
                        error.epoch,
                        error.overflowed_state,
                    ) from error
            except BaseException as error:
                if not fresh:
                    saved_params.restore(mlp.network.params)
                    self._optimizer, mlp.optimizer_ = saved_optimizers
                if isinstance(error, PenaltyRangeError):  # mlpzero's l2 is alpha here
                    raise ValueError(
                        f"alpha={self.alpha!r} divided by a batch's total sample weight "
                        f"({error.weight:.6g}) is {error.value:.6g}, beyond the largest "
                        f"{np.dtype(mlp.dtype).name} number: alpha is divided by each batch's "
                        "total sample weight; give larger sample weights or a smaller alpha"
                    ) from None
                raise
            if validation is not None and progress.best_params.taken:
                progress.best_params.restore(mlp.network.params)
        self._commit(mlp, optimizer, progress, rule, validation is not None, sparse_targets)
        self._schedule = schedule
        if not incremental and rule.stopped_epoch is None and progress.n_iter >= self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet: raise max_iter (or learning_rate_init) "
                "to train further",
                ConvergenceWarning,
                stacklevel=5,  # _train, _fit, fit, scikit-learn's fit wrapper, the caller
            )
        return self

    def _check_same_layers(self, incremental: bool) -> None:
        """Refuse to continue from the fitted weights when ``hidden_layer_sizes`` changed:
        they have the old sizes (scikit-learn fails on their shapes)."""
        fitted, wanted = tuple(self._mlp.hidden), self._hidden_sizes()
        how = "partial_fit continues" if incremental else "warm_start=True continues"
        self._check_same_loss(how)
        if fitted == wanted:
            return
        raise ValueError(
            f"hidden_layer_sizes={self.hidden_layer_sizes!r} differs from the layer sizes "
            f"{fitted} this estimator was fitted with, and {how} from the fitted weights, "
            "which have the old sizes. To train a network of the new sizes, call fit with "
            "warm_start=False (or fit a clone of the estimator)"
        )

    def _check_same_loss(self, how: str) -> None:
        """Refuse to continue (``how``) from weights trained for another loss. Nothing to
        refuse here: a classifier's loss follows ``y`` (the regressor's is a parameter)."""

    def _new_model(
        self,
        X: Any,
        y: np.ndarray,
        classes: Any,
        dtype: np.dtype,
        seed: int,
        initial: list[tuple[np.ndarray, np.ndarray]],
    ) -> MLP:
        """A built :class:`MLP` holding the ``initial`` ``(coefs_[i], intercepts_[i])``."""
        mlp = MLP(
            hidden=self._hidden_sizes(),
            activation=self.activation,
            loss=self._loss_for(y, classes, dtype),
            init="glorot_uniform",
            seed=seed,
            dtype=dtype,
            dropout=self.dropout,
        )
        mlp.build(X, y, classes=classes)
        network = mlp.network
        for w, b, (coef, intercept) in zip(network.weights, network.biases, initial, strict=True):
            w[...] = coef.T
            b[...] = intercept
        return mlp

    def _stopping_rule(self, validated: bool, fresh: bool, adaptive: bool) -> ToleranceStopping:
        """scikit-learn's tol / n_iter_no_change / adaptive-rate rule as an mlpzero callback
        (``adaptive``: a stall divides the rate rather than stopping)."""
        rule = ToleranceStopping(
            monitor="validation_score" if validated else "reported_loss",
            tol=self.tol,
            patience=self.n_iter_no_change,
            mode="max" if validated else "min",
            on_plateau="reduce" if adaptive else "stop",
            factor=_ADAPTIVE_FACTOR,
            min_lr=_ADAPTIVE_FLOOR,
        )
        previous = getattr(self, "_rule", None)
        if not fresh and previous is not None and previous.monitor == rule.monitor:
            rule.load_state(previous.state())  # scikit-learn keeps counting across calls
        return rule

    def _train_lbfgs(
        self,
        mlp: MLP,
        X: Any,
        y: np.ndarray,
        weights: np.ndarray | None,
        previous: _Bookkeeping | None,
        fresh: bool,
        sparse_targets: bool | None = None,
    ) -> _BaseMLP:
        """Full-batch L-BFGS (:func:`mlpzero.lbfgs.minimize`) for ``solver="lbfgs"``."""
        if any(mlp.dropout):
            raise ValueError(
                f"dropout={self.dropout!r} needs a stochastic solver: solver='lbfgs' "
                "minimises a fixed objective; set dropout=0 or solver='adam'"
            )
        if any(isinstance(callback, Diagnostics) for callback in self.callbacks or ()):
            raise ValueError(  # as MLP.fit(optimizer="lbfgs") refuses it: it would record nothing
                "Diagnostics records the steps of a stochastic solver, which solver='lbfgs' "
                "does not take: use solver='adam' (or 'sgd') to record them"
            )
        n_samples = X.shape[0]
        Y = encode_targets(y, mlp.encoder, mlp.dtype)  # many classes: a chunk at a time
        l2 = self._l2(n_samples, n_samples, weights, mlp.dtype)
        penalty = WeightPenalty(mlp.network.weight_mask, mlp.network.dtype, l2=l2)
        progress = _Bookkeeping(
            self, n_samples, None, previous, outputs=self._reported_loss_outputs(mlp)
        )
        progress.t = 0 if previous is None else previous.t  # L-BFGS counts no samples

        def reported(loss: float) -> float:
            return progress.rescaled(loss, penalty.value(mlp.network.params))

        recorded_before = len(progress.loss_curve)

        def record(epoch: int, logs: dict[str, float]) -> None:
            loss = reported(logs["loss"])
            progress.loss_curve.append(loss)
            if self.verbose:  # the reported loss, as the stochastic solvers print it
                print(f"Iteration {len(progress.loss_curve) - recorded_before}, loss = {loss:.8f}")

        recorder = LambdaCallback(on_epoch_end=record)
        saved_params = ParameterSnapshot(mlp.network.params)
        with mlp.network.lock:  # until the weights are in place, failed or not
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    result = _lbfgs.minimize(
                        mlp.network,
                        mlp.loss_,
                        X,
                        Y,
                        max_iter=self.max_iter,
                        max_fun=self.max_fun,
                        tol=self.tol,
                        sample_weight=weights,
                        l2=l2,
                        model=mlp,
                        callbacks=[recorder, *(self.callbacks or ())],
                        history=mlp.history,
                    )
            except TrainingDivergedError as error:
                saved_params.restore(mlp.network.params)
                raise ValueError(
                    f"{_NON_FINITE} L-BFGS reached a NaN or infinite loss; standardise X "
                    "(e.g. StandardScaler in a Pipeline)"
                    + ("; the estimator keeps its previous weights." if not fresh else ".")
                ) from error
            except BaseException:  # a failing callback, Ctrl-C: the previous weights stay
                saved_params.restore(mlp.network.params)
                raise
        progress.n_iter = min(result.n_iter, self.max_iter)
        loss = reported(result.loss)  # at the start, if no iteration was needed
        progress.best_loss = min(progress.best_loss, loss, min(progress.loss_curve, default=loss))
        self._commit(mlp, None, progress, None, False, sparse_targets)
        self.loss_ = loss
        if not result.converged and not mlp.stop_training:
            warnings.warn(
                f"lbfgs failed to converge after {progress.n_iter} iteration(s) "
                f"({result.n_evaluations} evaluations): {result.message}. Increase the "
                f"number of iterations to improve the convergence (max_iter={self.max_iter}, "
                f"max_fun={self.max_fun}), or scale the data (e.g. StandardScaler)",
                ConvergenceWarning,
                stacklevel=6,  # as above, below _train_lbfgs
            )
        return self

    def _loss_grad_lbfgs(
        self, packed: np.ndarray, X: Any, Y: np.ndarray, sample_weight: Any, *buffers: Any
    ) -> tuple[float, np.ndarray]:
        """The objective and gradient that ``"lbfgs"`` minimises, in scikit-learn's packing.

        ``packed`` holds every ``coefs_[i].ravel()`` and then every ``intercepts_[i]``, as
        scikit-learn's private method of this name takes it (its gradient test calls it);
        ``Y`` is the encoded targets. The values come from :func:`mlpzero.lbfgs.
        loss_and_gradient`; ``buffers`` (scikit-learn's work arrays) are not needed.
        """
        network = self._mlp.network
        order = _packing_order(network)
        network.params[order] = packed
        Y = np.asarray(Y, dtype=network.dtype).reshape(len(Y), -1)
        weights = check_sample_weight(sample_weight, len(Y))
        l2 = self._l2(len(Y), len(Y), weights, network.dtype)
        penalty = WeightPenalty(network.weight_mask, network.dtype, l2=l2)
        value, gradient = _lbfgs.loss_and_gradient(network, self._mlp.loss_, X, Y, weights, penalty)
        return value, gradient[order]

    def _commit(
        self,
        mlp: MLP,
        optimizer: _optimizers.Optimizer | None,
        progress: _Bookkeeping,
        rule: ToleranceStopping | None,
        validated: bool,
        sparse_targets: bool | None = None,
    ) -> None:
        """Set the fitted attributes once training has succeeded (``sparse_targets``:
        whether ``y`` was sparse, None to keep what the first call saw)."""
        self._mlp, self._optimizer, self._progress, self._rule = mlp, optimizer, progress, rule
        if sparse_targets is not None:
            self._sparse_targets = sparse_targets
        progress.estimator = progress.model = None  # no cycles in pickles
        if rule is not None:
            rule.model = None
        self.n_iter_ = progress.n_iter
        self.t_ = progress.t
        self.loss_curve_ = progress.loss_curve
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        if validated:
            self.best_loss_ = None
            self.validation_scores_ = progress.validation_scores
            self.validation_loss_curve_ = progress.validation_losses
            self.best_validation_score_ = progress.best_score
        else:
            self.best_loss_ = progress.best_loss
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
        progress.validation = progress.best_params = progress.penalty = None  # lean pickles

    def _validation_score(self, mlp: MLP, X: Any, y: Any, weights: np.ndarray | None) -> float:
        """The score on held-out rows; NaN when the model's outputs are not finite."""
        try:
            predicted = mlp.predict(X)
        except ValueError:  # the outputs overflow: scikit-learn scores NaN
            return float("nan")
        if predicted.dtype.kind == "f" and not np.isfinite(predicted).all():
            return float("nan")
        return float(self._score_metric(y, predicted, sample_weight=weights))

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
        batch_size = int(self.batch_size)  # a NumPy integer would wrap in batch arithmetic
        if batch_size > n_samples:
            warnings.warn(
                f"Got `batch_size` larger than sample size: batch_size={batch_size} "
                f"is larger than the {n_samples} training samples. It is going to be "
                f"clipped to {n_samples}",
                UserWarning,
                stacklevel=6,  # as above, below _batch_size
            )
        return min(batch_size, n_samples)

    def _l2(self, n_samples: int, batch_size: int, weights: np.ndarray | None, dtype: Any) -> float:
        """mlpzero's ``l2`` for scikit-learn's ``alpha`` on the mean batch of an epoch of
        ``n_samples`` rows in batches of ``batch_size``.

        scikit-learn adds ``alpha / 2 * sum(w ** 2)`` to a batch's *summed* loss, that is
        ``alpha / (2 W)`` times it to the mean loss of a batch of total weight ``W``.
        Stochastic fits give mlpzero ``alpha`` with ``penalty_per_sample=True``, which
        divides by each batch's own weight; this coefficient is the one L-BFGS's single
        batch (all rows) gets, and the one the validation loss is reported with (for the
        mean weight of the epoch's batches, as :func:`mlpzero.training.train` takes it).
        """
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        batches = -(-n_samples // batch_size)
        l2 = self.alpha * batches / (n_samples * mean_weight)
        if l2 > float(np.finfo(dtype).max):
            raise ValueError(
                f"alpha={self.alpha!r} divided by the sample weight of a mean batch "
                f"({n_samples * mean_weight / batches:.6g}) is {l2:.6g}, beyond the largest "
                f"{np.dtype(dtype).name} number: alpha is divided by each batch's total "
                "sample weight; give larger sample weights or a smaller alpha"
            )
        return l2

    def _make_optimizer(self) -> _optimizers.Optimizer:
        options: dict[str, Any] = {"learning_rate": self.learning_rate_init}
        if self.solver == "sgd":
            # the rate inside the velocity, as scikit-learn's: a changed rate (invscaling,
            # adaptive) then scales only the new gradients
            options.update(
                momentum=self.momentum, nesterov=self.nesterovs_momentum, rate_in_velocity=True
            )
            if self.momentum == 0:
                options["nesterov"] = False  # Nesterov needs momentum; plain SGD then
        elif self.solver in ("adam", "adamw"):
            # epsilon where scikit-learn adds it: to sqrt(v), before the bias correction
            options.update(
                betas=(self.beta_1, self.beta_2), eps=self.epsilon, eps_after_correction=False
            )
        return _optimizers.get(self.solver, **options)

    def _split_validation(
        self,
        X: Any,
        y: np.ndarray,
        weights: np.ndarray | None,
        rng: np.random.RandomState,
    ) -> tuple[Any, ...]:
        """Hold out ``validation_fraction`` of the rows as scikit-learn does.

        Binary classifiers stratify on the 0/1 targets as booleans (scikit-learn's
        stratification variable), so the held-out rows keep the class proportions. Like
        scikit-learn, multi-class targets are not stratified (it stratifies only when the
        binarized targets have one column), nor are multi-label and regression targets:
        the same ``random_state`` then holds out the same rows, and a class of one sample
        does not stop a multi-class fit.

        Both parts are new arrays, a memory-mapped ``X`` included: ``MLP.fit`` takes
        validation data, not row indices (its own ``validation_split`` keeps indices).
        """
        stratify = None
        if self._stratify(y):
            # LabelBinarizer's one column for at most two classes (1 for the larger label),
            # made without its (n_samples, n_classes) matrix for many classes
            labels = np.unique(y)
            if len(labels) <= 2:
                stratify = (y == labels[-1]) if len(labels) == 2 else np.zeros(len(y), bool)
                stratify = stratify.reshape(-1, 1)
        train, held = train_test_split(
            np.arange(X.shape[0]),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        # The rows by index: a sparse X gives sparse parts (a copy of their stored values).
        X_train, X_val, y_train, y_val = X[train], X[held], y[train], y[held]
        w_train, w_val = (weights[train], weights[held]) if weights is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                f"size of your dataset: validation_fraction={self.validation_fraction} "
                f"leaves {X_val.shape[0]} validation sample(s) out of {X.shape[0]}, and "
                "early_stopping needs at least 2"
            )
        given = "sample_weight"
        if getattr(self, "class_weight", None) is not None:
            given = "class_weight (times sample_weight, if given)"
        if w_train is not None and not w_train.any():
            raise ValueError(
                f"{given} gives weight 0 to every one of the {len(w_train)} training "
                f"rows that early_stopping leaves after holding out validation_fraction="
                f"{self.validation_fraction} of the rows for validation, so there is "
                "nothing to train on: give weight to more rows, or set early_stopping=False"
            )
        if w_val is not None and not w_val.any():
            raise ValueError(
                f"{given} gives weight 0 to every one of the {len(w_val)} rows "
                f"early_stopping holds out for validation (validation_fraction="
                f"{self.validation_fraction}), so there is no validation score to stop "
                "on: give weight to more rows, raise validation_fraction, or set "
                "early_stopping=False"
            )
        return X_train, y_train, w_train, (X_val, y_val, w_val)

    # ------------------------------------------------------------------ subclass hooks
    def _check_targets(
        self, y: np.ndarray, fresh: bool, classes: Any, incremental: bool = False
    ) -> np.ndarray:
        return y

    def _class_weights(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        return weights

    def _dense_targets(self, y: Any) -> np.ndarray:
        """``y`` given as a sparse matrix, as a dense array (or a ValueError)."""
        raise ValueError(
            f"y: {type(self).__name__} takes dense targets, got a sparse matrix of shape "
            f"{y.shape}; pass y.toarray()"
        )

    def _loss_for(self, y: np.ndarray, classes: Any, dtype: np.dtype) -> str | dict[str, Any]:
        """The loss of a new model for ``y``, training in ``dtype`` (a name or a config)."""
        raise NotImplementedError

    def _n_outputs(self, y: np.ndarray, classes: Any) -> int:
        """The width of the output layer for ``y``."""
        return 1 if y.ndim == 1 else y.shape[1]

    def _labels_of(self, y: np.ndarray) -> np.ndarray | None:
        """The classes of a new model fitted on ``y``, where their dtype is not that of
        ``y`` (None: ``y``'s distinct labels as they are)."""
        return None

    def _stratify(self, y: np.ndarray) -> bool:
        return False

    def _reported_loss_outputs(self, mlp: MLP) -> int:
        """The number of outputs the reported loss is averaged over (see _Bookkeeping)."""
        return 1

    # ------------------------------------------------------------------ inference
    def _validate_X(self, X: Any) -> Any:
        check_is_fitted(self)
        return validate_data(
            self, _sparse_sums(X), reset=False, accept_sparse=["csr", "csc"], dtype=_input_dtypes(X)
        )

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classifier) or values (regressor) for ``X``; a sparse ``X`` is
        densified a block of rows at a time (:meth:`mlpzero.MLP.predict`)."""
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

    Attributes
    ----------
    loss:
        ``"log_loss"``, the cross-entropy every classifier trains with, as scikit-learn's
        ``MLPClassifier.loss`` (a fixed attribute, not a parameter).

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
    #: scikit-learn's name of the loss; binary or categorical cross-entropy follows ``y``
    loss: ClassVar[str] = "log_loss"

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
        max_fun: int = 15000,
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
            max_fun=max_fun,
            dropout=dropout,
            callbacks=callbacks,
            dtype=dtype,
        )
        self.class_weight = class_weight

    @property
    def classes_(self) -> np.ndarray:
        """The class labels (for multi-label ``y``: the column indices)."""
        return self._fitted("classes_").classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights with the
        optimizer of the call that made it (its solver, settings and rate schedule), as
        scikit-learn's does.

        ``classes`` (every label the model will ever see) is required on the first call
        and optional afterwards; multi-label ``y`` needs no ``classes``. The arguments
        come in scikit-learn's order, ``sample_weight`` before ``classes``.

        ``class_weight="balanced"`` is refused, as by scikit-learn's ``SGDClassifier``:
        its weights ``n / (n_classes * count)`` would come from each call's batch alone,
        not from the data. Pass the weights as a dict instead.
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: each call would "
                "weigh the classes by their counts in its own batch, not in the whole data. "
                "Compute the weights once, e.g. with sklearn.utils.class_weight."
                "compute_class_weight('balanced', classes=classes, y=y), and pass them as "
                "class_weight={label: weight}"
            )
        first = not hasattr(self, "_mlp")
        if classes is not None:
            given = np.asarray(classes)
            if given.ndim != 1 or given.size == 0:
                raise ValueError(f"classes must be a non-empty list of labels, got {classes!r}")
            if given.dtype.kind == "c":  # as fit refuses a complex y
                raise ValueError(f"classes must be real labels, got complex values {classes!r}")
            try:
                classes = np.unique(_string_labels(given, "classes"))
            except TypeError:  # None among labels, or labels of types that cannot be sorted
                raise TypeError(
                    "classes must be labels of one type that sorts (numbers, or strings), "
                    f"and no None, got {classes!r}"
                ) from None
        if first and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit")
        if not first and classes is not None and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"classes={classes.tolist()} differs from the classes of the first call "
                f"to partial_fit, {self.classes_.tolist()}"
            )
        if type_of_target(y) == "multilabel-indicator":
            classes = None  # the columns of y are the labels
        return self._fit(X, y, sample_weight, incremental=True, classes=classes if first else None)

    def _check_targets(
        self, y: np.ndarray, fresh: bool, classes: Any, incremental: bool = False
    ) -> np.ndarray:
        _text_labels(y)  # refuses strings mixed with other labels; text stays of object dtype
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                "y with several columns must be a 0/1 label indicator matrix (multi-label); "
                "got several columns of class labels, which MLPClassifier does not support"
            )
        if kind == "multilabel-indicator":  # two values at most, to scikit-learn any two
            values = np.unique(y)
            if not set(values.tolist()) <= {0, 1}:
                raise ValueError(
                    "y with several columns must be a 0/1 label indicator matrix "
                    f"(multi-label), got the values {values.tolist()}: write each label's "
                    "absence as 0 and its presence as 1"
                )
        if not fresh and not incremental and y.ndim == 1:  # a warm start
            seen, labels = self.classes_, np.unique(y)
            if set(labels.tolist()) != set(seen.tolist()):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {seen}, `y` has {labels}"
                )
        return y

    def _labels_of(self, y: np.ndarray) -> np.ndarray | None:
        # Text labels of object dtype: the classes as strings (dtype "<U", as scikit-learn's
        # classes_), while y trains as it is. As strings, each of its rows would take the
        # longest label's width.
        if y.dtype != object:
            return None
        return np.unique(np.unique(y).astype(str))

    def _dense_targets(self, y: Any) -> np.ndarray:
        """A sparse 0/1 indicator matrix (multi-label ``y``) as a dense array."""
        if type_of_target(y) != "multilabel-indicator":
            raise ValueError(
                f"y: a sparse y must be a 0/1 label indicator matrix (multi-label), got "
                f"{type_of_target(y)!r} targets of shape {y.shape}"
            )
        return (y.toarray() != 0).astype(np.int64)  # any stored value is a label

    def predict(self, X: Any) -> Any:
        """Predicted labels for ``X``: ``(n_samples,)``, or ``(n_samples, n_labels)`` of
        0/1 for multi-label ``y``, a CSR matrix if ``y`` was sparse."""
        labels = super().predict(X)
        return csr_matrix(labels) if getattr(self, "_sparse_targets", False) else labels

    def _n_outputs(self, y: np.ndarray, classes: Any) -> int:
        if y.ndim == 2:  # multi-label: one sigmoid per column
            return y.shape[1]
        labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        return 1 if len(labels) <= 2 else len(labels)

    def _class_weights(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        if self.class_weight is None:
            return weights
        if isinstance(self.class_weight, dict) and y.ndim == 2:
            # scikit-learn's own message asks for a list of dicts, which this parameter is not
            raise ValueError(
                f"class_weight={self.class_weight!r} weighs the classes of a 1-D y; y is a "
                f"multi-label indicator matrix of {y.shape[1]} columns: pass "
                "class_weight='balanced' or sample_weight"
            )
        if isinstance(self.class_weight, dict):
            bad = {
                label: weight
                for label, weight in self.class_weight.items()
                if not (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0)
            }
            if bad:
                raise ValueError(
                    f"class_weight must give each class a finite weight >= 0, got {bad!r}"
                )
        per_sample = compute_sample_weight(self.class_weight, y)
        combined = per_sample if weights is None else per_sample * weights
        if not combined.any():
            raise ValueError(
                f"class_weight={self.class_weight!r} (times sample_weight, if given) leaves "
                f"every one of the {len(combined)} rows with weight 0"
            )
        return combined

    def _loss_for(self, y: np.ndarray, classes: Any, dtype: np.dtype) -> dict[str, Any]:
        # scikit-learn reports its log-loss (and stops on it) from probabilities clipped
        # to [eps, 1 - eps], eps of the model's dtype; its gradient is not clipped.
        if type_of_target(y) == "multilabel-indicator":
            name = "binary_crossentropy"
        else:
            labels = np.unique(y) if classes is None else classes
            name = "binary_crossentropy" if len(labels) <= 2 else "categorical_crossentropy"
        return {"name": name, "epsilon": float(np.finfo(dtype).eps)}

    def _stratify(self, y: np.ndarray) -> bool:
        return y.ndim == 1

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_``
        order (multi-label: one probability per label), within ``[eps, 1 - eps]``."""
        X = self._validate_X(X)
        proba = self._mlp.predict_proba(X)
        # A sigmoid or softmax never reaches 0 or 1; rounding can, after a long L-BFGS run
        # on separable data. Within one rounding step of them, the values stay inside.
        if proba.shape[1] == 1 and self._mlp.task == "binary":
            return proba  # training saw one class: it is certain
        eps = np.finfo(proba.dtype).eps
        return np.clip(proba, eps, 1 - eps, out=proba)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`, finite: those probabilities stay
        within ``[eps, 1 - eps]``."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: one or several outputs.

    Parameters
    ----------
    loss:
        ``"squared_error"`` (identity output) or ``"poisson"`` (exponential output and
        half the Poisson deviance, for counts and rates ``y >= 0``).
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

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _score_metric = staticmethod(r2_score)

    def __init__(
        self,
        loss: str = "squared_error",
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
        max_fun: int = 15000,
        dropout: float = 0.0,
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
            max_fun=max_fun,
            dropout=dropout,
            callbacks=callbacks,
            dtype=dtype,
        )
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights with the
        optimizer of the call that made it (its solver, settings and rate schedule), as
        scikit-learn's does."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _loss_for(self, y: np.ndarray, classes: Any, dtype: np.dtype) -> str:
        return self.loss

    def _check_same_loss(self, how: str) -> None:
        if _losses.get(self.loss).name != self._mlp.loss_.name:
            raise ValueError(
                f"loss={self.loss!r} differs from the loss {self._mlp.loss_.name!r} this "
                f"estimator was fitted with, and {how} from the fitted weights, trained for "
                "the old loss. To train for the new one, call fit with warm_start=False"
            )

    def _check_targets(
        self, y: np.ndarray, fresh: bool, classes: Any, incremental: bool = False
    ) -> np.ndarray:
        if self.loss != "poisson":
            return y
        numbers = y.dtype.kind in "biuf"
        if numbers and y.size and np.min(y) < 0:  # in scikit-learn's words
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                f"regression (loss='poisson'); the smallest is {float(np.min(y))!r}"
            )
        _losses.Poisson.check_targets(y)  # what else the loss refuses (text), by name
        return y

    def _reported_loss_outputs(self, mlp: MLP) -> int:
        # scikit-learn averages the squared error over the outputs too, but sums the
        # Poisson deviance over them, as mlpzero's losses both do.
        return 1 if mlp.loss_.name == "poisson" else int(mlp.encoder.n_outputs_)


for _estimator in (MLPClassifier, MLPRegressor):
    if _estimator.__doc__:  # None under python -OO
        _estimator.__doc__ = _estimator.__doc__.format(parameters=_PARAMETERS_DOC)
