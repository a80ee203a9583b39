"""CSV throughput: MB/s and peak anonymous memory of ``load_csv`` and ``convert_csv``.

Writes a numeric CSV of about ``--mb`` megabytes (``--features`` float columns and an
integer label), then times each operation in a fresh process, sampling the process's
anonymous memory (``RssAnon`` in ``/proc/self/status``) every few milliseconds; the peak is
reported beside the value just before the operation started. Linux only (it reads /proc).

    python -m benchmarks.csv_throughput --mb 200

Target: 50 MB/s or more for both operations.
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
if str(ROOT) not in sys.path:  # so that `python benchmarks/csv_throughput.py` works as well as -m
    sys.path.insert(0, str(ROOT))

from benchmarks._memory import PeakMemory  # noqa: E402 (needs ROOT on the path)

TARGET_MB_S = 50.0


def write_csv(path: Path, megabytes: float, features: int, seed: int = 0) -> int:
    """A CSV of about ``megabytes`` MB: float features and an integer label. Returns rows.

    The features are written with ``str`` of a float64 normal draw: 16 to 19 characters,
    the full precision a program writing floats produces by default.
    """
    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join([f"x{i}" for i in range(features)] + ["label"]) + "\n")
        while handle.tell() < megabytes * 1e6:
            block = rng.standard_normal((20_000, features))
            labels = rng.integers(0, 10, len(block))
            text = np.char.add(
                np.char.add([",".join(row) for row in block.astype(str).tolist()], ","),
                labels.astype(str),
            )
            handle.write("\n".join(text.tolist()) + "\n")
            rows += len(block)
    return rows


def child(operation: str, csv_path: str, workdir: str) -> dict[str, float]:
    """Run one operation in this process; time it and sample its peak RssAnon."""
    from mlpzero.datasets import convert_csv, load_csv

    with PeakMemory(("RssAnon",)) as memory:
        start, cpu_start = time.perf_counter(), time.process_time()
        if operation == "load_csv":
            X, _ = load_csv(csv_path)
            shape = X.shape
        else:
            Path(workdir).mkdir(exist_ok=True)
            folder = Path(workdir) / "converted"
            convert_csv(csv_path, folder, dtype=np.float32, progress=False)
            shape = np.load(folder / "X.npy", mmap_mode="r").shape
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu": cpu,
        "before_mb": memory.before["RssAnon"],
        "peak_mb": memory.peak["RssAnon"],
        "rows": shape[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="CSV size (default: 100)")
    parser.add_argument("--features", type=int, default=20, help="(default: 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per operation (median)")
    parser.add_argument("--child", nargs=3, metavar=("OP", "CSV", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    with tempfile.TemporaryDirectory() as workdir:
        csv_path = Path(workdir) / "data.csv"
        rows = write_csv(csv_path, args.mb, args.features)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"CSV: {size_mb:.1f} MB, {rows} rows, {args.features} float features + int label")
        print()
        print(
            "| operation | MB/s (wall) | seconds | MB/s (CPU time) | CPU seconds "
            "| peak RssAnon MB | RssAnon before MB |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for operation in ("convert", "load_csv"):
            runs = []
            for _ in range(args.repeat):
                out = Path(workdir) / "converted"
                if out.exists():
                    for file in out.iterdir():
                        file.unlink()
                    out.rmdir()
                result = subprocess.run(
                    [sys.executable, "-m", "benchmarks.csv_throughput", "--child",
                     operation, str(csv_path), workdir],
                    capture_output=True, text=True, check=True, cwd=ROOT, timeout=3600,
                )  # fmt: skip
                runs.append(json.loads(result.stdout))
            runs.sort(key=lambda r: r["seconds"])
            median = runs[len(runs) // 2]
            peak = max(r["peak_mb"] for r in runs)
            cpu = sorted(r["cpu"] for r in runs)[len(runs) // 2]
            print(
                f"| {operation} | {size_mb / median['seconds']:.1f} | {median['seconds']:.2f} "
                f"| {size_mb / cpu:.1f} | {cpu:.2f} | {peak:.0f} | {median['before_mb']:.0f} |"
            )
    print()
    print(f"medians of {args.repeat} runs, each in a fresh process; the peak is over all runs")
    print(f"load average while it ran: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"target: {TARGET_MB_S:.0f} MB/s or more")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
