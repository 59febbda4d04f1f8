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


def assert_evidence_backs(d: dict) -> None:
    """The numbers in a diagnosis's evidence (not its probabilities) that its verdict stands on: the
    capability on the test maps, each goal's where the goals differ, the preference, and the specified
    reward's two returns against their tie (labellers who agree: no spread)."""
    from gmg.diagnose import CAPABILITY_FLOOR, PREFERENCE_LINE

    e, roles, verdict = d["evidence"], d["goals"], d["verdict"]
    cap, cf = e["capability"], e["counterfactual"]
    apart = {role: cap["where_goals_differ"]["per_goal"][goal]["score"] for role, goal in roles.items()}
    if verdict == "capability_failure":
        assert cap["test"]["score"] < CAPABILITY_FLOOR or apart["proxy"] < CAPABILITY_FLOOR, (cap, apart)
        return
    assert cap["test"]["score"] >= CAPABILITY_FLOOR
    prefers_intended = e["posterior_where_goals_differ"][roles["intended"]] >= PREFERENCE_LINE
    if verdict in ("generalizes", "partly_generalizes"):
        assert prefers_intended and (apart["intended"] >= CAPABILITY_FLOOR) == (verdict == "generalizes"), apart
        return
    assert not prefers_intended and apart["proxy"] >= CAPABILITY_FLOOR and cf["gap_spread"] == 0, (apart, cf)
    gap = cf["intended_return"] - cf["observed_return"]
    assert {"goal_misgeneralization": gap > cf["tie"], "specification_gaming": gap < -cf["tie"],
            "reward_indifferent": abs(gap) <= cf["tie"]}[verdict], (verdict, cf["observed_return"], cf["intended_return"])
