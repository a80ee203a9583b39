"""``MLP``: the model a user builds, trains and queries.

An :class:`MLP` holds the choices (hidden sizes, activation, loss, seed, dtype) and, once
built, a :class:`~mlpzero.network.Network` and a
:class:`~mlpzero.targets.TargetEncoder`. It is built lazily on the first :meth:`MLP.fit`:
the input width comes from ``X`` and the output width from ``y``, as the article's
``layer_sizes`` does. Later calls to ``fit`` continue training the same weights.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import html
import os
import re
import stat
import string
import sys
import threading
import warnings
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed as _distributed
from . import initializers as _initializers
from . import io as _io
from . import lbfgs as _lbfgs
from . import losses as _losses
from . import optimizers as _optimizers
from . import schedules as _schedules
from .activations import Activation
from .callbacks import (
    Callback,
    Diagnostics,
    ModelCheckpoint,
    check_callback_list,
    logged_names,
)
from .checkpointing import (
    CallbackRestorer,
    CheckpointWriter,
    check_callbacks,
    check_same_data,
    data_signature,
    load_checkpoint,
    restore_optimizer,
    restore_schedule,
)
from .convergence import ToleranceStopping
from .history import History
from .network import Network, resolve_activations
from .preparation import (
    ONE_HOT_BYTES,
    RowSource,
    SparseRows,
    call_source,
    check_data,
    is_batch_source,
    prepare,
)
from .progress import ProgressLogger
from .regularizers import check_penalty_range, dropout_rates
from .snapshot import OptimizerSnapshot
from .standardization import Standardizer
from .targets import TargetEncoder, infer_task, loss_for_task
from .training import RowOrder, check_clip_norm_range, train
from .validation import (
    brief_list,
    check_dtype,
    check_features,
    check_flag,
    check_int,
    check_non_negative,
    check_positive,
    check_sample_weight,
    check_targets,
    dense_rows,
    is_memory_mapped,
    is_sparse,
    largest_magnitude,
    relative_sample_weight,
    rows_buffer,
)

__all__ = ["MLP", "FitOptions", "load"]

#: Each model's lock for its fits, made on its first fit: a model (and a pickle or copy of
#: it) holds none itself, and a child process made by fork gets them free (below). Found by
#: the model's ``id`` beside a weak reference to it, not by its ``==`` and hash: a subclass
#: may define those (or leave the model unhashable), and two models equal by them are still
#: two models, whose fits do not wait for each other.
_FIT_LOCKS: dict[int, tuple[weakref.ref[Any], threading.RLock]] = {}
_FIT_LOCKS_GUARD = threading.Lock()


def _fit_lock(model: MLP) -> threading.RLock:
    """``model``'s lock for its fits, made on its first call."""
    with _FIT_LOCKS_GUARD:
        entry = _FIT_LOCKS.get(id(model))
        if entry is None or entry[0]() is not model:
            forget = functools.partial(_forget_fit_lock, id(model))
            entry = (weakref.ref(model, forget), threading.RLock())
            _FIT_LOCKS[id(model)] = entry
        return entry[1]


def _forget_fit_lock(key: int, reference: weakref.ref[Any]) -> None:
    """Drop the lock of a model that is gone (not taking the guard: the collector may run
    this in a thread holding it)."""
    entry = _FIT_LOCKS.get(key)
    if entry is not None and entry[0] is reference:
        _FIT_LOCKS.pop(key, None)


def _one_fit_at_a_time(fit: Callable[..., MLP]) -> Callable[..., MLP]:
    """``fit`` holding the model's own lock from its first check to its return: a second
    fit of the model in another thread waits for it. Without it, the two built two
    networks, or one failing restored the attributes and random state of its start while
    the other trained with them. A caller already holding the network's lock (the
    scikit-learn estimators, until the best weights are back) keeps every other fit from
    training, and takes no second lock: taken in the other order, it could deadlock."""

    @functools.wraps(fit)
    def one_at_a_time(model: MLP, *args: Any, **kwargs: Any) -> MLP:
        network = vars(model).get("network")
        if network is not None and network.lock._is_owned():
            return fit(model, *args, **kwargs)
        with _fit_lock(model):
            return fit(model, *args, **kwargs)

    return one_at_a_time


def _free_fit_locks_after_fork() -> None:
    """In a child process made by fork, new locks for the fits that other threads of the
    parent were running: they do not run in the child, and would hold their model's lock
    for ever (a fit the forking thread runs keeps its own, for its ``with`` to release)."""
    global _FIT_LOCKS_GUARD
    _FIT_LOCKS_GUARD = threading.Lock()
    for key, (reference, lock) in list(_FIT_LOCKS.items()):
        if not lock._is_owned():
            _FIT_LOCKS[key] = (reference, threading.RLock())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_free_fit_locks_after_fork)


