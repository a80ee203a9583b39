"""mlpzero: multi-layer neural networks from scratch on NumPy.

The pieces, one module each: :mod:`~mlpzero.activations`, :mod:`~mlpzero.initializers`,
:mod:`~mlpzero.losses`, :mod:`~mlpzero.network` (forward and backward over one flat
parameter vector), :mod:`~mlpzero.optimizers`, :mod:`~mlpzero.training` (the loop) and
:class:`~mlpzero.model.MLP`, the model most users want. The hot steps run on compiled
kernels (:mod:`~mlpzero.kernels`) where numba is installed; :func:`set_backend` ``("numpy")``
computes with NumPy alone.
"""

from ._version import installed_version
from .kernels import get_backend, numba_available, set_backend
from .model import MLP, load
from .network import Network

__all__ = [
    "MLP",
    "Network",
    "__version__",
    "get_backend",
    "load",
    "numba_available",
    "set_backend",
]


def __getattr__(name: str) -> str:
    """``mlpzero.__version__``, read from the installed metadata on first use."""
    if name == "__version__":
        version = globals()["__version__"] = installed_version()
        return version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, ``__version__`` included before its first use."""
    return sorted({*globals(), "__version__"})
