"""A hyper-parameter search on a Dask cluster, through joblib.

scikit-learn's searches hand their fits to joblib; `joblib.parallel_backend("dask")` sends
them to the Dask workers. The results equal those of `n_jobs=1`.

    pip install 'mlpzero[dask,sklearn]'
    python examples/dask_sweep.py                       # a local cluster of processes
    python examples/dask_sweep.py tcp://scheduler:8786  # an existing cluster

On a cluster, every worker needs mlpzero installed. The script is guarded by
`if __name__ == "__main__"` because worker processes import it.
"""

import sys

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from mlpzero.datasets import make_moons
from mlpzero.sklearn import MLPClassifier


def main(address: str | None = None) -> None:
    X, y = make_moons(n_samples=600, noise=0.25, random_state=0)
    search = GridSearchCV(
        MLPClassifier(learning_rate_init=0.01, max_iter=500, tol=1e-3, random_state=0),
        {"hidden_layer_sizes": [(8,), (16,), (16, 8)], "alpha": [1e-4, 1e-3, 1e-2]},
        cv=3,
    )
    cluster = None if address else LocalCluster(n_workers=2, threads_per_worker=1)
    try:
        with Client(address or cluster) as client:
            print(f"dashboard: {client.dashboard_link}")
            with joblib.parallel_backend("dask"):
                search.fit(X, y)
    finally:  # a failed search too stops the workers it started
        if cluster is not None:
            cluster.close()
    print(f"best: {search.best_params_}, accuracy {search.best_score_:.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
