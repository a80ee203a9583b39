r"""The training loop: batches, the three steps of gradient descent, history, callbacks.

Each step is the article's: forward propagation, backward propagation, a parameter update
(here by an :class:`~mlpzero.optimizers.Optimizer` over the flat parameter vector). Around
it the loop adds, in this order within a step:

1. forward on the batch (with dropout, if the network has any) and the batch loss;
2. backward: ``grads`` from the loss gradient;
3. the weight penalty (:mod:`mlpzero.regularizers`): its value joins the loss, its
   gradient joins ``grads``;
4. clipping: if :math:`\|g\|_2 >` ``clip_norm``, ``g`` is scaled by
   ``clip_norm / (||g|| + 1e-6)``, the factor of PyTorch's ``clip_grad_norm_`` (which
   also applies it to a norm within ``1e-6`` below the bound; here such a ``g`` is kept);
5. the optimizer's update, at the learning rate the schedule set for the epoch (without
   a schedule, the optimizer's own ``learning_rate`` is left as it is).

With ``batch_size=None`` (or larger than the data) every step uses all the rows: the
article's full-batch gradient descent, one step per epoch. Otherwise the rows are
reshuffled every epoch from ``rng`` (unless ``shuffle=False``) and cut into batches of
``batch_size``, the last, partial batch included.

The epoch's ``loss`` is the (sample-weighted) mean of the batch losses, each computed on
the forward pass before that batch's update, penalty included: for full batch it is the
article's cost. ``accuracy`` counts the same forward passes' correct predictions
(unweighted; a mini-batch whose sample weights are all 0 trains nothing and is skipped,
so its rows are not counted). Validation metrics are computed after the epoch's last update, without
dropout; ``val_loss`` is weighted by the validation rows' sample weights and includes the
penalty too, so the two losses compare, while ``val_accuracy``, like ``accuracy``, counts
every row alike (:meth:`MLP.evaluate <mlpzero.model.MLP.evaluate>` weights its accuracy).

If the loss or a parameter becomes NaN or infinite, training stops with a
:class:`TrainingDivergedError` and the parameters are put back to those at the start of
the failing epoch, the last known finite ones. Ctrl-C (``KeyboardInterrupt``) stops
training cleanly: the parameters are those at the end of the last completed epoch, the
history holds the completed epochs and says it was interrupted (``history.interrupted``),
``on_train_end`` callbacks run (so early stopping can restore its best weights), and
:func:`train` returns normally. Any other exception
raised during an epoch (by a callback, or a per-sample penalty beyond the dtype) also
puts back the parameters of the last completed epoch before it propagates. In all three
cases the optimizer's state (step count, momentum, moments) goes back with them, so that
a fit continued with the same optimizer object starts from a finite, consistent state;
the random state keeps the draws of the epoch left unfinished.

With the numba backend, a fit that is the article's training and nothing more (see
``_Trainer._plain_full_batch``) runs many epochs per compiled call, with the same
history and weights; Ctrl-C is then seen between calls, and the epochs of the call it
interrupts count as not completed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import distributed as _distributed
from . import kernels as _kernels
from . import schedules as _schedules
from .callbacks import Callback
from .history import History
from .losses import LOGIT_LIMIT, BinaryCrossEntropy, Loss
from .network import Network
from .optimizers import SGD, Adam, Optimizer, RMSprop
from .progress import write_line
from .regularizers import PenaltyRangeError, WeightPenalty
from .snapshot import OptimizerSnapshot, ParameterSnapshot
from .validation import check_positive, dense_rows, relative_sample_weight, warn_vanished_weights

__all__ = [
    "TrainingDivergedError",
    "check_clip_norm_range",
    "clip_global_norm",
    "compiled_call_epochs",
    "gather_rows",
    "train",
]


def gather_rows(source: Any, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Rows ``index`` of ``source`` into the reused batch buffer ``out``; returns ``out``.

    ``source`` is an in-memory array (``np.take``, no other copy) or an object with a
    ``take(index, out)`` method, such as the :class:`~mlpzero.preparation.RowSource` of a
    memory-mapped ``X``, which reads only those rows and converts them to ``out``'s dtype.
    """
    if isinstance(source, np.ndarray):
        return np.take(source, index, axis=0, out=out)
    return source.take(index, out)


