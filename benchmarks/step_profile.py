"""One training step of workload 2, part by part, against its matrix products.

Workload 2 of ``benchmarks/run.py`` (784-512-256-10, ReLU, Adam, batch 128) is timed one
step at a time, in one process, on the backend chosen (``MLPZERO_BACKEND``, default
numba), for each dtype:

- ``products``: the step's eight matrix products alone, in the orientation of the floor
  of ``benchmarks/run.py`` (``worker_gemm``): three ``A W^T``, three ``dZ^T A``, two
  ``dZ W``;
- ``step``: the step as ``MLP.fit`` runs it (the batch gathered from shuffled rows,
  forward, accuracy count, loss and its gradient, backward, Adam);
- its parts: ``gather`` (the batch's rows of ``X`` and ``Y``), ``forward``,
  ``forward+backward`` (with the loss and its gradient, no update) and ``adam`` (the
  update alone, on the model's flat buffers).

Each is run ``--calls`` times in a row, and the parts take turns (interleaved) for
``--rounds`` rounds; the table gives the fastest round and the median, per call, and
each as a multiple of the products.

``--adam-threads`` (numba backend) adds two ways of running the Adam update over both
cores, in the step, for the record of what was tried: the library's kernel recompiled
without the GIL and called on the two halves of the buffers from two Python threads
(interleaved with the other parts), and the same halves under a numba ``prange`` (numba's
own thread pool; timed last and alone, as its threads outlive the loop). Each is checked
first to compute the library's update bit for bit. Neither is what mlpzero does.

    python -m benchmarks.step_profile [--threads 2] [--adam-threads]

Run it as ``make bench`` runs ``benchmarks/run.py``, with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` unset: a forced core type changes the products' speed, and with it
every ratio (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    W2_BATCH,
    W2_LR,
    W2_SIZES,
    _blas_kernels,
    _set_threads,
    _synthetic_data,
)

#: Rows of synthetic data, as in workload 2: the gathered rows come from memory, not cache.
ROWS = 60_000
#: The names of the two ways of running Adam over both cores (``--adam-threads``).
THREADS, PRANGE = "step, Adam on two threads", "step, Adam under prange"


def floor_products(X: np.ndarray, dtype: str) -> Callable[[int], None]:
    """The eight products of one step on batch ``b`` (contiguous rows), as the floor does."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((o, i)).astype(dtype) for i, o in pairwise(W2_SIZES)]
    grads = [np.empty_like(w) for w in weights]
    acts = [rng.standard_normal((W2_BATCH, k)).astype(dtype) for k in W2_SIZES[1:]]
    deltas = [rng.standard_normal((W2_BATCH, k)).astype(dtype) * 0.01 for k in W2_SIZES[1:]]

    def products(b: int) -> None:
        xb = X[b * W2_BATCH : (b + 1) * W2_BATCH]
        a = xb
        for layer in range(3):
            np.matmul(a, weights[layer].T, out=acts[layer])
            a = acts[layer]
        for layer in (2, 1, 0):
            np.matmul(deltas[layer].T, xb if layer == 0 else acts[layer - 1], out=grads[layer])
            if layer:
                np.matmul(deltas[layer], weights[layer], out=deltas[layer - 1])

    return products


