"""scikit-learn's own MLP test suite, run against mlpzero.sklearn.

The installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` is copied into a
temporary directory at test time (nothing of it is kept in this repository), its one
import of the estimators is pointed at :mod:`mlpzero.sklearn`, and it runs in a separate
pytest process. The tests listed in ``NOT_APPLICABLE`` are left out, each for the reason
given; every other test must pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sklearn = pytest.importorskip("sklearn")

IMPORT_LINE = "from sklearn.neural_network import MLPClassifier, MLPRegressor"

NOT_APPLICABLE = {
    "test_fit": "sets scikit-learn's private attributes (_coef_indptr, ...) and steps its "
    "private solver by hand",
}

CONFTEST = """\
import pytest

NOT_APPLICABLE = {names!r}


@pytest.fixture
def global_random_seed():
    return 42


def pytest_collection_modifyitems(config, items):
    # by exact name: --deselect would also drop every test whose name starts alike
    left_out = [item for item in items if item.originalname in NOT_APPLICABLE]
    items[:] = [item for item in items if item.originalname not in NOT_APPLICABLE]
    config.hook.pytest_deselected(items=left_out)
"""


def _suite_source() -> str:
    path = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    if not path.exists():
        pytest.skip(f"this scikit-learn ({sklearn.__version__}) ships without its tests")
    source = path.read_text(encoding="utf-8")
    assert source.count(IMPORT_LINE) == 1, "scikit-learn's test file imports differently"
    return source.replace(IMPORT_LINE, "from mlpzero.sklearn import MLPClassifier, MLPRegressor")


@pytest.mark.slow  # about a minute: the suite trains some hundred small networks
@pytest.mark.timeout(1200)  # its subprocess has 900 s
def test_scikit_learn_mlp_suite_passes(tmp_path: Path) -> None:
    (tmp_path / "test_mlp.py").write_text(_suite_source(), encoding="utf-8")
    conftest = CONFTEST.format(names=sorted(NOT_APPLICABLE))
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    source = Path(__file__).resolve().parents[1] / "src"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])
    )
    command = [sys.executable, "-m", "pytest", "test_mlp.py", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "no:randomly", "--rootdir", str(tmp_path)]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    deselected = re.search(r"(\d+) deselected", summary)
    assert passed and int(passed.group(1)) >= 50, summary
    assert deselected and int(deselected.group(1)) == len(NOT_APPLICABLE), summary
    assert "failed" not in summary and "error" not in summary, summary
