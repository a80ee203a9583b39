"""The CSV throughput benchmark keeps working (it times nothing against a target here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from benchmarks import csv_throughput

from mlpzero.datasets import load_csv

ROOT = Path(__file__).resolve().parents[1]


def test_generated_csv_loads_and_the_child_process_reports_its_measurements(tmp_path):
    if not Path("/proc/self/status").exists():
        pytest.skip("RssAnon needs /proc")
    path = tmp_path / "data.csv"
    rows = csv_throughput.write_csv(path, megabytes=0.5, features=4)
    X, y = load_csv(path)
    assert X.shape == (rows, 4) and y.dtype == np.int64 and set(y.tolist()) <= set(range(10))
    for operation in ("load_csv", "convert"):
        # The benchmark's own path: a fresh process that prints its figures as JSON.
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.csv_throughput", "--child", operation,
             str(path), str(tmp_path / operation)],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        result = json.loads(done.stdout)
        assert result["rows"] == rows
        assert 0 < result["cpu"] and 0 < result["before_mb"] <= result["peak_mb"]
    converted = np.load(tmp_path / "convert" / "converted" / "X.npy")
    np.testing.assert_array_equal(converted, X.astype(np.float32))  # it timed the real work
