"""Where a NaN or an infinity was born, and why: :func:`debug_nans`.

``with chainrule.debug_nans():`` (or ``@chainrule.debug_nans()``, or the environment switch
``CHAINRULE_DEBUG_NANS=1`` read at import) checks every value chainrule traces: each
primitive's output in the forward pass (``grad``, ``jvp``, ``Tensor``, nested transforms,
``jit`` calls) and every contribution a VJP or JVP rule makes in reverse and forward mode.
At the first non-finite value that is **born** -- finite inputs, non-finite output -- it
raises :class:`NonFiniteError` naming

* the primitive, and the phase: its forward pass, or its VJP/JVP rule for argument ``k``
  (an operation inside a rule, under ``grad(grad(f))``, is reported as that rule);
* the user's own source line that called it (file, line, function, code): the stack is
  walked past chainrule's and NumPy's frames; for a rule run in a later backward pass, the
  line recorded when the forward operation ran;
* the inputs (shape, dtype, range, the values at the offending indices) and the output;
* a diagnosis from the table of known causes below, with the usual fix.

A value that passes a NaN on (non-finite input, non-finite output) is not blamed: the first
non-finite value any check sees was either born there or came from outside what was watched
(an input of the transform, a closed-over array, a value computed by untraced NumPy code, a
seed cotangent), and is reported as such (``phase == "input"``).

Known causes (``NonFiniteError.cause``):

========================  ===================================================================
``log-of-zero``           ``log(0) = -inf`` (also log2, log10; ``log1p(-1)``)
``log-of-negative``       ``log(x < 0) = nan`` (also log1p below -1)
``sqrt-of-negative``      ``sqrt(x < 0) = nan``
``division-by-zero``      ``x / 0 = ±inf`` (``reciprocal(0)``, ``0 ** -n``)
``0/0``                   ``0 / 0 = nan``
``0*inf``                 ``0 * inf = nan``
``inf-inf``               ``inf - inf = nan``
``inf/inf``               ``inf / inf = nan``
``overflow-exp``          ``exp(x)`` above the largest float (x > 709.78 in float64)
``overflow``              any other finite result too large for its dtype
``domain``                an argument outside the function's domain (arcsin(2), arccosh(0))
``infinite-derivative``   a rule's local derivative is not finite here (sqrt, log at 0)
``masked-branch``         finite forward, non-finite backward of a branch ``where`` did not
                          pick: its cotangent is 0 but its derivative is infinite
``input``                 the value was already non-finite when it reached the operation
========================  ===================================================================

Cost: with the mode off the per-operation path is one ``None`` test per call (the hooks in
:class:`chainrule.core.tape.Checks` are unset while no ``debug_nans`` is active anywhere).
With it on, each traced operation walks the stack to the first frame outside chainrule and
checks its output for non-finite values.

``debug_nans`` is per context (a :class:`contextvars.ContextVar`): other threads and asyncio
tasks are not checked, and a nested ``debug_nans(False)`` switches it off inside.
"""

from __future__ import annotations

import contextvars
import linecache
import math
import os
import sys
import threading
from contextlib import ContextDecorator, contextmanager

import numpy as np

from .core.errors import ChainruleError
from .core.primitive import Box, strip_derivatives
from .core.pytree import tree_flatten, tree_leaves, tree_unflatten
from .core.tape import Checks, jvp_sum, pull
from .core.trace import ReverseTrace, Shaped
from .rules import elementwise as ew

__all__ = ["debug_nans", "NonFiniteError", "nonfinite_marks"]


class NonFiniteError(ChainruleError, FloatingPointError):
    """A NaN or infinity was born in a traced computation (see :func:`debug_nans`).

    Attributes: ``primitive`` (the :class:`~chainrule.core.primitive.Primitive`), ``phase``
    (``"forward"``, ``"vjp"``, ``"jvp"``, ``"input"``, or ``"output"`` for a jitted result no
    operation produced), ``argnum`` (the rule's argument, or the input's position), ``kind``
    (``"nan"``, ``"inf"``, ``"-inf"``), ``cause`` (a key of the table in :mod:`chainrule.debug`),
    ``filename``, ``lineno``, ``function``, ``code`` (the user's line), ``rule_op`` (the
    operation inside a rule that produced it, under nested transforms), ``indices`` (the
    first offending indices), ``under_jit`` (the jitted function's name, or None).
    """

    def __init__(self, message: str, **info):
        super().__init__(message)
        self.primitive = info.get("primitive")
        self.phase = info.get("phase")
        self.argnum = info.get("argnum")
        self.kind = info.get("kind")
        self.cause = info.get("cause")
        self.rule_op = info.get("rule_op")
        self.indices = info.get("indices", [])
        self.under_jit = info.get("under_jit")
        site = info.get("site") or (None, None, None, None)
        self.filename, self.lineno, self.function, self.code = site


# ----------------------------------------------------------------------------- mode and hooks
class _Mode:
    """One active ``debug_nans``: what counts as bad, and the user line of each record."""

    __slots__ = ("infs", "sites", "masked")

    def __init__(self, infs: bool):
        self.infs = infs
        # id(record args list) -> (primitive, site). ReverseTrace.process hands the same
        # list to Checks.value and to its Record (and ForwardTrace to jvp_sum), so a rule run
        # later finds the line its forward operation was called from. Keyed by id, not holding
        # the list: a live record's list keeps its address, a dead one's entry is overwritten
        # when the address is reused; the primitive is compared on lookup.
        self.sites: dict = {}
        # node -> (id of the cotangent sent to it, where's site): cotangents a ``where`` sent
        # (or that ran on from one), to name the masked-branch trap's where.
        self.masked: dict = {}


