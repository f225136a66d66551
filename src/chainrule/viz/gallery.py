"""Draw the glass-box gallery: ``python -m chainrule.viz.gallery --out docs/images``.

Writes, for the textbook examples in :mod:`chainrule.viz.examples`:

* ``cs231n_circuit.svg`` / ``.png``: CS231n's (x + y) z circuit, values and gradients on the wires
* ``cs231n_explain.txt``: the ``explain()`` table
* ``cs231n.html``: the step-through page, and ``cs231n_stepthrough.png``, a screenshot of it
  in the backward pass (needs Playwright and Chromium; skipped with a note otherwise)
* ``ica_circuit.svg`` / ``.png`` and ``ica_explain.txt``: UFLDL's ICA cost with the tied ``W``
* ``mlp_circuit.svg`` / ``.png``: a 4-layer network, its layers collapsed into labelled boxes

Circuits need the graphviz ``dot`` program.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import examples, trace
from .browser import screenshot_page, why_unavailable
from .circuit import have_dot


def build(out: Path, *, screenshot: bool = True, chromium: str | None = None) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []

    cs = trace(examples.cs231n)(*examples.CS231N_ARGS)
    W, x = examples.ica_args()
    ica = trace(examples.ica_cost, wrt="W")(W, x)
    mlp = trace(examples.mlp_loss, wrt="params")(*examples.mlp_args())

    for comp, stem in ((cs, "cs231n"), (ica, "ica")):
        p = out / f"{stem}_explain.txt"
        p.write_text(comp.explain_text(width=120), encoding="utf-8")
        written.append(p)
    if have_dot():
        written += [cs.render(out / "cs231n_circuit.svg"), cs.render(out / "cs231n_circuit.png"),
                    ica.render(out / "ica_circuit.svg"), ica.render(out / "ica_circuit.png"),
                    mlp.render(out / "mlp_circuit.svg", max_nodes=16),
                    mlp.render(out / "mlp_circuit.png", max_nodes=16)]
    else:
        notes.append("no circuits: the graphviz 'dot' program is not installed")
    page = out / "cs231n.html"
    cs.to_html(page)
    written.append(page)
    if screenshot:
        reason = None if chromium else why_unavailable()
        if reason is None:
            # forward pass (5 steps) + the output and q in the backward pass
            written.append(screenshot_page(page, out / "cs231n_stepthrough.png", steps=6,
                                           height=560, executable=chromium))
        else:
            notes.append(f"no screenshot: {reason}")
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chainrule.viz.gallery", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/images", help="output directory (default: docs/images)")
    ap.add_argument("--no-screenshot", action="store_true", help="skip the browser screenshot")
    ap.add_argument("--chromium", default=None, help="path of the Chromium executable")
    args = ap.parse_args(argv)
    for p in build(Path(args.out), screenshot=not args.no_screenshot, chromium=args.chromium):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
