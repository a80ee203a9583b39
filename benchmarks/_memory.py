"""A process's memory as Linux reports it in ``/proc/self/status``, and its peak over a block.

- ``VmRSS``: resident memory now; ``VmHWM``: its peak over the process's life so far.
- ``RssAnon``: the resident part that belongs to no file (the heap, arrays, Python
  objects): what the process takes from the machine.
- ``RssFile``: resident pages of mapped files (shared libraries, memory-mapped data).
  The kernel can drop them and read them again, and processes mapping the same file
  share them.

The kernel keeps a peak for ``VmRSS`` only; :class:`PeakMemory` samples the others.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

#: The fields of /proc/self/status these benchmarks read.
FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def status_mb(fields: tuple[str, ...] = FIELDS) -> dict[str, float]:
    """``fields`` of /proc/self/status in MB (2**20 bytes); 0.0 where a field is absent
    (not Linux, or an old kernel)."""
    values = dict.fromkeys(fields, 0.0)
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0]) / 1024
    return values


class PeakMemory:
    """Sample ``fields`` every ``interval`` seconds in a thread while a ``with`` block runs.

    After the block, :attr:`before` holds the values at its start and :attr:`peak` the
    largest sampled (the last sample is taken as the block ends, so a block shorter than
    one interval is measured too). A sampled peak can miss a shorter spike between two
    samples: it is a lower bound. Each sample costs the process tens of microseconds and
    the GIL, so keep the sampler out of blocks that are timed.
    """

    def __init__(self, fields: tuple[str, ...] = ("RssAnon", "RssFile"), interval: float = 0.005):
        self.fields, self.interval = fields, interval
        self.before: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        for key, value in status_mb(self.fields).items():
            self.peak[key] = max(self.peak[key], value)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self.before = status_mb(self.fields)
        self.peak = dict(self.before)
        self._done = threading.Event()  # a new one, so that the sampler can run again
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
