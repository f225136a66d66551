"""hypothesis builds random compositions of primitives (with broadcasting) and checks them
against central differences in both modes, and batched passes against row-by-row ones."""

import numpy as np
from helpers import check_batched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import check_grads

# ops safe on any real input (domain-restricted ops get their input squashed first)
UNARY = [
    ("tanh", cnp.tanh), ("sin", cnp.sin), ("exp_small", lambda x: cnp.exp(0.3 * x)),
    ("log_pos", lambda x: cnp.log(1.0 + x * x)), ("sqrt_pos", lambda x: cnp.sqrt(1.0 + x * x)),
    ("square", cnp.square), ("neg", cnp.negative), ("arctan", cnp.arctan),
    ("sum_last", lambda x: cnp.sum(x, axis=-1, keepdims=True)),
    ("mean_all", lambda x: cnp.mean(x)),
    ("transpose", lambda x: cnp.transpose(x)),
    ("flip_index", lambda x: x[..., ::-1] if getattr(x, "shape", ()) else x),
]
BINARY = [
    ("add", cnp.add), ("sub", cnp.subtract), ("mul", cnp.multiply),
    ("div_safe", lambda a, b: a / (1.5 + cnp.tanh(b))),
    ("max", cnp.maximum), ("hypot_safe", lambda a, b: cnp.hypot(a, 1.0 + b * b)),
    ("where", lambda a, b: cnp.where(a > 0.1, a, b)),
]

shapes = st.sampled_from([(), (3,), (2, 3), (1, 3), (2, 1)])


@st.composite
def programs(draw):
    n_in = draw(st.integers(1, 3))
    in_shapes = [draw(shapes) for _ in range(n_in)]
    steps = []
    n_vals = n_in
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n_vals - 1))))
        else:
            steps.append(("b", draw(st.integers(0, len(BINARY) - 1)),
                          draw(st.integers(0, n_vals - 1)), draw(st.integers(0, n_vals - 1))))
        n_vals += 1
    seed = draw(st.integers(0, 2 ** 16))
    return in_shapes, steps, seed


def build(steps):
    def f(*xs):
        vals = list(xs)
        for step in steps:
            if step[0] == "u":
                vals.append(UNARY[step[1]][1](vals[step[2]]))
            else:
                vals.append(BINARY[step[1]][1](vals[step[2]], vals[step[3]]))
        return vals[-1] * 1.0 + 0.0 * sum(cnp.sum(v) for v in vals[: len(xs)])
    return f


def _instance(program):
    """``(f, inputs, steps, rng)`` for a drawn program, or None when its shapes do not broadcast."""
    in_shapes, steps, seed = program
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, s) + 0.05 for s in in_shapes]
    f = build(steps)
    try:
        f(*xs)
    except ValueError:  # shapes that do not broadcast: not a program
        return None
    return f, xs, steps, rng


def on_random_programs(max_examples):
    """A hypothesis test over drawn programs whose shapes broadcast: ``test(f, xs, steps, rng)``."""
    def wrap(test):
        def run(program):
            made = _instance(program)
            if made is not None:  # shapes that do not broadcast make no program
                test(*made)
        run.__name__, run.__qualname__, run.__doc__ = test.__name__, test.__qualname__, test.__doc__
        return settings(max_examples=max_examples, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])(given(programs())(run))
    return wrap


def _describe(steps):
    return " -> ".join(UNARY[s[1]][0] if s[0] == "u" else BINARY[s[1]][0] for s in steps)


@on_random_programs(60)
def test_random_programs_match_central_differences(f, xs, steps, rng):
    # keep away from the kinks of maximum/where, where central differences are meaningless
    check_grads(f, order=2, rtol=1e-4, atol=1e-5)(*xs) if _smooth(steps) else check_grads(
        f, order=1, rtol=1e-4, atol=1e-5)(*xs)
    check_batched(f, *xs)


def _smooth(steps):
    return not any(s[0] == "b" and BINARY[s[1]][0] in ("max", "where") for s in steps)


@on_random_programs(40)
def test_random_programs_hessian_and_hvp_agree_with_nested_forward_over_reverse(f, xs, steps, rng):
    # hessian/hvp record f and its backward pass on one tape and sweep tangents along it;
    # jacfwd(jacrev(f)) nests a forward trace around a reverse one: two independent routes
    in_shapes = [np.shape(x) for x in xs]
    argnums = tuple(range(len(xs)))
    scalar = lambda *a: cnp.sum(f(*a))  # noqa: E731
    H = cr.hessian(scalar, argnums=argnums)(*xs)
    H_nested = cr.jacfwd(cr.jacrev(scalar, argnums=argnums), argnums=argnums)(*xs)
    for i in argnums:
        for j in argnums:
            np.testing.assert_allclose(H[i][j], H_nested[i][j], rtol=1e-10, atol=1e-12)
    v = [rng.standard_normal(s) for s in in_shapes]
    hv = cr.hvp(lambda t: scalar(*t), tuple(xs), tuple(v))
    for i in argnums:
        want = sum(np.tensordot(H_nested[i][j], v[j], axes=np.ndim(v[j])) for j in argnums)
        np.testing.assert_allclose(hv[i], want, rtol=1e-10, atol=1e-12)
