"""The notebooks on practice and diagnostics run top to bottom in a fresh kernel.

Each notebook checks its own claims with ``assert`` cells, so running it tests them. The
notebooks are stored without outputs; this test never writes them back. Running both takes
about half a minute, so it is marked slow (``make test-slow``).
"""

import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["02_from_article_to_practice.ipynb", "03_diagnosing_training.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name):
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_a_fresh_kernel(name, tmp_path, monkeypatch):
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    source = str(Path(__file__).resolve().parents[1] / "src")  # this checkout's mlpzero
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
    )
    started = time.perf_counter()
    client = nbclient.NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    seconds = time.perf_counter() - started
    errors = [
        output
        for cell in book.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert errors == []
    assert seconds < 90, f"{name} took {seconds:.0f} s"
