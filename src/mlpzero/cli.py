"""The ``mlpzero`` command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlpzero", description="mlpzero command line")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the article's experiments and write figures")
    demo.add_argument("--out", default="out", help="folder for the figures (default: out)")
    from .playground import cli as playground

    playground.add_arguments(commands.add_parser("playground", help="watch a network learn"))
    args = parser.parse_args(argv)
    if args.command == "playground":
        return playground.run(args)
    if args.command == "demo":
        from .demo import run

        run(out=args.out)
    return 0
