"""What a kept package carries: one version, read from the installed metadata; the licence."""

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import mlpzero
from mlpzero._version import UNKNOWN_VERSION, installed_version

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_metadata():
    try:
        expected = version("mlpzero")
    except PackageNotFoundError:
        pytest.skip("mlpzero is not installed (only on sys.path)")
    assert mlpzero.__version__ == expected
    assert installed_version() == expected
    # ... and that is the one version written, in pyproject.toml
    written = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{expected}"\n' in written


def test_a_package_that_is_not_installed_reports_the_unknown_version():
    assert installed_version("mlpzero-no-such-distribution") == UNKNOWN_VERSION == "0+unknown"


def test_the_licence_text_is_in_the_repository_and_declared():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the mlpzero authors" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in pyproject and 'license-files = ["LICENSE"]' in pyproject


def test_import_leaves_the_version_lookup_until_it_is_asked_for():
    # importlib.metadata brings in the email package: MBs and milliseconds a fit never needs
    code = (
        "import sys, mlpzero\n"
        "print('importlib.metadata' in sys.modules)\n"
        "print(mlpzero.__version__ == mlpzero._version.installed_version())\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    env = {**os.environ, "MLPZERO_BACKEND": "numpy"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "True", "True"]


def test_an_unknown_attribute_of_the_package_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        mlpzero.no_such_name  # noqa: B018


def test_the_version_is_listed_by_dir_before_it_is_read():
    # dir() feeds completion in a shell or notebook: mlpzero.__ver<Tab> before any access
    code = "import mlpzero\nprint('__version__' in dir(mlpzero))\n"
    env = {**os.environ, "MLPZERO_BACKEND": "numpy"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    assert done.stdout.split() == ["True"]
