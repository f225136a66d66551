"""debug_nans: the error names where a NaN/Inf was born (primitive, phase, the user's own line)
and why, for plain NumPy code, the Tensor API, grad of grad and jit; an input is reported as an
input; with the mode off nothing changes."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.debug as debug
from chainrule.cli.main import main
from chainrule.core.tape import Checks
from chainrule.debug import nonfinite_marks
from chainrule.rules import elementwise as ew
from chainrule.viz.browser import launch, why_unavailable
from chainrule.viz.circuit import have_dot
from chainrule.viz.html import page_data

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _born_line(fn) -> int:
    """The line of ``fn`` marked ``# born``: where the test expects the report to point."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, line in enumerate(lines) if line.rstrip().endswith("# born")]
    assert len(hits) == 1, fn
    return hits[0]


# ----------------------------------------------------------------------------- the causes
def log_of_zero(x):
    y = x * 2.0
    return np.sum(np.log(y))  # born


def log_of_negative(x):
    return np.sum(np.log(x - 2.0))  # born


def sqrt_of_negative(x):
    return np.sum(np.sqrt(x - 2.0) * x)  # born


def zero_over_zero(x):
    d = x - 1.0
    return np.sum(d / d)  # born


def divide_by_zero(x):
    return np.sum(x / (x - 1.0))  # born


def exp_overflow(x):  # the log-sum-exp overflow
    return np.log(np.sum(np.exp(x * 1000.0)))  # born


def multiply_overflow(x):
    big = x * 1e200
    return np.sum(big * big)  # born


def arcsin_domain(x):
    return np.sum(np.arcsin(x * 2.0))  # born


def masked_branch(x):  # finite forward, nan backward of the branch where() did not pick
    return np.sum(np.where(x > 1.0, np.sqrt(x - 1.0), 0.0))  # born


def norm_at_zero(x):  # a hand-written norm at 0: sqrt's derivative is infinite
    d = x - 1.0
    return np.sqrt(np.sum(d * d))  # born


def inf_minus_inf(x):  # with infs allowed (infs=False), the first NaN
    e = np.exp(x * 1000.0)
    return np.sum(e - e)  # born


def zero_times_inf(x):
    e = np.exp(x * 1000.0)
    return np.sum(e * (x - x))  # born


def inf_over_inf(x):  # a naive softmax
    e = np.exp(x * 1000.0)
    return np.sum(e / np.sum(e))  # born


X = np.array([1.0, 2.0, 0.5])
ZERO = np.array([1.0, 0.0, 0.5])
ONE = np.array([1.0, 2.0, 1.0])
CASES = [  # (function, point, primitive, phase under reverse mode, cause, infs)
    (log_of_zero, ZERO, ew.log, "forward", "log-of-zero", True),
    (log_of_negative, X, ew.log, "forward", "log-of-negative", True),
    (sqrt_of_negative, X, ew.sqrt, "forward", "sqrt-of-negative", True),
    (zero_over_zero, ONE, ew.divide, "forward", "0/0", True),
    (divide_by_zero, ONE, ew.divide, "forward", "division-by-zero", True),
    (exp_overflow, X, ew.exp, "forward", "overflow-exp", True),
    (multiply_overflow, X, ew.multiply, "forward", "overflow", True),
    (arcsin_domain, X, ew.arcsin, "forward", "domain", True),
    (masked_branch, ONE, ew.sqrt, "vjp", "masked-branch", True),
    (norm_at_zero, np.ones(3), ew.sqrt, "vjp", "infinite-derivative", True),
    (inf_minus_inf, X, ew.subtract, "forward", "inf-inf", False),
    (zero_times_inf, X, ew.multiply, "forward", "0*inf", False),
    (inf_over_inf, X, ew.divide, "forward", "inf/inf", False),
]
IDS = [c[0].__name__ for c in CASES]


def _grad(f, x):
    return cr.grad(f)(x)


def _tensor(f, x):
    t = cr.Tensor(x.copy(), requires_grad=True)
    f(t).backward()
    return t.grad


def _grad_of_grad(f, x):
    return cr.grad(lambda v: np.sum(cr.grad(f)(v)))(x)


def _jit(f, x):
    return cr.jit(cr.grad(f))(x)


