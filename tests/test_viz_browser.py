"""The step-through page's zoom and pan, and the size of its labels, in a real headless browser.

Skipped, with the reason, when Playwright or Chromium is not installed (see test_browser.py).
Screenshots of each case are written to the test's temporary folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.viz import trace
from chainrule.viz.browser import launch, why_unavailable
from chainrule.viz.circuit import have_dot

_reason = why_unavailable()
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"no headless browser: {_reason}")

LAYOUTS = ["simple", "graphviz"] if have_dot() else ["simple"]

# font size in screen pixels of every diagram text that is (at least partly) inside the view
VISIBLE_FONTS = """() => {
  const c = document.getElementById('diagram').getBoundingClientRect(), px = [];
  for (const t of document.querySelectorAll('#diagram svg text')) {
    const f = parseFloat(t.getAttribute('font-size')); if (!f) continue;
    const r = t.getBoundingClientRect();
    if (r.right < c.left || r.left > c.right || r.bottom < c.top || r.top > c.bottom) continue;
    px.push(f * t.getScreenCTM().a);
  }
  return px; }"""

INSIDE = """id => { const r = document.getElementById(id).getBoundingClientRect(),
                     c = document.getElementById('diagram').getBoundingClientRect();
  return r.left >= c.left - 1 && r.right <= c.right + 1 && r.top >= c.top - 1
         && r.bottom <= c.bottom + 1; }"""

# the SVG point under a screen point (relative to the diagram)
SVG_POINT = """([x, y]) => { const svg = document.querySelector('#diagram svg');
  const c = document.getElementById('diagram').getBoundingClientRect();
  const p = new DOMPoint(c.left + x, c.top + y).matrixTransform(svg.getScreenCTM().inverse());
  return [p.x, p.y]; }"""


def chain(n_ops: int):
    """A network of ``n_ops`` operations: h <- tanh(h * w[i]), three ops per step."""
    def net(x, w):
        h = x
        for i in range(n_ops // 3):
            h = np.tanh(h * w[i])
        return h

    return trace(net)(0.5, np.linspace(0.5, 1.5, n_ops // 3))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def open_page(browser, comp, path, layout):
    comp.to_html(path, layout=layout)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(path.resolve().as_uri())
    page.wait_for_function("document.body.dataset.step === '0'")
    return page, errors


def scale(page) -> float:
    return float(page.evaluate("document.getElementById('diagram').dataset.scale"))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n_ops", [20, 50])
def test_labels_stay_readable_and_the_view_follows_the_steps(browser, tmp_path, layout, n_ops):
    comp = chain(n_ops)
    assert len(comp.nodes) - len(comp.inputs) >= n_ops - 2
    page, errors = open_page(browser, comp, tmp_path / "net.html", layout)
    try:
        fonts = page.evaluate(VISIBLE_FONTS)
        assert len(fonts) >= 5 and min(fonts) >= 10, fonts  # not shrunk to fit: ~4 px before
        page.screenshot(path=str(tmp_path / f"net{n_ops}_{layout}_start.png"))
        for k in range(len(comp.nodes)):  # the whole forward pass, then part of the backward
            page.click("#next")
            cur = page.evaluate("document.querySelector('#diagram .current').id")
            assert page.evaluate(INSIDE, cur), f"step {k + 1}: the current node {cur} is out of view"
        fonts = page.evaluate(VISIBLE_FONTS)
        assert min(fonts) >= 10, fonts
        page.screenshot(path=str(tmp_path / f"net{n_ops}_{layout}_backward.png"))
        assert (tmp_path / f"net{n_ops}_{layout}_backward.png").stat().st_size > 5000
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_zoom_buttons_wheel_drag_and_fit(browser, tmp_path, layout):
    comp = chain(50)
    page, errors = open_page(browser, comp, tmp_path / "net.html", layout)
    try:
        s0 = scale(page)
        page.click("#zoom-in")
        assert scale(page) == pytest.approx(1.25 * s0)
        page.click("#zoom-out")
        page.click("#zoom-out")
        assert scale(page) == pytest.approx(0.8 * s0)
        page.click("#zoom-home")
        assert scale(page) == pytest.approx(s0)

        # the wheel zooms about the cursor: the circuit point under it stays under it
        box = page.locator("#diagram").bounding_box()
        mx, my = 300, 200
        before = page.evaluate(SVG_POINT, [mx, my])
        page.mouse.move(box["x"] + mx, box["y"] + my)
        page.mouse.wheel(0, -300)
        page.wait_for_function(f"parseFloat(document.getElementById('diagram').dataset.scale) > {s0}")
        after = page.evaluate(SVG_POINT, [mx, my])
        assert after == pytest.approx(before, abs=0.5)
        s1 = scale(page)
        assert s1 > s0

        # dragging pans by the distance dragged, at the current scale
        before = page.evaluate(SVG_POINT, [mx, my])
        page.mouse.down()
        page.mouse.move(box["x"] + mx + 120, box["y"] + my + 40, steps=4)
        page.mouse.up()
        after = page.evaluate(SVG_POINT, [mx, my])
        assert after[0] == pytest.approx(before[0] - 120 / s1, abs=0.5)
        assert after[1] == pytest.approx(before[1] - 40 / s1, abs=0.5)
        assert scale(page) == s1

        # fit: the whole circuit in view, every node inside the box
        page.click("#zoom-fit")
        ids = page.evaluate("[...document.querySelectorAll('#diagram .node')].map(e => e.id)")
        assert len(ids) >= len(comp.nodes) and all(page.evaluate(INSIDE, i) for i in ids)
        page.screenshot(path=str(tmp_path / f"fit_{layout}.png"))
        # keyboard: + zooms in, 0 fits again
        fit = scale(page)
        page.keyboard.press("+")
        assert scale(page) == pytest.approx(1.25 * fit)
        page.keyboard.press("0")
        assert scale(page) == pytest.approx(fit)
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_long_label_is_short_in_the_picture_and_whole_on_hover(browser, tmp_path, layout):
    from chainrule.viz import label
    from chainrule.viz.circuit import short_label

    long = "the_reconstruction_error_of_layer_two"
    comp = trace(lambda x, y: label(x * y, long) + x)(2.0, 3.0)
    page, errors = open_page(browser, comp, tmp_path / "long.html", layout)
    try:
        node = f"n{comp[long].id}"
        texts = page.evaluate(f"[...document.querySelectorAll('#{node} text')].map(t => t.textContent)")
        assert short_label(long) in texts and long not in texts
        tip = page.evaluate(
            f"""() => {{ const g = document.getElementById('{node}');
                 const a = g.closest('a') || g.querySelector('a');
                 const t = g.querySelector('title');
                 return [a ? a.getAttributeNS('http://www.w3.org/1999/xlink', 'title') : null,
                         t ? t.textContent : null]; }}""")
        assert any(long in (x or "") for x in tip), tip
        # the gate stays small: not as wide as the whole name would make it
        width = page.evaluate(f"document.getElementById('{node}').getBoundingClientRect().width")
        assert width < 20 * len(short_label(long)), width
        assert errors == []
    finally:
        page.close()
