"""Every ```python block of README.md runs as written."""

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import pytest

from mlpzero import kernels

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_tour_has_code():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index]
    printed = io.StringIO()
    if 'set_backend("numba")' in code and not kernels.numba_available():
        pytest.skip("numba is not installed (the `fast` extra; `make test` installs it)")
    before = kernels.get_backend()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"README.md block {index + 1}", "exec"), {"__name__": "__readme__"})
    finally:
        kernels.set_backend(before)  # a block may switch it; the next test starts as before
    # Every figure the block promises is written as a PNG.
    for name in re.findall(r"[\"']([\w.-]+\.png)[\"']", code):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    # Printed values the comments promise ("# value") appear in the output.
    for line in code.splitlines():
        match = re.match(r"print\(.*\)\s+# ([\[\(\d].*)$", line.strip())
        if match:
            assert match.group(1).strip() in printed.getvalue(), line
    # A "# True" / "# False" comment is a line of its own in the output.
    printed_lines = [line.strip() for line in printed.getvalue().splitlines()]
    for line in code.splitlines():
        match = re.match(r"print\(.*\)\s+# (True|False)$", line.strip())
        if match:
            assert match.group(1) in printed_lines, line
