"""Shared helpers: a new Figure without pyplot, and saving it."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

__all__ = ["new_figure", "save"]

#: Colours for classes 0, 1, 2, ... (points and, for several classes, regions).
CLASS_COLORS = (
    "#1f5fbf",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def new_figure(width: float, height: float) -> Figure:
    """A Figure with a constrained layout, not registered with pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def save(figure: Figure, path: str | os.PathLike[str] | None, dpi: int = 110) -> Figure:
    """Save ``figure`` to ``path`` (creating its folder) when ``path`` is given."""
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(target, dpi=dpi)
    return figure
