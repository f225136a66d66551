"""Linear algebra: products, contractions and matrix functions.

Primitives (each with its VJP and JVP beside it): ``matmul``, ``einsum``, ``inv``,
``solve``, ``det``, ``slogdet``, ``cholesky``, ``eigh``, ``solve_triangular``.
Everything else is a composite of those and of the shape/reduction primitives:
``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``, ``kron``, ``trace``,
``diag``, ``norm``, ``matrix_power``, ``multi_dot``, ``cho_solve``.

Conventions shared by the rules below:

* Matrices are the last two axes; any axes before them are a stack (NumPy's
  broadcasting of stacked matrices). ``mT(x)`` swaps the last two axes.
* A cotangent ``g`` carries ``nb`` extra *leading* batch axes (a Jacobian's rows);
  matmul and solve broadcast right-aligned, so those axes pass through, and
  ``_sum_to`` undoes any broadcasting of the stack axes.
* ``cholesky`` and ``eigh`` read only the lower triangle of ``a`` (as NumPy's LAPACK
  calls do). Their derivatives are the exact derivatives of that function: the
  gradient is lower triangular, with the off-diagonal entries counted twice. For a
  symmetric parametrisation (``a = s + s.T``, ``a = b @ b.T``...) this is the same
  as the symmetric gradient PyTorch and JAX report; ``(G + G.T) / 2`` converts a
  lower-triangular gradient ``G`` into that symmetric form.
"""

from __future__ import annotations

import math
import operator
from string import ascii_letters

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as shape
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from . import elementwise as _ew
from . import reductions as _red
from . import shape as _shape_ops
from .dispatch import implements
from .linear import lead as _lead
from .linear import lift, ndim

# NumPy's own result types, so traced and plain calls return the same pytree structure.
SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
EighResult = type(np.linalg.eigh(np.eye(1)))


# ---------------------------------------------------------------- helpers
def _asarray(x):
    # a list or tuple holding traced values is stacked, as np.linalg.norm([x, y]) reads it
    return x if isinstance(x, (Box, np.ndarray)) else _shape_ops.asarray(x)


def _check_real(name, *xs):
    for x in xs:
        dt = getattr(x, "dtype", None)
        if dt is not None and dt.kind == "c":
            raise NotImplementedError(f"{name}: complex input (dtype {dt}) is not supported by chainrule")


def _check_square(name, a):
    s = shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise np.linalg.LinAlgError(
            f"{name}: expected a square matrix or a stack of them, shape (..., n, n); got shape {s}")


def mT(x):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    if type(x) is np.ndarray:
        return x.swapaxes(-1, -2)
    axes = list(range(ndim(x)))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return _shape_ops.transpose(x, axes)


def _reshape(x, s):
    return x if shape(x) == tuple(s) else _shape_ops.reshape(x, tuple(s))


def _sum_to(v, nb: int, target: tuple):
    """Sum ``v`` (shape ``lead + s``, ``len(lead) == nb``) down to ``lead + target``: undoes broadcasting."""
    vs = shape(v)
    want = vs[:nb] + tuple(target)
    if vs == want:
        return v
    extra = len(vs) - len(want)
    axes = tuple(range(nb, nb + extra)) + tuple(
        nb + extra + i for i, d in enumerate(target) if d == 1 and vs[nb + extra + i] != 1)
    return _reshape(_red.sum(v, axis=axes), want)


# Constant matrices take the dtype of the values they meet: a float64 mask would turn a
# float32 derivative into float64 (arrays, unlike Python scalars, are not weakly typed).
def _eye(n, dtype=np.float64):
    return np.eye(n, dtype=dtype)


def _tril_mask(n, k=0, dtype=np.float64):
    return np.tri(n, n, k, dtype=dtype)


def _inexact(x):
    """``x``'s dtype if it is a float (or complex) dtype, else float64."""
    dt = dtype_of(x)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


# ================================================================ matmul
def _matmul_vjp_a(g, ans, a, b):
    na, nb = ndim(a), ndim(b)
    if nb == 2 and na <= 2:  # the hot path: g @ B^T, whatever batch axes g carries (a 1-D too)
        return matmul_p(g, mT(b))
    nl = ndim(g) - ndim(ans)
    if nb == 1:  # outer product of g with b: already lead + a.shape
        return _reshape(g, shape(g) + (1,)) * b
    if na == 1:  # a is a row vector: contract g with b over n, then sum the stack axes
        ga = matmul(b, _reshape(g, shape(g) + (1,)))
        return _sum_to(_reshape(ga, shape(ga)[:-1]), nl, shape(a))
    return _sum_to(matmul(g, mT(b)), nl, shape(a))


def _matmul_vjp_b(g, ans, a, b):
    na, nb = ndim(a), ndim(b)
    if na == 2 and nb == 2:  # A^T @ g
        return matmul_p(mT(a), g)
    nl = ndim(g) - ndim(ans)
    if na == 1:
        if nb == 1:
            return _reshape(g, shape(g) + (1,)) * a
        gs = shape(g)
        return _reshape(a, (shape(a)[0], 1)) * _reshape(g, gs[:-1] + (1, gs[-1]))
    if nb == 1 and na == 2:  # A^T g for every batch row of g at once: one GEMM, g @ A
        return matmul_p(g, a)
    if nb == 1:  # b is a column vector against a stack of matrices
        gb = matmul(mT(a), _reshape(g, shape(g) + (1,)))
        return _sum_to(_reshape(gb, shape(gb)[:-1]), nl, shape(b))
    return _sum_to(matmul(mT(a), g), nl, shape(b))


def _matmul_jvp_a(t, ans, a, b):
    na, nb = ndim(a), ndim(b)
    if na >= 2 and nb >= 2:
        return matmul(lift(t, a, ans), b)
    if na == 1 and nb == 2:  # a row vector times one matrix: batch rows are just more rows
        return matmul_p(t, b)
    if na == 1 and nb >= 2:  # promote the tangent row vector so it broadcasts over b's stack
        lead = _lead(t, a)
        r = matmul(_reshape(t, lead + (1,) * (nb - 1) + shape(a)), b)
        return _reshape(r, lead + shape(ans))
    return matmul(t, b)  # b is 1-D: contract t's last axis