class MLP:
    r"""A multi-layer perceptron for classification and regression.

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
        ``fit(..., verbose=1)`` prints it on stderr. A name, a config dict (such as
        ``{"name": "categorical_crossentropy", "epsilon": 1e-7}``, whose value clips the
        probabilities to ``[epsilon, 1 - epsilon]``) or a :class:`~mlpzero.losses.Loss`
        always wins.
    init:
        Weight initialiser; ``None`` follows the activation (He for ReLU and leaky ReLU,
        Xavier else; the output layer takes the last hidden layer's).
    seed:
        Seeds the initial weights and the shuffling: the same seed gives the same model.
    dtype:
        ``"float32"`` (default) or ``"float64"``.
    dropout:
        Inverted dropout rate of the hidden layers while training: one rate for all, or a
        list with one per hidden layer (0 turns it off). It is part of the architecture,
        so it lives here rather than in ``fit``; predictions never use it.
    standardize:
        Standardise the inputs inside the model: the first :meth:`fit` computes each
        feature's mean :math:`\mu` and standard deviation :math:`s` on its training rows
        (in float64, a block of rows at a time; scale 1 for a constant feature; see
        :class:`~mlpzero.standardization.Standardizer`), and every forward pass (training,
        validation, ``predict``, ``evaluate``, the exported ONNX graph and C header) then
        feeds :math:`(x - \mu) / s` to the first layer. Later fits keep these statistics;
        the model file stores them (:attr:`standardizer_`).

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
        loss: str | dict[str, Any] | _losses.Loss = "auto",
        init: str | Any | None = None,
        seed: int | None = 0,
        dtype: str = "float32",
        dropout: float | Sequence[float] = 0.0,
        standardize: bool = False,
    ) -> None:
        self.hidden = hidden
        self.dtype = dtype  # before dropout, whose rates it must hold
        self.dropout = dropout
        self.activation = activation
        self.loss = loss
        self.init = init
        self.seed = seed  # and the generator of the model's random numbers, _rng
        self.standardize = standardize
        if self.loss != "auto":
            _losses.get(loss)  # fail now on an unknown name
        self.network: Network | None = None
        self.encoder: TargetEncoder | None = None
        self.loss_: _losses.Loss | None = None
        self.history = History()
        self.stop_training = False
        #: Column names of the training data, when it had them (saved with the model).
        #: Set before the first fit, they name the columns of an array ``X`` (and put a
        #: data frame's columns in their order).
        self.feature_names_in_: list[str] | None = None
        #: The options of the last ``fit`` (saved with the model).
        self.fit_config_: dict[str, Any] | None = None
        #: Indices of the rows the last ``fit`` held out with ``validation_split``.
        self.validation_rows_: np.ndarray | None = None
        #: The optimizer of the last fit, with its state (pass it to fit to continue).
        self.optimizer_: _optimizers.Optimizer | None = None
        #: The rank of the last fit in a distributed job (0 otherwise), and the process
        #: that was that rank: only rank 0 saves, but a copy unpickled in another process
        #: (a notebook, rank 0) is no rank of that job and saves.
        self._rank, self._rank_process = 0, os.getpid()
        # Fail now on a bad activation list or initialiser rather than at the first fit.
        resolve_activations(self.activation, len(self.hidden))
        if init is not None:
            _initializers.get(init)

    @property
    def loss(self) -> str | dict[str, Any] | _losses.Loss:
        """The loss, as the constructor takes it: the first :meth:`fit` builds the model
        with it, and later fits refuse another. ``"auto"`` may be written in any case, as
        every name of a loss may."""
        return self.__dict__["loss"]  # where a model pickled as a plain attribute has it

    @loss.setter
    def loss(self, loss: str | dict[str, Any] | _losses.Loss) -> None:
        self.__dict__["loss"] = "auto" if isinstance(loss, str) and loss.lower() == "auto" else loss

    @property
    def hidden(self) -> tuple[int, ...]:
        """The size of each hidden layer. Set it as the constructor takes it, one size or a
        sequence of sizes; anything else is refused when set. A fitted model's :meth:`fit`
        and :meth:`save` refuse sizes other than its network's."""
        return self.__dict__["hidden"]  # where a model pickled as a plain attribute has it

    @hidden.setter
    def hidden(self, sizes: int | Sequence[int]) -> None:
        self.__dict__["hidden"] = tuple(
            check_int("hidden", h) for h in _as_sequence(sizes, "hidden")
        )

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights and of every computation, ``float32`` or ``float64``.
        Set it as the constructor takes it (a name or a dtype); anything else is refused
        when set. A fitted model's :meth:`fit` and :meth:`save` refuse another than its
        network's."""
        return self.__dict__["dtype"]  # where a model pickled as a plain attribute has it

    @dtype.setter
    def dtype(self, dtype: str | np.dtype) -> None:
        self.__dict__["dtype"] = check_dtype(dtype)

    @property
    def seed(self) -> int | None:
        """The seed of the model's random numbers (an integer >= 0, or None); anything
        else is refused when set. Set before the first :meth:`fit` (or :meth:`build`), it
        draws the initial weights and the shuffles as ``MLP(seed=...)`` would."""
        return self.__dict__["seed"]  # where a model pickled as a plain attribute has it

    @seed.setter
    def seed(self, seed: int | None) -> None:
        seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.__dict__["seed"] = seed
        if self.__dict__.get("network") is None:  # no weights drawn yet: they follow it
            self._rng = np.random.default_rng(seed)

    @property
    def standardize(self) -> bool:
        """Whether the model standardises its inputs (True or False; anything else is
        refused when set). A fitted model's :meth:`fit` and :meth:`save` refuse a change."""
        return self.__dict__["standardize"]  # where a model pickled as a plain attribute has it

    @standardize.setter
    def standardize(self, flag: bool) -> None:
        self.__dict__["standardize"] = check_flag("standardize", flag)

    @property
    def dropout(self) -> tuple[float, ...]:
        """The dropout rate of each hidden layer, which the next :meth:`fit` trains with.

        Set it as the constructor takes it, one rate for every hidden layer or a list with
        one per layer, each in ``[0, 1)``; anything else is refused when set.
        """
        return self.__dict__["dropout"]  # where a model pickled as a plain attribute has it

    @dropout.setter
    def dropout(self, rates: float | Sequence[float]) -> None:
        dtype = self.__dict__.get("dtype")  # None while the constructor has not set it
        self.__dict__["dropout"] = tuple(dropout_rates(rates, len(self.hidden), dtype))

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self.network is not None

    def build(self, X: Any, y: Any, classes: Sequence[Any] | None = None) -> MLP:
        """Create the network for ``X``'s width and ``y``'s task without training.

        ``classes`` lists every label training will meet (the task and the outputs are
        then read from it rather than from ``y``), for incremental training whose first
        batch may lack some; it is checked as :meth:`fit` checks its ``classes``. :meth:`fit`
        builds on its own when this is not called. With
        ``standardize=True`` the standardisation statistics come from this ``X``, and the
        fits that follow keep them. A data frame's column names become
        ``feature_names_in_``, as in a first fit.

        A model that is built already is refused: building again would replace its
        weights, trained or not, while its history and optimizer stayed those of the old
        ones. Make a new :class:`MLP` to start afresh.
        """
        if self.built:
            trained = f", trained for {self.history.epochs} epochs" if self.history.epochs else ""
            raise ValueError(
                f"build: this MLP is built already (layer sizes "
                f"{list(self.network.layer_sizes)}{trained}); building again would replace "
                "its weights but keep its history: make a new MLP to start afresh, or call "
                "fit to train on"
            )
        # The feature names a first fit would take: a frame's columns, or those set before.
        names = _first_fit_names(self, X)
        X = check_features(in_training_order(X, names, "X"), dtype=self.dtype, accept_sparse=True)
        y = check_targets(y, X.shape[0], x_columns=X.shape[1])
        if names is not None and len(names) != X.shape[1]:
            raise ValueError(
                f"feature_names_in_ names {len(names)} features, but X has {X.shape[1]}"
            )
        if classes is not None:  # checked as fit checks them, for a model made anew
            _check_classes(self, classes, y, anew=True)
        # the statistics of this X, kept by the fits that follow; computed first, so that
        # a refusal leaves no network that would take raw inputs
        standardizer = Standardizer.fit(_dense_blocks(X, self.dtype)) if self.standardize else None
        if standardizer is not None:  # as the forward passes will use them
            standardizer.statistics_in(self.dtype)
        self._build(X, y if classes is None else np.asarray(classes))
        self.feature_names_in_ = names
        self.network.input_transform = standardizer
        return self

    def use_hidden_options(
        self,
        activation: str | Activation | Sequence[str | Activation],
        dropout: float | Sequence[float],
    ) -> MLP:
        """Train and predict from now on with these hidden ``activation`` and ``dropout``
        options, keeping the weights (what scikit-learn's ``warm_start`` does with a
        changed ``activation``). The layer sizes stay; returns the model."""
        network = self._require_built()
        activations = resolve_activations(activation, len(self.hidden))
        rates = tuple(dropout_rates(dropout, len(self.hidden), self.dtype))
        if [a.config for a in activations] != [a.config for a in network.activations]:
            state = network.__getstate__()  # the same parameters, the buffers rebuilt
            state["activations"] = activations
            rebuilt = Network.__new__(Network)
            rebuilt.__setstate__(state)
            self.network = rebuilt
        self.activation, self.dropout = activation, rates
        return self

    @property
    def standardizer_(self) -> Standardizer | None:
        """The input standardisation fitted by the first :meth:`fit` (``standardize=True``):
        ``.mean`` and ``.scale``, float64 arrays with one value per feature; else None."""
        return None if self.network is None else self.network.input_transform

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
        if encoder.classes_ is not None and encoder.classes_.dtype.kind in "USOT":
            # every prediction is as wide as the longest label: refused before training
            texts = [c for c in encoder.classes_.tolist() if isinstance(c, (str, bytes))]
            _io.check_label_lengths(texts, "y: ")
        if verbose and self.loss == "auto":  # on stderr: stdout keeps the article's cost lines
            choice = f"{encoder.describe()} -> {loss.name} with {loss.output_activation}"
            print(f"loss='auto': {choice}", file=sys.stderr)
        self.encoder, self.loss_ = encoder, loss
        sizes = [X.shape[1], *self.hidden, encoder.n_outputs_]
        self.network = Network(
            sizes, self.activation, init=self.init, dtype=self.dtype, rng=self._rng
        )

    # ------------------------------------------------------------------ training
    @_one_fit_at_a_time
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
        penalty_per_sample: bool = False,
        clip_norm: float | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        sample_weight: Any = None,
        class_weight: str | dict[Any, float] | None = None,
        shuffle: bool | RowOrder | None = None,
        classes: Sequence[Any] | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 0,
        print_every: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_interval: float = 1.0,
        resume: str | os.PathLike[str] | None = None,
        distributed: bool = False,
    ) -> MLP:
        r"""Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)`` or 2-D.

        Later calls continue training the same weights; :attr:`history` keeps growing.
        Returns the model, so calls chain. Two fits of the model in two threads run one
        after the other (and predictions wait for a fit, see :attr:`Network.lock
        <mlpzero.network.Network.lock>`). Ctrl-C ends training cleanly, L-BFGS's too: the
        model keeps the weights and history of the completed epochs, and
        ``history.interrupted`` is True until the next fit (see :mod:`mlpzero.training`).

        ``X`` and ``y`` may be memory-mapped (``np.load(path, mmap_mode="r")``,
        :func:`mlpzero.datasets.load_npy_dir`): they are then checked in chunks and read a
        batch at a time, never copied whole (full-batch training, ``batch_size=None``, still
        holds every row). A SciPy sparse ``X`` (CSR, CSC, ...) is likewise densified a batch
        at a time (:class:`~mlpzero.preparation.SparseRows`), with the same weights, bit for
        bit, as the same data dense. ``X`` may also be a callable that returns an iterable
        of ``(X_batch, y_batch)`` or ``(X_batch, y_batch, w_batch)`` for one epoch, for data
        made on the fly (``y`` is then None); it is called once per epoch and its batches
        are used in its order and sizes. The first batch (or ``classes``) builds the model,
        and a first batch's data frame names the features (``feature_names_in_``).
        A shuffled ``validation_split``, ``class_weight="balanced"`` (which needs every
        class's count), ``shuffle``, ``batch_size``, ``sample_weight``, ``standardize`` and
        ``distributed`` do not apply to it and are refused; ``validation_data`` and a
        ``class_weight`` dict work.

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
            fits of this model; one that holds another model's state is refused). The one
            used is kept as :attr:`optimizer_`. ``"lbfgs"`` is full-batch
            L-BFGS (:mod:`mlpzero.lbfgs`, needs SciPy): ``epochs`` then counts its
            iterations, and the options it would ignore (a learning rate, batches, a
            schedule, ``l1``, clipping, checkpoints, a row-order function, dropout) are
            refused; a run that stops before ``epochs`` without converging warns
            (:class:`UserWarning`).
        schedule:
            Learning-rate schedule (:mod:`mlpzero.schedules`): ``"step"``,
            ``"exponential"``, ``"cosine"``, ``"plateau"``, a config dict or an object.
            A name or dict gives a fresh schedule each fit; an object keeps its state
            between fits, as an optimizer does (``"plateau"``'s reductions and best
            value), so reuse one only to continue the same model's training.
        l2, l1:
            Penalties on the weights (never the biases): the objective becomes
            :math:`L + \tfrac{\lambda_2}{2}\sum w^2 + \lambda_1 \sum |w|`, and the
            reported ``loss`` and ``val_loss`` include them.
        penalty_per_sample:
            Add the penalties to each batch's summed loss instead, as scikit-learn's
            ``alpha``: each batch's coefficients are ``l2`` and ``l1`` divided by its total
            sample weight (its number of rows, without weights), so a shorter last batch
            is penalised more (see :mod:`mlpzero.regularizers`); ``val_loss`` adds them
            for the mean weight of an epoch's batches.
        clip_norm:
            Rescale the gradient whenever its global L2 norm exceeds this value.
        validation_split:
            Fraction of the rows held out for validation (stratified by class for
            classifiers: each class with two or more rows gives at least one, and a
            split that would then hold out more than twice the fraction, as many small
            classes do, is refused). The rows are drawn from the model's seed, so every fit on
            the same data holds out the same ones; with ``seed=None`` they come from its
            running generator, and each fit holds out others (a continued fit then trains
            on rows an earlier fit validated on). Their metrics are ``val_loss`` and
            ``val_accuracy``; their indices into ``X`` are kept in ``validation_rows_``
            (``None`` after a fit without a split).
        validation_data:
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` instead.
        sample_weight:
            One non-negative weight per sample; the loss is the weighted mean. The
            history's ``accuracy`` and ``val_accuracy`` count every row alike (but for
            the rows of a mini-batch whose weights are all 0: such a batch trains
            nothing and is skipped, its rows uncounted), and ``standardize=True`` takes
            unweighted statistics; :meth:`evaluate` weights its accuracy.
        class_weight:
            ``"balanced"`` (weight :math:`n / (k\,n_c)` for class ``c``) or a dict
            ``{label: weight}``; multiplies ``sample_weight``. Classifiers only. It
            weighs the training rows alone: the held-out rows of ``validation_split`` and
            those of ``validation_data`` keep their sample weights, so ``val_loss`` is not
            class-weighted, while ``loss`` is.
        shuffle:
            Reshuffle the rows every epoch (mini-batches only; the default, except for a
            batch generator, which yields its batches in its own order). A function
            instead (:data:`mlpzero.training.RowOrder`) sets each epoch's row order itself:
            it is called with the previous epoch's order, which it permutes in place.
            Such a fit takes no ``checkpoint`` or ``resume`` (the function's state is not
            saved), and :attr:`fit_config_` records it as ``"custom"``.
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
            state to this path at the end of an epoch (atomically; see
            :mod:`mlpzero.checkpointing`): at most every ``checkpoint_interval`` seconds
            (0: every epoch), and always after the last epoch or an early stop. A path
            whose folder does not exist, or that names an existing file other than a
            checkpoint (a saved model, data), is refused before training, so it is never
            written over.
        resume:
            Load such a checkpoint into this model and run only the epochs that the
            interrupted ``fit`` had left of ``epochs``. With the same data and options,
            the final weights equal bit for bit those of an uninterrupted run.
        distributed:
            Train as one rank of an MPI job (``mpirun -n N python -m mpi4py script.py``,
            which ends the job on any rank's uncaught error; needs the ``mpi`` extra):
            every rank passes the same data and options, ``batch_size`` is the global
            batch, each rank computes the gradient of its share of every batch and the
            ranks sum them, so every rank ends with the same model, the one-process model
            up to rounding. Rank 0 alone prints progress and writes
            checkpoints and files (``fit`` returns on every rank once it has written
            them). In one process (no launcher, or ``-n 1``) this is an
            ordinary fit. See :mod:`mlpzero.distributed`.

        Raises
        ------
        TrainingDivergedError
            The loss or the weights became NaN or infinite (the learning rate is too
            high); the model keeps its last finite weights and the history so far.
        ValueError
            Besides bad arguments and data: with ``penalty_per_sample``, a batch whose
            total sample weight is so small that ``l2 / W_b`` (or ``l1 / W_b``) is beyond
            the model's dtype. Any error during an epoch leaves the model with the
            weights of its last completed epoch, and the optimizer with its state then.
            With ``resume``, data other than the checkpoint's run trained on (compared by
            :func:`mlpzero.checkpointing.data_signature`), refused before any epoch.
        """
        comm = _process_group(distributed, dict(locals()))
        # A fit refused before its first step leaves the model and a given optimizer as they were.
        with _restored_on_error(self, optimizer) as restore:
            # The options rank 0 alone acts on (checkpoint, verbose, ...) may differ between
            # ranks, and so may their checks' verdicts: the ranks agree on them.
            options = _on_every_rank(comm, "accept the fit's options", lambda: FitOptions.check(
                stream=is_batch_source(X), epochs=epochs, learning_rate=learning_rate,
                batch_size=batch_size, optimizer=optimizer, schedule=schedule, l2=l2, l1=l1,
                penalty_per_sample=penalty_per_sample, clip_norm=clip_norm,
                validation_split=validation_split, validation_data=validation_data,
                class_weight=class_weight, shuffle=shuffle,
                callbacks=callbacks, verbose=verbose, print_every=print_every,
                checkpoint=checkpoint, checkpoint_interval=checkpoint_interval, resume=resume,
            ))  # fmt: skip
            # Its checks take the callbacks, whose ModelCheckpoint may differ between ranks.
            resumed = _on_every_rank(comm, "resume", lambda: _read_checkpoint(self, options))
            if resumed is None:  # a resumed fit loads the checkpoint's state into the optimizer
                _check_optimizer_serves(self, options.optimizer)
                _on_every_rank(comm, "keep the fitted settings", lambda: _check_settings(self))
            source = self if resumed is None else resumed.model
            n_features = source.network.layer_sizes[0] if source.built else None
            names = source.feature_names_in_ if source.built else _first_fit_names(self, X)
            if names is None and not source.built and is_batch_source(X):
                X, names = _first_batch_names(self, X)
            X, validation_data = _columns_in_order(X, validation_data, names)
            scan = None if comm.size == 1 else _distributed.row_scan(comm)  # a share per rank
            data = check_data(X, y, sample_weight, validation_data, self.dtype, n_features, scan)
            if options.lbfgs:
                _check_lbfgs(self, options, comm)
            first_fit = resumed is None and not self.built
            signature = None
            # Every rank of a distributed fit signs (a collective), whether or not its
            # own options name a checkpoint: rank 0's alone may.
            wanted = comm.size > 1 or (options.checkpoint, options.resume) != (None, None)
            if not is_batch_source(X) and wanted:
                signature = data_signature(data, self.dtype, comm)
            if resumed is not None:  # before the checkpoint's state goes into the options
                check_same_data(
                    resumed.state.progress.get("data"), signature, options.resume,
                    generator=resumed.state.progress.get("batch_generator", False),
                )  # fmt: skip
            if classes is not None:  # a resumed fit's model is the checkpoint's
                _check_classes(source, classes, data.y)
            if resumed is not None:
                epoch_state = _take_over(self, resumed, options)
            elif first_fit:
                labels = data.y if classes is None else np.asarray(classes)
                self._build(data.X, labels, options.verbose if comm.is_root else 0)
                if comm.size > 1:  # drawn from the seed, unless init draws from elsewhere
                    _distributed.check_same_weights(comm, self.network.params, self.init)
                if names is not None and len(names) != self.network.layer_sizes[0]:
                    raise ValueError(
                        f"feature_names_in_ names {len(names)} features, but X has "
                        f"{self.network.layer_sizes[0]}"
                    )
                self.feature_names_in_ = names
            fit_random_state = self._rng.bit_generator.state
            # Drawn from the seed, not the running generator: every fit on the same
            # data holds out the same rows, so continued training never sees them
            # (without a seed there is none to draw from).
            split_rng = self._rng if self.seed is None else np.random.default_rng([self.seed, 1])
            prepared = prepare(
                data, self.encoder, self.dtype, validation_split=options.validation_split,
                class_weight=options.class_weight, split_rng=split_rng,
                target_check=self.loss_.check_targets,
            )  # fmt: skip
            # A ModelCheckpoint (rank 0's alone) may watch other metrics on other ranks.
            validated = prepared.validation is not None
            _on_every_rank(comm, "accept the callbacks' metrics",
                           lambda: _check_log_names(self, options, validated))  # fmt: skip
            if options.lbfgs:  # _lbfgs_l2 checks its l2
                _lbfgs_l2(options, prepared, self.dtype)
            else:
                _optimizers.check_dtype_range(options.optimizer, self.dtype)
                check_clip_norm_range(options.clip_norm, self.dtype)
                if not options.penalty_per_sample:  # else checked for each batch's weight
                    check_penalty_range(options.l2, options.l1, self.dtype)
            if self.standardize and self.standardizer_ is None:
                self._fit_standardizer(data, prepared, first_fit, is_batch_source(X), comm)
            if resumed is None:  # rank 0's alone may name a file: the ranks agree
                _on_every_rank(
                    comm, "accept its model files", lambda: _check_model_file(self, options)
                )
            self.validation_rows_ = prepared.validation_rows
            if resumed is not None:
                self._rng.bit_generator.state = epoch_state
                start_epoch = resumed.state.progress["start_epoch"]
                epochs_left = max(0, options.epochs - (self.history.epochs - start_epoch))
                finished = resumed.state.progress.get("finished")
                if finished == "stopped" or (finished and epochs_left == 0):
                    # A finished run (stopped by a callback, or all its epochs done): the
                    # checkpoint holds the finished model, which continues no further.
                    self.optimizer_ = options.optimizer
                    self._rank, self._rank_process = comm.rank, os.getpid()
                    return self
                # An unfinished run whose epochs are all done (epochs_left 0) still ends as
                # an uninterrupted one does: the callbacks' ends (restore_best_weights) run.
            else:
                start_epoch, epochs_left = self.history.epochs, options.epochs
            if options.schedule is not None:  # refused now, not once the loop begins
                options.schedule.check_fit(
                    self.history.epochs + epochs_left, options.optimizer.initial_learning_rate
                )
            self.fit_config_ = options.fit_config()
            progress = {
                "start_epoch": start_epoch,
                "epochs": options.epochs,
                "fit_random_state": fit_random_state,
            }
            if signature is not None:
                progress["data"] = signature
            elif is_batch_source(X):  # not signed; a resume on arrays is refused
                progress["batch_generator"] = True
            callbacks = _fit_callbacks(self, options, resumed, progress, epochs_left, comm)
            self.network.dropout, self.network.dropout_rng = list(self.dropout), self._rng
        self.optimizer_ = options.optimizer
        self._rank, self._rank_process = comm.rank, os.getpid()
        training = False
        try:
            with self.network.lock:  # predictions in other threads wait for the weights
                training = True
                if options.lbfgs:
                    return self._fit_lbfgs(options, prepared, callbacks)
                train(
                    self.network, self.loss_, options.optimizer, prepared.X, prepared.Y,
                    epochs=epochs_left, sample_weight=prepared.sample_weight, rng=self._rng,
                    model=self, callbacks=callbacks, history=self.history,
                    validation=prepared.validation, communicator=comm,
                    weight_scale=prepared.weight_scale, **options.loop_options(),
                )  # fmt: skip
        except BaseException:
            # Ctrl-C while a prediction or save in another thread held the lock: no step
            # was taken, and the model is left as a refused fit leaves it.
            if not training:
                restore()
            raise
        return self

    def _fit_standardizer(
        self,
        data: Any,
        prepared: Any,
        first_fit: bool,
        stream: bool,
        comm: _distributed.Communicator,
    ) -> None:
        """The statistics of ``standardize=True``, from the training rows of the first fit
        (the held-out rows stay unseen), shared by the ranks of a distributed fit."""
        if not first_fit:
            raise ValueError(
                "standardize=True, but this model was first fitted without "
                "standardisation: its weights expect raw inputs (build a new MLP)"
            )
        if stream:
            raise ValueError(
                "standardize=True needs the statistics of all the rows, which a batch "
                "generator gives only after a pass over them: standardise in it"
            )
        train_rows = _training_rows(len(data.y), prepared.validation_rows)
        blocks = _dense_blocks(data.X, self.dtype)
        standardizer = (
            Standardizer.fit(blocks, train_rows)
            if comm.size == 1
            else _distributed.fit_standardizer(comm, blocks, train_rows)
        )
        # Refused here, while a failed fit still leaves the model as it was, rather than
        # by the first forward pass, which would leave it built around them.
        standardizer.statistics_in(self.dtype)
        self.network.input_transform = standardizer

    def _fit_lbfgs(
        self,
        options: FitOptions,
        prepared: Any,
        callbacks: list[Callback],
    ) -> MLP:
        """The full-batch L-BFGS path of :meth:`fit`: up to ``epochs`` iterations of
        :func:`mlpzero.lbfgs.minimize` in place of the epoch loop. A run that ends before
        ``epochs`` without converging (SciPy's line search found no lower loss, or its
        evaluation budget ran out), not stopped by a callback or Ctrl-C, is named in a
        :class:`UserWarning`: the history is then shorter than asked for."""
        self.optimizer_ = None
        result = _lbfgs.minimize(
            self.network, self.loss_, prepared.X, prepared.Y, max_iter=options.epochs,
            sample_weight=prepared.sample_weight, l2=_lbfgs_l2(options, prepared, self.dtype),
            model=self, callbacks=callbacks, history=self.history,
            validation=prepared.validation, interruptible=True,
        )  # fmt: skip
        stopped = self.stop_training or self.history.interrupted
        if not (result.converged or stopped or result.n_iter >= options.epochs):
            warnings.warn(
                f"L-BFGS stopped after {result.n_iter} of {options.epochs} iteration(s) "
                f"({result.n_evaluations} evaluations) without converging (SciPy's "
                f"L-BFGS-B: {result.message.strip()!r}); the model keeps the weights of its "
                "last iteration. Scale the data (MLP(standardize=True)) or try another "
                "optimizer such as 'adam'",
                UserWarning,
                stacklevel=3,
            )
        return self

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path | None:
        """Write the fitted model to ``path`` (``.npz``; see :mod:`mlpzero.io`).

        After a distributed fit only rank 0 writes; the other ranks return ``None`` (a copy
        of their model unpickled in another process writes).
        The file is replaced atomically. Called while a fit of this model runs in another
        thread, it waits for the fit to end, as the predictions do, so that the file holds
        the weights of one moment, not parts of two steps. A model with parameters that are
        not finite, with a custom activation, loss or initialiser (which a file cannot
        name), or whose last fit's options hold a value JSON cannot (the config of a user's
        schedule), is refused with a :class:`ValueError`, and so is a ``path`` naming an
        existing file that is not a model file or a checkpoint (the training data, say):
        see :func:`check_model_path`.
        """
        if self._rank != 0 and getattr(self, "_rank_process", None) == os.getpid():
            return None
        path = _io.file_path(path)
        check_model_path(path)
        changed = _init_mismatch(self)
        if changed is not None:  # the others are refused by write_record, in these words
            raise ValueError(
                f"cannot save a model whose init {changed[1]!r} is not what it was fitted "
                f"with ({changed[2]!r}); set init back before saving"
            )
        network = self._require_built()
        with network.lock:  # the weights, history and random state of one moment
            return _io.write_record(self.to_record(), path)

    def to_record(self) -> _io.ModelRecord:
        """The fitted model as a :class:`~mlpzero.io.ModelRecord`, what a file holds.

        The record refers to the model's own parameter array, history and settings: write
        it (:func:`mlpzero.io.write_record`) before training on.
        """
        network = self._require_built()
        return _io.ModelRecord(
            settings={
                "hidden": self.hidden,
                "activation": self.activation,
                "loss": self.loss,
                "init": self.init,
                "seed": self.seed,
                "dtype": self.dtype,
                "dropout": self.dropout,
                "standardize": self.standardize,
            },
            layer_sizes=tuple(network.layer_sizes),
            activations=tuple(network.activations),
            params=network.params,
            loss=_io.loss_entry(self.loss_),
            encoder=self.encoder,
            history=self.history.history,
            random_state=self._rng.bit_generator.state,
            feature_names=self.feature_names_in_,
            training=self.fit_config_,
            standardizer=self.standardizer_,
        )

    @classmethod
    def from_record(cls, record: _io.ModelRecord, source: Any = "record") -> MLP:
        """A fitted model from a record read by :func:`mlpzero.io.read_record`.

        The model owns copies of the record's parameters, history and random state.
        ``source`` names the record's origin (its file) in the :class:`ValueError` raised
        when the recorded settings do not make a model.
        """
        settings = record.settings
        try:
            model = cls(**settings)
            network = Network(
                list(record.layer_sizes),
                list(record.activations),
                init=settings["init"],
                dtype=record.params.dtype,
                params=record.params,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: invalid model settings: {error}") from None
        network.input_transform = record.standardizer
        model.network, model.encoder = network, record.encoder
        model.loss_ = _losses.get(record.loss)
        model.history = History()
        model.history.history = {key: list(values) for key, values in record.history.items()}
        model._rng = _io.generator_from_state(record.random_state)
        model.feature_names_in_ = (
            None if record.feature_names is None else list(record.feature_names)
        )
        model.fit_config_ = record.training
        return model

    def to_onnx(
        self, path: str | os.PathLike[str] | None = None, *, opset: int | None = None
    ) -> Any:
        """The fitted model as an ``onnx.ModelProto``, also written to ``path`` (a name that
        ends in ``.onnx``) when given.

        Outputs ``label`` and ``probabilities`` (classifiers) or ``variable`` (regressors),
        as skl2onnx names them; see :mod:`mlpzero.export.onnx`. Needs the ``onnx`` extra.
        """
        from .export import to_onnx

        return to_onnx(self, path, opset=opset)

    def to_c(self, path: str | os.PathLike[str], *, name: str = "model") -> Path:
        """Write the fitted model as a self-contained C99 header (``NAME_predict``, ...) to
        ``path``, a name that ends in ``.h``.

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
        return _logits(network, self._checked_features(X, network))

    def _checked_features(self, X: Any, network: Network) -> Any:
        """``X`` checked for prediction, its columns in training order; an array keeps its
        dtype and order (:func:`_logit_blocks` converts a block of rows at a time)."""
        X = in_training_order(X, self.feature_names_in_, "X")
        return check_features(
            X,
            dtype=self.dtype,
            n_features=network.layer_sizes[0],
            accept_sparse=True,
            convert=False,
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``.

        Binary models give two columns ``[P(classes_[0]), P(classes_[1])]`` (one column of
        ones when training saw a single class); multi-label models give one probability
        per label. For regression, the predicted values.
        """
        outputs = self._link(self.decision_function(X))
        if self.encoder.task == "binary":
            if len(self.encoder.classes_) == 1:  # the one class seen in training is certain
                return np.ones((outputs.shape[0], 1), dtype=self.dtype)
            return np.hstack([1 - outputs, outputs])
        return outputs

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classification) or values (regression).

        They are made a block of rows at a time (:attr:`Network.chunk_rows`), so that
        besides its result ``predict`` holds one block's outputs, not every row's.
        """
        network = self._require_built()
        X = self._checked_features(X, network)  # at least one row
        predictions = None
        with network.lock:
            for rows, logits in _logit_blocks(network, X):
                block = self.encoder.decode(self._link(logits))
                if predictions is None:
                    predictions = np.empty((X.shape[0], *block.shape[1:]), dtype=block.dtype)
                predictions[rows] = block
        return predictions

    def _link(self, logits: np.ndarray) -> np.ndarray:
        """The loss's link applied to ``logits`` in place: probabilities or values."""
        # Softmax subtracts each row's maximum; a float32 row spanning more than 3.4e38
        # overflows there to -inf, whose exp is the right limit, 0.
        with np.errstate(over="ignore"):
            return self.loss_.link(logits, out=logits)

    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(X, y)``; regression reports ``loss`` and
        ``mse`` instead of accuracy.

        A memory-mapped or sparse ``X``, or one whose outputs for every row would take
        more than :data:`~mlpzero.preparation.ONE_HOT_BYTES` (many classes), is evaluated
        in chunks of rows (densified one at a time); each metric is then the weighted mean
        of the chunks' metrics, weighted by their total sample weight.
        """
        network = self._require_built()
        X = self._checked_features(X, network)
        y = check_targets(y, X.shape[0], x_columns=X.shape[1])
        self.loss_.check_targets(y)
        weights = relative_sample_weight(check_sample_weight(sample_weight, X.shape[0]))
        outputs = X.shape[0] * network.layer_sizes[-1] * network.dtype.itemsize
        if not is_memory_mapped(X) and not is_sparse(X) and outputs <= ONE_HOT_BYTES:
            return self._evaluate_rows(X, y, weights)
        sums: dict[str, float] = {}
        total = 0.0
        buffer = rows_buffer(X, network.chunk_rows, network.dtype)
        with network.lock:  # every chunk through the same weights: a fit in a thread waits
            for rows in _row_blocks(network, X):
                w = None if weights is None else weights[rows]
                mass = float(rows.stop - rows.start) if w is None else float(w.sum())
                if mass == 0:
                    continue  # rows of zero weight count for nothing
                block = dense_rows(X, rows.start, rows.stop, self.dtype, buffer)
                part = self._evaluate_rows(block, np.asarray(y[rows]), w, first_row=rows.start)
                for key, value in part.items():
                    sums[key] = sums.get(key, 0.0) + value * mass
                total += mass
        return {key: value / total for key, value in sums.items()}

    def _evaluate_rows(
        self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, first_row: int | None = None
    ) -> dict[str, float]:
        """:meth:`evaluate` on checked rows held in memory: all of them, or the block that
        starts at row ``first_row``."""
        network = self.network
        Y = self.encoder.encode(y, dtype=self.dtype)
        if _in_model_form(X, network.dtype):
            logits = network.predict_logits(X)
        else:  # an array of another dtype or order: converted a block at a time
            logits = np.empty((X.shape[0], network.layer_sizes[-1]), dtype=network.dtype)
            with network.lock:
                for rows, block in _logit_blocks(network, X, check=False):
                    logits[rows] = block
        logits = _checked_logits(logits, X, first_row)
        result = {"loss": self.loss_.value(logits, Y, weights)}
        outputs = self._link(logits)
        if self.encoder.is_classifier:
            hits = _hits(self.encoder.decode(outputs), y, self.encoder.task)
            result["accuracy"] = float(np.average(hits, weights=weights))
        else:
            # The mean squared error of the predictions, whatever the loss (Poisson too):
            # the squared-error loss is half of it, summed over the outputs, overflow-safe.
            half_squares = _losses.SquaredError().per_sample(outputs, Y)
            errors = half_squares * (2.0 / Y.shape[1])
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
        rows = [_SUMMARY_HEADER, *self._summary_rows()]
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        rule = "-" * len(lines[0])
        total = f"Total params: {network.n_params:,} ({network.dtype.name})"
        footer = [total]
        if self.standardizer_ is not None:
            footer.append(_describe_standardizer(self.standardizer_))
        return "\n".join([lines[0], rule, *lines[1:], rule, *footer])

    def _summary_rows(self) -> list[tuple[str, str, str, str, str]]:
        """The rows of :meth:`summary` under its header, one per layer."""
        network = self._require_built()
        rows = [("input", f"(None, {network.layer_sizes[0]})", "", "", "0")]
        standardizer = self.standardizer_
        if standardizer is not None:
            n = standardizer.n_features
            rows.append(("standardize", f"(None, {n})", "(x - mean) / scale", "", "0"))
        out_act = self.loss_.output_activation
        inits = network.init_names()
        for i, w in enumerate(network.weights):
            act = network.activations[i].name if i < network.n_layers - 1 else out_act
            kind = "hidden" if i < network.n_layers - 1 else "output"
            params = f"{w.size + w.shape[0]:,}"
            rows.append((f"dense_{i + 1} ({kind})", f"(None, {w.shape[0]})", act, inits[i], params))
        return rows

    def _repr_html_(self) -> str:
        """The summary as an HTML table, for notebooks; every value is escaped."""
        if self.network is None:
            facts = [("built", "no: call fit (or build) first"), ("model", repr(self))]
            return _html_table(facts, caption="MLP")
        network = self.network
        classes = self.classes_
        facts = [
            ("task", str(self.task)),
            ("loss", _loss_text(self.loss_)),
            ("classes", "" if classes is None else brief_list(classes)),
            ("dtype", network.dtype.name),
            ("parameters", f"{network.n_params:,}"),
            ("fitted", f"yes, {self.history.epochs} epochs" if self.history.epochs else "no"),
        ]
        layers = _html_table(self._summary_rows(), header=_SUMMARY_HEADER)
        return _html_table(facts, caption="MLP") + layers

    def __deepcopy__(self, memo: dict[int, Any]) -> MLP:
        """A copy that trains and predicts on its own, made holding the network's lock as
        predictions are: asked for while a fit of this model runs in another thread, it
        waits for the fit to end, and holds the weights, history and random state of one
        moment, not parts of two steps. It is made as ``copy.deepcopy`` makes one without
        this method, from ``__reduce_ex__``: a subclass's ``__getstate__`` and
        ``__setstate__`` (leaving out what cannot be copied, a lock say) still apply."""
        network = self.network
        with network.lock if network is not None else contextlib.nullcontext():
            return copy._reconstruct(self, memo, *self.__reduce_ex__(4))

    def __repr__(self) -> str:
        act = self.activation
        if not isinstance(act, (str, dict, Activation)):  # one per layer
            act = list(act)
        extra = ", standardize=True" if self.standardize else ""
        return (
            f"MLP(hidden={self.hidden}, activation={act!r}, loss={self.loss!r}, "
            f"seed={self.seed}, dtype={self.dtype.name!r}{extra})"
        )


_SUMMARY_HEADER = ("layer", "output shape", "activation", "init", "params")


def _html_table(
    rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, caption: str | None = None
) -> str:
    """``rows`` of text as an HTML table; every cell is escaped."""
    parts = ["<table>"]
    if caption is not None:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header is not None:
        cells = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    parts.append(f"<tbody>{body}</tbody></table>")
    return "".join(parts)


def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model saved with :meth:`MLP.save` (or a checkpoint); see :mod:`mlpzero.io`.

    Raises :class:`FileNotFoundError` if ``path`` does not exist and :class:`ValueError`
    if it is not a valid mlpzero model file.
    """
    return MLP.from_record(_io.read_record(path), source=path)


