"""The ``mlpzero`` command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlpzero", description="mlpzero command line")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the article's experiments and write figures")
    demo.add_argument("--out", default="out", help="folder for the figures (default: out)")
    play = commands.add_parser("playground", help="watch a network learn, in the browser")
    play.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    play.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    play.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args = parser.parse_args(argv)
    if args.command == "playground":
        from .playground.server import main as serve

        serve(args.host, args.port, open_browser=not args.no_browser)
    if args.command == "demo":
        from .demo import run

        run(out=args.out)
    return 0