def _matmul_jvp_b(t, ans, a, b):
    na, nb = ndim(a), ndim(b)
    if na >= 2 and nb >= 2:
        return matmul(a, lift(t, b, ans))
    if nb == 1:
        if na == 1:
            return matmul(t, a)
        if na == 2:  # A t for every batch row of t at once: one GEMM, t @ A^T
            return matmul_p(t, mT(a))
        lead = _lead(t, b)
        r = matmul(a, _reshape(t, lead + (1,) * (na - 2) + shape(b) + (1,)))
        return _reshape(r, lead + shape(ans))
    return matmul(a, t)  # a is 1-D: it broadcasts over t's batch and stack axes


matmul_p = Primitive("matmul", np.matmul, doc="a @ b (NumPy matmul: 1-D operands, stacked matrices)",
                     saves=(0, 1))
matmul_p.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul_p.defjvp(_matmul_jvp_a, _matmul_jvp_b)


@implements(np.matmul, np.linalg.matmul)
def matmul(a, b):
    """``a @ b``. VJP: ``g @ b^T`` and ``a^T @ g``; JVP: ``da @ b + a @ db``.

    1-D operands follow NumPy (a row vector on the left, a column on the right,
    the added axis removed again); stacks of matrices broadcast.
    """
    a, b = _asarray(a), _asarray(b)
    sa, sb = shape(a), shape(b)
    if not sa or not sb:
        raise ValueError(f"matmul: scalar operands are not allowed (shapes {sa} and {sb}); use * instead")
    kb = sb[-2] if len(sb) >= 2 else sb[0]
    if sa[-1] != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} do not align: the last axis of the first "
                         f"({sa[-1]}) must equal the {'second-to-last' if len(sb) >= 2 else 'only'} "
                         f"axis of the second ({kb})")
    return matmul_p(a, b)