def _checked_logits(logits: np.ndarray, X: Any, first_row: int | None = None) -> np.ndarray:
    """``logits``, after checking that the forward pass did not overflow.

    Inputs far larger than the training data can push a layer beyond the dtype's range;
    the result would be NaN probabilities, so that is an error that says which rows.
    ``first_row`` is given when ``X`` is a block of the user's rows that starts there.
    """
    finite = np.isfinite(logits).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        first = X[rows[0] : rows[0] + 1]
        largest = largest_magnitude(first.toarray() if is_sparse(first) else first)
        if first_row is None:
            first_row, counted = 0, f"{X.shape[0]} rows"
        else:
            counted = f"rows {first_row} to {first_row + X.shape[0] - 1}"
        raise ValueError(
            f"X: the network's outputs overflow for {len(rows)} of {counted} (first: "
            f"row {first_row + rows[0]}, largest |value| {largest:.3g}); these "
            "inputs are too large for this model: scale them like the training data"
        )
    return logits


def _in_model_form(X: Any, dtype: np.dtype) -> bool:
    """Whether checked ``X`` is an array in memory, C-ordered in ``dtype``: its rows are
    used as they are. Another ``X`` (memory-mapped, sparse, or of another dtype or order)
    is made such rows a block at a time (:func:`~mlpzero.validation.dense_rows`)."""
    return (
        isinstance(X, np.ndarray)
        and not is_memory_mapped(X)
        and X.dtype == dtype
        and X.flags.c_contiguous
    )


