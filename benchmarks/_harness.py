"""Timing, peer discovery, agreement checks and the tables.

A workload is a :class:`Workload`: a name, sizes (``"tiny"`` for the tests, ``"full"``
for the benchmark), and ``cases(**params) -> list[Case]``, one case per tool. Every
case returns its numbers as a list of arrays (value first, then derivatives), so the
harness checks that all tools agree before it times any of them.

Timing is round-robin: each round runs every remaining case, so a change in machine
load (a shared machine) hits every tool alike; a case leaves the rotation once it has
``min_repeats`` timed runs and ``min_time`` seconds. The table shows medians. In each
round a case runs twice back to back and only the second run is timed: the first puts
the memory the case uses back in place after the other tools ran (on a virtual machine,
touching memory another library just freed can cost more than the arithmetic; a program
that calls one library in a loop never pays that).
The garbage collector stays on, as in user code (its cost is part of a library's
per-operation overhead).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: tool name -> module that must import for the tool to run
PEERS = {
    "chainrule": "chainrule",
    "numpy": "numpy",
    "micrograd": "micrograd.engine",
    "torch": "torch",
    "autograd": "autograd",
    "mygrad": "mygrad",
    "jax": "jax",
}

_available: dict[str, bool] = {}


def available(tool: str) -> bool:
    """Whether ``tool`` imports here (cached; a missing peer is skipped, never an error)."""
    if tool not in _available:
        try:
            importlib.import_module(PEERS[tool])
            _available[tool] = True
        except Exception:  # ImportError, or a broken install
            _available[tool] = False
    return _available[tool]


class Skip(Exception):
    """A case (or a whole workload) cannot run here: a missing peer or a missing feature."""


@dataclass
class Case:
    """One tool's implementation of a workload.

    ``run()`` does the measured work and returns the numbers (a list of arrays).
    ``compare``: ``True`` checks all of them against the reference, an int ``n`` only
    the first ``n`` (a forward-only baseline returns just the value).
    """

    tool: str
    run: Callable[[], list]
    label: str | None = None  # row label; defaults to the tool name
    compare: bool | int = True
    note: str = ""
    measured: dict = field(default_factory=dict)  # e.g. "peak" bytes, for metric="peak"

    @property
    def name(self) -> str:
        return self.label or self.tool


@dataclass
class Workload:
    name: str
    title: str  # may use the size parameters: "GMM d={d}"
    sizes: dict  # "tiny" / "full" -> parameters (a dict, or a list of dicts)
    cases: Callable[..., list]
    rtol: float = 1e-8  # agreement tolerance (relative, per array)
    targets: tuple = ()  # (description, numerator row, denominator row, limit)
    metric: str = "time"  # "time" (median seconds) or "peak" (bytes, set by the case)
    per: str | None = None  # a size parameter to divide the time by ("n_ops": time per op)
    requires: Callable[[], str | None] | None = None  # a reason to skip, or None
    doc: str = ""

    def variants(self, size: str) -> list[dict]:
        params = self.sizes[size]
        return list(params) if isinstance(params, list) else [params]


@dataclass
class Row:
    name: str
    value: float | None = None  # median seconds, or peak bytes
    repeats: int = 0
    error: float | None = None  # relative error against chainrule
    note: str = ""
    samples: list = field(default_factory=list)


@dataclass
class Result:
    workload: Workload
    params: dict
    rows: list
    skipped: str | None = None
    size: str = "full"  # targets are judged at "full" only: toy sizes measure per-call overhead

    @property
    def title(self) -> str:
        return self.workload.title.format(**self.params)

    def value(self, name):
        return next((r.value for r in self.rows if r.name == name), None)

    def targets(self) -> list:
        """``(description, ratio or None, limit, met or None)`` for each target (none at toy sizes)."""
        if self.size != "full":
            return []
        out = []
        for desc, num, den, limit in self.workload.targets:
            a, b = self.value(num), self.value(den)
            ratio = a / b if a is not None and b else None
            out.append((f"{desc} ({num} / {den})", ratio, limit,
                        None if ratio is None else ratio <= limit))
        return out


def rel_error(a: list, b: list) -> float:
    """Largest relative error (norm of the difference over the larger norm) across the arrays."""
    if len(a) != len(b):
        return float("inf")
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape:
            return float("inf")
        diff = float(np.linalg.norm(x - y))
        scale = max(float(np.linalg.norm(x)), float(np.linalg.norm(y)), 1e-300)
        worst = max(worst, 0.0 if diff == 0 else diff / scale)
    return worst


class DisagreementError(AssertionError):
    """Two tools computed different numbers for the same workload."""


def check_agreement(results: dict, rtol: float, reference: str = "chainrule") -> dict:
    """Compare every tool's numbers to ``reference``'s; raise naming the first that disagrees."""
    ref = results[reference][1]
    errors = {}
    for name, (case, out) in results.items():
        if name == reference or not case.compare:
            continue
        n = len(ref) if case.compare is True else case.compare
        err = rel_error(out[:n], ref[:n])
        errors[name] = err
        if not err <= rtol:
            raise DisagreementError(f"{name} disagrees with {reference}: relative error {err:.3e} "
                                    f"> {rtol:.1e}")
    return errors


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def time_round_robin(cases: list, min_time: float = 1.0, min_repeats: int = 5,
                     max_repeats: int = 100, clock: str = "wall") -> dict:
    """Samples of each case's run time, taken in rounds (see the module docstring)."""
    now = CLOCKS[clock]
    samples = {c.name: [] for c in cases}
    spent = {c.name: 0.0 for c in cases}
    active = list(cases)
    gc.collect()  # once: a full collection costs ~0.1 s with torch and jax loaded
    while active:
        for case in list(active):
            case.run()  # untimed: see the module docstring
            t0 = now()
            case.run()
            dt = now() - t0
            samples[case.name].append(dt)
            spent[case.name] += dt
            n = len(samples[case.name])
            if n >= max_repeats or (n >= min_repeats and spent[case.name] >= min_time):
                active.remove(case)
    return samples


