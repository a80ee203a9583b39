"""Running the demo: every step in order, their figures written and one table printed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .article import ARTICLE_STEPS
from .context import Context
from .next_steps import NEXT_STEPS

__all__ = ["STEPS", "format_table", "run"]

#: The experiments, in the article's order, then its next steps (softmax, real data,
#: regression). Append ``step(context) -> list[dict]`` to add one.
STEPS: list[Callable[[Context], list[dict[str, Any]]]] = [*ARTICLE_STEPS, *NEXT_STEPS]


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as an aligned text table: experiment, layers, epochs, accuracy, seconds.

    A regression row has no accuracy; its mean squared error stands in that column.
    """
    header = ("experiment", "layers", "epochs", "accuracy", "seconds")
    lines = [header]
    for row in rows:
        if row["accuracy"] is not None:
            accuracy = f"{100 * row['accuracy']:.1f}%"
        elif row.get("mse") is not None:
            accuracy = f"MSE {row['mse']:.4f}"
        else:
            accuracy = ""
        epochs = str(row["epochs"]) if row["epochs"] else ""
        lines.append((row["experiment"], row["layers"], epochs, accuracy, f"{row['seconds']:.2f}"))
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = [
        "  ".join(
            cell.ljust(w) if c < 2 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def run(
    out: str | os.PathLike[str] = "out",
    *,
    epoch_scale: float = 1.0,
    steps: Sequence[Callable[[Context], list[dict[str, Any]]]] | None = None,
    verbose: bool = True,
) -> list[dict[str, Any]]:
    """Run the demo's steps, write their figures into ``out`` and print the table.

    ``epoch_scale`` multiplies every epoch count (for a quick check, e.g. 0.05);
    ``steps`` defaults to :data:`STEPS`. Returns the table rows as dicts with keys
    ``experiment``, ``layers``, ``activation``, ``epochs``, ``accuracy`` (a fraction, or
    None), ``seconds`` and ``figure`` (the PNG path).
    """
    if isinstance(epoch_scale, bool) or not (
        isinstance(epoch_scale, (int, float)) and 0 < epoch_scale <= 1
    ):
        raise ValueError(f"epoch_scale must be a number in (0, 1], got {epoch_scale!r}")
    context = Context(out=Path(out), epoch_scale=float(epoch_scale))
    context.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for step in STEPS if steps is None else steps:
        new_rows = step(context)
        rows.extend(new_rows)
        if verbose:
            for row in new_rows:
                done = "" if row["accuracy"] is None else f" accuracy {100 * row['accuracy']:.1f}%"
                print(f"  {row['experiment']}:{done} ({row['seconds']:.1f} s)", flush=True)
    if verbose:
        print()
        print(format_table(rows))
        print(f"\nTotal {time.perf_counter() - start:.1f} s; figures in {context.out}/")
    return rows
