"""Training diagnostics over the steps of a run: what the ``Diagnostics`` callback recorded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._figure import new_figure, save

__all__ = ["plot_diagnostics"]

#: (key, title, log scale) of each panel, left to right and top to bottom.
_PANELS = (
    ("gradient_norm", "gradient norm ‖dW‖ per layer", True),
    ("update_ratio", "update / weight ratio per layer", True),
    ("dead_relu", "dead ReLU share per hidden layer", False),
    ("saturated", "saturated sigmoid/tanh share per hidden layer", False),
)


def plot_diagnostics(
    history: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Four panels over the training steps: one line per layer in each.

    - the gradient norm :math:`\\|dW^{[l]}\\|_F` (log scale): lines far apart, the first
      layers' far below, show vanishing gradients;
    - the update-to-weight ratio (log scale), with a dotted guide at :math:`10^{-3}`,
      a common rule of thumb for a healthy step;
    - the share of dead ReLU units, from 0 to 1;
    - the share of saturated sigmoid or tanh outputs, from 0 to 1.

    ``history`` is a :class:`~mlpzero.history.History` (or a model with ``.history``)
    holding records of the :class:`~mlpzero.callbacks.Diagnostics` callback, or such a
    ``diagnostics`` dict itself. A panel whose quantity applies to no layer (dead ReLUs in
    a tanh network) says so, and one with no value at all (the update ratios of records
    that :func:`~mlpzero.diagnostics.measure` took without ``before``) says that. Returns
    the Figure; saves it to ``path`` when given.

    A new ``Diagnostics`` callback (in a later ``fit``, or a resumed one) counts its steps
    from 1 again: its records are drawn after those before it, their steps shifted by the
    last step recorded before them.
    """
    records = _records(history)
    steps = _continued(_numbers(records, "step"))
    figure = new_figure(10, 6.5)
    axes = figure.subplots(2, 2, sharex=True)
    for ax, (key, name, log_scale) in zip(axes.ravel(), _PANELS, strict=True):
        values = _matrix(records, key, steps.size)
        per_layer = key in ("gradient_norm", "update_ratio")  # every layer has one
        empty = "no value recorded" if per_layer else "no layer of this kind"
        _panel(ax, steps, values, name, log_scale, empty)
        if key == "update_ratio" and np.isfinite(values).any():
            ax.axhline(1e-3, color="0.4", linestyle=":", linewidth=1)
        if key in ("dead_relu", "saturated"):
            ax.set_ylim(-0.03, 1.03)
    for ax in axes[1]:
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole steps
    if title:
        figure.suptitle(title)
    return save(figure, path)


def _records(history: Any) -> Mapping[str, Any]:
    """The ``diagnostics`` dict of a model, a History, or the dict itself."""
    if not hasattr(history, "diagnostics"):
        history = getattr(history, "history", history)  # MLP -> History
    records = getattr(history, "diagnostics", history)
    if not isinstance(records, Mapping):
        raise TypeError(
            "history must be a History, a model with .history or a diagnostics dict, "
            f"got {type(history).__name__}"
        )
    steps = records.get("step")
    if steps is None or len(steps) == 0:  # a list, or an array (which has no truth value)
        raise ValueError(
            "history holds no diagnostics: train with callbacks=[Diagnostics(every=...)] first"
        )
    return records


def _continued(steps: np.ndarray) -> np.ndarray:
    """``steps`` as one increasing count: where they fall back (a new callback's records,
    counted from 1 again), they continue from the last step recorded before."""
    restarts = np.flatnonzero(np.diff(steps) <= 0) + 1
    offsets = np.concatenate(([0.0], np.cumsum(steps[restarts - 1])))
    return steps + offsets[np.searchsorted(restarts, np.arange(steps.size), side="right")]


def _numbers(records: Mapping[str, Any], key: str) -> np.ndarray:
    """``records[key]`` as floats, or a ValueError naming the key (ragged lists, text)."""
    try:
        return np.asarray(records.get(key, []), dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"diagnostics[{key!r}] must hold numbers (one list of the same length per "
            f"record for a per-layer quantity), got {records.get(key)!r:.80}"
        ) from None


def _matrix(records: Mapping[str, Any], key: str, n: int) -> np.ndarray:
    """``(records, layers)`` floats of one quantity."""
    values = _numbers(records, key)
    if values.ndim != 2 or values.shape[0] != n:
        raise ValueError(
            f"diagnostics[{key!r}] must hold one list per record ({n}), got shape {values.shape}"
        )
    return values


def _panel(
    ax: Axes, steps: np.ndarray, values: np.ndarray, name: str, log_scale: bool, empty: str
) -> None:
    """One quantity's lines, one per layer; ``empty`` is written instead when no layer
    has a value."""
    ax.set_title(name, fontsize=10)
    ax.grid(alpha=0.3)
    drawn = False
    for layer in range(values.shape[1]):
        column = values[:, layer]
        if np.isfinite(column).any():
            ax.plot(
                steps, column, marker="." if steps.size < 30 else None, label=f"layer {layer + 1}"
            )
            drawn = True
    if not drawn:
        ax.text(
            0.5,
            0.5,
            empty,
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
        return
    if log_scale and (values > 0).any():
        ax.set_yscale("log", nonpositive="mask")  # a layer at exactly 0 leaves a gap
    ax.legend(fontsize=7, ncol=2 if values.shape[1] > 4 else 1)
