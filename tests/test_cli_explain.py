"""``chainrule explain``: the safe formula parser, the table, the files, and the errors."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.viz.circuit import have_dot
from chainrule.viz.formula import FormulaError, parse

pytest.importorskip("rich", reason="the table needs the optional package 'rich'")


def run(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def row(out: str, name: str) -> str:
    """The table line whose first cell is ``name``."""
    pat = re.compile(rf"^\s*{re.escape(name)}(\s{{2,}}|$)")
    return next(ln for ln in out.splitlines() if pat.match(ln))


def test_cs231n_formula(capsys, tmp_path):
    code, out, err = run(capsys, "(x + y) * z", "--x", "-2", "--y", "5", "--z", "-4",
                         "--out", str(tmp_path / "o"), "--width", "140")
    assert code == 0, err
    assert "Backward pass of f" in out
    f = row(out, "f (output)")
    assert "-12" in f and "∂f/∂(x + y) = -4" in f and "1 (seed)" in f and "x + y: (-4) × 1 = -4" in f
    q = row(out, "x + y")
    assert " 3 " in q and "∂(x + y)/∂x = 1" in q and "-4" in q
    assert "-4" in row(out, "x") and "-4" in row(out, "y") and " 3 " in row(out, "z")
    html = tmp_path / "o" / "explain.html"
    assert html.exists() and f"wrote {html}" in out
    if have_dot():
        assert (tmp_path / "o" / "circuit.svg").read_text().count("<svg") == 1
        assert (tmp_path / "o" / "circuit.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert "dot" in err


def test_named_steps_show_q(capsys):
    code, out, _ = run(capsys, "q = x + y; f = q * z", "--x=-2", "--y=5", "--z=-4",
                       "--no-files", "--width", "140")
    assert code == 0
    assert [ln.split()[0] for ln in out.splitlines()
            if ln.strip() and ln.split()[0] in {"f", "q", "x", "y", "z"}] == ["f", "q", "z", "y", "x"]
    q = row(out, "q")
    assert "add(x, y)" in q and " 3 " in q and "∂q/∂x = 1" in q and "x: 1 × (-4) = -4" in q
    assert "multiply(q, z)" in row(out, "f (output)") and "-12" in row(out, "f (output)")


def test_arrays_and_functions(capsys):
    code, out, err = run(capsys, "sum((transpose(W) @ (W @ x) - x) ** 2)",
                         "--W", "[[1, 2], [0, 1]]", "--x", "[1, -1]", "--no-files", "--width", "160")
    assert code == 0, err
    W, x = np.array([[1.0, 2], [0, 1]]), np.array([1.0, -1])
    r = W.T @ W @ x - x
    g = 2 * W @ np.outer(r, x) + 2 * np.outer(W @ x, r)
    assert "from" in row(out, "W") and f"= [[{g[0, 0]:g}, {g[0, 1]:g}]," in out


@pytest.mark.parametrize("formula, message", [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('true')", "attribute access"),
    ("x.T", "attribute access (x.T) is not allowed"),
    ("exp(x).real", "attribute access"),
    ("os.system('ls')", "attribute access (os.system)"),
    ("x * w", "no value for w: pass --w VALUE"),
    ("open('f') + x", "unknown function 'open'"),
    ("x[0]", "indexing (x[0]) is not allowed"),
    ("(lambda: x)()", "only named functions"),
    ("'abc'", "string literals are not allowed"),
    ("x if x else x", "conditional expressions"),
    ("import os", "import statements are not allowed"),
    ("x +", "cannot parse the formula"),
    ("exp", "'exp' is a function"),
    ("_x + 1", "names starting with '_'"),
    ("x < 1", "comparisons"),
    ("exp(x, out=x)", "keyword arguments"),
])
def test_rejects_unsafe_or_unknown(capsys, formula, message):
    code, out, err = run(capsys, formula, "--x", "1", "--no-files")
    assert code == 2
    assert err.startswith("chainrule explain: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and out == ""


@pytest.mark.parametrize("argv, message", [
    (["x * 2", "--x", "abc"], "--x 'abc': not a number"),
    (["x * 2", "--x", "__import__('os')"], "not a number"),
    (["x * 2", "--x", "1", "--y", "2"], "the formula does not use y"),
    (["x * 2", "--x"], "--x needs a value"),
    (["x * 2", "--x", "1", "--x", "2"], "given twice"),
    (["x * 2", "oops"], "unexpected argument 'oops'"),
    (["x * 2", "--x", "[[1, 2], [3]]"], "rectangular"),
    (["2 * 3"], "no variables"),
    (["9.0 ** 9 ** 9 * x", "--x", "1"], "cannot evaluate the formula"),
])
def test_bad_values(capsys, argv, message):
    code, _, err = run(capsys, *argv, "--no-files")
    assert code == 2 and message in err, err


def test_parser_never_evaluates():
    f = parse("a = x * 2; b = exp(a) + pi; b / a")
    assert f.inputs == ["x"] and f.output == "f"
    assert f(1.0) == pytest.approx((np.exp(2.0) + np.pi) / 2.0)
    with pytest.raises(FormulaError, match="only the last statement"):
        parse("x; y")
    with pytest.raises(FormulaError, match="longer than"):
        parse("x + " * 1000 + "x")
    with pytest.raises(FormulaError, match="input of the formula"):
        parse("y = x; x = 2")


def test_module_entry_point(tmp_path):
    r = subprocess.run([sys.executable, "-m", "chainrule", "explain", "(x + y) * z", "--x", "-2",
                        "--y", "5", "--z", "-4", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "-12" in r.stdout and (tmp_path / "explain.html").exists()


# ---------------------------------------------------------------- deep formulas (issue 12 item 18)
# A formula within MAX_LENGTH characters may nest up to ~1000 (binary) or ~2000 (unary) levels.
DEEP = {
    "999-term sum": "+".join(["x"] * 999),
    "999-factor product": "*".join(["x"] * 999),
    "1990 unary minuses": " " + "-" * 1990 + "x",
    "666-level power tower": "**".join(["x"] * 666),
    "named steps around a deep sum": "q = " + "+".join(["x"] * 900) + "; f = q * x",
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_formulas_within_the_length_limit_parse_and_evaluate(name):
    from chainrule.cli import explain

    text = DEEP[name]
    assert len(text) <= 2000
    limit = sys.getrecursionlimit()
    f = explain._with_deep_stack(lambda: parse(text))
    got = explain._with_deep_stack(lambda: f(1.0))
    assert sys.getrecursionlimit() == limit
    want = {"999-term sum": 999.0, "999-factor product": 1.0, "1990 unary minuses": 1.0,
            "666-level power tower": 1.0, "named steps around a deep sum": 900.0}[name]
    assert float(got) == want


def test_999_term_sum_through_the_command(capsys):
    code, out, err = run(capsys, DEEP["999-term sum"], "--x", "2", "--no-files", "--width", "200")
    assert code == 0, err
    assert "Traceback" not in out + err and "Backward pass" in out
    assert " 1998 " in row(out, "f (output)")  # f = 999 * 2
    assert "= 999" in out.split(row(out, "x"))[1].split("local gradient:")[0]  # df/dx, summed


def test_too_deep_is_a_one_line_error(capsys, monkeypatch):
    from chainrule.cli import explain

    monkeypatch.setattr(explain, "RECURSION_LIMIT", 0)  # Python's own limit (1000 frames) applies
    limit = sys.getrecursionlimit()
    code, out, err = run(capsys, DEEP["999-term sum"], "--x", "1", "--no-files")
    assert sys.getrecursionlimit() == limit
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("chainrule explain: error: ") and "nested too deeply" in err
    assert len(err.strip().splitlines()) == 1


def test_deep_formula_from_python_is_a_formula_error():
    """parse() outside the command keeps Python's own limit: too deep is a FormulaError."""
    import threading

    box = {}

    def target():
        try:
            parse("+".join(["x"] * 999))
        except Exception as e:  # noqa: BLE001 - recorded for the assertion
            box["e"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    assert isinstance(box.get("e"), FormulaError) and "nested too deeply" in str(box["e"])
