"""Shared test set-up: the repository root on ``sys.path`` for ``benchmarks``, the
backend, the ``backend`` fixture, and what several test files use (``from conftest
import ...``): the data sets ``blobs`` and ``circles``, ``read_model_file`` and
``write_model_file`` to take a saved model file apart and put a changed one back, and
``traced_peak`` for the memory a call allocates.

The suite runs on NumPy unless ``MLPZERO_BACKEND`` names a backend (``make test-numba``
runs it all on numba): the kernels are compiled only by the tests that test them (the
``backend`` fixture and ``tests/test_kernels.py``), and the variable reaches the
processes the tests start too.
"""

import json
import os
import shutil
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MLPZERO_BACKEND", "numpy")

from mlpzero import kernels  # after the backend is chosen

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(params=kernels.BACKENDS)
def backend(request):
    """Run the test once per backend: NumPy, and the numba kernels."""
    if request.param == "numba" and not kernels.numba_available():
        pytest.skip("numba is not installed (`make test` installs it)")
    before = kernels.get_backend()
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(before)


# ---------------------------------------------------------------------- the browser
#: Debian's Chromium, as the browser tests start it (``from conftest import CHROMIUM``): no
#: sandbox (CI runs as root) and nothing that reaches out to the network by itself.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ---------------------------------------------------------------------- shared data sets
def blobs(n=60, classes=(0, 1), features=3, seed=0, spread=1.0):
    """``n`` points in Gaussian clusters, one per class: ``(X, y)``.

    Each class gets a centre drawn from N(0, 2²) per feature; a point is its class's centre
    plus N(0, spread²) noise. Labels are drawn uniformly from ``classes`` (any labels:
    ints, floats, strings). Smaller ``spread`` separates the classes more.
    """
    rng = np.random.default_rng(seed)
    labels = np.array(classes)[rng.integers(0, len(classes), n)]
    centers = {c: rng.standard_normal(features) * 2 for c in classes}
    X = np.stack([centers[c] for c in labels]) + spread * rng.standard_normal((n, features))
    return X, labels


def circles(n=500, noise=0.1, seed=42):
    """Two concentric circles (factor 0.5), scikit-learn's generator: ``(X, y)``.

    The defaults are the article's circles: 500 samples, noise 0.1, random_state 42.
    """
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)


def read_model_file(path):
    """A model or checkpoint file as ``(document, arrays)``: its JSON metadata and the
    other members, for a test to change."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return json.loads(arrays.pop("metadata").tobytes()), arrays


def write_model_file(path, document, arrays):
    """Write ``document`` and ``arrays`` back as a model file at ``path``; returns it."""
    text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(path, metadata=text, **arrays)
    return path


def traced_peak(function):
    """Run ``function``; the peak of the memory traced meanwhile (NumPy reports its
    allocations to tracemalloc, so a copy of an array shows up whole)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
