"""Hyper-parameter sweeps of the scikit-learn estimators on a Dask cluster.

The script runs in a subprocess with its own ``LocalCluster`` of worker processes; it is a
file with a ``__main__`` guard because the workers import it. It runs each search once with
``n_jobs=1`` and once through ``joblib.parallel_backend("dask")`` and writes both
``cv_results_``; the test asserts they are the same, and that the cluster ran the fits.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="needs dask.distributed (pip install 'mlpzero[dask]'; `make test` has it)",
)

SCRIPT = """
import json
import sys
import warnings

import numpy as np


def searches():
    from scipy.stats import loguniform
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from mlpzero.sklearn import MLPClassifier, MLPRegressor

    classifier = MLPClassifier(hidden_layer_sizes=(8,), max_iter=25, random_state=0)
    regressor = MLPRegressor(hidden_layer_sizes=(6,), max_iter=25, random_state=0)
    grid = {"alpha": [1e-4, 1e-2], "learning_rate_init": [0.01, 0.05]}
    spread = {"alpha": loguniform(1e-5, 1e-1), "learning_rate_init": loguniform(1e-3, 1e-1)}
    return {
        "grid": lambda n_jobs: GridSearchCV(classifier, grid, cv=3, n_jobs=n_jobs),
        "random": lambda n_jobs: RandomizedSearchCV(
            regressor, spread, n_iter=3, cv=3, random_state=0, n_jobs=n_jobs
        ),
    }


def data(name):
    from mlpzero.datasets import make_moons

    X, y = make_moons(n_samples=120, random_state=0)
    if name == "random":  # regression: predict the first feature from the second
        return X[:, 1:], X[:, 0]
    return X, y


def results(search):
    kept = {}
    for key, value in search.cv_results_.items():
        if key.endswith("_time"):
            continue  # timings differ from run to run
        if key == "params":
            kept[key] = [{k: float(v) for k, v in p.items()} for p in value]
        else:
            kept[key] = np.asarray(value, dtype=float).tolist()
    return kept


def main(out):
    import joblib
    from dask.distributed import Client, LocalCluster, get_task_stream

    warnings.simplefilter("ignore")  # short fits warn that they have not converged
    found = {}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        for name, make in searches().items():
            X, y = data(name)
            one = make(1).fit(X, y)
            with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
                many = make(None).fit(X, y)
            workers = {task["worker"] for task in stream.data}
            found[name] = {
                "n_jobs=1": results(one),
                "dask": results(many),
                "tasks": len(stream.data),
                "workers": len(workers),
            }
    with open(out, "w") as file:
        json.dump(found, file)


if __name__ == "__main__":
    main(sys.argv[1])
"""


def run_script(args: list[str], cwd, timeout: float, what: str) -> None:
    """Run ``python *args`` with the package on its path and one BLAS thread, in its own
    process group, killed whole if it outlives ``timeout``, and check that it succeeded."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()  # reap it, and keep what it said
        pytest.fail(f"{what} hung for {timeout} s\n{stdout}\n{stderr}")
    assert process.returncode == 0, f"{stdout}\n{stderr}"


def test_sweeps_on_a_dask_cluster_match_one_process(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out = tmp_path / "results.json"
    run_script([str(script), str(out)], tmp_path, 180, "the Dask sweep")
    found = json.loads(out.read_text())
    assert set(found) == {"grid", "random"}
    for name, run in found.items():
        assert run["dask"] == run["n_jobs=1"], name
        assert len(run["dask"]["params"]) == (4 if name == "grid" else 3)
        assert run["tasks"] > 0 and run["workers"] > 0, name  # the cluster ran the fits


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dask_sweep.py"

FAILING_SEARCH = """
import json
import runpy
import sys
import time

import psutil
import sklearn.model_selection


def fail(self, X, y=None, **params):
    raise RuntimeError("a fit failed")


if __name__ == "__main__":
    sklearn.model_selection.GridSearchCV.fit = fail
    example = runpy.run_path(sys.argv[1])  # not as __main__: its main() is not run yet
    try:
        example["main"]()
    except RuntimeError as error:
        failed = str(error)
    deadline = time.monotonic() + 10
    while True:  # the processes of a closed cluster end within moments
        workers = [
            " ".join(child.cmdline())
            for child in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(child.cmdline())
        ]
        if not workers or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    with open(sys.argv[2], "w") as file:
        json.dump({"failed": failed, "workers": workers}, file)
"""


def test_the_example_stops_its_cluster_when_the_search_fails(tmp_path):
    """examples/dask_sweep.py's main() in a longer-lived process (a notebook, a program
    that imports it): a search that raises must not leave the local cluster's worker
    processes running."""
    script = tmp_path / "failing.py"
    script.write_text(textwrap.dedent(FAILING_SEARCH))
    out = tmp_path / "left.json"
    run_script([str(script), str(EXAMPLE), str(out)], tmp_path, 120, "the failing search")
    left = json.loads(out.read_text())
    assert left["failed"] == "a fit failed"
    assert left["workers"] == []
