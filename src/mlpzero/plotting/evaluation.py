"""Figures that judge a trained model: learning curves, confusion matrix, misclassified
images, first-layer weights as images, and predicted-vs-true values for regression.

Each function returns a :class:`matplotlib.figure.Figure` (built without ``pyplot``) and
saves it to ``path`` when given. The numbers come from the model and from
:mod:`mlpzero.metrics`; nothing here computes anything of its own beyond layout.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..metrics import confusion_matrix, label_pair, r2_score
from ..validation import check_features, check_flag, check_int
from ._figure import model_task, new_figure, plot_per_epoch, save

__all__ = [
    "plot_confusion_matrix",
    "plot_first_layer_weights",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_predicted_vs_true",
    "plot_regression_fit",
]

PathLike = str | os.PathLike[str] | None

#: Up to this many classes, the confusion matrix names every one along its axes.
_ALL_TICKS = 30


# ---------------------------------------------------------------------------- curves
def _history_dict(history: Any) -> dict[str, np.ndarray]:
    """Per-epoch series from a History, a model with ``.history``, or a dict of lists."""
    history = getattr(history, "history", history)  # model -> History
    history = getattr(history, "history", history)  # History -> dict
    if not isinstance(history, Mapping):
        raise TypeError(
            "history must be a History, a fitted model or a dict of per-epoch lists, "
            f"got {type(history).__name__}"
        )
    series = {}
    for key, values in history.items():
        try:
            series[str(key)] = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"history[{key!r}] must hold numbers, one per epoch, got {values!r:.80}"
            ) from None
        if series[str(key)].ndim != 1:
            raise ValueError(
                f"history[{key!r}] must be one value per epoch, a flat list, got shape "
                f"{series[str(key)].shape}"
            )
    if not series.get("loss", np.empty(0)).size:
        raise ValueError("history has no 'loss' values to plot: train the model first")
    return series


def plot_learning_curves(
    history: Any, *, path: PathLike = None, title: str | None = None
) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training and validation.

    ``history`` is a :class:`~mlpzero.callbacks.History`, a fitted model, or a dict such as
    ``{"loss": [...], "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``. The
    accuracy panel appears when accuracies were recorded (classifiers); the best
    validation epoch is marked when there is validation data.
    """
    series = _history_dict(history)
    panels = [("loss", "loss")]
    if "accuracy" in series or "val_accuracy" in series:
        panels.append(("accuracy", "accuracy"))
    figure = new_figure(5.2 * len(panels), 4)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, label) in zip(axes, panels, strict=True):
        for key, name, style in ((metric, "training", "-"), (f"val_{metric}", "validation", "--")):
            values = series.get(key)
            if values is None or not np.isfinite(values).any():
                continue
            epochs = np.arange(1, values.size + 1)
            plot_per_epoch(ax, values, style, label=name)
            if name == "validation":
                best = int(np.nanargmax(values) if metric == "accuracy" else np.nanargmin(values))
                ax.plot(epochs[best], values[best], "o", color=ax.lines[-1].get_color())
                ax.annotate(
                    f"best {values[best]:.4g} (epoch {best + 1})",
                    (epochs[best], values[best]),
                    textcoords="offset points",
                    xytext=(6, 6),
                    fontsize=8,
                )
        if metric == "loss" and all(
            (series[k][np.isfinite(series[k])] > 0).all()
            for k in ("loss", "val_loss")
            if k in series
        ):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    return save(figure, path)


