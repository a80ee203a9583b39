"""The CSV throughput benchmark keeps working (it times nothing against a target here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks import csv_throughput

from mlpzero.datasets import load_csv


def test_generated_csv_loads_and_the_child_reports_its_measurements(tmp_path):
    if not Path("/proc/self/status").exists():
        pytest.skip("RssAnon needs /proc")
    path = tmp_path / "data.csv"
    rows = csv_throughput.write_csv(path, megabytes=0.5, features=4)
    X, y = load_csv(path)
    assert X.shape == (rows, 4) and y.dtype == np.int64 and set(y.tolist()) <= set(range(10))
    for operation in ("load_csv", "convert"):
        result = csv_throughput.child(operation, str(path), str(tmp_path / operation))
        assert result["rows"] == rows
        assert result["peak_mb"] >= result["before_mb"] > 0
        assert result["seconds"] > 0
