"""Rewrites of a staged program: pruning, scatter linearity, fused loops.

A staged gradient or Hessian-vector product repeats work: the backward pass and the
tangent push recompute the same products (``2 * x``, ``y * y``; the staging trace records
each distinct operation once), and every ``x[1:]`` in the function becomes a full-size
``scatter_add`` on the way back. :func:`simplify` keeps what the outputs need and uses
the linearity of the transpose of indexing, ``scatter_add(a, i) + scatter_add(b, i) =
scatter_add(a + b, i)``; a sum of scatters is one ``scatter_sum``, or ``join_tiles`` when
the pieces tile the result.

Eager NumPy makes one pass over memory per operation and allocates a temporary for
each; XLA fuses chains of elementwise operations into one loop. :func:`fuse_elementwise`
does the same with Numba (when installed): a run of elementwise operations over arrays
of one shape (operands may broadcast along its axes) becomes one compiled loop that reads
each input once, keeps every
intermediate in a register, and writes only the values used outside the run. Inside the
loop every operation keeps NumPy's type rules (its loop dtypes, cast explicitly; see
"fused loops" below), and a loop's source names nothing of its program, so identical
loops compile once and are shared.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from ..core.aval import ShapedArray, aval_of
from ..core.primitive import Primitive
from ..rules import elementwise as ew
from ..rules.shape import scatter_add_p
from .cache import dispatcher_stats, load_kernel
from .ir import Eqn, Lit, Staged, freeze, prune

__all__ = ["simplify", "fuse_elementwise", "kernel_cache_info"]


# ------------------------------------------------------------------ simplification
def simplify(eqns: list[Eqn], outs: list, staged: Staged) -> list[Eqn]:
    """The equations the outputs need, with sums of scatters merged.

    Repeated operations are already gone (the staging trace records an operation equal to
    an earlier one as that one's result, :class:`~chainrule.compile.staging.StagingTrace`).
    One pass from the end keeps what ``outs`` need and counts each variable's readers; one
    pass from the start finds the scatters and adds, and the scatter rewrites visit only
    those: linear in the program's length.
    """
    uses: dict = {}
    eqns = prune(eqns, [o for o in outs if type(o) is int], uses)
    return _rewrite_scatters(eqns, uses, staged)


def _rewrite_scatters(eqns, uses, staged: Staged):
    """``scatter_add(a, i, s) + scatter_add(b, i, s)`` -> ``scatter_add(a + b, i, s)``, then
    every tree of adds over scatters -> one ``scatter_sum`` (:func:`_sum_scatters`)."""
    add = ew.add
    scatters, adds = [], []
    for k, e in enumerate(eqns):
        prim = e.prim
        if prim is add:
            adds.append(k)
        elif prim is scatter_add_p:
            scatters.append(k)
    if not scatters:
        return eqns
    avals = staged.avals
    out: list = list(eqns)  # rewritten in place; None marks a dropped equation
    producer = {eqns[k].outs[0]: k for k in scatters}
    for k in adds:
        e = eqns[k]
        a, b = e.ins
        if type(a) is not int or type(b) is not int:
            continue
        p, q = producer.get(a), producer.get(b)
        if p is None or q is None or p == q:
            continue
        s1, s2 = eqns[p], eqns[q]
        # each scatter is read once (by this add), so it is merged at most once
        if (uses.get(a) != 1 or uses.get(b) != 1 or freeze(s1.params) != freeze(s2.params)
                or type(s1.ins[0]) is not int or type(s2.ins[0]) is not int
                or avals[s1.ins[0]] != avals[s2.ins[0]]):
            continue
        total = staged.new_var(aval=avals[s1.ins[0]])
        uses[total] = 1
        # the sum where the later scatter was (both terms exist there), the scatter at the add
        out[min(p, q)] = None
        out[max(p, q)] = Eqn(add, (s1.ins[0], s2.ins[0]), {}, (total,))
        out[k] = Eqn(scatter_add_p, (total,), s1.params, e.outs)
    _sum_scatters(out, sorted(scatters + adds), uses, avals)
    return [e for e in out if e is not None]


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


def _sum_scatters(out, positions, uses, avals) -> None:
    """A tree of ``add`` over ``scatter_add`` results -> one ``scatter_sum``, in ``out`` (a
    list of equations with None holes) at the given ``positions`` (every scatter and add).

    ``scatter_add(a, i) + scatter_add(b, j)`` allocates three full arrays and reads them
    twice; ``scatter_sum`` allocates one and adds ``a`` and ``b`` into views of it. The
    trees are found in one pass and each is flattened once, at its root, so a chain of k
    adds (k picks of one array) costs O(k), not O(k^2).
    """
    add = ew.add
    leaves: dict = {}  # scatter result -> (value operand, idx)
    nodes: dict = {}  # add result -> its two operands, both leaves or nodes of one tree
    shape_of: dict = {}
    pos: dict = {}  # leaf or node -> the index of the equation that makes it
    for k in positions:
        e = out[k]
        if e is None:
            continue
        prim = e.prim
        if prim is scatter_add_p:
            if type(e.ins[0]) is int and _basic(e.params["idx"]) \
                    and avals[e.outs[0]].dtype == _F64:
                v = e.outs[0]
                leaves[v] = (e.ins[0], e.params["idx"])
                shape_of[v] = e.params["shape"]
                pos[v] = k
            continue
        if prim is not add:
            continue
        a, b = e.ins
        if (type(a) is int and type(b) is int and a in shape_of and b in shape_of
                and uses.get(a) == 1 and uses.get(b) == 1 and shape_of[a] == shape_of[b]
                and avals[e.outs[0]].dtype == _F64):
            v = e.outs[0]
            nodes[v] = (a, b)
            shape_of[v] = shape_of[a]
            pos[v] = k
    if not nodes:
        return
    absorbed = set()
    for a, b in nodes.values():
        absorbed.add(a)
        absorbed.add(b)
        out[pos[a]] = out[pos[b]] = None
    for root in nodes:
        if root in absorbed:
            continue
        vals, idxs = [], []
        stack = [root]
        while stack:  # depth first, left operand first: the order the adds ran in
            v = stack.pop()
            if v in nodes:
                a, b = nodes[v]
                stack.append(b)
                stack.append(a)
            else:
                val, idx = leaves[v]
                vals.append(val)
                idxs.append(idx)
        order = _tiling(vals, idxs, shape_of[root], avals)
        if order is not None:  # the pieces of a split (LSTM gates): joined, not added
            out[pos[root]] = Eqn(join_tiles, tuple(vals[j] for j in order), {}, (root,))
        else:
            out[pos[root]] = Eqn(scatter_sum, tuple(vals),
                                 {"idxs": tuple(idxs), "shape": shape_of[root]}, (root,))


def _tiling(vals, idxs, shape, avals):
    """The order in which ``vals`` placed at ``idxs`` tile ``zeros(shape)`` along its first
    axis (contiguous slices, no overlap, no gap, no broadcasting), or None."""
    if not shape:
        return None
    spans = []
    for j, (v, idx) in enumerate(zip(vals, idxs, strict=True)):
        s = idx[0] if len(idx) == 1 else None
        if (type(s) is not slice or type(s.start) is not int or type(s.stop) is not int
                or s.step is not None or not 0 <= s.start < s.stop <= shape[0]
                or avals[v] != ShapedArray((s.stop - s.start,) + tuple(shape[1:]), _F64)):
            return None
        spans.append((s.start, s.stop, j))
    spans.sort()
    end = 0
    for start, stop, _ in spans:
        if start != end:
            return None
        end = stop
    return tuple(j for _, _, j in spans) if end == shape[0] else None


def _join_tiles_impl(*values):
    """``scatter_sum`` of slices that tile its result: ``concatenate(values) + 0.0`` (the
    scatter adds each value to a zero, which turns -0.0 into 0.0). One call of 1-2 us
    where the scatter took 4-5 us on the LSTM's gates."""
    out = np.concatenate(values)
    np.add(out, 0.0, out=out)
    return out


join_tiles = Primitive("join_tiles", _join_tiles_impl,
                       doc="scatter_sum of slices that tile the result: their concatenation")


# ------------------------------------------------------------------ fused loops
# A fused loop must give NumPy's dtype and value for every operation in it. Each equation's
# loop is resolved as NumPy resolves it (``ufunc.resolve_dtypes`` on the operands' dtypes, a
# Python number weakly typed), every operand is cast to the loop's input dtype and every
# result to its output dtype in the generated code, and an equation whose loop a compiled
# loop cannot reproduce (another dtype, an integer loop Numba computes differently) is not
# fused. Numba computes small integers in int64; +, -, * and comparisons wrap or compare
# the same after the cast back, so int32 loops are exact.
_F64 = np.dtype(np.float64)
_CAST = {np.dtype(t): f"np.{n}" for t, n in ((np.bool_, "bool_"), (np.int32, "int32"),
                                             (np.int64, "int64"), (np.float32, "float32"),
                                             (np.float64, "float64"), (np.complex64, "complex64"),
                                             (np.complex128, "complex128"))}
MIN_SIZE = 4096  # below this, NumPy's per-call cost is less than a compiled loop's dispatch


class _Op:
    """How one elementwise primitive runs in a loop: the ufunc whose loop it follows, the
    scalar expression, the dtype kinds of the loops it reproduces, and (if different) its
    expression on a bool loop (NumPy's bool loops are logical: True + True is True)."""

    __slots__ = ("ufunc", "template", "kinds", "bool_template")

    def __init__(self, ufunc, template, kinds, bool_template=None):
        if not isinstance(ufunc, np.ufunc):
            raise TypeError(f"a fused operation follows a ufunc's loops, not {ufunc!r}")
        self.ufunc = ufunc
        self.template = template
        self.kinds = kinds
        self.bool_template = bool_template or template


def _op_table() -> dict:
    ops = {}
    for prim, ufunc, sym in ((ew.add, np.add, "+"), (ew.subtract, np.subtract, "-"),
                             (ew.multiply, np.multiply, "*")):
        ops[prim] = _Op(ufunc, f"({{0}} {sym} {{1}})", "bifc")
    ops[ew.divide] = _Op(np.divide, "({0} / {1})", "fc")
    for prim, ufunc, sym in ((ew.less, np.less, "<"), (ew.less_equal, np.less_equal, "<="),
                             (ew.greater, np.greater, ">"),
                             (ew.greater_equal, np.greater_equal, ">="),
                             (ew.equal, np.equal, "=="), (ew.not_equal, np.not_equal, "!=")):
        ops[prim] = _Op(ufunc, f"({{0}} {sym} {{1}})", "bifc" if ufunc in (np.equal, np.not_equal)
                        else "bif")  # complex numbers are equal or not, never ordered
    # logical ops read any value as a truth value: x != 0 (NaN is true, as in NumPy)
    ops[ew.logical_and] = _Op(np.logical_and, "(({0} != 0) & ({1} != 0))", "bif")
    ops[ew.logical_or] = _Op(np.logical_or, "(({0} != 0) | ({1} != 0))", "bif")
    ops[ew.logical_xor] = _Op(np.logical_xor, "(({0} != 0) != ({1} != 0))", "bif")
    ops[ew.logical_not] = _Op(np.logical_not, "({0} == 0)", "bif")
    for prim, ufunc, sym in ((ew.bitwise_and, np.bitwise_and, "&"),
                             (ew.bitwise_or, np.bitwise_or, "|"),
                             (ew.bitwise_xor, np.bitwise_xor, "^")):
        ops[prim] = _Op(ufunc, f"({{0}} {sym} {{1}})", "bi")
    ops[ew.invert] = _Op(np.invert, "(~{0})", "bi", bool_template="(not {0})")
    ops[ew.negative] = _Op(np.negative, "(-{0})", "ifc")
    ops[ew.square] = _Op(np.square, "({0} * {0})", "ifc")
    ops[ew.absolute] = _Op(np.absolute, "np.absolute({0})", "ifc")
    # complex parts: conjugate is a ufunc; real and imag resolve their dtypes as absolute does
    # (complex64 -> float32, complex128 -> float64)
    ops[ew.conj_p] = _Op(np.conjugate, "np.conjugate({0})", "c")
    ops[ew.real_p] = _Op(np.absolute, "{0}.real", "c")
    ops[ew.imag_p] = _Op(np.absolute, "{0}.imag", "c")
    # NumPy: sign(-0.0) is +0.0 and sign(nan) is nan (Numba keeps the zero's sign)
    ops[ew.sign] = _Op(np.sign, "(1 if {0} > 0 else (-1 if {0} < 0 else (0 if {0} == 0 else {0})))",
                       "if")
    for prim in (ew.exp, ew.exp2, ew.expm1, ew.log, ew.log2, ew.log10, ew.log1p, ew.sqrt,
                 ew.sin, ew.cos, ew.tan, ew.arcsin, ew.arccos, ew.arctan, ew.sinh, ew.cosh,
                 ew.tanh, ew.arcsinh, ew.arccosh, ew.arctanh, ew.fabs, ew.reciprocal,
                 ew.floor, ew.ceil, ew.trunc):
        ufunc = prim.impl  # these primitives compute with the ufunc itself (Numba has their
        ops[prim] = _Op(ufunc, f"np.{ufunc.__name__}({{0}})", "fc")  # complex loops too)
    # NumPy's maximum/minimum: a NaN in either operand propagates, and on a tie (0.0 and -0.0)
    # the second operand is the result
    ops[ew.maximum] = _Op(np.maximum, "({0} if ({0} > {1} or {0} != {0}) else {1})", "bif",
                          bool_template="({0} or {1})")
    ops[ew.minimum] = _Op(np.minimum, "({0} if ({0} < {1} or {0} != {0}) else {1})", "bif",
                          bool_template="({0} and {1})")
    for prim in (ew.isnan, ew.isinf, ew.isfinite):  # on float loops (an integer is a number)
        ops[prim] = _Op(prim.impl, f"np.{prim.impl.__name__}({{0}})", "f")
    for prim in (ew.arctan2, ew.hypot):
        ops[prim] = _Op(prim.impl, f"np.{prim.impl.__name__}({{0}}, {{1}})", "f")
    return ops


_OPS = _op_table()
_LOOP_PRIMS = frozenset(_OPS) | {ew.where, ew.integer_pow}  # what _loop may fuse
_WEAK_VALUE = {int: 0, float: 0.0, complex: 0j}
_NP_VALUES = (np.generic, np.ndarray)  # a weakly typed operand, for np.result_type


def _loop(e: Eqn, staged: Staged):
    """``(input dtypes, output dtype, template)`` of NumPy's loop for ``e``, or None when a
    fused loop cannot reproduce it exactly."""
    prim = e.prim
    ins = [staged.dtype_in(a) for a in e.ins]
    if any(d is None for d in ins):  # (not `None in ins`: a float64 dtype equals None)
        return None
    try:
        if prim is ew.where:
            out = np.result_type(*(_WEAK_VALUE[d] if isinstance(d, type) else d for d in ins[1:]))
            dts, template, kinds = (np.dtype(bool), out, out, out), "({1} if {0} else {2})", "bif"
        elif prim is ew.integer_pow:
            dts, template, kinds = _integer_pow_loop(ins[0], e.params["n"])
        else:
            op = _OPS.get(prim)
            if op is None:
                return None
            dts = op.ufunc.resolve_dtypes(tuple(ins) + (None,) * op.ufunc.nout)
            kinds = op.kinds
            template = op.bool_template if dts[0] == np.dtype(bool) else op.template
    except (TypeError, ValueError):  # NumPy has no loop for these dtypes
        return None
    if len(dts) != len(ins) + 1 or any(d not in _CAST for d in dts) \
            or any(d.kind not in kinds for d in dts[:-1]) or dts[-1] != staged.avals[e.outs[0]].dtype:
        return None
    for a, d in zip(e.ins, dts, strict=False):
        # a Python int argument (a new value each call) that the integer loop cannot hold
        # raises in NumPy (OverflowError); a compiled loop would wrap it or type it as uint64
        if type(a) is int and a in staged.weak and d.kind in "iu":
            return None
    return dts[:-1], dts[-1], template


def _integer_pow_loop(dtype, n):
    """integer_pow's loop, the one its implementation runs: ``square`` for n = 2, ``power``
    with a weakly typed integer exponent otherwise."""
    if n == 2:
        dts = np.square.resolve_dtypes((dtype, None))
    else:
        dts = np.power.resolve_dtypes((dtype, int, None))
        dts = (dts[0], dts[2])
    if dts[0].kind == "f" and (n < 0 or n > 16):
        return dts, f"np.power({{0}}, {_CAST[dts[0]]}({float(n)!r}))", "f"
    if dts[0].kind == "c" and not 0 <= n <= 2:  # NumPy's complex power: not a product chain
        raise TypeError("not fused")
    return dts, _product_power(n), "ifc"


def _product_power(n: int) -> str:
    """``x ** n`` (0 <= n) as the products integer_pow's implementation computes, in its order
    (repeated squaring), so a float result is bit-identical; integers wrap the same in any
    order."""
    if n == 0:
        return "1"
    if n in (1, 2):
        return "{0}" if n == 1 else "({0} * {0})"
    result, x = None, "{0}"
    while True:
        if n & 1:
            result = x if result is None else f"({result} * {x})"
        n >>= 1
        if not n:
            return result
        x = f"({x} * {x})"


def _scalar_literal(v):
    """The value of a constant as a Python scalar, or None when ``v`` is not one.

    An array whose elements are all equal counts as its one value: a backward pass seeds
    with ``ones`` broadcast to a shape, and constant factors fold into such arrays.
    """
    if isinstance(v, np.ndarray):
        if v.dtype not in _CAST or v.size == 0:
            return None
        parts = 2 if v.dtype.kind == "c" else 1  # a complex number's bits: two floats
        bits = np.ascontiguousarray(v).reshape(-1).view(f"u{v.itemsize // parts}").reshape(-1, parts)
        if not (bits == bits[0]).all():  # bit-identical: keeps -0.0 apart from 0.0, NaN is NaN
            return None
        return v.flat[0].item()
    if type(v) in (bool, int, float, complex) or isinstance(v, (np.bool_, np.integer, np.inexact)) \
            and np.dtype(type(v)) in _CAST:
        return v.item() if isinstance(v, np.generic) else v
    return None


def _fusable(e: Eqn, staged: Staged):
    """The loop shape of ``e`` when it can join a fused loop, else None."""
    if e.prim.multiple_results:
        return None
    shape = staged.avals[e.outs[0]].shape
    if not shape or math.prod(shape) < MIN_SIZE or _loop(e, staged) is None:
        return None
    for a in e.ins:
        if type(a) is int:
            s = staged.avals[a].shape
            if s != shape and s != () and not _broadcasts(s, shape):
                return None
        elif _scalar_literal(a.value) is None and not (
                isinstance(a.value, np.ndarray) and a.value.shape != ()
                and (a.value.shape == shape or _broadcasts(a.value.shape, shape))):
            return None
    return shape


def _broadcast_operand(e: Eqn, staged: Staged, shape) -> bool:
    """Whether a fusable ``e`` reads an array operand of another shape than its loop's."""
    for a in e.ins:
        s = staged.avals[a].shape if type(a) is int else getattr(a.value, "shape", ())
        if s != shape and s != ():
            return True
    return False


# NumPy computes these with SIMD (vectorised exp, log, tanh, ...); a compiled loop calls the
# scalar libm function, about 2x slower per element (tanh on 256 x 256: 0.56 ms NumPy, 1.1 ms
# Numba). A loop of same-shape operands still gains (one pass over memory instead of many), but
# one that reads a broadcast row or column need not: the two never share a loop (the 64-256-256
# MLP's tanh(W x + b) under jit took 1.6x its time when they did).
_TRANSCENDENTAL = frozenset({ew.exp, ew.exp2, ew.expm1, ew.log, ew.log2, ew.log10, ew.log1p,
                             ew.sin, ew.cos, ew.tan, ew.arcsin, ew.arccos, ew.arctan, ew.sinh,
                             ew.cosh, ew.tanh, ew.arcsinh, ew.arccosh, ew.arctanh, ew.cbrt})


def _broadcasts(s: tuple, shape: tuple) -> bool:
    """Whether an operand of shape ``s`` broadcasts to ``shape`` along existing axes only
    (its axes align right; each has the loop's length or 1), so a loop reads it with
    index 0 on its axes of length 1 (a row or a column against a matrix)."""
    k = len(s)
    return k <= len(shape) and all(d == 1 or d == n for d, n in zip(s, shape[len(shape) - k:],
                                                                   strict=True))


class _Cluster:
    __slots__ = ("shape", "members", "open", "broadcast", "transcendental")

    def __init__(self, shape):
        self.shape = shape
        self.members: list[int] = []
        self.open = True
        self.broadcast = self.transcendental = False  # the two never share a loop (see above)


def fuse_elementwise(eqns: list[Eqn], outs: list, staged: Staged):
    """Replace runs of elementwise equations by fused-loop equations; ``(eqns, kernel sources)``.

    A run ("cluster") grows in program order while no operation outside it has read one
    of its values, so it can run as one step at the place of its last member. Without
    Numba the program is returned unchanged.
    """
    clusters: list[_Cluster] = []
    open_by_shape: dict = {}
    made_by: dict = {}
    owner: list = [None] * len(eqns)
    loops = _LOOP_PRIMS
    for k, e in enumerate(eqns):
        shape = _fusable(e, staged) if e.prim in loops else None
        target = open_by_shape.get(shape) if shape is not None else None
        if made_by:
            for v in e.ins:  # a value read outside its run closes that run
                if type(v) is int:
                    c = made_by.get(v)
                    if c is not None and c is not target:
                        c.open = False
        if shape is None:
            continue
        broadcast = _broadcast_operand(e, staged, shape)
        transcendental = e.prim in _TRANSCENDENTAL
        if (target is None or not target.open or (broadcast and target.transcendental)
                or (transcendental and target.broadcast)):
            target = open_by_shape[shape] = _Cluster(shape)
            clusters.append(target)
        target.broadcast |= broadcast
        target.transcendental |= transcendental
        target.members.append(k)
        owner[k] = target
        made_by[e.outs[0]] = target
    if not any(len(c.members) > 1 for c in clusters):
        return eqns, []
    try:  # imported only for a program with a loop to fuse (importing Numba takes ~0.5 s)
        import numba
    except ImportError:
        return eqns, []
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
        compiled = _compile(c, eqns, staged, used_outside, numba)
        if compiled is None:  # past the compiled-loop limit: its members run with NumPy
            for k in c.members:
                owner[k] = None
            continue
        fused[c.members[-1]], source = compiled
        sources.append(source)
    result = []
    for k, e in enumerate(eqns):
        if owner[k] is None:
            result.append(e)
        elif k in fused:
            result.append(fused[k])
    return result, sources


_kernel_ids = itertools.count()
# Numba never frees the machine code of a compiled loop (dropping the dispatcher returns
# nothing), so compiled loops are never evicted and recompiled: the process compiles at most
# KERNEL_LIMIT distinct loop sources (about 1 MiB each), and a loop beyond them runs its
# operations with NumPy, unfused, with a RuntimeWarning the first time.
KERNEL_LIMIT = 256
_kernels: dict = {}  # loop source -> Numba dispatcher
_limit_warned: list = []  # one warning per process


def _kernel(source: str, numba):
    """The compiled loop for ``source``, shared by every program whose loop reads the same
    (None past :data:`KERNEL_LIMIT`).

    A loop's source names no program: constants enter as arguments, temporaries are named
    by position and the function is always ``fused``, so identical loops (the same function
    jitted again, another with other constants or shapes) compile once. Numba compiles a
    dispatcher once per argument types.
    """
    kernel = _kernels.get(source)
    if kernel is not None:
        return kernel
    if len(_kernels) >= KERNEL_LIMIT:
        if not _limit_warned:
            _limit_warned.append(True)
            warnings.warn(f"chainrule.jit has compiled {len(_kernels)} distinct fused loops in "
                          "this process (Numba never frees compiled code); new loops run "
                          "unfused with NumPy. Raise chainrule.compile.fusion.KERNEL_LIMIT to "
                          "compile more", RuntimeWarning, stacklevel=2)
        return None
    kernel = _kernels[source] = load_kernel(source, numba, error_model="numpy", nogil=True)
    return kernel


def kernel_cache_info() -> dict:
    """This process's fused loops: how many ``kernels``, how many machine codes were
    ``compiled`` here and how many ``loaded`` from the on-disk cache (one per argument
    types), and the cache ``dir`` (None: off). See :mod:`chainrule.compile.cache`."""
    return dispatcher_stats(list(_kernels.values()))


def _compile(c: _Cluster, eqns, staged: Staged, used_outside, numba):
    """One cluster as a Numba loop and the equation that calls it."""
    members = [eqns[k] for k in c.members]
    made = {e.outs[0]: f"t{j}" for j, e in enumerate(members)}  # names by position: shareable
    nd = len(c.shape)
    idx = ", ".join(f"i{d}" for d in range(nd))
    params, operands, loads, pre, body, scalars = [], [], {}, [], [], []
    typed: dict = {}  # local name -> its dtype in the loop, where known

    def operand(a):
        if type(a) is int and a in made:
            return made[a]
        lit = None if type(a) is int else _scalar_literal(a.value)
        key = a if type(a) is int else ("lit", id(a.value))
        if key not in loads:
            name = f"a{len(params)}"
            params.append(name)
            local = f"x{len(loads)}"
            loads[key] = local
            if lit is not None:  # a constant scalar enters as an argument: the loop's source
                operands.append(Lit(lit))  # is the same for every value (one shared kernel)
                scalars.append(len(params) - 1)
                pre.append(f"{local} = {name}")
            else:
                operands.append(a)
                aval = staged.avals[a] if type(a) is int else aval_of(a.value)
                if aval.shape == ():  # 0-d operands enter the loop as Python scalars
                    scalars.append(len(params) - 1)
                    pre.append(f"{local} = {name}")
                else:
                    typed[local] = aval.dtype
                    at = idx
                    if aval.shape != c.shape:  # broadcast: index 0 on its axes of length 1
                        off = nd - len(aval.shape)
                        at = ", ".join("0" if d == 1 and c.shape[off + j] != 1 else f"i{off + j}"
                                       for j, d in enumerate(aval.shape))
                    body.append(f"{local} = {name}[{at}]")
        return loads[key]

    for e in members:
        in_dts, out_dt, template = _loop(e, staged)
        args = []
        for a, dt in zip(e.ins, in_dts, strict=True):
            name = operand(a)
            args.append(name if typed.get(name) == dt else f"{_CAST[dt]}({name})")
        body.append(f"{made[e.outs[0]]} = {_CAST[out_dt]}({template.format(*args)})")
        typed[made[e.outs[0]]] = out_dt
    results = [e.outs[0] for e in members if e.outs[0] in used_outside]
    outs = [f"o{j}" for j in range(len(results))]
    body += [f"{o}[{idx}] = {made[v]}" for o, v in zip(outs, results, strict=True)]
    lines = [f"def fused({', '.join(params + outs)}):"]
    lines += [f"    {s}" for s in pre]
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for i{d} in range({outs[0]}.shape[{d}]):")
        indent += "    "
    lines += [f"{indent}{s}" for s in body]
    source = "\n".join(lines) + "\n"
    kernel = _kernel(source, numba)
    if kernel is None:
        return None
    out_specs = [(c.shape, staged.avals[v].dtype) for v in results]
    # 0-d variables enter the loop as Python scalars (cast there to the loop's dtype; the 0-d
    # array's own dtype already chose that loop); constant scalars already are Python scalars
    zero_d = [j for j in scalars if type(operands[j]) is int]
    errors = (numba.core.errors.NumbaError, OverflowError)
    empty = np.empty

    def fallback(arrays):
        # a loop Numba cannot compile, or a Python int argument beyond int64 (NumPy takes it
        # as a float): the members run with NumPy on the operands as given (a 0-d array stays
        # strongly typed), which computes or raises as eagerly
        return _interpret(members, operands, arrays, results)

    # The call of a fused loop is part of every run of the program: on vectors of a few
    # elements it costs more than the loop, so it does only this (allocate the results, call)
    if zero_d:
        def run(*arrays):
            args = list(arrays)
            for j in zero_d:
                a = args[j]
                args[j] = a.item() if isinstance(a, _NP_VALUES) else a
            res = [empty(s, d) for s, d in out_specs]
            try:
                kernel(*args, *res)
            except errors:
                return fallback(arrays)
            return res
    elif len(out_specs) == 1:
        ((shape, dtype),) = out_specs

        def run(*arrays):
            res = empty(shape, dtype)
            try:
                kernel(*arrays, res)
            except errors:
                return fallback(arrays)
            return (res,)
    else:
        def run(*arrays):
            res = [empty(s, d) for s, d in out_specs]
            try:
                kernel(*arrays, *res)
            except errors:
                return fallback(arrays)
            return res

    prim = Primitive(f"fused_{next(_kernel_ids)}", run, multiple_results=True,
                     doc=f"{len(members)} elementwise operations in one loop")
    return Eqn(prim, tuple(operands), {}, tuple(results)), source


def _interpret(members, operands, arrays, results):
    """The members of a fused loop run one by one with NumPy (Numba's fallback)."""
    env = {a: x for a, x in zip(operands, arrays, strict=True) if type(a) is int}
    for e in members:
        args = [env[a] if type(a) is int else a.value for a in e.ins]
        env[e.outs[0]] = e.prim.impl(*args, **e.params)
    return tuple(np.asarray(env[v]) for v in results)
