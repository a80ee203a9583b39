"""Progress reports during training: a progress bar, per-epoch lines, the article's cost line.

:class:`ProgressLogger` is the callback that ``MLP.fit`` adds for its ``verbose`` and
``print_every`` options:

- ``verbose=0``: nothing (unless ``print_every`` is given);
- ``verbose=1``: a progress bar over the epochs on standard error, shown only once the
  run has lasted ``delay`` seconds (2 by default), with epoch/total, rate, time left and
  the latest loss and validation metrics; plus the article's line every ``print_every``
  epochs (200 when not given);
- ``verbose=2``: one line per epoch with every metric, no bar.

``print_every=N`` prints ``Epoch e: cost = c``, the article's line, every ``N`` epochs
(``e`` counted from 0), on standard output.

In a Jupyter kernel the bar is tqdm's notebook widget when ipywidgets is installed, and
otherwise the plain text bar (without tqdm's "IProgress not found" warning); in a
terminal it is the text bar. IPython is never imported here: a kernel has loaded it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .callbacks import Callback

__all__ = ["ProgressLogger", "bar_class", "format_logs", "in_jupyter_kernel", "write_line"]

_REFRESH_SECONDS = 0.2


def in_jupyter_kernel() -> bool:
    """Whether this process is a Jupyter (IPython) kernel, as in a notebook.

    Reads IPython only if it is already imported (every kernel has imported it), so a
    script never pays for importing it.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def bar_class() -> type:
    """The tqdm class for a progress bar here: the notebook widget in a Jupyter kernel
    with ipywidgets, else the plain text bar."""
    if in_jupyter_kernel() and _widgets_available():
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm


def write_line(line: str) -> None:
    """Write ``line`` to standard error past any progress bar on screen: the bar is cleared
    first and drawn again below the line, rather than the line following the bar's text."""
    from tqdm.std import tqdm as text_tqdm

    text_tqdm.write(line, file=sys.stderr)


def format_logs(logs: dict[str, float]) -> str:
    """``loss=0.1234 accuracy=0.9500 ...``: the metrics of one epoch on one line."""
    return " ".join(
        f"{key}={value:.4g}" if key == "lr" else f"{key}={value:.4f}" for key, value in logs.items()
    )


class ProgressLogger(Callback):
    """Reports progress for ``verbose`` in {0, 1, 2} and the article's ``print_every``."""

    def __init__(
        self,
        epochs: int,
        verbose: int = 1,
        print_every: int | None = None,
        delay: float = 2.0,
    ) -> None:
        if isinstance(verbose, bool):
            verbose = int(verbose)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.epochs = epochs
        self.verbose = verbose
        self.print_every = print_every
        if self.verbose == 1 and print_every is None:
            self.print_every = 200
        self.delay = delay
        self.bar: Any = None
        self._first_epoch = 0
        self._last_refresh = self._started = 0.0

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        history = getattr(self.model, "history", None)
        self._first_epoch = history.epochs if history is not None else 0
        if self.verbose == 1:
            self.bar = bar_class()(
                total=self.epochs,
                unit="epoch",
                delay=self.delay,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=_REFRESH_SECONDS,
            )
            self._started = self._last_refresh = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if self.print_every and epoch % self.print_every == 0:
            self._write(f"Epoch {epoch}: cost = {logs.get('loss', float('nan')):.4f}")
        if self.verbose == 2:
            done = epoch - self._first_epoch + 1
            self._write(f"Epoch {done}/{self.epochs}: {format_logs(logs)}")
        if self.bar is not None:
            now = time.monotonic()
            if now - self._last_refresh >= _REFRESH_SECONDS:
                self.bar.set_postfix_str(_short(logs), refresh=False)
                self._last_refresh = now
            self.bar.update(1)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.bar is not None and logs:
            self.bar.set_postfix_str(_short(logs), refresh=False)
        self.close()

    def close(self) -> None:
        """Close the bar (safe to call more than once)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _write(self, line: str) -> None:
        # Once the bar may be on screen, write around it; before that, writing through
        # the bar would draw it early.
        if self.bar is not None and time.monotonic() - self._started >= self.delay:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line)


def _short(logs: dict[str, float]) -> str:
    shown = {k: v for k, v in logs.items() if k != "lr"}
    return " ".join(f"{key}={value:.4f}" for key, value in shown.items())
