"""Speed, in one run on this machine: environment steps per second against Minigrid's, the time to
reproduce each environment's headline run with its defaults, and (with --browser) the time from
pressing Train to the first animated frame.

    pip install minigrid                          # for the comparison only; gmg does not need it
    python benchmarks/bench_speed.py              # steps/s and one default run per environment (~2 min)
    python benchmarks/bench_speed.py --browser    # also the time to the first animated frame (Chromium)
    python benchmarks/bench_speed.py --quick      # shorter timings

Steps per second: random actions, median of repetitions (time.perf_counter); a batch of B counts B
steps per call. Minigrid: `MiniGrid-Empty-8x8-v0`, one environment, reset when an episode ends.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import exit_with, machine_line

from gmg.envs import ENVS
from gmg.envs.tree import TreeEnv
from gmg.experiment import run
from gmg.studies import STUDIES, StudyRun, run_study
from gmg.train import Experiment

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (1, 256, 1024)
TARGET_RATIO = 100


def minigrid_rate(steps: int, repeats: int) -> float | None:
    try:
        import gymnasium
        import minigrid  # noqa: F401 (registers the MiniGrid ids)
    except ImportError:
        return None
    env = gymnasium.make("MiniGrid-Empty-8x8-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(repeats):
        actions = rng.integers(0, env.action_space.n, steps)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated:
                env.reset()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def gmg_rate(world, batch: int, steps: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    state = world.reset(rng, batch) if isinstance(world, TreeEnv) else world.reset(rng, batch, "test")
    rates = []
    for _ in range(repeats):
        actions = rng.integers(0, 5, (steps, batch))
        start = time.perf_counter()
        for a in actions:
            state = world.step(state, a)[0]
        rates.append(steps * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def throughput(quick: bool) -> None:
    steps, repeats = (200, 2) if quick else (1000, 3)
    reference = minigrid_rate(steps * 5, repeats)
    if reference is None:
        print("Minigrid is not installed (pip install minigrid): no ratio.")
    else:
        print(f"Minigrid MiniGrid-Empty-8x8-v0, one environment: {reference:,.0f} steps/s")
    print(f"gmg steps/s (random actions, {steps} calls per repetition; B worlds per call):")
    print(f"  {'environment':<12}" + "".join(f"{f'B={b}':>14}" for b in BATCHES)
          + ("" if reference is None else f"{f'B={BATCHES[-1]} / Minigrid':>22}"))
    for name, world in [(name, cls()) for name, cls in ENVS.items()] + [("tree", TreeEnv())]:
        rates = [gmg_rate(world, b, max(steps // (1 + b // 256), 20), repeats) for b in BATCHES]
        ratio = "" if reference is None else f"{rates[-1] / reference:>21,.0f}x"
        print(f"  {name:<12}" + "".join(f"{r:>14,.0f}" for r in rates) + ratio, flush=True)
    if reference is not None:
        print(f"  target: batched at least {TARGET_RATIO}x Minigrid's single-environment rate")


def reproduce() -> None:
    print()
    print("Time to reproduce each environment's headline run with its defaults (one seed, train + evaluate):")
    for name in ENVS:
        start = time.perf_counter()
        result = run(Experiment.build(name, ENVS[name].card.agent, 0))
        print(f"  {name:<12} {time.perf_counter() - start:6.1f} s  (training {result.trained.seconds:.1f} s, "
              f"agent {ENVS[name].card.agent})", flush=True)
    for name in STUDIES:
        start = time.perf_counter()
        run_study(StudyRun.build(name, 0))
        print(f"  {name:<12} {time.perf_counter() - start:6.1f} s  (a study: its whole default run)", flush=True)


def first_frame() -> None:
    """Start the app, open Explore cold (its first visit trains the defaults), time the first animated frame."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("GMG_CHROMIUM", "/usr/bin/chromium"),
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            deadline = time.monotonic() + 60
            while True:  # wait for the server
                try:
                    page.goto(f"http://127.0.0.1:{port}/explore?seed=101")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            start = time.perf_counter()
            page.wait_for_selector(".updatemenu-button", timeout=180_000)
            print()
            print(f"From opening Explore (training starts on the first visit) to the first animated frame: "
                  f"{time.perf_counter() - start:.1f} s (Monster defaults, a seed no one trained before)")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--browser", action="store_true", help="also time Train to the first animated frame")
    args = parser.parse_args(argv)
    print(machine_line("speed"))
    print()
    throughput(args.quick)
    reproduce()
    if args.browser:
        first_frame()
    return 0


if __name__ == "__main__":
    exit_with(main)