def library_step(X: np.ndarray, y: np.ndarray, dtype: str) -> dict[str, Callable[[int], None]]:
    """The step of ``MLP.fit`` on batch ``b`` of a shuffled order, and its parts."""
    from mlpzero import MLP, optimizers, training

    model = MLP(hidden=W2_SIZES[1:-1], activation="relu", seed=0, dtype=dtype)
    model.fit(X[:512], y[:512], epochs=1, batch_size=W2_BATCH, optimizer="adam",
              learning_rate=W2_LR)  # fmt: skip
    network, loss = model.network, model.loss_
    optimizer = optimizers.get("adam", learning_rate=W2_LR)
    Y = np.eye(W2_SIZES[-1], dtype=dtype)[y]
    trainer = training._Trainer(
        network, loss, optimizer, X, Y, batch_size=W2_BATCH, sample_weight=None,
        rng=np.random.default_rng(0), schedule=None,
        penalty=training.WeightPenalty(network.weight_mask, network.dtype), clip_norm=None,
        validation=None, shuffle=True,
    )  # fmt: skip
    order = np.random.default_rng(1).permutation(len(X))

    def gather(b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = order[b * W2_BATCH : (b + 1) * W2_BATCH]
        xb = training.gather_rows(trainer.X, index, trainer.batch_X)
        return xb, training.gather_rows(trainer.Y, index, trainer.batch_Y), index

    def step(b: int) -> None:
        xb, yb, index = gather(b)
        trainer._step(xb, yb, None, trainer.labels.take(index))

    def forward(b: int) -> None:
        network.forward(trainer.batch_X)

    def forward_backward(b: int) -> None:
        logits = network.forward(trainer.batch_X)
        _, dlogits = loss.value_and_gradient(logits, trainer.batch_Y, None,
                                             out=network.output_delta())  # fmt: skip
        network.backward(dlogits)

    def adam(b: int) -> None:
        optimizer.step(network.params, network.grads)

    gather(0)
    return {"step": step, "gather": gather, "forward": forward,
            "forward+backward": forward_backward, "adam": adam}  # fmt: skip


@contextlib.contextmanager
def adam_kernel(replacement: Callable[..., None]) -> Iterator[None]:
    """While in the block, Adam's compiled update is ``replacement`` (same arguments)."""
    from mlpzero import kernels

    real = kernels.compiled()
    if real is None:
        raise RuntimeError("Adam's compiled update can be replaced on the numba backend only")

    class Swapped:
        def __getattr__(self, name: str):
            return replacement if name == "adam" else getattr(real, name)

    swapped = Swapped()
    original = kernels.compiled
    kernels.compiled = lambda: swapped  # type: ignore[assignment]
    try:
        yield
    finally:
        kernels.compiled = original  # type: ignore[assignment]


def with_adam(
    replacement: Callable[..., None], step: Callable[[int], None]
) -> Callable[[int], None]:
    """``step``, its Adam update done by ``replacement``."""

    def swapped_step(b: int) -> None:
        with adam_kernel(replacement):
            step(b)

    return swapped_step


def two_thread_updates() -> dict[str, Callable[..., None]]:
    """The library's Adam kernel over two halves, on two Python threads and under prange."""
    import numba

    from mlpzero import kernels

    body = kernels.compiled().adam.py_func
    free = numba.njit(nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")(body)

    @numba.njit(parallel=True)
    def halves_prange(params, g, m, v, b1, r1, b2, r2, step, eps):  # pragma: no cover
        half = params.shape[0] // 2
        for part in numba.prange(2):
            lo, hi = (0, half) if part == 0 else (half, params.shape[0])
            free(params[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], b1, r1, b2, r2, step, eps)

    job: list[tuple] = []
    go, done = threading.Semaphore(0), threading.Semaphore(0)

    def helper() -> None:
        while True:
            go.acquire()
            free(*job[0])
            done.release()

    threading.Thread(target=helper, daemon=True).start()

    def halves_threads(params, g, m, v, *scalars) -> None:
        half = params.shape[0] // 2
        job[:] = [(params[half:], g[half:], m[half:], v[half:], *scalars)]
        go.release()
        free(params[:half], g[:half], m[:half], v[:half], *scalars)
        done.acquire()

    return {THREADS: halves_threads, PRANGE: halves_prange}


def check_same_update(variant: Callable[..., None], dtype: str) -> None:
    """The variant must compute the library kernel's update bit for bit."""
    from mlpzero import kernels

    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(100_003).astype(dtype) for _ in range(4)]
    arrays[3] = np.abs(arrays[3])
    scalars = [np.dtype(dtype).type(s) for s in (0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8)]
    mine = [a.copy() for a in arrays]
    kernels.compiled().adam(*arrays, *scalars)
    variant(*mine, *scalars)
    if not all(np.array_equal(a, b) for a, b in zip(arrays, mine, strict=True)):
        raise AssertionError("the two-thread Adam variant does not match the library's")


def measure(parts: dict[str, Callable[[int], None]], rounds: int, calls: int,
            batches: int) -> dict[str, list[float]]:  # fmt: skip
    """Seconds per call of each part, one entry per round; parts interleaved per round."""
    seconds: dict[str, list[float]] = {name: [] for name in parts}
    batch = 0
    for _ in range(rounds):
        for name, part in parts.items():
            start = time.perf_counter()
            for i in range(calls):
                part((batch + i) % batches)
            seconds[name].append((time.perf_counter() - start) / calls)
        batch = (batch + calls) % batches
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dtype", choices=("float32", "float64"), action="append")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"(default: {ROWS})")
    parser.add_argument("--adam-threads", action="store_true",
                        help="also time Adam split over two threads (numba backend)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.rows < 4 * W2_BATCH:
        parser.error(f"--rows must be at least {4 * W2_BATCH}, got {args.rows}")
    for option in ("rounds", "calls"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1, got {getattr(args, option)}")
    from mlpzero import get_backend

    if args.adam_threads and get_backend() != "numba":
        parser.error(f"--adam-threads needs the numba backend; this one is {get_backend()!r}")

    kernels = _blas_kernels(_set_threads(args.threads))
    print(f"backend {get_backend()}, {args.threads} BLAS thread(s) ({kernels}); per call, ms: "
          f"fastest round (median round); x products: fastest over fastest (median over "
          f"median); {args.rounds} rounds of {args.calls} calls")  # fmt: skip
    print()
    print("| dtype | part | ms | x products |")
    print("| --- | --- | ---: | ---: |")
    seconds: dict[str, dict[str, list[float]]] = {}
    steps: dict[str, Callable[[int], None]] = {}
    batches = args.rows // W2_BATCH
    variants = two_thread_updates() if args.adam_threads else {}
    for dtype in args.dtype or ("float32", "float64"):
        X, y = _synthetic_data(args.rows, dtype)
        parts = {"products": floor_products(X, dtype), **library_step(X, y, dtype)}
        steps[dtype] = parts["step"]
        if variants:  # interleaved with the step it changes
            threads = variants[THREADS]
            check_same_update(threads, dtype)
            parts[THREADS] = with_adam(threads, parts["step"])
        seconds[dtype] = measure(parts, args.rounds, args.calls, batches)
    if variants:
        # Last, and alone: numba's threads outlive the prange loop and would slow the
        # products of every part timed after it.
        for dtype, step in steps.items():
            check_same_update(variants[PRANGE], dtype)
            prange_step = with_adam(variants[PRANGE], step)
            seconds[dtype].update(measure({PRANGE: prange_step}, args.rounds, args.calls,
                                          batches))  # fmt: skip
    for dtype, parts_seconds in seconds.items():
        floor = min(parts_seconds["products"])
        floor_median = statistics.median(parts_seconds["products"])
        for name, values in parts_seconds.items():
            fastest, median = min(values), statistics.median(values)
            print(f"| {dtype} | {name} | {fastest * 1e3:.3f} ({median * 1e3:.3f}) "
                  f"| {fastest / floor:.2f} ({median / floor_median:.2f}) |")  # fmt: skip
    print()
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
