"""Seconds from opening each world's preset link on a cold server to its first animated frame, in real Chromium.

    python benchmarks/bench_presets.py              # every world's preset, 3 cold servers each (~3 min)
    python benchmarks/bench_presets.py --repeats 1
    python benchmarks/bench_presets.py --seed 1     # presets that are not bundled: each trains first

For each world with a preset (its card's `contrast`) and each repetition, a fresh server is started
(not timed: no run is cached and no session has run app.py, as for a link shared before a lecture),
then a 1280x800 page opens `/compare?env=<world>&agent=<the card's agent>` and the clock runs until
the animation's Play button is drawn (the first frame of the maps is on screen). The presets at
those settings ship with the app (gmg/bundled), so nothing trains; a second visit to the same
server is timed too (every figure cached). The floor, timed the same way on a cold server: a
Streamlit page with a title and one small animated Plotly chart (Streamlit and plotly.js alone).
Needs Debian's chromium and playwright (requirements-dev.txt).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_server import BROWSER_ARGS, CHROMIUM, PLAY, start_server
from common import exit_with, machine_line

from gmg.bundle import bundled_folders
from gmg.envs import ENVS

TIMEOUT_MS = 180_000
FLOOR_APP = '''
import plotly.graph_objects as go
import streamlit as st

st.title("One small animated chart")
figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]), frames=[go.Frame(data=[go.Scatter(x=[1, 0], y=[0, 1])])])
figure.update_layout(updatemenus=[dict(type="buttons", buttons=[dict(label="Play", method="animate", args=[None])])])
st.plotly_chart(figure, theme=None)
'''


def preset_link(env_name: str, seed: int) -> str:
    return f"compare?env={env_name}&agent={ENVS[env_name].card.agent}&seed={seed}"


def seconds_to_first_frame(browser, url: str) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    opened = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.locator(PLAY, has_text="Play").wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - opened
    page.close()
    return seconds


def timed_visits(browser, store: str, link: str, repeats: int, app: Path | None = None) -> tuple[list[float], float]:
    """Seconds to the first frame: the first visit to each of `repeats` fresh servers, then a second visit."""
    cold, warm = [], 0.0
    for _ in range(repeats):
        server, url = start_server(store, app) if app else start_server(store)
        try:
            cold.append(seconds_to_first_frame(browser, f"{url}/{link}"))
            warm = seconds_to_first_frame(browser, f"{url}/{link}")
        finally:
            server.kill()
            server.wait()
    return cold, warm


def main() -> int:
    import argparse

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold servers per world (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="the presets' seed (default 0, the bundled one)")
    args = parser.parse_args()
    worlds = [name for name, cls in ENVS.items() if cls.card.contrast is not None]
    bundled = {experiment.env_name for experiment in bundled_folders() if experiment.seed == args.seed}
    print(machine_line("presets"))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("page    | bundled | cold server: seconds to the first animated frame | median | second visit")

    def row(name: str, shipped: str, cold: list[float], warm: float) -> None:
        print(f"{name:7} | {shipped:7} | {', '.join(f'{s:.1f}' for s in cold):48} | "
              f"{statistics.median(cold):6.1f} | {warm:.1f}", flush=True)

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as store:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        floor_app = Path(store) / "floor_app.py"
        floor_app.write_text(FLOOR_APP)
        row("floor", "-", *timed_visits(browser, store, "", args.repeats, floor_app))
        for world in worlds:
            row(world, "yes" if world in bundled else "no",
                *timed_visits(browser, store, preset_link(world, args.seed), args.repeats))
        browser.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    exit_with(main)
