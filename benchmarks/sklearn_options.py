"""mlpzero's scikit-learn estimators against scikit-learn's, option by option.

Each row fits ``mlpzero.sklearn.MLPClassifier`` (or ``MLPRegressor``) and scikit-learn's
with the same options on the same data, a fixed number of iterations (``tol=0``), the two
taking turns, ``--rounds`` fits each, and gives the fastest fit of each, mlpzero's as a
multiple of scikit-learn's (below 1: mlpzero is faster), and both training scores. The
rows start from scikit-learn's defaults (one hidden layer of 100 ReLU units, Adam,
batches of 200) on 20,000 rows of 40 standard-normal features, and change one thing
each: a user switching libraries should not find an option that makes mlpzero the slower.

    python -m benchmarks.sklearn_options [--rounds 3] [ROW_NAME_PART ...]

Run it as ``make bench`` runs ``benchmarks/run.py``, with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` unset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import _blas_kernels, _set_threads  # noqa: E402

#: ``(name, options, data)``: the estimator's options beyond the common ones, and the
#: data's ``(rows, features, classes)`` (classes 0: a regression target), dtype float64
#: unless a fourth entry names another.
ROWS: list[tuple[str, dict[str, Any], tuple]] = [
    ("defaults, 2 classes", {}, (20_000, 40, 2)),
    ("10 classes", {}, (20_000, 40, 10)),
    ("float32 X", {}, (20_000, 40, 10, "float32")),
    ("solver='sgd'", {"solver": "sgd", "learning_rate_init": 0.01}, (20_000, 40, 10)),
    ("solver='lbfgs'", {"solver": "lbfgs", "max_iter": 60}, (20_000, 40, 10)),
    ("activation='tanh'", {"activation": "tanh"}, (20_000, 40, 10)),
    ("activation='logistic'", {"activation": "logistic"}, (20_000, 40, 10)),
    ("alpha=0.01", {"alpha": 0.01}, (20_000, 40, 10)),
    ("early_stopping=True", {"early_stopping": True}, (20_000, 40, 10)),
    ("batch_size=32", {"batch_size": 32, "max_iter": 5}, (20_000, 40, 10)),
    ("hidden (256, 128)", {"hidden_layer_sizes": (256, 128), "max_iter": 5}, (20_000, 40, 10)),
    ("1,000 rows of 10", {"max_iter": 200}, (1_000, 10, 2)),
    ("sample_weight", {}, (20_000, 40, 10)),
    ("MLPRegressor", {}, (20_000, 40, 0)),
    ("MLPRegressor, 1,000 rows", {"max_iter": 200}, (1_000, 10, 0)),
]
COMMON = {"max_iter": 15, "tol": 0.0, "n_iter_no_change": 1_000_000, "random_state": 0}


def make_data(rows: int, features: int, classes: int, dtype: str = "float64"):
    """Standard-normal ``X``; ``y`` the largest of ``classes`` random projections through
    tanh (two classes: whether the first is positive; a regression target: the first,
    plus noise)."""
    rng = np.random.default_rng(rows + features + classes)
    X = rng.standard_normal((rows, features))
    signal = np.tanh(X @ rng.standard_normal((features, max(classes, 1))))
    if classes == 0:
        y = signal[:, 0] + 0.1 * rng.standard_normal(rows)
    elif classes == 2:
        y = (signal[:, 0] > 0).astype(int)
    else:
        y = signal.argmax(axis=1)
    return X.astype(dtype), y


def compare(name: str, options: dict[str, Any], data: tuple, rounds: int) -> dict[str, Any]:
    """Fastest fit and training score of each library on one row."""
    from sklearn import neural_network as theirs
    from sklearn.exceptions import ConvergenceWarning

    from mlpzero import sklearn as ours

    X, y = make_data(*data)
    kind = "MLPRegressor" if data[2] == 0 else "MLPClassifier"
    estimators = {"mlpzero": getattr(ours, kind), "scikit-learn": getattr(theirs, kind)}
    settings = {**COMMON, **options}
    fit_options: dict[str, Any] = {}
    if name == "sample_weight":
        fit_options["sample_weight"] = np.random.default_rng(1).uniform(0.5, 1.5, len(y))
    seconds: dict[str, list[float]] = {library: [] for library in estimators}
    scores: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimators["mlpzero"](**{**settings, "max_iter": 1}).fit(X, y)  # compile first
        for turn in range(rounds):
            order = list(estimators) if turn % 2 == 0 else list(estimators)[::-1]
            for library in order:
                estimator = estimators[library](**settings)
                start = time.perf_counter()
                estimator.fit(X, y, **fit_options)
                seconds[library].append(time.perf_counter() - start)
                scores[library] = estimator.score(X, y)
    return {"seconds": {k: min(v) for k, v in seconds.items()}, "scores": scores}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fits per library and row")
    parser.add_argument("only", nargs="*", help="run only rows whose name contains one")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    names = [name for name, _, _ in ROWS]
    unknown = [part for part in args.only if not any(part in name for name in names)]
    if unknown:
        parser.error(f"no row's name contains {', '.join(map(repr, unknown))}; rows: {names}")
    blas = _blas_kernels(_set_threads(os.cpu_count() or 1))  # the default: one per core
    print(f"# {blas}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    print("| row | mlpzero s | scikit-learn s | mlpzero ÷ scikit-learn | scores |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, options, data in ROWS:
        if args.only and not any(part in name for part in args.only):
            continue
        result = compare(name, options, data, args.rounds)
        ours, theirs = result["seconds"]["mlpzero"], result["seconds"]["scikit-learn"]
        score = " / ".join(f"{result['scores'][k]:.3f}" for k in ("mlpzero", "scikit-learn"))
        print(f"| {name} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f} | {score} |", flush=True)


if __name__ == "__main__":
    main()