# CHAINRULE_DEBUG_NANS=1 (read at import): on for the whole process; =nan: NaNs only
_ENV = os.environ.get("CHAINRULE_DEBUG_NANS", "").strip().lower()
_ENV_ON = _ENV not in ("", "0", "false", "no", "off")
_ACTIVE: contextvars.ContextVar = contextvars.ContextVar(
    "chainrule_debug_nans", default=_Mode(infs=_ENV != "nan") if _ENV_ON else None)
_UNDER_JIT: contextvars.ContextVar = contextvars.ContextVar("chainrule_debug_jit", default=None)
_lock = threading.Lock()
_installed = [0, None]  # how many debug_nans are entered process-wide; the hooks before them
_MAX_SITES = 1 << 18  # bound on the site table (a long training run under debug_nans)


def _install() -> None:
    with _lock:
        if _installed[0] == 0:
            _installed[1] = (Checks.value, Checks.vjp, Checks.jvp)
            Checks.value, Checks.vjp, Checks.jvp = _on_value, _on_vjp, _on_jvp
        _installed[0] += 1


def _uninstall() -> None:
    with _lock:
        _installed[0] -= 1
        if _installed[0] == 0:
            Checks.value, Checks.vjp, Checks.jvp = _installed[1]


class debug_nans(ContextDecorator):  # noqa: N801 - used like a function, as contextlib's are
    """Raise :class:`NonFiniteError` where a NaN or infinity is born, naming the primitive,
    the phase, the user's line, the inputs and the likely cause.

    ``with debug_nans():`` or ``@debug_nans()``; ``debug_nans(False)`` switches the checks off
    inside an active one. ``infs=False`` checks NaNs only (for programs that use ``-inf`` on
    purpose, as a mask): an infinity is then an ordinary value, and ``inf - inf`` is a
    NaN born. The environment variable ``CHAINRULE_DEBUG_NANS=1`` turns it on for the whole
    process at import (``CHAINRULE_DEBUG_NANS=nan`` for NaNs only).
    """

    def __init__(self, enabled: bool = True, *, infs: bool = True):
        self.enabled = enabled
        self.infs = infs
        self._tokens: list = []

    def __enter__(self):
        _install()
        outer = _ACTIVE.get()
        # a nested one keeps the lines the outer one remembered (the records may be older)
        mode = None if not self.enabled else (
            outer if outer is not None and outer.infs == self.infs else _Mode(self.infs))
        self._tokens.append(_ACTIVE.set(mode))
        return self

    def _recreate_cm(self):  # a decorated function called from several threads at once
        return type(self)(self.enabled, infs=self.infs)

    def __exit__(self, *exc):
        _ACTIVE.reset(self._tokens.pop())
        _uninstall()
        return False


def enabled() -> bool:
    """Whether :func:`debug_nans` checks the current context."""
    return _ACTIVE.get() is not None


# The codes whose frames are chainrule's or NumPy's own: the user's line is the first other.
_PACKAGE_DIRS = tuple(os.path.dirname(m.__file__) + os.sep for m in (sys.modules[__package__], np))
_PULL, _JVP_SUM = pull.__code__, jvp_sum.__code__
_USER, _INTERNAL, _IN_VJP, _IN_JVP = 0, 1, 2, 3
_kinds: dict = {_PULL: _IN_VJP, _JVP_SUM: _IN_JVP}


def _kind(code) -> int:
    k = _kinds.get(code)
    if k is None:
        f = code.co_filename
        k = _kinds[code] = _INTERNAL if f.startswith(_PACKAGE_DIRS) or f.startswith("<chainrule") else _USER
    return k


def _site_of(frame, mode):
    """Where the operation running under ``frame`` comes from: ``("user", code, lasti)``, or
    ``("vjp" | "jvp", primitive, argnum, site of that primitive's call)`` for an operation a
    rule performs (the rule's frames are chainrule's; its pull/jvp_sum frame names the record)."""
    while frame is not None:
        code = frame.f_code
        k = _kinds.get(code)
        if k is None:
            k = _kind(code)
        if k == _USER:
            return ("user", code, frame.f_lasti)
        if k != _INTERNAL:
            rule = _rule_frame(frame, k)
            if rule is not None:
                kind, prim, argnum, args = rule[:4]
                return (kind, prim, argnum, _lookup(mode, prim, args))
        frame = frame.f_back
    return None


def _rule_frame(frame, k):
    """``(kind, prim, argnum, args, g_or_t, ans, params, rec)`` of the rule call a
    :func:`~chainrule.core.tape.pull` or :func:`~chainrule.core.tape.jvp_sum` frame is making,
    from its local variables (None if they are not what these sweeps name them)."""
    loc = frame.f_locals
    try:
        if k == _IN_VJP:
            rec = loc["rec"]
            return ("vjp", rec.prim, loc["argnum"], rec.args, loc["g"], loc["ans"], loc["params"], rec)
        return ("jvp", loc["prim"], loc["argnum"], loc["args"], loc["t"], loc["ans"], loc["params"], None)
    except (KeyError, AttributeError):  # between two rule calls, or the sweep was rewritten
        return None


