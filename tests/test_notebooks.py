"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed clean.

The notebooks are collected from the folder, so a new one is tested without a change here.
Each runs in a temporary directory, so what it writes does not land in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (docs extra) missing")
nbclient = pytest.importorskip("nbclient", reason="nbclient (docs extra) missing")
pytest.importorskip("ipykernel", reason="ipykernel (docs extra) missing")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Seconds a single cell may run before the notebook counts as broken.
CELL_TIMEOUT = 300


def test_the_notebooks_folder_is_not_empty():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}, cell {index}: outputs are committed; clear them before committing"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)
    errors = [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    assert not errors
