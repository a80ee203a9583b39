"""Callbacks: code that runs at fixed points of training.

Subclass :class:`Callback` and override any of its hooks. ``self.model`` is the
:class:`~mlpzero.model.MLP` being trained; setting ``self.model.stop_training = True``
ends training after the current epoch. ``logs`` holds the metrics known at that point:
``loss`` (and ``accuracy`` for classifiers) on the training data, ``val_loss`` and
``val_accuracy`` when there is validation data, and ``lr``, the learning rate of the epoch
(as it stood after ``on_epoch_begin``, where a callback may set it).

Order of calls in one ``fit``::

    on_train_begin
      on_epoch_begin(e)
        on_batch_end(b, {"loss": ...})   # once per batch
      on_epoch_end(e, logs)              # logs as recorded in the History
    on_train_end(logs of the last epoch)

``on_train_end`` also runs after a stop by a callback and after Ctrl-C; it does not run
when training fails with an error. Epochs are numbered from 0 across repeated ``fit``
calls, as in :attr:`History.epochs`. With ``optimizer="lbfgs"`` SciPy runs the
iterations: each is an epoch whose ``on_epoch_end`` runs after it, and neither
``on_epoch_begin`` nor ``on_batch_end`` is called (see :mod:`mlpzero.lbfgs`).

Provided: :class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`LambdaCallback`,
:class:`Diagnostics` (gradient norms, update sizes, dead and saturated units every few
steps); the :class:`History` of every fit is :attr:`MLP.history`. The live plot for
notebooks, which draws, is :class:`mlpzero.plotting.LivePlot`.
"""

from __future__ import annotations

import inspect
import os
import re
import string
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import diagnostics as _diagnostics
from .history import History
from .io import file_path, make_folder
from .monitor import Monitor, missing_metric_hint
from .snapshot import ParameterSnapshot
from .validation import check_flag, check_int

__all__ = [
    "Callback",
    "Diagnostics",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
    "SettingsChanged",
]


class Callback:
    """Base class: every hook does nothing."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, float] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...

    def check_log_names(self, names: Collection[str]) -> None:
        """Refuse, before the first epoch, settings that name metrics this fit will not
        log (``names``: those it will, ``epoch`` included). Nothing to refuse here."""


def logged_names(accuracy: bool, validation: bool, lr: bool = True) -> set[str]:
    """The names an epoch's logs hold, ``epoch`` included: ``loss``, ``accuracy`` (with
    ``accuracy``, for classifiers), their ``val_`` forms (with ``validation``) and ``lr``
    (without it under L-BFGS, which has no rate). What :meth:`Callback.check_log_names`
    is given before training."""
    names = {"epoch", "loss", "accuracy"} if accuracy else {"epoch", "loss"}
    if validation:
        names.update({"val_loss", "val_accuracy"} if accuracy else {"val_loss"})
    if lr:
        names.add("lr")
    return names


def check_callback_list(callbacks: Sequence[Any]) -> None:
    """Refuse an entry that is not a :class:`Callback` (a plain function), and a callback
    object listed twice: its hooks would run twice an epoch, and a stateful one
    (``EarlyStopping``'s patience) would count every epoch twice."""
    seen: set[int] = set()
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks must be Callback objects, got {type(callback).__name__} {callback!r}"
            )
        if id(callback) in seen:
            raise ValueError(
                f"callbacks: the same {type(callback).__name__} object is listed twice "
                f"({callback!r}); its hooks would run twice an epoch. List it once, or "
                "pass separate objects"
            )
        seen.add(id(callback))


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)`` with
    ``f(epoch, logs)``. Each argument has the signature of the hook it names: ``f(logs)``
    for ``on_train_begin`` and ``on_train_end``, ``f(epoch, logs)`` for the epoch hooks,
    ``f(batch, logs)`` for ``on_batch_end``; the begin hooks get empty logs. A function
    that leaves ``logs`` out (``f()``, ``f(epoch)``) is called without them."""

    #: The arguments of each hook, ``logs`` last.
    _ARGUMENTS: ClassVar[dict[str, tuple[str, ...]]] = {
        "on_train_begin": ("logs",),
        "on_train_end": ("logs",),
        "on_epoch_begin": ("epoch", "logs"),
        "on_epoch_end": ("epoch", "logs"),
        "on_batch_end": ("batch", "logs"),
    }

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        unknown = set(hooks) - set(self._ARGUMENTS)
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {sorted(unknown)}")
        self._hooks: dict[str, tuple[Callable[..., Any], bool]] = {}
        for name, function in hooks.items():
            if not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {function!r}")
            self._hooks[name] = (function, _takes_logs(name, function, self._ARGUMENTS[name]))

    def _call(self, name: str, *args: Any, logs: dict[str, float] | None) -> None:
        hook = self._hooks.get(name)
        if hook is None:
            return
        function, takes_logs = hook
        if takes_logs:
            function(*args, {} if logs is None else logs)
        else:
            function(*args)

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._call("on_epoch_end", epoch, logs=logs)

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self._call("on_batch_end", batch, logs=logs)


def _takes_logs(name: str, function: Callable[..., Any], arguments: tuple[str, ...]) -> bool:
    """Whether ``function`` takes a hook's arguments with ``logs`` (True) or without;
    refuse one that takes neither. A function whose signature Python cannot read (some
    built-ins) is given ``logs``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return True
    for count, takes_logs in ((len(arguments), True), (len(arguments) - 1, False)):
        try:
            signature.bind(*range(count))
        except TypeError:
            continue
        return takes_logs
    raise TypeError(
        f"LambdaCallback: {name} must take ({', '.join(arguments)}), or the same without "
        f"logs; got {getattr(function, '__name__', function)!r}{signature}"
    )


