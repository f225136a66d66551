"""Primitives: an implementation plus its VJP and JVP rules, side by side.

A primitive is called like the NumPy function it wraps. ``bind`` lets the innermost
(highest-level) trace among the arguments record the call; with none, the implementation
runs directly. Rules use fixed names: ``g`` (cotangent) or ``t`` (tangent), ``ans``, the
inputs by name, then the static parameters; ``g``/``t`` may carry extra *leading* batch axes,
which a rule lets pass through: that is what makes Jacobians one pass.
"""

from __future__ import annotations

from .errors import NoRuleError


class Box:
    """A traced value. Subclasses carry the per-mode data (tape node or tangent)."""

    __slots__ = ("_value", "_trace")
    _staged = False  # True for jit's staged values, whose contents must not be read


def strip_derivatives(x):
    """``x`` without its derivative traces: a constant for every differentiating transform.

    Unlike :func:`unbox_all` it does not read the contents of a value that ``jit`` is
    staging: what is computed from the result is still recorded in the staged program.
    """
    while isinstance(x, Box) and not x._staged:
        x = x._value
    return x


def bind(prim: Primitive, args, params: dict):
    top = None
    for a in args:
        if isinstance(a, Box):
            trace = a._trace
            if top is None or trace.level > top.level:
                top = trace
    if top is None:
        return prim.impl(*args, **params)
    if not prim.differentiable:
        # no derivative to carry, but a staging trace (jit) must still record the operation
        args = [strip_derivatives(a) for a in args]
        top = None
        for a in args:  # the innermost of the traces left (staging, vmap), as below
            if isinstance(a, Box) and (top is None or a._trace.level > top.level):
                top = a._trace
        return prim.impl(*args, **params) if top is None else top.process(prim, args, params)
    return top.process(prim, args, params)


def unbox_all(x):
    """Strip every trace from ``x``: its plain value (comparisons, indices, printing).

    Under ``jit`` this reads a staged value's contents, which a staged program cannot
    depend on; the staging trace is told, and that call runs eagerly instead.
    """
    while isinstance(x, Box):
        if x._staged:
            x._trace.read_value()
        x = x._value
    return x


class Primitive:
    """One differentiable operation: ``impl`` plus a VJP and a JVP rule per argument.

    ``defvjp(rule_for_arg0, rule_for_arg1, ...)`` takes one rule per positional
    argument, ``None`` marking an argument that is never differentiated (an index,
    a condition). ``defvjp_argnum(rule)`` takes one rule ``rule(argnum, g, ans, *args)``
    for primitives with a variable number of arguments. The same holds for JVPs.

    ``saves`` declares which values the rules (VJP and JVP) read: argument positions
    and/or ``"ans"``, e.g. ``("ans",)`` for tanh (``1 - ans**2``), ``(0, 1)`` for a
    product, ``()`` for a linear op that needs only shapes. A trace that keeps only
    residuals (``ReverseTrace(keep_values=False)``) then drops every other value from
    its records, so the tape holds what the backward pass needs, like PyTorch's saved
    tensors. ``None`` (the default) means "all of them".
    """

    __slots__ = ("name", "impl", "differentiable", "multiple_results", "_vjps", "_jvps",
                 "_vjp_argnum", "_jvp_argnum", "doc", "saves")

    def __init__(self, name: str, impl, *, differentiable: bool = True,
                 multiple_results: bool = False, doc: str | None = None, saves=None):
        self.name = name
        self.impl = impl
        self.differentiable = differentiable
        self.multiple_results = multiple_results
        if saves is not None:
            saves = frozenset(saves)
            bad = [s for s in saves if s != "ans" and not (type(s) is int and s >= 0)]
            if bad:
                raise ValueError(f"{name}: saves must hold argument positions (int >= 0) and/or "
                                 f"'ans', got {sorted(map(repr, bad))}")
        self.saves = saves
        self._vjps: tuple = ()
        self._jvps: tuple = ()
        self._vjp_argnum = None
        self._jvp_argnum = None
        self.doc = doc or getattr(impl, "__doc__", None)

    def __call__(self, *args, **params):
        return bind(self, args, params)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def defvjp(self, *rules):
        self._vjps = rules
        return self

    def defjvp(self, *rules):
        self._jvps = rules
        return self

    def defvjp_argnum(self, rule):
        self._vjp_argnum = rule
        return self

    def defjvp_argnum(self, rule):
        self._jvp_argnum = rule
        return self

    def vjp(self, argnum: int, g, ans, args, params):
        return self._rule(self._vjps, self._vjp_argnum, "VJP", argnum, g, ans, args, params)

    def jvp(self, argnum: int, t, ans, args, params):
        return self._rule(self._jvps, self._jvp_argnum, "JVP", argnum, t, ans, args, params)

    def _rule(self, rules, argnum_rule, kind, argnum, gt, ans, args, params):
        if argnum_rule is not None:
            return argnum_rule(argnum, gt, ans, *args, **params)
        if argnum >= len(rules) or rules[argnum] is None:
            mode = "" if kind == "VJP" else " in forward mode"
            raise NoRuleError(f"{self.name} has no {kind} rule for argument {argnum}; "
                              f"that argument cannot be differentiated{mode}")
        return rules[argnum](gt, ans, *args, **params)
