"""A headless Chromium for screenshots of the step-through page (Playwright, never downloads a browser).

Uses the system's Chromium (Debian: ``apt-get install chromium``) through
Playwright's Python API (``pip install playwright``; ``playwright install`` is not
needed and not used).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$CHAINRULE_CHROMIUM``, else the first Chromium on ``PATH`` (``/usr/bin/chromium`` on Debian)."""
    env = os.environ.get("CHAINRULE_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in _CANDIDATES:
        hit = shutil.which(name)
        if hit:
            return hit
    return None


def why_unavailable() -> str | None:
    """``None`` when a browser can be driven, else the reason (for ``pytest.skip``)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install playwright)"
    if find_chromium() is None:
        return ("no Chromium found (apt-get install chromium, or set CHAINRULE_CHROMIUM to "
                "the browser's path)")
    return None


def launch(playwright, executable: str | None = None):
    """Launch the system Chromium headless with Playwright's sync API object ``playwright``."""
    exe = executable or find_chromium()
    if exe is None:
        raise RuntimeError(why_unavailable() or "no Chromium found")
    return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)


def screenshot_page(html_path, png_path, *, steps: int = 0, width: int = 1200, height: int = 720,
                    executable: str | None = None) -> Path:
    """Open ``html_path``, press "next" ``steps`` times, and save a screenshot to ``png_path``."""
    reason = why_unavailable() if executable is None else None
    if reason:
        raise RuntimeError(f"cannot take a screenshot: {reason}")
    from playwright.sync_api import sync_playwright

    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p, executable)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(Path(html_path).resolve().as_uri())
            for _ in range(steps):
                page.click("#next")
            page.screenshot(path=str(png_path), full_page=True)
        finally:
            browser.close()
    return png_path