def _read_rows(source: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of an array (a view) or of a row source (read and converted)."""
    if isinstance(source, np.ndarray):
        return source[start:stop]
    return source.read(start, stop)


def _in_memory(source: Any) -> np.ndarray:
    """``source`` as an array: itself, or every row of a row source (full batch only)."""
    return _rows_in_memory(source, 0, len(source))


def _rows_in_memory(source: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of an array (a view) or of a row source (those rows alone,
    read into a new array): a distributed full-batch rank holds its share only."""
    if isinstance(source, np.ndarray):
        return source[start:stop]
    out = np.empty((stop - start, source.shape[1]), dtype=source.dtype)
    return source.take(np.arange(start, stop), out)


class TrainingDivergedError(ValueError):
    """The loss or the parameters became NaN or infinite during training, or the
    optimizer's average of squared gradients overflowed (``overflowed_state`` names it).

    The model keeps the parameters from the start of the failing epoch. ``epoch`` is that
    epoch's number.
    """

    def __init__(self, message: str, epoch: int, overflowed_state: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.overflowed_state = tuple(overflowed_state)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with both arguments: a worker process (joblib, Dask) sends it back whole.
        return type(self), (str(self), self.epoch), self.__dict__


#: A function that sets an epoch's row order, given as ``shuffle``: called before each
#: epoch with the previous epoch's order (``0..n-1`` before the first), an int array it
#: must permute in place (returning None). With one batch (full-batch training) it is
#: called all the same, so that any random draws it makes stay in step, but the rows are
#: used as they stand: one batch's mean does not depend on their order.
RowOrder = Callable[[np.ndarray], None]


def _check_permutation(order: np.ndarray) -> None:
    """Refuse an epoch order that is not a permutation of ``0..n-1`` (rows would be
    skipped or trained on twice without a word)."""
    n = order.shape[0]
    in_range = order.size == 0 or (order.min() >= 0 and order.max() < n)
    if not in_range or not np.bincount(order, minlength=n).all():
        raise ValueError(
            f"shuffle: the row order function must leave a permutation of 0..{n - 1} in "
            "the array it is given; it left repeated or out-of-range rows"
        )


def train(
    network: Network,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int,
    batch_size: int | None = None,
    sample_weight: np.ndarray | None = None,
    weight_scale: float = 1.0,
    rng: np.random.Generator,
    model: Any = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    schedule: _schedules.Schedule | str | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    penalty_per_sample: bool = False,
    clip_norm: float | None = None,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    shuffle: bool | RowOrder = True,
    communicator: _distributed.Communicator = _distributed.LOCAL,
) -> History:
    """Train ``network`` in place and return the :class:`History` of per-epoch metrics.

    ``X`` is ``(m, n_0)`` and ``Y`` is ``(m, n_L)``, both already in the network's dtype;
    ``validation`` is ``(X_val, Y_val, weights_or_None)`` in the same form. ``X``, ``Y``
    and ``X_val`` may also be row sources with ``shape``, ``dtype`` and
    ``take(index, out)`` (see :func:`gather_rows`): the batches are then read from them,
    and only full-batch training (``batch_size=None``) holds every row in memory. ``X`` may
    instead be a :class:`~mlpzero.preparation.BatchStream` (``Y`` None): each epoch is
    then the batches it yields, in its order.

    ``rng`` drives the shuffling (and the dropout masks, if ``network.dropout_rng`` is
    unset); ``shuffle`` may instead be a :data:`RowOrder` that sets each epoch's order.
    Progress bars and the article's ``Epoch e: cost = c`` lines are callbacks
    (:class:`mlpzero.progress.ProgressLogger`).

    ``l2`` and ``l1`` weigh the penalties of :class:`~mlpzero.regularizers.WeightPenalty`;
    with ``penalty_per_sample`` they are divided by each batch's total sample weight,
    ``sample_weight`` times ``weight_scale`` (the caller's weights, when ``sample_weight``
    was made relative), and ``val_loss`` takes them for the mean weight of an epoch's
    batches.

    ``communicator`` (:mod:`mlpzero.distributed`) makes this one rank of a data-parallel
    fit: each step computes the gradient of this rank's share of the global batch and sums
    it over the ranks; the epoch's metrics are summed over the ranks too. If the loop
    cannot be set up on some rank, every rank raises the same
    :class:`~mlpzero.distributed.DistributedFitError` naming it.
    """
    history = history if history is not None else History()
    made: list[_Trainer] = []
    single_class = predicts_one_class(model)

    def make() -> None:  # the loop's buffers, and a full batch's share of the rows
        made.append(
            _Trainer(
                network,
                loss,
                optimizer,
                X,
                Y,
                batch_size=batch_size,
                sample_weight=sample_weight,
                weight_scale=weight_scale,
                rng=rng,
                schedule=None if schedule is None else _schedules.get(schedule),
                penalty=WeightPenalty(
                    network.weight_mask, network.dtype, l2=l2, l1=l1, per_sample=penalty_per_sample
                ),
                clip_norm=None if clip_norm is None else check_positive("clip_norm", clip_norm),
                validation=validation,
                shuffle=shuffle,
                comm=communicator,
                single_class=single_class,
            )
        )

    # Built on every rank or on none: a rank that cannot (no memory for its share, a
    # read error) must not leave the others waiting in the first step's sum.
    if communicator.size == 1:
        make()
    else:
        _distributed.gathered(communicator, make, "set up its training loop")
    trainer = made[0]
    # An error on one rank only ends the job; divergence is decided on summed values, and
    # a batch's penalty coefficient on the whole batch's weight, which every rank knows.
    collective = (TrainingDivergedError, PenaltyRangeError)
    with _distributed.errors_end_the_job(communicator, collective):
        trainer.run(epochs, history, model, list(callbacks))
        if communicator.size > 1:  # return once rank 0's last writes (on_train_end) are done
            communicator.allreduce_sum(np.zeros(1))
    return history


class _Trainer:
    """One call of :func:`train`: the buffers for its batch size, and the epoch loop."""

    def __init__(
        self,
        network: Network,
        loss: Loss,
        optimizer: Optimizer,
        X: np.ndarray,
        Y: np.ndarray,
        *,
        batch_size: int | None,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
        schedule: _schedules.Schedule | None,
        weight_scale: float = 1.0,
        penalty: WeightPenalty,
        clip_norm: float | None,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
        shuffle: bool | RowOrder,
        comm: _distributed.Communicator = _distributed.LOCAL,
        single_class: bool = False,
    ) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.comm = comm
        self.single_class = single_class  # see AccuracyCounter
        #: A generator's batches (see _stream_epoch), or None when X holds the rows.
        self.stream = X if hasattr(X, "batches") else None
        if self.stream is not None and comm.size > 1:
            raise ValueError(
                "distributed training takes arrays (memory-mapped ones too), not a batch "
                "generator, whose batches the ranks cannot share out"
            )
        if self.stream is not None:
            X = np.empty((0, network.layer_sizes[0]), dtype=network.dtype)
            Y = np.empty((0, network.layer_sizes[-1]), dtype=network.dtype)
        n = X.shape[0]
        self.n = n
        self.batch = n if batch_size is None or batch_size >= n else batch_size
        if self.batch >= n and comm.size == 1:
            X, Y = _in_memory(X), _in_memory(Y)
        self.X, self.Y = X, Y
        # Divided by the largest first: only ratios matter, and 1e300 or 1e-300 would
        # overflow or vanish in a float32 cast.
        weights = relative_sample_weight(sample_weight)
        self.weights = None if weights is None else weights.astype(network.dtype)
        if weights is not None:
            warn_vanished_weights(weights, self.weights)
        #: Relative weights times this are the caller's weights.
        self.weight_unit = weight_scale
        if weights is not None:
            self.weight_unit *= float(np.max(sample_weight))
        #: The total sample weight of every row, in the caller's units.
        self.total_weight = float(n) if weights is None else _sum(self.weights) * self.weight_unit
        #: The mean weight of an epoch's batches, for the per-sample penalty of ``val_loss``.
        self.mean_batch_weight = self.total_weight / math.ceil(n / self.batch) if n else 1.0
        self.rng, self.schedule, self.penalty = rng, schedule, penalty
        self.clip_norm, self.shuffle = clip_norm, shuffle
        self.dropout = any(network.dropout)
        if self.dropout and network.dropout_rng is None:
            network.dropout_rng = rng
        self.labels = AccuracyCounter(loss, Y, rows=self.batch, single_class=single_class)
        self.snapshot = ParameterSnapshot()
        self.snapshot.take(network.params)  # its buffer, allocated before the first epoch
        self.optimizer_snapshot = OptimizerSnapshot()
        self.optimizer_snapshot.take(optimizer)
        if self.batch < n or callable(shuffle):
            self.order = np.arange(n)
        if self.batch < n:
            rows = self.batch
            self.batch_X = np.empty((rows, X.shape[1]), dtype=X.dtype)
            self.batch_Y = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
            self.batch_w = None if self.weights is None else np.empty(rows, self.weights.dtype)
        self.validation = None
        if validation is not None:
            X_val, Y_val, w_val = validation
            w_val = relative_sample_weight(w_val)
            val_labels = AccuracyCounter(loss, Y_val, single_class=single_class)
            self.validation = (X_val, Y_val, w_val, val_labels)
            # Targets encoded a batch at a time (many classes) are validated a batch at a
            # time too: the outputs of every row would take as much memory as their one-hot
            # matrix. Otherwise the loss is taken over all the rows (each rank's, if
            # distributed) at once.
            whole = isinstance(Y_val, np.ndarray)
            block = min(self.batch or network.chunk_rows, network.chunk_rows)
            self.val_block = X_val.shape[0] if whole else min(X_val.shape[0], block)
            self.val_logits = np.empty((self.val_block, Y.shape[1]), dtype=network.dtype)
            self.val_targets = None if whole else np.empty_like(self.val_logits)
        if comm.size > 1 and self.batch >= n:  # distributed full batch: a fixed share
            begin, end = _distributed.share(n, comm.rank, comm.size)
            w = None if self.weights is None else self.weights[begin:end]
            mine, total = (end - begin, n) if w is None else (_sum(w), _sum(self.weights))
            labels = None if self.labels.all is None else self.labels.all[begin:end]
            X_mine, Y_mine = _rows_in_memory(X, begin, end), _rows_in_memory(Y, begin, end)
            self.full_share = (X_mine, Y_mine, w, labels, mine / total, mine)

    @property
    def x_scale(self) -> float:
        """The largest |X|, for the divergence message (read only then).

        Distributed, each rank reads its share of the rows and the ranks exchange their
        largest values (divergence stops every rank at the same step, so all take part).
        """
        X = self.X
        if self.stream is not None:
            return self.stream.largest_magnitude
        if self.comm.size > 1:
            begin, end = _distributed.share(self.n, self.comm.rank, self.comm.size)
            step = max(1, _SCALE_ROWS // max(1, X.shape[1]))
            mine = 0.0
            for start in range(begin, end, step):
                block = _read_rows(X, start, min(start + step, end))
                mine = max(mine, float(np.abs(block).max()))
            return max(self.comm.allgather(mine))
        if isinstance(X, np.ndarray):  # two passes, no temporary array
            return max(float(X.max()), -float(X.min()))
        return X.largest_magnitude()

    # ------------------------------------------------------------------ the loop
    def run(self, epochs: int, history: History, model: Any, callbacks: list[Callback]) -> None:
        network, optimizer = self.network, self.optimizer
        if model is not None:
            model.stop_training = False
        history.interrupted = False
        start = history.epochs
        if not callbacks and self._plain_full_batch() and self._run_compiled(epochs, history):
            return
        if self.schedule is not None:
            self.schedule.on_train_begin(start + epochs)
        for callback in callbacks:
            callback.set_model(model)
        in_epoch = False
        epoch = start
        try:
            for callback in callbacks:
                callback.on_train_begin()
            for epoch in range(start, start + epochs):
                self.snapshot.take(network.params)
                self.optimizer_snapshot.take(optimizer)
                in_epoch = True
                if self.schedule is not None:
                    initial = optimizer.initial_learning_rate
                    optimizer.learning_rate = self.schedule.checked_rate(epoch, initial)
                for callback in callbacks:
                    callback.on_epoch_begin(epoch)
                lr = optimizer.learning_rate  # after the hooks, which may set it
                # Overflow is expected when training diverges; it is detected just below
                # (and per batch) and reported as TrainingDivergedError, not as warnings.
                with np.errstate(over="ignore", invalid="ignore"):
                    logs = self._epoch(epoch, callbacks)
                    if self.validation is not None:
                        logs.update(self._validate())
                    finite = math.isfinite(logs["loss"]) and np.isfinite(network.params).all()
                    overflowed = optimizer.overflowed_state()
                logs["lr"] = lr
                if not finite:
                    self._diverged(epoch, logs["loss"])
                if overflowed:
                    self._state_overflowed(epoch, overflowed)
                history.append(logs)
                in_epoch = False
                if self.schedule is not None:
                    self.schedule.update(epoch, logs)
                for callback in callbacks:
                    callback.on_epoch_end(epoch, logs)
                if self.comm.size > 1 and model is not None:  # one rank's stop stops all
                    model.stop_training = _distributed.any_rank(self.comm, model.stop_training)
                if model is not None and model.stop_training:
                    break
        except KeyboardInterrupt:
            if self.comm.size > 1:  # the other ranks cannot know: end the job
                raise
            if in_epoch:
                self._undo_epoch()
                forget_epochs(history, epoch)
            report_interrupted(history)
        except BaseException:
            if in_epoch:  # as after an interrupt: back to the end of the last whole epoch
                self._undo_epoch()
                forget_epochs(history, epoch)
            close_callbacks(callbacks)
            raise
        last = history.last_epoch()
        for callback in callbacks:
            callback.on_train_end(last)

    def _plain_full_batch(self) -> bool:
        """Whether this fit is the article's training and nothing more: every row in one
        batch, binary cross-entropy (without ``epsilon``: the compiled loop reports the
        exact loss), gradient descent without momentum or decay, and nothing that must
        look at an epoch from Python (schedule, penalty, clipping, validation, a row-order
        function, sample weights, another rank)."""
        optimizer = self.optimizer
        return (
            self.stream is None
            and self.comm.size == 1
            and self.batch >= self.n
            and not callable(self.shuffle)
            and self.weights is None
            and self.schedule is None
            and not self.penalty.active
            and self.clip_norm is None
            and self.validation is None
            and type(self.network) is Network  # a subclass may change the passes
            and type(self.loss) is BinaryCrossEntropy
            and self.loss.epsilon == 0
            and type(optimizer) is SGD
            and optimizer.momentum == 0
            and optimizer.weight_decay == 0
        )

    def _run_compiled(self, epochs: int, history: History) -> bool:
        """Every epoch of a :meth:`_plain_full_batch` fit in compiled calls
        (:func:`mlpzero.kernels.fit_epochs`) of many epochs each, with the history and
        divergence of the epoch loop. False, having done nothing, where the kernels do not
        apply (the caller then runs the epoch loop).

        Ctrl-C is seen between calls (at most :data:`_COMPILED_CALL_EPOCHS` epochs and
        about :data:`_COMPILED_CALL_WORK` multiply-adds apart): the model goes back to the
        start of the call it interrupts, whose epochs are dropped, as the loop drops the
        epoch it interrupts.
        """
        network, optimizer = self.network, self.optimizer
        plan = network.kernel_plan
        if plan is None:
            return False
        per_call = max(1, min(epochs, compiled_call_epochs(network, self.n)))
        totals, hits = _loss_record(per_call), np.empty(per_call, dtype=np.int64)
        start_of_step = np.empty_like(network.params)
        lr = optimizer.learning_rate
        end = history.epochs + epochs
        # Where Ctrl-C takes the model back to: the parameters at the start of a call (one
        # of two buffers, filled before the one assignment that makes it current), the
        # history's length and the step count then. Wherever it lands, the three agree.
        starts = (network.params.copy(), np.empty_like(network.params))
        mark = (starts[0], history.epochs, optimizer.iterations)
        try:
            while history.epochs < end:
                free = starts[1] if mark[0] is starts[0] else starts[0]
                np.copyto(free, network.params)
                mark = (free, history.epochs, optimizer.iterations)
                count = min(per_call, end - history.epochs)
                done = _kernels.fit_epochs(
                    network, self.X, self.Y, lr, count, totals, hits, start_of_step, LOGIT_LIMIT
                )
                if done is None:
                    return False  # decided by the first call: nothing has changed yet
                optimizer.iterations += min(done + 1, count)  # a failing step was taken
                for e in range(done):
                    logs = self.labels.logs(totals[e] / self.n, int(hits[e]), self.n)
                    logs["lr"] = lr
                    history.append(logs)
                if done < count:  # the start of the failing epoch, its one step undone
                    self.snapshot.take(start_of_step)
                    optimizer.iterations = mark[2] + done
                    self.optimizer_snapshot.take(optimizer)
                    self._diverged(mark[1] + done, float(totals[done] / self.n))
        except KeyboardInterrupt:
            params, completed, optimizer.iterations = mark
            np.copyto(network.params, params)
            for values in history.history.values():
                del values[completed:]
            report_interrupted(history)
        return True

    def _epoch(self, epoch: int, callbacks: list[Callback]) -> dict[str, float]:
        """Run the batches of one epoch; return ``loss`` (and ``accuracy``)."""
        if self.stream is not None:
            return self._stream_epoch(epoch, callbacks)
        if self.batch >= self.n and self.comm.size > 1:
            X, Y, w, labels, fraction, weight = self.full_share
            value, hits = self._step(X, Y, w, labels, fraction, self.total_weight)
            if not math.isfinite(value):
                self._diverged(epoch, value)
            shown = self._whole_batch_value(value, weight)
            for callback in callbacks:
                callback.on_batch_end(0, self._batch_logs(shown))
            return self._summed_logs(value * weight, weight, hits, len(X))
        if self.batch >= self.n:
            if callable(self.shuffle):  # called all the same (one batch's sum has no order)
                self._reorder()
            value, hits = self._step(
                self.X, self.Y, self.weights, self.labels.all, batch_weight=self.total_weight
            )
            if not math.isfinite(value):
                self._diverged(epoch, value)
            for callback in callbacks:
                callback.on_batch_end(0, self._batch_logs(value))
            return self.labels.logs(value, hits, self.n)
        if callable(self.shuffle):
            self._reorder()
        elif self.shuffle:
            # Shuffle 0..n-1 afresh, so an epoch's batches depend on the random state
            # alone: a resumed or continued fit then draws the same batches as one run.
            self.order[...] = np.arange(self.n)
            self.rng.shuffle(self.order)
        total = weight_total = 0.0
        hits = seen = 0
        for batch, begin in enumerate(range(0, self.n, self.batch)):
            index = self.order[begin : begin + self.batch]
            batch_weight = self._batch_weight(index) if self.penalty.per_sample else 1.0
            fraction = 1.0
            if self.comm.size > 1:  # distributed: this rank's share of the global batch
                index, fraction = self._share(index)
                if fraction is None:
                    continue  # the whole batch weighs nothing, on every rank
            rows = len(index)
            xb = gather_rows(self.X, index, self.batch_X[:rows])
            yb = gather_rows(self.Y, index, self.batch_Y[:rows])
            wb = None
            if self.weights is not None:
                wb = np.take(self.weights, index, out=self.batch_w[:rows])
                weight = float(np.sum(wb, dtype=np.float64))
                if weight == 0 and self.comm.size == 1:
                    continue  # a batch of zero-weight rows carries no gradient
            else:
                weight = float(rows)
            value, batch_hits = self._step(
                xb, yb, wb, self.labels.take(index), fraction, batch_weight
            )
            if not math.isfinite(value):
                self._diverged(epoch, value)
            total += value * weight
            weight_total += weight
            hits += batch_hits
            seen += rows
            shown = self._whole_batch_value(value, weight)
            for callback in callbacks:
                callback.on_batch_end(batch, self._batch_logs(shown))
        if self.comm.size > 1:
            return self._summed_logs(total, weight_total, hits, seen)
        return self.labels.logs(total / weight_total, hits, seen)

    def _reorder(self) -> None:
        """Let the row-order function (``shuffle``) permute :attr:`order`, and check it did."""
        returned = self.shuffle(self.order)
        if returned is not None:
            raise TypeError(
                "shuffle: the row order function must permute the array it is given in "
                f"place and return None; it returned {type(returned).__name__}"
            )
        _check_permutation(self.order)

    def _stream_epoch(self, epoch: int, callbacks: list[Callback]) -> dict[str, float]:
        """One epoch over the batches a generator yields, in its order and sizes."""
        # The sums are kept in units of the largest batch weight ``unit`` so far (rescaled
        # when a larger one comes): the batches' weights in the caller's units may overflow
        # them, or be subnormal.
        total = weight_total = unit = 0.0
        hits = seen = batches = 0
        for batch, (xb, yb, wb, mass, batch_unit) in enumerate(self.stream.batches(epoch)):
            batches += 1
            if mass == 0:
                continue  # a batch of zero-weight rows carries no gradient
            # buffers for this batch's rows
            self.labels = AccuracyCounter(self.loss, yb, single_class=self.single_class)
            value, batch_hits = self._step(
                xb, yb, wb, self.labels.all, batch_weight=mass * batch_unit
            )
            if not math.isfinite(value):
                self._diverged(epoch, value)
            if batch_unit > unit:
                rescale = unit / batch_unit
                total, weight_total, unit = total * rescale, weight_total * rescale, batch_unit
            share = mass * (batch_unit / unit)
            total += value * share
            weight_total += share
            hits += batch_hits
            seen += len(xb)
            for callback in callbacks:
                callback.on_batch_end(batch, self._batch_logs(value))
        if weight_total == 0:
            raise ValueError(f"every batch of epoch {epoch} had zero sample weight")
        self.mean_batch_weight = weight_total / batches * unit
        return self.labels.logs(total / weight_total, hits, seen)

    def _step(self, X, Y, weights, labels, fraction=1.0, batch_weight=1.0) -> tuple[float, int]:
        """One update on one batch; the batch loss (with penalty) before it, and the hits.

        ``batch_weight`` is the whole batch's total sample weight, for a per-sample
        penalty; the penalty added is kept in :attr:`batch_penalty`. Distributed, ``X`` is
        this rank's share of the batch and ``fraction`` its part of the batch's weight (0
        for a share with no rows or no weight): the share's mean-loss gradient times
        ``fraction``, summed over the ranks, is the gradient of the whole batch's mean
        loss.
        """
        network = self.network
        if fraction:
            logits = network.forward(X, training=True) if self.dropout else network.forward(X)
            hits = self.labels.hits(logits, labels)
            value, dlogits = self.loss.value_and_gradient(
                logits, Y, weights, out=network.output_delta()
            )
            if fraction != 1:
                dlogits *= dlogits.dtype.type(fraction)
            network.backward(dlogits)
        else:  # distributed: a share that adds nothing to the sum still takes part in it
            value, hits = 0.0, 0
            if X.shape[0]:
                logits = network.forward(X, training=True) if self.dropout else network.forward(X)
                hits = self.labels.hits(logits, labels)
            else:  # a pass of no rows: what reads the last pass (Diagnostics) sees this share
                network.forward(X)
            network.grads.fill(0)
        if self.comm.size > 1:  # distributed: the gradient's sum over the ranks
            value = _distributed.sum_gradient(self.comm, network.grads, value)
        if self.penalty.active:
            self.batch_penalty = self.penalty.apply(network.params, network.grads, batch_weight)
            value += self.batch_penalty
        if self.clip_norm is not None:
            clip_global_norm(network.grads, self.clip_norm)
        self.optimizer.step(network.params, network.grads)
        return value, hits

    def _whole_batch_value(self, value: float, weight: float) -> float:
        """The batch's loss over every rank's share, from this rank's ``value`` (the loss of
        its share, of total sample weight ``weight``): :math:`\\sum_r w_r v_r / \\sum_r w_r`.
        Every rank of a distributed fit asks, whatever its callbacks, so the batch logs are
        the same on every rank; one process: ``value``."""
        if self.comm.size == 1:
            return value
        sums = self.comm.allreduce_sum(np.array([value * weight, weight], dtype=np.float64))
        return float(sums[0] / sums[1]) if sums[1] > 0 else value

    def _batch_logs(self, value: float) -> dict[str, float]:
        """A batch's logs: its ``loss`` and, with a penalty, the ``penalty`` it includes."""
        if self.penalty.active:
            return {"loss": value, "penalty": self.batch_penalty}
        return {"loss": value}

    def _batch_weight(self, index: np.ndarray) -> float:
        """The total sample weight of the rows ``index`` (of the whole batch, on every
        rank), in the caller's units: its number of rows without weights."""
        if self.weights is None:
            return float(len(index))
        return _sum(self.weights[index]) * self.weight_unit

    def _share(self, index: np.ndarray) -> tuple[np.ndarray, float | None]:
        """This rank's contiguous share of a global batch's rows, and its fraction of the
        batch's weight (of its rows, unweighted); ``None`` if the batch weighs nothing."""
        begin, end = _distributed.share(len(index), self.comm.rank, self.comm.size)
        if self.weights is None:
            return index[begin:end], (end - begin) / len(index)
        total = _sum(self.weights[index])
        if total == 0:
            return index[begin:end], None
        return index[begin:end], _sum(self.weights[index[begin:end]]) / total

    def _summed_logs(self, total: float, weight: float, hits: int, rows: int) -> dict[str, float]:
        """The epoch's ``loss`` (and ``accuracy``) from the sums over every rank."""
        sums = self.comm.allreduce_sum(np.array([total, weight, hits, rows], dtype=np.float64))
        return self.labels.logs(float(sums[0] / sums[1]), int(sums[2]), int(sums[3]))

    def _validate(self) -> dict[str, float]:
        X_val, Y_val, w_val, labels = self.validation
        n = X_val.shape[0]
        if self.comm.size == 1 and self.val_targets is None:
            out = self._validation_logits(0, n)
            value = self.loss.value(out, Y_val, w_val)
            hits = 0 if labels.kind is None else labels.hits(out, labels.all)
        else:  # distributed, or by blocks: each rank's share, a block at a time, summed
            begin, end = _distributed.share(n, self.comm.rank, self.comm.size)
            total, weight, hits = 0.0, 0.0, 0
            for start in range(begin, end, self.val_block):
                stop = min(start + self.val_block, end)
                out = self._validation_logits(start, stop)
                w = None if w_val is None else w_val[start:stop]
                mass = float(stop - start) if w is None else _sum(w)
                if mass:
                    Y = dense_rows(Y_val, start, stop, out.dtype, self.val_targets)
                    total += self.loss.value(out, Y, w) * mass
                    weight += mass
                if labels.kind is not None:
                    hits += labels.hits(out, labels.all[start:stop])
            sums = self.comm.allreduce_sum(np.array([total, weight, hits], dtype=np.float64))
            value, hits = float(sums[0] / sums[1]), int(sums[2])
        if self.penalty.active:
            value += self.penalty.value(self.network.params, self.mean_batch_weight)
        logs = {"val_loss": value}
        if labels.kind is not None:
            logs["val_accuracy"] = hits / n
        return logs

    def _validation_logits(self, start: int, stop: int) -> np.ndarray:
        """The logits of validation rows ``start:stop`` (at most ``val_block`` of them),
        computed a batch at a time into :attr:`val_logits`."""
        X_val = self.validation[0]
        out = self.val_logits[: stop - start]
        step = self.batch  # a generator's fit has none: rows read from a file or made
        if not step:  # dense (a row source) go a block at a time, an array in one pass
            step = X_val.shape[0] if isinstance(X_val, np.ndarray) else self.network.chunk_rows
        for begin in range(start, stop, step):
            end = min(begin + step, stop)
            out[begin - start : end - start] = self.network.forward(_read_rows(X_val, begin, end))
        return out

    def _undo_epoch(self) -> None:
        """Put the parameters and the optimizer's state back to the start of the epoch."""
        self.snapshot.restore(self.network.params)
        self.optimizer_snapshot.restore(self.optimizer)

    def _diverged(self, epoch: int, value: float) -> None:
        self._undo_epoch()
        lr = self.optimizer.learning_rate
        what = f"the loss became {value}" if not math.isfinite(value) else "a parameter became"
        if math.isfinite(value):
            what += " NaN or infinite"
        # Adam and RMSprop already scale each step by the gradient's size.
        remedies = ["clip_norm=1.0"]
        if not isinstance(self.optimizer, (Adam, RMSprop)):
            remedies.append("optimizer='adam'")
        remedies += self._scaling_remedies()
        remedies[-1] = ("or " if len(remedies) > 1 else "") + remedies[-1]
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch}: {what}. The learning rate ({lr:g}) is "
            f"probably too high: try a lower one (e.g. learning_rate={lr / 10:g}), "
            f"{', '.join(remedies)}. The model keeps the parameters from the start of "
            f"epoch {epoch}, the last finite ones.",
            epoch,
        )

    def _state_overflowed(self, epoch: int, names: list[str]) -> None:
        """Stop a fit whose optimizer's squared-gradient average overflowed, though the
        loss and the parameters are finite: the parameters it scales would stop moving."""
        self._undo_epoch()
        dtype = self.network.dtype
        remedies = [*self._scaling_remedies(), "clip_norm=1.0"]
        if dtype != np.float64:
            remedies.append("MLP(dtype='float64')")
        remedies[-1] = ("or " if len(remedies) > 1 else "") + remedies[-1]
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch}: the optimizer's {', '.join(names)} "
            f"overflowed {dtype.name}. The squares of gradients larger than "
            f"{math.sqrt(np.finfo(dtype).max):.2g} are beyond its range, and the parameters "
            f"they scale would no longer move. Try: {', '.join(remedies)}. The model keeps the "
            f"parameters from the start of epoch {epoch}.",
            epoch,
            names,
        )

    def _scaling_remedies(self) -> list[str]:
        """Standardising X, where its largest value suggests it. A network with an input
        transform (``MLP(standardize=True)``) already sees standardised X."""
        if self.network.input_transform is not None or self.x_scale <= _LARGE_FEATURE:
            return []
        return [
            f"standardise X (largest |X| = {self.x_scale:.3g}; MLP(standardize=True) "
            "subtracts each column's mean and divides by its standard deviation)"
        ]


