"""Helpers the tests share: playing action strings (rules tests), and opening pages (app tests)."""

import os
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from gmg import grid

ROOT = Path(__file__).resolve().parents[1]


def play(env, state, moves: str):
    """Step a one-row state through an action string -> (final state, rewards, events per step).

    For episodes that must not end on the way (the step asserts it)."""
    rewards, events = [], []
    for action in grid.actions_from_string(moves):
        state, reward, ev, terminated, _ = env.step(state, np.array([action]))
        assert not terminated[0]
        rewards.append(float(reward[0]))
        events.append({name: int(value[0]) for name, value in ev.items()})
    return state, rewards, events


def open_page(path: str, timeout: float = 30, **link) -> AppTest:
    """Run a page file as a visit to a link with these query parameters."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for key, value in link.items():
        at.query_params[key] = str(value)
    return at.run()


def wait_for_training(at: AppTest, timeout: float = 30) -> AppTest:
    """AppTest does not tick run_every fragments: rerun until the page's jobs are collected."""
    deadline = time.monotonic() + timeout
    while "jobs" in at.session_state and any(at.session_state["jobs"].values()):
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.1)
        at.run()
    return at


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, grandchildren ...), from /proc (zombies count as ended);
    the job tests and benchmarks/bench_server.py use it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
