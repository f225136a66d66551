"""The benchmark suite at toy sizes: every workload runs, and every installed tool agrees.

No timing is asserted here (speed is measured by ``python -m benchmarks``); these tests
check that the numbers each tool computes are the same, and that the GMM workload is
the ADBench objective (its check value and a central-difference check of its gradient).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the benchmarks package sits beside src/, not inside it

import benchmarks  # noqa: E402
from benchmarks import _harness, gmm, memory  # noqa: E402

GMM_INSTANCE = ROOT.parent / "shared" / "benchmarks" / "gmm_d2_K3_n1.txt"
TIMED = [name for name in benchmarks.WORKLOADS if name != "memory"]


@pytest.mark.parametrize("name", TIMED)
def test_workload_runs_and_every_installed_tool_agrees(name):
    w = benchmarks.WORKLOADS[name]
    for params in w.variants("tiny"):
        res = _harness.run_workload(w, params, time_it=False)  # raises DisagreementError
        if res.skipped:
            pytest.skip(res.skipped)
        names = [r.name for r in res.rows]
        assert names[0] == "chainrule"
        for row in res.rows:
            if row.note.startswith("skipped"):
                assert not _harness.available(next(c.tool for c in w.cases(**params)
                                                   if c.name == row.name))
            elif row.name != "chainrule":
                assert row.error is not None and row.error <= w.rtol, row


def test_memory_workload_reports_peaks_and_agrees():
    w = benchmarks.WORKLOADS["memory"]
    params = w.variants("tiny")[0]
    res = _harness.run_workload(w, params, tools={"torch"})
    ran = {r.name: r for r in res.rows if not r.note.startswith("skipped")}
    assert next(iter(ran)) == "chainrule"
    measured = [r for name, r in ran.items() if not name.endswith("beyond the gradient")]
    for row in measured:
        assert isinstance(row.value, int) and row.value >= 0
    # each chainrule row has its twin less the gradient's bytes: L * (W + 1) * W float64 numbers
    grad = params["layers"] * (params["width"] + 1) * params["width"] * 8
    for name in ("chainrule", "chainrule (checkpoint/10)"):
        assert ran[f"{name}, beyond the gradient"].value == ran[name].value - grad
    # ... and the last target is their ratio, judged at full size
    full = _harness.Result(w, params, res.rows, size="full").targets()
    beyond = [t for t in full if t[0].startswith("peak beyond the returned gradient")]
    ratio = (ran["chainrule (checkpoint/10)"].value - grad) / (ran["chainrule"].value - grad)
    assert [(t[1], t[2]) for t in beyond] == [(ratio, 0.25)]


def test_checkpoint_scaling_table_measures_every_depth_and_the_gradients_agree():
    from benchmarks import checkpoint

    try:  # asserts the gradients agree
        out = checkpoint.scaling((2, 4), width=6, batch=5, min_repeats=1, min_time=0.0)
    except _harness.Skip as exc:
        pytest.skip(str(exc))
    table, targets = out.split("\n\n")
    rows = table.splitlines()
    # blocks of 10 and of sqrt(layers) layers at each depth: sqrt(2) -> 1, sqrt(4) -> 2
    assert [r.split(" | ")[:2] for r in rows[2:]] == [
        ["| 2", "10"], ["| 2", "sqrt(2) = 1"], ["| 4", "10"], ["| 4", "sqrt(4) = 2"]]
    assert all(r.count("MiB") == 5 for r in rows[2:])  # gradient, each peak with its rest
    lines = targets.splitlines()
    assert len(lines) == 3 * 4  # peak, time, peak beyond the gradient, for each row
    for line, row in zip(lines[1::3], rows[2:], strict=True):  # every time ratio is judged
        shown = row.rstrip(" |").rsplit(" | ", 1)[1]
        assert line.startswith("- target: time, ") and " <= 1.5: " in line
        assert line.endswith((f"**{shown}**, met", f"**{shown}**, NOT met"))


def test_checkpoint_scaling_of_the_batch_heavy_shape_measures_sqrt_blocks_once_where_equal(
        monkeypatch):
    """The second shape (activations dominate); where round(sqrt(layers)) is the block size of
    the workload (10 at 100 layers; 2 here), one row serves both."""
    from benchmarks import checkpoint

    monkeypatch.setattr(checkpoint, "CHECKPOINT_EVERY", 2)
    try:
        out = checkpoint.scaling((4,), width=4, batch=20, min_repeats=1, min_time=0.0)
    except _harness.Skip as exc:
        pytest.skip(str(exc))
    table, targets = out.split("\n\n")
    (row,) = table.splitlines()[2:]
    assert row.startswith("| 4 | 2, sqrt(4) = 2 | 0.0 MiB | ")
    assert [t.split(",")[0] for t in targets.splitlines()] == [
        "- target: peak memory", "- target: time", "- target: peak beyond the returned gradient"]


def test_checkpoint_targets_are_written_as_the_harness_writes_them():
    from benchmarks import checkpoint

    w = _harness.Workload("w", "w", {"full": {}}, cases=lambda: [],
                          targets=(("t", "a", "b", 0.25),))
    for a, b in [(1.0, 4.0), (1.0, 3.0), (None, 1.0)]:
        res = _harness.Result(w, {}, [_harness.Row("a", a), _harness.Row("b", b)])
        (line,) = [x for x in _harness.table(res, markdown=True).splitlines()
                   if x.startswith("- target:")]
        assert checkpoint._target("t (a / b)", None if a is None else a / b, 0.25) == line


def test_missing_peer_is_skipped_not_an_error(monkeypatch):
    monkeypatch.setitem(_harness._available, "torch", False)
    w = benchmarks.WORKLOADS["scalar"]
    res = _harness.run_workload(w, w.variants("tiny")[0], tools={"torch"}, time_it=False)
    (torch_row,) = [r for r in res.rows if r.name == "torch"]
    assert torch_row.note == "skipped: torch is not installed"
    assert [t[1] for t in res.targets() if "PyTorch" in t[0]] == [None]  # no ratio, no failure


def test_disagreement_is_caught():
    good = _harness.Case("chainrule", lambda: [1.0, np.ones(3)])
    bad = _harness.Case("other", lambda: [1.0, np.ones(3) * (1 + 1e-6)])
    with pytest.raises(_harness.DisagreementError, match="other"):
        _harness.check_agreement({"chainrule": (good, good.run()), "other": (bad, bad.run())},
                                 rtol=1e-8)


def test_command_line_tiny_run(capsys, tmp_path):
    from benchmarks.__main__ import main

    md = tmp_path / "table.md"
    assert main(["scalar", "--size", "tiny", "--min-time", "0", "--min-repeats", "1",
                 "--tools", "micrograd", "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "Scalar graph" in out and "chainrule" in out and "Targets:" in out
    assert "| chainrule |" in md.read_text()


def test_tiny_runs_time_each_case_once_and_judge_no_targets(capsys, tmp_path):
    """--size tiny is a smoke run: one timed run per case, no 'met'/'NOT met' at toy sizes."""
    from benchmarks.__main__ import main

    js = tmp_path / "r.json"
    assert main(["scalar", "mlp", "--size", "tiny", "--tools", "none", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "met]" not in out and "NOT met" not in out
    assert "Targets: not judged at --size tiny" in out
    import json

    results = json.loads(js.read_text())["results"]
    assert all(r["targets"] == [] for r in results)
    assert all(len(row["samples"]) == 1 for r in results for row in r["rows"] if row["samples"])


def test_targets_are_judged_at_full_size_only():
    w = _harness.Workload("w", "w", {"tiny": {}, "full": {}}, cases=lambda: [],
                          targets=(("ratio", "chainrule", "numpy", 2.0),))
    rows = [_harness.Row("chainrule", 3.0), _harness.Row("numpy", 1.0)]
    assert _harness.Result(w, {}, rows, size="full").targets()[0][1:] == (3.0, 2.0, False)
    assert _harness.Result(w, {}, rows, size="tiny").targets() == []


# ---------------------------------------------------------------- the GMM objective itself
def _instance():
    if not GMM_INSTANCE.exists():
        pytest.skip(f"{GMM_INSTANCE} not found")
    return gmm.load_instance(GMM_INSTANCE)


def test_gmm_check_value():
    import chainrule.numpy as cnp
    from chainrule.scipy.special import logsumexp

    alphas, means, icf, x, gamma, m = _instance()
    assert means.shape == (3, 2) and icf.shape == (3, 3) and x.shape == (1, 2)
    value = gmm.objective(cnp, logsumexp, alphas, means, icf, x, gamma, m)
    np.testing.assert_allclose(value, gmm.CHECK_VALUE, rtol=1e-14)
    np.testing.assert_allclose(gmm.objective(np, _harness.np_logsumexp, alphas, means, icf, x, gamma, m),
                               gmm.CHECK_VALUE, rtol=1e-14)


def test_gmm_gradient_matches_central_differences():
    import chainrule
    import chainrule.numpy as cnp
    from chainrule.scipy.special import logsumexp

    alphas, means, icf, x, gamma, m = _instance()

    def f(a, mu, c):
        return gmm.objective(cnp, logsumexp, a, mu, c, x, gamma, m)

    grads = chainrule.grad(f, argnums=(0, 1, 2))(alphas, means, icf)
    primals = [alphas, means, icf]
    eps = 1e-6
    for k, (p, g) in enumerate(zip(primals, grads, strict=True)):
        fd = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            up = [q.copy() for q in primals]
            dn = [q.copy() for q in primals]
            up[k][i] += eps
            dn[k][i] -= eps
            fd[i] = (f(*up) - f(*dn)) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-8, err_msg=f"argument {k}")


def test_gmm_triangular_layout():
    """l fills the strictly lower part column by column; the diagonal comes from q."""
    idx = gmm.tri_index(4)
    v = np.arange(4 + 6 + 1.0)
    v[-1] = 0.0
    Q = v[idx]
    np.testing.assert_array_equal(np.diag(Q), [0, 1, 2, 3])
    np.testing.assert_array_equal(Q[np.tril_indices(4, -1)], [4, 5, 7, 6, 8, 9])  # row-major read
    np.testing.assert_array_equal(Q[np.triu_indices(4, 1)], 0)


# ---------------------------------------------------------------- the lean tape (memory workload)
def _pull(f, args, keep_values, release=False):
    from chainrule.core.trace import ReverseBox, ReverseTrace

    trace = ReverseTrace(keep_values=keep_values)
    boxes = [trace.new_input(a) for a in args]
    out = f(*boxes)
    assert type(out) is ReverseBox
    grads = trace.backward({out._node: np.ones(np.shape(out._value))}, [b._node for b in boxes],
                           release=release)
    return trace, grads


def test_lean_tape_keeps_only_declared_values_and_gives_the_same_gradient():
    import chainrule.numpy as cnp
    from chainrule.core.trace import Shaped

    params, x = memory.make_data(3, 5, 4)

    def f(*ps):
        return memory.loss(cnp, list(ps), x)

    _, full = _pull(f, params, keep_values=True)
    trace, lean = _pull(f, params, keep_values=False)
    for a, b in zip(full, lean, strict=True):
        np.testing.assert_array_equal(a, b)
    by_name = {}
    for rec in trace.tape:
        by_name.setdefault(rec.prim.name, rec)
    assert isinstance(by_name["tanh"].args[0], Shaped)  # tanh's rules read only its output
    assert not isinstance(by_name["tanh"].ans, Shaped)
    assert isinstance(by_name["add"].ans, Shaped) and isinstance(by_name["add"].args[0], Shaped)
    with pytest.raises(TypeError, match="not kept on this lean tape"):
        np.asarray(by_name["tanh"].args[0])


def test_release_consumes_the_tape_once():
    import chainrule.numpy as cnp

    x = np.linspace(-1, 1, 7)
    trace, (g,) = _pull(lambda x: cnp.sum(cnp.tanh(x) * x), [x], keep_values=False, release=True)
    np.testing.assert_allclose(g, np.tanh(x) + x * (1 - np.tanh(x) ** 2), rtol=1e-14)
    assert trace.tape == []
    with pytest.raises(RuntimeError, match="released"):
        trace.backward({0: 1.0}, [0])


def test_scalar_fast_path_matches_the_ufuncs():
    """The Python-float fast path of + - * / gives NumPy's values, types and inf/nan handling."""
    from chainrule.rules import elementwise as E

    pairs = [(1.5, 2.0), (1.5, 0.0), (0.0, 0.0), (-1.0, 0.0), (np.float64(2.5), 3), (3, 2.5),
             (3, 4), (True, 2.5), (1e308, 1e308), (2**70, 1.5), (np.float32(1.5), 2.0)]
    with np.errstate(all="ignore"):
        for prim, ufunc in [(E.add, np.add), (E.subtract, np.subtract), (E.multiply, np.multiply),
                            (E.divide, np.divide)]:
            for a, b in pairs:
                got, want = prim.impl(a, b), ufunc(a, b)
                assert type(got) is type(want), (prim.name, a, b)
                np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- LSTM and k-means check values
