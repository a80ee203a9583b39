"""Training curves: the loss per epoch, and activations compared side by side."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._figure import new_figure, plot_per_epoch, save
from .boundary import plot_decision_boundary

__all__ = ["plot_activation_comparison", "plot_loss_curve"]


def _series(history: Any) -> dict[str, np.ndarray]:
    """``{"loss": [...], "val_loss": [...]}`` from a History, a model, a dict or a list."""
    history = getattr(history, "history", history)  # MLP -> History -> dict
    history = getattr(history, "history", history)
    if isinstance(history, Mapping):
        series = {k: np.asarray(v, dtype=np.float64) for k, v in history.items() if "loss" in k}
    elif isinstance(history, (Sequence, np.ndarray)) and not isinstance(history, (str, bytes)):
        series = {"loss": np.asarray(history, dtype=np.float64)}
    else:
        shown = f" {history!r}" if isinstance(history, (str, bytes)) else ""
        raise TypeError(
            "history must be a History, a model with .history, a dict of lists or a list "
            f"of losses, got {type(history).__name__}{shown}"
        )
    for key, values in series.items():
        if values.ndim != 1:
            raise ValueError(
                f"history[{key!r}] must be one loss per epoch, a flat list, got shape "
                f"{values.shape}"
            )
    if not series or any(v.size == 0 for v in series.values()):
        raise ValueError("history holds no losses to plot: train the model first")
    return series


def plot_loss_curve(
    history: Any,
    *,
    ax: Axes | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str = "Training loss",
    label: str | None = None,
    log_scale: bool = True,
) -> Figure:
    """Plot the loss per epoch (and ``val_loss`` when recorded) from ``history``.

    ``history`` is a :class:`~mlpzero.callbacks.History`, a fitted model, a dict of
    per-epoch lists or a plain list of losses. Returns the Figure; saves it to ``path``.
    """
    series = _series(history)
    if ax is None:
        figure = new_figure(6, 4)
        ax = figure.add_subplot()
    else:
        figure = ax.figure
    for key, values in series.items():
        name = key if label is None else (label if key == "loss" else f"{label} {key}")
        plot_per_epoch(ax, values, label=name)
    if log_scale and all((v[np.isfinite(v)] > 0).all() for v in series.values()):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(figure, path)


def plot_activation_comparison(
    models: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    resolution: int = 150,
) -> Figure:
    """Side by side: the decision boundary of each model, then all their loss curves.

    ``models`` maps a label (such as the hidden activation) to a fitted
    :class:`~mlpzero.MLP`, all trained on ``X`` ``(n, 2)`` and ``y``. Returns the Figure;
    saves it to ``path`` when given.
    """
    if not models:
        raise ValueError("models must hold at least one fitted model, got an empty mapping")
    figure = new_figure(4.2 * (len(models) + 1), 4)
    axes = figure.subplots(1, len(models) + 1)
    for ax, (name, model) in zip(axes, models.items(), strict=False):
        plot_decision_boundary(model, X, y, ax=ax, title=name, resolution=resolution)
    curves = axes[-1]
    for name, model in models.items():
        plot_loss_curve(model, ax=curves, label=name, title="Training loss")
    return save(figure, path)