FRONTS = {"grad": _grad, "tensor": _tensor, "grad_of_grad": _grad_of_grad, "jit": _jit}


@pytest.mark.parametrize("front", list(FRONTS))
@pytest.mark.parametrize("f, x, prim, phase, cause, infs", CASES, ids=IDS)
def test_cause_names_primitive_phase_and_user_line(front, f, x, prim, phase, cause, infs):
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans(infs=infs):
        FRONTS[front](f, x)
    err = info.value
    assert err.primitive is prim, str(err)
    assert err.phase == phase, str(err)
    assert err.cause == cause, str(err)
    if phase == "vjp":
        assert err.argnum == 0
    assert os.path.samefile(err.filename, __file__), str(err)
    assert err.lineno == _born_line(f), str(err)
    assert err.function == f.__name__
    assert err.code.endswith("# born")
    text = str(err)
    assert f"{__file__}:{err.lineno}" in text and err.code in text
    assert f"`{prim.name}`" in text.splitlines()[0]
    assert (err.under_jit is not None) == (front == "jit")
    if front == "jit":
        assert "re-ran the call eagerly, op by op" in text
    # a FloatingPointError, as NumPy's own errstate(all="raise") would raise
    assert isinstance(err, FloatingPointError) and isinstance(err, cr.core.errors.ChainruleError)


@pytest.mark.parametrize("f, x, prim, phase, cause, infs", CASES, ids=IDS)
def test_off_mode_gives_the_usual_result(f, x, prim, phase, cause, infs):
    expected = cr.grad(f)(x)
    assert not np.isfinite(expected).all() or not np.isfinite(f(x))
    with cr.debug_nans(), cr.debug_nans(False):  # switched off inside an active one
        np.testing.assert_array_equal(cr.grad(f)(x), expected)
    np.testing.assert_array_equal(cr.grad(f)(x), expected)
    assert Checks.value is Checks.vjp is Checks.jvp is None  # the per-op path is untouched


def test_masked_branch_message_names_where_and_safe_rewrite():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.grad(masked_branch)(ONE)
    text = str(info.value)
    assert f"`where` (line {_born_line(masked_branch)}) did not pick this branch" in text
    assert "sqrt(where(x > 0, x, 1))" in text
    assert info.value.indices == [(0,), (2,)]  # sqrt(x - 1) at x = 1 only
    assert "0 * inf = nan" in text


@pytest.mark.parametrize("f, prim", [(exp_overflow, ew.exp), (norm_at_zero, ew.multiply)])
def test_with_infs_allowed_a_backward_zero_times_inf_is_not_a_masked_branch(f, prim):
    # exp_overflow: log's rule sends 1/inf = 0 to exp(1000) = inf; norm_at_zero: sqrt's rule
    # sends inf to d * d at d = 0. Neither involves a where().
    x = X if f is exp_overflow else np.ones(3)
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans(infs=False):
        cr.grad(f)(x)
    err = info.value
    assert (err.primitive, err.phase, err.cause, err.kind) == (prim, "vjp", "0*inf", "nan")
    assert err.lineno == _born_line(f)
    assert "masked" not in str(err) and "infs=False" in str(err)


def test_the_safe_rewrite_is_finite_under_debug_nans():
    def safe(x):
        ok = x > 1.0
        return np.sum(np.where(ok, np.sqrt(np.where(ok, x - 1.0, 1.0)), 0.0))

    with cr.debug_nans():
        g = cr.grad(safe)(ONE)
    np.testing.assert_allclose(g, [0.0, 0.5, 0.0])


# ----------------------------------------------------------------------------- forward mode, nesting
def test_forward_mode_names_the_jvp_rule():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.jvp(norm_at_zero, (np.ones(3),), (np.ones(3),))
    err = info.value
    # the tangent of sum(d * d) at d = 0 is 0, and sqrt's derivative there is infinite
    assert (err.primitive, err.phase, err.argnum, err.cause) == (ew.sqrt, "jvp", 0, "0*inf")
    assert "the tangent is 0 here but the derivative of sqrt, 0.5 / sqrt(x), is infinite" in str(err)
    assert err.lineno == _born_line(norm_at_zero)


