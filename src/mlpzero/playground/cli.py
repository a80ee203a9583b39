"""The ``mlpzero playground`` sub-command.

:mod:`mlpzero.cli` finds this module and calls :func:`add_parser`. Nothing here needs the
web server's packages until the command runs, so ``mlpzero`` works without the
``playground`` extra and ``mlpzero playground`` then says how to install it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_parser(subparsers: Any, add_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``playground [--host H] [--port P] [--no-browser]`` to the ``mlpzero`` command,
    through the command's own ``add_command`` (handed in: nothing here imports the CLI)."""
    parser = add_command(
        subparsers,
        "playground",
        help="watch a network learn in the browser, trained by mlpzero",
        example="mlpzero playground --port 8001 --no-browser",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address (default: 127.0.0.1); localhost serves both 127.0.0.1 and ::1",
    )
    parser.add_argument(
        "--port", type=_port, default=8000, help="port, 0 for any free one (default: 8000)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def _port(text: str) -> int:
    """A port number, checked as the command's other options are (exit status 2)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 65535, got {text!r}")
    return port


def run(args: argparse.Namespace) -> int:
    """Serve the playground until interrupted."""
    from .server import main

    main(args.host, args.port, open_browser=not args.no_browser)
    return 0
