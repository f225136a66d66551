"""Where each microsecond of a recorded operation goes: ``python -m benchmarks.per_op``.

For one operation at a time (on a Python float and on a vector of 7, the LSTM's size), a chain of
``N`` applications is timed at each stage of chainrule's eager reverse mode, and each stage is
printed as time per operation and as a multiple of NumPy's own call:

* ``numpy``: the operation on plain values (the floor);
* ``dispatch``: operator or ``__array_ufunc__`` -> ``bind`` -> the trace, which here hands back
  its input unrecorded (what reaching the trace costs);
* ``record``: the whole forward step on a lean tape (the one ``grad`` uses): unboxing, the
  NumPy call, the complex-result test, the record and the new box;
* ``rule``: the VJP rule(s) of one record, called directly;
* ``backward``: the reverse sweep per record (pop the cotangent, the rules, accumulate);
* ``total``: record + backward, what one operation adds to a gradient.

The numbers are CPU time (``time.process_time``), the best of several runs, so that a loaded
machine shows less noise; compare two versions by running this in each, one after the other.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from chainrule.core.trace import ReverseBox, ReverseTrace

N = 1000  # operations per timed chain


class _DispatchOnly(ReverseTrace):
    """A trace that records nothing: ``process`` hands back its first traced argument."""

    def process(self, prim, args, params):
        for a in args:
            if type(a) is ReverseBox:
                return a
        return args[0]


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        gc.disable()
        try:
            t = time.process_time()
            fn()
            best = min(best, time.process_time() - t)
        finally:
            gc.enable()
    return best


def _cases():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((7, 7)) / 3.0
    v7 = rng.standard_normal(7)
    w7 = rng.uniform(0.5, 1.0, 7)
    return [
        # label, start value, second input (traced) or None, one step v -> v
        ("float: v + 0.5", 1.0, None, lambda v, w: v + 0.5),
        ("float: v * w", 1.0, 0.999, lambda v, w: v * w),
        ("vec7: v + c", v7, None, lambda v, w: v + 0.5),
        ("vec7: v * w", v7, w7, lambda v, w: v * w),
        ("vec7: np.tanh(v)", v7, None, lambda v, w: np.tanh(v)),
        ("vec7: W @ v", v7, None, lambda v, w: W @ v),
        ("vec7: v[::-1]", v7, None, lambda v, w: v[::-1]),
    ]


def _chain(step, v, w):
    for _ in range(N):
        v = step(v, w)
    return v


def _stages(step, v0, w0, repeats: int) -> dict:
    """Seconds per operation at each stage for the chain ``v -> step(v, w)`` from ``v0``."""
    row = {"numpy": _best(lambda: _chain(step, v0, w0), repeats)}

    def boxed(trace):
        v = trace.new_input(v0)
        w = None if w0 is None else trace.new_input(w0)
        return v, w

    def dispatch():
        v, w = boxed(_DispatchOnly())
        _chain(step, v, w)
    row["dispatch"] = _best(dispatch, repeats)

    def record():
        v, w = boxed(ReverseTrace(keep_values=False))
        _chain(step, v, w)
    row["record"] = _best(record, repeats)

    trace = ReverseTrace(keep_values=False)
    v, w = boxed(trace)
    out = _chain(step, v, w)
    seed = np.ones_like(out._value)[()]  # a float64 scalar for a scalar output, as grad's
    wanted = [v._node] + ([] if w is None else [w._node])
    rec = trace.tape[-1]  # one record's rules, called directly
    rules = rec.prim._vjps

    def rule():
        for _ in range(N):
            for argnum, _node in rec.parents:
                rules[argnum](seed, rec.ans, *rec.args, **rec.params)
    row["rule"] = _best(rule, repeats)
    row["backward"] = _best(lambda: trace.backward({out._node: seed}, wanted), repeats)
    row["total"] = row["record"] + row["backward"]
    return {k: t / N for k, t in row.items()}


def measure(repeats: int = 15) -> list[dict]:
    return [{"op": label, **_stages(step, v0, w0, repeats)} for label, v0, w0, step in _cases()]


STAGES = ("numpy", "dispatch", "record", "rule", "backward", "total")


def table(rows) -> str:
    head = "| operation | " + " | ".join(STAGES) + " |"
    lines = [head, "|---|" + "---:|" * len(STAGES)]
    for r in rows:
        cells = [f"{r[s] * 1e6:.2f} us ({r[s] / r['numpy']:.0f}x)" if s != "numpy"
                 else f"{r[s] * 1e6:.2f} us" for s in STAGES]
        lines.append(f"| {r['op']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.per_op", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15, help="runs per stage; the best counts")
    args = p.parse_args(argv)
    print(table(measure(args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
