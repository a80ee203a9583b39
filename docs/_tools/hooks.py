"""mkdocs hooks for mlpzero's site: the checkout's own source, and MathJax from the site.

The site documents the source it is built from: ``src/`` goes first on the import path of
the build and of the kernels that run the notebooks, whatever mlpzero is installed.

The `docs` extra installs MathJax 3 as files (the ``mathjax`` package of the
``django-static-mathjax`` distribution, which holds MathJax's ``es5`` build and nothing
that runs in Python). After each build the one combined file the site loads,
``tex-chtml.js``, and the folders of components, extensions and fonts it may load later
are copied to ``site/mathjax/`` (MathJax's other combined files are left out), so a page
renders its formulas with no request outside the site.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any


def mathjax_source() -> Path:
    """The folder holding ``tex-chtml.js`` and the fonts and extensions it loads."""
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "static" / "mathjax" / "es5"
        if (folder / "tex-chtml.js").is_file():
            return folder
    raise FileNotFoundError(
        "MathJax is not installed: the documentation needs the `docs` extra "
        "(pip install -e '.[docs]')"
    )


SOURCE = Path(__file__).resolve().parents[2] / "src"


def on_startup(**kwargs: Any) -> None:
    sys.path.insert(0, str(SOURCE))
    paths = [str(SOURCE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


#: The combined MathJax file the pages load (mkdocs.yml, extra_javascript).
ENTRY = "tex-chtml.js"


def on_post_build(config: Any, **kwargs: Any) -> None:
    source = mathjax_source()
    target = Path(config["site_dir"]) / "mathjax"

    def other_builds(folder: str, names: list[str]) -> list[str]:
        if Path(folder) != source:
            return []
        return [name for name in names if (source / name).is_file() and name != ENTRY]

    shutil.copytree(source, target, ignore=other_builds, dirs_exist_ok=True)
