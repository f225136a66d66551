"""The ``chainrule`` command. Each subcommand lives in its own module with a ``register`` hook."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand module -> it adds its parsers in register(subparsers)
SUBCOMMAND_MODULES = ("chainrule.cli.train", "chainrule.cli.explain")


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule",
                                     description="Exact derivatives of NumPy programs, shown.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # subcommand not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CLIError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