def _lookup(mode, prim, args):
    entry = mode.sites.get(id(args))
    return entry[1] if entry is not None and entry[0] is prim else None


def _remember(mode, prim, args, frame) -> None:
    sites = mode.sites
    if len(sites) >= _MAX_SITES:
        sites.clear()
    sites[id(args)] = (prim, _site_of(frame, mode))


def _plain(x):
    """The value below every derivative trace, or None for one jit is staging (not read)."""
    x = strip_derivatives(x)
    return None if isinstance(x, Box) else x


def _bad(v, infs: bool) -> bool:
    """Whether plain ``v`` holds a NaN (or, with ``infs``, an infinity)."""
    t = type(v)
    if t is float or t is _F64:  # the scalar path first: most values of scalar code
        return not _isfinite(v) if infs else v != v
    if t is np.ndarray:
        if v.dtype.kind not in "fc":
            return False
        if v.size < 64:
            return not np.isfinite(v).all() if infs else bool(np.isnan(v).any())
        # one pass that allocates nothing: a sum is finite only if every term is (a large
        # finite sum can overflow, so a non-finite sum is checked element by element)
        with np.errstate(over="ignore", invalid="ignore"):
            s = v.sum()
        if _isfinite(s.real) and _isfinite(s.imag):
            return False
        return not np.isfinite(v).all() if infs else bool(np.isnan(v).any())
    if isinstance(v, np.generic):
        if v.dtype.kind not in "fc":
            return False
        return _bad(complex(v) if v.dtype.kind == "c" else float(v), infs)
    if t is tuple or t is list:
        return any(_bad(_plain(a), infs) for a in v)
    if t is complex:
        return not (_isfinite(v.real) and _isfinite(v.imag)) if infs else v != v
    return False


_isfinite = math.isfinite
_F64 = np.float64


def _on_value(prim, args, params, ans):
    """Checks.value: remember the user's line of this record; raise if a bad value is born."""
    mode = _ACTIVE.get()
    if mode is None:
        return
    frame = sys._getframe(1)
    _remember(mode, prim, args, frame)
    if isinstance(ans, Box) or prim.multiple_results and any(isinstance(a, Box) for a in ans):
        return  # a box of a lower-level trace: that trace's own call checks the plain value
    if _bad(ans, mode.infs):
        with _report_guard(prim, "forward"):
            _raise_forward(mode, prim, [_plain(a) for a in args], params, ans, frame)


def _on_vjp(rec, argnum, node, g, contribution):
    """Checks.vjp: a reverse-mode contribution ``g -> contribution`` to argument ``argnum``."""
    mode = _ACTIVE.get()
    if mode is None:
        return
    prim = rec.prim
    masked = mode.masked
    if prim is ew.where:  # remember the cotangent where() sent down each branch
        if len(masked) > 4096:
            masked.clear()
        masked[node] = (id(contribution), _lookup(mode, prim, rec.args))
    elif masked:
        m = masked.get(rec.out[0])
        if m is not None and m[0] == id(g):  # the where's cotangent runs on down the branch
            masked[node] = (id(contribution), m[1])
    c = _plain(contribution)
    if c is None or not _bad(c, mode.infs):
        return
    with _report_guard(prim, "vjp", argnum):
        _raise_rule(mode, "vjp", prim, argnum, g, rec.ans, rec.args, rec.params, c,
                    _lookup(mode, prim, rec.args), rec=rec)


def _on_jvp(prim, argnum, t, ans, args, params, contribution):
    """Checks.jvp: a forward-mode contribution ``t -> contribution`` of argument ``argnum``."""
    mode = _ACTIVE.get()
    if mode is None:
        return
    c = _plain(contribution)
    if c is None or not _bad(c, mode.infs):
        return
    with _report_guard(prim, "jvp", argnum):
        _raise_rule(mode, "jvp", prim, argnum, t, ans, args, params, c, _lookup(mode, prim, args))


# ----------------------------------------------------------------------------- reporting
@contextmanager
def _report_guard(prim, phase, argnum=None):
    """The report is only words about an error that is certain: if composing it fails on an
    unusual value, the error is still raised, with the primitive and phase, and says so."""
    try:
        yield
    except NonFiniteError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise NonFiniteError(f"a non-finite value was born in {phase} of `{prim.name}`"
                             + (f" (argument {argnum})" if argnum is not None else "")
                             + f"; the detailed report failed: {exc!r}", primitive=prim,
                             phase=phase, argnum=argnum, cause="unknown",
                             under_jit=_UNDER_JIT.get()) from exc


def _mask(v, infs):
    v = np.asarray(v)
    return ~np.isfinite(v) if infs else np.isnan(v)


def _kind_of(v, mask) -> str:
    """``"nan"`` if any offending entry is a NaN, else ``"-inf"`` or ``"inf"``."""
    bad = np.asarray(v)[np.asarray(mask)]
    if np.isnan(bad).any():
        return "nan"
    return "-inf" if bad.dtype.kind != "c" and (bad < 0).all() else "inf"


def _first(mask, n=3) -> list:
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return [()] if mask else []
    return [tuple(int(i) for i in ix) for ix in np.argwhere(mask)[:n]]


