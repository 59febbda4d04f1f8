"""Shared-server load and fault measurements in real Chromium: the job queue, closed tabs, a killed server.

    python benchmarks/bench_server.py                 # all three scenarios (~3-4 min on 2 cores)
    python benchmarks/bench_server.py --visitors 4    # a lighter first scenario

1. Visitors: N browser sessions open Explore at once, each with its own seed (so nothing is
   cached) at 1M training steps. Printed: the most training processes seen at once against the
   server's limit, and per visitor the seconds to the first animated frame and whether the page
   showed its place in the queue.
2. Closed tabs: 8 sessions open a very long run each and close their tab as soon as training or
   waiting shows. Printed: the seconds until no training process of the server is left.
3. Killed server: runs of every kind (Explore, Tree study, seed study, sweep, preset) are
   started, then the server is killed with -9. Printed: processes it started that are still
   alive 1, 3 and 5 s later.
Needs Debian's chromium and playwright (requirements-dev.txt).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import exit_with, machine_line
from tests.helpers import descendants

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"]
PLAY = ".updatemenu-button"


def start_server(store: str, app: Path = ROOT / "app.py") -> tuple[subprocess.Popen, str]:
    """`streamlit run` of `app` (the explorer by default) on a free port, with its run store in `store`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app.name, "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=app.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "GMG_RUN_STORE": store})
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return server, url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("streamlit did not start")


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
                out.add(pid)
        except OSError:
            pass
    return out


class ProcessCounter:
    """The most descendants of `pid` seen at once, sampled every 0.1 s in a thread."""

    def __init__(self, pid: int):
        self.pid, self.most, self._stop = pid, 0, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop.wait(0.1):
            self.most = max(self.most, len(descendants(self.pid)))

    def stop(self) -> int:
        self._stop.set()
        return self.most


def visitors(url: str, server: subprocess.Popen, count: int) -> None:
    """N sessions at once, each watched by its own task (async Playwright), so one slow page does not
    delay the others' timings."""
    import asyncio

    from playwright.async_api import async_playwright

    from gmg import caps

    async def visit(browser, i: int, opened: float) -> tuple[float | None, bool]:
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await page.goto(f"{url}/explore?seed={100 + i}&train_steps=1000000", wait_until="commit", timeout=120_000)
        queued = page.get_by_text("Waiting for a free place")
        saw_queue, frame = False, None
        while time.perf_counter() - opened < 900:
            if await page.locator(PLAY, has_text="Play").count():
                frame = time.perf_counter() - opened
                break
            saw_queue = saw_queue or bool(await queued.count())
            await asyncio.sleep(0.5)
        await page.context.close()
        return frame, saw_queue

    async def main() -> list:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            opened = time.perf_counter()
            results = await asyncio.gather(*(visit(browser, i, opened) for i in range(count)))
            await browser.close()
            return results

    counter = ProcessCounter(server.pid)
    results = asyncio.run(main())
    most = counter.stop()
    print(f"\n1. {count} visitors at once, 1M steps each: at most {most} training processes at once "
          f"(limit {caps.job_limit()})")
    print("visitor | seconds to first frame | showed its place in the queue")
    for i, (frame, saw_queue) in enumerate(results):
        shown = f"{frame:.1f}" if frame is not None else "none in 900 s"
        print(f"{i:7d} | {shown:>22} | {'yes' if saw_queue else 'no'}")


def closed_tabs(browser, url: str, server: subprocess.Popen, tabs: int = 8) -> None:
    contexts = []
    for i in range(tabs):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/explore?seed={90_000 + i}&train_steps=5000000&n_envs=4096&eval_episodes=2000",
                  wait_until="commit", timeout=120_000)
        page.locator("[data-testid='stProgress'], [data-testid='stAlert']").first.wait_for(timeout=120_000)
        contexts.append(context)
    busy = len(descendants(server.pid))
    for context in contexts:
        context.close()
    closed = time.perf_counter()
    while descendants(server.pid) and time.perf_counter() - closed < 60:
        time.sleep(0.1)
    left = len(descendants(server.pid))
    print(f"\n2. {tabs} tabs closed with their runs training or queued ({busy} training processes): "
          f"{left} left after {time.perf_counter() - closed:.1f} s")


def killed_server(browser, url: str, server: subprocess.Popen) -> None:
    links = ["explore?seed=7&train_steps=5000000", "tree?tree_train_steps=2000000&tree_seed=3",
             "compare?seed=8&train_steps=5000000"]
    pages = []
    for link in links:
        page = browser.new_page()
        page.goto(f"{url}/{link}", wait_until="commit", timeout=120_000)
        pages.append(page)
    for link, button in (("seeds?seed=9&train_steps=5000000", "Train every seed"), ("sweep", "Run the sweep")):
        page = browser.new_page()
        page.goto(f"{url}/{link}", wait_until="commit", timeout=120_000)
        try:
            page.get_by_text(button).click(timeout=120_000)
        except Exception as exc:  # say so and go on: the crash is measured on what did start
            print(f"   could not press {button!r} on {link}: {type(exc).__name__}")
        pages.append(page)
    time.sleep(5)
    started = descendants(server.pid)
    server.send_signal(signal.SIGKILL)
    server.wait()
    killed = time.perf_counter()
    print(f"\n3. Server killed with -9 while {len(started)} of its processes ran "
          "(Explore, Tree, a preset's two agents, a seed study and a sweep, queued past the limit):")
    for after in (1, 3, 5):
        time.sleep(max(0.0, killed + after - time.perf_counter()))
        print(f"   after {after} s: {len(alive(started))} still alive")


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(machine_line("server"))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as store:
        server, url = start_server(store)
        try:
            visitors(url, server, args.visitors)  # async Playwright: before the sync API takes this thread
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
                closed_tabs(browser, url, server)
                killed_server(browser, url, server)
                browser.close()
        finally:
            if server.poll() is None:
                server.kill()
    return 0


if __name__ == "__main__":
    exit_with(main)
