"""The step-through page in a real headless browser (the system Chromium, driven by Playwright).

Skipped, with the reason, when Playwright or Chromium is not installed:
``apt-get install chromium`` and ``pip install playwright`` (no ``playwright install``).
"""

from __future__ import annotations

import pytest

from chainrule.viz import examples, label, trace
from chainrule.viz.browser import launch, why_unavailable
from chainrule.viz.circuit import have_dot, short_label

_reason = why_unavailable()
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"no headless browser: {_reason}")

EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


class Page:
    """A loaded page that records console errors, uncaught exceptions and dialogs."""

    def __init__(self, browser, path):
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def dialog(d):
            self.errors.append(f"dialog: {d.message}")
            d.dismiss()

        self.page.on("dialog", dialog)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("document.body.dataset.step === '0'")

    def text(self, sel: str) -> str:
        return self.page.text_content(sel)

    def current(self) -> list[str]:
        return self.page.eval_on_selector_all("#diagram .current", "els => els.map(e => e.id)")

    def grad_hidden(self, wire_id: str) -> bool:
        return self.page.evaluate(
            """id => { const ts = [...document.getElementById(id).querySelectorAll('text')]
                       .filter(t => (t.getAttribute('fill') || '').toLowerCase() === '#c62828');
                       return ts.length > 0 && ts.every(t => t.classList.contains('hidden')); }""",
            wire_id)

    def close(self):
        self.page.close()


@pytest.mark.parametrize("layout", ["graphviz", "simple"])
def test_steps_forward_and_back(browser, tmp_path, layout):
    if layout == "graphviz" and not have_dot():
        pytest.skip("the graphviz 'dot' program is not installed")
    c = trace(examples.cs231n)(*examples.CS231N_ARGS)
    path = tmp_path / "cs231n.html"
    c.to_html(path, layout=layout)
    pg = Page(browser, path)
    try:
        ids = {n.name: f"n{n.id}" for n in c.nodes}
        assert pg.current() == [ids["x"]] and pg.text("#cur-name") == "x"
        assert pg.text("#cur-value") == "-2" and pg.text("#phase") == "forward pass"
        for _ in range(3):
            pg.page.click("#next")
        assert pg.current() == [ids["q"]]
        assert pg.text("#cur-name") == "q" and pg.text("#cur-value") == "3"
        assert pg.text("#cur-local") == "∂q/∂x = 1\n∂q/∂y = 1"
        assert pg.grad_hidden("e0_3_0")  # no gradients during the forward pass
        pg.page.click("#next")
        assert pg.current() == [ids["f"]] and pg.text("#cur-value") == "-12"
        pg.page.click("#next")  # the backward pass starts at the output
        assert pg.text("#phase") == "backward pass" and pg.current() == [ids["f"]]
        assert pg.text("#cur-upstream") == "1 (seed)"
        assert pg.text("#cur-passed") == "q: (-4) × 1 = -4\nz: 3 × 1 = 3"
        assert pg.grad_hidden("e0_3_0") and not pg.grad_hidden("e3_4_0")
        pg.page.click("#next")
        assert pg.current() == [ids["q"]] and pg.text("#cur-upstream") == "-4"
        assert pg.text("#cur-passed") == "x: 1 × (-4) = -4\ny: 1 × (-4) = -4"
        assert not pg.grad_hidden("e0_3_0")
        assert pg.page.get_attribute(f"#row{c['q'].id}", "class") == "current"
        pg.page.click("#prev")  # and back again
        assert pg.current() == [ids["f"]] and pg.text("#cur-upstream") == "1 (seed)"
        assert pg.grad_hidden("e0_3_0")
        pg.page.keyboard.press("End")
        assert pg.current() == [ids["x"]] and pg.text("#cur-upstream") == "-4"
        assert pg.text("#stepinfo").startswith("step 10 of 10")
        assert pg.errors == []
    finally:
        pg.close()


def test_user_label_is_shown_as_text(browser, tmp_path):
    def f(x, y):
        return label(x * y, EVIL) + x

    c = trace(f)(2.0, 3.0)
    path = tmp_path / "evil.html"
    c.to_html(path)
    pg = Page(browser, path)
    try:
        assert pg.page.evaluate("typeof window.__pwned") == "undefined"
        assert pg.page.evaluate("document.querySelectorAll('img').length") == 0
        pg.page.click("#next")
        pg.page.click("#next")
        assert pg.text("#cur-name") == EVIL
        assert EVIL in pg.text("#rows")
        # the SVG label, as text: cut short in the picture, whole in the node's tooltip
        assert short_label(EVIL) in pg.text("#diagram")
        assert pg.page.evaluate(
            """evil => [...document.querySelectorAll('#diagram a, #diagram title')].some(a =>
                 (a.getAttributeNS('http://www.w3.org/1999/xlink', 'title') || a.textContent || '')
                 .includes(evil))""", EVIL)
        assert pg.page.evaluate("typeof window.__pwned") == "undefined"
        assert pg.errors == []
    finally:
        pg.close()
