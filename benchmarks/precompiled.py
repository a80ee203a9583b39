"""What kernels compiled ahead of time would give a first process: an option not taken.

mlpzero compiles its numba kernels the first time a process needs them and caches them on
disk ("Speed" in the README). A first process on an empty cache pays the compile (workload
5 of ``benchmarks/run.py``), and every process pays for numba and LLVM in memory once a
kernel loads (``benchmarks/memory.py``). This script measures what compiling the kernels
ahead of time would change, on workload 5's small fit (``COLD_FIT``):

1. it runs ``COLD_FIT`` in this process, so that numba holds the signatures the fit uses;
2. it compiles those signatures with numba's ahead-of-time compiler (``numba.pycc``, which
   numba marks as pending deprecation) into an extension module in a temporary folder,
   each kernel with its own fastmath and error-model options, for this machine's
   processor;
3. it times new processes running ``COLD_FIT`` four ways, in turn: numba with an empty
   cache, numba with the cache filled, the extension module in place of the jitted
   kernels, in which numba is never imported (each process checks), and NumPy alone
   (``MLPZERO_BACKEND=numpy``). Each reports its peak resident memory (``VmHWM``) and its
   parameters, which are compared with those of the jitted kernels.

mlpzero does not use such a module. The extension's functions check neither the dtype nor
the layout of the arrays they are given (a float64 array passed where a float32 one was
compiled can crash the process), so a library using them would have to check every
argument of every call in Python, and build the module for every signature its calls
meet.

    python -m benchmarks.precompiled [--rounds 3]   # needs a C compiler
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import COLD_FIT  # noqa: E402

MODULE = "mlpzero_precompiled_kernels"
MODES = ("numba, empty cache", "numba, cache filled", "precompiled", "NumPy alone")

#: Run in a new process: ``COLD_FIT``, with the precompiled module in place of the jitted
#: kernels when a folder is given; prints what the parent compares.
_CHILD = """
import json, sys
folder = sys.argv[1]
if folder:
    sys.path.insert(0, folder)
    import {module}
    import mlpzero.kernels
    mlpzero.kernels._backend, mlpzero.kernels._compiled = "numba", {module}
{fit}
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{
    "numba_imported": "numba" in sys.modules,
    "peak_mb": int(peak) / 1024,
    "params": model.network.params.tolist(),
}}))
"""


def build(folder: str) -> tuple[list[str], float]:
    """Compile, into ``folder``, every signature ``COLD_FIT`` meets; return the kernels'
    names and the seconds the compile took."""
    from numba.core.cpu import FastMathOptions
    from numba.core.errors import NumbaPendingDeprecationWarning
    from numba.core.registry import CPUDispatcher

    with warnings.catch_warnings():  # the docstring says so
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        import numba.pycc.compiler as pycc_compiler
        from numba.pycc import CC

    from mlpzero import _numba_kernels, set_backend

    set_backend("numba")
    exec(COLD_FIT, {"print": lambda *args: None})
    used = {
        name: kernel
        for name in dir(_numba_kernels)
        if isinstance(kernel := getattr(_numba_kernels, name), CPUDispatcher) and kernel.signatures
    }
    options = {kernel.py_func: kernel.targetoptions for kernel in used.values()}
    compile_extra = pycc_compiler.compile_extra

    def with_options(typing, target, function, args, returns, flags, locals, library):
        # pycc compiles with default flags; give each kernel those of its decorator
        chosen = options[function]
        if chosen.get("fastmath"):
            flags.fastmath = FastMathOptions(chosen["fastmath"])
        if chosen.get("error_model"):
            flags.error_model = chosen["error_model"]
        return compile_extra(typing, target, function, args, returns, flags, locals, library)

    cc = CC(MODULE)
    cc.output_dir, cc.target_cpu = folder, "host"
    for name, kernel in used.items():
        if len(kernel.signatures) != 1:
            raise RuntimeError(f"{name} met {len(kernel.signatures)} signatures; one expected")
        cc.export(name, kernel.nopython_signatures[0])(kernel.py_func)
    start = time.perf_counter()
    pycc_compiler.compile_extra = with_options
    try:
        cc.compile()
    finally:
        pycc_compiler.compile_extra = compile_extra
    return sorted(used), time.perf_counter() - start


def build_in_new_process(folder: str) -> tuple[list[str], float]:
    """:func:`build` in a process of its own: there the kernels meet ``COLD_FIT``'s
    signatures alone, whatever this process compiled before (a float64 fit, say)."""
    script = (
        "import json, sys\n"
        "from benchmarks.precompiled import build\n"
        "print(json.dumps(build(sys.argv[1])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, folder],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the build's process failed: {done.stderr.strip()[-500:]}")
    kernels, seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return kernels, seconds


def run_child(folder: str, cache: str, backend: str | None = None) -> dict:
    """One new process running ``COLD_FIT``; wall seconds from its start to its exit."""
    env = {k: v for k, v in os.environ.items() if k != "MLPZERO_BACKEND"}
    env["NUMBA_CACHE_DIR"] = cache
    if backend is not None:
        env["MLPZERO_BACKEND"] = backend
    script = _CHILD.format(module=MODULE, fit=COLD_FIT.replace("print(", "(").strip())
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, folder],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the fit's process failed: {done.stderr.strip()[-500:]}")
    return {"seconds": seconds, **json.loads(done.stdout.strip().splitlines()[-1])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="processes per way")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        kernels, seconds = build_in_new_process(folder)
        print(f"# compiled ahead of time: {', '.join(kernels)}, in {seconds:.1f} s")
        runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as cache:
                runs[MODES[0]].append(run_child("", cache))
                runs[MODES[1]].append(run_child("", cache))
            runs[MODES[2]].append(run_child(folder, cache=folder))
            runs[MODES[3]].append(run_child("", cache=folder, backend="numpy"))
    reference = np.asarray(runs[MODES[1]][0]["params"])
    print("| kernels | median s (process start to exit) | median peak MB | numba imported "
          "| largest parameter difference from the jitted fit |")  # fmt: skip
    print("| --- | ---: | ---: | --- | ---: |")
    for mode, results in runs.items():
        difference = max(np.abs(np.asarray(r["params"]) - reference).max() for r in results)
        imported = sorted({"yes" if r["numba_imported"] else "no" for r in results})
        print(
            f"| {mode} | {statistics.median(r['seconds'] for r in results):.2f} "
            f"| {statistics.median(r['peak_mb'] for r in results):.0f} | {', '.join(imported)} "
            f"| {difference:.1e} |"
        )


if __name__ == "__main__":
    main()
