"""``python -m mlpzero``: the same as the ``mlpzero`` command."""

from .cli import main

raise SystemExit(main())