def run_workload(workload: Workload, params: dict, tools=None, time_it: bool = True,
                 min_time: float = 1.0, min_repeats: int = 5, clock: str = "wall",
                 size: str = "full") -> Result:
    """Build, check and (optionally) measure every case of one workload at ``params``.

    ``size`` names the variant ``params`` came from; targets are judged only at ``"full"``."""
    if workload.requires is not None:
        reason = workload.requires()
        if reason:
            return Result(workload, params, [], skipped=reason, size=size)
    cases = [c for c in workload.cases(**params)
             if not tools or c.tool in tools or c.tool == "chainrule"]
    rows, results = [], {}
    for case in cases:
        try:
            results[case.name] = (case, case.run())
        except Skip as e:
            rows.append(Row(case.name, note=f"skipped: {e}"))
    if "chainrule" not in results:
        raise RuntimeError(f"{workload.name}: chainrule did not run")
    errors = check_agreement(results, workload.rtol)
    ran = [case for case, _ in results.values()]
    if workload.metric == "peak":
        samples = {c.name: [c.measured["peak"]] for c in ran}
    elif time_it:
        samples = time_round_robin(ran, min_time, min_repeats, clock=clock)
    else:
        samples = {c.name: [] for c in ran}
    for case in ran:
        s = samples[case.name]
        rows.append(Row(case.name, statistics.median(s) if s else None, len(s),
                        errors.get(case.name), case.note, s))
    order = {c.name: i for i, c in enumerate(cases)}
    rows.sort(key=lambda r: order[r.name])
    return Result(workload, params, rows, size=size)


JIT_NOTE = "chainrule.jit, staged before timing"


def staged(jitted, *args):
    """A ``chainrule.jit`` function in its steady state: the first call stages the program,
    ``.lower(*args).compile()`` compiles it (a new program is otherwise interpreted until
    that has cost as much as staging it), the second call compiles its fused loops (JAX's
    jit is warmed the same way, by the first run)."""
    jitted(*args)
    program = jitted.lower(*args)
    if program is not None:  # None: the signature runs eagerly
        program.compile()
    jitted(*args)
    return jitted


def chainrule_rows(make_runner) -> list:
    """The eager ``chainrule`` row and its ``chainrule (jit)`` twin: ``make_runner(jit=...)``."""
    return [Case("chainrule", lazy(make_runner)),
            Case("chainrule", lazy(lambda: make_runner(jit=True)), label="chainrule (jit)",
                 note=JIT_NOTE)]


def lazy(factory, tool=None):
    """A runner built on first call, so a missing peer shows up at run time (as a Skip)."""
    state = {}

    def run():
        if "fn" not in state:
            if tool is not None and not available(tool):
                raise Skip(f"{tool} is not installed")
            state["fn"] = factory()
        return state["fn"]()
    return run


