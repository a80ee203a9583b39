"""The two-panel figure of activation functions and their derivatives."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .. import activations as _activations
from ..validation import check_int
from ._figure import new_figure, save

__all__ = ["plot_activations"]


def plot_activations(
    path: str | os.PathLike[str] | None = None,
    *,
    activations: Sequence[str] = ("sigmoid", "tanh", "relu"),
    z_range: tuple[float, float] = (-5.0, 5.0),
    points: int = 400,
) -> Figure:
    """Plot ``g(z)`` (left) and ``g'(z)`` (right) for each activation over ``z_range``.

    Values and derivatives come from :mod:`mlpzero.activations`, the same functions the
    network uses. Returns the Figure; saves it to ``path`` when given.
    """
    try:
        low, high = (float(v) for v in z_range)
    except (TypeError, ValueError, OverflowError):  # not two numbers, or beyond floats
        low = high = float("nan")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"z_range must be two finite numbers (low < high), got {z_range!r}")
    if isinstance(activations, str):  # its letters are no activations
        raise TypeError(f"activations must be a list of names, got the string {activations!r}")
    if not activations:
        raise ValueError("activations must name at least one activation, got an empty list")
    points = check_int("points", points, minimum=2)
    functions = [_activations.get(a) for a in activations]
    z = np.linspace(low, high, points)

    figure = new_figure(10, 4)
    values, slopes = figure.subplots(1, 2)
    for g in functions:
        values.plot(z, g(z), label=g.name)
        slopes.plot(z, g.derivative(z), label=f"{g.name}'")
    for ax, title, ylabel in (
        (values, "Activation functions", "g(z)"),
        (slopes, "Derivatives", "g'(z)"),
    ):
        ax.set_title(title)
        ax.set_xlabel("z")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    return save(figure, path)