# ---------------------------------------------------------------- products built on matmul
@implements(np.tensordot, np.linalg.tensordot)
def tensordot(a, b, axes=2):
    """Sum over the paired ``axes`` of ``a`` and ``b``: transpose, reshape, one matmul."""
    a, b = _asarray(a), _asarray(b)
    sa, sb = shape(a), shape(b)
    na, nb = len(sa), len(sb)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes {ax_a} and {ax_b} have different lengths")
    ax_a = [int(i) % na for i in ax_a] if na else []
    ax_b = [int(i) % nb for i in ax_b] if nb else []
    for i, j in zip(ax_a, ax_b, strict=True):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: shape mismatch for sum: axis {i} of {sa} vs axis {j} of {sb}")
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [j for j in range(nb) if j not in ax_b]
    k = math.prod(sa[i] for i in ax_a)
    m = math.prod(sa[i] for i in free_a)
    n = math.prod(sb[j] for j in free_b)
    at = _reshape(_shape_ops.transpose(a, free_a + ax_a), (m, k))
    bt = _reshape(_shape_ops.transpose(b, ax_b + free_b), (k, n))
    out = matmul(at, bt)
    return _reshape(out, tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


@implements(np.dot)
def dot(a, b, out=None):
    """NumPy's ``dot``: a product for scalars, ``matmul`` for vectors and matrices,
    ``tensordot(a, b, ([-1], [-2]))`` when ``b`` has more than two axes."""
    if out is not None:
        raise TypeError("dot(..., out=...) writes in place; not supported on traced arrays")
    a, b = _asarray(a), _asarray(b)
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return a * b
    if nb >= 3 and na >= 2:
        return tensordot(a, b, axes=([-1], [-2]))
    return matmul(a, b)


def method_dot(a, b, out=None):
    return dot(a, b, out=out)


@implements(np.vdot)
def vdot(a, b):
    """Dot product of the flattened arrays, ``a`` conjugated (NumPy's vdot)."""
    a, b = _asarray(a), _asarray(b)
    return matmul(_shape_ops.ravel(_ew.conj(a)), _shape_ops.ravel(b))


@implements(np.inner)
def inner(a, b):
    """Sum over the last axes of ``a`` and ``b``."""
    a, b = _asarray(a), _asarray(b)
    if ndim(a) == 0 or ndim(b) == 0:
        return a * b
    if ndim(a) == 1 and ndim(b) == 1:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


@implements(np.outer, np.linalg.outer)
def outer(a, b, out=None):
    """``ravel(a)[:, None] * ravel(b)[None, :]``."""
    if out is not None:
        raise TypeError("outer(..., out=...) writes in place; not supported on traced arrays")
    a, b = _asarray(a), _asarray(b)
    return _shape_ops.reshape(a, (-1, 1)) * _shape_ops.reshape(b, (1, -1))


@implements(np.kron)
def kron(a, b):
    """Kronecker product: ``a``'s and ``b``'s axes interleaved, multiplied, then merged."""
    a, b = _asarray(a), _asarray(b)
    n = max(ndim(a), ndim(b))
    sa = (1,) * (n - ndim(a)) + shape(a)
    sb = (1,) * (n - ndim(b)) + shape(b)
    ai = _reshape(a, tuple(d for s in sa for d in (s, 1)))
    bi = _reshape(b, tuple(d for s in sb for d in (1, s)))
    return _reshape(ai * bi, tuple(x * y for x, y in zip(sa, sb, strict=True)))


@implements(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """``arrays[0] @ arrays[1] @ ...`` (evaluated left to right)."""
    if out is not None:
        raise TypeError("multi_dot(..., out=...) writes in place; not supported on traced arrays")
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    r = arrays[0]
    for x in arrays[1:]:
        r = matmul(r, x)
    return r


@implements(np.linalg.vecdot, np.vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    """``sum(conj(x1) * x2, axis)``."""
    return _red.sum(_ew.conj(x1) * x2, axis=axis)


# ================================================================ einsum
def _subscripts_of_sublists(args):
    """The string form of NumPy's interleaved ``einsum(op, [0, 1], op, [1, 2], [0, 2])``."""
    letters = ascii_letters[26:] + ascii_letters[:26]  # 'A'..'Z','a'..'z': sorted like the ints

    def conv(sub):
        return "".join("..." if s is Ellipsis else letters[int(s)] for s in sub)

    out = None
    if len(args) % 2:  # a trailing output sublist
        args, out = args[:-1], args[-1]
    ops, subs = list(args[0::2]), [conv(s) for s in args[1::2]]
    return ",".join(subs) + ("" if out is None else "->" + conv(out)), ops


def _einsum_normalize(subscripts: str, shapes) -> str:
    """Explicit subscripts with every ``...`` spelled out as letters: ``'ij,jk->ik'``."""
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        lhs, out = subs.split("->", 1)
    else:
        lhs, out = subs, None
    bad = set(subs) - set(ascii_letters) - set(",.->")
    if bad:
        raise ValueError(f"einsum: invalid subscript characters {sorted(bad)} in {subscripts!r}")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operand subscripts in {subscripts!r} but "
                         f"{len(shapes)} operands")
    used = {c for c in subs if c.isalpha()}
    fresh = [c for c in ascii_letters if c not in used]
    parts, n_ell = [], 0
    for i, (s, sh) in enumerate(zip(ins, shapes, strict=True)):
        if "..." in s:
            pre, _, post = s.partition("...")
            n = len(sh) - len(pre) - len(post)
            if n < 0 or "." in pre + post:
                raise ValueError(f"einsum: subscripts {s!r} do not fit operand {i} of shape {sh}")
            n_ell = max(n_ell, n)
            parts.append((pre, n, post))
        else:
            if "." in s or len(s) != len(sh):
                raise ValueError(f"einsum: operand {i} has {len(sh)} axes but subscripts {s!r} "
                                 f"name {len(s)}")
            parts.append((s, 0, ""))
    ell = "".join(fresh[:n_ell])
    full = [pre + ell[n_ell - n:] + post for pre, n, post in parts]
    if out is None:
        counts = {c: lhs.count(c) for c in used}
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        if "..." in out:
            out = out.replace("...", ell, 1)
        elif n_ell:
            raise ValueError("einsum: output has more dimensions than subscripts given, but no '...' "
                             "ellipsis in the output to broadcast them")
        if "." in out:
            raise ValueError(f"einsum: invalid output subscripts in {subscripts!r}")
        for c in out:
            if out.count(c) > 1 or not any(c in s for s in full):
                raise ValueError(f"einsum: output subscript {c!r} repeated or not in any input")
    return ",".join(full) + "->" + out


def _einsum_impl(*ops, subscripts):
    big = len(ops) > 2 or any(np.size(o) > 1024 for o in ops)
    return np.einsum(subscripts, *ops, optimize="greedy" if big else False)


def _fresh_letters(subscripts):
    used = set(subscripts)
    return iter([c for c in ascii_letters if c not in used])


def _einsum_vjp(i, g, ans, *ops, subscripts):
    """The cotangent of operand ``i`` is an einsum of ``g`` with the other operands onto ``i``'s
    subscripts. A repeated letter (a diagonal, ``'ii->'``) is renamed and tied back with an
    identity matrix; a letter summed away only inside operand ``i`` is broadcast with ones."""
    lhs, out = subscripts.split("->")
    ins = lhs.split(",")
    nl = ndim(g) - ndim(ans)
    fresh = _fresh_letters(subscripts)
    batch = "".join(next(fresh) for _ in range(nl))
    sizes = {}
    for s, o in zip(ins, ops, strict=True):
        for c, d in zip(s, shape(o), strict=True):
            sizes[c] = max(sizes.get(c, 1), d)
    others = [j for j in range(len(ops)) if j != i]
    present = set(out).union(*[set(ins[j]) for j in others])
    target, extra_subs, extra_ops, seen = [], [], [], set()
    for c in ins[i]:
        if c in seen:
            f = next(fresh)
            target.append(f)
            extra_subs.append(c + f)
            extra_ops.append(_eye(sizes[c], _inexact(g)))
        else:
            seen.add(c)
            target.append(c)
            if c not in present:
                extra_subs.append(c)
                extra_ops.append(np.ones(sizes[c], dtype=_inexact(g)))
    new = ",".join([batch + out] + [ins[j] for j in others] + extra_subs) + "->" + batch + "".join(target)
    r = einsum_p(g, *[ops[j] for j in others], *extra_ops, subscripts=new)
    return _sum_to(r, nl, shape(ops[i]))


def _einsum_jvp(i, t, ans, *ops, subscripts):
    """Linear in each operand: the same einsum with operand ``i`` replaced by its tangent."""
    lhs, out = subscripts.split("->")
    ins = lhs.split(",")
    fresh = _fresh_letters(subscripts)
    batch = "".join(next(fresh) for _ in range(ndim(t) - ndim(ops[i])))
    ins[i] = batch + ins[i]
    new_ops = list(ops)
    new_ops[i] = t
    return einsum_p(*new_ops, subscripts=",".join(ins) + "->" + batch + out)


einsum_p = Primitive("einsum", _einsum_impl, doc="einsum with explicit subscripts (no '...')")
einsum_p.defvjp_argnum(_einsum_vjp)
einsum_p.defjvp_argnum(_einsum_jvp)


@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    """Einstein summation. ``subscripts`` are normalised to explicit form with ``...``
    spelled out as letters before recording, so the rules only see letters.

    VJP of operand ``i``: ``einsum(g, other operands -> subscripts of i)``;
    JVP: the same einsum with operand ``i`` replaced by its tangent.
    """
    if out is not None:
        raise TypeError("einsum(..., out=...) writes in place; not supported on traced arrays")
    for k, v in kwargs.items():
        if (k, v) not in (("dtype", None), ("order", "K"), ("casting", "safe")):
            raise TypeError(f"einsum: unsupported argument {k}={v!r}")
    if not operands:
        raise ValueError("einsum: no subscripts given")
    if isinstance(operands[0], str):
        subscripts, ops = operands[0], list(operands[1:])
    else:
        subscripts, ops = _subscripts_of_sublists(operands)
    ops = [_asarray(o) for o in ops]
    return einsum_p(*ops, subscripts=_einsum_normalize(subscripts, [shape(o) for o in ops]))


# ================================================================ trace, diag
@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum of the ``offset`` diagonal over ``axis1`` and ``axis2``: the diagonal, then a sum."""
    if out is not None:
        raise TypeError("trace(..., out=...) writes in place; not supported on traced arrays")
    a = _asarray(a)
    if ndim(a) < 2:
        raise ValueError(f"trace: needs at least 2 axes, got shape {shape(a)}")
    return _red.sum(_shape_ops.diagonal(a, offset, axis1, axis2), axis=-1)


@implements(np.diag)
def diag(v, k=0):
    """A 1-D ``v`` -> the matrix with ``v`` on diagonal ``k``; a 2-D ``v`` -> its diagonal ``k``."""
    v = _asarray(v)
    s = shape(v)
    if len(s) == 2:
        return _shape_ops.diagonal(v, k, 0, 1)
    if len(s) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {s}")
    k = operator.index(k)  # as NumPy's: a float k is a TypeError, not a float size
    n = s[0] + abs(k)
    idx = (np.arange(s[0]) + max(-k, 0), np.arange(s[0]) + max(k, 0))
    return _shape_ops.scatter_add_p(v, idx=idx, shape=(n, n))


# ================================================================ inv, solve, det, slogdet
inv_p = Primitive("inv", np.linalg.inv, doc="matrix inverse")
inv_p.defvjp(lambda g, ans, a: -matmul(mT(ans), matmul(g, mT(ans))))
inv_p.defjvp(lambda t, ans, a: -matmul(ans, matmul(t, ans)))


@implements(np.linalg.inv)
def inv(a):
    """``A^{-1}``. VJP: ``-A^{-T} g A^{-T}``; JVP: ``-A^{-1} dA A^{-1}``."""
    a = _asarray(a)
    _check_square("inv", a)
    return inv_p(a)


def _solve_vjp_a(g, ans, a, b):
    gb = solve(mT(a), g)
    return _sum_to(-matmul(gb, mT(ans)), ndim(g) - ndim(ans), shape(a))


solve_p = Primitive("solve", np.linalg.solve, doc="solve(a, b) for a stack of matrices b (..., n, k)")
solve_p.defvjp(_solve_vjp_a,
               lambda g, ans, a, b: _sum_to(solve(mT(a), g), ndim(g) - ndim(ans), shape(b)))
solve_p.defjvp(lambda t, ans, a, b: -solve(a, matmul(lift(t, a, ans), ans)),
               lambda t, ans, a, b: solve(a, lift(t, b, ans)))


@implements(np.linalg.solve)
def solve(a, b):
    """``x = A^{-1} b``. VJP: ``gb = A^{-T} g``, ``ga = -gb x^T``; JVP: ``A^{-1} (db - dA x)``.

    As in NumPy 2, ``b`` is a vector only when it is 1-D; otherwise a (stack of)
    matrices ``(..., n, k)``. Stacks broadcast.
    """
    a, b = _asarray(a), _asarray(b)
    _check_square("solve", a)
    n = shape(a)[-1]
    sb = shape(b)
    if len(sb) == 1:
        if sb[0] != n:
            raise ValueError(f"solve: a has shape {shape(a)} but b has shape {sb}")
        x = solve_p(a, _reshape(b, (n, 1)))
        return _reshape(x, shape(x)[:-1])
    if len(sb) == 0 or sb[-2] != n:
        raise ValueError(f"solve: a has shape {shape(a)} but b has shape {sb}; b must be (n,) or (..., n, k)")
    return solve_p(a, b)


def _expand2(x):
    return _reshape(x, shape(x) + (1, 1))


def _eye_like(x):
    """The identity of ``x``'s matrix size and dtype (float32 stays float32)."""
    return np.eye(shape(x)[-1], dtype=dtype_of(x))


def _trace(x):
    return _red.sum(x * _eye_like(x), axis=(-2, -1))


def _small_adjugate(c):
    """``(adj C, det C)`` of a (stack of) small k x k matrices by Faddeev-LeVerrier:
    ``M_1 = I``, ``c_{k-j} = -tr(C M_j) / j``, ``M_{j+1} = C M_j + c_{k-j} I``; then
    ``adj C = (-1)^(k-1) M_k`` and ``det C = (-1)^k c_0`` (Cayley-Hamilton). Only products and
    traces: exact at a singular C and differentiable to every order. O(k^4), for small k only.
    """
    k = shape(c)[-1]
    m = None  # M_1 = I: C M_1 is C itself
    for j in range(1, k + 1):
        cm = c if m is None else matmul(c, m)
        coef = -_trace(cm) / float(j)
        if j == k:
            return (m if m is not None else _eye_like(c)) * (-1.0) ** (k - 1), coef * (-1.0) ** k
        m = cm + _expand2(coef) * _eye_like(c)


# The reciprocal condition number (1-norm) above which det(A) A^{-1} is used: A^{-1}'s relative
# error is then below about 1e-8, and the product is the adjugate to rounding (measured for
# n <= 30); below it, or where A^{-1} does not exist (inv raises), the exact form.
_RCOND_MIN = 1e-8
# singular values below this fraction of the largest are moved out of the way by the update
_NULL_FRACTION = 1e-6


def _others_product(s):
    """``prod_{j != i} s_j`` along the last axis, by exclusive prefix and suffix products
    (no division: right where some ``s_j`` is 0)."""
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return before * after


def _safely_inverted(a, a_inv) -> bool:
    """Whether every matrix of the stack ``a`` (values) has ``1 / (|A|_1 |A^{-1}|_1) > _RCOND_MIN``."""
    with np.errstate(all="ignore"):
        rcond = 1.0 / (np.abs(a).sum(axis=-2).max(axis=-1) * np.abs(a_inv).sum(axis=-2).max(axis=-1))
    return bool(np.all(rcond > _RCOND_MIN))


def _adjugate_impl(a):
    """The adjugate's value: ``det(A) A^{-1}`` where that is safe, else from the SVD
    ``A = U diag(s) V^T``: ``adj A = det(U) det(V) V diag(prod_{j != i} s_j) U^T``."""
    d = np.linalg.det(a)
    if a.shape[-1] == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:  # an exactly singular matrix in the stack
        a_inv = None
    if a_inv is not None and (_safely_inverted(a, a_inv) or not np.all(np.isfinite(a))):
        return d[..., None, None] * a_inv  # inf/nan entries: what NumPy's inverse makes of them
    u, sv, vh = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    # adj(U S V^H) = adj(V^H) adj(S) adj(U) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H
    return (sign[..., None, None] * np.conj(mT(vh)) * _others_product(sv)[..., None, :]) @ np.conj(mT(u))


def _adjugate_vjp(g, ans, a):
    """adj A = det(A) A^{-1} near an invertible A, so d adj[E] = det (tr(A^{-1} E) A^{-1} - A^{-1} E A^{-1})
    and the VJP is ``det (<G, A^{-1}> A^{-T} - A^{-T} G A^{-T})``."""
    a_inv = inv(a)
    a_inv_t = mT(a_inv)
    gi = _red.sum(g * a_inv, axis=(-2, -1))
    return _expand2(det(a)) * (_expand2(gi) * a_inv_t - matmul(a_inv_t, matmul(g, a_inv_t)))


def _adjugate_jvp(t, ans, a):
    a_inv = inv(a)
    return _expand2(det(a)) * (_expand2(_trace(matmul(a_inv, t))) * a_inv - matmul(a_inv, matmul(t, a_inv)))


# What a jitted program runs for det's derivative: the value is exact at every A (the impl
# reads the data at run time); the rules, needed only for second and higher orders under jit,
# are those of det(A) A^{-1} and so assume an invertible A. Eagerly, adjugate() is used instead,
# exact to every order.
adjugate_p = Primitive("adjugate", _adjugate_impl,
                       doc="adj A = det(A) A^{-1}, also where A is singular (the transposed cofactors)")
adjugate_p.defvjp(_adjugate_vjp)
adjugate_p.defjvp(_adjugate_jvp)


def adjugate(a, det_a=None):
    """``adj A``, the transposed cofactor matrix (``d det A / dA = adj(A)^T``), of a (stack of)
    square matrices, exact also where A is singular.

    Where A is safely invertible this is ``det(A) A^{-1}``. Otherwise the k smallest singular
    directions of A's value (k of them below ``_NULL_FRACTION`` of the largest) give constants
    ``U`` (scaled) and ``W`` (orthonormal rows, from ``V^H``) such that ``B = A + U W`` is well
    conditioned, and with ``C = I_k - W B^{-1} U = W B^{-1} A W^H`` (k x k, singular exactly
    when A is):

        adj(A) = det(B) (det(C) B^{-1} + B^{-1} U adj(C) W B^{-1})

    (the Woodbury identity times the matrix determinant lemma ``det A = det B det C``; both
    sides are polynomials in A, equal wherever B is invertible, singular A included).
    ``adj(C)`` and ``det(C)`` come from :func:`_small_adjugate`. Nothing is inverted where A is
    singular, every step is one of chainrule's differentiable ops and ``U``, ``V`` are
    constants, so this is the adjugate's exact value and derivative to every order. Under
    ``jit``, whose program must not branch on data, it is the primitive :data:`adjugate_p`:
    the same value, with derivatives that assume an invertible A.
    """
    av = strip_derivatives(a)
    if isinstance(av, Box):  # staged by jit
        return adjugate_p(a)
    if det_a is None:
        det_a = det(a)
    av = unbox_all(av)
    n = shape(a)[-1]
    try:
        a_inv = inv(a)
    except np.linalg.LinAlgError:  # an exactly singular matrix in the stack
        a_inv = None
    if a_inv is not None and (n == 0 or _safely_inverted(av, unbox_all(a_inv))
                              or not np.all(np.isfinite(av))):  # inf/nan: as the inverse gives
        return _expand2(det_a) * a_inv
    u, sv, vh = np.linalg.svd(av)
    top = sv[..., :1]
    k = int(np.max(np.sum(sv <= top * _NULL_FRACTION, axis=-1)))
    k = max(k, 1)
    scale = np.where(top > 0, top, 1.0)[..., None]  # the update's singular values: as A's largest
    uk = u[..., :, n - k:] * scale
    wk = vh[..., n - k:, :]  # k orthonormal rows: wk wk^H = I (^H: ^T for a real A)
    vk = np.conj(mT(wk))
    b = a + matmul(uk, wk)
    b_inv = inv(b)
    # C = I - W B^{-1} U, written W B^{-1} A W^H (W W^H = I): no cancellation against I, and
    # exactly 0 where A W^H is (A's null directions)
    c = matmul(wk, matmul(b_inv, matmul(a, vk)))
    adj_c, det_c = _small_adjugate(c)
    inner = _expand2(det_c) * b_inv + matmul(b_inv, matmul(uk, matmul(adj_c, matmul(wk, b_inv))))
    return _expand2(det(b)) * inner


det_p = Primitive("det", np.linalg.det, doc="determinant")
det_p.defvjp(lambda g, ans, a: _expand2(g) * mT(adjugate(a, ans)))
det_p.defjvp(lambda t, ans, a: _red.sum(mT(adjugate(a, ans)) * t, axis=(-2, -1)))


@implements(np.linalg.det)
def det(a):
    """``det A``. VJP: ``g adj(A)^T``; JVP: ``tr(adj(A) dA)`` (Jacobi's formula). The adjugate
    (:func:`adjugate`) is ``det(A) A^{-1}`` where A is invertible and exists everywhere: at a
    singular A the gradient is the cofactor matrix (as in JAX), not an error, to every order.
    """
    a = _asarray(a)
    _check_square("det", a)
    return det_p(a)


def _logdet_inverse(a):
    """``A^{-1}`` for log|det A|'s derivative, which does not exist where A is singular."""
    try:
        return inv(a)
    except np.linalg.LinAlgError as e:
        raise np.linalg.LinAlgError(
            "slogdet: the matrix is singular (log|det| = -inf), where log|det| has no derivative; "
            "det's derivative, the adjugate, exists everywhere (differentiate np.linalg.det)") from e


def _slogdet_vjp(g, ans, a):
    """With ``u = tr(A^{-1} dA)``: d log|det| = Re u, and for complex A d sign = i Im(u) sign
    (constant for real A); the transpose is ``(g_log + i Im(g_sign sign)) A^{-T}``."""
    g_sign, g_log = g
    complex_a = dtype_of(a).kind == "c"
    if g_log is None and not (complex_a and g_sign is not None):  # the sign is locally constant
        return np.zeros(_lead(g_sign, ans[0]) + shape(a), dtype=_inexact(a))
    coef = 0.0 if g_log is None else g_log
    if complex_a and g_sign is not None:
        coef = coef + 1j * _ew.imag(g_sign * ans[0])
    return _expand2(coef) * mT(_logdet_inverse(a))


def _slogdet_jvp(t, ans, a):
    u = _red.sum(mT(_logdet_inverse(a)) * t, axis=(-2, -1))
    if dtype_of(a).kind != "c":
        return None, u
    return 1j * _ew.imag(u) * ans[0], _ew.real(u)


slogdet_p = Primitive("slogdet", lambda a: tuple(np.linalg.slogdet(a)), multiple_results=True,
                      doc="(sign, log|det|); the sign is piecewise constant for a real matrix")
slogdet_p.defvjp(_slogdet_vjp)
slogdet_p.defjvp(_slogdet_jvp)


@implements(np.linalg.slogdet)
def slogdet(a):
    """``(sign, log|det A|)``. VJP of the log: ``g A^{-T}``; JVP: ``tr(A^{-1} dA)``; the sign is constant.

    At a singular A, ``slogdet`` is ``(0, -inf)`` and log|det| has no derivative (it tends to
    -inf): differentiating it there raises ``LinAlgError`` saying so, rather than returning
    inf or nan. Near a singular A the derivative is the (large) ``A^{-T}``. The sign alone
    differentiates to 0 everywhere. ``det`` itself differentiates everywhere (the adjugate).
    """
    a = _asarray(a)
    _check_square("slogdet", a)
    return SlogdetResult(*slogdet_p(a))


# ================================================================ triangular solves
def _tri_mask(n, lower, unit, dtype):
    m = _tril_mask(n, -1 if unit else 0, dtype)
    return m if lower else m.T


def _op(x, trans):
    return mT(x) if trans else x


def _solve_tri_vjp_a(g, ans, a, b, trans, lower, unit):
    gb = solve_triangular_p(a, g, trans=not trans, lower=lower, unit=unit)
    ga = _op(-matmul(gb, mT(ans)), trans) * _tri_mask(shape(a)[-1], lower, unit, _inexact(a))
    return _sum_to(ga, ndim(g) - ndim(ans), shape(a))


def _solve_tri_jvp_a(t, ans, a, b, trans, lower, unit):
    dop = _op(lift(t, a, ans) * _tri_mask(shape(a)[-1], lower, unit, _inexact(a)), trans)
    return -solve_triangular_p(a, matmul(dop, ans), trans=trans, lower=lower, unit=unit)


def _solve_tri_impl(a, b, trans, lower, unit):
    n = a.shape[-1]
    if n > 64:  # LAPACK trtrs: O(n^2 k), worth its per-call overhead (SciPy loops over stacks)
        import scipy.linalg as _sla  # imported here: importing scipy.linalg costs ~0.5 s

        return _sla.solve_triangular(a, b, trans=int(trans), lower=lower, unit_diagonal=unit,
                                     check_finite=False)
    # Small systems: NumPy's batched LU on the triangle is far cheaper than SciPy's per-matrix
    # trtrs call (whose threaded BLAS start-up dominates tiny solves), and it broadcasts stacks.
    t = np.tril(a, -1 if unit else 0) if lower else np.triu(a, 1 if unit else 0)
    if unit:
        t = t + np.eye(n, dtype=t.dtype)
    return np.linalg.solve(t.swapaxes(-1, -2) if trans else t, b)


solve_triangular_p = Primitive("solve_triangular", _solve_tri_impl,
                               doc="op(A)^{-1} b for triangular A, b of shape (..., n, k)")
solve_triangular_p.defvjp(
    _solve_tri_vjp_a,
    lambda g, ans, a, b, trans, lower, unit: _sum_to(
        solve_triangular_p(a, g, trans=not trans, lower=lower, unit=unit), ndim(g) - ndim(ans), shape(b)))
solve_triangular_p.defjvp(
    _solve_tri_jvp_a,
    lambda t, ans, a, b, trans, lower, unit: solve_triangular_p(
        a, lift(t, b, ans), trans=trans, lower=lower, unit=unit))


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """``x = op(A)^{-1} b`` with ``A`` triangular (``scipy.linalg.solve_triangular``), ``op`` = identity
    or transpose (``trans`` 0/'N' or 1/'T'). Only the named triangle of ``a`` is read, and so only
    it gets a gradient. VJP: ``gb = op(A)^{-T} g``, ``gA = tri(-op(gb x^T))``. Stacks broadcast.
    """
    a, b = _asarray(a), _asarray(b)
    _check_square("solve_triangular", a)
    _check_real("solve_triangular", a, b)
    codes = {0: False, 1: True, 2: True, "N": False, "T": True, "C": True}
    if trans not in codes:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    params = dict(trans=codes[trans], lower=bool(lower), unit=bool(unit_diagonal))
    n = shape(a)[-1]
    sb = shape(b)
    if len(sb) == 1:
        if sb[0] != n:
            raise ValueError(f"solve_triangular: a has shape {shape(a)} but b has shape {sb}")
        x = solve_triangular_p(a, _reshape(b, (n, 1)), **params)
        return _reshape(x, shape(x)[:-1])
    if len(sb) == 0 or sb[-2] != n:
        raise ValueError(f"solve_triangular: a has shape {shape(a)} but b has shape {sb}")
    return solve_triangular_p(a, b, **params)


# ================================================================ cholesky, eigh
def _sym_from_lower(t):
    """The symmetric (Hermitian) matrix that NumPy's LAPACK calls actually see: the lower triangle
    mirrored (conjugated), and of the diagonal its real part."""
    n = shape(t)[-1]
    low = t * _tril_mask(n, -1, _inexact(t))
    if dtype_of(t).kind == "c":
        return low + _ew.conj(mT(low)) + _ew.real(t) * _eye(n, _ew.real(t).dtype)
    return low + mT(low) + t * _eye(n, _inexact(t))


def _fold_lower(s):
    """Adjoint of ``_sym_from_lower``: ``tril(s + s^T, -1) + diag(s)`` (for complex values, under
    the pairing Re(sum a*b): ``tril(s + conj(s)^T, -1) + diag(Re s)``)."""
    n = shape(s)[-1]
    if dtype_of(s).kind == "c":
        return ((s + _ew.conj(mT(s))) * _tril_mask(n, -1, _inexact(s))
                + _ew.real(s) * _eye(n, _ew.real(s).dtype))
    return (s + mT(s)) * _tril_mask(n, -1, _inexact(s)) + s * _eye(n, _inexact(s))


def _phi(x):
    """Lower triangle with the diagonal halved (Murray 2016)."""
    n = shape(x)[-1]
    return x * (_tril_mask(n, -1, _inexact(x)) + 0.5 * _eye(n, _inexact(x)))


def _cholesky_vjp(g, ans, a):
    """``S = L^{-T} Phi(L^T g) conj(L)^{-1}``, folded onto the lower triangle that was read (the
    transpose of the JVP under Re(sum a*b); conj is the identity on real values)."""
    p = _phi(matmul(mT(ans), g))
    y = solve_triangular_p(ans, p, trans=True, lower=True, unit=False)  # L^{-T} P
    s = mT(solve_triangular_p(_ew.conj(ans), mT(y), trans=True, lower=True, unit=False))
    return _fold_lower(s)


def _cholesky_jvp(t, ans, a):
    """``dL = L Phi(L^{-1} dS L^{-H})`` with ``dS`` the Hermitian tangent built from tril(dA)."""
    z = solve_triangular_p(ans, _sym_from_lower(t), trans=False, lower=True, unit=False)
    x = _ew.conj(mT(solve_triangular_p(ans, mT(_ew.conj(z)), trans=False, lower=True, unit=False)))
    return matmul(ans, _phi(x))


cholesky_p = Primitive("cholesky", np.linalg.cholesky, doc="lower Cholesky factor L, A = L L^T")
cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """Cholesky factor of a symmetric positive definite ``A = L L^T`` (``upper``: ``L^T``).

    Only the lower (``upper``: the upper) triangle of ``a`` is read, as in NumPy; see the module notes on
    what that means for the gradient. JVP: ``dL = L Phi(L^{-1} dA L^{-T})``.
    """
    a = _asarray(a)
    _check_square("cholesky", a)
    if upper:  # NumPy then reads the upper triangle: U = chol(A^T)^T
        return mT(cholesky_p(mT(a)))
    return cholesky_p(a)


def _eig_gap_inverse(w):
    """``F[i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it (distinct eigenvalues assumed)."""
    n = shape(w)[-1]
    eye = _eye(n).astype(bool)
    diff = _reshape(w, shape(w)[:-1] + (1, n)) - _reshape(w, shape(w) + (1,))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ew.where(eye, 0.0, 1.0 / _ew.where(eye, 1.0, diff))


def _eigh_vjp(g, ans, a):
    w, v = ans
    gw, gv = g
    inner = 0.0
    if gw is not None:
        inner = _reshape(gw, shape(gw) + (1,)) * _eye(shape(w)[-1], _inexact(gw))
    if gv is not None:  # skipped when only eigenvalues are used: then repeated eigenvalues are fine
        inner = inner + _eig_gap_inverse(w) * matmul(mT(v), gv)
    # conj(V) (...) V^T: the transpose of dA -> V^H dA V under Re(sum a*b)
    return _fold_lower(matmul(_ew.conj(v), matmul(inner, mT(v))))


def _eigh_jvp(t, ans, a):
    w, v = ans
    n = shape(w)[-1]
    m = matmul(_ew.conj(mT(v)), matmul(_sym_from_lower(t), v))  # V^H dA V
    dw = _shape_ops.getitem(m, (Ellipsis, np.arange(n), np.arange(n)))
    return _ew.real(dw), matmul(v, _eig_gap_inverse(w) * m)


eigh_p = Primitive("eigh", lambda a: tuple(np.linalg.eigh(a)), multiple_results=True,
                   doc="eigenvalues (ascending) and eigenvectors of a symmetric matrix")
eigh_p.defvjp(_eigh_vjp)
eigh_p.defjvp(_eigh_jvp)


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """``A = V diag(w) V^T`` for symmetric ``A`` (the ``UPLO`` triangle is read).

    With ``M = V^T dA V`` and ``F_ij = 1 / (w_j - w_i)`` (0 on the diagonal):
    ``dw = diag(M)``, ``dV = V (F * M)``; VJP ``V (diag(gw) + F * V^T gV) V^T``.
    Eigenvector derivatives assume **distinct eigenvalues** (they are undefined
    otherwise and come out inf/nan); eigenvalue-only use (``eigvalsh``) needs no
    such assumption at first order. Each eigenvector's sign is whatever LAPACK
    returns, so prefer functions of ``V`` that do not depend on it.
    """
    a = _asarray(a)
    _check_square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    # the upper triangle of a is the lower one of a^H (of a^T for real a)
    return EighResult(*eigh_p(_ew.conj(mT(a)) if UPLO == "U" else a))


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """Eigenvalues of a symmetric matrix; VJP ``V diag(g) V^T``."""
    return eigh(a, UPLO)[0]


# ================================================================ norms and powers
def _safe_sqrt(s):
    """``sqrt(s)`` whose derivative at ``s == 0`` is taken as 0 (the norm's subgradient at 0)."""
    zero = strip_derivatives(s) == 0
    if not isinstance(zero, Box) and not np.any(zero):  # under jit: the form exact for all s
        return _ew.sqrt(s)
    return _ew.where(zero, 0.0, _ew.sqrt(_ew.where(zero, 1.0, s)))


def _extreme(x, axis, keepdims, largest):
    """max/min over ``axis``; tied extremes share the gradient. The largest of nothing is 0
    for a norm, as NumPy's (the smallest of nothing stays an error, as in NumPy)."""
    if largest and any(shape(x)[a] == 0 for a in axis):
        return _red.max(x, axis=axis, keepdims=keepdims, initial=0.0)
    return (_red.max if largest else _red.min)(x, axis=axis, keepdims=keepdims)


def _drop_axes(x, axes):
    """Remove the (size-1) negative ``axes`` of ``x``."""
    s = shape(x)
    return _reshape(x, tuple(d for i, d in enumerate(s) if i - len(s) not in axes))


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return _safe_sqrt(_red.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _extreme(_ew.absolute(x), axis, keepdims, True)
    if ord == -np.inf:
        return _extreme(_ew.absolute(x), axis, keepdims, False)
    if ord == 0:
        return _red.sum((unbox_all(x) != 0).astype(_inexact(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _red.sum(_ew.absolute(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    s = _red.sum(_ew.absolute(x) ** ord, axis=axis, keepdims=keepdims)
    return s ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord is None or ord == "fro":
        return _safe_sqrt(_red.sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        inner_axis, outer_axis = (r, c) if ord in (1, -1) else (c, r)
        s = _red.sum(_ew.absolute(x), axis=(inner_axis,), keepdims=True)
        out = _extreme(s, (outer_axis,), True, ord > 0)
        return out if keepdims else _drop_axes(out, axes)
    if ord == 2:  # largest singular value: sqrt of the top eigenvalue of the smaller Gram matrix
        xm = _shape_ops.moveaxis(x, (r, c), (-2, -1))
        rows, cols = shape(xm)[-2:]
        w = eigvalsh(matmul(xm, mT(xm)) if rows <= cols else matmul(mT(xm), xm))
        out = _safe_sqrt(_ew.maximum(_shape_ops.getitem(w, (Ellipsis, -1)), 0.0))
        if keepdims:
            nd = ndim(x)
            out = _shape_ops.expand_dims(out, tuple(sorted(a % nd for a in axes)))
        return out
    if ord in (-2, "nuc"):
        raise NotImplementedError(f"norm(ord={ord!r}) needs a singular value decomposition, "
                                  "which chainrule does not differentiate yet")
    raise ValueError(f"norm: invalid norm order {ord!r} for matrices")


def _norm_axes(axis, nd):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -nd <= a < nd:
            raise np.exceptions.AxisError(a, nd)
        out.append(int(a) - nd if a >= 0 else int(a))
    if len(set(out)) != len(out):
        raise ValueError(f"norm: duplicate axes {axis}")
    return tuple(out)


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector and matrix norms with NumPy's ``ord``/``axis``/``keepdims`` semantics.

    2-norm / Frobenius: ``sqrt(sum x^2)``, gradient ``x / ||x||`` (0 at ``x = 0``);
    1-norm ``sum |x|``; inf-norm ``max |x|`` (gradient shared among ties); matrix 1/inf
    norms are max column/row sums; matrix ``ord=2`` is the largest singular value,
    computed from ``eigvalsh(X^T X)``. ``ord=-2`` and ``'nuc'`` are not supported.
    """
    x = _asarray(x)
    if dtype_of(x).kind == "c":
        # every norm but the spectral ones is a norm of |x|; those need complex singular values
        if ord in (2, -2, "nuc") and (axis is None and ndim(x) == 2 or np.ndim(axis) == 1
                                      and len(axis) == 2):
            raise NotImplementedError(f"norm(ord={ord!r}) of a complex matrix is not supported")
        x = _ew.absolute(x)
    nd = ndim(x)
    if axis is None:
        if ord is None:
            out = _safe_sqrt(_red.sum(x * x))
            return _reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            axis = (-1,)
        elif nd == 2:
            axis = (-2, -1)
        else:
            raise ValueError("norm: improper number of dimensions to norm (give axis)")
    axes = _norm_axes(axis, nd)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("norm: improper number of dimensions to norm")


@implements(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """NumPy 2's ``vector_norm``: ``axis=None`` flattens."""
    x = _asarray(x)
    if axis is None:
        out = norm(_shape_ops.ravel(x), ord=ord)
        return _reshape(out, (1,) * ndim(x)) if keepdims else out
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """NumPy 2's ``matrix_norm`` over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """``A^n`` by repeated squaring (``n < 0`` inverts first; ``n == 0`` is the identity)."""
    a = _asarray(a)
    _check_square("matrix_power", a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}")
    if n == 0:
        return np.broadcast_to(_eye(shape(a)[-1], dtype_of(a)), shape(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


@implements(np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    return mT(_asarray(x))


@implements(np.linalg.trace)
def linalg_trace(x, /, *, offset=0, dtype=None):
    """NumPy 2's ``linalg.trace``: over the last two axes."""
    return trace(x, offset=offset, axis1=-2, axis2=-1)


@implements(np.linalg.diagonal)
def linalg_diagonal(x, /, *, offset=0):
    """NumPy 2's ``linalg.diagonal``: over the last two axes."""
    return _shape_ops.diagonal(_asarray(x), offset, -2, -1)


__all__ = ["matmul", "dot", "method_dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron",
           "trace", "diag"]
