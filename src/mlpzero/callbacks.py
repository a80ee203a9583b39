"""Callbacks: code that runs at fixed points of training.

Subclass :class:`Callback` and override any of its hooks. ``self.model`` is the
:class:`~mlpzero.model.MLP` being trained; setting ``self.model.stop_training = True``
ends training after the current epoch. ``logs`` holds the metrics known at that point
(``loss``, and the validation metrics when there is validation data).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Callback", "History"]


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


class History:
    """Per-epoch metrics: ``history["loss"]`` is the list of training losses, one per epoch.

    Other keys (``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``) appear when they are
    measured. ``history.epochs`` counts the completed epochs.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def append(self, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self) -> list[str]:
        return list(self.history)

    def as_dict(self) -> dict[str, list[float]]:
        return {key: list(values) for key, values in self.history.items()}

    def __repr__(self) -> str:
        return f"History(epochs={self.epochs}, keys={self.keys()})"