def test_forward_mode_at_a_masked_branch_points_to_the_safe_rewrite():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.jvp(masked_branch, (ONE,), (np.ones(3),))
    err = info.value
    assert (err.primitive, err.phase, err.cause) == (ew.sqrt, "jvp", "infinite-derivative")
    assert "forward mode drops its infinite tangent" in str(err)
    assert "sqrt(where(x > 0, x, 1))" in str(err)


def test_jvp_of_grad_reports_the_vjp_rule_at_the_user_line():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.jvp(cr.grad(masked_branch), (ONE,), (np.ones(3),))
    err = info.value
    assert err.primitive is ew.sqrt and err.phase in ("vjp", "jvp")
    assert err.lineno == _born_line(masked_branch)


def test_an_operation_inside_a_rule_is_reported_as_that_rule():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.grad(cr.grad(np.sqrt))(0.0)
    err = info.value
    assert (err.primitive, err.phase, err.rule_op) == (ew.sqrt, "vjp", ew.divide)
    assert "VJP rule of `sqrt` for argument 0 (its `divide` operation)" in str(err)


def test_hessian_names_the_rule():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.hessian(norm_at_zero)(np.ones(3))
    assert (info.value.primitive, info.value.phase) == (ew.sqrt, "vjp")
    assert info.value.lineno == _born_line(norm_at_zero)


# ----------------------------------------------------------------------------- inputs
def uses_input(x, w):
    return np.sum(np.log(x) * w)  # born


@pytest.mark.parametrize("front", ["grad", "tensor", "jit"])
def test_a_nan_input_is_reported_as_that_input(front):
    x = np.array([1.0, np.nan, 2.0])
    w = np.ones(3)
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        if front == "grad":
            cr.grad(uses_input)(x, w)
        elif front == "tensor":
            uses_input(cr.Tensor(x, requires_grad=True), w).backward()
        else:
            cr.jit(cr.grad(uses_input))(x, w)
    err = info.value
    assert (err.phase, err.cause, err.argnum, err.primitive) == ("input", "input", 0, ew.log)
    assert err.indices == [(1,)] and err.kind == "nan"
    assert err.lineno == _born_line(uses_input)
    text = str(err)
    assert text.startswith("nan entered through an input")
    assert "`log` only passed it on" in text
    if front == "grad":
        assert "(`x`, an argument of uses_input)" in text


def test_a_closed_over_inf_is_reported_as_an_input_not_blamed_on_the_op():
    w = np.array([1.0, np.inf])

    def f(x):
        return np.sum(x * w)  # born

    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.grad(f)(np.ones(2))
    assert (info.value.phase, info.value.primitive, info.value.argnum) == ("input", ew.multiply, 1)
    assert info.value.kind == "inf" and info.value.lineno == _born_line(f)


def test_a_nan_seed_cotangent_is_reported_as_an_input():
    y, pull = cr.vjp(np.sin, np.ones(2))
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        pull(np.array([1.0, np.nan]))
    assert (info.value.phase, info.value.primitive) == ("input", ew.sin)
    assert "seed cotangent" in str(info.value)


def test_infs_false_lets_a_minus_inf_mask_through():
    def masked_lse(x):
        m = np.where(x > 0.0, x, -np.inf)
        return np.log(np.sum(np.exp(m)))

    x = np.array([1.0, -1.0, 2.0])
    with cr.debug_nans(infs=False):
        g = cr.grad(masked_lse)(x)
    assert np.isfinite(g).all()
    with pytest.raises(cr.NonFiniteError), cr.debug_nans():
        cr.grad(masked_lse)(x)  # the -inf constant is an input when infinities are checked


# ----------------------------------------------------------------------------- switching it on
def test_decorator_nesting_and_restoring_the_hooks():
    @cr.debug_nans()
    def run(x):
        return cr.grad(log_of_zero)(x)

    with pytest.raises(cr.NonFiniteError):
        run(ZERO)
    with cr.debug_nans():
        with cr.debug_nans():
            assert Checks.value is not None
        assert Checks.value is not None  # still on in the outer one
        with pytest.raises(cr.NonFiniteError):
            cr.grad(log_of_zero)(ZERO)
    assert Checks.value is Checks.vjp is Checks.jvp is None


