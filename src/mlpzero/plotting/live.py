"""``LivePlot``: training curves (and a decision boundary) redrawn in place in a notebook.

A callback for ``MLP.fit(callbacks=[LivePlot()])``. In a Jupyter kernel it shows one
image under the cell and replaces it as training goes (an IPython display handle), so the
notebook keeps one picture, not one per epoch. Outside a kernel it shows nothing and opens
no window; with ``path`` it saves the final picture to a file, anywhere.

Drawing costs time (a fraction of a second per picture), so redraws are throttled by the
wall clock: the first comes ``every`` seconds after training starts, and after a redraw
that took :math:`d` seconds the next waits at least :math:`\\max(\\text{every},
d / \\text{max\\_share})` seconds. While training runs, the time spent drawing then stays
within ``max_share`` of the elapsed time, give or take one redraw. When training ends, one
last redraw shows the final curves: a fit shorter than ``every`` seconds is drawn once,
at its end.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..callbacks import Callback
from ..progress import in_jupyter_kernel
from ..validation import check_features, check_non_negative, check_positive
from ._figure import check_figure_path, plot_per_epoch, save
from .boundary import (
    check_labels,
    check_resolution,
    in_model_order,
    model_classes,
    plot_decision_boundary,
)

__all__ = ["LivePlot"]


#: What LivePlot draws unless told; the ones a fit does not log are left out quietly.
_DEFAULT_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")


class LivePlot(Callback):
    """Redraw the loss and metric curves in place while a model trains.

    Parameters
    ----------
    metrics:
        The logged metrics to draw; losses share one panel, the others (``accuracy``,
        ``val_accuracy``) another. By default ``loss``, ``val_loss``, ``accuracy`` and
        ``val_accuracy``, each drawn if the fit logs it. Metrics named here are expected:
        at the end of training a ``UserWarning`` names any that was never logged (and, by
        default too, says so when nothing was drawn).
    boundary:
        ``(X, y)`` with ``X`` of shape ``(n, 2)``: also draw the model's decision
        boundary over these points (:func:`~mlpzero.plotting.plot_decision_boundary`).
        A data frame's columns are matched to the model's features by name.
    every:
        The least number of seconds between two redraws.
    max_share:
        The largest share of the elapsed time that drawing may take (see the module).
    resolution:
        Grid points per axis of the decision boundary, from 2 to 2000.
    path:
        Save the final picture here when training ends (PNG, SVG or PDF), in a notebook
        or not.
    clock:
        The clock in seconds (``time.perf_counter``); tests pass a fake one.

    Notes
    -----
    ``redraws`` counts the pictures drawn and ``draw_seconds`` the time they took. The
    curves continue across the ``fit`` calls of one model; given to another model, the
    callback starts afresh and draws that model's curves alone.
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        boundary: tuple[Any, Any] | None = None,
        every: float = 1.0,
        max_share: float = 0.05,
        resolution: int = 60,
        path: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._chosen = metrics is not None  # named by the caller: each is expected
        metrics = _DEFAULT_METRICS if metrics is None else metrics
        if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
            raise TypeError(f"metrics must be a sequence of metric names, got {metrics!r}")
        self.metrics = tuple(metrics)
        if not self.metrics:
            raise ValueError("metrics must name at least one metric, got an empty sequence")
        self.boundary = None
        if boundary is not None:
            if not isinstance(boundary, (tuple, list)) or len(boundary) != 2:
                raise TypeError(f"boundary must be a pair (X, y), got {type(boundary).__name__}")
            X = check_features(boundary[0], dtype=np.float64)
            if X.shape[1] != 2:
                raise ValueError(f"boundary: X must have 2 columns, got shape {X.shape}")
            try:  # now, not when the final picture is drawn after training
                y = check_labels(boundary[1], X.shape[0])
            except ValueError as error:
                raise ValueError(f"LivePlot(boundary=...): {error}") from None
            # A data frame is kept, for its columns to be matched to the model's by name.
            framed = hasattr(boundary[0], "columns") and not isinstance(boundary[0], np.ndarray)
            self.boundary = (boundary[0] if framed else X, y)
        self.every = check_non_negative("every", every)
        self.max_share = check_positive("max_share", max_share)
        if self.max_share > 1:
            raise ValueError(f"max_share must be a share of the time, at most 1, got {max_share!r}")
        self.resolution = check_resolution(resolution)
        if path is not None:
            check_figure_path(path)  # now, not after training
        self.path = path
        self.clock = clock
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.redraws = 0
        self.draw_seconds = 0.0
        self._handle: Any = None
        self._show = False
        self._next = 0.0
        self._pending = False
        self._logged: set[str] = set()  # every metric name an epoch logged
        self._watched: Any = None  # the model whose curves these are

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        task = getattr(self.model, "task", None)
        if self.boundary is not None and task in ("regression", "multilabel"):
            raise ValueError(
                f"LivePlot(boundary=...) draws decision regions, which a {task} model has "
                "not; leave boundary out"
            )  # before the first epoch, not at the first redraw
        if self.boundary is not None:
            sizes = getattr(getattr(self.model, "network", None), "layer_sizes", None)
            if sizes is not None and sizes[0] != 2:
                raise ValueError(
                    f"LivePlot(boundary=...) draws a plane of 2 features, and the model takes "
                    f"{sizes[0]}; leave boundary out"
                )
            in_model_order(self.model, self.boundary[0])  # other column names: refused now
            try:  # and labels the model does not know
                model_classes(self.model, self.boundary[1])
            except ValueError as error:
                raise ValueError(f"LivePlot(boundary=...): {error}") from None
        watched = getattr(self, "_watched", None)
        if watched is not None and watched is not self.model:
            # another model: its curves alone, as a new LivePlot would draw them
            self.series, self._logged, self._pending = {}, set(), False
            self.redraws, self.draw_seconds = 0, 0.0
        self._watched = self.model
        self._show = in_jupyter_kernel()
        self._handle = None
        self._next = self.clock() + self.every

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._logged.update(logs or {})
        for key in self.metrics:
            if logs and key in logs:
                self.series.setdefault(key, []).append((epoch + 1, float(logs[key])))
        self._pending = True
        if self._show and self.clock() >= self._next:
            self._redraw()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._warn_of_missing_metrics()
        if self._show and self._pending:
            self._redraw()
        if self.path is not None and self.series:
            save(self.figure(), self.path)

    def _warn_of_missing_metrics(self) -> None:
        if not self._logged:
            return  # no epoch ended
        missing = [m for m in self.metrics if m not in self.series]
        chosen = missing if self._chosen else []
        if chosen or len(missing) == len(self.metrics):
            warnings.warn(
                f"LivePlot: {', '.join(chosen or missing)} never logged, so not drawn"
                f"{'; nothing was drawn' if len(missing) == len(self.metrics) else ''}. "
                f"This fit logged: {', '.join(sorted(self._logged))}",
                UserWarning,
                stacklevel=2,
            )

    # ------------------------------------------------------------------ drawing
    def figure(self) -> Any:
        """The picture as it stands: a new :class:`~matplotlib.figure.Figure`."""
        losses = [k for k in self.series if "loss" in k]
        others = [k for k in self.series if "loss" not in k]
        panels = [group for group in (losses, others) if group]
        n = len(panels) + (self.boundary is not None)
        # Fixed margins (in inches) rather than a constrained layout: a third cheaper to draw.
        width = 4.2 * max(n, 1)
        figure = Figure(figsize=(width, 3.4))
        figure.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.15, top=0.9)
        axes = np.atleast_1d(figure.subplots(1, max(n, 1), gridspec_kw={"wspace": 0.35}))
        for ax, keys in zip(axes, panels, strict=False):
            for key in keys:
                _plot_series(ax, self.series[key], key)
            values = [v for k in keys for _, v in self.series[k]]
            if keys is losses and min(values) > 0 and max(values) > 10 * min(values):
                ax.set_yscale("log")  # over more than a decade
            ax.set_xlabel("epoch")
            ax.set_title("loss" if keys is losses else "metrics", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if self.boundary is not None and self.model is not None:
            X, y = self.boundary
            plot_decision_boundary(self.model, X, y, ax=axes[-1], resolution=self.resolution)
        return figure

    def _redraw(self) -> None:
        started = self.clock()
        self._render(self.figure())
        finished = self.clock()
        spent = finished - started
        self.redraws += 1
        self.draw_seconds += spent
        self._pending = False
        self._next = finished + max(self.every, spent / self.max_share)

    def _render(self, figure: Any) -> None:
        """Show ``figure`` as a PNG under the cell, replacing the previous one."""
        from IPython.display import Image, display  # a kernel has IPython

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        image = Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def __repr__(self) -> str:
        return (
            f"LivePlot(metrics={self.metrics!r}, boundary={self.boundary is not None}, "
            f"every={self.every}, max_share={self.max_share})"
        )


def _plot_series(ax: Any, series: list[tuple[int, float]], label: str) -> None:
    """One line of ``(epoch, value)`` pairs: a gap over the epochs that logged no value (a
    fit without validation data between two with it), and a marker on a lone value."""
    epochs = np.array([epoch for epoch, _ in series])
    values = np.array([value for _, value in series], dtype=np.float64)
    if np.any(np.diff(epochs) <= 0):  # epochs of other models' fits: no gaps to tell
        ax.plot(epochs, values, label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs
        return
    dense = np.full(epochs[-1] - epochs[0] + 1, np.nan)
    dense[epochs - epochs[0]] = values
    plot_per_epoch(ax, dense, first=int(epochs[0]), label=label)
