"""The benchmark script keeps working: a quick workload-1 run, and the tables' arithmetic.

These tests time nothing against a target (timings on a shared machine prove nothing in a
test); they check that ``benchmarks/run.py`` runs, measures every contender, and that its
tables divide the right numbers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from benchmarks import run

from mlpzero import get_backend, numba_available


def test_a_quick_workload_1_run_measures_every_contender(tmp_path, capsys):
    path = tmp_path / "w1.json"
    before = get_backend()
    # The default thread count (the machine's cores) leaves the BLAS as the suite found it.
    assert run.main(["-w", "1", "--quick", "--json", str(path)]) == 0
    table = capsys.readouterr().out
    result = json.loads(path.read_text())
    names = [key.split("|")[1] for key in result["samples"]]
    expected = ["baseline (dict, article's formulas)", "mlpzero.tutorial", "mlpzero MLP.fit"]
    if numba_available():  # as installed (numba), and on NumPy alone
        expected.append("mlpzero.tutorial (numpy)")
    for name in expected:
        assert name in names
        assert f"| {name} |" in table
    assert all(run["fit_seconds"] > 0 for runs in result["samples"].values() for run in runs)
    # The tutorial ends where the baseline ends, on each backend.
    parity = [note for note in result["notes"] if "max |tutorial - baseline|" in note]
    assert len(parity) == (2 if numba_available() else 1)
    assert all(float(note.rsplit(": ", 1)[1]) < 1e-12 for note in parity)
    assert get_backend() == before  # the run leaves the backend as it found it


def test_workload_2_table_divides_each_backend_by_each_contender():
    def sample(seconds):
        return {
            "fit_seconds": seconds,
            "cpu_seconds": seconds,
            "samples_per_second": 1000.0,
            "peak_rss_mb": 300.0,
            "data_mb": 180.0,
            "train_accuracy": 0.9,
        }

    result = {
        "settings": {"workload1_epochs": 2000, "workload2_samples": 60000},
        "samples": {
            "2|mlpzero|float32": [sample(4.0)],
            "2|mlpzero (numpy)|float32": [sample(3.0)],
            "2|sklearn|float32": [sample(6.0)],
            "3|numpy|float32": [{"fit_seconds": 2.0, "cpu_seconds": 2.0}],
        },
        "notes": [],
    }
    table = run.markdown(result)
    assert "| sklearn | 6 | 0.667 | 0.5 |" in table
    assert "| GEMM floor (numpy) | 2 | 2 | 1.5 |" in table


def test_the_targets_divide_figures_of_the_same_run():
    def fit(seconds, per_second=1000.0, peak=300.0):
        return {"fit_seconds": seconds, "cpu_seconds": seconds, "samples_per_second": per_second,
                "peak_rss_mb": peak, "data_mb": 180.0, "train_accuracy": 0.9}  # fmt: skip

    result = {
        "machine": {"threads_given_to_each_library": 2},
        "settings": {"workload1_epochs": 2000, "workload2_samples": 60000},
        "samples": {
            "1|baseline (dict, article's formulas)|float64": [
                {"fit_seconds": 1.0, "cpu_seconds": 1.0}
            ],
            "1|mlpzero.tutorial|float64": [{"fit_seconds": 0.2, "cpu_seconds": 0.2}],
            "1|mlpzero MLP.fit|float64": [{"fit_seconds": 0.6, "cpu_seconds": 0.6}],
            "2|mlpzero|float32": [fit(3.0, per_second=1600.0, peak=400.0)],
            "2|torch|float32": [fit(4.0)],
            "2|sklearn|float32": [fit(6.0, per_second=1000.0)],
            "3|numpy|float32": [{"fit_seconds": 2.5, "cpu_seconds": 2.5}],
            "5|cold (empty numba cache)|-": [{"fit_seconds": 5.0, "cpu_seconds": 5.0}],
        },
        "notes": [],
    }
    rows = {what: (value, at_most) for what, value, _, at_most in run.targets(result)}
    assert rows["workload 1: mlpzero.tutorial ÷ the article's code"][0] == pytest.approx(0.2)
    assert rows["workload 1: mlpzero MLP.fit ÷ the article's code"][0] == pytest.approx(0.6)
    assert rows["workload 2, float32: mlpzero ÷ GEMM floor (numpy)"][0] == pytest.approx(1.2)
    assert rows["workload 2, float32: mlpzero ÷ PyTorch"][0] == pytest.approx(0.75)
    speed = rows["workload 4, float32: mlpzero predict samples/s ÷ scikit-learn's"]
    assert speed == (pytest.approx(1.6), False)  # a lower bound: >= 1.5
    assert rows["workload 4, float32: mlpzero peak RSS − data (MB)"][0] == pytest.approx(220)
    assert not any("float64" in what for what in rows)  # not measured: not reported
    table = run.markdown(result)
    assert "| workload 1: mlpzero MLP.fit ÷ the article's code | 0.6 | <= 0.5 | no |" in table
    assert "| workload 2, float32: mlpzero ÷ GEMM floor (numpy) | 1.2 | <= 1.25 | yes |" in table
    assert (
        "| workload 4, float32: mlpzero predict samples/s ÷ scikit-learn's | 1.6 | >= 1.5 | yes |"
        in table
    )
    assert "| workload 5: cold first process, seconds | 5 | <= 6 | yes |" in table


def test_the_same_process_ratios_are_medians_of_each_process_ratio():
    def fit(seconds, floor):
        return {"fit_seconds": seconds, "cpu_seconds": seconds, "samples_per_second": 1000.0,
                "peak_rss_mb": 300.0, "data_mb": 180.0, "train_accuracy": 0.9,
                "floor_seconds": floor, "fit_over_floor": seconds / floor}  # fmt: skip

    result = {
        "machine": {"threads_given_to_each_library": 2},
        "settings": {"workload1_epochs": 2000, "workload2_samples": 60000},
        "samples": {
            # A fast process and two slow ones: the medians of the times are 3 and 2.5 s
            # (1.2x), while every process ran its fit at 1.1x its own floor.
            "2|mlpzero|float32": [fit(2.2, 2.0), fit(3.3, 3.0), fit(3.3, 3.0)],
            "2|torch|float32": [fit(4.4, 2.0), fit(4.4, 2.0), fit(6.6, 3.0)],
            "3|numpy|float32": [{"fit_seconds": s, "cpu_seconds": s} for s in (2.0, 2.5, 3.0)],
        },
        "notes": [],
    }
    rows = {what: value for what, value, _, _ in run.targets(result)}
    assert rows["workload 2, float32: mlpzero ÷ GEMM floor (numpy)"] == pytest.approx(3.3 / 2.5)
    own = rows["workload 2, float32: mlpzero ÷ GEMM floor, each process's own"]
    assert own == pytest.approx(1.1)
    assert rows["workload 2, float32: mlpzero ÷ PyTorch"] == pytest.approx(3.3 / 4.4)
    paired = rows["workload 2, float32: mlpzero ÷ PyTorch, each over its process's floor"]
    assert paired == pytest.approx(1.1 / 2.2)
    table = run.markdown(result)
    assert "| mlpzero | 3.3 | 1 | n/a | 1.1 | 3.3 |" in table
    own_row = "| workload 2, float32: mlpzero ÷ GEMM floor, each process's own | 1.1 | <= 1.25 |"
    assert f"{own_row} yes |" in table


def test_the_floor_times_the_eight_products_of_each_batch(monkeypatch):
    calls = []
    real = np.matmul

    def counting(a, b, out):
        calls.append((a.shape, b.shape))
        return real(a, b, out=out)

    monkeypatch.setattr(np, "matmul", counting)
    X = np.ones((3 * run.W2_BATCH - 5, run.W2_SIZES[0]), dtype=np.float32)
    # The machine's cores, the default: the BLAS is left as the suite found it.
    seconds, cpu = run.floor_epoch("numpy", X, threads=os.cpu_count() or 1)
    monkeypatch.undo()
    assert seconds > 0 and cpu >= 0
    assert len(calls) == 3 * 8  # three batches, the last one short
    assert calls[0] == ((run.W2_BATCH, 784), (784, 512))
    assert calls[-1] == ((run.W2_SIZES[1], run.W2_BATCH - 5), (run.W2_BATCH - 5, 784))


@pytest.mark.parametrize("bad", ["0", "-2"])
def test_repeats_must_be_positive(bad, capsys):
    with pytest.raises(SystemExit):
        run.main(["-r", bad, "-w", "1"])
    assert "--repeats must be at least 1" in capsys.readouterr().err


def test_peak_memory_sees_an_allocation_freed_inside_the_block():
    """The sampler catches a peak that is gone when the block ends."""
    from benchmarks._memory import PeakMemory, status_mb

    if status_mb(("RssAnon",))["RssAnon"] == 0:
        pytest.skip("no RssAnon in /proc/self/status")
    with PeakMemory(("RssAnon",), interval=0.001) as memory:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, every page touched
        time.sleep(0.05)
        del block
    assert memory.peak["RssAnon"] - memory.before["RssAnon"] > 60
    assert status_mb(("RssAnon",))["RssAnon"] < memory.peak["RssAnon"] - 50


def test_largest_mappings_lists_files_with_resident_pages():
    from benchmarks import memory

    if not memory.Path("/proc/self/smaps").exists():
        pytest.skip("needs Linux's /proc")
    files = memory.largest_mappings(3)
    assert 1 <= len(files) <= 3
    assert all(mb > 0 for _, mb in files)
    assert [mb for _, mb in files] == sorted((mb for _, mb in files), reverse=True)


def test_step_profile_times_every_part_of_a_step(capsys):
    from benchmarks import step_profile

    args = ["--rows", "1024", "--rounds", "1", "--calls", "2", "--dtype", "float32"]
    assert step_profile.main(args) == 0
    table = capsys.readouterr().out
    for part in ("products", "step", "gather", "forward", "forward+backward", "adam"):
        assert f"| float32 | {part} |" in table
    with pytest.raises(SystemExit):
        step_profile.main(["--rows", "100"])


def test_adams_twin_moves_the_moments_as_the_kernel_and_compiles_alike():
    """The twin of ``benchmarks.adam`` must differ from the library's update in the
    parameters' step alone, and be compiled with the kernel's options: the comparison
    times the same loads, stores and multiply-adds."""
    pytest.importorskip("numba")
    from benchmarks import adam

    from mlpzero._numba_kernels import adam as kernel

    twin = adam._twin(kernel)
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(1000), rng.standard_normal(1000), np.zeros(1000), np.zeros(1000)]
    theirs, ours = [a.copy() for a in start], [a.copy() for a in start]
    scalars = (0.9, 0.1, 0.999, 0.001, 0.01, 1e-8)
    kernel(*theirs, *scalars)
    twin(*ours, *scalars)
    np.testing.assert_array_equal(ours[2], theirs[2])
    np.testing.assert_array_equal(ours[3], theirs[3])
    assert not np.array_equal(ours[0], theirs[0])
    assert twin.targetoptions["fastmath"] == kernel.targetoptions["fastmath"]


def test_step_profile_swaps_adams_update_only_inside_the_block():
    from benchmarks import step_profile

    from mlpzero import kernels

    def replacement(*arrays_and_scalars):
        pass

    if kernels.compiled() is None:  # the NumPy backend has no compiled update to replace
        with pytest.raises(RuntimeError, match="numba backend only"):
            with step_profile.adam_kernel(replacement):
                pass
        return
    real = kernels.compiled()
    with step_profile.adam_kernel(replacement):
        assert kernels.compiled().adam is replacement
        assert kernels.compiled().forward is real.forward
    assert kernels.compiled() is real
    with pytest.raises(AssertionError, match="does not match"):
        step_profile.check_same_update(replacement, "float32")


def test_contention_fits_both_libraries_and_stops_its_busy_processes():
    pytest.importorskip("sklearn")
    from benchmarks import contention

    with contention.busy_cores(2) as spinners:
        spawned = spinners.processes
        assert len(spawned) == 2 and all(p.poll() is None for p in spawned)
        times = contention.measure(20, epochs=1, rounds=2)
    assert all(p.poll() is not None for p in spawned)  # killed with the block
    assert sorted(times) == ["mlpzero", "scikit-learn"]
    assert all(len(seconds) == 2 and min(seconds) > 0 for seconds in times.values())


def test_sklearn_options_fits_both_libraries_on_each_kind_of_row():
    pytest.importorskip("sklearn")
    from benchmarks import sklearn_options

    for data in ((200, 5, 3), (200, 5, 2), (200, 5, 0, "float32")):
        X, y = sklearn_options.make_data(*data)
        assert X.shape == (200, 5) and X.dtype == np.dtype(data[3] if len(data) > 3 else float)
        result = sklearn_options.compare("sample_weight", {"max_iter": 2}, data, rounds=2)
        assert set(result["seconds"]) == set(result["scores"]) == {"mlpzero", "scikit-learn"}
        assert min(result["seconds"].values()) > 0
    assert len(np.unique(y)) > 2  # a regression target, not labels


def test_contention_stops_the_busy_processes_it_started_when_another_fails(monkeypatch):
    from benchmarks import contention

    spawned = []
    popen = contention.subprocess.Popen

    def second_fails(*args, **kwargs):
        if spawned:
            raise OSError("no more processes")
        spawned.append(popen(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(contention.subprocess, "Popen", second_fails)
    try:
        with pytest.raises(OSError, match="no more processes"):
            with contention.busy_cores(2):
                pass  # pragma: no cover - not reached
        assert len(spawned) == 1 and spawned[0].poll() is not None  # killed with the block
    finally:
        for process in spawned:
            process.kill()
            process.wait(timeout=10)


def test_busy_processes_stop_with_the_script_and_are_checked(tmp_path):
    from benchmarks import contention

    # A script killed inside the block (os._exit runs no cleanup) leaves its spinner
    # behind, which sees its parent gone and stops by itself.
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(contention.ROOT)!r})\n"
        "from benchmarks import contention\n"
        "with contention.busy_cores(1) as spinners:\n"
        "    print(spinners.processes[0].pid, flush=True)\n"
        "    os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    spinner = int(done.stdout)
    deadline = time.monotonic() + 20
    while _alive(spinner) and time.monotonic() < deadline:
        time.sleep(0.1)
    still_spinning = _alive(spinner)
    if still_spinning:  # never leave it behind, even when the test fails
        os.kill(spinner, signal.SIGKILL)
    assert not still_spinning

    # Inside the block, a spinner that stopped makes the check raise.
    with contention.busy_cores(2) as spinners:
        spinners.check()
        spinners.processes[0].kill()
        spinners.processes[0].wait(timeout=10)
        with pytest.raises(RuntimeError, match=r"1 busy process\(es\) stopped"):
            spinners.check()


def _alive(pid):
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("module", "argv", "message"),
    [
        ("contention", ["--rounds", "0"], "--rounds, --epochs and --busy must be at least 1"),
        ("contention", ["--busy", "-1"], "got --rounds 5, --epochs 10, --busy -1"),
        ("sklearn_options", ["--rounds", "0"], "--rounds must be at least 1, got 0"),
        ("sklearn_options", ["lbgfs"], "no row's name contains 'lbgfs'"),
    ],
)
def test_the_scikit_learn_benchmarks_refuse_bad_arguments_by_name(module, argv, message, capsys):
    import importlib

    script = importlib.import_module(f"benchmarks.{module}")
    with pytest.raises(SystemExit):
        script.main(argv)
    assert message in capsys.readouterr().err


def test_precompiled_refuses_no_rounds(capsys):
    from benchmarks import precompiled

    with pytest.raises(SystemExit):
        precompiled.main(["--rounds", "0"])
    assert "--rounds must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.slow
def test_precompiled_kernels_fit_without_numba_to_the_jitted_parameters(capsys):
    """The ahead-of-time module serves the whole small fit with numba never imported, and
    gives the jitted fit's parameters up to float32 rounding."""
    import shutil

    from benchmarks import precompiled

    if not numba_available() or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("needs numba and a C compiler")
    # Kernels compiled for other signatures in this process (earlier tests' float64 fits)
    # made the build refuse to start: it compiles in a process of its own.
    from mlpzero import MLP, kernels

    before = kernels.get_backend()
    kernels.set_backend("numba")
    try:
        X = np.random.default_rng(0).standard_normal((20, 2))
        MLP(hidden=(8, 4), dtype="float64").fit(X, (X[:, 0] > 0).astype(int), epochs=3)
    finally:
        kernels.set_backend(before)
    precompiled.main(["--rounds", "1"])
    rows = {
        cells[0]: cells[1:]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and not line.startswith(("| kernels", "| ---"))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(rows) == set(precompiled.MODES)
    assert rows["precompiled"][2] == "no" and rows["numba, cache filled"][2] == "yes"
    assert float(rows["precompiled"][3]) < 1e-5
    assert float(rows["precompiled"][1]) < float(rows["numba, cache filled"][1])
