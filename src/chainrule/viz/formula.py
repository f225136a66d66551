"""Formulas such as ``(x + y) * z`` or ``q = x + y; f = q * z``, parsed safely.

The text is parsed with :mod:`ast` and walked by a small interpreter that knows
a whitelist of node types: numbers, variable names, ``+ - * / ** @``, unary
minus, assignments to a plain name, and calls of the functions in :data:`FUNCTIONS`
(the library's own: chainrule.numpy, chainrule.scipy.special and the activations that
chainrule.nn and the Tensor API use, so ``relu`` here is ``chainrule.nn.relu``, with the
same derivative at 0). Nothing is ever passed to ``eval``/``exec``/``compile``; anything else
(attribute access, subscripts, strings, lambdas, ``__import__``, unknown names)
is rejected with a message that says what is not allowed.
"""

from __future__ import annotations

import ast
import math

from .. import numpy as cnp
from ..rules import activations as _act
from ..scipy import special as _special
from .record import label

MAX_LENGTH = 2000


class FormulaError(ValueError):
    """A formula that is not allowed or cannot be evaluated; the message says why."""


# A formula's function name -> the library function it calls. The one table: the checker,
# the evaluator and `chainrule explain --help` all read it. `max`/`min` are NumPy's (the
# largest/smallest element); the elementwise pair is `maximum`/`minimum`.
FUNCTIONS = {
    "abs": cnp.abs, "arccos": cnp.arccos, "arcsin": cnp.arcsin, "arctan": cnp.arctan,
    "arctan2": cnp.arctan2, "cos": cnp.cos, "cosh": cnp.cosh, "dot": cnp.dot, "exp": cnp.exp,
    "expm1": cnp.expm1, "hypot": cnp.hypot, "log": cnp.log, "log1p": cnp.log1p,
    "logaddexp": cnp.logaddexp, "matmul": cnp.matmul, "max": cnp.max, "maximum": cnp.maximum,
    "mean": cnp.mean, "min": cnp.min, "minimum": cnp.minimum, "outer": cnp.outer,
    "power": cnp.power, "sin": cnp.sin, "sinh": cnp.sinh, "sqrt": cnp.sqrt, "square": cnp.square,
    "sum": cnp.sum, "tan": cnp.tan, "tanh": cnp.tanh, "transpose": cnp.transpose,
    "erf": _special.erf,
    "softmax": _special.softmax, "logsumexp": _special.logsumexp,
    "relu": _act.relu, "sigmoid": _act.sigmoid, "gelu": _act.gelu,
}
FUNCTION_NAMES = tuple(sorted(FUNCTIONS))
# functions of exactly one argument in a formula (NumPy's second argument is an axis, which a
# formula cannot spell)
_UNARY_ONLY = {cnp.max: "maximum", cnp.min: "minimum"}

CONSTANTS = {"pi": math.pi, "e": math.e}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_DESCRIBE = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "list literals", ast.Tuple: "tuples", ast.Dict: "dict literals", ast.Set: "set literals",
    ast.JoinedStr: "f-strings", ast.Starred: "star arguments", ast.NamedExpr: "the walrus operator",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Import: "import statements", ast.ImportFrom: "import statements",
    ast.FunctionDef: "function definitions", ast.ClassDef: "class definitions",
    ast.AugAssign: "augmented assignment", ast.AnnAssign: "annotated assignment",
    ast.For: "loops", ast.While: "loops", ast.If: "if statements", ast.With: "with statements",
    ast.Try: "try statements", ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Return: "return", ast.Raise: "raise", ast.Assert: "assert", ast.Pass: "pass",
}
ALLOWED = ("numbers, variables, + - * / ** @, unary minus, `name = expression;` statements "
           "and calls such as exp(x), tanh(x), sigmoid(x); see `chainrule explain --help`")


def _what(node) -> str:
    for t, d in _DESCRIBE.items():
        if isinstance(node, t):
            return d
    return type(node).__name__


def _src(text: str, node) -> str:
    return ast.get_source_segment(text, node) or type(node).__name__


