"""``chainrule explain "(x + y) * z" --x -2 --y 5 --z -4``: the glass box from the command line.

Prints the backward-pass table and writes the circuit (SVG and PNG, when the
graphviz ``dot`` program is installed) and the step-through HTML page to
``--out`` (default ``./chainrule-explain``). The formula is parsed with an AST
whitelist (see :mod:`chainrule.viz.formula`), never evaluated as Python.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import threading
from pathlib import Path

import numpy as np

from ..viz import trace
from ..viz.circuit import have_dot
from ..viz.formula import FUNCTION_NAMES, FormulaError, parse
from .errors import CLIError, did_you_mean

EXAMPLES = """examples:
  chainrule explain "(x + y) * z" --x -2 --y 5 --z -4
  chainrule explain "q = x + y; f = q * z" --x -2 --y 5 --z -4 --out cs231n
  chainrule explain "sigmoid(w0*x0 + w1*x1 + w2)" --w0 2 --x0 -1 --w1 -3 --x1 -2 --w2 -3
  chainrule explain "sum((transpose(W) @ (W @ x) - x) ** 2)" --W "[[1, 2], [0, 1]]" --x "[1, -1]"

values: a number, or a nested list for an array ("[[1, 2], [3, 4]]").
functions: {functions}
"""

# A formula within MAX_LENGTH characters nests at most that many nodes deep (`x+x+...+x` of 999
# terms, `- - - x`); parsing, tracing and drawing it recurse once or a few times per level. The
# command runs in a thread whose stack and recursion limit fit that depth with room to spare,
# rather than under Python's default limit of 1000 frames.
RECURSION_LIMIT = 50_000
STACK_BYTES = 512 * 2 ** 20

_OPTIONS = {"--out", "-o", "--width"}
_FLAGS = {"--no-files", "--no-png"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain", help="show a formula's forward values and backward pass (table, circuit, HTML)",
        description="Evaluate a formula, print every node's value, local gradient and gradients "
                    "(backward order), and write its circuit diagram and a step-through page.",
        epilog=EXAMPLES.format(functions=", ".join(FUNCTION_NAMES)),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("formula", help='e.g. "(x + y) * z" or "q = x + y; f = q * z"')
    p.add_argument("-o", "--out", default=None,
                   help="directory for circuit.svg, circuit.png and explain.html "
                        "(default: ./chainrule-explain)")
    p.add_argument("--no-files", action="store_true", help="only print the table")
    p.add_argument("--no-png", action="store_true", help="write the SVG but not the PNG")
    p.add_argument("--width", type=int, default=None, help="table width in characters")
    p.add_argument("values", nargs=argparse.REMAINDER, metavar="--NAME VALUE",
                   help="a value for every variable of the formula")
    p.set_defaults(func=run)


def _value(name: str, text: str):
    try:
        v = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise CLIError(f"--{name} {text!r}: not a number or a list of numbers") from None
    if isinstance(v, bool) or isinstance(v, (str, bytes, dict, set, complex)) or v is None:
        raise CLIError(f"--{name} {text!r}: not a number or a list of numbers")
    try:
        a = np.asarray(v, dtype=float)
    except (ValueError, TypeError):
        raise CLIError(f"--{name} {text!r}: not a number or a rectangular list of numbers") from None
    return float(a) if a.ndim == 0 else a


def parse_values(tokens: list[str], args) -> dict:
    """``--x -2 --y=5`` -> ``{"x": -2.0, "y": 5.0}``.

    Known options given after the formula (``--out``, ``--width``, flags) are set on ``args``.
    """
    values: dict = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _FLAGS:
            setattr(args, tok[2:].replace("-", "_"), True)
            i += 1
            continue
        name, eq, val = tok.partition("=")
        if name in _OPTIONS:
            if not eq:
                if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                    raise CLIError(f"{name} needs a value")
                val = tokens[i + 1]
                i += 1
            if name == "--width":
                try:
                    args.width = int(val)
                except ValueError:
                    raise CLIError(f"--width {val!r}: not an integer") from None
            else:
                args.out = val
            i += 1
            continue
        if not tok.startswith("--") or len(name) <= 2:
            raise CLIError(f"unexpected argument {tok!r}: give values as --NAME VALUE (e.g. --x -2)")
        key = name[2:]
        if not key.isidentifier():
            raise CLIError(f"{name!r} is not a variable name{did_you_mean(name, _OPTIONS | _FLAGS)}")
        if not eq:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise CLIError(f"{name} needs a value")
            val = tokens[i + 1]
            i += 1
        if key in values:
            raise CLIError(f"{name} is given twice")
        values[key] = _value(key, val)
        i += 1
    return values


def run(args) -> int:
    """The command, run with a stack deep enough for any formula within the length limit."""
    try:
        return _with_deep_stack(lambda: _run(args))
    except RecursionError:
        raise CLIError("the formula is nested too deeply to evaluate; split it into named steps "
                       "(`q = ...; f = q * ...`)") from None


def _with_deep_stack(fn):
    """``fn()`` in a worker thread with a ``STACK_BYTES`` stack and ``RECURSION_LIMIT`` frames;
    its result or exception is handed back to the caller's thread."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as e:  # re-raised in the caller's thread below
            outcome["error"] = e

    old_limit = sys.getrecursionlimit()
    try:
        old_size = threading.stack_size(STACK_BYTES)
    except ValueError:  # a platform that cannot size thread stacks: Python's own limit applies
        return fn()
    worker = threading.Thread(target=target, name="chainrule-explain", daemon=True)
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))  # before the worker's first frame
    try:
        try:
            worker.start()
        except RuntimeError:  # no room for such a stack: run here, under Python's own limit
            sys.setrecursionlimit(old_limit)
            return fn()
        finally:
            threading.stack_size(old_size)
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _run(args) -> int:
    values = parse_values(list(args.values or []), args)
    try:
        formula = parse(args.formula)
    except FormulaError as e:
        raise CLIError(str(e)) from None
    missing = [n for n in formula.inputs if n not in values]
    if missing:
        raise CLIError("no value for " + ", ".join(missing) + ": pass "
                       + " ".join(f"--{n} VALUE" for n in missing))
    extra = [n for n in values if n not in formula.inputs]
    if extra:
        hint = did_you_mean(f"--{extra[0]}", _OPTIONS | _FLAGS | {f"--{n}" for n in formula.inputs})
        raise CLIError("the formula does not use " + ", ".join(extra)
                       + f" (its variables: {', '.join(formula.inputs) or 'none'}){hint}")
    if not formula.inputs:
        raise CLIError("the formula has no variables to differentiate")

    def fn(*xs):
        return formula(*xs)

    fn.__signature__ = _signature(formula.inputs)
    try:
        comp = trace(fn, structure=False, name=formula.output)(*[values[n] for n in formula.inputs])
    except FormulaError as e:
        raise CLIError(str(e)) from None
    except (ValueError, TypeError, ArithmeticError, NotImplementedError) as e:
        raise CLIError(f"cannot evaluate the formula: {type(e).__name__}: {e}") from None

    width = args.width or (None if sys.stdout.isatty() else 120)
    try:
        comp.explain(width=width)
    except ImportError as e:
        raise CLIError(str(e)) from None

    if args.no_files:
        return 0
    out = Path(args.out or "chainrule-explain")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create {out}: {e.strerror or e}") from None
    written = []
    if have_dot():
        try:
            written.append(comp.render(out / "circuit.svg"))
            if not args.no_png:
                written.append(comp.render(out / "circuit.png"))
        except ImportError as e:
            print(f"note: no circuit diagram: {e}", file=sys.stderr)
    else:
        print("note: the graphviz 'dot' program is not installed, so no circuit.svg "
              "(apt-get install graphviz); the HTML page uses a built-in layout", file=sys.stderr)
    html_path = out / "explain.html"
    comp.to_html(html_path)
    written.append(html_path)
    for w in written:
        print(f"wrote {w}")
    return 0


def _signature(names):
    return inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names])