def _at(v, index, shape):
    """``v``'s element at ``index`` of ``shape`` (``v`` broadcast from the right), or None."""
    if v is None or isinstance(v, Shaped) or isinstance(v, Box):
        return None
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        return None
    if a.ndim == 0:
        return a.item()
    if a.ndim > len(shape):
        return None
    ix = index[len(index) - a.ndim:]
    try:
        return a[tuple(0 if n == 1 else i for n, i in zip(a.shape, ix, strict=True))].item()
    except (IndexError, ValueError):
        return None


def _num(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, int):
        return str(x)
    return f"{x:.6g}" if isinstance(x, float) else repr(x)


def _describe(v) -> str:
    """Shape, dtype and range of a value (a lean tape's stand-in: shape and dtype only)."""
    if isinstance(v, Shaped):
        return f"shape {tuple(v.shape)}, {v.dtype} (not kept on the tape)"
    if type(v) is float or type(v) is int:
        return f"Python {type(v).__name__} {_num(v)}"
    a = np.asarray(v)
    head = f"shape {a.shape}, {a.dtype}" if a.ndim else f"{a.dtype} scalar"
    if a.dtype.kind not in "fiu" or a.size == 0:
        return head
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a.ravel()
    parts = [head]
    if a.ndim == 0:
        parts = [f"{a.dtype} {_num(a.item())}"]
    elif finite.size:
        parts.append(f"range [{_num(finite.min().item())}, {_num(finite.max().item())}]")
    if a.dtype.kind == "f" and a.ndim:
        for name, m in (("nan", np.isnan(a)), ("inf", np.isposinf(a)), ("-inf", np.isneginf(a))):
            if m.any():
                parts.append(f"{int(m.sum())} {name}")
    return ", ".join(parts)


def _resolve(site):
    """``(chain, (filename, lineno, function, code))``: the rules a site lies in, outermost
    last, and the user's line the outermost one was recorded at."""
    chain = []
    while site is not None and site[0] != "user":
        chain.append(site[:3])
        site = site[3]
    if site is None:
        return chain, None
    _, code, lasti = site
    lineno = code.co_firstlineno
    for start, end, line in code.co_lines():
        if start <= lasti < end and line is not None:
            lineno = line
            break
    text = linecache.getline(code.co_filename, lineno).strip()
    return chain, (code.co_filename, lineno, getattr(code, "co_qualname", code.co_name), text)


def _where_line(where_site) -> str:
    _, user = _resolve(where_site)
    return f" (line {user[1]})" if user else ""


def _rule_name(kind, prim, argnum) -> str:
    return f"the {kind.upper()} rule of `{prim.name}` for argument {argnum}"


def _header(kind_word, what, chain, user, under_jit) -> list:
    lines = [f"{kind_word} born in {what}"]
    for k, p, a in chain[1:] if chain else ():
        lines.append(f"  (an operation of {_rule_name(k, p, a)})")
    if user is not None:
        lines.append(f"  at {user[0]}:{user[1]}, in {user[2]}")
        if user[3]:
            lines.append(f"      {user[3]}")
    else:
        lines.append("  (the line that recorded it is unknown: it ran before debug_nans was on)")
    if under_jit:
        lines.append(f"  jit({under_jit}) produced a non-finite result; debug_nans re-ran the call "
                     "eagerly, op by op, to name the primitive (the staged program cannot)")
    return lines


def _raise(lines, cause, text, **info):
    lines.append(f"  cause: {text}")
    info["under_jit"] = _UNDER_JIT.get()
    raise NonFiniteError("\n".join(lines), cause=cause, **info)


def _raise_forward(mode, prim, vals, params, out, frame):
    infs = mode.infs
    bad_args = [i for i, v in enumerate(vals) if v is not None and _bad(v, infs)]
    site = _site_of(frame, mode)
    chain, user = _resolve(site)
    under_jit = _UNDER_JIT.get()
    if prim.multiple_results:
        outs = [o for o in (_plain(a) for a in out) if o is not None and _bad(o, infs)]
        out = outs[0]
    mask = _mask(out, infs)
    kind = _kind_of(out, mask)
    idx = _first(mask)
    shape = np.shape(out)
    if chain:  # an operation inside a rule (grad of grad): report it as that rule's
        rkind, rprim, rarg = chain[0]
        what = f"{_rule_name(rkind, rprim, rarg)} (its `{prim.name}` operation)"
    else:
        what = f"the forward pass of `{prim.name}`"
    info = dict(primitive=chain[0][1] if chain else prim, phase=chain[0][0] if chain else "forward",
                argnum=chain[0][2] if chain else None, kind=kind, indices=idx, site=user,
                rule_op=prim if chain else None)
    if bad_args:  # had an operation debug_nans watched made it, it would have raised there
        k = bad_args[0]
        v = vals[k]
        vkind = _kind_of(v, _mask(v, infs))
        lines = [f"{vkind} entered through an input: argument {k}{_local_name(frame, v)} of "
                 f"`{prim.name}` already held {vkind}"] + _header(kind, what, chain, user, under_jit)[1:]
        lines.append(f"  argument {k}: {_describe(v)}; first {vkind} at {_first(_mask(v, infs))[0]}")
        info.update(phase="input", argnum=k, primitive=prim, kind=vkind,
                    indices=_first(_mask(v, infs)), rule_op=None)
        _raise(lines, "input", "no operation debug_nans watched produced this value, so it came "
               "from outside: an input of the differentiated function, an array it closes over, "
               "a value computed by untraced NumPy code, or one made before debug_nans was on. "
               "`" + prim.name + "` only passed it on.", **info)
    lines = _header(kind, what, chain, user, under_jit)
    for i, v in enumerate(vals):
        if v is None or isinstance(v, np.ndarray) and v.dtype.kind not in "biuf":
            continue
        at = "; ".join(f"at {ix}: {_num(_at(v, ix, shape))}" for ix in idx[:2]
                       if _at(v, ix, shape) is not None)
        lines.append(f"  argument {i}: {_describe(v)}" + (f"; {at}" if at and np.ndim(v) else ""))
    lines.append(f"  output: {_describe(out)}" + (f"; first at {idx[0]}" if idx and idx[0] else ""))
    if chain:  # the rule's own arithmetic: diagnose the rule, from the record pull is running
        rule = _running_rule(frame)
        if rule is not None:
            rkind, rprim, rarg, g, rans, rargs, rparams, rec = rule
            cause, text = _rule_cause(mode, rkind, rprim, rarg, g, rans, rargs, rparams,
                                      out, idx, rec)
            _raise(lines, cause, text, **info)
    at = idx[0] if idx else ()
    cause, text = _forward_cause(prim, [_at(v, at, shape) for v in vals], params, out, at, shape)
    _raise(lines, cause, text, **info)


