"""Shared helpers: a new Figure without pyplot, and saving it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps, rcParams
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..io import make_folder, replace_atomically

__all__ = [
    "check_figure_path",
    "class_colors",
    "model_task",
    "new_figure",
    "plot_per_epoch",
    "save",
]

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


def class_colors(n_classes: int) -> list[Any]:
    """A colour for each of ``n_classes`` classes, no two alike: :data:`CLASS_COLORS` for up
    to ten, else as many hues evenly spaced around the colour wheel."""
    if n_classes <= len(CLASS_COLORS):
        return list(CLASS_COLORS[:n_classes])
    hues = colormaps["hsv"](np.linspace(0, 1, n_classes, endpoint=False))
    return [tuple(0.85 * rgba[:3]) for rgba in hues]  # a little darker: points on white


def model_task(model: Any) -> str | None:
    """The task of ``model`` (``"binary"``, ``"multiclass"``, ``"multilabel"`` or
    ``"regression"``): an MLP's, or that of the MLP a fitted scikit-learn estimator trains
    (its ``model_``); ``None`` for anything else, such as a callable."""
    return getattr(model, "task", None) or getattr(getattr(model, "model_", None), "task", None)


def new_figure(width: float, height: float) -> Figure:
    """A Figure with a constrained layout, not registered with pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def check_figure_path(path: Any, name: str = "path") -> None:
    """Refuse now a ``path`` a figure cannot be saved to, rather than when it is saved: not
    a path, an existing folder (``.png`` would be added, and the figure written beside
    the folder rather than in it), an extension that names no format matplotlib writes
    (none is fine: ``.png`` is added), or a symbolic link to a file of another extension
    (``fig.png`` linking to ``train.csv``, which the save would replace). For a ``path``
    without an extension, the folder and the link looked for are the ones with ``.png``
    added, the file the figure is written to."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__} {path!r}")
    if os.path.isdir(path):
        raise ValueError(
            f"{name}={os.fspath(path)!r} is a folder; give a file name in it, such as "
            f"{os.path.join(os.fspath(path), 'figure.png')!r}"
        )
    extension = os.path.splitext(os.fspath(path))[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if extension and extension not in formats:
        raise ValueError(
            f"{name}={os.fspath(path)!r}: cannot save a figure as {extension!r}; the "
            f"extension must be one of {', '.join(sorted(formats))}"
        )
    written, extension = _written_path(path)
    shown = f"{name}={os.fspath(path)!r}"
    if written != os.fspath(path):  # saved with the default extension added
        shown += f", saved as {written!r},"
        if os.path.isdir(written):
            raise ValueError(
                f"{shown} is a folder; give a file name in it, such as "
                f"{os.path.join(written, 'figure.png')!r}"
            )
    target = os.path.realpath(written)  # the file a symbolic link names is the one replaced
    named = os.path.splitext(target)[1][1:].lower()
    if os.path.isfile(target) and named != extension:
        raise ValueError(
            f"{shown} links to {target!r}, which is no .{extension} "
            "file: saving the figure would replace it; give the path of a figure file"
        )


def _written_path(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The file a figure given ``path`` is written to, and its format: ``path`` and its
    extension, or without one, ``path`` with matplotlib's default format added (``.png``),
    as :meth:`~matplotlib.figure.Figure.savefig` adds it."""
    written = os.fspath(path)
    extension = os.path.splitext(written)[1][1:].lower()
    if extension:
        return written, extension
    extension = rcParams["savefig.format"]
    return f"{written.rstrip('.')}.{extension}", extension


def save(figure: Figure, path: str | os.PathLike[str] | None, dpi: int = 110) -> Figure:
    """Save ``figure`` to ``path`` (creating its folder) when ``path`` is given and
    :func:`check_figure_path` accepts it. A name without an extension gets matplotlib's
    default one (``.png``), as :meth:`~matplotlib.figure.Figure.savefig` would add it. The
    file replaces any earlier one only once complete
    (:func:`mlpzero.io.replace_atomically`): a save that fails leaves the old figure."""
    if path is not None:
        check_figure_path(path)
        target, extension = _written_path(path)
        make_folder(Path(target).parent, f"cannot save the figure to {target!r}")
        replace_atomically(target, lambda handle: figure.savefig(handle, format=extension, dpi=dpi))
    return figure


def plot_per_epoch(ax: Axes, values: np.ndarray, *args: Any, first: int = 1, **kwargs: Any) -> Any:
    """Draw ``values[e]`` at epoch ``e + first`` as one line; returns it.

    NaN marks an epoch that did not measure the value (a ``fit`` without validation data)
    and leaves a gap. A value with no measured neighbour would be a line of one point,
    which draws nothing: such values get a marker, so that no measurement goes unseen.
    The ticks of the x axis are whole epochs.
    """
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    finite = np.isfinite(values)
    before = np.concatenate(([False], finite[:-1]))
    after = np.concatenate((finite[1:], [False]))
    alone = finite & ~before & ~after
    (line,) = ax.plot(np.arange(first, first + values.size), values, *args, **kwargs)
    if alone.any():
        line.set_marker("o")
        line.set_markersize(3)
        line.set_markevery(alone.tolist())
    return line