class Formula:
    """A checked formula: ``inputs`` (free variables in order of appearance), ``output`` (its name),
    and :meth:`__call__` to evaluate it on (traced) values, labelling each intermediate result."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.strip():
            raise FormulaError("the formula is empty")
        if len(text) > MAX_LENGTH:
            raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters")
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="exec")
        except SyntaxError as e:
            col = f" at column {e.offset}" if e.offset else ""
            raise FormulaError(f"cannot parse the formula: {e.msg}{col}") from None
        except (RecursionError, MemoryError, ValueError) as e:
            raise FormulaError(f"cannot parse the formula: {type(e).__name__}") from None
        self.src = text.strip()
        if not tree.body:
            raise FormulaError("the formula is empty")
        self.statements = tree.body
        self.inputs: list[str] = []
        try:
            self._check_statements(tree.body)
        except RecursionError:  # the checker recurses once per level of nesting
            raise FormulaError("the formula is nested too deeply for Python's recursion limit; split "
                               "it into named steps (`q = ...; f = q * ...`)") from None
        last = tree.body[-1]
        self.output = last.targets[0].id if isinstance(last, ast.Assign) else "f"

    def _check_statements(self, body) -> None:
        assigned: set[str] = set()
        for i, st in enumerate(body):
            if isinstance(st, ast.Assign):
                if len(st.targets) != 1 or not isinstance(st.targets[0], ast.Name):
                    raise FormulaError(f"only `name = expression` assignments are allowed, "
                                       f"not {_src(self.src, st)!r}")
                self._check(st.value, assigned)
                name = st.targets[0].id
                self._check_name(name)
                if name in CONSTANTS or name in FUNCTION_NAMES:
                    raise FormulaError(f"cannot assign to {name!r}: it is a built-in name")
                if name in self.inputs:
                    raise FormulaError(f"cannot assign to {name!r}: it is an input of the formula")
                assigned.add(name)
            elif isinstance(st, ast.Expr):
                if i != len(body) - 1:
                    raise FormulaError(f"only the last statement can be a bare expression; "
                                       f"name this one: `v = {_src(self.src, st)}`")
                self._check(st.value, assigned)
            else:
                raise FormulaError(f"{_what(st)} are not allowed in a formula; allowed: {ALLOWED}")

    @staticmethod
    def _check_name(name: str) -> None:
        if name.startswith("_"):
            raise FormulaError(f"names starting with '_' are not allowed ({name!r})")

    def _check(self, node, assigned: set) -> None:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                kind = "string" if isinstance(v, (str, bytes)) else type(v).__name__
                raise FormulaError(f"{kind} literals are not allowed in a formula "
                                   f"({_src(self.src, node)}); only numbers")
        elif isinstance(node, ast.Name):
            self._check_name(node.id)
            if node.id in FUNCTION_NAMES:
                raise FormulaError(f"{node.id!r} is a function: call it, e.g. {node.id}(x)")
            if node.id not in assigned and node.id not in CONSTANTS and node.id not in self.inputs:
                self.inputs.append(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise FormulaError(f"the operator in {_src(self.src, node)!r} is not allowed "
                                   f"(allowed: {' '.join(_BINOPS.values())})")
            self._check(node.left, assigned)
            self._check(node.right, assigned)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise FormulaError(f"the operator in {_src(self.src, node)!r} is not allowed "
                                   "(allowed: unary - and +)")
            self._check(node.operand, assigned)
        elif isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute):
                raise FormulaError(f"attribute access ({_src(self.src, fn)}) is not allowed in a formula; "
                                   "call a function by its plain name, e.g. exp(x)")
            if not isinstance(fn, ast.Name):
                raise FormulaError(f"only named functions can be called, not {_src(self.src, fn)!r}")
            if fn.id not in FUNCTION_NAMES:
                raise FormulaError(f"unknown function {fn.id!r}: a formula can call only "
                                   f"{', '.join(FUNCTION_NAMES)}")
            if node.keywords:
                raise FormulaError(f"keyword arguments are not allowed ({_src(self.src, node)})")
            if not node.args:
                raise FormulaError(f"{fn.id}() needs an argument")
            pair = _UNARY_ONLY.get(FUNCTIONS[fn.id])
            if pair is not None and len(node.args) != 1:
                raise FormulaError(f"{fn.id}(x) takes one argument (NumPy's {fn.id}: over all "
                                   f"elements); for the elementwise one use {pair}(x, y)")
            for a in node.args:
                self._check(a, assigned)
        elif isinstance(node, ast.Attribute):
            raise FormulaError(f"attribute access ({_src(self.src, node)}) is not allowed in a formula; "
                               "use functions such as transpose(W)")
        else:
            raise FormulaError(f"{_what(node)} ({_src(self.src, node)}) is not allowed in a formula; "
                               f"allowed: {ALLOWED}")

    def __call__(self, *values):
        """Evaluate on ``values`` (one per input, in ``inputs`` order)."""
        if len(values) != len(self.inputs):
            raise FormulaError(f"the formula needs {len(self.inputs)} values "
                               f"({', '.join(self.inputs)}), got {len(values)}")
        env = dict(zip(self.inputs, values, strict=True))

        def ev(node, top=False):
            if isinstance(node, ast.Constant):
                return float(node.value)
            if isinstance(node, ast.Name):
                return env[node.id] if node.id in env else CONSTANTS[node.id]
            if isinstance(node, ast.BinOp):
                a, b = ev(node.left), ev(node.right)
                op = type(node.op)
                r = (a + b if op is ast.Add else a - b if op is ast.Sub else a * b if op is ast.Mult
                     else a / b if op is ast.Div else a ** b if op is ast.Pow else a @ b)
            elif isinstance(node, ast.UnaryOp):
                a = ev(node.operand)
                r = -a if isinstance(node.op, ast.USub) else +a
            else:  # ast.Call, checked in __init__
                r = FUNCTIONS[node.func.id](*[ev(a) for a in node.args])
            text = _src(self.src, node)
            # a statement's own result is named by its assignment (or is the output)
            return r if top or len(text) > 24 else label(r, text)

        out = None
        for st in self.statements:
            v = ev(st.value, top=True)
            if isinstance(st, ast.Assign):
                name = st.targets[0].id
                env[name] = label(v, name)
                out = env[name]
            else:
                out = v
        return out


def parse(text: str) -> Formula:
    return Formula(text)