# ---------------------------------------------------------------- the tools' gradients
def as_arrays(out) -> list:
    """A tool's result as the harness's flat list of NumPy arrays: nested tuples and lists
    (``(value, [gradients])``) flattened in order, tensors and JAX arrays converted."""
    if isinstance(out, (list, tuple)):
        return [a for o in out for a in as_arrays(o)]
    return [np.asarray(out)]


def np_logsumexp(a, axis):
    """``log(sum(exp(a), axis))`` in NumPy, shifted by the maximum (NumPy has no logsumexp)."""
    mx = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - mx), axis=axis)) + np.squeeze(mx, axis)


def mygrad_logsumexp(a, axis):
    """The same in mygrad (which has none); the shift is a constant, read from ``a.data``."""
    import mygrad as mg

    mx = np.max(a.data, axis=axis, keepdims=True)
    return mg.log(mg.sum(mg.exp(a - mx), axis=axis)) + np.squeeze(mx, axis)


def namespace(tool: str):
    """``(xp, logsumexp)``: the tool's NumPy-like namespace and its stable ``logsumexp(a, axis)``,
    what a workload's function written once for every tool is called with."""
    if tool == "chainrule":
        import chainrule.numpy as cnp
        from chainrule.scipy.special import logsumexp

        return cnp, logsumexp
    if tool == "numpy":
        return np, np_logsumexp
    if tool == "torch":
        import torch

        return torch, torch.logsumexp
    if tool == "jax":
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp

        return jnp, logsumexp
    if tool == "autograd":
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp

        return anp, logsumexp
    if tool == "mygrad":
        import mygrad as mg

        return mg, mygrad_logsumexp
    raise ValueError(f"no namespace for {tool!r}")


def gradient_runner(tool: str, loss, params: list, consts=(), jit: bool = False):
    """A runner of one value and gradient of ``loss(xp, logsumexp, params, *consts)`` with
    respect to the list of arrays ``params``, in ``tool``: ``[value, *gradients]``.

    The constants (arrays) are converted once to the tool's arrays and closed over; the
    parameters are the tool's leaves (mygrad's are rebuilt each run, as its graph is
    cleared by ``backward``). ``jit``: ``chainrule.jit`` staged before timing, or
    ``jax.jit``. JAX computes in float64 (:func:`jax_x64`).
    """
    xp, logsumexp = namespace(tool)
    if tool in ("chainrule", "autograd"):  # the same names: value_and_grad of a list
        transforms = importlib.import_module(tool)
        vg = transforms.value_and_grad(lambda ps: loss(xp, logsumexp, ps, *consts))
        params = list(params)
        if jit:
            vg = staged(transforms.jit(vg), params)
        return lambda: as_arrays(vg(params))
    if tool == "torch":
        ps = [xp.tensor(np.asarray(p), requires_grad=True) for p in params]
        cs = [xp.as_tensor(c) if isinstance(c, np.ndarray) else c for c in consts]

        def run():
            v = loss(xp, logsumexp, ps, *cs)
            return as_arrays([v.detach(), xp.autograd.grad(v, ps)])
        return run
    if tool == "jax":
        import jax

        with jax_x64():
            ps = [xp.asarray(p) for p in params]
            cs = [xp.asarray(c) if isinstance(c, np.ndarray) else c for c in consts]
            vg = jax.value_and_grad(lambda ps: loss(xp, logsumexp, ps, *cs))
            vg = jax.jit(vg) if jit else vg

        def run():
            with jax_x64():
                return as_arrays(vg(ps))
        return run
    if tool == "mygrad":
        def run():
            ps = [xp.tensor(p) for p in params]
            v = loss(xp, logsumexp, ps, *consts)
            v.backward()
            return as_arrays([v.data, [p.grad for p in ps]])
        return run
    raise ValueError(f"no gradient runner for {tool!r}")


def forward_case(tool: str, loss, params: list, consts=(), label=None, note="") -> Case:
    """The row of ``loss`` alone (no derivative, untraced) in ``tool``: compared by value."""
    def factory():
        xp, logsumexp = namespace(tool)
        return lambda: as_arrays(loss(xp, logsumexp, params, *consts))
    return Case(tool, lazy(factory), label=label, compare=1, note=note)


def gradient_cases(loss, params: list, consts=(), losses=None) -> list:
    """The rows of a value-and-gradient workload: chainrule (eager and jit), PyTorch eager,
    JAX (jit and eager), autograd and mygrad, each running :func:`gradient_runner`.
    ``losses``: tool -> the function in that tool's own formulation, where it differs."""
    losses = losses or {}

    def case(tool, jit=False, **kw):
        return Case(tool, lazy(lambda: gradient_runner(tool, losses.get(tool, loss), params,
                                                       consts, jit), tool), **kw)
    return [case("chainrule"),
            case("chainrule", True, label="chainrule (jit)", note=JIT_NOTE),
            case("torch", note="eager, float64"),
            case("jax", True, label="jax (jit)", note="compiled"),
            case("jax", label="jax (eager)"),
            case("autograd"),
            case("mygrad")]


