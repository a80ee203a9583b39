"""Where the memory of workload 2's fit goes, stage by stage, on each backend.

Workload 2 of ``benchmarks/run.py`` (784-512-256-10, Adam, batch 128, one epoch of 60,000
float32 samples) runs in a fresh process per case, and the process's memory is read after
each stage (``benchmarks/_memory.py`` says what each figure counts):

1. ``import numpy``;
2. ``import mlpzero``;
3. the data, made as ``benchmarks/run.py`` makes it;
4. ``import numba``, which mlpzero otherwise does on its first compiled call (the
   ``numpy`` case skips it);
5. a fit on the first 512 rows: the compiled kernels are loaded from numba's cache;
6. the fit of workload 2, during which ``RssAnon`` and ``RssFile`` are sampled.

The cases: ``numpy`` (``MLPZERO_BACKEND=numpy``); ``numba``, mlpzero as installed here
(its default backend);
and ``numba, no scipy``, the same with SciPy hidden from the process, as on an
installation of mlpzero alone (numba loads ``scipy.linalg`` for its own BLAS bindings when
SciPy is installed; mlpzero needs SciPy only for its L-BFGS extra). A first process fills
numba's cache, so that stage 5 loads the kernels and does not compile them.

For each case the largest files mapped into the process are listed with their resident
pages: shared libraries count in ``VmRSS`` for the pages the process has touched.

A last table gives numba's own floor, without mlpzero: a fresh process imports NumPy,
then numba, then calls a one-line function compiled by numba and loaded from its cache
(with and without SciPy), against what mlpzero's numba backend adds to the fit's peak
over NumPy alone.

    python -m benchmarks.memory            # Linux only: it reads /proc/self
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so that `python benchmarks/memory.py` works as well as -m
    sys.path.insert(0, str(ROOT))

from benchmarks._memory import FIELDS, PeakMemory, status_mb  # noqa: E402 (needs ROOT on the path)

CASES = {
    "numpy": {"backend": "numpy", "hide_scipy": False},
    "numba": {"backend": "numba", "hide_scipy": False},
    "numba, no scipy": {"backend": "numba", "hide_scipy": True},
}
STAGES = ("import numpy", "import mlpzero", "data", "import numba", "small fit", "fit")
#: numba's floor without mlpzero, with SciPy installed and hidden (the value).
FLOORS = {"floor": False, "floor, no scipy": True}
#: The bound of issue "Speed to the floor": peak RSS within data + this many MB.
TARGET_MB = 150.0


def largest_mappings(count: int = 4) -> list[tuple[str, float]]:
    """The ``count`` files with the most resident pages in this process (name, MB)."""
    resident: dict[str, float] = {}
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and not parts[0].endswith(":"):  # a mapping's header line
            name = parts[5] if len(parts) > 5 and parts[5].startswith("/") else ""
        elif name and parts and parts[0] == "Rss:":
            resident[name] = resident.get(name, 0.0) + int(parts[1]) / 1024
    ranked = sorted(resident.items(), key=lambda item: -item[1])[:count]
    return [(Path(path).name, mb) for path, mb in ranked]


def child(case: str) -> dict:
    """Run the stages of ``case`` in this process; the memory after each."""
    options = CASES[case]
    if options["hide_scipy"]:
        sys.modules["scipy"] = None  # type: ignore[assignment]  # import scipy: ImportError
    if options["backend"] == "numpy":
        os.environ["MLPZERO_BACKEND"] = "numpy"
    else:  # the default: numba is imported on the first compiled call
        os.environ.pop("MLPZERO_BACKEND", None)
    stages = {}
    import numpy  # noqa: F401

    stages["import numpy"] = status_mb()
    import mlpzero

    stages["import mlpzero"] = status_mb()
    from benchmarks.run import W2_BATCH, _fit_mlpzero, _set_threads, _synthetic_data

    _set_threads(os.cpu_count() or 1)
    X, y = _synthetic_data(60_000, "float32")
    stages["data"] = status_mb()
    if options["backend"] == "numba":
        import numba  # noqa: F401
    stages["import numba"] = status_mb()
    _fit_mlpzero(X[: 4 * W2_BATCH], y[: 4 * W2_BATCH], "float32")
    stages["small fit"] = status_mb()
    with PeakMemory(FIELDS) as memory:
        _fit_mlpzero(X, y, "float32")
    stages["fit"] = memory.peak
    return {
        "stages": stages,
        "data_mb": (X.nbytes + y.nbytes) / 2**20,
        "backend": mlpzero.get_backend(),
        "scipy_loaded": sys.modules.get("scipy") is not None,
        "mappings": largest_mappings(),
    }


def _plus_one(x: float) -> float:
    """The one-line function of the floor cases (compiled by numba, cached)."""
    return x + 1.0


def floor_child(hide_scipy: bool) -> dict:
    """Memory after ``import numpy``, ``import numba`` and a call of a one-line cached
    numba function: numba's cost to any program that uses it."""
    if hide_scipy:
        sys.modules["scipy"] = None  # type: ignore[assignment]
    import numpy  # noqa: F401

    stages = {"import numpy": status_mb()}
    import numba

    stages["import numba"] = status_mb()
    numba.njit(cache=True)(_plus_one)(1.0)
    stages["one cached function"] = status_mb()
    return {"stages": stages, "scipy_loaded": sys.modules.get("scipy") is not None}