def _running_rule(frame):
    """The innermost rule call on the stack: ``(kind, prim, argnum, g_or_t, ans, args,
    params, rec)``, the values as the rule receives them (pull's ``args``, reboxed)."""
    while frame is not None:
        k = _kinds.get(frame.f_code)
        if k == _IN_VJP or k == _IN_JVP:
            rule = _rule_frame(frame, k)
            if rule is not None:
                kind, prim, argnum, args, g, ans, params, rec = rule
                if k == _IN_VJP:
                    args = frame.f_locals.get("args", args)  # reboxed under create_graph
                return kind, prim, argnum, g, ans, args, params, rec
        frame = frame.f_back
    return None


def _local_name(frame, value) -> str:
    """`` (`x`, an argument of f)``: the user's variable holding ``value``, if one does."""
    while frame is not None and _kinds.get(frame.f_code) != _USER:
        frame = frame.f_back
    if frame is None:
        return ""
    code = frame.f_code
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    for name, v in frame.f_locals.items():
        if v is value or isinstance(v, Box) and _plain(v) is value:
            role = f"an argument of {code.co_name}" if name in params else f"a variable of {code.co_name}"
            return f" (`{name}`, {role})"
    return ""


def _raise_rule(mode, kind, prim, argnum, g, ans, args, params, c, site, rec=None):
    """A rule's contribution ``c`` is bad: born there, or carried in by ``g`` / the values."""
    infs = mode.infs
    chain, user = _resolve(site)
    under_jit = _UNDER_JIT.get()
    mask = _mask(c, infs)
    idx = _first(mask)
    vkind = _kind_of(c, mask)
    gname = "cotangent" if kind == "vjp" else "tangent"
    info = dict(primitive=prim, phase=kind, argnum=argnum, kind=vkind, indices=idx, site=user)
    what = _rule_name(kind, prim, argnum) + (" (reverse mode)" if kind == "vjp" else " (forward mode)")
    lines = _header(vkind, what, [(kind, prim, argnum)] + chain, user, under_jit)
    gp = _plain(g)
    shape = np.shape(c)

    def at(v):  # the value at the first offending indices, where it lines up with them
        pts = [(ix, _at(v, ix, shape)) for ix in idx[:2] if idx and ix]
        pts = [f"at {ix}: {_num(val)}" for ix, val in pts if val is not None]
        return "; " + "; ".join(pts) if pts and np.ndim(v) else ""

    lines.append(f"  {gname}: {_describe(gp)}{at(gp)}")
    for i, v in enumerate(args):
        vp = v if isinstance(v, Shaped) else _plain(v)
        if vp is not None and not (isinstance(vp, np.ndarray) and vp.dtype.kind not in "biuf"):
            lines.append(f"  argument {i}: {_describe(vp)}{at(vp)}")
    ansp = ans if isinstance(ans, Shaped) else _plain(ans)
    if ansp is not None and not isinstance(ansp, tuple):
        lines.append(f"  output of {prim.name}: {_describe(ansp)}{at(ansp)}")
    lines.append(f"  contribution to argument {argnum}: {_describe(c)}"
                 + (f"; first at {idx[0]}" if idx and idx[0] else ""))
    carried = [nm for nm, v in [(gname, gp)] + [(f"argument {i}", _plain(a)) for i, a in enumerate(args)]
               + [("output", ansp)] if not isinstance(v, Shaped) and v is not None and _bad(v, infs)]
    if carried:
        info.update(phase="input")
        _raise(lines, "input", f"the {carried[0]} reaching this rule already held non-finite values: "
               "no rule or operation debug_nans watched produced them. They came from outside: "
               f"the seed {gname} passed to the transform (vjp, backward, jvp), a value made before "
               "debug_nans was on, or a sum of finite contributions that overflowed", **info)
    cause, text = _rule_cause(mode, kind, prim, argnum, g, ans, args, params, c, idx, rec)
    _raise(lines, cause, text, **info)


# ----------------------------------------------------------------------------- causes
_LOGS = {ew.log: 0.0, ew.log2: 0.0, ew.log10: 0.0, ew.log1p: -1.0}
_EXPS = {ew.exp: "exp", ew.exp2: "exp2", ew.expm1: "expm1", ew.cosh: "cosh", ew.sinh: "sinh"}
_DOMAINS = {ew.arcsin: "[-1, 1]", ew.arccos: "[-1, 1]", ew.arccosh: "[1, inf)",
            ew.arctanh: "(-1, 1)", ew.sqrt: "[0, inf)"}
