"""scikit-learn's default network against scikit-learn, on idle cores and on busy ones.

A user's fit rarely has the machine to itself. This script fits the network that
``MLPClassifier()`` builds by default (one hidden layer of 100 ReLU units, Adam, batches
of 200) with :class:`mlpzero.sklearn.MLPClassifier` and with scikit-learn's, on 20,000
rows of ``n`` features and 10 classes, for a fixed number of epochs. The two estimators
take turns, ``--rounds`` fits each; then the same again while ``--busy`` other processes
(one per core by default) spin on the cores at normal priority, as another program would.
The table gives each library's median and fastest fit and mlpzero's median as a multiple
of scikit-learn's (below 1: mlpzero is faster).

With 20 and 40 features the first layer's products are of the size that OpenBLAS runs in
one thread when both operands are in row order (``network._SMALL_PRODUCT``); with 100 they
are larger, and run on its threads whatever the layout. A last case adds a second hidden
layer of 50 units to the 100 features: its weight gradient ``dZ^T A`` (50 x 200 x 100)
is of the first size, the first layer's products of the second.

    python -m benchmarks.contention [--rounds 5] [--busy 2] [--epochs 10]

Run it as ``make bench`` runs ``benchmarks/run.py``, with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` unset.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import _blas_kernels, _set_threads  # noqa: E402

#: Features of each case's data.
#: ``(features, hidden layers)`` of each case.
CASES = ((20, (100,)), (40, (100,)), (100, (100,)), (100, (100, 50)))
ROWS, CLASSES = 20_000, 10
#: A busy process: it spins while the process that started it (``{parent}``) lives, so
#: it stops by itself if this script is killed, and never before the script's end.
_SPIN = """import os, time
while os.getppid() == {parent}:
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        pass
"""


class Spinners:
    """The busy processes of :func:`busy_cores`."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def check(self) -> None:
        """Raise if one has stopped, so that no row measured on idle cores is labelled
        busy."""
        stopped = [p.returncode for p in self.processes if p.poll() is not None]
        if stopped:
            raise RuntimeError(f"{len(stopped)} busy process(es) stopped (exit {stopped})")


@contextmanager
def busy_cores(processes: int) -> Iterator[Spinners]:
    """``processes`` Python processes spinning until the block ends (those started, too,
    when starting another fails)."""
    spinners = Spinners()
    try:
        for _ in range(processes):
            spin = _SPIN.format(parent=os.getpid())
            spinners.processes.append(subprocess.Popen([sys.executable, "-c", spin]))
        time.sleep(0.5)  # let them start
        spinners.check()
        yield spinners
    finally:
        for spinner in spinners.processes:
            spinner.kill()
        for spinner in spinners.processes:
            spinner.wait(timeout=10)


def case_data(features: int) -> tuple[np.ndarray, np.ndarray]:
    """``X`` ``(ROWS, features)`` standard normal; ``y`` the largest of ``CLASSES`` random
    projections of each row."""
    rng = np.random.default_rng(features)
    X = rng.standard_normal((ROWS, features))
    y = np.argmax(X @ rng.standard_normal((features, CLASSES)), axis=1)
    return X, y


def fit_seconds(estimator, X: np.ndarray, y: np.ndarray) -> float:
    """Wall time of ``estimator.fit(X, y)``."""
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def measure(
    features: int, epochs: int, rounds: int, hidden: tuple[int, ...] = (100,)
) -> dict[str, list[float]]:
    """Fit seconds of each library on one case, the two taking turns."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as ScikitLearn

    from mlpzero.sklearn import MLPClassifier as Mlpzero

    X, y = case_data(features)
    options = dict(
        hidden_layer_sizes=hidden, max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
        random_state=0,
    )  # fmt: skip
    contenders = {"mlpzero": Mlpzero, "scikit-learn": ScikitLearn}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Mlpzero(**{**options, "max_iter": 1}).fit(X, y)  # compile outside the timing
        for turn in range(rounds):
            order = list(contenders) if turn % 2 == 0 else list(contenders)[::-1]
            for name in order:
                times[name].append(fit_seconds(contenders[name](**options), X, y))
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="fits per library and case")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per fit")
    parser.add_argument(
        "--busy", type=int, default=os.cpu_count() or 1, help="spinning processes (busy run)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.epochs < 1 or args.busy < 1:
        given = f"--rounds {args.rounds}, --epochs {args.epochs}, --busy {args.busy}"
        parser.error(f"--rounds, --epochs and --busy must be at least 1, got {given}")
    blas = _blas_kernels(_set_threads(os.cpu_count() or 1))  # the default: one per core
    print(f"# {blas}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    print("| cores | features | hidden | mlpzero s (fastest) | scikit-learn s | mlpzero ÷ them |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for label, processes in (("idle", 0), (f"{args.busy} busy", args.busy)):
        with busy_cores(processes) as spinners:
            for features, hidden in CASES:
                times = measure(features, args.epochs, args.rounds, hidden)
                spinners.check()
                ours, theirs = times["mlpzero"], times["scikit-learn"]
                ratio = statistics.median(ours) / statistics.median(theirs)
                print(
                    f"| {label} | {features} | {hidden} "
                    f"| {statistics.median(ours):.3f} ({min(ours):.3f}) "
                    f"| {statistics.median(theirs):.3f} ({min(theirs):.3f}) | {ratio:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