# ---------------------------------------------------------------------------- confusion
def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    normalize: bool = False,
    path: PathLike = None,
    title: str | None = None,
) -> Figure:
    """The confusion matrix: rows are true labels, columns predicted labels.

    Cells show counts (or, with ``normalize=True``, the fraction of each true class); the
    title gives the accuracy. ``labels`` fixes the order (by default, sorted). Up to 30
    classes, each is named along the axes and each cell shows its number; with more, a
    few ticks name the classes at their positions.
    """
    normalize = check_flag("normalize", normalize)
    counts, labels = confusion_matrix(y_true, y_pred, labels)
    if len(labels) == 0:
        raise ValueError(
            f"y_true and y_pred hold no labels (got {len(y_true)} samples): a confusion "
            "matrix needs at least one"
        )
    total = counts.sum()
    accuracy = np.trace(counts) / total if total else float("nan")
    if normalize:
        per_row = counts.sum(axis=1, keepdims=True)
        shown = np.divide(counts, per_row, out=np.zeros(counts.shape), where=per_row > 0)
    else:
        shown = counts
    k = len(labels)
    size = min(2.5 + 0.35 * k, 10)
    figure = new_figure(size + 1, size)
    ax = figure.add_subplot()
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    figure.colorbar(
        image, ax=ax, shrink=0.8, label="fraction of true class" if normalize else "count"
    )
    names = [str(label) for label in labels.tolist()]
    rotation = 45 if max(map(len, names)) > 3 else 0
    if k <= _ALL_TICKS:
        ax.set_xticks(range(k), names, rotation=rotation)
        ax.set_yticks(range(k), names)
    else:
        # A label per class would overlap into a smear, and thousands take minutes to
        # draw: a few ticks at whole positions, each naming the class there.
        def name(position: float, _: Any) -> str:
            index = round(position)
            return names[index] if index == position and 0 <= index < k else ""

        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=_ALL_TICKS, integer=True))
            axis.set_major_formatter(FuncFormatter(name))
        ax.tick_params(axis="x", labelrotation=rotation)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if k <= 30:
        threshold = shown.max() / 2 if shown.size else 0
        for i in range(k):
            for j in range(k):
                text = f"{shown[i, j]:.2f}" if normalize else str(counts[i, j])
                if not normalize and counts[i, j] == 0:
                    continue
                colour = "white" if shown[i, j] > threshold else "black"
                ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    heading = f"accuracy {accuracy:.1%} ({np.trace(counts)}/{total})"
    ax.set_title(f"{title}: {heading}" if title else heading)
    return save(figure, path)


# ---------------------------------------------------------------------------- images
def _image_shape(n_features: int, image_shape: tuple[int, int] | None) -> tuple[int, int]:
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"cannot show {n_features} features as a square image; pass image_shape=(h, w)"
            )
        return side, side
    try:
        height, width = image_shape
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from None
    height, width = check_int("image_shape[0]", height), check_int("image_shape[1]", width)
    if height * width != n_features:
        raise ValueError(
            f"image_shape {image_shape!r} holds {height * width} pixels, but there are "
            f"{n_features} features"
        )
    return height, width


def _grid(count: int, columns: int | None) -> tuple[int, int]:
    """Rows and columns for ``count`` tiles: ``columns`` (checked, at most ``count``: more
    would be empty) or a square."""
    if columns is None:
        columns = math.ceil(math.sqrt(count))
    columns = min(check_int("columns", columns), count)
    return math.ceil(count / columns), columns


