"""The package version, read from the installed metadata: ``pyproject.toml`` is the one
place it is written.

:mod:`importlib.metadata` is imported when a version is first asked for, not with
``mlpzero``: it brings in the ``email`` package and takes a few MB and tens of
milliseconds that ``import mlpzero`` does not need (numba imports it anyway when the
compiled kernels are first used; a fit on NumPy alone never does).
"""

from __future__ import annotations

__all__ = ["UNKNOWN_VERSION", "installed_version"]

#: The version reported by a source tree that was never installed (a PEP 440 local
#: version that sorts before every release).
UNKNOWN_VERSION = "0+unknown"


def installed_version(distribution: str = "mlpzero") -> str:
    """The installed version of ``distribution``, or :data:`UNKNOWN_VERSION` if it is not
    installed (for example when ``src`` is put on ``sys.path`` by hand)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return UNKNOWN_VERSION