def _lstm_check_case_values(name):
    """[objective, d main, d extra] of one tool's case on the check instance of lstm.md."""
    from benchmarks import lstm

    m, e, s, q = lstm.CHECK_MAIN, lstm.CHECK_EXTRA, lstm.CHECK_STATE, lstm.CHECK_SEQUENCE
    if name == "chainrule":
        import chainrule
        import chainrule.numpy as cnp

        v, g = chainrule.value_and_grad(lambda a, b: lstm.objective(cnp, a, b, s, q),
                                        argnums=(0, 1))(m, e)
        return [v, *g]
    if name == "chainrule (jit)":
        import chainrule
        import chainrule.numpy as cnp

        v, g = chainrule.jit(chainrule.value_and_grad(
            lambda a, b: lstm.objective(cnp, a, b, s, q), argnums=(0, 1)))(m, e)
        return [v, *g]
    if name == "torch":
        torch = pytest.importorskip("torch")
        tm, te = (torch.tensor(p, requires_grad=True) for p in (m, e))
        v = lstm.objective(torch, tm, te, torch.tensor(s), torch.tensor(q))
        return [v.item(), *[t.numpy() for t in torch.autograd.grad(v, (tm, te))]]
    if name == "jax (jit)":
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        with _harness.jax_x64():
            v, g = jax.jit(jax.value_and_grad(
                lambda a, b: lstm.objective_scan(jnp, jax.lax, a, b, jnp.asarray(s),
                                                 jnp.asarray(q)), argnums=(0, 1)))(
                jnp.asarray(m), jnp.asarray(e))
            return [float(v), *[np.asarray(t) for t in g]]
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    v, g = autograd.value_and_grad(lambda ps: lstm.objective(anp, *ps, s, q))([m, e])
    return [v, *g]