def jax_runner(build, args, jit: bool = True):
    """A runner of ``build(jax, jnp)``, a function of ``args`` (arrays, or lists of arrays;
    converted once to JAX's) whose result is returned as arrays; built and run in float64,
    compiled with ``jax.jit`` when ``jit``."""
    import jax
    import jax.numpy as jnp

    with jax_x64():
        fn = build(jax, jnp)
        fn = jax.jit(fn) if jit else fn
        jargs = [jax.tree_util.tree_map(jnp.asarray, a) for a in args]

    def run():
        with jax_x64():
            return as_arrays(fn(*jargs))
    return run


def jax_cases(build, args, what: str = "", notes=None) -> list:
    """JAX's rows, compiled and eager, of :func:`jax_runner`; ``notes`` (compiled, eager)
    default to ``jit(what)`` and ``what``."""
    jit_note, eager_note = notes or (f"jit({what})", what)
    return [Case("jax", lazy(lambda: jax_runner(build, args, True), "jax"), label="jax (jit)",
                 note=jit_note),
            Case("jax", lazy(lambda: jax_runner(build, args, False), "jax"), label="jax (eager)",
                 note=eager_note)]


@contextlib.contextmanager
def jax_x64():
    """float64 for JAX inside the block only, so every tool computes in double precision."""
    import jax

    if hasattr(jax, "enable_x64"):
        ctx = jax.enable_x64(True)
    else:  # older JAX
        from jax.experimental import enable_x64 as ctx_fn

        ctx = ctx_fn()
    with ctx:
        yield


# ---------------------------------------------------------------- reporting
def _fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def format_value(result: Result, row: Row) -> str:
    if row.value is None:
        return "-"
    if result.workload.metric == "peak":
        mib = row.value / 2**20
        return f"{mib:.1f} MiB" if mib >= 1 else f"{row.value / 2**10:.0f} KiB"
    return _fmt_time(row.value)


def _targets(result: Result) -> list:
    """``(description, limit, ratio shown, "met" / "NOT met" / "n/a")`` for each target."""
    return [(desc, limit, "-" if ratio is None else f"{ratio:.2f}",
             "n/a" if met is None else ("met" if met else "NOT met"))
            for desc, ratio, limit, met in result.targets()]


def table(result: Result, markdown: bool = False) -> str:
    """The result as a text (or Markdown) table, then its targets."""
    w = result.workload
    ref = result.value("chainrule")
    head = ["tool", "peak memory" if w.metric == "peak" else "median"]
    if w.per:
        head.append(f"per {w.per.removeprefix('n_').rstrip('s')}")
    head += ["vs chainrule", "max rel. error", "runs", "note"]
    body = []
    for r in result.rows:
        cells = [r.name, format_value(result, r)]
        if w.per:
            cells.append(_fmt_time(r.value / result.params[w.per]) if r.value else "-")
        cells.append(f"{r.value / ref:.2f}x" if r.value and ref else "-")
        cells.append("-" if r.error is None else f"{r.error:.1e}")
        cells.append(str(r.repeats) if r.repeats else "-")
        cells.append(r.note)
        body.append(cells)
    lines = []
    if markdown:
        lines.append(f"### {result.title}\n")
        if result.skipped:
            return "\n".join(lines + [f"Skipped: {result.skipped}\n"])
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" for _ in head) + "|")
        lines += ["| " + " | ".join(c) + " |" for c in body]
        lines.append("")
        for desc, limit, shown, status in _targets(result):
            lines.append(f"- target: {desc} <= {limit:g}: **{shown}**, {status}")
        lines.append("")
        return "\n".join(lines)
    lines.append(result.title)
    if result.skipped:
        return "\n".join(lines + [f"  skipped: {result.skipped}", ""])
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    for cells in [head, *body]:
        lines.append("  " + "  ".join(c.ljust(n) for c, n in zip(cells, widths, strict=True)).rstrip())
    for desc, limit, shown, status in _targets(result):
        lines.append(f"  target: {desc} <= {limit:g}: {shown}  [{status}]")
    lines.append("")
    return "\n".join(lines)
