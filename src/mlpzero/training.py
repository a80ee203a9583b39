r"""The training loop: batches, the three steps of gradient descent, history, callbacks.

Each step is the article's: forward propagation, backward propagation, a parameter update
(here by an :class:`~mlpzero.optimizers.Optimizer` over the flat parameter vector). Around
it the loop adds, in this order within a step:

1. forward on the batch (with dropout, if the network has any) and the batch loss;
2. backward: ``grads`` from the loss gradient;
3. the weight penalty (:mod:`mlpzero.regularizers`): its value joins the loss, its
   gradient joins ``grads``;
4. clipping: if :math:`\|g\|_2 >` ``clip_norm``, ``g`` is scaled by
   ``clip_norm / (||g|| + 1e-6)`` (PyTorch's ``clip_grad_norm_``);
5. the optimizer's update, at the learning rate the schedule set for the epoch (without
   a schedule, the optimizer's own ``learning_rate`` is left as it is).

With ``batch_size=None`` (or larger than the data) every step uses all the rows: the
article's full-batch gradient descent, one step per epoch. Otherwise the rows are
reshuffled every epoch from ``rng`` (unless ``shuffle=False``) and cut into batches of
``batch_size``, the last, partial batch included.

The epoch's ``loss`` is the (sample-weighted) mean of the batch losses, each computed on
the forward pass before that batch's update, penalty included: for full batch it is the
article's cost. ``accuracy`` counts the same forward passes' correct predictions
(unweighted). Validation metrics are computed after the epoch's last update, without
dropout; ``val_loss`` includes the penalty too, so the two losses compare.

If the loss or a parameter becomes NaN or infinite, training stops with a
:class:`TrainingDivergedError` and the parameters are put back to those at the start of
the failing epoch, the last known finite ones. Ctrl-C (``KeyboardInterrupt``) stops
training cleanly: the parameters are those at the end of the last completed epoch, the
history holds the completed epochs, ``on_train_end`` callbacks run (so early stopping can
restore its best weights), and :func:`train` returns normally.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import schedules as _schedules
from .callbacks import Callback, History
from .losses import Loss
from .network import Network
from .optimizers import Optimizer
from .regularizers import WeightPenalty
from .validation import check_positive, relative_sample_weight

__all__ = ["TrainingDivergedError", "clip_global_norm", "gather_rows", "train"]


def gather_rows(source: Any, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Rows ``index`` of ``source`` into the reused batch buffer ``out``; returns ``out``.

    ``source`` is an in-memory array (``np.take``, no other copy) or an object with a
    ``take(index, out)`` method, such as the :class:`~mlpzero.preparation.RowSource` of a
    memory-mapped ``X``, which reads only those rows and converts them to ``out``'s dtype.
    """
    if isinstance(source, np.ndarray):
        return np.take(source, index, axis=0, out=out)
    return source.take(index, out)


def _in_memory(source: Any) -> np.ndarray:
    """``source`` as an array: itself, or every row of a row source (full batch only)."""
    if isinstance(source, np.ndarray):
        return source
    out = np.empty(source.shape, dtype=source.dtype)
    return source.take(np.arange(len(source)), out)


