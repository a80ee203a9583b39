"""``History``: the metrics of every epoch a model has trained, one list per metric.

``MLP.fit`` appends one entry per completed epoch to :attr:`MLP.history`; a model file
keeps it (:mod:`mlpzero.io`), so a loaded model knows how it was trained.
"""

from __future__ import annotations

__all__ = ["History"]


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

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> History:
        """Rebuild a history from :meth:`as_dict` (e.g. read from a checkpoint)."""
        history = cls()
        lengths = {len(values) for values in data.values()}
        if len(lengths) > 1:
            raise ValueError(f"history lists must have one length, got lengths {sorted(lengths)}")
        history.history = {str(key): [float(v) for v in values] for key, values in data.items()}
        return history

    def __repr__(self) -> str:
        return f"History(epochs={self.epochs}, keys={self.keys()})"