class _Mosaic:
    """Many small images laid out in one array, drawn with a single ``imshow``.

    One image per tile is much faster to draw than one Axes per image. Tile ``i`` sits at
    row ``i // columns``, column ``i % columns``; ``label_rows`` blank pixel rows above
    each tile leave room for its caption. Gaps are NaN and show as the background.
    """

    def __init__(self, count: int, shape: tuple[int, int], columns: int | None, label_rows: int):
        self.rows, self.columns = _grid(count, columns)
        self.shape = shape
        self.label_rows = label_rows
        self.step_y = shape[0] + label_rows + 1
        self.step_x = shape[1] + 1
        self.array = np.full((self.rows * self.step_y, self.columns * self.step_x - 1), np.nan)

    def origin(self, i: int) -> tuple[int, int]:
        """Top-left pixel (row, column) of tile ``i``."""
        row, column = divmod(i, self.columns)
        return row * self.step_y + self.label_rows, column * self.step_x

    def put(self, i: int, image: np.ndarray) -> None:
        top, left = self.origin(i)
        self.array[top : top + self.shape[0], left : left + self.shape[1]] = image

    def caption(self, ax: Any, i: int, text: str, **style: Any) -> None:
        top, left = self.origin(i)
        ax.text(left + self.shape[1] / 2 - 0.5, top - 0.7, text, ha="center", va="bottom", **style)

    def draw(self, ax: Any, cmap: str, vmin: float, vmax: float) -> None:
        colours = matplotlib.colormaps[cmap].with_extremes(bad="white")
        ax.imshow(self.array, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_axis_off()


def plot_misclassified(
    X: Any,
    y_true: Any,
    y_pred: Any,
    *,
    image_shape: tuple[int, int] | None = None,
    max_images: int = 25,
    columns: int | None = None,
    path: PathLike = None,
    title: str | None = None,
) -> Figure:
    """A grid of the images the model got wrong, each captioned ``true -> predicted``.

    ``X`` holds one flattened image per row (``(n, h*w)``; square images are recognised,
    otherwise pass ``image_shape``). Shows the first ``max_images`` mistakes in row order;
    when there are none, the figure says so.
    """
    # Checked in its own dtype (images of uint8, say): only the few shown are drawn, so
    # a float64 copy of every row would be wasted.
    own = X.dtype if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" else np.float64
    X = check_features(X, dtype=own)
    # One label per row, of one kind: a number never equals a string, so each row would
    # count as a mistake (the confusion matrix's checks).
    y_true, y_pred = label_pair(y_true, y_pred)
    if len(y_true) != len(X) or len(y_pred) != len(X):
        raise ValueError(
            f"X, y_true and y_pred must have the same number of rows, got {len(X)}, "
            f"{len(y_true)} and {len(y_pred)}"
        )
    max_images = check_int("max_images", max_images)
    check_int("columns", columns, allow_none=True)
    shape = _image_shape(X.shape[1], image_shape)
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:max_images]
    heading = f"{len(wrong)} of {len(X)} misclassified"
    if len(shown) == 0:
        figure = new_figure(4, 2)
        ax = figure.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.set_axis_off()
    else:
        mosaic = _Mosaic(len(shown), shape, columns, label_rows=max(2, shape[0] // 3))
        figure = new_figure(1.2 * mosaic.columns + 0.4, 1.4 * mosaic.rows + 0.5)
        ax = figure.add_subplot()
        low, high = float(X[shown].min()), float(X[shown].max())
        for i, index in enumerate(shown):
            mosaic.put(i, X[index].reshape(shape))
            mosaic.caption(ax, i, f"{y_true[index]} -> {y_pred[index]}", fontsize=9, color="#b00")
        mosaic.draw(ax, "gray_r", low, high if high > low else low + 1)
    figure.suptitle(f"{title}: {heading}" if title else heading)
    return save(figure, path)


def plot_first_layer_weights(
    model: Any,
    *,
    image_shape: tuple[int, int] | None = None,
    max_units: int = 64,
    columns: int | None = None,
    path: PathLike = None,
    title: str | None = None,
) -> Figure:
    """Each first-hidden-layer unit's incoming weights ``W[1][j, :]`` drawn as an image.

    ``model`` is a fitted :class:`~mlpzero.MLP` or a :class:`~mlpzero.Network` whose
    inputs are images. Red is a positive weight, blue a negative one; each tile is divided
    by its own largest magnitude, so it shows the pattern that unit responds to.
    """
    network = getattr(model, "network", model)
    if network is None:  # an MLP before its first fit
        raise RuntimeError(f"this {type(model).__name__} is not fitted yet: call fit(X, y) first")
    weights = getattr(network, "weights", None)
    if weights is None:
        raise TypeError(f"model must be a fitted MLP or a Network, got {type(model).__name__}")
    max_units = check_int("max_units", max_units)
    check_int("columns", columns, allow_none=True)
    first = weights[0]
    shape = _image_shape(first.shape[1], image_shape)
    units = np.asarray(first[:max_units], dtype=np.float64)  # the units shown, not every one
    mosaic = _Mosaic(len(units), shape, columns, label_rows=max(2, shape[0] // 4))
    figure = new_figure(1.0 * mosaic.columns + 0.4, 1.1 * mosaic.rows + 0.6)
    ax = figure.add_subplot()
    for j, w in enumerate(units):
        limit = float(np.abs(w).max()) or 1.0
        mosaic.put(j, w.reshape(shape) / limit)
        mosaic.caption(ax, j, str(j), fontsize=7)
    mosaic.draw(ax, "RdBu_r", -1.0, 1.0)
    heading = f"first-layer weights: {len(units)} of {first.shape[0]} units, {shape[0]}x{shape[1]}"
    figure.suptitle(f"{title}: {heading}" if title else heading)
    return save(figure, path)


# ---------------------------------------------------------------------------- regression
def plot_predicted_vs_true(
    y_true: Any, y_pred: Any, *, path: PathLike = None, title: str | None = None
) -> Figure:
    """Predicted against true values, one point per sample (and output), with the line
    ``predicted = true``; the title gives :math:`R^2`."""
    score = r2_score(y_true, y_pred)  # which checks them: one row per sample, finite
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    figure = new_figure(5, 5)
    ax = figure.add_subplot()
    columns_true = y_true.reshape(len(y_true), -1)
    columns_pred = y_pred.reshape(len(y_pred), -1)
    for k in range(columns_true.shape[1]):
        label = f"output {k}" if columns_true.shape[1] > 1 else None
        ax.scatter(columns_true[:, k], columns_pred[:, k], s=12, alpha=0.7, label=label)
    low = float(min(y_true.min(), y_pred.min()))
    high = float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], "k--", linewidth=1, label="predicted = true")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend()
    heading = f"R² = {score:.4f}"
    ax.set_title(f"{title}: {heading}" if title else heading)
    return save(figure, path)


def _one_per_row(values: Any, rows: int, message: str) -> np.ndarray:
    """``values`` as ``(rows,)`` floats: one per row, as a column or flat; else refused."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape not in ((rows,), (rows, 1)):
        raise ValueError(f"{message}, got shape {values.shape}")
    return values.reshape(rows)


def plot_regression_fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    truth: Any = None,
    path: PathLike = None,
    title: str | None = None,
    points: int = 400,
) -> Figure:
    """For one input feature and one output: the data as points and the model's
    prediction as a curve (:func:`plot_predicted_vs_true` shows several outputs).

    ``model`` is a regression model (a classifier, whose predictions are labels, is
    refused). ``truth``, when given, is a function drawn for comparison (the curve the
    data were sampled from). The title gives :math:`R^2` on ``(X, y)``.
    """
    task = model_task(model)
    if task in ("binary", "multiclass", "multilabel"):  # its predictions are labels
        raise ValueError(
            f"model must be a regression model to draw its prediction as a curve, got a "
            f"{task} model; plot_decision_boundary draws a classifier's regions"
        )
    X = check_features(X, dtype=np.float64)
    if X.shape[1] != 1:
        raise ValueError(f"plot_regression_fit needs one input feature, got X of shape {X.shape}")
    y = _one_per_row(y, len(X), f"y must hold one value per row of X ({len(X)})")
    grid = np.linspace(X.min(), X.max(), check_int("points", points, minimum=2))[:, None]
    curve = _one_per_row(model.predict(grid), len(grid), "model must give one value per point")
    score = r2_score(
        y, _one_per_row(model.predict(X), len(X), "model must give one value per point")
    )
    figure = new_figure(6.5, 4.2)
    ax = figure.add_subplot()
    ax.scatter(X[:, 0], y, s=10, alpha=0.5, color="#7f7f7f", label="data")
    if truth is not None:
        ax.plot(grid[:, 0], truth(grid[:, 0]), "k--", linewidth=1, label="true curve")
    ax.plot(grid[:, 0], curve, color="#d62728", linewidth=2, label="model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend()
    heading = f"R² = {score:.4f}"
    ax.set_title(f"{title}: {heading}" if title else heading)
    return save(figure, path)
