"""The ``chainrule`` command. Each subcommand lives in its own module with a ``register`` hook."""

from __future__ import annotations

import argparse
import re
import sys

from .. import __version__
from . import explain, train
from .errors import CLIError, did_you_mean

# each subcommand module adds its parsers in register(subparsers)
SUBCOMMANDS = (train, explain)


class _Parser(argparse.ArgumentParser):
    """argparse with a suggestion for a mistyped subcommand (Python 3.14's suggest_on_error)."""

    def error(self, message):
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            message += did_you_mean(m.group(1), re.findall(r"'([^']*)'", m.group(2)))
        super().error(message)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings if s.startswith("--")]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule", description="Exact derivatives of NumPy programs, shown.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def _check_options(subparser: argparse.ArgumentParser, tokens) -> None:
    """A mistyped ``--option`` is named, with the option meant, before argparse reports something
    else first (such as a required option that the typo was meant to give)."""
    if any(a.nargs == argparse.REMAINDER for a in subparser._actions):
        return  # explain's --NAME VALUE pairs are the formula's variables
    known = _options(subparser)
    for tok in tokens:
        if tok == "--":
            break
        flag = tok.partition("=")[0]
        if flag.startswith("--") and not any(k.startswith(flag) for k in known):  # prefixes are fine
            subparser.error(f"unrecognized arguments: {tok}{did_you_mean(flag, known)}")


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = next((i for i, a in enumerate(argv) if a in sub.choices), None)
    if command is not None:
        _check_options(sub.choices[argv[command]], argv[command + 1:])
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        subparser = sub.choices[args.command]
        flag = next((u.partition("=")[0] for u in unknown if u.startswith("-")), None)
        hint = did_you_mean(flag, _options(subparser)) if flag else ""
        subparser.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
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