def test_other_threads_are_not_checked():
    result = {}
    entered, done = threading.Event(), threading.Event()

    def other():
        entered.wait()
        result["g"] = cr.grad(log_of_zero)(ZERO)  # the hooks are installed, but not for it
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with cr.debug_nans():
        entered.set()
        done.wait(10)
        with pytest.raises(cr.NonFiniteError):
            cr.grad(log_of_zero)(ZERO)
    t.join()
    assert np.isinf(result["g"]).any()


def test_jit_without_a_nan_runs_its_program_and_checks_nothing_else():
    f = cr.jit(cr.grad(masked_branch))
    x = np.array([2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with cr.debug_nans():
            g = f(x)
            g2 = f(x)
    np.testing.assert_allclose(g, 0.5 / np.sqrt(x - 1.0))
    np.testing.assert_array_equal(g, g2)
    assert f.cache_info()["programs"] == 1


def test_environment_switch():
    code = ("import numpy as np, chainrule as cr\n"
            "try:\n    cr.grad(lambda x: np.log(x))(0.0)\nexcept cr.NonFiniteError as e:\n"
            "    print('raised', e.primitive.name, e.phase, e.cause)\n")
    env = dict(os.environ, CHAINRULE_DEBUG_NANS="1", PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "raised log forward log-of-zero"
    env["CHAINRULE_DEBUG_NANS"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_a_failing_report_still_raises_the_error(monkeypatch):
    def broken(v):
        raise RuntimeError("cannot describe")

    monkeypatch.setattr(debug, "_describe", broken)
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.grad(log_of_zero)(ZERO)
    assert (info.value.primitive, info.value.phase, info.value.cause) == (ew.log, "forward", "unknown")
    assert "cannot describe" in str(info.value)


# ----------------------------------------------------------------------------- the glass box
def sqrt_times_zero(x):
    return np.sqrt(x) * 0.0


def test_glass_box_marks_born_and_passed_nodes():
    comp = cr.trace(sqrt_times_zero)(0.0)
    by_name = {n.name: n.id for n in comp.nodes}
    marks = nonfinite_marks(comp)
    # sqrt's rule makes 0 * inf = nan; x only receives it; the multiply sends a finite 0
    assert marks == {by_name["sqrt_1"]: {"backward": "born"}, by_name["x"]: {"backward": "passed"}}
    log_comp = cr.trace(lambda x: np.sum(np.log(x) * 2.0))(np.array([1.0, 0.0]))
    log_marks = {log_comp.nodes[i].op: m for i, m in nonfinite_marks(log_comp).items()}
    assert log_marks["log"]["forward"] == "born" and log_marks["multiply"] == {"forward": "passed"}
    assert nonfinite_marks(cr.trace(lambda x: np.sqrt(x) * 2.0)(1.0)) == {}


def test_explain_table_and_cli_show_where_it_was_born(capsys):
    text = cr.trace(sqrt_times_zero)(0.0).explain_text()
    lines = text.splitlines()
    born = next(i for i, line in enumerate(lines) if "NaN/Inf born here" in line)
    assert lines[born - 1].split()[0] == "sqrt_1"
    assert "(backward)" in " ".join(lines[born:born + 2]) and "NaN/Inf passed on" in text
    assert "NaN/Inf" not in cr.trace(lambda x: np.sqrt(x) * 2.0)(1.0).explain_text()
    main(["explain", "sqrt(x) * 0", "--x", "0", "--no-files"])
    out = capsys.readouterr().out
    rows = out.splitlines()
    born = next(i for i, line in enumerate(rows) if "NaN/Inf born here" in line)
    assert rows[born - 1].split()[0] == "sqrt(x)"
    assert "NaN/Inf passed on" in out


def test_step_through_page_carries_the_marks():
    comp = cr.trace(sqrt_times_zero)(0.0)
    data = page_data(comp)
    by_name = {n["name"]: n for n in data["nodes"]}
    assert by_name["sqrt_1"]["nonfinite"] == {"backward": "born"}
    assert by_name["sqrt_1"]["nan_note"] == "NaN/Inf born here (backward)"
    assert by_name["x"]["nonfinite"] == {"backward": "passed"}
    assert by_name["sqrt_times_zero"]["nonfinite"] is None


STATE = """() => { const d = JSON.parse(document.getElementById('glassbox-data').textContent);
  const out = {};
  for (const n of d.nodes) {
    const g = document.getElementById(n.el);
    const shape = g && g.querySelector('ellipse, polygon, path');
    out[n.name] = {born: !!g && g.classList.contains('nan-born'),
                   passed: !!g && g.classList.contains('nan-passed'),
                   fill: shape ? getComputedStyle(shape).fill : null,
                   row: document.getElementById('row' + n.id).className};
  }
  return {nodes: out, phase: document.getElementById('phase').textContent,
          note: document.getElementById('note').textContent,
          step: document.getElementById('stepinfo').textContent}; }"""


@pytest.mark.skipif(why_unavailable() is not None, reason=f"no headless browser: {why_unavailable()}")
@pytest.mark.parametrize("layout", ["simple", "graphviz"] if have_dot() else ["simple"])
def test_browser_steps_to_the_red_node(tmp_path, layout):
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "nan.html"
    cr.trace(sqrt_times_zero)(0.0).to_html(page_path, layout=layout)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 720})
            page.goto(page_path.resolve().as_uri())
            seen = []
            while True:
                state = page.evaluate(STATE)
                seen.append(state)
                if state["nodes"]["sqrt_1"]["born"] or page.is_disabled("#next"):
                    break
                page.click("#next")
            page.screenshot(path=str(tmp_path / f"nan_{layout}.png"))
        finally:
            browser.close()
    last = seen[-1]
    assert last["nodes"]["sqrt_1"]["born"], "stepped to the end without a red node"
    # the forward pass is all finite: nothing is marked until the backward pass reaches sqrt
    assert all(not n["born"] and not n["passed"] for s in seen[:-1] for n in s["nodes"].values())
    assert last["phase"] == "backward pass" and "sqrt_1" in last["step"]
    assert "NaN/Inf born here (backward)" in last["note"]
    assert last["nodes"]["sqrt_1"]["fill"] == "rgb(255, 157, 157)"  # red
    assert "nan-born" in last["nodes"]["sqrt_1"]["row"]
    assert not last["nodes"]["x"]["passed"]  # x's step comes next


def test_a_graph_recorded_before_debug_nans_still_names_the_rule():
    t = cr.Tensor(ONE.copy(), requires_grad=True)
    y = masked_branch(t)  # recorded with the mode off: no line was remembered
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        y.backward()
    err = info.value
    assert (err.primitive, err.phase, err.cause) == (ew.sqrt, "vjp", "masked-branch")
    assert err.lineno is None and "ran before debug_nans was on" in str(err)


def test_a_nan_tangent_is_reported_as_an_input():
    with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
        cr.jvp(np.sin, (np.ones(2),), (np.array([np.nan, 1.0]),))
    assert (info.value.phase, info.value.primitive, info.value.argnum) == ("input", ew.sin, 0)
    assert "seed tangent" in str(info.value)


def test_reading_a_rewritten_sweep_frame_degrades_to_no_rule():
    class Frame:
        f_locals = {"rec": None}

    assert debug._rule_frame(Frame, debug._IN_VJP) is None  # rec.prim: AttributeError
    Frame.f_locals = {"prim": ew.sin}
    assert debug._rule_frame(Frame, debug._IN_JVP) is None  # no argnum: KeyError


def test_a_decorated_function_in_several_threads_at_once():
    barrier = threading.Barrier(4)
    errors, results = [], []

    @cr.debug_nans()
    def work(x):
        barrier.wait(10)  # all four inside their debug_nans before any leaves it
        try:
            cr.grad(log_of_zero)(x)
        except cr.NonFiniteError as err:
            results.append(err.cause)
        return cr.grad(np.sin)(1.0)

    def run():
        try:
            work(ZERO)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == ["log-of-zero"] * 4
    assert Checks.value is None


def test_a_nested_debug_nans_keeps_the_lines_of_the_outer_one():
    with cr.debug_nans():
        t = cr.Tensor(ONE.copy(), requires_grad=True)
        y = masked_branch(t)
        with pytest.raises(cr.NonFiniteError) as info, cr.debug_nans():
            y.backward()
    assert info.value.lineno == _born_line(masked_branch)