@pytest.mark.parametrize("name", ["chainrule", "chainrule (jit)", "torch", "jax (jit)", "autograd"])
def test_lstm_check_values(name):
    """Each tool's formulation gives lstm.md's objective and gradient (GradBench's C++ values)."""
    from benchmarks import lstm

    v, *g = _lstm_check_case_values(name)
    flat = np.concatenate([np.ravel(t) for t in g])
    assert flat.size == 2 * 12 + 3 * 3
    np.testing.assert_allclose(float(v), lstm.CHECK_OBJECTIVE, rtol=1e-13)
    np.testing.assert_allclose(flat.sum(), lstm.CHECK_GRAD_SUM, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(flat), lstm.CHECK_GRAD_NORM, rtol=1e-12)


def test_lstm_numpy_objective_and_data():
    from benchmarks import lstm

    v = lstm.objective(np, lstm.CHECK_MAIN, lstm.CHECK_EXTRA, lstm.CHECK_STATE,
                       lstm.CHECK_SEQUENCE)
    np.testing.assert_allclose(v, lstm.CHECK_OBJECTIVE, rtol=1e-14)
    main, extra, state, seq = lstm.make_data(4, 1024)
    assert main.shape == (8, 28) and extra.shape == (3, 7) and state.shape == (8, 7)
    assert seq.shape == (1024, 7) and set(np.unique(seq)) <= {0.0, 1.0}
    codes = (seq * 2.0 ** np.arange(7)).sum(1)
    assert codes.min() >= 32 and codes.max() <= 126  # printable ASCII, 7 bits