#: Multiply-adds of forward passes per compiled call of :meth:`_Trainer._run_compiled`
#: and of :func:`mlpzero.tutorial.multi_layer_neural_network`, and most epochs per call
#: (each has a fixed cost besides): enough epochs to make the call's own cost vanish, few
#: enough that Ctrl-C is seen within about a tenth of a second.
_COMPILED_CALL_WORK = 200_000_000
_COMPILED_CALL_EPOCHS = 10_000


def compiled_call_epochs(network: Network, n_rows: int) -> int:
    """How many full-batch epochs on ``n_rows`` rows one compiled call may run, so that
    Ctrl-C is seen between calls: at most :data:`_COMPILED_CALL_EPOCHS`, and about
    :data:`_COMPILED_CALL_WORK` multiply-adds (``n_rows`` times the network's per row),
    at least one."""
    plan = network.kernel_plan
    work = n_rows * (plan.work_per_row if plan is not None else 1)
    return max(1, min(_COMPILED_CALL_EPOCHS, _COMPILED_CALL_WORK // max(1, work)))


def _loss_record(epochs: int) -> np.ndarray:
    """Room for ``epochs`` loss totals: float64 whatever the model's dtype, as every loss
    value mlpzero reports (:mod:`mlpzero.losses`)."""
    return np.empty(epochs, dtype=np.float64)


def close_callbacks(callbacks: Sequence[Callback]) -> None:
    """Call ``close()`` on the callbacks that have one (a progress bar), for a run that
    ends by an error, whose ``on_train_end`` does not run."""
    for callback in callbacks:
        close = getattr(callback, "close", None)
        if close is not None:
            close()


def forget_epochs(history: History, epoch: int) -> None:
    """Drop what ``history`` holds from epoch ``epoch`` on, whose weights were undone: Ctrl-C
    may land after the epoch's metrics were recorded (or while they were, leaving some lists
    one longer than others) and before the epoch counted as complete."""
    for values in history.history.values():
        del values[epoch:]


def report_interrupted(history: History) -> None:
    """Mark ``history`` as that of a run Ctrl-C stopped, and say how many epochs it kept."""
    history.interrupted = True
    write_line(
        f"Training interrupted (Ctrl-C) after {history.epochs} completed epochs; the model "
        "keeps their weights and history."
    )


#: Values read at a time when a rank looks for its share's largest |X|.
_SCALE_ROWS = 1 << 20

#: Above this largest |X| the divergence message suggests standardising X: standardised
#: features rarely exceed a few units.
_LARGE_FEATURE = 100.0


def _sum(weights: np.ndarray) -> float:
    return float(np.sum(weights, dtype=np.float64))


def check_clip_norm_range(clip_norm: float | None, dtype: Any) -> None:
    """Refuse a ``clip_norm`` below the smallest normal number of ``dtype``, the
    gradients': the factor that scales them to it would be 0 there, and every step too."""
    tiny = float(np.finfo(dtype).tiny)
    if clip_norm is not None and clip_norm < tiny:
        raise ValueError(
            f"clip_norm={clip_norm!r} is below the smallest normal {np.dtype(dtype).name} "
            f"number ({tiny:.3g}, the parameters' dtype): every gradient would be clipped to 0"
        )


def clip_global_norm(grads: np.ndarray, max_norm: float) -> float:
    r"""Scale ``grads`` in place so that :math:`\|g\|_2 \le` ``max_norm``; return the norm
    before clipping. A gradient whose norm exceeds ``max_norm`` is scaled by
    ``max_norm / (norm + 1e-6)``; one within it is left as it is, also where that factor
    would be below 1 (a norm within ``1e-6`` of ``max_norm``, or a ``max_norm`` near 1e-6).

    The sum of squares is taken in ``grads``' dtype, where it overflows before the norm
    does (float32: from :math:`\|g\| \approx 1.8 \times 10^{19}`). Then the norm is taken
    from :math:`s = g / \max|g|`, as :math:`\max|g| \cdot \|s\|_2`, and ``grads`` becomes
    :math:`s \cdot` ``max_norm`` :math:`/ \|s\|_2` (the ``1e-6`` vanishes beside such a
    norm); an infinite factor would otherwise zero every gradient and stop training
    without a word. Gradients that hold NaN or infinity are left to the divergence check.
    """
    norm = math.sqrt(float(np.dot(grads, grads)))
    if math.isinf(norm):
        largest = float(np.max(np.abs(grads)))
        if math.isfinite(largest):  # one temporary, only where the squares overflowed
            scaled = grads / grads.dtype.type(largest)
            scaled_norm = math.sqrt(float(np.dot(scaled, scaled)))  # between 1 and sqrt(n)
            norm = largest * scaled_norm
            if max_norm < norm:
                np.multiply(scaled, grads.dtype.type(max_norm / scaled_norm), out=grads)
            return norm
    if norm > max_norm:
        grads *= grads.dtype.type(max_norm / (norm + 1e-6))
    return norm


class AccuracyCounter:
    """Counts correct predictions from logits without allocating per batch.

    Binary and multi-label outputs (sigmoid) predict 1 where the logit is > 0, that is
    where the probability is > 0.5; categorical outputs (softmax) predict the arg-max.
    Regression has no accuracy (``kind`` is None). A binary model whose training saw a
    single class (``single_class``, :func:`predicts_one_class`) predicts that class for
    every row, as ``MLP.predict`` does, whatever its logit: every row counts as right.
    """

    def __init__(
        self, loss: Loss, Y: Any, rows: int | None = None, single_class: bool = False
    ) -> None:
        name = loss.name
        self.kind = {"binary_crossentropy": "threshold", "categorical_crossentropy": "argmax"}.get(
            name
        )
        self.single_class = single_class and self.kind == "threshold"
        # Buffers for the largest batch; the labels for every row of Y (an encoded
        # targets object gives its own, without building Y).
        rows = Y.shape[0] if rows is None else rows
        outputs = Y.shape[1]
        stored = isinstance(Y, np.ndarray)
        if self.kind == "argmax":
            self.all = np.argmax(Y, axis=1) if stored else Y.labels()
            self._pred = np.empty(rows, dtype=self.all.dtype)
            self._taken = np.empty(rows, dtype=self.all.dtype)
        elif self.kind == "threshold":
            self.all = Y > 0.5 if stored else Y.labels()
            self._pred = np.empty((rows, outputs), dtype=bool)
            self._taken = np.empty((rows, outputs), dtype=bool)
        else:
            self.all = None
        self._equal = np.empty(rows, dtype=bool)

    def take(self, index: np.ndarray) -> np.ndarray | None:
        if self.all is None:
            return None
        return np.take(self.all, index, axis=0, out=self._taken[: len(index)])

    def hits(self, logits: np.ndarray, labels: np.ndarray | None) -> int:
        if self.kind is None:
            return 0
        rows = logits.shape[0]
        if self.single_class:
            return rows
        pred = self._pred[:rows]
        if self.kind == "argmax":
            np.argmax(logits, axis=1, out=pred)
            return int(np.count_nonzero(np.equal(pred, labels, out=self._equal[:rows])))
        np.greater(logits, 0, out=pred)
        np.equal(pred, labels, out=pred)
        if pred.shape[1] == 1:
            return int(np.count_nonzero(pred))
        return int(np.count_nonzero(np.all(pred, axis=1, out=self._equal[:rows])))

    def logs(self, loss: float, hits: int, rows: int) -> dict[str, float]:
        logs = {"loss": loss}
        if self.kind is not None:  # the compiled full-batch epochs count hits on their own
            logs["accuracy"] = 1.0 if self.single_class else hits / rows
        return logs


def predicts_one_class(model: Any) -> bool:
    """Whether ``model`` (an :class:`~mlpzero.MLP`, or None) is a binary classifier whose
    training saw a single class: it predicts that class for every row."""
    encoder = getattr(model, "encoder", None)
    return (
        encoder is not None
        and encoder.task == "binary"
        and encoder.classes_ is not None
        and len(encoder.classes_) == 1
    )
