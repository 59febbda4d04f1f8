"""Real-browser smoke tests: a `streamlit run` server driven by Playwright with Debian's chromium.

Run with `pytest -m e2e`; skipped when chromium or playwright is missing (browsers cannot be
downloaded here, so Playwright is pointed at /usr/bin/chromium or $CHROMIUM).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"]


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: real-browser test (Playwright + chromium), slower than the rest")


@contextlib.contextmanager
def streamlit_server(log_path: Path):
    """A fresh `streamlit run app.py` (cold: no session has run app.py yet, nothing is cached); yields its URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(log_path, "w")  # a file, not a PIPE: no deadlock
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("streamlit did not start")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One server for the session's tests, cold for the first of them (as for a shared link)."""
    with streamlit_server(tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def cold_app_url(tmp_path):
    """A server of this test's own: nothing trained, cached or imported before the test's first visit."""
    with streamlit_server(tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser.new_page(viewport={"width": 1500, "height": 1100})
        browser.close()