# Where a rule's derivative is infinite, and the input value that makes a branch safe.
_SINGULAR = {
    ew.sqrt: ("0.5 / sqrt(x)", "x = 0", "sqrt(where(x > 0, x, 1))"),
    ew.log: ("1 / x", "x = 0", "log(where(x > 0, x, 1))"),
    ew.log2: ("1 / (x ln 2)", "x = 0", "log2(where(x > 0, x, 1))"),
    ew.log10: ("1 / (x ln 10)", "x = 0", "log10(where(x > 0, x, 1))"),
    ew.log1p: ("1 / (1 + x)", "x = -1", "log1p(where(x > -1, x, 0))"),
    ew.reciprocal: ("-1 / x**2", "x = 0", "1 / where(x != 0, x, 1)"),
    ew.divide: ("1 / y and -x / y**2", "y = 0", "x / where(y != 0, y, 1)"),
    ew.cbrt: ("1 / (3 cbrt(x)**2)", "x = 0", "cbrt(where(x != 0, x, 1))"),
    ew.arcsin: ("1 / sqrt(1 - x**2)", "x = ±1", "arcsin(where(abs(x) < 1, x, 0))"),
    ew.arccos: ("-1 / sqrt(1 - x**2)", "x = ±1", "arccos(where(abs(x) < 1, x, 0))"),
    ew.arctanh: ("1 / (1 - x**2)", "x = ±1", "arctanh(where(abs(x) < 1, x, 0))"),
    ew.arccosh: ("1 / sqrt(x**2 - 1)", "x = 1", "arccosh(where(x > 1, x, 2))"),
    ew.hypot: ("x / hypot(x, y)", "x = y = 0", "hypot of where(r > 0, ...) with a safe point"),
    ew.power_p: ("y x**(y - 1)", "x = 0 with y < 1", "where(x > 0, x, 1) ** y"),
    ew.integer_pow: ("n x**(n - 1)", "x = 0 with n < 1", "where(x != 0, x, 1) ** n"),
}
_NORM_HINT = (" A Euclidean norm or distance at 0 (sqrt(sum(x**2))) is the usual case: use "
              "chainrule.numpy.linalg.norm, whose gradient at 0 is 0, or sqrt(sum(x**2) + eps).")


def _forward_cause(prim, xs, params, out, at, shape):
    """``(cause, text)`` for a non-finite output of ``prim`` with finite inputs ``xs`` (the
    arguments' values at the first offending index ``at``)."""
    o = _at(out, at, shape) if np.ndim(out) else (out.item() if hasattr(out, "item") else out)
    x = xs[0] if xs else None
    y = xs[1] if len(xs) > 1 else None
    dt = np.result_type(out) if hasattr(out, "dtype") else np.dtype(float)
    big = f"{np.finfo(dt).max:.4g}" if dt.kind == "f" else "its maximum"
    masked = (" If the result is discarded by where() or a mask, its NaN still reaches the "
              "gradient (0 * nan = nan): mask the input instead, e.g. ")
    if prim in _LOGS and x is not None:
        z = _LOGS[prim]
        if x == z:
            return "log-of-zero", (f"{prim.name}({_num(z)}) = -inf: {prim.name} is -inf at {_num(z)} "
                                   f"and undefined below it. Clip the argument away from {_num(z)} "
                                   f"(e.g. {prim.name}(x + eps)) or use a stable form (log_softmax, "
                                   "logsumexp, xlogy).")
        if x < z:
            return "log-of-negative", (f"{prim.name} of {_num(x)} is nan ({prim.name} is defined for "
                                       f"x > {_num(z)})." + masked + _SINGULAR[prim][2] + ".")
    if prim is ew.sqrt and x is not None and x < 0:
        return "sqrt-of-negative", (f"sqrt of a negative number ({_num(x)}) is nan." + masked
                                    + "sqrt(where(x > 0, x, 1)).")
    if prim in (ew.divide, ew.reciprocal, ew.integer_pow, ew.power_p):
        num, den = (1.0, x) if prim is ew.reciprocal else (x, y)
        if prim is ew.integer_pow:
            n = params.get("n")
            if x == 0 and n is not None and n < 0:
                return "division-by-zero", (f"0 ** {n} divides by zero (= inf).")
        elif prim is ew.power_p:
            if x == 0 and y is not None and y < 0:
                return "division-by-zero", f"0 ** {_num(y)} divides by zero (= inf)."
            if x is not None and y is not None and x < 0 and y != int(y):
                return "domain", (f"a negative base to a fractional power ({_num(x)} ** {_num(y)}) "
                                  "is nan.")
        elif den == 0 and num == 0:
            return "0/0", ("0 / 0 is nan: the numerator and the denominator are both 0 here. "
                           "Guard the denominator (x / where(y != 0, y, 1)) or add an epsilon.")
        elif den == 0:
            return "division-by-zero", (f"division by zero: {_num(num)} / 0 = {_num(o)}. Guard the "
                                        "denominator (where(y != 0, y, 1)) or add an epsilon.")
        elif num is not None and den is not None and math.isinf(num) and math.isinf(den):
            return "inf/inf", "inf / inf is nan: both operands are already infinite (an overflow upstream)."
    if prim in _EXPS and (o is None or math.isinf(o)):
        lim = math.log(np.finfo(dt).max) if dt.kind == "f" else None
        return "overflow-exp", (f"overflow in {_EXPS[prim]}: {_EXPS[prim]}({_num(x)}) is larger than "
                                f"the largest {dt} ({big}; exp overflows for x > "
                                f"{_num(lim)}). Shift by the maximum first: log(sum(exp(x))) is "
                                "m + log(sum(exp(x - m))) with m = max(x) "
                                "(chainrule.scipy.special.logsumexp), and softmax is exp(x - m) / "
                                "sum(exp(x - m)).")
    if prim is ew.multiply and x is not None and y is not None and (
            (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x))):
        return "0*inf", "0 * inf is nan: one factor is 0 and the other already infinite."
    if prim in (ew.add, ew.subtract) and x is not None and y is not None and math.isinf(x) and math.isinf(y):
        return "inf-inf", ("inf - inf is nan: both operands are already infinite (an overflow "
                           "upstream, e.g. exp of a large number). Compute the difference before it "
                           "overflows (logsumexp, log_softmax).")
    if prim in _DOMAINS and o is not None and o != o:
        return "domain", (f"{prim.name} of {_num(x)} is nan: its domain is {_DOMAINS[prim]}." + masked
                          + _SINGULAR.get(prim, ("", "", f"{prim.name}(where(inside, x, safe))"))[2] + ".")
    if o is not None and math.isinf(o):
        return "overflow", (f"overflow: the result of {prim.name} is larger than the largest {dt} "
                            f"({big}). Rescale the computation (work in logarithms, normalise "
                            "inputs) or use float64.")
    return "domain", (f"{prim.name} is undefined at these finite arguments (nan): an argument is "
                      "outside its domain.")