def _kmeans_direction(name, points, centroids):
    from benchmarks import kmeans

    ones = np.ones_like(centroids)
    if name in ("chainrule", "chainrule (jit)"):
        import chainrule
        import chainrule.numpy as cnp

        def newton(c):
            f = lambda c: kmeans.cost(cnp, points, c)  # noqa: E731
            g, hv = chainrule.jvp(chainrule.grad(f), (c,), (np.ones_like(c),))
            return f(c), g / hv
        return (chainrule.jit(newton) if name.endswith("(jit)") else newton)(centroids)
    if name == "torch":
        torch = pytest.importorskip("torch")
        c = torch.tensor(centroids, requires_grad=True)
        v = kmeans.cost_torch(torch, torch.tensor(points), c)
        (g,) = torch.autograd.grad(v, c, create_graph=True)
        (hv,) = torch.autograd.grad(g, c, grad_outputs=torch.tensor(ones))
        return v.item(), (g / hv).detach().numpy()
    if name == "jax (jit)":
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        with _harness.jax_x64():
            f = lambda c: kmeans.cost(jnp, jnp.asarray(points), c)  # noqa: E731
            g, hv = jax.jit(lambda c: jax.jvp(jax.grad(f), (c,), (jnp.ones_like(c),)))(
                jnp.asarray(centroids))
            return float(f(jnp.asarray(centroids))), np.asarray(g / hv)
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    f = lambda c: kmeans.cost(anp, points, c)  # noqa: E731
    return f(centroids), autograd.grad(f)(centroids) / autograd.hessian_vector_product(f)(
        centroids, ones)


@pytest.mark.parametrize("name", ["chainrule", "chainrule (jit)", "torch", "jax (jit)", "autograd"])
def test_kmeans_check_values(name):
    """Each tool's formulation gives kmeans.md's cost and Newton direction."""
    from benchmarks import kmeans

    v, direction = _kmeans_direction(name, kmeans.CHECK_POINTS, kmeans.CHECK_CENTROIDS)
    np.testing.assert_allclose(float(v), kmeans.CHECK_COST, rtol=1e-14)
    np.testing.assert_allclose(direction, kmeans.CHECK_DIR, rtol=1e-13)
    assert kmeans.cost(np, kmeans.CHECK_POINTS, kmeans.CHECK_CENTROIDS) == pytest.approx(1.71)


def test_kmeans_data_has_no_empty_cluster():
    from benchmarks import kmeans

    for k in (10, 100):
        points, centroids = kmeans.make_data(k, 1000, 8)
        np.testing.assert_array_equal(centroids, points[-k:])
        dist = ((points[None] - centroids[:, None]) ** 2).sum(-1)
        assert len(np.unique(dist.argmin(0))) == k
