"""Figures for mlpzero: activation curves, decision boundaries, loss curves, and the
evaluation of a trained model (learning curves, confusion matrix, misclassified images,
first-layer weights, predicted-vs-true for regression).

Every function builds a :class:`matplotlib.figure.Figure` directly (not through
``pyplot``), so nothing opens a window or blocks, and it works without a display. Each
returns the Figure and, given ``path``, saves it there in the format its suffix names
(PNG, SVG, PDF or another that matplotlib writes; a path without a suffix gets ``.png``).
:class:`LivePlot` is the callback that redraws curves in place in a notebook.
"""

from .activations import plot_activations
from .boundary import plot_decision_boundary
from .curves import plot_activation_comparison, plot_loss_curve
from .diagnostics import plot_diagnostics
from .evaluation import (
    plot_confusion_matrix,
    plot_first_layer_weights,
    plot_learning_curves,
    plot_misclassified,
    plot_predicted_vs_true,
    plot_regression_fit,
)
from .live import LivePlot

__all__ = [
    "LivePlot",
    "plot_activation_comparison",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_diagnostics",
    "plot_first_layer_weights",
    "plot_learning_curves",
    "plot_loss_curve",
    "plot_misclassified",
    "plot_predicted_vs_true",
    "plot_regression_fit",
]
