"""Deploy a fitted model: ONNX for runtimes, a C99 header for microcontrollers.

- :func:`to_onnx` (also :meth:`MLP.to_onnx <mlpzero.MLP.to_onnx>`): an ONNX graph with
  the model's outputs named as skl2onnx names them; needs the ``onnx`` extra.
- :func:`to_c` (also :meth:`MLP.to_c <mlpzero.MLP.to_c>`): one self-contained C99 header,
  with no dependency beyond ``<math.h>``.
- :func:`export`: either, chosen by the file's extension (``.onnx`` or ``.h``).

Both read the model through :func:`~mlpzero.export.description.describe` and write each
activation and output link from the one table
:data:`~mlpzero.export.operations.OPERATIONS`. A model with a piece that table lacks is
refused with a ``ValueError``; no exporter writes a model that computes something else.
This package holds no training math: it translates what the network already holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io import file_path
from .c import to_c
from .description import FORMATS, Description, describe, export_format

__all__ = ["FORMATS", "Description", "describe", "export", "export_format", "to_c", "to_onnx"]


def to_onnx(
    model: Any, path: str | os.PathLike[str] | None = None, *, opset: int | None = None
) -> Any:
    """Export to ONNX; see :func:`mlpzero.export.onnx.to_onnx` (needs the ``onnx`` extra)."""
    try:
        from .onnx import to_onnx as _to_onnx
    except ModuleNotFoundError as error:
        if error.name != "onnx":
            raise
        raise ImportError(
            "exporting to ONNX needs the onnx package: pip install 'mlpzero[onnx]'"
        ) from error
    return _to_onnx(model, path, opset=opset)


def export(model: Any, path: str | os.PathLike[str], *, name: str | None = None) -> Path:
    """Write ``model`` to ``path`` in the format its extension names (``.onnx`` or ``.h``).

    ``name`` prefixes the C header's identifiers (default: the file's stem, which must
    then be a C identifier that starts with a letter and is not a C keyword: two headers
    must not share their symbols); it does not apply to ONNX.
    """
    given = file_path(path)  # as given: the exporters refuse "net.h/", which Path drops
    if export_format(given) == ".onnx":
        if name is not None:
            raise ValueError(f"name applies to a C header, not to {given!r}")
        to_onnx(model, given)
        return Path(given)
    if name is None:
        from .c import is_identifier, is_keyword

        stem = Path(given).stem
        if not is_identifier(stem):
            why = (
                "is a C keyword"
                if is_keyword(stem)
                else "is not a C identifier that starts with a letter"
            )
            raise ValueError(
                f"the C header's name comes from the file name, but {stem!r} {why}: pass "
                "name= (--name on the command line)"
            )
        name = stem
    return to_c(model, given, name=name)