class EarlyStopping(Callback):
    """Stop training when a metric has stopped improving.

    Parameters
    ----------
    monitor:
        The metric to watch; ``None`` means ``val_loss`` when there is validation data,
        else ``loss``. Metrics whose name contains ``accuracy`` or ``score`` are maximised.
    patience:
        Stop after this many epochs in a row without improvement (0 or 1: at the first).
    min_delta:
        The smallest change that counts as an improvement.
    restore_best_weights:
        At the end of training (stopped early, finished, or interrupted with Ctrl-C),
        put back the parameters of the best epoch, exactly: those at its end. A
        validation metric is measured on them; a training metric (``loss``,
        ``accuracy``) is measured while the epoch trains, on the parameters before each
        step (in full-batch training, before the epoch's one step), so the restored
        parameters are one epoch's steps past those it scored.
    mode:
        ``"auto"``, ``"min"`` or ``"max"``.

    Notes
    -----
    After training, ``best``, ``best_epoch`` and ``stopped_epoch`` (``None`` if it did not
    stop training) describe what happened.
    """

    def __init__(
        self,
        monitor: str | None = None,
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        mode: str = "auto",
    ) -> None:
        self._monitor = Monitor(monitor, min_delta, mode)
        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = self._monitor.min_delta
        self.restore_best_weights = check_flag("restore_best_weights", restore_best_weights)
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_weights = ParameterSnapshot()

    @property
    def best(self) -> float | None:
        return self._monitor.best

    def check_log_names(self, names: Collection[str]) -> None:
        self._monitor.check_log_names(names, "EarlyStopping")

    @property
    def best_epoch(self) -> int | None:
        return self._monitor.best_epoch

    @property
    def best_weights(self) -> np.ndarray | None:
        """The parameters of the best epoch (kept with ``restore_best_weights`` only)."""
        return self._best_weights.values

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._monitor.reset()
        self.wait = 0
        self.stopped_epoch = None
        self._best_weights.clear()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self._monitor.improved(epoch, logs or {}):
            self.wait = 0
            if self.restore_best_weights:
                self._best_weights.take(self.model.network.params)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.restore_best_weights and self._best_weights.taken:
            self._best_weights.restore(self.model.network.params)

    @property
    def _settings(self) -> dict[str, Any]:
        return {
            **self._monitor.settings,
            "patience": self.patience,
            "restore_best_weights": self.restore_best_weights,
        }

    def state_dict(self) -> dict[str, Any]:
        """The running state, for checkpoints (``fit(checkpoint=...)`` saves it), with
        the settings, which a resumed run must give again."""
        return {
            "settings": self._settings,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": None if self.best_weights is None else self.best_weights.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (``fit(resume=...)`` calls it); other
        settings than the saved ones are refused by name."""
        _refuse_other_settings(type(self).__name__, state.get("settings"), self._settings)
        best, best_epoch = state["best"], state["best_epoch"]
        wait, stopped = int(state["wait"]), state["stopped_epoch"]
        weights = state["best_weights"]
        if wait < 0:
            raise ValueError(f"wait must be >= 0, got {wait}")
        if weights is not None:
            weights = np.asarray(weights)
            if weights.ndim != 1 or weights.dtype.kind != "f" or not np.isfinite(weights).all():
                raise ValueError("best_weights must be a flat vector of finite floats")
            params = getattr(getattr(self.model, "network", None), "params", None)
            if params is not None and (
                weights.shape != params.shape or weights.dtype != params.dtype
            ):
                raise ValueError(
                    f"best_weights has shape {weights.shape} and dtype {weights.dtype}, but "
                    f"the model's parameters have shape {params.shape} and dtype {params.dtype}"
                )
        self._monitor.load_best(best, best_epoch)
        self.wait = wait
        self.stopped_epoch = None if stopped is None else int(stopped)
        self._best_weights = ParameterSnapshot(weights)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, restore_best_weights={self.restore_best_weights})"
        )


class SettingsChanged(ValueError):
    """A callback given other settings than those of the run it is to continue."""


def _refuse_other_settings(name: str, saved: dict[str, Any] | None, given: dict[str, Any]) -> None:
    """Refuse to continue a callback's saved state under other settings (``saved`` is
    None in checkpoints written before the settings were kept)."""
    if saved is None:
        return
    for key, value in given.items():
        if key in saved and saved[key] != value:
            raise SettingsChanged(
                f"{name}({key}={value!r}) differs from the interrupted run's "
                f"{key}={saved[key]!r}; give the same settings to resume"
            )


class ModelCheckpoint(Callback):
    """Save the model at the end of epochs, atomically.

    ``path`` may hold ``{epoch}`` (1-based) and the names of the logs (``loss``,
    ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``), e.g.
    ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``; any other placeholder is refused here.
    With ``save_best_only=True`` the file is written only when the monitored metric (see
    :class:`EarlyStopping`) improves, and holds the parameters at the end of that epoch
    (for a training metric, one epoch's steps past those it scored). The file is a model
    file written atomically by :meth:`MLP.save <mlpzero.model.MLP.save>` (load it with
    :func:`mlpzero.load`), so an interrupted run never leaves a half-written checkpoint.
    ``fit`` refuses, before training, a path (without placeholders) that names an existing
    file other than a model file (the data, say), a path or pattern that could name the
    file of its ``checkpoint`` or ``resume`` (each placeholder taken to stand for any
    text), and the file or the pattern of another ``ModelCheckpoint`` of the same fit.
    ``last_saved`` is the path of the last file written. The best value is kept
    across ``fit`` calls of one model, so continued training never replaces a better
    checkpoint with a worse one; given to another model, the callback starts afresh (no
    best value, ``last_saved`` None), as a new one would.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str | None = None,
        save_best_only: bool = False,
        min_delta: float = 0.0,
        mode: str = "auto",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or path-like, got {type(path).__name__}")
        self.path = os.fspath(path)
        file_path(self.path, "ModelCheckpoint: path")  # the empty one, or a NUL: known now too
        if self.path.endswith(("/", os.sep)):  # known now, not after an epoch's training
            raise ValueError(
                f"ModelCheckpoint: path {self.path!r} names a folder, not a file; name the "
                "file in it, such as 'model-{epoch}.npz'"
            )
        if "{" in self.path:
            _check_name_pattern(self.path)
        self.save_best_only = check_flag("save_best_only", save_best_only)
        self._monitor = Monitor(monitor, min_delta, mode)
        self.last_saved: str | None = None
        # The model whose best value the monitor holds (None: no model's yet, or a state
        # loaded to continue from).
        self._watched: Any = None

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        watched = getattr(self, "_watched", None)
        if watched is not None and watched is not self.model:  # another model's best
            self._monitor.reset()
            self.last_saved = None
        self._watched = self.model

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only and not self._monitor.improved(epoch, logs):
            return
        try:
            path = self.path.format(epoch=epoch + 1, **logs) if "{" in self.path else self.path
        except KeyError as error:
            raise ValueError(self._missing(error.args[0], ["epoch", *logs])) from None
        make_folder(Path(path).parent, f"ModelCheckpoint: cannot save to {path!r}")
        self.model.save(path)
        self.last_saved = path

    @property
    def _settings(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "save_best_only": self.save_best_only,
            **self._monitor.settings,
        }

    def state_dict(self) -> dict[str, Any]:
        """The best value so far, for checkpoints: a resumed run never replaces a better
        file with a worse one. A resumed run must give the same settings."""
        return {
            "settings": self._settings,
            "best": self._monitor.best,
            "best_epoch": self._monitor.best_epoch,
            "last_saved": self.last_saved,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (``fit(resume=...)`` calls it)."""
        _refuse_other_settings(type(self).__name__, state.get("settings"), self._settings)
        self._monitor.load_best(state["best"], state["best_epoch"])
        last = state.get("last_saved")
        self.last_saved = None if last is None else str(last)
        self._watched = None  # continued by the next fit, whichever model it trains

    def check_log_names(self, names: Collection[str]) -> None:
        """Refuse a path naming a metric that training will not log (``names``: those it
        will, ``epoch`` included), such as ``{val_loss}`` without validation data, and so
        a ``monitor`` of ``save_best_only``."""
        if self.save_best_only:
            self._monitor.check_log_names(names, "ModelCheckpoint")
        if "{" not in self.path:
            return
        for _, field_name, _, _ in string.Formatter().parse(self.path):
            key = None if field_name is None else re.split(r"[.\[]", field_name, maxsplit=1)[0]
            if key and key not in names:
                raise ValueError(self._missing(key, sorted(names)))

    def _missing(self, key: str, names: Collection[str]) -> str:
        hint = missing_metric_hint(key, names)
        return (
            f"ModelCheckpoint: path {self.path!r} names {{{key}}}, which this training does "
            f"not log{hint}; it logs {', '.join(names)}"
        )

    def __repr__(self) -> str:
        return f"ModelCheckpoint(path={self.path!r}, save_best_only={self.save_best_only})"


class Diagnostics(Callback):
    """Record :func:`mlpzero.diagnostics.measure` into the history every ``every`` steps.

    A step is one batch and its update. Steps are counted from 1 over every ``fit`` this
    callback sees, and steps ``1, 1 + every, 1 + 2 every, ...`` are recorded, each as one
    entry of :attr:`History.diagnostics <mlpzero.history.History.diagnostics>`:
    ``step``, ``epoch``, and the lists ``gradient_norm`` and ``update_ratio`` (one value
    per layer), ``dead_relu`` and ``saturated`` (one per hidden layer; NaN where the
    layer's activation does not apply). Plot them with
    :func:`mlpzero.plotting.plot_diagnostics`.

    Everything is read from the step that just ran: its forward pass's cache (dropout
    masks not applied), the gradient the optimizer used (with the penalty and clipping),
    and the parameters before and after the update. No extra pass runs; the one cost
    besides the norms is a copy of the parameters before each recorded step. In a
    distributed fit the gradient and the parameters are the whole batch's, the same on
    every rank, but ``dead_relu`` and ``saturated`` are of the rank's own share of the
    batch's rows (NaN for a share with no rows, as with ``batch_size`` below the number
    of ranks). Neither a model file nor a checkpoint keeps the records (see
    :mod:`mlpzero.history`), nor this callback's step count: a fit resumed with a new
    ``Diagnostics`` records its own steps, counted from 1 again.

    Parameters
    ----------
    every:
        Record one step in ``every`` (1: every step).
    threshold:
        The saturation threshold of :func:`~mlpzero.diagnostics.saturated_shares`.
    history:
        Where to record; by default the history of the model being trained (in each
        ``fit``, so a callback reused on another model records into that model's).
    """

    _history_given = False  # unpickled from an older version: record into the model's

    def __init__(
        self, every: int = 10, threshold: float = 0.99, history: History | None = None
    ) -> None:
        self.every = check_int("every", every, minimum=1)
        number = (int, float, np.integer, np.floating)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, number)
            or not 0 < threshold < 1
        ):
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        self.threshold = float(threshold)
        if history is not None and not isinstance(history, History):
            raise TypeError(f"history must be a History or None, got {type(history).__name__}")
        self.history = history
        self._history_given = history is not None
        self.steps = 0
        self._epoch = 0
        self._before: np.ndarray | None = None

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        if getattr(self.model, "network", None) is None:
            raise ValueError(
                f"Diagnostics needs the model being trained (with a network), got {self.model!r}"
            )
        if not self._history_given:  # each fit's model: the callback may be reused
            history = getattr(self.model, "history", None)
            if not isinstance(history, History):
                raise ValueError(
                    "Diagnostics: the model has no History to record into; pass history="
                )
            self.history = history
        self._keep_if_recorded(self.steps + 1)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self.steps += 1
        if self._before is not None and self._recorded(self.steps):
            network = self.model.network
            record: dict[str, float | list[float]] = {"step": self.steps, "epoch": self._epoch}
            record.update(_diagnostics.measure(network, self._before, self.threshold))
            self.history.append_diagnostics(record)
        self._keep_if_recorded(self.steps + 1)

    def _recorded(self, step: int) -> bool:
        return (step - 1) % self.every == 0

    def _keep_if_recorded(self, step: int) -> None:
        """Copy the parameters now if the next step is one to record."""
        if not self._recorded(step):
            return
        params = self.model.network.params
        if self._before is None or self._before.shape != params.shape:
            self._before = np.empty(params.shape, dtype=np.float64)
        np.copyto(self._before, params)

    def __repr__(self) -> str:
        return f"Diagnostics(every={self.every}, threshold={self.threshold})"


#: The names a checkpoint path may hold: the epoch and every key of an epoch's logs.
_PATH_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")


def _check_name_pattern(path: str) -> None:
    """Fill ``path`` with sample values, so a bad pattern fails now, not after an epoch."""
    try:
        path.format(epoch=1, **dict.fromkeys(_PATH_FIELDS[1:], 0.5))
    except KeyError as error:
        raise ValueError(
            f"ModelCheckpoint: path {path!r} has the unknown placeholder {{{error.args[0]}}}; "
            f"known: {', '.join(_PATH_FIELDS)}"
        ) from None
    except (IndexError, ValueError, AttributeError, TypeError) as error:
        raise ValueError(
            f"ModelCheckpoint: path {path!r} is not a valid name pattern: {error}"
        ) from None
