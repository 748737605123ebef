"""Serving the reader's edition on 127.0.0.1 and reading it in Debian's headless Chromium through
Playwright: what tests/test_book.py checks, and the screenshots README shows.

    .venv/bin/python -m tests.book_browser docs/     # rewrite docs/book_*.png from build/book/html
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def served(site: Path):
    """The site's base URL, served from a thread on a free port of 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise FileNotFoundError("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshots(site: Path, folder: Path) -> list[Path]:
    """The landing page and notebook 01's page, as a reader's browser shows them."""
    shots = []
    with served(site) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, target in (
            ("book_landing.png", "index.html"),
            ("book_page.png", "01_pooling.html"),
        ):
            page.goto(base + target, wait_until="networkidle")
            shots.append(folder / name)
            page.screenshot(path=str(shots[-1]))
    return shots


if __name__ == "__main__":
    from grader.book import BOOK_DIR

    for shot in screenshots(BOOK_DIR / "html", Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(shot)