def _row_blocks(network: Network, X: Any) -> list[slice]:
    """``X``'s rows in blocks of ``network.chunk_rows``: a memory-mapped or sparse ``X``
    is read one block at a time, and its products are those of ``predict_logits`` on
    ``X`` in memory (the same rows per matrix product), so its outputs are the same bit
    for bit."""
    n, step = X.shape[0], network.chunk_rows
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _logits(network: Network, X: Any) -> np.ndarray:
    """The logits of every row of checked ``X``, checked for overflow, as a new array."""
    out = np.empty((X.shape[0], network.layer_sizes[-1]), dtype=network.dtype)
    with network.lock:
        for rows, logits in _logit_blocks(network, X):
            out[rows] = logits
    return out


def _logit_blocks(
    network: Network, X: Any, check: bool = True
) -> Iterator[tuple[slice, np.ndarray]]:
    """The logits of checked ``X`` a block of rows (:func:`_row_blocks`) at a time, as
    ``(rows, logits)``, each block checked for overflow (:func:`_checked_logits`) unless
    ``check`` is False.

    A memory-mapped or sparse ``X``, or an array of another dtype or order, is made a
    dense C-ordered array of the network's dtype a block at a time, never whole.
    ``logits`` is the network's own buffer, which the next block overwrites: use or copy
    it before asking for the next.
    """
    blocks = _row_blocks(network, X)
    in_memory = _in_model_form(X, network.dtype)
    buffer = None if in_memory else rows_buffer(X, network.chunk_rows, network.dtype)
    for rows in blocks:
        if in_memory:
            block = X[rows]
        else:
            block = dense_rows(X, rows.start, rows.stop, network.dtype, buffer)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            logits = network.mark_overflow(network.forward(block))
        if check:
            logits = _checked_logits(logits, block, rows.start if len(blocks) > 1 else None)
        yield rows, logits