class TrainingDivergedError(ValueError):
    """The loss or the parameters became NaN or infinite during training.

    The model keeps the parameters from the start of the failing epoch. ``epoch`` is that
    epoch's number.
    """

    def __init__(self, message: str, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


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
    rng: np.random.Generator,
    model: Any = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    schedule: _schedules.Schedule | str | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    clip_norm: float | None = None,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    shuffle: bool = True,
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
    unset). Progress bars and the article's ``Epoch e: cost = c`` lines are callbacks
    (:class:`mlpzero.progress.ProgressLogger`).
    """
    history = history if history is not None else History()
    trainer = _Trainer(
        network,
        loss,
        optimizer,
        X,
        Y,
        batch_size=batch_size,
        sample_weight=sample_weight,
        rng=rng,
        schedule=None if schedule is None else _schedules.get(schedule),
        penalty=WeightPenalty(network.weight_mask, network.dtype, l2=l2, l1=l1),
        clip_norm=None if clip_norm is None else check_positive("clip_norm", clip_norm),
        validation=validation,
        shuffle=shuffle,
    )
    trainer.run(epochs, history, model, list(callbacks))
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
        penalty: WeightPenalty,
        clip_norm: float | None,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
        shuffle: bool,
    ) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        #: A generator's batches (see _stream_epoch), or None when X holds the rows.
        self.stream = X if hasattr(X, "batches") else None
        if self.stream is not None:
            X = np.empty((0, network.layer_sizes[0]), dtype=network.dtype)
            Y = np.empty((0, network.layer_sizes[-1]), dtype=network.dtype)
        n = X.shape[0]
        self.n = n
        self.batch = n if batch_size is None or batch_size >= n else batch_size
        if self.batch >= n:
            X, Y = _in_memory(X), _in_memory(Y)
        self.X, self.Y = X, Y
        # Divided by the largest first: only ratios matter, and 1e300 or 1e-300 would
        # overflow or vanish in a float32 cast.
        weights = relative_sample_weight(sample_weight)
        self.weights = None if weights is None else weights.astype(network.dtype)
        self.rng, self.schedule, self.penalty = rng, schedule, penalty
        self.clip_norm, self.shuffle = clip_norm, shuffle
        self.dropout = any(network.dropout)
        if self.dropout and network.dropout_rng is None:
            network.dropout_rng = rng
        self.labels = _AccuracyCounter(loss, Y, rows=self.batch)
        self.snapshot = np.empty_like(network.params)
        if self.batch < n:
            self.order = np.arange(n)
            rows = self.batch
            self.batch_X = np.empty((rows, X.shape[1]), dtype=X.dtype)
            self.batch_Y = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
            self.batch_w = None if self.weights is None else np.empty(rows, dtype=X.dtype)
        self.validation = None
        if validation is not None:
            X_val, Y_val, w_val = validation
            w_val = relative_sample_weight(w_val)
            self.validation = (X_val, Y_val, w_val, _AccuracyCounter(loss, Y_val))
            self.val_logits = np.empty((X_val.shape[0], Y.shape[1]), dtype=network.dtype)

    @property
    def x_scale(self) -> float:
        """The largest |X|, for the divergence message (read only then)."""
        X = self.X
        if self.stream is not None:
            return self.stream.largest_magnitude
        if isinstance(X, np.ndarray):  # two passes, no temporary array
            return max(float(X.max()), -float(X.min()))
        return X.largest_magnitude()

    # ------------------------------------------------------------------ the loop
    def run(self, epochs: int, history: History, model: Any, callbacks: list[Callback]) -> None:
        network, optimizer = self.network, self.optimizer
        if model is not None:
            model.stop_training = False
        start = history.epochs
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
                np.copyto(self.snapshot, network.params)
                in_epoch = True
                if self.schedule is not None:
                    initial = optimizer.initial_learning_rate
                    optimizer.learning_rate = self.schedule.learning_rate(epoch, initial)
                lr = optimizer.learning_rate
                for callback in callbacks:
                    callback.on_epoch_begin(epoch)
                # Overflow is expected when training diverges; it is detected just below
                # (and per batch) and reported as TrainingDivergedError, not as warnings.
                with np.errstate(over="ignore", invalid="ignore"):
                    logs = self._epoch(epoch, callbacks)
                    if self.validation is not None:
                        logs.update(self._validate())
                    finite = math.isfinite(logs["loss"]) and np.isfinite(network.params).all()
                logs["lr"] = lr
                if not finite:
                    self._diverged(epoch, logs["loss"])
                history.append(logs)
                in_epoch = False
                if self.schedule is not None:
                    self.schedule.update(epoch, logs)
                for callback in callbacks:
                    callback.on_epoch_end(epoch, logs)
                if model is not None and model.stop_training:
                    break
        except KeyboardInterrupt:
            if in_epoch:
                np.copyto(network.params, self.snapshot)
            print(
                f"Training interrupted during epoch {epoch} (Ctrl-C); the model keeps the "
                f"weights and history of the {history.epochs} completed epochs.",
                file=sys.stderr,
            )
        except BaseException:
            for callback in callbacks:
                close = getattr(callback, "close", None)
                if close is not None:
                    close()
            raise
        last = {key: values[-1] for key, values in history.history.items()}
        for callback in callbacks:
            callback.on_train_end(last if history.epochs else {})

    def _epoch(self, epoch: int, callbacks: list[Callback]) -> dict[str, float]:
        """Run the batches of one epoch; return ``loss`` (and ``accuracy``)."""
        if self.stream is not None:
            return self._stream_epoch(epoch, callbacks)
        if self.batch >= self.n:
            value, hits = self._step(self.X, self.Y, self.weights, self.labels.all)
            if not math.isfinite(value):
                self._diverged(epoch, value)
            for callback in callbacks:
                callback.on_batch_end(0, {"loss": value})
            return self.labels.logs(value, hits, self.n)
        if self.shuffle:
            # Shuffle 0..n-1 afresh, so an epoch's batches depend on the random state
            # alone: a resumed or continued fit then draws the same batches as one run.
            self.order[...] = np.arange(self.n)
            self.rng.shuffle(self.order)
        total = weight_total = 0.0
        hits = seen = 0
        for batch, begin in enumerate(range(0, self.n, self.batch)):
            index = self.order[begin : begin + self.batch]
            rows = len(index)
            xb = gather_rows(self.X, index, self.batch_X[:rows])
            yb = gather_rows(self.Y, index, self.batch_Y[:rows])
            wb = None
            if self.weights is not None:
                wb = np.take(self.weights, index, out=self.batch_w[:rows])
                weight = float(np.sum(wb, dtype=np.float64))
                if weight == 0:
                    continue  # a batch of zero-weight rows carries no gradient
            else:
                weight = float(rows)
            value, batch_hits = self._step(xb, yb, wb, self.labels.take(index))
            if not math.isfinite(value):
                self._diverged(epoch, value)
            total += value * weight
            weight_total += weight
            hits += batch_hits
            seen += rows
            for callback in callbacks:
                callback.on_batch_end(batch, {"loss": value})
        return self.labels.logs(total / weight_total, hits, seen)

    def _stream_epoch(self, epoch: int, callbacks: list[Callback]) -> dict[str, float]:
        """One epoch over the batches a generator yields, in its order and sizes."""
        total = weight_total = 0.0
        hits = seen = 0
        for batch, (xb, yb, wb, weight) in enumerate(self.stream.batches(epoch)):
            if weight == 0:
                continue  # a batch of zero-weight rows carries no gradient
            self.labels = _AccuracyCounter(self.loss, yb)  # buffers for this batch's rows
            value, batch_hits = self._step(xb, yb, wb, self.labels.all)
            if not math.isfinite(value):
                self._diverged(epoch, value)
            total += value * weight
            weight_total += weight
            hits += batch_hits
            seen += len(xb)
            for callback in callbacks:
                callback.on_batch_end(batch, {"loss": value})
        if weight_total == 0:
            raise ValueError(f"every batch of epoch {epoch} had zero sample weight")
        return self.labels.logs(total / weight_total, hits, seen)

    def _step(self, X, Y, weights, labels) -> tuple[float, int]:
        """One update on one batch; the batch loss (with penalty) before it, and the hits."""
        network = self.network
        logits = network.forward(X, training=True) if self.dropout else network.forward(X)
        value = self.loss.value(logits, Y, weights)
        hits = self.labels.hits(logits, labels)
        dlogits = self.loss.gradient(logits, Y, weights, out=network.output_delta())
        network.backward(dlogits)
        if self.penalty.active:
            value += self.penalty.apply(network.params, network.grads)
        if self.clip_norm is not None:
            clip_global_norm(network.grads, self.clip_norm)
        self.optimizer.step(network.params, network.grads)
        return value, hits

    def _validate(self) -> dict[str, float]:
        X_val, Y_val, w_val, labels = self.validation
        out = self.val_logits
        in_memory = isinstance(X_val, np.ndarray)
        step = self.batch or X_val.shape[0]  # a generator's fit has no batch size of its own
        for begin in range(0, X_val.shape[0], step):
            stop = begin + step
            block = X_val[begin:stop] if in_memory else X_val.read(begin, stop)
            out[begin:stop] = self.network.forward(block)
        value = self.loss.value(out, Y_val, w_val)
        if self.penalty.active:
            value += self.penalty.value(self.network.params)
        logs = {"val_loss": value}
        if labels.kind is not None:
            logs["val_accuracy"] = labels.hits(out, labels.all) / X_val.shape[0]
        return logs

    def _diverged(self, epoch: int, value: float) -> None:
        np.copyto(self.network.params, self.snapshot)
        lr = self.optimizer.learning_rate
        what = f"the loss became {value}" if not math.isfinite(value) else "a parameter became"
        if math.isfinite(value):
            what += " NaN or infinite"
        remedies = "clip_norm=1.0, or optimizer='adam'"
        if self.x_scale > _LARGE_FEATURE:
            remedies = (
                f"clip_norm=1.0, optimizer='adam', or standardise X (largest |X| = "
                f"{self.x_scale:.3g}; e.g. subtract each column's mean and divide by its "
                "standard deviation)"
            )
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch}: {what}. The learning rate ({lr:g}) is "
            f"probably too high: try a lower one (e.g. learning_rate={lr / 10:g}), "
            f"{remedies}. The model keeps the parameters from the start of epoch {epoch}, "
            "the last finite ones.",
            epoch,
        )


#: Above this largest |X| the divergence message suggests standardising X: standardised
#: features rarely exceed a few units.
_LARGE_FEATURE = 100.0


def clip_global_norm(grads: np.ndarray, max_norm: float) -> float:
    r"""Scale ``grads`` in place so that :math:`\|g\|_2 \le` ``max_norm``; return the norm
    before clipping. The factor is ``max_norm / (norm + 1e-6)``, applied when below 1."""
    norm = math.sqrt(float(np.dot(grads, grads)))
    factor = max_norm / (norm + 1e-6)
    if factor < 1:
        grads *= grads.dtype.type(factor)
    return norm


class _AccuracyCounter:
    """Counts correct predictions from logits without allocating per batch.

    Binary and multi-label outputs (sigmoid) predict 1 where the logit is > 0, that is
    where the probability is > 0.5; categorical outputs (softmax) predict the arg-max.
    Regression has no accuracy (``kind`` is None).
    """

    def __init__(self, loss: Loss, Y: Any, rows: int | None = None) -> None:
        name = loss.name
        self.kind = {"binary_crossentropy": "threshold", "categorical_crossentropy": "argmax"}.get(
            name
        )
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
        if self.kind is not None:
            logs["accuracy"] = hits / rows
        return logs
