"""``History``: the metrics of every epoch a model has trained, one list per metric.

``MLP.fit`` appends one entry per completed epoch to :attr:`MLP.history`; a model file
keeps it (:mod:`mlpzero.io`), so a loaded model knows how it was trained.

Measurements taken every few steps rather than every epoch, such as those of the
:class:`~mlpzero.callbacks.Diagnostics` callback, go to :attr:`History.diagnostics`
instead. They are kept with the model in memory (and by pickle), but a model file does not
save them: a loaded model's ``history.diagnostics`` is empty.
"""

from __future__ import annotations

import html
import math
from typing import Any

from .monitor import Monitor, monitored_key

__all__ = ["History"]


class History:
    """Per-epoch metrics: ``history["loss"]`` is the list of training losses, one per epoch.

    Other keys (``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``) appear when they are
    measured. Every list holds one value per epoch, so ``history[key][e]`` is epoch ``e``
    whatever the key: NaN where that epoch did not measure it (validation data given to
    one ``fit`` and not another). ``history.epochs`` counts the completed epochs.

    ``history.diagnostics`` holds records taken every few steps: ``{name: [one entry per
    record]}``, where an entry is a number (``step``, ``epoch``) or a list with one number
    per layer (``gradient_norm``, ...). It is not saved in model files.

    ``history.interrupted`` is True when Ctrl-C stopped the last training run on this
    history (it then holds the epochs completed before); it is not saved either.
    """

    interrupted: bool = False

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.diagnostics: dict[str, list[Any]] = {}

    def append(self, logs: dict[str, float]) -> None:
        """Add one epoch: every list grows by one value, so that ``history[key][e]`` is
        always epoch ``e``. A metric this epoch did not measure gets NaN (a ``fit``
        without the validation data of an earlier one); a metric measured for the first
        time gets NaN for the epochs before it (validation data given to a later ``fit``).
        """
        history = self.history
        if history.keys() == logs.keys():  # the usual epoch: the metrics of the last one
            for key, value in logs.items():
                history[key].append(float(value))
            return
        epochs = max((len(values) for values in history.values()), default=0)
        for key, value in logs.items():
            values = history.get(key)
            if values is None:
                values = history[key] = [math.nan] * epochs
            values.append(float(value))
        for key, values in history.items():
            if key not in logs:
                values.append(math.nan)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a history pickled before every list held one value per epoch has
        fewer values for a metric some ``fit`` did not measure, taken to be its last
        epochs (as model files are read), so that the epochs of a further ``fit`` line up.
        One pickled before :attr:`diagnostics` existed (0.1.0) gets none.
        """
        self.diagnostics = {}
        self.__dict__.update(state)
        epochs = max((len(values) for values in self.history.values()), default=0)
        for key, values in self.history.items():
            if len(values) < epochs:
                self.history[key] = [math.nan] * (epochs - len(values)) + values

    def append_diagnostics(self, record: dict[str, float | list[float]]) -> None:
        """Add one record to :attr:`diagnostics`: numbers, or lists of per-layer numbers.

        Every record must have the keys of the first one.
        """
        if self.diagnostics and set(record) != set(self.diagnostics):
            raise ValueError(
                f"record must have the keys {sorted(self.diagnostics)}, got {sorted(record)}"
            )
        for key, value in record.items():
            entry = [float(v) for v in value] if isinstance(value, (list, tuple)) else value
            self.diagnostics.setdefault(key, []).append(entry)

    def lengths(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many values each list holds (metrics, then diagnostics), for
        :meth:`cut_back`."""
        return (
            {key: len(values) for key, values in self.history.items()},
            {key: len(values) for key, values in self.diagnostics.items()},
        )

    def cut_back(self, lengths: tuple[dict[str, int], dict[str, int]]) -> None:
        """Drop what was recorded after :meth:`lengths` gave ``lengths``: the epochs of a
        fit that failed, and the metrics it added."""
        for records, kept in zip((self.history, self.diagnostics), lengths, strict=True):
            for key in list(records):
                if key in kept:
                    del records[key][kept[key] :]
                else:
                    del records[key]

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def last_epoch(self) -> dict[str, float]:
        """The last epoch's metrics, ``{key: history[key][-1]}``, leaving out those it did
        not measure (NaN: the validation metrics of an earlier ``fit``, say); empty before
        the first epoch."""
        return {key: v[-1] for key, v in self.history.items() if v and not math.isnan(v[-1])}

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self) -> list[str]:
        return list(self.history)

    def as_dict(self) -> dict[str, list[float]]:
        """The per-epoch metrics as plain lists (diagnostics are not included)."""
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

    def best_epoch(self, monitor: str | None = None) -> int | None:
        """The epoch (from 0) with the best value of ``monitor``, or ``None`` if unknown.

        ``monitor`` defaults to ``val_loss`` when recorded, else ``loss``; the rule is
        :class:`~mlpzero.monitor.Monitor`'s (accuracies and scores maximised, NaN never
        best, the first of equal values wins).
        """
        if not self.history:
            return None
        key = monitored_key(monitor, self.history)
        watch = Monitor(key, 0.0, "auto")
        for epoch, value in enumerate(self.history[key]):
            watch.improved(epoch, {key: value})
        return watch.best_epoch

    def _repr_html_(self) -> str:
        """A table for notebooks: each metric's last value and its value at the best epoch,
        blank where that epoch did not measure it."""
        best = self.best_epoch()
        caption = f"History: {self.epochs} epochs"
        if best is not None:
            monitor = monitored_key(None, self.history)
            caption += f", best epoch {best + 1} of {self.epochs} (by {monitor})"
        head = "<tr><th>metric</th><th>last</th><th>best epoch</th></tr>"
        rows = []
        for key, values in self.history.items():
            last = _number(values[-1]) if values else ""
            at_best = _number(values[best]) if best is not None and best < len(values) else ""
            rows.append(
                f"<tr><td>{html.escape(key)}</td><td>{html.escape(last)}</td>"
                f"<td>{html.escape(at_best)}</td></tr>"
            )
        if self.diagnostics:
            records = len(next(iter(self.diagnostics.values())))
            caption += f"; {records} diagnostic records"
        return (
            f"<table><caption>{html.escape(caption)}</caption>"
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def __repr__(self) -> str:
        return f"History(epochs={self.epochs}, keys={self.keys()})"


def _number(value: float) -> str:
    """A value for the table; blank for NaN, an epoch that did not measure the metric."""
    return "" if math.isnan(value) else f"{value:.4g}"