def _rule_cause(mode, kind, prim, argnum, g, ans, args, params, c, idx, rec):
    """``(cause, text)`` for a rule whose contribution is non-finite though its inputs are
    finite: the local derivative (the rule applied to a unit cotangent or tangent) tells an
    infinite derivative (times 0: the masked-branch trap) from an overflowing product."""
    gp = _plain(g)
    at = idx[0] if idx else ()
    shape = np.shape(c)
    g_at = _at(gp, at, shape)
    local = _local_derivative(kind, prim, argnum, gp, ans, args, params)
    d_at = _at(local, at, shape) if local is not None else None
    xs = [_at(_plain(a), at, shape) for a in args]
    sing = _SINGULAR.get(prim)
    point = [f"argument {i} = {_num(v)}" for i, v in enumerate(xs) if v is not None]
    a_at = _at(_plain(ans), at, shape) if not isinstance(ans, (Shaped, tuple)) else None
    point = ", ".join(point + ([f"its output = {_num(a_at)}"] if a_at is not None else []))
    gname = "cotangent" if kind == "vjp" else "tangent"
    if sing is not None:
        deriv = f"the derivative of {prim.name}, {sing[0]}, is infinite at {sing[1]}"
    else:
        deriv = f"the derivative of {prim.name} for argument {argnum} is not finite here"
    d_finite = d_at is not None and math.isfinite(d_at)
    if d_finite and g_at is not None and math.isfinite(g_at):
        return "overflow", (f"overflow in the chain rule: the {gname} ({_num(g_at)}) times the local "
                            f"derivative ({_num(d_at)}) exceeds the largest float. Rescale the loss "
                            "or its inputs.")
    if g_at is not None and not math.isfinite(g_at):  # an infinity let through (infs=False)
        return ("0*inf" if d_at == 0 else "inf-inf"), (
            f"the {gname} is {_num(g_at)} here (an infinity made later in the program, which "
            f"debug_nans(infs=False) lets through) and the local derivative of {prim.name} is "
            f"{'unknown' if d_at is None else _num(d_at)} ({point}): their product is nan. "
            "Find where the infinity is born with debug_nans() (infinities checked).")
    upstream = [v for v in xs + [a_at] if v is not None and not math.isfinite(v)]
    if g_at == 0:
        where = None
        if rec is not None and kind == "vjp":
            m = mode.masked.get(rec.out[0])
            if m is not None and (m[0] == id(g) or m[0] == id(gp)):
                where = m[1]
        fix = sing[2] if sing else f"{prim.name}(where(mask, x, safe_value))"
        if where is not None or kind == "vjp" and not upstream:
            by = f"`where`{_where_line(where)} did not pick this branch here" if where is not None \
                else "this value does not reach the output here (a where() or a mask dropped it)"
            return "masked-branch", (
                f"the masked-branch trap: {by}, so its {gname} is 0, but {deriv} ({point}), and "
                f"0 * inf = nan. The forward value was finite and discarded; its derivative still "
                f"enters the product. Compute the branch on a safe input (x: the argument of "
                f"{prim.name}): {fix}.")
        if upstream:
            return "0*inf", (f"0 * inf: the {gname} is 0 here, and {prim.name}'s values are "
                             f"already infinite ({point}: an overflow earlier, which "
                             "debug_nans(infs=False) lets through), so its derivative is too.")
        return "0*inf", f"0 * inf: the {gname} is 0 here but {deriv} ({point})."
    hint = _NORM_HINT if prim is ew.sqrt else ""
    if kind == "jvp" and sing is not None:  # forward mode's side of the masked-branch trap
        hint += (" If a where() discards this value, forward mode drops its infinite tangent, but "
                 f"reverse mode makes 0 * inf = nan of it: compute on a safe input, {sing[2]}.")
    return "infinite-derivative", (f"{deriv} ({point}): {prim.name} is not differentiable "
                                   f"there, and its {kind.upper()} rule gives {_num(_at(c, at, shape))}."
                                   + hint)


