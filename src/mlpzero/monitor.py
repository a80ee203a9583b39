r"""The best value so far of a logged metric, and whether an epoch improved on it.

Early stopping, best-only checkpoints and the plateau schedule all ask one question at
the end of an epoch: did the watched metric beat the best value seen so far by more than
``min_delta``? :class:`Monitor` answers it, for all of them, with one rule. For a metric
to minimise, epoch :math:`e` with value :math:`v_e` improves when

.. math:: v_e < b - \delta \quad (\text{to maximise: } v_e > b + \delta),

where :math:`b` is the best value so far and :math:`\delta` = ``min_delta``; the first
finite value always improves, and a NaN or infinite value never does (nor becomes the
best). Metrics whose name contains ``accuracy`` or ``score`` are maximised in
``mode="auto"`` (:meth:`Monitor.maximizes`).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

from .validation import check_non_negative

__all__ = ["TRAINING_LOGS", "Monitor", "missing_metric_hint", "monitored_key"]

#: The metrics training itself logs, each in the fits that have it (``accuracy`` for
#: classifiers, ``val_`` ones with validation data); a callback may log others.
TRAINING_LOGS = frozenset({"loss", "accuracy", "val_loss", "val_accuracy", "lr"})


def missing_metric_hint(name: str, names: Collection[str]) -> str:
    """Why training does not log the metric ``name`` (it logs ``names``), as the end of an
    error message: a ``val_`` metric without validation data, an accuracy of a model that
    is no classifier, the rate of L-BFGS, which has none; ``""`` for another name."""
    if name.startswith("val_") and "val_loss" not in names:
        return " (pass validation_split or validation_data)"
    if name in ("accuracy", "val_accuracy"):
        return " (only classifiers log an accuracy)"
    if name == "lr":
        return " (L-BFGS has no learning rate)"
    return ""


def monitored_key(monitor: str | None, logs: dict[str, float]) -> str:
    """The metric to watch: ``monitor``, or ``val_loss`` if logged and else ``loss``."""
    if monitor is None:
        if "val_loss" in logs:
            return "val_loss"
        if "loss" not in logs:
            raise ValueError(
                f"monitor=None watches 'val_loss' or 'loss', and the logs have neither: "
                f"{sorted(logs)}; name the metric to watch with monitor="
            )
        return "loss"
    if monitor not in logs:
        hint = missing_metric_hint(monitor, logs)
        raise ValueError(
            f"monitor={monitor!r} is not among the logged metrics {sorted(logs)}{hint}"
        )
    return monitor


class Monitor:
    """Tracks the best value of a logged metric (lower is better, unless it is an accuracy
    or a score).

    Parameters
    ----------
    monitor:
        The metric's name in the epoch's logs; ``None`` means ``val_loss`` when it is
        logged, else ``loss`` (see :func:`monitored_key`).
    min_delta:
        The smallest change that counts as an improvement (absolute, ``>= 0``).
    mode:
        ``"min"``, ``"max"``, or ``"auto"``: maximise the metrics whose name contains
        ``accuracy`` or ``score``, minimise the others.

    ``best`` and ``best_epoch`` are the best value so far and the epoch it was reached
    (``None`` until a finite value has been seen), ``best_key`` the metric it is a value
    of; :meth:`reset` forgets them, and so does an epoch that watches another metric (a
    fit with validation data after one without, under ``monitor=None``).

    Examples
    --------
    >>> monitor = Monitor("val_loss", min_delta=0.01, mode="auto")
    >>> [monitor.improved(e, {"val_loss": v}) for e, v in enumerate([0.5, 0.495, 0.4])]
    [True, False, True]
    >>> monitor.best, monitor.best_epoch
    (0.4, 2)
    """

    def __init__(self, monitor: str | None, min_delta: float, mode: str) -> None:
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name or None, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.min_delta = check_non_negative("min_delta", min_delta)
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        """Forget the best value: the next finite value will be an improvement."""
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_key: str | None = None

    def maximizes(self, key: str) -> bool:
        """Whether higher values of the metric ``key`` are better (the one rule of ``mode``)."""
        return self.mode == "max" or (self.mode == "auto" and ("accuracy" in key or "score" in key))

    def improved(self, epoch: int, logs: dict[str, float]) -> bool:
        """Whether this epoch's value beats the best by more than ``min_delta``; records it."""
        key = monitored_key(self.monitor, logs)
        if self.best_key is not None and key != self.best_key:
            # monitor=None watches val_loss in a fit with validation data and loss in one
            # without: a best training loss says nothing about a validation loss.
            self.reset()
        value = float(logs[key])
        maximize = self.maximizes(key)
        if not np.isfinite(value):
            return False
        if self.best is None:
            better = True
        elif maximize:
            better = value > self.best + self.min_delta
        else:
            better = value < self.best - self.min_delta
        if better:
            self.best, self.best_epoch, self.best_key = value, epoch, key
        return better

    def check_log_names(self, names: Collection[str], owner: str) -> None:
        """Refuse, before training, a ``monitor`` that training logs in other fits but not
        in this one (``names``: what it will log), such as ``val_loss`` without validation
        data. A name training never logs may come from a callback: it is looked for at the
        end of the first epoch (:func:`monitored_key`)."""
        if self.monitor in TRAINING_LOGS and self.monitor not in names:
            hint = missing_metric_hint(self.monitor, names)
            raise ValueError(
                f"{owner}: monitor={self.monitor!r} is not among the logged metrics "
                f"{sorted(set(names) & TRAINING_LOGS)}{hint}"
            )

    @property
    def settings(self) -> dict[str, Any]:
        """What the monitor was given: a resumed run must give the same."""
        return {"monitor": self.monitor, "min_delta": self.min_delta, "mode": self.mode}

    def load_best(self, best: Any, best_epoch: Any) -> None:
        """Continue from a saved best value and its epoch (``None`` for none yet). The value
        must be finite, as every value :meth:`improved` records is: an infinite one would
        be beaten by no value in the direction it bounds."""
        best = None if best is None else float(best)
        if best is not None and not math.isfinite(best):
            raise ValueError(f"best must be a finite number or None, got {best}")
        self.best = best
        self.best_epoch = None if best_epoch is None else int(best_epoch)
        self.best_key = None  # that of the run it came from, which the resumed one repeats

    def __repr__(self) -> str:
        return (
            f"Monitor(monitor={self.monitor!r}, min_delta={self.min_delta}, mode={self.mode!r}, "
            f"best={self.best}, best_epoch={self.best_epoch})"
        )