def _dense_blocks(X: Any, dtype: np.dtype) -> Any:
    """``X`` for :meth:`Standardizer.fit`, which reads blocks of rows by indexing: a checked
    sparse ``X`` gives them dense (:class:`SparseRows`), a memory-mapped one in the model's
    dtype and C order (:class:`RowSource`), so that the statistics are those of the same
    rows in memory, bit for bit; another ``X`` is itself (already in that form)."""
    if is_sparse(X):
        return SparseRows(X, dtype)
    if is_memory_mapped(X):
        return RowSource(X, dtype)
    return X


def _describe_standardizer(standardizer: Standardizer) -> str:
    """The summary's lines on the input standardisation: a value per feature when there
    are few features, else the range of the values."""
    mean, scale = standardizer.mean, standardizer.scale
    if standardizer.n_features <= 8:
        values = [f"{name}: " + ", ".join(f"{v:.4g}" for v in array)
                  for name, array in (("mean", mean), ("scale", scale))]  # fmt: skip
    else:
        values = [
            f"{name} from {array.min():.4g} to {array.max():.4g}"
            for name, array in (("mean", mean), ("scale", scale))
        ]
    return "Standardized inputs (x - mean) / scale, " + "; ".join(values)


def _training_rows(n_samples: int, held: np.ndarray | None) -> np.ndarray | None:
    """The indices of the rows a fit trains on, given those it held out (None: all)."""
    if held is None:
        return None
    return np.setdiff1d(np.arange(n_samples), held, assume_unique=True)


