"""Rewrites of a staged program: shared subexpressions, scatter linearity, fused loops.

A staged gradient or Hessian-vector product repeats work: the backward pass and the
tangent push recompute the same products (``2 * x``, ``y * y``), and every ``x[1:]`` in
the function becomes a full-size ``scatter_add`` on the way back. :func:`simplify` runs
each distinct operation once and uses the linearity of the transpose of indexing,
``scatter_add(a, i) + scatter_add(b, i) = scatter_add(a + b, i)``.

Eager NumPy makes one pass over memory per operation and allocates a temporary for
each; XLA fuses chains of elementwise operations into one loop. :func:`fuse_elementwise`
does the same with Numba (when installed): a run of elementwise operations over arrays
of one shape becomes one compiled loop that reads each input once, keeps every
intermediate in a register, and writes only the values used outside the run.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..core.primitive import Primitive
from .staging import Eqn

__all__ = ["simplify", "fuse_elementwise"]


# ------------------------------------------------------------------ simplification
def _freeze(v):
    """A hashable key for a constant or parameter: equal keys mean interchangeable values."""
    if type(v) is slice:
        return ("slice", _freeze(v.start), _freeze(v.stop), _freeze(v.step))
    if type(v) in (tuple, list):
        return (type(v).__name__,) + tuple(_freeze(x) for x in v)
    if isinstance(v, (float, np.floating)):
        return (type(v), repr(v))  # keeps -0.0 and 0.0 apart
    if isinstance(v, np.ndarray):
        return ("array", id(v))
    try:
        hash(v)
    except TypeError:
        return ("object", id(v))
    return (type(v), v)


def simplify(eqns: list[Eqn], outs: list, avals: dict):
    """Drop repeated operations and merge scatters of sums; returns ``(eqns, outs)``.

    Every primitive is a pure function of its operands and parameters, so an equation
    equal to an earlier one is replaced by that one's result.
    """
    rename: dict = {}
    seen: dict = {}
    uses: dict = {}
    result: list = []
    for e in eqns:
        ins = tuple(rename.get(a, a) if type(a) is int else a for a in e.ins)
        key = (e.prim, tuple(a if type(a) is int else _freeze(a.value) for a in ins),
               _freeze(tuple(e.params.items())))
        prev = seen.get(key)
        if prev is not None:
            rename.update(zip(e.out_vars(), prev.out_vars(), strict=True))
            continue
        e = Eqn(e.prim, ins, e.params, e.outs)
        seen[key] = e
        result.append(e)
        for a in e.in_vars():
            uses[a] = uses.get(a, 0) + 1
    outs = [rename.get(o, o) if type(o) is int else o for o in outs]
    for o in outs:
        if type(o) is int:
            uses[o] = uses.get(o, 0) + 1
    return _sum_scatters(_merge_scatters(result, uses, avals), uses, avals), outs


def _merge_scatters(eqns, uses, avals):
    """``scatter_add(a, i, s) + scatter_add(b, i, s)`` -> ``scatter_add(a + b, i, s)``."""
    producer = {o: k for k, e in enumerate(eqns) for o in e.out_vars()}
    fresh = itertools.count(max(avals, default=0) + 1)
    out: list = list(eqns)
    from ..rules.elementwise import add

    for k, e in enumerate(eqns):
        if e.prim is not add or not all(type(a) is int for a in e.ins):
            continue
        p, q = (producer.get(a) for a in e.ins)
        if p is None or q is None or p == q:
            continue
        s1, s2 = eqns[p], eqns[q]
        if (s1.prim.name != "scatter_add" or s2.prim is not s1.prim or out[p] is None
                or out[q] is None or uses.get(s1.outs) != 1 or uses.get(s2.outs) != 1
                or _freeze(tuple(s1.params.items())) != _freeze(tuple(s2.params.items()))
                or any(type(a) is not int for a in (s1.ins[0], s2.ins[0]))
                or avals[s1.ins[0]] != avals[s2.ins[0]]):
            continue
        total = next(fresh)
        avals[total] = avals[s1.ins[0]]
        out[p] = out[q] = None
        out[k] = [Eqn(add, (s1.ins[0], s2.ins[0]), {}, total),
                  Eqn(s1.prim, (total,), s1.params, e.outs)]
    flat: list = []
    for e in out:
        if type(e) is list:
            flat.extend(e)
        elif e is not None:
            flat.append(e)
    return flat


def _scatter_sum_impl(*values, idxs, shape):
    """``zeros(shape)`` with each ``values[j]`` added at ``idxs[j]`` (basic indices)."""
    z = np.zeros(shape, dtype=np.result_type(*values))
    for v, i in zip(values, idxs, strict=True):
        view = z[i]
        if isinstance(view, np.ndarray):
            np.add(view, v, out=view)
        else:  # integers in every position pick one element: no view to add into
            z[i] += v
    return z


scatter_sum = Primitive("scatter_sum", _scatter_sum_impl,
                        doc="a sum of scatter_adds into one zero array (basic indices)")


def _basic(idx) -> bool:
    return all(type(k) in (slice, int) for k in idx)


def _sum_scatters(eqns, uses, avals):
    """A tree of ``add`` over ``scatter_add`` results -> one ``scatter_sum``.

    ``scatter_add(a, i) + scatter_add(b, j)`` allocates three full arrays and reads them
    twice; ``scatter_sum`` allocates one and adds ``a`` and ``b`` into views of it.
    """
    from ..rules.elementwise import add

    producer = {o: k for k, e in enumerate(eqns) for o in e.out_vars()}
    terms: dict = {}  # var -> [(value operand, idx)], for single-use sums of scatters
    shape_of: dict = {}
    out = list(eqns)
    for k, e in enumerate(eqns):
        if e.prim.name == "scatter_add" and type(e.ins[0]) is int and _basic(e.params["idx"]) \
                and avals[e.outs][1] == _F64:
            terms[e.outs] = [(e.ins[0], e.params["idx"])]
            shape_of[e.outs] = e.params["shape"]
            continue
        if e.prim is not add or not all(type(a) in (int,) and a in terms for a in e.ins) \
                or any(uses.get(a) != 1 for a in e.ins) \
                or shape_of[e.ins[0]] != shape_of[e.ins[1]] or avals[e.outs][1] != _F64:
            continue
        terms[e.outs] = terms[e.ins[0]] + terms[e.ins[1]]
        shape_of[e.outs] = shape_of[e.ins[0]]
        for a in e.ins:
            out[producer[a]] = None
        vals, idxs = zip(*terms[e.outs], strict=True)
        out[k] = Eqn(scatter_sum, tuple(vals), {"idxs": idxs, "shape": shape_of[e.outs]}, e.outs)
    return [e for e in out if e is not None]


# ------------------------------------------------------------------ fused loops
_BINARY = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
_COMPARE = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
            "equal": "==", "not_equal": "!="}
_UNARY = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
          "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
          "absolute", "fabs", "square", "reciprocal", "sign", "floor", "ceil", "trunc")
_F64, _BOOL = np.dtype(np.float64), np.dtype(bool)
MIN_SIZE = 4096  # below this, NumPy's per-call cost is less than a compiled loop's dispatch


def _expression(name: str, a: list, params: dict):
    """The scalar expression of one elementwise primitive in a fused loop (None: not fusable)."""
    if name in _BINARY:
        return f"({a[0]} {_BINARY[name]} {a[1]})"
    if name in _COMPARE:
        return f"({a[0]} {_COMPARE[name]} {a[1]})"
    if name == "negative":
        return f"(-{a[0]})"
    if name in _UNARY:
        return f"np.{name}({a[0]})"
    if name in ("maximum", "minimum", "arctan2", "hypot"):
        return f"np.{name}({a[0]}, {a[1]})"
    if name == "where":
        return f"({a[1]} if {a[0]} else {a[2]})"
    if name == "integer_pow":
        n = params["n"]
        if n in (2, 3, 4):
            sq = f"({a[0]} * {a[0]})"
            return {2: sq, 3: f"({sq} * {a[0]})", 4: f"({sq} * {sq})"}[n]
        return f"({a[0]} ** {n})"
    return None


def _scalar_literal(v):
    """A Python literal for a scalar constant, or None when ``v`` is not one.

    An array whose elements are all equal counts as its one value: a backward pass seeds
    with ``ones`` broadcast to a shape, and constant factors fold into such arrays.
    """
    if isinstance(v, np.ndarray):
        if v.dtype not in (_F64, _BOOL) or v.size == 0:
            return None
        first = v.flat[0]
        if v.shape != () and not (v == first).all():
            return None
        v = first
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, np.longdouble):
        f = float(v)
        return repr(f) if math.isfinite(f) else ("np.nan" if math.isnan(f) else
                                                 ("np.inf" if f > 0 else "(-np.inf)"))
    return None


def _fusable(e: Eqn, avals: dict):
    """The loop shape of ``e`` when it can join a fused loop, else None."""
    if e.prim.multiple_results or type(e.outs) is not int:
        return None
    shape, dtype = avals[e.outs]
    if dtype not in (_F64, _BOOL) or not shape or math.prod(shape) < MIN_SIZE:
        return None
    if _expression(e.prim.name, ["x"] * len(e.ins), e.params) is None:
        return None
    for a in e.ins:
        s, d = avals[a] if type(a) is int else (np.shape(a.value), None)
        if type(a) is not int:
            if _scalar_literal(a.value) is None and not (
                    isinstance(a.value, np.ndarray) and a.value.shape == shape
                    and a.value.dtype in (_F64, _BOOL)):
                return None
        elif s not in (shape, ()) or d not in (_F64, _BOOL):
            return None
    return shape


class _Cluster:
    __slots__ = ("shape", "members", "open")

    def __init__(self, shape):
        self.shape = shape
        self.members: list[int] = []
        self.open = True


def fuse_elementwise(eqns: list[Eqn], outs: list, avals: dict):
    """Replace runs of elementwise equations by fused-loop equations; ``(eqns, kernel sources)``.

    A run ("cluster") grows in program order while no operation outside it has read one
    of its values, so it can run as one step at the place of its last member. Without
    Numba the program is returned unchanged.
    """
    try:
        import numba
    except ImportError:
        return eqns, []
    clusters: list[_Cluster] = []
    open_by_shape: dict = {}
    made_by: dict = {}
    owner: list = [None] * len(eqns)
    for k, e in enumerate(eqns):
        shape = _fusable(e, avals)
        target = open_by_shape.get(shape) if shape is not None else None
        for v in e.in_vars():  # a value read outside its run closes that run
            c = made_by.get(v)
            if c is not None and c is not target:
                c.open = False
        if shape is None:
            continue
        if target is None or not target.open:
            target = open_by_shape[shape] = _Cluster(shape)
            clusters.append(target)
        target.members.append(k)
        owner[k] = target
        made_by[e.outs] = target
    used_outside: set = {o for o in outs if type(o) is int}
    for k, e in enumerate(eqns):
        for v in e.in_vars():
            c = made_by.get(v)
            if c is not None and owner[k] is not c:
                used_outside.add(v)
    fused: dict = {}
    sources = []
    for c in clusters:
        if len(c.members) < 2:
            for k in c.members:
                owner[k] = None
            continue
        eqn, source = _compile(c, eqns, avals, used_outside, numba)
        fused[c.members[-1]] = eqn
        sources.append(source)
    result = []
    for k, e in enumerate(eqns):
        if owner[k] is None:
            result.append(e)
        elif k in fused:
            result.append(fused[k])
    return result, sources


_kernel_ids = itertools.count()


def _compile(c: _Cluster, eqns, avals, used_outside, numba):
    """One cluster as a Numba loop and the equation that calls it."""
    members = [eqns[k] for k in c.members]
    made = {e.outs for e in members}
    nd = len(c.shape)
    idx = ", ".join(f"i{d}" for d in range(nd))
    params, operands, loads, pre, body, scalars = [], [], {}, [], [], []

    def operand(a):
        if type(a) is int and a in made:
            return f"t{a}"
        lit = None if type(a) is int else _scalar_literal(a.value)
        if lit is not None:
            return lit
        key = a if type(a) is int else ("lit", id(a.value))
        if key not in loads:
            name = f"a{len(params)}"
            params.append(name)
            operands.append(a)
            local = f"x{len(loads)}"
            loads[key] = local
            shape = avals[a][0] if type(a) is int else a.value.shape
            if shape == ():
                scalars.append(len(params) - 1)
                pre.append(f"{local} = {name}")
            else:
                body.append(f"{local} = {name}[{idx}]")
        return loads[key]

    for e in members:
        args = [operand(a) for a in e.ins]
        body.append(f"t{e.outs} = {_expression(e.prim.name, args, e.params)}")
    results = [e.outs for e in members if e.outs in used_outside]
    outs = [f"o{j}" for j in range(len(results))]
    body += [f"{o}[{idx}] = t{v}" for o, v in zip(outs, results, strict=True)]
    n = next(_kernel_ids)
    lines = [f"def fused_{n}({', '.join(params + outs)}):"]
    lines += [f"    {s}" for s in pre]
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for i{d} in range({outs[0]}.shape[{d}]):")
        indent += "    "
    lines += [f"{indent}{s}" for s in body]
    source = "\n".join(lines) + "\n"
    env = {"np": np}
    exec(compile(source, f"<chainrule fused loop {n}>", "exec"), env)  # noqa: S102 - our own code
    kernel = numba.njit(error_model="numpy", nogil=True)(env[f"fused_{n}"])
    out_specs = [(c.shape, avals[v][1]) for v in results]

    def run(*arrays):
        if scalars:  # 0-d operands enter the loop as Python scalars
            arrays = list(arrays)
            for j in scalars:
                arrays[j] = arrays[j].item() if isinstance(arrays[j], np.generic | np.ndarray) \
                    else arrays[j]
        res = tuple(np.empty(s, d) for s, d in out_specs)
        try:
            kernel(*arrays, *res)
        except numba.core.errors.NumbaError:  # a loop Numba cannot compile: run the members
            return _interpret(members, operands, arrays, results)
        return res

    prim = Primitive(f"fused_{n}", run, multiple_results=True,
                     doc=f"{len(members)} elementwise operations in one loop")
    return Eqn(prim, tuple(operands), {}, tuple(results)), source


def _interpret(members, operands, arrays, results):
    """The members of a fused loop run one by one with NumPy (Numba's fallback)."""
    env = {a: x for a, x in zip(operands, arrays, strict=True) if type(a) is int}
    for e in members:
        args = [env[a] if type(a) is int else a.value for a in e.ins]
        env[e.outs] = e.prim.impl(*args, **e.params)
    return tuple(np.asarray(env[v]) for v in results)
