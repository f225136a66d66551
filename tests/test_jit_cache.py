"""jit's first-call cost: the two tiers of a program, linear-time rewrites, and the on-disk
cache of compiled loops shared across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.compile import cache, fusion, ir, staging

SRC = str(Path(cr.__file__).resolve().parents[1])

# A program with one fused loop (arrays above fusion.MIN_SIZE): prints how its loops got
# their machine code, as JSON.
_CHILD = textwrap.dedent("""
    import json, numpy as np, chainrule as cr, chainrule.numpy as cnp
    from chainrule.compile import kernel_cache_info
    f = cr.jit(cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2 * x + cnp.exp(-x))))
    x = np.linspace(-1.0, 1.0, 10000)
    f.lower(x).compile()
    g = f(x)
    assert np.allclose(g, cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2 * x + cnp.exp(-x)))(x))
    print(json.dumps(kernel_cache_info()))
""")


def _child(env_dir):
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_CACHE_DIR"}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    if env_dir is not None:
        env["CHAINRULE_CACHE_DIR"] = str(env_dir)
    run = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def numba():
    return pytest.importorskip("numba")


def test_a_second_process_loads_the_compiled_loops(tmp_path, numba):
    first = _child(tmp_path)
    assert first["dir"] == str(tmp_path)
    assert first["kernels"] >= 1 and first["compiled"] >= 1 and first["loaded"] == 0
    files = sorted((tmp_path / "kernels").glob("k_*.py"))
    assert len(files) == first["kernels"]
    second = _child(tmp_path)
    assert second["kernels"] == first["kernels"]
    assert second["compiled"] == 0 and second["loaded"] == first["compiled"]
    assert sorted((tmp_path / "kernels").glob("k_*.py")) == files  # nothing written again


def test_an_empty_cache_dir_variable_turns_the_cache_off(tmp_path, numba):
    info = _child("")
    assert info["dir"] is None and info["compiled"] >= 1 and info["loaded"] == 0


def test_set_cache_dir_overrides_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path / "env"))
    monkeypatch.setattr(cache, "_setting", [cache._UNSET])
    assert cache.cache_dir() == str(tmp_path / "env")
    assert cr.compile.set_cache_dir(tmp_path / "mine") == str(tmp_path / "env")
    assert cache.cache_dir() == str(tmp_path / "mine")
    assert cr.compile.set_cache_dir(None) == str(tmp_path / "mine")
    assert cache.cache_dir() is None
    monkeypatch.delenv("CHAINRULE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache, "_setting", [cache._UNSET])
    assert cache.cache_dir() == str(tmp_path / "xdg" / "chainrule")


def test_kernel_files_are_named_by_their_source_and_rewritten_when_wrong(tmp_path, monkeypatch,
                                                                          numba):
    monkeypatch.setattr(cache, "_setting", [str(tmp_path)])
    source = "def fused(a0, o0):\n    for i0 in range(o0.shape[0]):\n        o0[i0] = a0[i0] * 3.0\n"
    path = Path(cache._kernel_file(source))
    assert path.parent == tmp_path / "kernels" and path.read_text().endswith(source)
    assert Path(cache._kernel_file(source)) == path
    other = cache._kernel_file(source.replace("3.0", "4.0"))
    assert Path(other) != path
    path.write_text("garbage")  # a damaged file is written again, never imported as it is
    assert Path(cache._kernel_file(source)) == path and path.read_text().endswith(source)
    kernel = cache.load_kernel(source, numba)
    out = np.empty(3)
    kernel(np.arange(3.0), out)
    np.testing.assert_array_equal(out, [0.0, 3.0, 6.0])


def test_an_unwritable_cache_dir_compiles_in_memory(tmp_path, monkeypatch, numba):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(cache, "_setting", [str(blocker / "cache")])
    monkeypatch.setattr(cache, "_broken", set())
    source = "def fused(a0, o0):\n    for i0 in range(o0.shape[0]):\n        o0[i0] = a0[i0] + 5.0\n"
    assert cache._kernel_file(source) is None
    out = np.empty(2)
    cache.load_kernel(source, numba)(np.ones(2), out)
    np.testing.assert_array_equal(out, [6.0, 6.0])


# ---------------------------------------------------------------- the two tiers of a program
def _programs():
    """Jitted functions covering: fused loops, several results, an input and a constant
    returned as they are, Python scalars, scatters of picks, a multiple-result primitive."""
    big = np.linspace(-1.0, 1.0, 5000)
    const = np.arange(3.0)
    yield cr.jit(cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2 * x))), (big,)
    yield cr.jit(lambda x, y: (x, x * y, const, 2.5)), (np.ones(3), 2.0)
    yield cr.jit(cr.grad(lambda x: cnp.sum(cnp.stack([x[i] * i for i in range(6)])))), \
        (np.arange(6.0),)
    yield cr.jit(cr.value_and_grad(lambda x: cnp.linalg.slogdet(x)[1])), (np.eye(3) * 2 + 0.1,)
    yield cr.jit(lambda x: cr.hvp(lambda z: cnp.sum(z ** 3 * cnp.sin(z)), x, cnp.ones_like(x))), \
        (np.linspace(0.1, 1.0, 4500),)


@pytest.mark.parametrize("k", range(5))
def test_interpreted_and_compiled_programs_agree_bitwise(k):
    f, args = list(_programs())[k]
    staged_result = f(*args)  # the staging call computes the results itself
    program = f.lower(*args)
    program._budget = float("inf")  # stay interpreted
    interpreted = program(*args)
    assert not program.compiled
    compiled = program.compile()(*args)
    assert program.compiled
    for a, b, c in zip(cr.tree_leaves(staged_result), interpreted, compiled, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)  # fused loops may round differently
        np.testing.assert_array_equal(b, c)
        assert np.asarray(b).dtype == np.asarray(c).dtype and type(b) is type(c)


def test_outputs_that_are_inputs_or_constants_are_fresh_in_both_tiers():
    const = np.arange(3.0)
    f = cr.jit(lambda x: (x, const, x + 1))
    x = np.ones(3)
    f(x)
    program = f.lower(x)
    program._budget = float("inf")
    for run in (program, program.compile()):
        a, c, _ = run(x)
        assert a is not x and not np.shares_memory(a, x)
        c[:] = -1  # the caller owns what it gets
    np.testing.assert_array_equal(f(x)[1], np.arange(3.0))


def test_a_program_is_compiled_once_interpreting_it_cost_as_much_as_staging_it():
    f = cr.jit(lambda x: cnp.tanh(x) * 2 + x)
    x = np.ones(3)
    f(x)
    program = f.lower(x)
    assert not program.compiled and program._budget > 0
    program._budget = 0.0  # interpreting has already cost as much as staging
    program(x)
    assert program.compiled
    calls = 0
    g = cr.jit(lambda x: cnp.sin(x) + 1)
    while not g.lower(x).compiled:  # a real budget is spent after finitely many calls
        g(x)
        calls += 1
        assert calls < 10**6


def test_sums_of_scatters_are_flattened_once_at_their_root(monkeypatch):
    """k picks of one array give a chain of k - 1 adds of scatters; the rewrite must build
    one scatter_sum of k terms (O(k)), not one per add (O(k^2) terms in all)."""
    made = []
    real = fusion.Eqn

    def counting(prim, ins, params, outs):
        if prim is fusion.scatter_sum:
            made.append(len(ins))
        return real(prim, ins, params, outs)
    monkeypatch.setattr(fusion, "Eqn", counting)
    n = 200
    f = cr.jit(cr.grad(lambda x: cnp.sum(cnp.stack([x[i] ** 2 * (i + 1.0) for i in range(n)]))))
    x = np.arange(n, dtype=float)
    g = f(x)
    np.testing.assert_array_equal(g, 2 * x * np.arange(1.0, n + 1))
    assert made == [n]
    np.testing.assert_array_equal(f.lower(x).compile()(x)[0], g)


def test_simplify_keeps_distinct_parameters_apart():
    """freeze's fast paths: 1, True and 1.0 are different parameters; equal tuples of ints
    are the same; -0.0 and 0.0 differ."""
    keys = [ir.freeze(v) for v in (1, True, 1.0, (1, 2), [1, 2], (1, 2.0), -0.0, 0.0,
                                        slice(1, 2), ("a", 1), {"axis": 1}, {"axis": True})]
    assert len(set(keys)) == len(keys)
    assert ir.freeze((1, 2)) == ir.freeze((1, 2))
    assert ir.freeze({"idx": (slice(0, 7),)}) == ir.freeze({"idx": (slice(0, 7),)})


def test_no_numba_import_for_a_program_without_a_loop_to_fuse():
    code = ("import sys, numpy as np, chainrule as cr, chainrule.numpy as cnp\n"
            "f = cr.jit(cr.grad(lambda x: cnp.sum(cnp.tanh(x) * x)))\n"
            "f(np.ones(7)); f(np.ones(7)); f.lower(np.ones(7)).compile()\n"
            "print('numba' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False", run.stdout + run.stderr


def test_staging_module_exports():
    assert staging.Program.compile and cr.compile.kernel_cache_info()["dir"] == cache.cache_dir()