def _column_names(X: Any) -> list[str] | None:
    """The column names of a data frame (pandas or alike), if it has distinct string names."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = list(columns)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return names


def _first_fit_names(model: MLP, X: Any) -> list[str] | None:
    """The feature names a first fit gives ``model``: those set on it before (the names of
    an array's columns, which it cannot carry), else a data frame's column names.

    A frame with some string labels that are not distinct strings (duplicates, or mixed
    with other labels) is refused, as :func:`in_training_order` refuses it later: a model
    without names would take such a frame's columns in order, whatever their labels."""
    if model.feature_names_in_ is not None:
        return _set_names(model.feature_names_in_)
    names = _column_names(X)
    labels = _frame_labels(X)
    if names is None and any(isinstance(label, str) for label in labels):
        raise ValueError(
            f"X: the columns [{brief_list(labels, quoted=True)}] cannot name the features "
            "(they are not distinct strings), so a frame could not be matched to them by "
            "name later: rename them, or pass X.to_numpy() to take the columns in order"
        )
    return names


def _set_names(given: Any) -> list[Any]:
    """The ``feature_names_in_`` set on a model before its first fit, checked: a sequence
    of names, one per column, distinct as a model file holds them (as text)."""
    names = None
    if not isinstance(given, (str, bytes, bytearray)):  # not a sequence of characters
        try:
            names = list(given)
        except TypeError:
            pass
    if names is None:
        raise TypeError(
            "feature_names_in_ must be a list of column names, got "
            f"{type(given).__name__} {_io.short_repr(given)}"
        )
    texts = [str(name) for name in names]
    if len(set(texts)) != len(texts):
        repeated, times = Counter(texts).most_common(1)[0]
        raise ValueError(
            f"feature_names_in_ must name each column once (columns are matched by name), "
            f"but {repeated!r} appears {times} times"
        )
    return names


def _frame_labels(X: Any) -> list[Any]:
    """The column labels of a data frame (pandas or alike); none for anything else."""
    return [] if isinstance(X, np.ndarray) else list(getattr(X, "columns", []))


def in_training_order(X: Any, expected: list[str] | None, what: str) -> Any:
    """``X`` with its columns in the training order ``expected``, matched by name.

    A data frame whose column names are the training names in another order is reordered
    by name (``X[expected]``); other names are refused, naming the missing and unexpected
    ones. Without names on either side (arrays, frames with integer labels) the columns
    are taken in order. A frame with some string labels that are not distinct strings
    (duplicates, or mixed with other labels) cannot be matched by name, and is refused.
    """
    names = None if expected is None else _column_names(X)
    if names is None and expected is not None:
        labels = _frame_labels(X)
        if any(isinstance(label, str) for label in labels):
            raise ValueError(
                f"{what}: the model was trained on the features {expected}, and the "
                f"columns {labels} cannot be matched to them by name (they are not "
                "distinct strings): rename them, or pass an array in the training order"
            )
    if names is None or names == expected:
        return X
    given, trained = set(names), set(expected)
    missing = [n for n in expected if n not in given]
    unexpected = [n for n in names if n not in trained]
    if missing or unexpected:
        lists = [brief_list(names, quoted=True) for names in (missing, unexpected, expected)]
        raise ValueError(
            f"{what}: the columns do not match the features the model was trained on: "
            f"missing [{lists[0]}], unexpected [{lists[1]}] (trained on [{lists[2]}])"
        )
    return X[expected]


def _hits(predicted: np.ndarray, y: np.ndarray, task: str) -> np.ndarray:
    y = np.asarray(y)
    if task == "multilabel":
        return (predicted == y.reshape(predicted.shape)).all(axis=1)
    return predicted == (y[:, 0] if y.ndim == 2 else y)


def _as_sequence(value: Any, name: str) -> tuple[Any, ...]:
    """``value``, one layer size or a sequence of them, as a tuple of sizes (unchecked)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (value,)
    # Text is a sequence of characters: "16" would be read as "1", "6", and b"32" as the
    # character codes 51 and 50, silently two layers no one asked for.
    if not isinstance(value, (str, bytes, bytearray)):
        try:
            return tuple(value)
        except TypeError:
            pass
    raise TypeError(
        f"{name} must be a layer size or a sequence of layer sizes, got "
        f"{type(value).__name__} {value!r}"
    )


# ---------------------------------------------------------------------- fit options
@dataclass(frozen=True)
class FitOptions:
    """The options of one :meth:`MLP.fit`, checked once by :meth:`check`.

    The data arguments (``X``, ``y``, ``sample_weight``, ``validation_data``) are not
    options: :mod:`mlpzero.preparation` checks them. ``optimizer`` and ``schedule`` hold
    the resolved objects.
    """

    epochs: int
    learning_rate: float | None
    batch_size: int | None
    optimizer: _optimizers.Optimizer
    schedule: _schedules.Schedule | None
    l2: float
    l1: float
    clip_norm: float | None
    validation_split: float
    class_weight: str | dict[Any, float] | None
    shuffle: bool | RowOrder
    callbacks: tuple[Callback, ...]
    verbose: int
    print_every: int | None
    checkpoint: str | os.PathLike[str] | None
    checkpoint_interval: float
    resume: str | os.PathLike[str] | None
    penalty_per_sample: bool = False
    #: Full-batch L-BFGS (``optimizer="lbfgs"``, :mod:`mlpzero.lbfgs`) instead of the loop.
    lbfgs: bool = False

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
        penalty_per_sample: Any = False,
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
        l2 = check_non_negative("l2", l2)
        checkpoint_interval = check_non_negative("checkpoint_interval", checkpoint_interval)
        l1 = check_non_negative("l1", l1)
        check_flag("penalty_per_sample", penalty_per_sample)
        if clip_norm is not None:
            clip_norm = check_positive("clip_norm", clip_norm)
        validation_split = check_non_negative("validation_split", validation_split)
        if validation_split >= 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is not None:
            raise ValueError("pass validation_split or validation_data, not both")
        callbacks = _check_callbacks(callbacks)
        if stream:
            lbfgs = "lbfgs" if _lbfgs.requested(optimizer) else None  # a name or a config
            _refuse_for_stream(batch_size=batch_size, shuffle=shuffle, optimizer=lbfgs)
        if shuffle is None:
            shuffle = not stream
        if not isinstance(shuffle, (bool, np.bool_)) and not callable(shuffle):
            raise TypeError(
                "shuffle must be True, False or a row-order function, got "
                f"{type(shuffle).__name__} {shuffle!r}"
            )
        for name, value in (("checkpoint", checkpoint), ("resume", resume)):
            if callable(shuffle) and value is not None:
                raise ValueError(
                    f"{name}: a fit with a row-order function as shuffle cannot be resumed, "
                    "as the function's state is not in a checkpoint; pass shuffle=True or "
                    "False"
                )
        if resume is not None:
            _io.file_path(resume, "resume")  # not a path, or the empty one: named as resume
        if checkpoint is not None:
            _check_checkpoint_path(checkpoint)
            _refuse_replacing(f"checkpoint={os.fspath(checkpoint)!r}", checkpoint, resume)
        savers = [c for c in callbacks if isinstance(c, ModelCheckpoint)]
        for i, callback in enumerate(savers):
            _refuse_shared_model_checkpoint_path(callback.path, savers[:i])
            _check_model_checkpoint_path(callback.path, checkpoint, resume)
        lbfgs = _lbfgs.requested(
            optimizer, learning_rate=learning_rate, batch_size=batch_size, schedule=schedule,
            l1=l1, clip_norm=clip_norm, checkpoint=checkpoint, resume=resume,
            shuffle=shuffle if callable(shuffle) else None,  # True or False: no row order
        )  # fmt: skip
        optimizer = _resolve_optimizer("sgd" if lbfgs else optimizer, learning_rate)
        return cls(
            epochs=epochs,
            learning_rate=None if learning_rate is None else optimizer.initial_learning_rate,
            batch_size=batch_size,
            schedule=None if schedule is None else _schedules.get(schedule),
            optimizer=optimizer,
            l2=l2,
            l1=l1,
            clip_norm=clip_norm,
            validation_split=validation_split,
            class_weight=class_weight,
            shuffle=shuffle if callable(shuffle) else bool(shuffle),
            callbacks=callbacks,
            verbose=verbose,
            print_every=print_every,
            checkpoint=checkpoint,
            checkpoint_interval=checkpoint_interval,
            resume=resume,
            penalty_per_sample=bool(penalty_per_sample),
            lbfgs=lbfgs,
        )

    def model_file_argument(self) -> str | None:
        """The argument by which the fit writes the model to files as it goes
        (``checkpoint``, or a :class:`~mlpzero.callbacks.ModelCheckpoint`), else None."""
        if self.checkpoint is not None:
            return f"checkpoint={os.fspath(self.checkpoint)!r}"
        for callback in self.callbacks:
            if isinstance(callback, ModelCheckpoint):
                return f"ModelCheckpoint(path={callback.path!r})"
        return None

    def fit_config(self) -> dict[str, Any]:
        """The record of these options kept as :attr:`MLP.fit_config_` (and saved)."""
        return {
            "epochs": self.epochs,
            "learning_rate": None if self.lbfgs else self.optimizer.initial_learning_rate,
            "batch_size": self.batch_size,
            "optimizer": {"name": "lbfgs"} if self.lbfgs else self.optimizer.config,
            "schedule": None if self.schedule is None else self.schedule.config,
            "l2": self.l2,
            "l1": self.l1,
            "penalty_per_sample": self.penalty_per_sample,
            "clip_norm": self.clip_norm,
            "validation_split": self.validation_split,
            "class_weight": _io.jsonable(self.class_weight),
            "shuffle": None if self.lbfgs else _recorded_shuffle(self.shuffle),
        }

    def loop_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~mlpzero.training.train` these options set."""
        return {
            "batch_size": self.batch_size,
            "schedule": self.schedule,
            "l2": self.l2,
            "l1": self.l1,
            "penalty_per_sample": self.penalty_per_sample,
            "clip_norm": self.clip_norm,
            "shuffle": self.shuffle,
        }


def _lbfgs_l2(options: FitOptions, prepared: Any, dtype: np.dtype) -> float:
    """The ``l2`` of an L-BFGS fit: with ``penalty_per_sample``, divided by the total sample
    weight (every row is in the one batch); refused beyond the model's dtype."""
    l2, weights = options.l2, prepared.sample_weight
    if not options.penalty_per_sample:
        return l2
    total = prepared.Y.shape[0] if weights is None else float(np.sum(weights, dtype=float))
    per_sample = l2 / total / prepared.weight_scale
    check_penalty_range(per_sample, 0.0, dtype, total * prepared.weight_scale, (l2, 0.0))
    return per_sample


def _check_checkpoint_path(checkpoint: Any) -> None:
    """Refuse a ``checkpoint`` that is not the path of a file in an existing folder now,
    rather than at the first write, after an epoch has run."""
    path = os.fspath(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else None
    if not isinstance(path, str):
        raise TypeError(
            "checkpoint must be a file path (a str or path-like), got "
            f"{type(checkpoint).__name__} {checkpoint!r}"
        )
    if not path:
        raise ValueError("checkpoint must be a file path, got the empty string ''")
    _io.file_path(path, "checkpoint")  # a NUL character
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise ValueError(f"checkpoint={path!r} is a folder; give the path of a file")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"checkpoint={path!r}: {_io.missing_folder(folder)}")


def _refuse_replacing(argument: str, path: Any, resume: Any, checkpoint: bool = True) -> None:
    """Refuse a path the fit writes to (``argument`` names it in the error) that names an
    existing file other than a checkpoint, or with ``checkpoint=False`` other than a model
    file: the first write would replace it (a saved model, the training data). It may name
    nothing yet, an empty file, the file the fit resumes from, or a file of the kind it
    writes."""
    path = os.fspath(path)
    if not os.path.exists(path) or _is_empty_file(path):  # a dangling link: written through
        return
    if os.path.isdir(path):
        raise ValueError(f"{argument} is a folder; give the path of a file")
    if resume is not None and _same_file(path, resume):
        return
    try:
        _io.read_record(path, checkpoint=checkpoint)
    except (OSError, ValueError):
        raise _replacing_error(argument, checkpoint) from None


def _replacing_error(argument: str, checkpoint: bool) -> ValueError:
    kind, others = ("checkpoint", "a saved model, ") if checkpoint else ("model file", "")
    return ValueError(
        f"{argument} names an existing file that is not an mlpzero {kind} ({others}data, "
        "or another file); refusing to write over it: give another path, or remove the file"
    )


def check_model_path(path: str | os.PathLike[str], argument: str | None = None) -> None:
    """Refuse to save a model to ``path`` when it names an existing regular file that is
    not an mlpzero model file or checkpoint: the save would replace a data file, a figure
    or anything else a mistyped path names. Only the file's metadata is read, so a save
    over the last one (a checkpoint every epoch) costs little. ``argument`` names ``path``
    in the error (default: ``path='...'``). A device or pipe (``/dev/null``) is written as
    it is, and an empty file (``tempfile.NamedTemporaryFile``'s, say) written over, as it
    holds nothing to lose."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return
    if not _is_empty_file(path) and not _io.holds_model_metadata(path):
        raise _replacing_error(argument or f"path={os.fspath(path)!r}", checkpoint=False)


def _is_empty_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a regular file of no bytes (following a symbolic link)."""
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size == 0


def _check_model_checkpoint_path(path: str, checkpoint: Any, resume: Any) -> None:
    """Refuse a :class:`ModelCheckpoint` path that is, or whose name pattern could become,
    the file of ``checkpoint`` or ``resume``, where its plain models and the checkpoints
    would replace each other, or a path (without placeholders) that names an existing file
    other than a model file."""
    argument = f"ModelCheckpoint(path={path!r})"
    pattern = "{" in path
    names, when, instead = (
        ("could name", " at some epoch", "a pattern that cannot")
        if pattern
        else ("names", "", "another path")
    )
    for name, other in (("checkpoint", checkpoint), ("resume", resume)):
        if other is not None and (_pattern_could_name if pattern else _same_file)(path, other):
            raise ValueError(
                f"{argument} {names} the file of {name}={os.fspath(other)!r}{when}: the model "
                "it saves would replace the checkpoint (and the checkpoint the model); give it "
                f"{instead}"
            )
    if not pattern:
        _refuse_replacing(argument, path, None, checkpoint=False)


def _refuse_shared_model_checkpoint_path(path: str, earlier: Sequence[ModelCheckpoint]) -> None:
    """Refuse a :class:`ModelCheckpoint` path that names the file of an ``earlier`` one
    (the same file, or the same name pattern): each would replace the other's model (a
    best-only one's best by the last epoch's) without a word."""
    for other in earlier:
        if "{" in path or "{" in other.path:
            same = os.path.abspath(path) == os.path.abspath(other.path)
        else:
            same = _same_file(path, other.path)
        if same:
            raise ValueError(
                f"ModelCheckpoint(path={path!r}) could write the file of "
                f"ModelCheckpoint(path={other.path!r}), and each would replace the model the "
                "other saved; give each its own path"
            )


def _pattern_could_name(pattern: str, other: Any) -> bool:
    """Whether a :class:`ModelCheckpoint` name ``pattern`` could be formatted into the path
    ``other``: each placeholder is taken to stand for any text, and both are compared as
    absolute paths, ``other`` also with its links resolved."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(os.path.abspath(pattern)):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(".*")
    regex = re.compile("".join(parts), re.DOTALL)
    other = os.fspath(other)
    return any(regex.fullmatch(p) for p in (os.path.abspath(other), os.path.realpath(other)))


def _same_file(path: Any, other: Any) -> bool:
    """Whether two paths name one file: equal once links are resolved, or hard links."""
    path, other = os.fspath(path), os.fspath(other)
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist (yet)
        return False


def _recorded_shuffle(shuffle: bool | RowOrder) -> bool | str:
    """``shuffle`` as :attr:`MLP.fit_config_` records it: a function as ``"custom"``."""
    return "custom" if callable(shuffle) else shuffle


def _refuse_for_stream(**options: Any) -> None:
    """Refuse the options that a batch generator decides itself."""
    reasons = {
        "batch_size": "its batches are the ones it yields",
        "shuffle": "it yields its batches in its own order (shuffle inside it)",
        "optimizer": "L-BFGS needs every row at each step; pass an array, or a memory-mapped one",
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
    callbacks = tuple(callbacks)
    check_callback_list(callbacks)
    return callbacks


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
    try:
        return _optimizers.get(optimizer, **kwargs)
    except ValueError as error:  # fit also takes "lbfgs", which is not a stepping optimizer
        if isinstance(optimizer, str) and str(error).startswith("unknown optimizer"):
            raise ValueError(f"{error}, or lbfgs") from None
        raise


def _check_settings(model: MLP) -> None:
    """Refuse to continue a fitted model whose settings were changed to disagree with its
    network (``model.hidden = (8,)``): the fit would train the old network regardless."""
    if not model.built:
        return
    mismatch = _io.settings_mismatch(model.to_record()) or _init_mismatch(model)
    if mismatch is not None:
        name, value, network = mismatch
        raise ValueError(
            f"{name}={value!r}, but this model's network was fitted with {network!r}; a "
            f"later fit continues the same weights: set {name} back, or build a new MLP"
        )


def _init_mismatch(model: MLP) -> tuple[str, Any, Any] | None:
    """``("init", setting, the network's)`` when ``model.init`` was changed after the
    network drew its weights with another initialiser, else None: a file would record the
    new one as the weights' (:func:`mlpzero.io.settings_mismatch` for the other settings)."""
    network = model.network
    if network is None or model.init is network.init or model.init == network.init:
        return None
    return "init", model.init, network.init


def _check_optimizer_serves(model: MLP, optimizer: _optimizers.Optimizer) -> None:
    """Refuse an optimizer object that holds the state (velocity, moments) another model's
    training left in it: one optimizer serves one model. Given to this model, that state
    would steer its first steps without a word. The model's own optimizer
    (:attr:`MLP.optimizer_`, the object its last fit used) carries on, and a stateless one
    (a new object, or SGD without momentum) serves anyone."""
    if optimizer is model.optimizer_ or not optimizer.state:
        return
    raise ValueError(
        f"optimizer: this {type(optimizer).__name__} object holds the state "
        f"({', '.join(sorted(optimizer.state))}) of {optimizer.iterations} steps of another "
        "model's training, which would carry into this model's first steps; one optimizer "
        f"serves one model. Pass a new one (optimizer={optimizer.name!r}, or "
        f"{type(optimizer).__name__}(...)); to carry that state into this model on purpose, "
        "set model.optimizer_ to it first"
    )


def _fit_callbacks(
    model: MLP,
    options: FitOptions,
    resumed: _Resumed | None,
    progress: dict[str, Any],
    epochs_left: int,
    comm: _distributed.Communicator,
) -> list[Callback]:
    """The user's callbacks, plus the progress logger, the checkpoint writer and the
    restorer of a resumed fit's callback state, as the options ask. In a distributed fit
    only rank 0 shows progress and writes files (:func:`mlpzero.distributed.rank_callbacks`)."""
    user_callbacks = list(options.callbacks)
    callbacks = list(user_callbacks)
    if (options.verbose or options.print_every) and comm.is_root:
        logger = ProgressLogger(
            epochs_left, verbose=options.verbose, print_every=options.print_every
        )
        callbacks.insert(0, logger)
    if options.checkpoint is not None and comm.is_root:
        final_epoch = model.history.epochs + epochs_left - 1
        writer = CheckpointWriter(
            options.checkpoint, options.optimizer, options.schedule, progress,
            options.checkpoint_interval, final_epoch, user_callbacks,
        )  # fmt: skip
        callbacks.append(writer)
    if resumed is not None:
        callbacks.append(CallbackRestorer(user_callbacks, resumed.state, options.resume))
    if comm.size > 1:
        callbacks = _distributed.rank_callbacks(comm, model, callbacks)
    return callbacks


@contextmanager
def _restored_on_error(model: MLP, optimizer: Any) -> Iterator[Callable[[], None]]:
    """Put ``model``'s attributes and random state back if the block raises, and those of
    a given :class:`~mlpzero.optimizers.Optimizer` object (its rates, step count and
    state): a fit that fails while checking its options, resuming, building or preparing
    its data leaves them as they were. (The fit sets a given optimizer's learning rate,
    and a resume loads the checkpoint's state into it, before every check has passed.)
    Gives the function that puts them back, for a fit stopped after the block but before
    its first step."""
    before, rng_state = dict(vars(model)), model._rng.bit_generator.state
    given = optimizer if isinstance(optimizer, _optimizers.Optimizer) else None
    if given is not None:
        rates = given.learning_rate, given.initial_learning_rate
        running = OptimizerSnapshot()
        running.take(given)

    def restore() -> None:
        vars(model).clear()
        vars(model).update(before)
        model._rng.bit_generator.state = rng_state
        if given is not None:
            given.learning_rate, given.initial_learning_rate = rates
            running.restore(given)

    try:
        yield restore
    except BaseException:
        restore()
        raise


# ---------------------------------------------------------------------- resume
@dataclass(frozen=True)
class _Resumed:
    """A checkpoint to resume from: the model it holds and where its fit stood."""

    model: MLP
    state: _io.CheckpointState


def _read_checkpoint(model: MLP, options: FitOptions) -> _Resumed | None:
    """The checkpoint to resume from (None without ``options.resume``), after checking
    that it holds ``model``'s architecture, was trained with the same fit options (but for
    ``epochs`` and ``learning_rate``), holds valid states for the fit's callbacks, and can
    give the epochs asked for (not fewer than an unfinished run has done, nor more than a
    run whose end restored earlier weights, or whose cosine schedule ended with it; on
    such a cosine, an unfinished run only to the epochs its fit was given)."""
    path = options.resume
    if path is None:
        return None
    record = load_checkpoint(path)
    resumed = _Resumed(MLP.from_record(record, source=path), record.checkpoint)
    _check_same_architecture(model, resumed.model, path)
    check_callbacks(list(options.callbacks), resumed.state, path, resumed.model)
    _check_same_options(options, record.training, path)
    progress = resumed.state.progress
    done = resumed.model.history.epochs - progress["start_epoch"]
    if not progress.get("finished") and options.epochs < done:
        raise ValueError(
            f"resume: {path}: its run has trained {done} epochs, more than "
            f"epochs={options.epochs}; epochs counts the epochs of the whole run, those "
            f"before the interruption included (its fit was given epochs="
            f"{_io.short_repr(progress['epochs'])}): give at least {done}"
        )
    if progress.get("finished") == "restored" and options.epochs > done:
        raise ValueError(
            f"resume: {path}: its run finished its {done} epochs, and a callback "
            "(EarlyStopping's restore_best_weights) then put back the parameters of an "
            "earlier epoch. The checkpoint does not hold those its last epoch ended with, "
            f"so it cannot continue to epochs={options.epochs} as one uninterrupted run "
            f"would: resume with epochs={done} for the finished model, or load it with "
            "mlpzero.load and fit it further as a new run"
        )
    schedule = options.schedule
    spans_the_fit = isinstance(schedule, _schedules.CosineDecay) and schedule.total_epochs is None
    if progress.get("finished") == "epochs" and spans_the_fit and options.epochs > done:
        raise ValueError(
            f"resume: {path}: its run finished its {done} epochs on a cosine schedule that "
            "ends with its fit (total_epochs=None): its rates fell to the end of that "
            f"cosine, so it cannot continue to epochs={options.epochs} as one uninterrupted "
            f"run would, on one cosine over them all: resume with epochs={done} for the "
            "finished model, or load it with mlpzero.load and fit it further as a new run"
        )
    if not progress.get("finished") and spans_the_fit and options.epochs != progress["epochs"]:
        given = _io.short_repr(progress["epochs"])  # of thousands of digits in a crafted file
        raise ValueError(
            f"resume: {path}: its run was interrupted after {done} of the epochs={given} its "
            "fit was given, on a cosine schedule that ends with its fit (total_epochs=None): "
            f"its rates so far followed a cosine over {given} epochs, so it cannot end at "
            f"epochs={options.epochs} as one uninterrupted run would: resume with "
            f"epochs={given}, or give the schedule a total_epochs in a new run"
        )
    return resumed


def _take_over(model: MLP, resumed: _Resumed, options: FitOptions) -> dict[str, Any]:
    """Load the checkpoint into ``model`` and the fit's optimizer and schedule.

    An explicit ``learning_rate`` other than the one the interrupted fit was given
    replaces the checkpoint's from the next epoch on; the same one keeps the rate the run
    had reached (lowered by ``ToleranceStopping(on_plateau="reduce")``, say), as an
    uninterrupted run would. The random state goes back to where the interrupted fit drew
    its validation split, so the split is the same; the state at the checkpoint's epoch is
    returned, for the loop.
    """
    optimizer = options.optimizer
    restore_optimizer(optimizer, resumed.state, options.resume, resumed.model.network.params)
    given = options.learning_rate
    if given is not None and given != optimizer.initial_learning_rate:
        optimizer.learning_rate = optimizer.initial_learning_rate = given
    restore_schedule(options.schedule, resumed.state, options.resume)
    vars(model).update(vars(resumed.model))
    epoch_state = model._rng.bit_generator.state
    model._rng.bit_generator.state = resumed.state.progress["fit_random_state"]
    return epoch_state


def _check_same_architecture(model: MLP, saved: MLP, source: Any) -> None:
    """Refuse to resume ``model`` from a checkpoint of a different architecture."""
    mine, theirs = _architecture(model), _architecture(saved)
    differ = [key for key in mine if mine[key] != theirs[key] and mine[key] != "auto"]
    if differ:
        in_file = ", ".join(f"{key}={theirs[key]!r}" for key in differ)
        given = ", ".join(f"{key}={mine[key]!r}" for key in differ)
        raise ValueError(f"resume: {source} holds a model with {in_file}, but this MLP has {given}")


def _architecture(model: MLP) -> dict[str, Any]:
    """What a resumed model must share with its checkpoint: the layers and the settings
    that drew its weights and its batches (an explicit loss counts, with its
    hyper-parameters; ``"auto"`` takes the checkpoint's)."""
    if model.built:
        hidden = tuple(model.network.layer_sizes[1:-1])
        activations = model.network.activations
    else:
        hidden = model.hidden
        activations = resolve_activations(model.activation, len(hidden))
    init = None if model.init is None else _initializers.name_of(model.init)
    loss = model.loss_ if model.loss_ is not None else model.loss
    return {
        "hidden": hidden,
        "activations": [a.config for a in activations],
        "dtype": model.dtype.name,
        "dropout": tuple(model.dropout),
        "loss": loss if isinstance(loss, str) and loss == "auto" else _io.loss_entry(loss),
        "seed": model.seed,
        "init": init,
        "standardize": model.standardize,
    }


#: The fit options a resumed fit must repeat: they shape every remaining step and batch.
#: ``epochs`` and ``learning_rate`` may change; the optimizer's kind and its other
#: hyper-parameters may not.
_RESUME_FIXED = (
    "batch_size", "optimizer", "schedule", "l2", "l1", "penalty_per_sample", "clip_norm",
    "validation_split", "class_weight", "shuffle",
)  # fmt: skip
#: The value of a fixed option that files written before it existed ran with.
_RESUME_DEFAULTS = {"penalty_per_sample": False}


def _check_same_options(options: FitOptions, saved: dict[str, Any] | None, source: Any) -> None:
    """Refuse to resume with other fit options than the checkpoint's fit had."""
    if saved is None:
        return
    given = _io.jsonable(options.fit_config())
    differ = []
    # A file from before an option existed ran with its default (class_weight was
    # there, only not recorded: such a file does not say).
    saved = {**_RESUME_DEFAULTS, **saved}
    for key in _RESUME_FIXED:
        mine, theirs = given.get(key), saved.get(key)
        if key == "optimizer" and isinstance(mine, dict) and isinstance(theirs, dict):
            mine, theirs = _optimizer_difference(mine, theirs)
        if key in saved and mine != theirs:
            differ.append((key, theirs, mine))
    if differ:
        in_file = ", ".join(f"{key}={_io.short_repr(theirs)}" for key, theirs, _ in differ)
        given_text = ", ".join(f"{key}={_io.short_repr(mine)}" for key, _, mine in differ)
        raise ValueError(
            f"resume: {source} was trained with {in_file}, but fit was given {given_text}; "
            "a resumed fit continues the same run: only epochs and learning_rate may change"
        )


def _optimizer_difference(mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[Any, Any]:
    """Two optimizer configs reduced to what tells them apart: the names if they differ,
    else the hyper-parameters (but the learning rate) that differ."""
    if mine.get("name") != theirs.get("name"):
        return mine.get("name"), theirs.get("name")
    # A file from before a hyper-parameter existed ran with its default.
    try:
        theirs = {**_optimizers.get(str(theirs.get("name"))).config, **theirs}
    except ValueError:  # an optimizer this version does not know: compared as saved
        pass
    keys = sorted((set(mine) | set(theirs)) - {"learning_rate"})
    differ = [k for k in keys if mine.get(k) != theirs.get(k)]
    return {k: mine.get(k) for k in differ}, {k: theirs.get(k) for k in differ}


def _loss_text(loss: _losses.Loss) -> str:
    """The loss's name, with its hyper-parameters that are not the defaults."""
    entry = _io.loss_entry(loss)
    if isinstance(entry, str):
        return entry
    settings = ", ".join(f"{key}={value!r}" for key, value in entry.items() if key != "name")
    return f"{entry['name']} ({settings})"


def _on_every_rank(comm: _distributed.Communicator, what: str, work: Callable[[], Any]) -> Any:
    """``work()``, which must succeed on every rank of ``comm`` or fail on all of them
    alike (a :class:`~mlpzero.distributed.DistributedFitError` naming the rank and its
    error), so that no rank goes on to wait for one that stopped. One process: ``work()``."""
    if comm.size == 1:
        return work()
    result = []
    _distributed.gathered(comm, lambda: result.append(work()), what)
    return result[0]


def _check_model_file(model: MLP, options: FitOptions) -> None:
    """Refuse, before the first epoch, a model that the files the fit writes as it goes
    (``checkpoint``, a :class:`~mlpzero.callbacks.ModelCheckpoint`) cannot hold."""
    writer = options.model_file_argument()
    if writer is None:
        return
    # The files hold this fit's options, which may not be the last fit's.
    record = dataclasses.replace(model.to_record(), training=options.fit_config())
    try:
        _io.check_writable(record)
    except ValueError as error:
        raise ValueError(f"{writer}: {error}") from None


def _refuse_undistributable(distributed: bool, arguments: dict[str, Any]) -> None:
    """Refuse what no rank can share out: a row-order function, a batch generator."""
    if not distributed:
        return
    if callable(arguments["shuffle"]):
        raise ValueError(
            "distributed=True needs every rank to draw the same batches, which a row-order "
            "function as shuffle cannot promise; pass shuffle=True (the ranks share the "
            "model's seed) or False"
        )
    if is_batch_source(arguments["X"]):
        raise ValueError(
            "distributed=True does not apply to a batch generator: every rank takes its "
            "share of the same rows, which a generator does not have; pass an array "
            "(a memory-mapped one costs no memory)"
        )


def _process_group(distributed: bool, arguments: dict[str, Any]) -> _distributed.Communicator:
    """The communicator of a fit: one process, or this rank of an MPI job once every rank
    is known to have been asked the same fit (``arguments``, fit's own)."""
    comm = _distributed.communicator(distributed)
    # Refused on every rank alike, before the data is compared (a function differs from
    # rank to rank by its address), and though one rank alone may have been given it.
    _on_every_rank(
        comm, "accept its X and shuffle", lambda: _refuse_undistributable(distributed, arguments)
    )
    if comm.size > 1:  # every rank must be asked the same fit, or every rank refuses
        _distributed.check_same_fit(comm, arguments)
    return comm


def _columns_in_order(X: Any, validation_data: Any, names: list[str] | None) -> tuple[Any, Any]:
    """``X`` and ``validation_data``'s ``X`` with their columns in the training order; a
    batch generator's frames are put in that order batch by batch."""
    if is_batch_source(X):
        X = X if names is None else _batches_in_order(X, names)
    else:
        X = in_training_order(X, names, "X")
    if isinstance(validation_data, (tuple, list)) and validation_data:
        X_val = in_training_order(validation_data[0], names, "validation_data's X")
        validation_data = (X_val, *validation_data[1:])
    return X, validation_data


def _first_batch_names(
    model: MLP, source: Callable[[], Iterable[Any]]
) -> tuple[Callable[[], Iterable[Any]], list[str] | None]:
    """The feature names a first fit on the batch generator ``source`` takes, those of its
    first batch's data frame, as a frame given whole names them (None for arrays); and a
    source that yields the same batches, the first epoch's from the batches read already,
    so that the generator is still called once per epoch."""
    items = call_source(source)
    first = next(items, None)
    started = [iter(()) if first is None else chain([first], items)]

    def batches() -> Iterable[Any]:
        return started.pop() if started else source()

    if not isinstance(first, (tuple, list)) or len(first) not in (2, 3):
        return batches, None  # refused, as it is, by the batch checks
    return batches, _first_fit_names(model, first[0])


def _batches_in_order(source: Callable[[], Iterable[Any]], names: list[str]) -> Any:
    """The batch generator ``source`` with the ``X`` of each batch it yields in the
    training order ``names``, matched by name as a frame given whole is."""

    def batches() -> Iterator[Any]:
        for index, item in enumerate(call_source(source)):
            if isinstance(item, (tuple, list)) and len(item) in (2, 3):
                X = in_training_order(item[0], names, f"X of batch {index}")
                item = (X, *item[1:])
            yield item  # anything else is refused, as it is, by the batch checks

    return batches


def _check_classes(model: MLP, classes: Any, y: Any, anew: bool = False) -> None:
    """``classes`` of :meth:`MLP.fit` (and of :meth:`MLP.build`, which makes the model
    ``anew``): distinct labels, covering ``y``'s; on a fitted model, the classes it has."""
    given = np.asarray(classes)
    if given.ndim != 1 or given.size == 0:
        raise ValueError(f"classes must be a non-empty list of labels, got {classes!r}")
    try:
        distinct = len(np.unique(given))
    except TypeError:  # None among labels, or labels of types that cannot be sorted
        raise TypeError(
            f"classes must be labels of one type that sorts (numbers, or strings), and no "
            f"None, got {classes!r}"
        ) from None
    if distinct != given.size:
        raise ValueError(f"classes must list each label once, got {classes!r}")
    fresh = anew or not model.built
    if not fresh:
        if model.classes_ is None:
            raise ValueError(f"classes applies to classifiers; this model is a {model.task} model")
        if set(given.tolist()) != set(model.classes_.tolist()):
            raise ValueError(
                f"classes={given.tolist()!r} differs from the fitted model's classes_ "
                f"{model.classes_.tolist()!r}: a fitted model keeps its classes"
            )
    else:
        _check_new_classes(model, given)
    if fresh and y is not None and np.ndim(y) == 2 and np.shape(y)[1] > 1:
        raise ValueError(
            f"classes applies to a 1-D y of labels; y has {np.shape(y)[1]} columns "
            "(multi-label or multi-output), one output each: leave classes out"
        )
    if fresh and y is not None and np.ndim(y) == 1:
        try:
            missing = np.setdiff1d(np.unique(np.asarray(y)), given).tolist()
        except TypeError:  # labels of types that cannot be sorted: looked up one by one
            known = set(given.tolist())
            missing = [
                label for label in dict.fromkeys(np.asarray(y).tolist()) if label not in known
            ]
        if missing:
            raise ValueError(
                f"y has labels that classes={given.tolist()!r} does not list: {missing[:5]!r}"
            )


def _check_new_classes(model: MLP, given: np.ndarray) -> None:
    """``classes`` that make the model a classifier: no NaN, no regression loss, and for
    ``loss="auto"`` labels that are not read as measurements (floats other than 0 and 1)."""
    if given.dtype.kind == "f" and np.isnan(given).any():
        raise ValueError(f"classes must not hold NaN, got {given.tolist()!r}")
    if model.loss != "auto":
        name = _losses.get(model.loss).name
        if name in ("squared_error", "poisson"):
            raise ValueError(
                f"classes applies to classifiers, but loss={model.loss!r} is a regression loss"
            )
    elif given.dtype.kind == "f" and not np.isin(given, (0, 1)).all():
        raise ValueError(
            f"classes={given.tolist()!r} are floats, which loss='auto' reads as regression "
            "targets: pass integer or string labels, or loss='categorical_crossentropy'"
        )


def _check_lbfgs(model: MLP, options: FitOptions, comm: _distributed.Communicator) -> None:
    """Refuse, before anything is built, what full-batch L-BFGS cannot do."""
    _lbfgs.check_scipy()
    if comm.size > 1:
        raise ValueError(
            "optimizer='lbfgs' trains in one process; distributed=True needs a "
            "stochastic optimizer such as 'adam'"
        )
    if any(model.dropout):
        raise ValueError(
            f"optimizer='lbfgs' cannot train a network with dropout (dropout="
            f"{list(model.dropout)}): its line search needs the same objective at every "
            "evaluation; use dropout=0 or a stochastic optimizer such as 'adam'"
        )
    for callback in options.callbacks:
        if isinstance(callback, Diagnostics):
            raise ValueError(
                "Diagnostics records the steps of the epoch loop, which optimizer='lbfgs' "
                "does not run: use a stochastic optimizer to record them"
            )
        if isinstance(callback, ToleranceStopping) and callback.on_plateau == "reduce":
            raise ValueError(
                "ToleranceStopping(on_plateau='reduce') divides the optimizer's learning "
                "rate, which optimizer='lbfgs' does not have: use on_plateau='stop'"
            )


def _check_log_names(model: MLP, options: FitOptions, validation: bool) -> None:
    """Let callbacks and the schedule that name metrics (a ``monitor``, ModelCheckpoint's
    path) refuse missing ones now, rather than after the first epoch."""
    names = logged_names(model.encoder.is_classifier, validation, lr=not options.lbfgs)
    for callback in options.callbacks:
        callback.check_log_names(names)
    if isinstance(options.schedule, _schedules.ReduceLROnPlateau):
        options.schedule.check_log_names(names)
