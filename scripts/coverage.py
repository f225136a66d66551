"""Generate docs/coverage.md: each NumPy and SciPy function with chainrule's support beside
autograd's and JAX's, read from the registered rules (``rules.dispatch``'s FUNCTIONS and
UFUNCS tables and the ``chainrule.numpy`` / ``chainrule.scipy`` namespaces) and from the
installed autograd and JAX packages.

    python scripts/coverage.py            # rewrite docs/coverage.md
    python scripts/coverage.py --check    # exit 1 when docs/coverage.md is stale

tests/test_coverage_doc.py runs the check (skipped when autograd or JAX, or their recorded
versions, are not installed).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import sys
import types
from pathlib import Path

import numpy as np
import scipy
import scipy.stats as st

import chainrule.numpy  # noqa: F401 (installs the array protocol and registers the rules)
import chainrule.scipy as cscipy
from chainrule.rules.dispatch import FUNCTIONS, UFUNCS

DOC = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"

YES, NO = "yes", "—"

# (title, the NumPy/SciPy module, chainrule's, autograd's, JAX's)
NUMPY_MODULES = [("numpy", "numpy", "chainrule.numpy", "autograd.numpy", "jax.numpy"),
                 ("numpy.linalg", "numpy.linalg", "chainrule.numpy.linalg", "autograd.numpy.linalg",
                  "jax.numpy.linalg"),
                 ("numpy.fft", "numpy.fft", "chainrule.numpy.fft", "autograd.numpy.fft", "jax.numpy.fft")]
SCIPY_MODULES = [(f"scipy.{m}", f"scipy.{m}", f"chainrule.scipy.{m}", f"autograd.scipy.{m}", f"jax.scipy.{m}")
                 for m in ("special", "linalg", "signal", "integrate", "optimize")]
STATS_METHODS = ("pdf", "logpdf", "pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "entropy")


def _module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _public_functions(module) -> list[str]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    out = []
    for n in names:
        obj = getattr(module, n, None)
        if isinstance(obj, np.ufunc) or (callable(obj) and not isinstance(obj, type | types.ModuleType)
                                          and not inspect.isclass(obj)):
            out.append(n)
    return sorted(set(out))


def _chainrule(theirs, ours, name) -> str:
    """``yes`` when NumPy dispatches ``theirs.name`` to a rule on traced arrays, or chainrule's
    namespace defines ``name`` itself (not as a pass-through of the plain function)."""
    fn = getattr(theirs, name, None)
    if fn is not None and (fn in FUNCTIONS or fn in UFUNCS):
        return YES
    if ours is None:
        return NO
    own = ours.__dict__.get(name)
    return YES if own is not None and own is not fn else NO


def _autograd(module, name) -> str:
    """autograd's primitive tables: reverse (VJP) and forward (JVP) rules, or a function that
    runs but is not differentiated (a notrace primitive), or a Python composite."""
    if module is None or not hasattr(module, name):
        return NO
    core = _module("autograd.core")
    fn = getattr(module, name)
    vjp, jvp = fn in core.primitive_vjps, fn in core.primitive_jvps
    if vjp or jvp:
        return "rev + fwd" if vjp and jvp else ("rev" if vjp else "fwd")
    if getattr(fn, "_is_autograd_primitive", False) or getattr(fn, "_is_primitive", False):
        return "no derivative"
    return YES


def _jax(module, name) -> str:
    return YES if module is not None and hasattr(module, name) else NO


def _versions() -> str:
    parts = [f"NumPy {np.__version__}", f"SciPy {scipy.__version__}"]
    for pkg in ("autograd", "jax"):
        try:
            parts.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{pkg} not installed")
    return ", ".join(parts)


def _table(title, theirs_name, ours_name, ag_name, jax_name, names=None) -> list[str]:
    theirs, ours, ag, jx = (_module(theirs_name), _module(ours_name), _module(ag_name), _module(jax_name))
    if theirs is None:
        return []
    names = names if names is not None else _public_functions(theirs)
    rows = [(n, _chainrule(theirs, ours, n), _autograd(ag, n), _jax(jx, n)) for n in names]
    have = sum(r[1] == YES for r in rows)
    lines = [f"## {title}", "", f"chainrule differentiates {have} of {len(rows)} functions.", "",
             "| function | chainrule | autograd | JAX |", "|---|---|---|---|"]
    lines += [f"| `{n}` | {c} | {a} | {j} |" for n, c, a, j in rows]
    return lines + [""]


def _stats_table() -> list[str]:
    cstats, agstats, jstats = cscipy.stats, _module("autograd.scipy.stats"), _module("jax.scipy.stats")
    dists = sorted(n for n in dir(st) if isinstance(getattr(st, n), st.rv_continuous | st.rv_discrete))
    dists += ["dirichlet", "multivariate_normal"]
    rows = []
    for d in sorted(set(dists)):
        gen = getattr(st, d)
        methods = [m for m in STATS_METHODS if hasattr(gen, m)]
        ours = getattr(cstats, d, None) if d in cstats.__all__ else None
        ag = _module(f"autograd.scipy.stats.{d}") if agstats is not None and hasattr(agstats, d) else None
        jx = _module(f"jax.scipy.stats.{d}") if jstats is not None and hasattr(jstats, d) else None

        def cell(mod, methods=methods):
            got = [m for m in methods if mod is not None and hasattr(mod, m)]
            return ", ".join(got) if got else NO
        if ours is None and ag is None and jx is None:
            continue
        rows.append(f"| `{d}` | {cell(ours)} | {cell(ag)} | {cell(jx)} |")
    return (["## scipy.stats", "", "Distributions any of the three provides; each cell lists the "
             "methods it differentiates.", "", "| distribution | chainrule | autograd | JAX |",
             "|---|---|---|---|"] + rows + [""])


def render() -> str:
    lines = ["# Coverage: NumPy and SciPy in chainrule, autograd and JAX", "",
             "Generated by `python scripts/coverage.py` from chainrule's registered rules and the "
             "installed packages; do not edit by hand (a test checks it is current).", "",
             f"Versions: {_versions()}.", "",
             "*chainrule*: `yes` when a traced array reaching the function is differentiated "
             "(NumPy dispatches it to a rule, or `chainrule.numpy` / `chainrule.scipy` defines it). "
             "*autograd*: `rev` / `fwd` for the derivative rules its primitive has, `no derivative` "
             "for a function it runs without differentiating, `yes` for a Python composite. "
             "*JAX*: `yes` when `jax.numpy` / `jax.scipy` has the name.", ""]
    for spec in NUMPY_MODULES:
        lines += _table(*spec)
    for spec in SCIPY_MODULES:
        lines += _table(*spec)
    lines += _stats_table()
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/coverage.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOC.read_text() if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is stale: run python scripts/coverage.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
