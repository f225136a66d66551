"""ADBench / GradBench LSTM: the objective of a stacked LSTM over a character sequence and its
gradient with respect to the main and extra parameters.

Definition and check values: ../shared/benchmarks/lstm.md (kept here in ``objective``'s
docstring). The workload is many small vector operations (gates over vectors of b = 7
entries, ~17,000 primitives per call at L = 4, c = 1,024): per-operation overhead, not
arithmetic, decides the time. Every tool runs the same formulation, a Python loop over the
sequence; JAX's jit runs it as ``lax.scan`` over the time steps (its idiomatic form: unrolling
1,023 steps makes XLA's compilation take minutes).
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, as_arrays, chainrule_rows, forward_case, gradient_runner, lazy

# The check instance of ../shared/benchmarks/lstm.md (float64; GradBench's C++ reference).
CHECK_MAIN = np.array([[0.1 * (i + j) / 3 for j in range(12)] for i in range(2)])
CHECK_EXTRA = np.array([[0.5, -0.25, 0.75], [1.0, 0.5, -0.5], [0.1, 0.2, 0.3]])
CHECK_STATE = np.array([[0.2, -0.1, 0.4], [0.3, 0.3, -0.2]])
CHECK_SEQUENCE = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], dtype=float)
CHECK_OBJECTIVE = 0.8428728849316919
CHECK_GRAD_SUM = -0.19593677554694433  # main_params then extra_params, flattened
CHECK_GRAD_NORM = 0.1484185445285839


def make_data(layers: int, chars: int, bits: int = 7, seed: int = 31337):
    """Parameters and state uniform in [0, 1) from a fixed seed; the sequence is the bits of
    ``chars`` printable ASCII characters (codes 32..126, each zero-padded to ``bits`` bits)."""
    rng = np.random.default_rng(seed)
    main = rng.random((2 * layers, 4 * bits))
    extra = rng.random((3, bits))
    state = rng.random((2 * layers, bits))
    codes = rng.integers(32, 127, size=chars)
    sequence = ((codes[:, None] >> np.arange(bits)[None, :]) & 1).astype(np.float64)
    return main, extra, state, sequence


def sigmoid(xp, x):
    return 1.0 / (1.0 + xp.exp(-x))


def cell(xp, w, u, h, s, x):
    """One LSTM cell: ``g = concat(x, h, x, h) * w + u``, four gates over slices of ``g``."""
    b = x.shape[0]
    g = xp.concatenate([x, h, x, h]) * w + u
    forget = sigmoid(xp, g[0:b])
    ingate = sigmoid(xp, g[b:2 * b])
    outgate = sigmoid(xp, g[2 * b:3 * b])
    change = xp.tanh(g[3 * b:4 * b])
    s = s * forget + ingate * change
    return outgate * xp.tanh(s), s


def objective(xp, main, extra, state, sequence):
    """The ADBench LSTM objective (GradBench's formulation).

        x <- x * extra[0]; per layer l: (h_l, s_l) <- cell(main[2l], main[2l+1], h_l, s_l, x),
        x <- h_l; ypred = x * extra[1] + extra[2]
        ynorm  = ypred - log(sum(exp(ypred)) + 2)
        total  = sum_{t=0}^{c-2} sum(sequence[t+1] * ynorm_t)
        objective = -total / ((c - 1) b)

    ``xp`` is a NumPy-like namespace (chainrule.numpy, numpy, autograd.numpy, torch);
    ``sequence`` is a constant.
    """
    layers = main.shape[0] // 2
    c, b = sequence.shape
    ws = [main[2 * i] for i in range(layers)]
    us = [main[2 * i + 1] for i in range(layers)]
    hs = [state[2 * i] for i in range(layers)]
    ss = [state[2 * i + 1] for i in range(layers)]
    scale_in, scale_out, shift = extra[0], extra[1], extra[2]
    total = 0.0
    inp = sequence[0]
    for t in range(c - 1):
        x = inp * scale_in
        for i in range(layers):
            hs[i], ss[i] = cell(xp, ws[i], us[i], hs[i], ss[i], x)
            x = hs[i]
        ypred = x * scale_out + shift
        ynorm = ypred - xp.log(xp.sum(xp.exp(ypred)) + 2.0)
        inp = sequence[t + 1]
        total = total + xp.sum(inp * ynorm)
    return -total / ((c - 1) * b)


def objective_scan(jnp, lax, main, extra, state, sequence):
    """The same objective with the time loop as ``lax.scan`` (JAX)."""
    layers = main.shape[0] // 2
    c, b = sequence.shape

    def step(carry, io):
        hs, ss = carry
        inp, target = io
        x = inp * extra[0]
        new_h, new_s = [], []
        for i in range(layers):
            h, s = cell(jnp, main[2 * i], main[2 * i + 1], hs[i], ss[i], x)
            new_h.append(h)
            new_s.append(s)
            x = h
        ypred = x * extra[1] + extra[2]
        ynorm = ypred - jnp.log(jnp.sum(jnp.exp(ypred)) + 2.0)
        return (jnp.stack(new_h), jnp.stack(new_s)), jnp.sum(target * ynorm)

    init = (state[0::2], state[1::2])
    _, terms = lax.scan(step, init, (sequence[:-1], sequence[1:]))
    return -jnp.sum(terms) / ((c - 1) * b)


def loss(xp, logsumexp, params, state, sequence):
    """``objective`` in the harness's layout (``params = [main, extra]``, the rest constants)."""
    return objective(xp, *params, state, sequence)


def loss_scan(jnp, logsumexp, params, state, sequence):
    """``objective_scan`` in the harness's layout (JAX)."""
    import jax

    return objective_scan(jnp, jax.lax, *params, state, sequence)


def cases(layers, chars) -> list[Case]:
    main, extra, state, sequence = make_data(layers, chars)
    primals = [main, extra]
    consts = (state, sequence)

    def runner(tool, f=loss, **kw):
        return lazy(lambda: gradient_runner(tool, f, primals, consts, **kw), tool)
    out = chainrule_rows(lambda jit=False: gradient_runner("chainrule", loss, primals, consts, jit))

    def first_call_case():
        import chainrule
        import chainrule.numpy as cnp

        vg = chainrule.value_and_grad(lambda ps: loss(cnp, None, ps, *consts))

        def run():  # a new jitted function each time: its first call stages the program
            return as_arrays(chainrule.jit(vg)(primals))
        return run
    out.append(Case("chainrule", lazy(first_call_case), label="chainrule (jit, 1st call)",
                    note="a new chainrule.jit's first call: staging (vectors of 7 fuse nothing, "
                         "so no loop is compiled)"))
    out.append(forward_case("chainrule", loss, primals, consts, label="chainrule objective",
                            note="objective only, untraced"))
    out.append(forward_case("numpy", loss, primals, consts, label="numpy objective",
                            note="objective only"))
    out.append(Case("torch", runner("torch"), note="eager, float64"))

    def torch_objective_case():
        import torch

        tm, te, ts, tq = (torch.tensor(p) for p in (main, extra, state, sequence))

        def run():
            with torch.no_grad():
                return [objective(torch, tm, te, ts, tq).item()]
        return run
    out.append(Case("torch", lazy(torch_objective_case, "torch"), label="torch objective",
                    compare=1, note="objective only, no_grad"))
    out.append(Case("jax", runner("jax", loss_scan, jit=True), label="jax (jit)",
                    note="compiled; time loop as lax.scan"))
    out.append(Case("autograd", runner("autograd")))
    return out


WORKLOAD = Workload(
    name="lstm",
    title="LSTM objective gradient (ADBench), l={layers} c={chars} b=7",
    sizes={"tiny": {"layers": 2, "chars": 6},
           "full": [{"layers": 2, "chars": 1024}, {"layers": 4, "chars": 1024}]},
    cases=cases,
    rtol=1e-9,
    targets=(("gradient vs chainrule's own objective", "chainrule", "chainrule objective", 5.0),
             ("gradient vs PyTorch eager", "chainrule", "torch", 0.5),
             ("jit gradient vs JAX jit", "chainrule (jit)", "jax (jit)", 1.0),
             ("jit's first call vs the eager gradient", "chainrule (jit, 1st call)", "chainrule",
              3.0)),
    doc=__doc__,
)


def jit_breakdown(layers: int = 2, chars: int = 1024, repeats: int = 3) -> dict:
    """Where a jitted LSTM gradient's time goes, in process CPU time (one process):
    the eager gradient (best of ``repeats + 1``), the first call (staging), the program's
    operations and fused loops, an interpreted call (best of ``repeats``; the first one,
    which builds the interpreter, apart), compiling it, and a compiled call (best of 5)."""
    import time

    import chainrule
    import chainrule.numpy as cnp

    main, extra, state, sequence = make_data(layers, chars)
    vg = chainrule.value_and_grad(lambda m, e: objective(cnp, m, e, state, sequence),
                                  argnums=(0, 1))
    clock = time.process_time

    def cpu(f, *args):
        t0 = clock()
        f(*args)
        return clock() - t0
    eager = [cpu(vg, main, extra) for _ in range(repeats)]
    jitted = chainrule.jit(vg)
    first = cpu(jitted, main, extra)
    eager.append(cpu(vg, main, extra))  # after staging too: a change of load shows
    program = jitted.lower(main, extra)
    ops = len(program.eqns)
    fused_calls = len(program.kernels)  # one loop source per fused call (repeats included)
    interp_first = cpu(jitted, main, extra)
    interp = min(cpu(jitted, main, extra) for _ in range(repeats))
    compile_time = cpu(program.compile)
    compiled_first = cpu(jitted, main, extra)  # Numba compiles (or loads) the loops here
    compiled = min(cpu(jitted, main, extra) for _ in range(5))
    return {"eager": min(eager), "first": first, "ops": ops, "fused calls": fused_calls,
            "kernels": len(set(program.kernels)), "interpreted, 1st": interp_first,
            "interpreted": interp, "compile": compile_time, "compiled, 1st": compiled_first,
            "compiled": compiled}


def print_jit_breakdown(*layers: int) -> None:
    """``jit_breakdown`` as one line per size; the command::

        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -c \\
            "from benchmarks.lstm import print_jit_breakdown; print_jit_breakdown(2)"
    """
    for n_layers in layers or (2,):
        r = jit_breakdown(n_layers)
        n = r["ops"]
        print(f"l={n_layers}: eager gradient {r['eager']:.3f} s; jit first call {r['first']:.3f} s "
              f"({r['first'] / r['eager']:.2f}x eager); {n} operations ({r['fused calls']} fused "
              f"loop calls, {r['kernels']} distinct loops); interpreted {r['interpreted'] * 1e3:.1f}"
              f" ms ({r['interpreted'] / n * 1e6:.2f} us/op; first {r['interpreted, 1st']:.3f} s); "
              f"compile {r['compile']:.2f} s; compiled {r['compiled'] * 1e3:.1f} ms "
              f"({r['compiled'] / n * 1e6:.2f} us/op; first {r['compiled, 1st']:.3f} s)")
