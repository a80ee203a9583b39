"""Benchmarks: mlpzero side by side with a dictionary baseline, scikit-learn and PyTorch.

Run from the repository root (``make bench`` installs the ``bench`` extra first)::

    python -m benchmarks.run                      # every workload, 5 repetitions
    python -m benchmarks.run -w 1 -w 3 -r 3       # choose workloads and repetitions
    python -m benchmarks.run --quick              # small sizes, 1 repetition: a smoke run

Workloads (see benchmarks/RESULTS.md for the latest table):

1. the article's XOR network, 2-8-4-1, 1000 samples, full batch, float64, learning rate
   0.1, 2000 epochs: ``mlpzero.tutorial``, ``MLP`` and a bare ``Network`` loop against the
   dictionary implementation of the article's formulas in ``benchmarks/article_baseline``;
2. 784-512-256-10, ReLU, Adam (learning rate 1e-3), batch 128, one epoch over 60,000
   synthetic samples, float32 and float64: mlpzero, scikit-learn's ``MLPClassifier`` and a
   PyTorch ``nn.Sequential`` with ``torch.optim.Adam``;
3. the GEMM-only floor of workload 2: its eight matrix products per batch and nothing else,
   in NumPy (the BLAS mlpzero and scikit-learn use) and in PyTorch (its own BLAS);
4. prediction throughput on the 60,000 samples and peak resident memory of workload 2's fit;
5. a cold first process: a small fit in a new interpreter with an empty numba cache
   (``NUMBA_CACHE_DIR`` set to a fresh directory), from start to exit, and the same again
   with that cache filled.

mlpzero runs twice where it matters: as installed (``mlpzero``: its default backend,
numba where numba is installed) and on NumPy alone (``mlpzero (numpy)``,
``MLPZERO_BACKEND=numpy``). The table "The targets" divides the figures of the same run
by one another: each target is a ratio, never a time compared with another day's.

Every measurement of workloads 2-4 runs in a fresh subprocess (so one library's threads,
caches and allocator cannot slow another's, and peak memory is per contender); all
contenders take turns within each repetition (interleaved), and the table reports medians.
Every library is given the same number of threads: the machine's cores, or ``--threads``.

A whole process can run faster or slower than the next one, its matrix products included
(``benchmarks/RESULTS.md``), which moves a ratio of two processes' figures. So each fit's
process also times the floor's products, on the same rows, after the fit and its memory
are measured: "fit ÷ floor, same process" is the median over repetitions of that ratio,
and the targets give it beside the ratio of the two workloads' medians.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so that `python benchmarks/run.py` works as well as -m
    sys.path.insert(0, str(ROOT))

from benchmarks._memory import status_mb  # noqa: E402 (needs ROOT on the path)

W2_SIZES = (784, 512, 256, 10)
W2_BATCH = 128
W2_LR = 1e-3
#: mlpzero as installed (its default backend) and on NumPy alone, as named in the tables.
OURS = ("mlpzero", "mlpzero (numpy)")


# ---------------------------------------------------------------------------- helpers
def _set_threads(threads: int) -> dict[str, Any]:
    """Give NumPy's BLAS ``threads`` threads (threadpoolctl), report what it runs."""
    info: dict[str, Any] = {}
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(threads)
        info["threadpools"] = [
            {k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for pool in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def _blas_kernels(info: dict[str, Any]) -> str:
    """The BLAS libraries and kernels of :func:`_set_threads`' report, in a few words."""
    pools = info["threadpools"]
    if isinstance(pools, str):
        return "unknown"
    return ", ".join(f"{pool['internal_api']} {pool['architecture']}" for pool in pools)


def _synthetic_data(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of 784 standard-normal features and 10 classes from a random linear
    teacher: learnable, and made directly in ``dtype`` (no float64 copy on the way).

    The labels are computed in blocks of rows: one product over all of ``X`` made the
    BLAS threads touch tens of MB of their own buffers, which then counted in every
    contender's peak memory although no fit had run yet.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, W2_SIZES[0]), dtype=np.dtype(dtype).type)
    teacher = rng.standard_normal((W2_SIZES[0], W2_SIZES[-1])).astype(dtype)
    y = np.empty(n, dtype=np.int64)
    for start in range(0, n, _LABEL_ROWS):
        stop = start + _LABEL_ROWS
        np.argmax(X[start:stop] @ teacher, axis=1, out=y[start:stop])
    return X, y


#: Rows per block when :func:`_synthetic_data` labels its rows.
_LABEL_ROWS = 1024


# ---------------------------------------------------------------------------- workload 2/4
def _fit_mlpzero(X: np.ndarray, y: np.ndarray, dtype: str):
    from mlpzero import MLP

    model = MLP(hidden=W2_SIZES[1:-1], activation="relu", seed=0, dtype=dtype)
    start = time.perf_counter()
    model.fit(X, y, epochs=1, batch_size=W2_BATCH, optimizer="adam", learning_rate=W2_LR)
    seconds = time.perf_counter() - start
    return seconds, model.predict, {}


def _fit_sklearn(X: np.ndarray, y: np.ndarray, dtype: str):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=W2_SIZES[1:-1],
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=W2_BATCH,
        learning_rate_init=W2_LR,
        max_iter=1,
        shuffle=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model.predict, {"coefs_dtype": str(model.coefs_[0].dtype)}


def _fit_torch(X: np.ndarray, y: np.ndarray, dtype: str):
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch_dtype = torch.float32 if dtype == "float32" else torch.float64
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(W2_SIZES)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(W2_SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(torch_dtype)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=W2_LR)
    X_t = torch.from_numpy(X)  # shares memory with X
    y_t = torch.from_numpy(y)
    n = X_t.shape[0]
    generator = torch.Generator().manual_seed(0)

    start = time.perf_counter()
    order = torch.randperm(n, generator=generator)
    for first in range(0, n, W2_BATCH):
        index = order[first : first + W2_BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(X_t[index]), y_t[index])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start

    def predict(features: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(features)).argmax(dim=1).numpy()

    return seconds, predict, {}


FITTERS = {
    "mlpzero": _fit_mlpzero,
    "mlpzero (numpy)": _fit_mlpzero,  # the worker switches the backend first
    "sklearn": _fit_sklearn,
    "torch": _fit_torch,
}


def worker_fit(contender: str, dtype: str, n: int, threads: int) -> dict[str, Any]:
    """One fit of workload 2 plus workload 4's measurements, in this (fresh) process."""
    if contender == "torch":
        import torch

        torch.set_num_threads(threads)
    if contender.startswith("mlpzero"):
        from mlpzero import get_backend, set_backend

        if contender == "mlpzero (numpy)":
            set_backend("numpy")
    info = _set_threads(threads)
    X, y = _synthetic_data(n, dtype)
    # A small fit first, for every contender alike: one-time costs (loading the compiled
    # kernels, first-call set-up in each library) stay out of the timed fit.
    FITTERS[contender](X[: 4 * W2_BATCH], y[: 4 * W2_BATCH], dtype)
    rss_before = status_mb(("VmRSS",))["VmRSS"]
    cpu = time.process_time()
    seconds, predict, extra = FITTERS[contender](X, y, dtype)
    cpu = time.process_time() - cpu
    peak = status_mb(("VmHWM",))["VmHWM"]  # Linux keeps this peak: nothing samples the fit
    times = []
    for _ in range(3):
        start = time.perf_counter()
        predicted = predict(X)
        times.append(time.perf_counter() - start)
    accuracy = float(np.mean(np.asarray(predicted) == y))
    # The floor again, in this process and on these rows, after the peak is read: a
    # process's speed (the cores and pages it was given) moves both figures alike, so
    # their ratio moves less from process to process than either.
    floor = min(floor_epoch("numpy", X, threads)[0] for _ in range(2))
    return {
        "fit_seconds": seconds,
        "floor_seconds": floor,
        "fit_over_floor": seconds / floor,
        "cpu_seconds": cpu,
        "predict_seconds": statistics.median(times),
        "samples_per_second": n / statistics.median(times),
        "train_accuracy": accuracy,
        "data_mb": (X.nbytes + y.nbytes) / 2**20,
        "rss_before_fit_mb": rss_before,
        "peak_rss_mb": peak,
        **extra,
        **info,
        **({"backend": get_backend()} if contender.startswith("mlpzero") else {}),
    }


# ---------------------------------------------------------------------------- workload 3
def _floor_setup(library: str, X: np.ndarray, threads: int):
    """What the floor's products need, in ``library`` (``"numpy"`` or ``"torch"``): ``X``
    as that library's array, the weights, their gradients, the matrix product and a
    function giving activation and delta buffers for a number of rows."""
    sizes = W2_SIZES
    dtype = X.dtype
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((o, i)).astype(dtype) for i, o in itertools.pairwise(sizes)]

    def numpy_buffers(rows: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        # Filled with ordinary numbers: a buffer left as np.empty made it could hold NaN
        # or subnormal garbage, which some BLAS kernels process more slowly.
        acts = [rng.standard_normal((rows, k)).astype(dtype) for k in sizes[1:]]
        deltas = [rng.standard_normal((rows, k)).astype(dtype) * 0.01 for k in sizes[1:]]
        return acts, deltas

    if library == "torch":
        import torch

        torch.set_num_threads(threads)
        W = [torch.from_numpy(w) for w in weights]

        def torch_buffers(rows: int) -> tuple[list[Any], list[Any]]:
            acts, deltas = numpy_buffers(rows)
            return [torch.from_numpy(a) for a in acts], [torch.from_numpy(d) for d in deltas]

        return torch.from_numpy(X), W, [torch.empty_like(w) for w in W], torch.matmul, torch_buffers
    _set_threads(threads)
    return X, weights, [np.empty_like(w) for w in weights], np.matmul, numpy_buffers


def floor_epoch(library: str, X: np.ndarray, threads: int) -> tuple[float, float]:
    """Seconds and CPU seconds of the matrix products of one epoch of workload 2 on the
    rows of ``X``, and nothing else.

    Per batch: three forward products ``A W^T``, three weight gradients ``dZ^T A`` and two
    backward products ``dZ W``: the work no implementation of workload 2 can skip.
    """
    X_t, W, dW, matmul, buffers = _floor_setup(library, X, threads)
    made: dict[int, tuple[list[Any], list[Any]]] = {}
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, X.shape[0], W2_BATCH):
        xb = X_t[first : first + W2_BATCH]
        rows = xb.shape[0]
        if rows not in made:
            made[rows] = buffers(rows)
        acts, deltas = made[rows]
        a = xb
        for layer in range(3):
            matmul(a, W[layer].T, out=acts[layer])
            a = acts[layer]
        for layer in (2, 1, 0):
            a_prev = xb if layer == 0 else acts[layer - 1]
            matmul(deltas[layer].T, a_prev, out=dW[layer])
            if layer:
                matmul(deltas[layer], W[layer], out=deltas[layer - 1])
    return time.perf_counter() - start, time.process_time() - cpu


def worker_gemm(library: str, dtype: str, n: int, threads: int) -> dict[str, Any]:
    """Workload 3 in this (fresh) process: :func:`floor_epoch` on ``n`` random rows, and
    the floor of prediction, the three forward products over every row in chunks."""
    X = np.random.default_rng(0).standard_normal((n, W2_SIZES[0]), dtype=np.dtype(dtype).type)
    seconds, cpu = floor_epoch(library, X, threads)
    X_t, W, _, matmul, buffers = _floor_setup(library, X, threads)
    chunk = 4096
    acts = buffers(chunk)[0]
    start = time.perf_counter()
    for first in range(0, n, chunk):
        a = X_t[first : first + chunk]
        rows = a.shape[0]
        for layer in range(3):
            matmul(a, W[layer].T, out=acts[layer][:rows])
            a = acts[layer][:rows]
    return {
        "fit_seconds": seconds,
        "cpu_seconds": cpu,
        "samples_per_second": n / (time.perf_counter() - start),
    }


# ---------------------------------------------------------------------------- workload 5
#: The small fit of the cold-start measurement: what a first session might run.
COLD_FIT = """
import numpy as np
from mlpzero import MLP
rng = np.random.default_rng(0)
X = rng.standard_normal((500, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(int)
model = MLP(hidden=(8, 4), seed=0).fit(X, y, epochs=200)
print(model.score(X, y))
"""


def cold_start() -> tuple[dict[str, Any], dict[str, Any]]:
    """Wall time of a new process running :data:`COLD_FIT` with an empty numba cache
    (a fresh ``NUMBA_CACHE_DIR``), then of a second one with that cache filled."""
    import resource  # POSIX: the children's CPU time
    import tempfile

    env = {k: v for k, v in os.environ.items() if k != "MLPZERO_BACKEND"}
    runs = []
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        for _ in range(2):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", COLD_FIT], env=env, cwd=ROOT, capture_output=True
            )
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            if done.returncode != 0:
                runs.append({"error": done.stderr.decode().strip().splitlines()[-1]})
            else:
                runs.append({"fit_seconds": seconds, "cpu_seconds": cpu})
    return runs[0], runs[1]


# ---------------------------------------------------------------------------- workload 1
def _xor_data(m: int = 1000, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """The article's XOR data in its layout: ``X`` ``(2, m)``, ``Y`` ``(1, m)``."""
    rng = np.random.RandomState(seed)
    X = rng.randn(2, m) * 2
    Y = (X[0] * X[1] > 0).reshape(1, m).astype(int)
    return X, Y


def workload1_contenders(epochs: int) -> dict[str, Any]:
    """Callables ``() -> seconds`` for workload 1, and the reasons for any missing."""
    from mlpzero import MLP, Network, get_backend, set_backend
    from mlpzero.losses import BinaryCrossEntropy
    from mlpzero.optimizers import SGD

    X, Y = _xor_data()
    contenders: dict[str, Any] = {}
    missing: dict[str, str] = {}

    def timed(fn, backend: str = "numpy"):
        def run() -> tuple[float, float]:
            before = get_backend()
            set_backend(backend)
            try:
                start, cpu = time.perf_counter(), time.process_time()
                fn()
                return time.perf_counter() - start, time.process_time() - cpu
            finally:
                set_backend(before)

        return run

    try:
        from benchmarks import article_baseline

        def baseline() -> None:
            np.random.seed(42)
            article_baseline.multi_layer_neural_network(
                X, Y, n_hs=[8, 4], num_epochs=epochs, learning_rate=0.1
            )

        contenders["baseline (dict, article's formulas)"] = timed(baseline)
    except (ImportError, AttributeError) as error:
        missing["baseline (dict, article's formulas)"] = f"benchmarks.article_baseline: {error}"

    from mlpzero import tutorial

    def through_tutorial() -> None:
        np.random.seed(42)
        tutorial.multi_layer_neural_network(X, Y, n_hs=[8, 4], num_epochs=epochs, learning_rate=0.1)

    def through_mlp() -> None:
        MLP(hidden=(8, 4), seed=0, dtype="float64").fit(X.T, Y[0], epochs=epochs, learning_rate=0.1)

    def through_network() -> None:
        net = Network([2, 8, 4, 1], "relu", dtype="float64", rng=0)
        loss, sgd = BinaryCrossEntropy(), SGD(0.1)
        features = np.ascontiguousarray(X.T)
        targets = np.ascontiguousarray(Y.T, dtype=np.float64)
        for _ in range(epochs):
            logits = net.forward(features)
            net.backward(loss.gradient(logits, targets, out=net.output_delta()))
            sgd.step(net.params, net.grads)

    for suffix, backend in _our_backends():
        for name, fn in (
            ("mlpzero.tutorial", through_tutorial),
            ("mlpzero MLP.fit", through_mlp),
            ("mlpzero Network loop (no loss value)", through_network),
        ):
            contenders[name + suffix] = timed(fn, backend)
    return {"contenders": contenders, "missing": missing}


def _our_backends() -> list[tuple[str, str]]:
    """``(suffix, backend)`` for mlpzero as installed (its default backend: numba where
    numba is installed) and, when that is not NumPy already, for NumPy alone."""
    from mlpzero import numba_available

    default = "numba" if numba_available() else "numpy"
    return [("", default)] + ([(" (numpy)", "numpy")] if default != "numpy" else [])


def agreement_with_baseline(epochs: int) -> list[str]:
    """Do the tutorial (on each backend) and the baseline, seeded alike, end with the same
    parameters?"""
    from benchmarks import article_baseline
    from mlpzero import get_backend, set_backend, tutorial

    X, Y = _xor_data()

    def trained(module) -> dict[str, np.ndarray]:
        np.random.seed(42)
        params, _ = module.multi_layer_neural_network(
            X, Y, n_hs=[8, 4], num_epochs=epochs, learning_rate=0.1
        )
        return {k: np.asarray(v) for k, v in params.items() if k[0] in "Wb"}

    base = trained(article_baseline)
    lines = []
    before = get_backend()
    for _, backend in _our_backends():
        set_backend(backend)
        try:
            ours = trained(tutorial)
        finally:
            set_backend(before)
        diff = max(float(np.max(np.abs(base[k] - ours[k]))) for k in base)
        lines.append(
            f"max |tutorial - baseline| over the parameters after {epochs} epochs, "
            f"{backend} backend: {diff:.3g}"
        )
    return lines


# ---------------------------------------------------------------------------- driver
def _spawn(kind: str, contender: str, dtype: str, n: int, threads: int) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        json.dumps({"kind": kind, "contender": contender, "dtype": dtype, "n": n, "t": threads}),
    ]
    # mlpzero's contenders choose their backend themselves: the default one, or NumPy.
    env = {k: v for k, v in os.environ.items() if k != "MLPZERO_BACKEND"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def machine_description(threads: int) -> dict[str, Any]:
    description: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "threads_given_to_each_library": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "load_average_at_start": os.getloadavg(),
    }
    description.update(_set_threads(threads))
    for name in ("sklearn", "torch"):
        with contextlib.suppress(ImportError):
            description[name] = __import__(name).__version__
    with contextlib.suppress(ImportError):
        import torch

        description["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "other"
    return description


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def run(workloads: list[int], repeats: int, threads: int, quick: bool) -> dict[str, Any]:
    n2 = 6_000 if quick else 60_000
    epochs1 = 200 if quick else 2000
    dtypes = ("float32", "float64")
    needs = {"mlpzero (numpy)": "numba", "sklearn": "sklearn", "torch": "torch"}
    libraries = ["mlpzero"] + [lib for lib, module in needs.items() if _available(module)]
    samples: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []

    if 1 in workloads:
        found = workload1_contenders(epochs1)
        for name, reason in found["missing"].items():
            notes.append(f"workload 1: {name} not measured ({reason})")
        names = list(found["contenders"])
        for warm_up in workload1_contenders(5)["contenders"].values():
            warm_up()  # loads the compiled kernels before anything is timed
        for rep in range(repeats):
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                seconds, cpu = found["contenders"][name]()
                samples.setdefault(f"1|{name}|float64", []).append(
                    {"fit_seconds": seconds, "cpu_seconds": cpu}
                )
        notes += [f"workload 1: {line}" for line in agreement_with_baseline(epochs1)]

    jobs: list[tuple[str, str, str]] = []
    if 2 in workloads or 4 in workloads:
        jobs += [("fit", lib, dt) for dt in dtypes for lib in libraries]
    if 3 in workloads:
        floors = ["numpy"] + (["torch"] if "torch" in libraries else [])
        jobs += [("gemm", lib, dt) for dt in dtypes for lib in floors]
    for rep in range(repeats):
        shift = rep % max(len(jobs), 1)
        for kind, lib, dt in jobs[shift:] + jobs[:shift]:
            print(f"  rep {rep + 1}/{repeats}: {kind} {lib} {dt}", file=sys.stderr, flush=True)
            result = _spawn(kind, lib, dt, n2, threads)
            key = f"{'2' if kind == 'fit' else '3'}|{lib}|{dt}"
            samples.setdefault(key, []).append(result)

    if 5 in workloads:
        for rep in range(repeats):
            print(f"  rep {rep + 1}/{repeats}: cold first process", file=sys.stderr, flush=True)
            cold, warm = cold_start()
            samples.setdefault("5|cold (empty numba cache)|-", []).append(cold)
            samples.setdefault("5|warm (cache filled)|-", []).append(warm)

    return {
        "machine": machine_description(threads),
        "settings": {
            "repeats": repeats,
            "quick": quick,
            "workload1_epochs": epochs1,
            "workload2_samples": n2,
        },
        "samples": samples,
        "notes": notes,
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Median of each measured quantity per key, over the repetitions without errors."""
    summary: dict[str, dict[str, float]] = {}
    for key, runs in result["samples"].items():
        good = [r for r in runs if "error" not in r]
        if not good:
            summary[key] = {"error": runs[0]["error"]}  # type: ignore[dict-item]
            continue
        fields = [k for k, v in good[0].items() if isinstance(v, (int, float))]
        summary[key] = {f: _median([r[f] for r in good]) for f in fields}
        summary[key]["runs"] = len(good)
    return summary


def markdown(result: dict[str, Any]) -> str:
    summary = summarize(result)
    lines = []

    def fmt(x: float, digits: int = 3) -> str:
        return f"{x:.{digits}g}" if x == x else "n/a"

    w1 = {k.split("|")[1]: v for k, v in summary.items() if k.startswith("1|")}
    if w1:
        lines += [
            "### Workload 1: the article's XOR network (2-8-4-1, 1000 samples, float64, "
            f"{result['settings']['workload1_epochs']} full-batch epochs)",
            "",
            "| contender | median s | ÷ baseline | median CPU s | ÷ baseline (CPU) | target |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        base = w1.get("baseline (dict, article's formulas)", {})
        for name, stats in w1.items():
            target = {"mlpzero.tutorial": "<= 0.25", "mlpzero MLP.fit": "<= 0.5"}.get(name, "")
            ratio = stats["fit_seconds"] / base.get("fit_seconds", float("nan"))
            cpu_ratio = stats["cpu_seconds"] / base.get("cpu_seconds", float("nan"))
            lines.append(
                f"| {name} | {fmt(stats['fit_seconds'])} | {fmt(ratio)} "
                f"| {fmt(stats['cpu_seconds'])} | {fmt(cpu_ratio)} | {target} |"
            )
        lines.append("")

    for dtype in ("float32", "float64"):
        w2 = {k.split("|")[1]: v for k, v in summary.items() if k.startswith("2|") and dtype in k}
        w3 = {k.split("|")[1]: v for k, v in summary.items() if k.startswith("3|") and dtype in k}
        if not (w2 or w3):
            continue
        n = result["settings"]["workload2_samples"]
        lines += [
            f"### Workloads 2-4, {dtype}: 784-512-256-10, Adam, batch 128, one epoch of "
            f"{n:,} samples",
            "",
            "| contender | fit median s | mlpzero ÷ this | mlpzero (numpy) ÷ this "
            "| fit ÷ floor, same process | fit CPU s | predict samples/s "
            "| peak RSS MB (data MB) | train acc. |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        ours = [w2.get(name, {}).get("fit_seconds", float("nan")) for name in OURS]
        for name, stats in w2.items():
            if "error" in stats:
                lines.append(f"| {name} | error: {stats['error']} | | | | | | | |")
                continue
            ratios = " | ".join(fmt(mine / stats["fit_seconds"]) for mine in ours)
            lines.append(
                f"| {name} | {fmt(stats['fit_seconds'])} | {ratios} "
                f"| {fmt(stats.get('fit_over_floor', float('nan')))} "
                f"| {fmt(stats['cpu_seconds'])} | {stats['samples_per_second']:,.0f} "
                f"| {stats['peak_rss_mb']:,.0f} ({stats['data_mb']:,.0f}) "
                f"| {stats['train_accuracy']:.3f} |"
            )
        for name, stats in w3.items():
            if "error" in stats:
                lines.append(f"| GEMM floor ({name}) | error: {stats['error']} | | | | | | | |")
                continue
            ratios = " | ".join(fmt(mine / stats["fit_seconds"]) for mine in ours)
            per_second = stats.get("samples_per_second", float("nan"))
            lines.append(
                f"| GEMM floor ({name}) | {fmt(stats['fit_seconds'])} "
                f"| {ratios} | | {fmt(stats['cpu_seconds'])} | {fmt(per_second, 6)} | | |"
            )
        lines.append("")
    w5 = {k.split("|")[1]: v for k, v in summary.items() if k.startswith("5|")}
    if w5:
        lines += [
            "### Workload 5: a small fit in a new process (`COLD_FIT` in benchmarks/run.py)",
            "",
            "| numba cache | median s (process start to exit) | median CPU s |",
            "| --- | ---: | ---: |",
        ]
        for name, stats in w5.items():
            if "error" in stats:
                lines.append(f"| {name} | error: {stats['error']} | |")
                continue
            lines.append(f"| {name} | {fmt(stats['fit_seconds'])} | {fmt(stats['cpu_seconds'])} |")
        lines.append("")
    rows = targets(result)
    if rows:
        threads = result.get("machine", {}).get("threads_given_to_each_library", "?")
        lines += [
            f"### The targets (this run: {threads} thread(s) per library)",
            "",
            "| target | measured | bound | met |",
            "| --- | ---: | ---: | --- |",
        ]
        for what, value, bound, at_most in rows:
            met = "n/a" if value != value else ("yes" if (value <= bound) == at_most else "no")
            sign = "<=" if at_most else ">="
            lines.append(f"| {what} | {fmt(value)} | {sign} {bound:g} | {met} |")
        lines.append("")
        for dtype in ("float32", "float64"):
            floor = summary.get(f"3|numpy|{dtype}", {}).get("samples_per_second")
            if not floor:
                continue
            share = ", ".join(
                f"{name} {fmt(stats['samples_per_second'] / floor)}"
                for key, stats in summary.items()
                if key.startswith("2|") and key.endswith(dtype) and "samples_per_second" in stats
                for name in [key.split("|")[1]]
            )
            lines.append(
                f"Prediction, {dtype}: the forward products alone (GEMM floor) run "
                f"{floor:,.0f} samples/s; as a share of that: {share}."
            )
        lines.append("")
    if result["notes"]:
        lines += ["Notes:", ""] + [f"- {note}" for note in result["notes"]] + [""]
    return "\n".join(lines)


def targets(result: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """Issue 14's targets as ``(what, measured, bound, at_most)``, every figure a ratio of
    two medians of this run, or for "each process's own" the median over the fit's
    processes of the ratio within one process (``at_most``: the target is
    ``measured <= bound``, else ``>=``). Targets whose figures were not measured are left
    out."""
    summary = summarize(result)
    nan = float("nan")

    def get(key: str, field: str = "fit_seconds") -> float:
        return summary.get(key, {}).get(field, nan)

    rows: list[tuple[str, float, float, bool]] = []
    base = get("1|baseline (dict, article's formulas)|float64")
    for name, bound in (("mlpzero.tutorial", 0.25), ("mlpzero MLP.fit", 0.5)):
        ratio = get(f"1|{name}|float64") / base
        rows.append((f"workload 1: {name} ÷ the article's code", ratio, bound, True))
    for dtype in ("float32", "float64"):
        ours = get(f"2|mlpzero|{dtype}")
        rows.append((f"workload 2, {dtype}: mlpzero ÷ GEMM floor (numpy)",
                     ours / get(f"3|numpy|{dtype}"), 1.25, True))  # fmt: skip
        rows.append((f"workload 2, {dtype}: mlpzero ÷ GEMM floor, each process's own",
                     get(f"2|mlpzero|{dtype}", "fit_over_floor"), 1.25, True))  # fmt: skip
        rows.append((f"workload 2, {dtype}: mlpzero ÷ PyTorch", ours / get(f"2|torch|{dtype}"),
                     0.7, True))  # fmt: skip
        rows.append((f"workload 2, {dtype}: mlpzero ÷ PyTorch, each over its process's floor",
                     get(f"2|mlpzero|{dtype}", "fit_over_floor")
                     / get(f"2|torch|{dtype}", "fit_over_floor"), 0.7, True))  # fmt: skip
        speed = get(f"2|mlpzero|{dtype}", "samples_per_second")
        sklearn = get(f"2|sklearn|{dtype}", "samples_per_second")
        rows.append((f"workload 4, {dtype}: mlpzero predict samples/s ÷ scikit-learn's",
                     speed / sklearn, 1.5, False))  # fmt: skip
        extra = get(f"2|mlpzero|{dtype}", "peak_rss_mb") - get(f"2|mlpzero|{dtype}", "data_mb")
        rows.append((f"workload 4, {dtype}: mlpzero peak RSS − data (MB)", extra, 150, True))
    rows.append(("workload 5: cold first process, seconds", get("5|cold (empty numba cache)|-"),
                 6, True))  # fmt: skip
    return [row for row in rows if row[1] == row[1]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--workload", type=int, action="append", choices=(1, 2, 3, 4, 5))
    parser.add_argument("-r", "--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repetition")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        job = json.loads(args.worker)
        work = worker_fit if job["kind"] == "fit" else worker_gemm
        print(json.dumps(work(job["contender"], job["dtype"], job["n"], job["t"])))
        return 0

    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    workloads = sorted(set(args.workload or (1, 2, 3, 4, 5)))
    repeats = 1 if args.quick else args.repeats
    result = run(workloads, repeats, args.threads, args.quick)
    result["summary"] = summarize(result)
    table = markdown(result)
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"(raw numbers written to {args.json})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
