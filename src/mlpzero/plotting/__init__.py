"""Figures for mlpzero: activation curves, decision boundaries, loss curves.

Every function builds a :class:`matplotlib.figure.Figure` directly (not through
``pyplot``), so nothing opens a window or blocks, and it works without a display. Each
returns the Figure and, given ``path``, saves it there (PNG, SVG or PDF by the suffix).
"""

from .activations import plot_activations
from .boundary import plot_decision_boundary
from .curves import plot_activation_comparison, plot_loss_curve

__all__ = [
    "plot_activation_comparison",
    "plot_activations",
    "plot_decision_boundary",
    "plot_loss_curve",
]
