"""One training step of small and wide networks, per hidden activation, on each backend.

For each hidden activation (ReLU, sigmoid, tanh), dtype and network below, one step
(forward pass, the output gradient, backward pass, Adam) is timed on the numba backend
(the default) and on NumPy alone, in one process, the two taking turns for ``--rounds``
rounds of many steps each (after one untimed step: the two networks do not share
their buffers); the table gives the fastest round per step and the
numba time as a multiple of NumPy's (below 1: the kernels are faster). It is how
``mlpzero.kernels`` decides which activations its kernels serve (tanh: float64 only).

    python -m benchmarks.activations [--threads 2] [--rounds 9]

Run it as ``make bench`` runs ``benchmarks/run.py``, with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` unset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import _blas_kernels, _set_threads  # noqa: E402

#: ``(layer sizes, rows per step)``: the article's XOR network on its 1,000 samples, two
#: more small networks at a mini-batch, and workload 2's network at its batch.
NETWORKS = [([2, 8, 4, 1], 1000), ([2, 32, 32, 1], 256), ([10, 32, 32, 3], 128),
            ([784, 512, 256, 10], 128)]  # fmt: skip
ACTIVATIONS = ("relu", "sigmoid", "tanh")


def training_step(sizes: list[int], rows: int, activation: str, dtype: str) -> Callable[[], None]:
    """One Adam step of a fresh network on fixed random data."""
    from mlpzero.losses import BinaryCrossEntropy, CategoricalCrossEntropy
    from mlpzero.network import Network
    from mlpzero.optimizers import Adam

    rng = np.random.default_rng(0)
    network = Network(sizes, activation, dtype=dtype, rng=0)
    X = rng.standard_normal((rows, sizes[0])).astype(dtype)
    k = sizes[-1]
    if k == 1:
        loss, Y = BinaryCrossEntropy(), (rng.random((rows, 1)) > 0.5).astype(dtype)
    else:
        loss, Y = CategoricalCrossEntropy(), np.eye(k, dtype=dtype)[rng.integers(0, k, rows)]
    optimizer = Adam(1e-3)

    def step() -> None:
        logits = network.forward(X)
        network.backward(loss.gradient(logits, Y, out=network.output_delta()))
        optimizer.step(network.params, network.grads)

    return step


def fastest_per_call(
    steps: dict[str, Callable[[], None]], rounds: int, calls: int
) -> dict[str, float]:
    """The fastest round's seconds per call of each backend's step, the backends taking
    turns round by round."""
    from mlpzero import set_backend

    best = dict.fromkeys(steps, float("inf"))
    for backend, step in steps.items():  # warm up: compile, fill the caches
        set_backend(backend)
        for _ in range(3):
            step()
    for _ in range(rounds):
        for backend, step in steps.items():
            set_backend(backend)
            step()  # untimed: brings this network's buffers back into the caches
            start = time.perf_counter()
            for _ in range(calls):
                step()
            best[backend] = min(best[backend], (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    blas = _blas_kernels(_set_threads(args.threads))
    from mlpzero import get_backend, numba_available

    if not numba_available():
        sys.exit("numba is not installed: there is no compiled backend to compare")
    default = get_backend()
    print(
        f"{args.threads} BLAS thread(s) ({blas}); per step, us: fastest of {args.rounds} "
        "interleaved rounds; numba ÷ NumPy below 1: the kernels win\n"
    )
    print("| activation | dtype | network | rows | numba | NumPy | numba ÷ NumPy |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    try:
        for activation in ACTIVATIONS:
            for dtype in ("float32", "float64"):
                for sizes, rows in NETWORKS:
                    calls = 200 if max(sizes) <= 32 else 20
                    steps = {
                        backend: training_step(sizes, rows, activation, dtype)
                        for backend in ("numba", "numpy")
                    }
                    best = fastest_per_call(steps, args.rounds, calls)
                    name = "-".join(map(str, sizes))
                    print(f"| {activation} | {dtype} | {name} | {rows} | "
                          f"{best['numba'] * 1e6:.1f} | {best['numpy'] * 1e6:.1f} | "
                          f"{best['numba'] / best['numpy']:.2f} |", flush=True)  # fmt: skip
    finally:
        from mlpzero import set_backend

        set_backend(default)


if __name__ == "__main__":
    main()
