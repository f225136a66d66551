"""The documentation runs: every ```python block of README.md and docs/*.md, and the site builds.

How a page is run (docs/writing-docs.md says the same for writers):

* Every fenced block whose info string starts with ``python`` runs. The blocks of one page run in
  order, in one namespace, in a fresh interpreter whose working directory is an empty temporary
  folder (so examples may write files), with matplotlib on its Agg canvas.
* A block whose first line is ``# not run: <reason>`` is skipped; the reason is required and is
  shown to the reader, so nothing is skipped silently.
* A bare fence (no language) right after a python block, with only blank lines between, is the
  block's output: what the block prints must be that text (trailing spaces ignored).
* A block that starts with ``>>>`` is a doctest: the output shown under each prompt is compared
  (whitespace normalised, ``...`` matches anything).
* Errors shown are checked: a statement followed by ``# SomeError: message`` (on its line or on the
  comment lines right below it; ``...`` elides part of the message) must raise that error with
  that message.
* Shown values are checked. An expression statement (the last statement on its line) followed by a
  comment whose leading text is a Python literal (or ``inf``, ``nan``, ``array([...])``,
  ``dtype('float32')``) -- ``cr.grad(f)(1.0)   # 0.54`` or
  ``f(x)   # (-4.0, 3.0)  (why)`` -- must evaluate to that literal (numbers to the
  digits shown: ``0.54`` is 0.535 to 0.545, ``3.`` and ``12`` are exact); ``print(...)   # 24.7041`` must
  print that literal. A comment that is not a literal
  (``# forward mode``) is prose and is not checked. The literal ends at the end of the comment or
  at the first ``;``, ``:``, two spaces or `` (``.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>```+)(?P<info>[^\n`]*)\n"
                   r"(?P<body>.*?)^(?P=indent)(?P=ticks)[ \t]*$", re.M | re.S)
NOT_RUN = re.compile(r"#\s*not run\s*:(?P<reason>.*)")

class Block:
    def __init__(self, page: Path, line: int, info: str, source: str, output: str | None = None):
        self.page, self.line, self.info, self.source = page, line, info, source
        self.output = output  # the bare fence right after the block: what it must print

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        m = NOT_RUN.fullmatch(first.strip())
        if m is None:
            return None
        reason = m["reason"].strip()
        if not reason:
            raise ValueError(f"{self.where}: '# not run:' needs a reason after the colon")
        return reason


def blocks(page: Path) -> list[Block]:
    """The ```python blocks of a markdown page, dedented (fences may sit inside list items).

    A bare fence (no info string) that follows a python block with nothing but blank lines
    between is that block's output."""
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    out = []
    for m, after in zip(fences, [*fences[1:], None]):
        info = m["info"].strip()
        if not (info == "python" or info.startswith(("python ", "py ")) or info == "py"):
            continue
        output = None
        if after is not None and not after["info"].strip() and not text[m.end():after.start()].strip():
            output = _dedent(after["body"], after["indent"])
        line = text.count("\n", 0, m.start()) + 2
        out.append(Block(page, line, info, _dedent(m["body"], m["indent"]), output))
    return out


def _dedent(body: str, indent: str) -> str:
    lines = body.splitlines()
    body = "\n".join(ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines)
    return textwrap.dedent(body) + "\n"


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


# --- claims written as comments -------------------------------------------------------------------

_CUTS = re.compile(r";|:|  | \(")


def claim_of(comment: str):
    """The literal a comment claims, or None for prose. Longest literal prefix ending at a cut."""
    text = comment.lstrip("#").strip()
    ends = sorted({len(text), *(m.start() for m in _CUTS.finditer(text))}, reverse=True)
    for end in ends:
        head = text[:end].strip()
        if not head:
            continue
        try:
            return ("literal", ast.literal_eval(head), head)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
        if _REPR.search(head):
            try:
                return ("repr", eval(head, {"__builtins__": {}}, dict(_REPR_NAMES)), head)  # noqa: S307
            except Exception:  # noqa: BLE001  (prose that happens to look like a call)
                continue
    return None


# NumPy reprs a claim may use besides Python literals: inf, nan, array([...]), dtype('float32').
_REPR_NAMES = {"inf": np.inf, "nan": np.nan, "array": np.array, "dtype": np.dtype}
_REPR = re.compile(r"\b(array|dtype)\(|\b(inf|nan)\b")


def printed_matches(shown: str, claim) -> bool:
    if shown == claim[2]:
        return True
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return matches(value, claim[1], tolerance(claim[2]))


def _as_array(value):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?")


def tolerance(text: str) -> float:
    """Half a unit in the last place shown: '24.7041' allows 5e-5, '0.54' 5e-3, '2.5e-3' 5e-5.

    Integers and NumPy's '3.' are exact (up to float64 rounding)."""
    units = [10.0 ** (int(exp or 0) - len(frac)) for frac, exp in _NUMBER.findall(text) if frac]
    return 0.5 * min(units) if units else 1e-9


def matches(value, claim, atol: float = 1e-9) -> bool:
    """Does a computed value show as the claimed literal, to the digits the claim shows?"""
    if isinstance(claim, dict):
        return (isinstance(value, dict) and set(value) == set(claim)
                and all(matches(value[k], claim[k], atol) for k in claim))
    if isinstance(claim, (str, np.dtype)):
        return value == claim
    if isinstance(claim, bool) or claim is None:
        return value is claim or (isinstance(value, np.bool_) and bool(value) is claim)
    if isinstance(claim, (tuple, list)) and isinstance(value, (tuple, list)):
        return len(value) == len(claim) and all(matches(v, c, atol) for v, c in zip(value, claim))
    got, want = _as_array(value), _as_array(claim)
    if got is None or want is None or got.shape != want.shape:
        return False
    return bool(np.allclose(got, want, rtol=1e-12, atol=atol * (1 + 1e-9), equal_nan=True))


def _trailing_comments(source: str) -> dict[int, str]:
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
    return comments


def run_block(block: Block, namespace: dict) -> None:
    if block.source.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(block.source, namespace, block.where,
                                                   str(block.page), block.line - 1)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        if runner.failures:
            raise AssertionError(f"{block.where}: doctest output differs\n{report.getvalue()}")
        return
    tree = ast.parse(block.source, block.where)
    comments = _trailing_comments(block.source)
    lines = block.source.splitlines()
    last_on_line = {}
    for stmt in tree.body:
        last_on_line[stmt.end_lineno] = stmt
    for stmt in tree.body:
        code = compile(ast.Module([stmt], []), block.where, "exec")
        where = f"{block.where}, line {block.line + stmt.lineno - 1}"
        last = last_on_line[stmt.end_lineno] is stmt
        comment = comments.get(stmt.end_lineno) if last else None
        raised = expected_error(comment, lines, stmt.end_lineno) if last else None
        if raised is not None:
            check_raises(code, namespace, *raised, where)
            continue
        if not isinstance(stmt, ast.Expr) or comment is None:
            exec(code, namespace)
            continue
        call = stmt.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(code, namespace)
            shown = buffer.getvalue()
            sys.stdout.write(shown)
            claim = claim_of(comment)
            if claim is not None and not printed_matches(shown.strip(), claim):
                raise AssertionError(f"{where}: printed {shown.strip()!r}, the page shows {claim[2]!r}")
            continue
        value = eval(compile(ast.Expression(stmt.value), block.where, "eval"), namespace)
        claim = claim_of(comment)
        if claim is not None and not matches(value, claim[1], tolerance(claim[2])):
            raise AssertionError(f"{where}: {ast.unparse(stmt.value)} is {value!r}, "
                                 f"the page shows {claim[2]}")


_ERROR = re.compile(r"#\s*(?P<name>[A-Z]\w*(?:Error|Exception|Warning)):\s?(?P<message>.*)")


def expected_error(comment: str | None, lines: list[str], end_line: int):
    """An error the page says a statement raises: ``# NameError: message`` on its line, or on the
    comment lines right below it (continued over several comment lines; ``...`` elides)."""
    if comment is not None and (m := _ERROR.fullmatch(comment.strip())):
        return m["name"], m["message"]
    following = [ln.strip() for ln in lines[end_line:]]
    if not following or not (m := _ERROR.fullmatch(following[0])):
        return None
    message = [m["message"]]
    for ln in following[1:]:
        if not ln.startswith("#") or _ERROR.fullmatch(ln):
            break
        message.append(ln.lstrip("#").strip())
    return m["name"], " ".join(message)


def check_raises(code, namespace: dict, name: str, message: str, where: str) -> None:
    try:
        exec(code, namespace)
    except Exception as exc:  # noqa: BLE001  (compared by name below)
        names = {k.__name__ for k in type(exc).__mro__}
        if name not in names:
            raise AssertionError(f"{where}: raised {type(exc).__name__}: {exc}; "
                                 f"the page shows {name}") from exc
        pattern = ".*?".join(re.escape(" ".join(part.split())) for part in message.split("..."))
        if not re.search(pattern, " ".join(str(exc).split()), re.S):
            raise AssertionError(f"{where}: {name} says\n  {exc}\nthe page shows\n  {message}") from exc
        return
    raise AssertionError(f"{where}: raised nothing; the page shows {name}: {message}")


def run_page(page: Path) -> dict:
    """Run a page's blocks in order in one namespace; report what ran and what was skipped."""
    namespace = {"__name__": "__main__"}
    ran, skipped = [], []
    for block in blocks(page):
        reason = block.skip_reason
        if reason is not None:
            skipped.append(f"{block.where}: {reason}")
            continue
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                run_block(block, namespace)
        except Exception as exc:  # noqa: BLE001  (any error is the page's failure, named by block)
            sys.stderr.write(printed.getvalue())
            raise AssertionError(f"{block.where} failed:\n{block.source}\n"
                                 f"{type(exc).__name__}: {exc}") from exc
        sys.stderr.write(printed.getvalue())
        if block.output is not None and _normalised(printed.getvalue()) != _normalised(block.output):
            raise AssertionError(f"{block.where}: the block printed\n{printed.getvalue()}\n"
                                 f"the page shows right after it\n{block.output}")
        ran.append(block.where)
    return {"ran": ran, "skipped": skipped}


# --- the tests -------------------------------------------------------------------------------------

def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


RUNNABLE = [p for p in PAGES if blocks(p)]


@pytest.mark.parametrize("page", RUNNABLE, ids=_page_id)
def test_page_examples_run(page, tmp_path):
    rel = _page_id(page)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", COLUMNS="120")
    proc = subprocess.run([sys.executable, __file__, str(page)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{rel}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ran"], f"{rel}: no block ran"


def test_not_run_markers_give_a_reason():
    for page in PAGES:
        for block in blocks(page):
            assert block.skip_reason is None or block.skip_reason.strip()


# The collector itself: each rule fails on the input it exists for.

def _block(source: str) -> Block:
    return Block(ROOT / "README.md", 1, "python", textwrap.dedent(source))


def test_claims_are_checked():
    run_block(_block("x = 2.0\nx * 3          # 6.0  (three times)\n"), {})
    with pytest.raises(AssertionError, match="the page shows 7.0"):
        run_block(_block("x = 2.0\nx * 3          # 7.0\n"), {})
    with pytest.raises(AssertionError, match=r"the page shows \(1.0, 2.0\)"):
        run_block(_block("(1.0, 2.5)     # (1.0, 2.0); a tuple\n"), {})
    with pytest.raises(AssertionError, match="the page shows True"):
        run_block(_block("1 > 2    # True: never\n"), {})
    with pytest.raises(AssertionError, match="printed '3.0000', the page shows '3.1000'"):
        run_block(_block("print(f'{3.0:.4f}')   # 3.1000  (pi?)\n"), {})
    run_block(_block("print(f'{3.14159:.4f}')   # 3.1416  (pi)\nprint('a b')   # the letters\n"), {})
    # prose comments, comments on assignments and on a statement that is not last on its line
    run_block(_block("y = 1.0        # 5.0\n1.0            # forward mode\n1.0; y = 2    # 9\n"), {})


def test_claim_parsing():
    assert claim_of("# 2.0, 15.0; .grad accumulates")[1] == (2.0, 15.0)
    assert claim_of("# {'x': -4.0, 'y': 3.0}")[1] == {"x": -4.0, "y": 3.0}
    assert claim_of("# 6x = 9.0") is None
    assert claim_of("# dtype('float32')")[1] == np.float32 and claim_of("# -inf  (log 0)")[1] == -np.inf
    assert claim_of("# array([0., 1.])")[1].tolist() == [0.0, 1.0]
    assert matches((np.array([3.0, 2.0]),), claim_of("# (array([3., 2.]),)")[1])
    assert claim_of("# information (inf)") is None and claim_of("# arrays(x)") is None
    assert claim_of("# plain data, JSON-ready (c.to_json())") is None
    assert matches(np.array([3.0, 3.0]), [3.0, 3.0]) and not matches(np.ones(3), [1.0, 1.0])
    four = tolerance("24.7041")
    assert matches(24.70412, 24.7041, four) and not matches(24.7042, 24.7041, four)
    assert tolerance("[3., 3.]") == tolerance("12") == 1e-9 and tolerance("2.5e-3") == 0.5e-4
    assert not matches(3.4, [3.0][0], tolerance("3."))


def test_shown_errors_are_checked():
    run_block(_block("{}['k']\n# KeyError: 'k'\n"), {})
    run_block(_block("int('x')   # ValueError: invalid literal ... 'x'\n"), {})
    run_block(_block("int('x')\n# ValueError: invalid literal for int()\n# with base 10: 'x'\nx = 1\n"), {})
    with pytest.raises(AssertionError, match="raised nothing"):
        run_block(_block("int('1')\n# ValueError: invalid literal\n"), {})
    with pytest.raises(AssertionError, match="the page shows TypeError"):
        run_block(_block("int('x')\n# TypeError: invalid literal\n"), {})
    with pytest.raises(AssertionError, match="ValueError says"):
        run_block(_block("int('x')\n# ValueError: could not convert\n"), {})


def test_doctest_blocks_compare_output():
    run_block(_block(">>> 1 + 1\n2\n"), {})
    with pytest.raises(AssertionError, match="doctest output differs"):
        run_block(_block(">>> 1 + 1\n3\n"), {})


def test_a_failing_block_is_named_with_its_page_and_line(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("text\n\n```python\nx = 1\n```\n\n```python\nundefined_name\n```\n")
    with pytest.raises(AssertionError, match=r"(?s)p.md:8 failed:.*NameError"):
        run_page(page)


def test_not_run_needs_a_reason():
    assert _block("# not run: needs a GPU\nimport cupy\n").skip_reason == "needs a GPU"
    assert _block("x = 1\n").skip_reason is None
    with pytest.raises(ValueError, match="needs a reason"):
        _block("# not run:\nx = 1\n").skip_reason  # noqa: B018


def test_an_output_fence_right_after_a_block_is_compared(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("```python\nprint('a  ')\nprint('b')\n```\n\n```\na\nb\n```\n")
    assert run_page(page)["ran"]
    page.write_text("```python\nprint('a')\n```\n\n```\nA\n```\n")
    with pytest.raises(AssertionError, match="the page shows right after it"):
        run_page(page)
    page.write_text("```python\nprint('a')\n```\n\nprose between\n\n```\nA\n```\n")
    assert run_page(page)["ran"]  # not directly after: an illustration, not checked


def test_fences_inside_list_items_are_found(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("* item\n\n  ```python\n  x = 1\n  if x:\n      y = 2\n  ```\n\n```bash\nls\n```\n")
    (found,) = blocks(page)
    assert found.source == "x = 1\nif x:\n    y = 2\n"


# --- the site ------------------------------------------------------------------------------------

API_MODULES = ["chainrule", "chainrule.nn", "chainrule.autograd", "chainrule.optimize", "chainrule.extend"]


def documented_names() -> set[str]:
    """Every ``::: dotted.name`` entry of the API reference pages."""
    found = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        found.update(re.findall(r"^:::\s*([\w.]+)\s*$", page.read_text(encoding="utf-8"), re.M))
    return found


@pytest.mark.parametrize("module_name", API_MODULES)
def test_api_reference_lists_every_public_name(module_name):
    import importlib

    module = importlib.import_module(module_name)
    missing = sorted(n for n in module.__all__ if f"{module_name}.{n}" not in documented_names())
    assert not missing, (f"{module_name}.__all__ names without an entry in docs/api/*.md: {missing}; "
                         f"add '::: {module_name}.NAME' to the right page")


def _is_module(dotted: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def test_api_reference_entries_are_public():
    import importlib

    stale = []
    for entry in sorted(documented_names()):
        module_name, _, name = entry.rpartition(".")
        if module_name not in API_MODULES:
            continue
        module = importlib.import_module(module_name)
        if name not in module.__all__ and not _is_module(entry):
            stale.append(entry)
    assert not stale, f"docs/api/*.md documents names that are not in __all__: {stale}"


def _hook(name: str):
    import importlib.util

    path = ROOT / "docs" / "_hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_docs_hook_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sphinx_roles_become_code():
    pytest.importorskip("griffe", reason="griffe (installed with mkdocstrings[python]) is missing")
    plain = _hook("griffe_roles").plain
    assert plain("see :func:`jacobian`, :class:`~a.b.Primitive`") == "see `jacobian`, `Primitive`"
    assert plain(":py:meth:`x.y` and ``code``") == "`x.y` and ``code``"


def test_generated_name_lists_hold_chainrules_own_functions_only():
    names = _hook("names")
    own = names.own_names("chainrule.numpy")
    assert {"tanh", "sum", "where", "einsum"} <= set(own)
    assert not {"arange", "float32", "pi", "random", "linalg"} & set(own)  # NumPy's own objects
    assert "logsumexp" in names.own_names("chainrule.scipy.special")
    page = names.on_page_markdown("a\n<!-- names: chainrule.numpy.linalg -->\nb")
    assert "`slogdet`" in page and "<!--" not in page


def test_nav_lists_each_page_once():
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with mkdocs) is missing")
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # no !!python tags

    def pages(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from pages(v)
        elif isinstance(node, list):
            for v in node:
                yield from pages(v)

    listed = list(pages(config["nav"]))
    twice = sorted({p for p in listed if listed.count(p) > 1})
    assert not twice, f"mkdocs.yml's nav lists these pages more than once: {twice}"


def test_mkdocs_build_strict(tmp_path):
    if shutil.which("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings[python] is not installed")
    pytest.importorskip("material", reason="mkdocs-material is not installed")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-6000:]


if __name__ == "__main__":
    print(json.dumps(run_page(Path(sys.argv[1]))))