def run_child(case: str) -> dict:
    """:func:`child` (or :func:`floor_child`) in a fresh process; its error output is shown
    if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", case],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"the {case!r} case failed (exit status {result.returncode})")
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=(*CASES, *FLOORS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child in FLOORS:
        print(json.dumps(floor_child(FLOORS[args.child])))
        return 0
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    run_child("numba")  # fills numba's cache: the measured cases load, not compile
    run_child("floor")
    results = {case: run_child(case) for case in CASES}
    floors = {case: run_child(case) for case in FLOORS}

    print("Memory after each stage, MB: VmRSS (RssAnon + RssFile); the fit row is the peak")
    print("(VmHWM, and RssAnon and RssFile sampled every 5 ms during the fit).")
    print()
    print("| stage | " + " | ".join(CASES) + " |")
    print("| --- |" + " ---: |" * len(CASES))
    for stage in STAGES:
        cells = []
        for case in CASES:
            m = results[case]["stages"][stage]
            rss = m["VmHWM"] if stage == "fit" else m["VmRSS"]
            cells.append(f"{rss:.0f} ({m['RssAnon']:.0f} + {m['RssFile']:.0f})")
        print(f"| {stage} | " + " | ".join(cells) + " |")
    data = {case: results[case]["data_mb"] for case in CASES}
    peak_rss = [results[c]["stages"]["fit"]["VmHWM"] - data[c] for c in CASES]
    peak_anon = [results[c]["stages"]["fit"]["RssAnon"] - data[c] for c in CASES]
    print("| peak RSS − data | " + " | ".join(f"**{v:.0f}**" for v in peak_rss) + " |")
    print("| peak RssAnon − data (sampled) | " + " | ".join(f"{v:.0f}" for v in peak_anon) + " |")
    print()
    for case in CASES:
        r = results[case]
        files = ", ".join(f"{name} {mb:.0f}" for name, mb in r["mappings"])
        print(f"- {case} (backend {r['backend']}, scipy loaded: {r['scipy_loaded']}): "
              f"largest resident files, MB: {files}")  # fmt: skip
    print()
    print("numba's own floor, MB of VmRSS over `import numpy`, against mlpzero's numba backend")
    print("(the fit's peak on numba over its peak on NumPy alone):")
    print()
    print("| | with SciPy | without SciPy |")
    print("| --- | ---: | ---: |")
    for stage in ("import numba", "one cached function"):
        cells = [
            floors[case]["stages"][stage]["VmRSS"] - floors[case]["stages"]["import numpy"]["VmRSS"]
            for case in FLOORS
        ]
        print(f"| {stage} | " + " | ".join(f"{v:.0f}" for v in cells) + " |")
    numpy_peak = results["numpy"]["stages"]["fit"]["VmHWM"]
    backend = [
        results[c]["stages"]["fit"]["VmHWM"] - numpy_peak for c in ("numba", "numba, no scipy")
    ]
    print(
        "| mlpzero's numba backend in the fit | " + " | ".join(f"{v:.0f}" for v in backend) + " |"
    )
    print()
    print(f"data: {data['numba']:.0f} MB; target: peak RSS within data + {TARGET_MB:.0f} MB")
    print(f"load average while it ran: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