def _local_derivative(kind, prim, argnum, g, ans, args, params):
    """The rule's contribution for a cotangent/tangent of ones (plain values), or None.

    A lean tape's stand-ins (:class:`Shaped`) are passed as they are: a rule reads only
    what its primitive saves."""
    try:
        if g is None or isinstance(ans, tuple):
            return None
        ones = np.ones_like(np.asarray(g, dtype=float))
        vals = [a if isinstance(a, Shaped) else _plain(a) for a in args]
        a = ans if isinstance(ans, Shaped) else _plain(ans)
        with np.errstate(all="ignore"):
            fn = prim.vjp if kind == "vjp" else prim.jvp
            return _plain(fn(argnum, ones, a, vals, params))
    except Exception:  # noqa: BLE001 - only a better message is at stake; the error is raised anyway
        return None


# ----------------------------------------------------------------------------- the glass box
def nonfinite_marks(comp) -> dict:
    """Where a traced computation's NaNs and infinities were born, and where they only passed.

    ``comp`` is a glass-box :class:`~chainrule.viz.Computation` (read through its nodes'
    ``value``, ``stats``, ``inputs``, ``grad`` and ``passed_down``). Returns node id ->
    ``{"forward": state, "backward": state}`` with ``state`` ``"born"`` (finite inputs,
    non-finite result: an input that holds one counts as born, it entered there) or
    ``"passed"``; a phase without a non-finite value is absent, and so is a node without any.
    In the backward phase a node is born when what it passes down is non-finite while the
    gradient arriving at it and its forward values are finite (the masked-branch trap: 0
    arrives at sqrt(0)).
    """
    nodes = comp.nodes

    def bad(x, stats=None) -> bool:
        if x is None:
            return bool(stats and stats.get("nonfinite"))
        x = _plain(x)
        return x is not None and _bad(x if not isinstance(x, (list, tuple)) else tuple(x), True)

    def arg(a):
        return nodes[a.node].value if a.node is not None else a.value

    marks = {}
    for n in nodes:
        m = {}
        value_bad = bad(n.value, n.stats)
        inputs_bad = any(bad(arg(a), nodes[a.node].stats if a.node is not None else None)
                         for a in n.inputs)
        if value_bad:
            m["forward"] = "passed" if inputs_bad else "born"
        sent = any(c is not None and bad(c) for c in n.passed_down)
        upstream_bad = n.grad is not None and bad(n.grad)
        if sent or upstream_bad:
            born = sent and not upstream_bad and not value_bad and not inputs_bad
            m["backward"] = "born" if born else "passed"
        if m:
            marks[n.id] = m
    return marks


# ----------------------------------------------------------------------------- jit
def check_jit_call(jitted, f, statics, args, kwargs):
    """A ``jit`` call under :func:`debug_nans` (called by ``jit`` itself).

    The staged program runs as usual, unchecked (it cannot name a primitive); if a result
    holds a non-finite value the call is re-run eagerly, op by op, with every float input
    watched (as JAX does), so the error names the primitive and the line.
    """
    mode = _ACTIVE.get()
    token = _ACTIVE.set(None)
    try:
        out = jitted(*args, **kwargs)
    finally:
        _ACTIVE.reset(token)
    leaves = [_plain(v) for v in tree_leaves(out)]
    bad = [i for i, v in enumerate(leaves) if v is not None and _bad(v, mode.infs)]
    if not bad:
        return out
    name = getattr(f, "__name__", repr(f))
    token = _UNDER_JIT.set(name)
    try:
        watched, kw = _watch(args, kwargs, statics)
        f(*watched, **kw)
    finally:
        _UNDER_JIT.reset(token)
    v = leaves[bad[0]]
    mask = _mask(v, mode.infs)
    raise NonFiniteError(
        f"{_kind_of(v, mask)} in result {bad[0]} of jit({name})\n  jit({name}) produced a "
        "non-finite result; debug_nans re-ran the call eagerly, op by op, and no operation "
        "created it: it came from an input or a closed-over array, passed through unchanged, "
        "or was computed by untraced NumPy code",
        primitive=None, phase="output", argnum=bad[0], kind=_kind_of(v, mask), cause="input",
        indices=_first(mask), under_jit=name)


def _watch(args, kwargs, statics):
    """Every float argument (not a static one) boxed on a fresh trace, so each primitive that
    reads one reaches the checks."""
    trace = ReverseTrace(keep_values=False)
    fixed = {i % len(args) for i in statics} if args else set()

    def box(x):
        leaves, tdef = tree_flatten(x)
        return tree_unflatten(tdef, [trace.new_input(v) if _is_float(v) else v for v in leaves])

    return ([a if i in fixed else box(a) for i, a in enumerate(args)],
            {k: box(v) for k, v in kwargs.items()})


def _is_float(v) -> bool:
    return type(v) is float or isinstance(v, (np.ndarray, np.floating)) and v.dtype.kind == "f"


# ----------------------------------------------------------------------------- environment
if _ENV_ON:
    _install()  # for the life of the process
