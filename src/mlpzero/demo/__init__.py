"""The article's experiments and its next steps, end to end: ``python -m mlpzero demo``.

:func:`run` runs the steps of :data:`STEPS` in order, writes one PNG per figure into
``out`` and prints a table (experiment, layers, epochs, training accuracy, seconds). Each
step is a function ``step(context) -> list[dict]`` that returns its table rows, so further
experiments are added by appending to :data:`STEPS`. Seeds are fixed, so every run prints
the same table.

- :mod:`~mlpzero.demo.article`: the article's experiments, in its order;
- :mod:`~mlpzero.demo.next_steps`: the next steps it names at its end (three spirals with
  softmax, the handwritten digits, a regression curve);
- :mod:`~mlpzero.demo.context`: what every step receives (:class:`Context`) and the seeds;
- :mod:`~mlpzero.demo.runner`: :func:`run` and the table.
"""

from .article import (
    ARTICLE_STEPS,
    activation_comparison,
    activations_figure,
    circles,
    fit_classifier,
    linear,
    xor,
)
from .context import Context
from .next_steps import DIGITS_RECIPE, NEXT_STEPS, digits, regression_curve, spirals
from .runner import STEPS, format_table, run

__all__ = [
    "ARTICLE_STEPS",
    "DIGITS_RECIPE",
    "NEXT_STEPS",
    "STEPS",
    "Context",
    "activation_comparison",
    "activations_figure",
    "circles",
    "digits",
    "fit_classifier",
    "format_table",
    "linear",
    "regression_curve",
    "run",
    "spirals",
    "xor",
]
