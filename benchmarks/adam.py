"""Adam's update alone, per parameter, from buffers in a core's cache to buffers in memory.

Is the update bound by memory or by arithmetic? Each Adam step reads four flat buffers
(parameters, gradient, both moments) and writes three, and per parameter takes one square
root and one division. The compiled update (``adam`` of the numba backend, what every
``MLP.fit`` with Adam runs) is timed beside a twin compiled here with the same loads,
stores and multiply-adds but a multiplication in place of the square root and the
division:

- if the two take the same time per parameter, the update waits on memory, and shows it
  by growing slower once the buffers leave the caches;
- if the update takes longer than its twin at every size, even in a core's own cache, the
  square root and the division set its pace: memory is not what to save.

Workload 2's network (784-512-256-10) has 535,818 parameters, the third size timed.

    python -m benchmarks.adam [--repeats 7]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = (8_192, 65_536, 535_818, 4_194_304)


def _twin(kernel):
    """The update's loads, stores and multiply-adds, without its square root and division,
    compiled with the options of ``kernel`` (the library's ``adam``): its loop repeats the
    kernel's on purpose, one operation changed, so keep the two in step."""
    import numba

    options = {key: kernel.targetoptions[key] for key in ("fastmath", "error_model")}

    @numba.njit(cache=False, **options)
    def same_traffic(params, g, exp_avg, exp_avg_sq, beta1, rest1, beta2, rest2, step, eps_hat):
        for i in range(params.shape[0]):
            gi = g[i]
            mi = exp_avg[i] * beta1 + gi * rest1
            vi = exp_avg_sq[i] * beta2 + (gi * gi) * rest2
            exp_avg[i] = mi
            exp_avg_sq[i] = vi
            params[i] -= step * (mi * (vi + eps_hat))

    return same_traffic


def _best_per_call(function, args: tuple, calls: int, repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``calls`` calls, in seconds per call."""
    function(*args)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    from mlpzero import kernels

    compiled = kernels.compiled()
    if compiled is None:
        print("the numba backend is not available (MLPZERO_BACKEND=numpy or numba missing)")
        return 1
    same_traffic = _twin(compiled.adam)
    rng = np.random.default_rng(0)
    print(
        "| dtype | parameters | MB of buffers | Adam ns / parameter | same loads and stores, "
        "ns / parameter | Adam ÷ twin |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for dtype in (np.float32, np.float64):
        t = dtype
        scalars = (t(0.9), t(0.1), t(0.999), t(0.001), t(1e-3), t(1e-8))
        for size in SIZES:
            buffers = [rng.random(size).astype(dtype) for _ in range(4)]
            calls = max(3, 20_000_000 // size)
            # Each call is timed on its own copy of the buffers: the twin's updates would
            # otherwise carry its values far from the update's over the calls.
            adam_args = (*[b.copy() for b in buffers], *scalars)
            twin_args = (*[b.copy() for b in buffers], *scalars)
            adam = _best_per_call(compiled.adam, adam_args, calls, args.repeats)
            twin = _best_per_call(same_traffic, twin_args, calls, args.repeats)
            megabytes = 4 * size * np.dtype(dtype).itemsize / 1e6
            print(
                f"| {np.dtype(dtype).name} | {size:,} | {megabytes:.1f} | "
                f"{adam / size * 1e9:.3f} | {twin / size * 1e9:.3f} | {adam / twin:.2f} |"
            )
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
