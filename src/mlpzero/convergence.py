r"""Stopping on a plateau with a tolerance: the rule of scikit-learn's stochastic solvers.

:class:`ToleranceStopping` watches one logged metric. An epoch *counts as progress* when
the metric beats the best value seen before it by at least ``tol``:

.. math:: v_e \le v^{*}_{e-1} - \mathrm{tol} \;\;(\text{mode min}), \qquad
          v_e \ge v^{*}_{e-1} + \mathrm{tol} \;\;(\text{mode max}),

where :math:`v^{*}` is the best value so far, updated on *any* improvement. Progress
resets a counter of epochs without progress; when the counter exceeds ``patience``, the
rule either divides the optimizer's learning rate by ``factor`` and starts counting
again (``on_plateau="reduce"``, until the rate is at most ``min_lr``) or stops training.
A non-finite value is never progress.

It differs from :class:`~mlpzero.callbacks.EarlyStopping` in two ways that scikit-learn's
users rely on: the best value follows every improvement, even one smaller than ``tol``,
and the count must *exceed* ``patience`` (``patience=float("inf")`` never stops).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

from .callbacks import Callback, _refuse_other_settings
from .monitor import Monitor, monitored_key
from .validation import check_non_negative, check_positive

__all__ = ["ToleranceStopping"]


class ToleranceStopping(Callback):
    """Stop (or lower the learning rate) when a metric stalls for ``patience`` epochs.

    Parameters
    ----------
    monitor:
        The logged metric; ``None`` is ``val_loss`` when logged, else ``loss``.
    tol:
        The smallest gain over the best value so far that counts as progress.
    patience:
        Epochs without progress tolerated; one more stops (or reduces). May be ``inf``.
    mode:
        ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies and scores).
    on_plateau:
        ``"stop"`` or ``"reduce"`` (divide ``model.optimizer_.learning_rate`` by
        ``factor``, a number above 1, while it is above ``min_lr``; stop once it is not).
        A ``schedule`` passed to ``fit`` sets the rate at every epoch and so overrides the
        reduction: use ``"reduce"`` without one (or
        :class:`~mlpzero.schedules.ReduceLROnPlateau`).

    Notes
    -----
    After training, ``wait`` is the current count, ``best`` the best value, and
    ``stopped_epoch`` the epoch that stopped training (``None`` if none did). The count
    and the best value carry over between the fits of one model; given to another model,
    the rule starts afresh, as a new one would. A checkpoint
    (``fit(checkpoint=...)``) keeps them through :meth:`state_dict`, so a resumed run
    stops where an uninterrupted one does.
    """

    def __init__(
        self,
        monitor: str | None = None,
        tol: float = 1e-4,
        patience: float = 10,
        mode: str = "auto",
        on_plateau: str = "stop",
        factor: float = 5.0,
        min_lr: float = 1e-6,
    ) -> None:
        if on_plateau not in ("stop", "reduce"):
            raise ValueError(f"on_plateau must be 'stop' or 'reduce', got {on_plateau!r}")
        self._monitor = Monitor(monitor, 0.0, mode)
        self.monitor = monitor
        self.tol = check_non_negative("tol", tol)
        # NumPy's numbers too (a grid search's np.arange gives them), kept as Python's
        if isinstance(patience, bool) or not isinstance(patience, Real) or not patience >= 0:
            raise ValueError(f"patience must be a non-negative number or inf, got {patience!r}")
        self.patience = int(patience) if isinstance(patience, Integral) else float(patience)
        self.on_plateau = on_plateau
        self.factor = check_positive("factor", factor)
        if self.factor <= 1:
            raise ValueError(
                f"factor must be > 1 (the learning rate is divided by it), got {factor!r}"
            )
        self.min_lr = check_non_negative("min_lr", min_lr)
        self.wait = 0
        self.stopped_epoch: int | None = None
        # The model whose fits the count and best value are of (None: no model's yet, or
        # a state loaded to continue from).
        self._watched: Any = None

    def check_log_names(self, names: Collection[str]) -> None:
        self._monitor.check_log_names(names, "ToleranceStopping")

    @property
    def best(self) -> float | None:
        return self._monitor.best

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.stopped_epoch = None
        watched = getattr(self, "_watched", None)
        if watched is not None and watched is not self.model:  # another model's count
            self._monitor.reset()
            self.wait = 0
        self._watched = self.model
        optimizer = getattr(self.model, "optimizer_", None)
        if self.on_plateau == "reduce" and not hasattr(optimizer, "learning_rate"):
            raise ValueError(
                "ToleranceStopping(on_plateau='reduce') divides the optimizer's learning "
                f"rate, and this fit's optimizer has none ({optimizer!r}; L-BFGS, say): "
                "use on_plateau='stop'"
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        key = monitored_key(self.monitor, logs)
        value = float(logs[key])
        # the best of another metric (loss, before a fit with validation data) is forgotten
        before = self._monitor.best if self._monitor.best_key in (None, key) else None
        self._monitor.improved(epoch, logs)
        maximize = self._monitor.maximizes(key)
        if not math.isfinite(value):
            progress = False
        elif before is None:
            progress = True
        elif maximize:
            progress = value >= before + self.tol
        else:
            progress = value <= before - self.tol
        self.wait = 0 if progress else self.wait + 1
        if self.wait <= self.patience:
            return
        optimizer = getattr(self.model, "optimizer_", None)
        if self.on_plateau == "reduce" and optimizer.learning_rate > self.min_lr:
            optimizer.learning_rate /= self.factor
            self.wait = 0
            return
        self.stopped_epoch = epoch
        self.model.stop_training = True

    def state(self) -> dict[str, Any]:
        """The running state, to carry on counting in a later fit."""
        return {"best": self.best, "best_epoch": self._monitor.best_epoch, "wait": self.wait}

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`."""
        wait = int(state["wait"])
        if wait < 0:
            raise ValueError(f"wait must be >= 0, got {wait}")
        self._monitor.load_best(state["best"], state["best_epoch"])
        self.wait = wait
        self._watched = None  # continued by the next fit, whichever model it trains

    @property
    def _settings(self) -> dict[str, Any]:
        patience = self.patience if math.isfinite(self.patience) else "inf"  # JSON has no inf
        return {
            "monitor": self.monitor,
            "mode": self._monitor.mode,
            "tol": self.tol,
            "patience": patience,
            "on_plateau": self.on_plateau,
            "factor": self.factor,
            "min_lr": self.min_lr,
        }

    def state_dict(self) -> dict[str, Any]:
        """The running state, for checkpoints (``fit(checkpoint=...)`` saves it), with
        the settings, which a resumed run must give again."""
        return {"settings": self._settings, **self.state(), "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (``fit(resume=...)`` calls it); other
        settings than the saved ones are refused by name."""
        _refuse_other_settings(type(self).__name__, state.get("settings"), self._settings)
        self.load_state(state)
        stopped = state["stopped_epoch"]
        self.stopped_epoch = None if stopped is None else int(stopped)

    def __repr__(self) -> str:
        return (
            f"ToleranceStopping(monitor={self.monitor!r}, tol={self.tol}, "
            f"patience={self.patience}, on_plateau={self.on_plateau!r})"
        )
