"""Memory of a fit on a memory-mapped ``X``: one epoch over about 1 GB of float32 features.

Writes ``X.npy`` (``--gb`` gigabytes of float32, ``--features`` columns) and ``y.npy``
(10 classes) into a temporary directory, then runs each case in a fresh process while a
thread samples the process's anonymous memory (``RssAnon`` in ``/proc/self/status``) every
few milliseconds:

- ``memmap``: ``np.load(path, mmap_mode="r")`` for ``X`` and ``y``, one epoch of
  mini-batches (the data's pages are file-backed and can be dropped by the kernel: they
  count as ``RssFile``, not as anonymous memory);
- ``tiny``: the same fit on the first 1,000 rows, in memory: the interpreter, NumPy and
  mlpzero themselves;
- ``in memory``: the same file read whole with ``np.load`` (skip with ``--no-in-memory``).

Linux only (it reads /proc).

    python -m benchmarks.memmap_fit --gb 1

Target: the memmap case under 150 MB of anonymous memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so that `python benchmarks/memmap_fit.py` works as well as -m
    sys.path.insert(0, str(ROOT))

from benchmarks._memory import PeakMemory  # noqa: E402 (needs ROOT on the path)

TARGET_MB = 150.0
CLASSES = 10


def write_data(folder: Path, gigabytes: float, features: int, seed: int = 0) -> int:
    """``folder/X.npy`` (float32, about ``gigabytes`` GB) and ``folder/y.npy`` (int64
    labels: the arg-max of the first ten features). Written in blocks; returns the rows."""
    rows = int(gigabytes * 2**30) // (4 * features)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(rows, features))  # fmt: skip
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=np.int64, shape=(rows,))
    rng = np.random.default_rng(seed)
    step = 16384
    for start in range(0, rows, step):
        block = rng.standard_normal((min(step, rows - start), features), dtype=np.float32)
        X[start : start + len(block)] = block
        y[start : start + len(block)] = np.argmax(block[:, :CLASSES], axis=1)
    X.flush()
    y.flush()
    del X, y
    return rows


def child(case: str, folder: str, batch_size: int) -> dict[str, float]:
    """Fit one epoch in this process; time it and sample its peak RssAnon and RssFile."""
    from mlpzero import MLP

    if case == "memmap":
        X = np.load(Path(folder) / "X.npy", mmap_mode="r")
        y = np.load(Path(folder) / "y.npy", mmap_mode="r")
    elif case == "tiny":
        X = np.array(np.load(Path(folder) / "X.npy", mmap_mode="r")[:1000])
        y = np.array(np.load(Path(folder) / "y.npy", mmap_mode="r")[:1000])
    else:
        X, y = np.load(Path(folder) / "X.npy"), np.load(Path(folder) / "y.npy")
    with PeakMemory(("RssAnon", "RssFile")) as memory:
        start = time.perf_counter()
        model = MLP(hidden=(32,), seed=0).fit(
            X, y, epochs=1, batch_size=batch_size, optimizer="adam", learning_rate=1e-3
        )
        seconds = time.perf_counter() - start
    return {
        "rows": X.shape[0],
        "seconds": seconds,
        "before_anon": memory.before["RssAnon"],
        "peak_anon": memory.peak["RssAnon"],
        "peak_file": memory.peak["RssFile"],
        "loss": model.history.history["loss"][-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="size of X (default: 1)")
    parser.add_argument("--features", type=int, default=256, help="(default: 256)")
    parser.add_argument("--batch-size", type=int, default=256, help="(default: 256)")
    parser.add_argument("--no-in-memory", action="store_true", help="skip the in-memory case")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.batch_size)))
        return 0
    cases = ["tiny", "memmap"] + ([] if args.no_in_memory else ["in memory"])
    with tempfile.TemporaryDirectory() as folder:
        rows = write_data(Path(folder), args.gb, args.features)
        size_mb = (Path(folder) / "X.npy").stat().st_size / 2**20
        print(
            f"X: {size_mb:.0f} MB float32, {rows} rows x {args.features} features; "
            f"y: {CLASSES} classes; MLP(hidden=(32,)), Adam, batch {args.batch_size}, 1 epoch"
        )
        print()
        print("| case | rows | seconds | peak RssAnon MB | RssAnon before fit MB "
              "| peak RssFile MB |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for case in cases:
            result = subprocess.run(
                [sys.executable, "-m", "benchmarks.memmap_fit", "--batch-size",
                 str(args.batch_size), "--child", case, folder],
                capture_output=True, text=True, check=True, cwd=ROOT, timeout=3600,
            )  # fmt: skip
            r = json.loads(result.stdout)
            print(
                f"| {case} | {r['rows']} | {r['seconds']:.1f} | {r['peak_anon']:.0f} "
                f"| {r['before_anon']:.0f} | {r['peak_file']:.0f} |"
            )
    print()
    print("each case in a fresh process; RssAnon and RssFile sampled every 5 ms")
    print(f"load average while it ran: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"target: the memmap case under {TARGET_MB:.0f} MB of anonymous memory")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
