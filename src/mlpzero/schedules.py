r"""Learning-rate schedules: the learning rate of each epoch.

A schedule maps the epoch number ``e`` (0 for a model's first epoch, counted across
repeated ``fit`` calls, as in :attr:`History.epochs`) and the optimizer's initial rate
:math:`\gamma_0` to the rate used during that epoch. The training loop sets
``optimizer.learning_rate`` from it at the start of every epoch and records it in the
history under ``lr``.

===================  =================================================================
``constant``         :math:`\gamma_0`
``step``             :math:`\gamma_0 \cdot \text{gamma}^{\lfloor e / \text{step\_size} \rfloor}`
``exponential``      :math:`\gamma_0 \cdot \text{gamma}^{e}`
``cosine``           linear warm-up :math:`\gamma_0 (e + 1) / W` for :math:`e < W`, then
                     :math:`\gamma_{min} + (\gamma_0 - \gamma_{min}) (1 + \cos \pi p) / 2`,
                     :math:`p = \min(1, (e - W) / (T - W))`
``inverse_scaling``  :math:`\gamma_0 / (1 + r e)^p` (``rate`` :math:`r`, ``power`` :math:`p`)
``plateau``          :math:`\min(\gamma_0, \max(\gamma_0 \cdot \text{factor}^{k}, \gamma_{min}))`
                     (``min_lr`` :math:`\gamma_{min}`), with ``k`` the number of reductions
                     so far: one each time the monitored metric has not improved for more
                     than ``patience`` epochs
===================  =================================================================

``get(name_or_object_or_config)`` accepts a name (``"cosine"``), a :class:`Schedule`, or
a ``config`` dict (``{"name": "step", "step_size": 50}``). ``None`` means constant.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Real
from typing import Any, ClassVar

from .monitor import Monitor, monitored_key
from .registry import resolve
from .validation import check_int, check_non_negative, check_positive

__all__ = [
    "SCHEDULES",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "InverseScaling",
    "ReduceLROnPlateau",
    "Schedule",
    "StepDecay",
    "get",
    "monitored_key",
]


class Schedule:
    """Base class: :meth:`learning_rate` gives the rate of an epoch.

    Schedules that react to metrics (:class:`ReduceLROnPlateau`) also implement
    :meth:`update`, called with the epoch's logs at its end.
    """

    name: ClassVar[str] = "schedule"

    def learning_rate(self, epoch: int, initial: float) -> float:
        """The learning rate for ``epoch`` (0-based) given the initial rate."""
        raise NotImplementedError

    def checked_rate(self, epoch: int, initial: float) -> float:
        """:meth:`learning_rate`, refused by name unless it is a finite number ``>= 0``:
        what the training loop uses. A negative rate would climb the loss without a word,
        and a growing decay (``gamma > 1``) can pass the largest float."""
        try:
            rate = self.learning_rate(epoch, initial)
        except OverflowError:  # Python's float power: gamma ** epoch beyond the floats
            rate = math.inf
        return check_non_negative(
            f"the learning rate {type(self).__name__} gave for epoch {epoch}", rate
        )

    def on_train_begin(self, end_epoch: int) -> None:
        """Called by the training loop with the epoch number at which this fit will end."""

    def check_fit(self, end_epoch: int, initial: float) -> None:
        """Refuse, before training (``MLP.fit`` calls it before the model changes), a fit
        ending at ``end_epoch`` from the initial rate ``initial`` that this schedule cannot
        serve; the loop would refuse it at its start. Nothing to refuse here."""

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        """Called at the end of each epoch with its metrics; most schedules ignore it."""

    @property
    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def state_dict(self) -> dict[str, Any]:
        """Config plus any running state (JSON-safe), for checkpoints."""
        return {"config": self.config, "state": {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the running state saved by :meth:`state_dict`."""

    def __call__(self, epoch: int, initial: float) -> float:
        return self.learning_rate(epoch, initial)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The initial rate at every epoch."""

    name = "constant"

    def learning_rate(self, epoch: int, initial: float) -> float:
        return initial


class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\gamma_0 \cdot \text{gamma}^{\lfloor e / \text{step\_size} \rfloor}`."""

    name = "step"

    def __init__(self, step_size: int = 100, gamma: float = 0.1) -> None:
        self.step_size = check_int("step_size", step_size)
        self.gamma = check_positive("gamma", gamma)

    def learning_rate(self, epoch: int, initial: float) -> float:
        return initial * self.gamma ** (epoch // self.step_size)

    @property
    def config(self) -> dict[str, Any]:
        return {"name": self.name, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every epoch: :math:`\gamma_0 \cdot \text{gamma}^e`."""

    name = "exponential"

    def __init__(self, gamma: float = 0.99) -> None:
        self.gamma = check_positive("gamma", gamma)

    def learning_rate(self, epoch: int, initial: float) -> float:
        return initial * self.gamma**epoch

    @property
    def config(self) -> dict[str, Any]:
        return {"name": self.name, "gamma": self.gamma}


class InverseScaling(Schedule):
    r"""Decay as an inverse power of time: :math:`\gamma_0 / (1 + r e)^p`.

    ``power`` :math:`p` sets how fast the rate falls and ``rate`` :math:`r` how many time
    units an epoch counts for: ``rate=n_samples`` measures time in samples seen, which is
    scikit-learn's ``learning_rate="invscaling"`` (with ``power=power_t``).
    """

    name = "inverse_scaling"

    def __init__(self, power: float = 0.5, rate: float = 1.0) -> None:
        self.power = check_non_negative("power", power)
        self.rate = check_non_negative("rate", rate)

    def learning_rate(self, epoch: int, initial: float) -> float:
        try:
            return initial / (1.0 + self.rate * epoch) ** self.power
        except OverflowError:  # a denominator beyond the floats: the rate rounds to 0
            return 0.0

    @property
    def config(self) -> dict[str, Any]:
        return {"name": self.name, "power": self.power, "rate": self.rate}


class CosineDecay(Schedule):
    r"""Half a cosine from the initial rate down to ``min_lr``, after an optional warm-up.

    For ``e < warmup_epochs`` (:math:`W`) the rate rises linearly,
    :math:`\gamma_0 (e + 1) / W`, reaching :math:`\gamma_0` at epoch :math:`W - 1`. Then
    :math:`\gamma_{min} + (\gamma_0 - \gamma_{min}) (1 + \cos \pi p) / 2` with
    :math:`p = \min(1, (e - W) / (T - W))`: :math:`\gamma_0` at epoch :math:`W`,
    ``min_lr`` from epoch :math:`T` = ``total_epochs`` on. ``total_epochs=None`` takes
    the epoch at which the current ``fit`` ends.
    """

    name = "cosine"

    def __init__(
        self, total_epochs: int | None = None, min_lr: float = 0.0, warmup_epochs: int = 0
    ) -> None:
        self.total_epochs = check_int("total_epochs", total_epochs, allow_none=True)
        self.min_lr = check_non_negative("min_lr", min_lr)
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        if self.total_epochs is not None and self.warmup_epochs >= self.total_epochs:
            raise ValueError(
                f"warmup_epochs ({warmup_epochs}) must be less than total_epochs ({total_epochs})"
            )
        self._end = self.total_epochs

    def on_train_begin(self, end_epoch: int) -> None:
        if self.total_epochs is None:
            self._check_end(end_epoch)
            self._end = end_epoch

    def check_fit(self, end_epoch: int, initial: float) -> None:
        if self.total_epochs is None:
            self._check_end(end_epoch)
        self._check_initial(initial)

    def _check_end(self, end_epoch: int) -> None:
        if self.warmup_epochs >= end_epoch:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be less than the epoch this "
                f"fit ends at ({end_epoch}, as total_epochs is None): the fit would end "
                "before the cosine begins"
            )

    def _check_initial(self, initial: float) -> None:
        if self.min_lr > initial:
            raise ValueError(
                f"min_lr ({self.min_lr:g}) is above the initial learning rate ({initial:g}): "
                "the cosine would rise to it instead of decaying"
            )

    def learning_rate(self, epoch: int, initial: float) -> float:
        self._check_initial(initial)
        warmup = self.warmup_epochs
        if epoch < warmup:
            return initial * (epoch + 1) / warmup
        end = self._end if self._end is not None else epoch + 1
        span = max(end - warmup, 1)
        progress = min(1.0, (epoch - warmup) / span)
        return self.min_lr + (initial - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2

    @property
    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_epochs": self.total_epochs,
            "min_lr": self.min_lr,
            "warmup_epochs": self.warmup_epochs,
        }


class ReduceLROnPlateau(Schedule):
    r"""Divide the rate when a metric stops improving.

    At the end of each epoch the monitored metric (``monitor``; ``None`` means
    ``val_loss`` when there is validation data, else ``loss``) is compared with the best
    value so far by a :class:`~mlpzero.monitor.Monitor`: it improves when it is lower by
    more than ``min_delta`` (higher, for metrics whose name contains ``accuracy`` or
    ``score``). After more than ``patience`` epochs without improvement the rate is
    multiplied by ``factor`` (never below ``min_lr``), and no further reduction happens
    for ``cooldown`` epochs:

    .. math:: \gamma_e = \min\big(\gamma_0,
              \max(\gamma_0 \cdot \text{factor}^{k}, \gamma_{min})\big)

    after ``k`` reductions. A reduction only ever lowers the rate: with ``min_lr`` above
    the initial rate :math:`\gamma_0`, the rate stays :math:`\gamma_0`. Defaults are
    PyTorch's, with ``min_delta`` absolute.
    """

    name = "plateau"

    def __init__(
        self,
        monitor: str | None = None,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        self.monitor = monitor
        self.factor = check_positive("factor", factor)
        if self.factor >= 1:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        self.patience = check_int("patience", patience, minimum=0)
        self._monitor = Monitor(monitor, min_delta, "auto")
        self.min_delta = self._monitor.min_delta
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_non_negative("min_lr", min_lr)
        self.reductions = 0
        self.wait = 0
        self.cooldown_left = 0

    @property
    def best(self) -> float | None:
        """The best value of the monitored metric so far (``None`` before the first)."""
        return self._monitor.best

    def check_log_names(self, names: Collection[str]) -> None:
        """Refuse, before the first epoch, a ``monitor`` this fit will not log (``names``:
        what training logs, ``epoch`` included). The schedule reads an epoch's logs before
        the callbacks' ``on_epoch_end``, so a metric that a callback adds there never
        reaches it: unlike a callback's ``monitor``, only training's own metrics serve."""
        self._monitor.check_log_names(names, "ReduceLROnPlateau")
        logged = set(names) - {"epoch"}  # a placeholder of ModelCheckpoint's, not a log
        if self.monitor is not None and self.monitor not in logged:
            raise ValueError(
                f"ReduceLROnPlateau: monitor={self.monitor!r} is not among the metrics "
                f"training logs {sorted(logged)}; the schedule reads an epoch's logs before "
                "the callbacks' on_epoch_end, so it cannot watch a metric a callback adds"
            )

    def learning_rate(self, epoch: int, initial: float) -> float:
        # The floor stops reductions; it never raises the rate above the initial one.
        return min(initial, max(initial * self.factor**self.reductions, self.min_lr))

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        if self._monitor.improved(epoch, logs):
            self.wait = 0
        else:
            self.wait += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.wait > self.patience:
            self.reductions += 1
            self.wait = 0
            self.cooldown_left = self.cooldown

    @property
    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "cooldown": self.cooldown,
            "min_lr": self.min_lr,
        }

    def state_dict(self) -> dict[str, Any]:
        state = {
            "reductions": self.reductions,
            "best": self.best,
            "wait": self.wait,
            "cooldown_left": self.cooldown_left,
        }
        return {"config": self.config, "state": state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("state", state)
        # Counts are whole and never negative: -309 reductions would overflow the rate.
        reductions = check_int("reductions", saved["reductions"], minimum=0)
        wait = check_int("wait", saved["wait"], minimum=0)
        cooldown_left = check_int("cooldown_left", saved["cooldown_left"], minimum=0)
        best = saved["best"]
        is_number = isinstance(best, Real) and not isinstance(best, bool)
        if best is not None and not is_number:
            got = f"{type(best).__name__} {best!r}"
            raise TypeError(f"best must be a number or None, got {got}")
        self._monitor.load_best(best, None)  # a finite best: NaN or inf is beaten by none
        self.reductions, self.wait, self.cooldown_left = reductions, wait, cooldown_left


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": CosineDecay,
    "inverse_scaling": InverseScaling,
    "plateau": ReduceLROnPlateau,
}
_ALIASES = {
    "step_decay": "step",
    "exponential_decay": "exponential",
    "cosine_decay": "cosine",
    "invscaling": "inverse_scaling",
    "reduce_on_plateau": "plateau",
    "reduce_lr_on_plateau": "plateau",
}


def get(schedule: str | Schedule | dict[str, Any] | None, **kwargs: Any) -> Schedule:
    """Return a :class:`Schedule` from a name (built with ``kwargs``), a ``config`` dict,
    an instance (returned as is), or ``None`` (constant)."""
    if schedule is None:
        return Constant()
    return resolve("schedule", schedule, Schedule, SCHEDULES, _ALIASES, **kwargs)
