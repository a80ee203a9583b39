"""Shared test set-up: the repository root on ``sys.path`` for ``benchmarks``."""

import sys
from pathlib import Path

import pytest

from mlpzero import kernels

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(params=kernels.BACKENDS)
def backend(request):
    """Run the test once per backend: NumPy, and the numba kernels (``fast`` extra)."""
    if request.param == "numba" and not kernels.numba_available():
        pytest.skip("numba is not installed (the `fast` extra; `make test` installs it)")
    before = kernels.get_backend()
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(before)
