"""The compiled kernels (gmg.compiled) against the numpy code, their oracle: bit-identical states, rewards,
events, observations and learned values, over several seeds and settings.

Each test runs the same thing twice in one process, with `compiled.ENABLED` off (numpy) and on (the
kernels; without numba they run as plain Python, so the test still checks their logic), and asks for
exact equality.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_determinism import assert_same

from gmg import compiled
from gmg.envs.tree import TreeConfig, TreeEnv
from gmg.studies import StudyRun, run_study
from gmg.studies import tree as tree_study

TREE_CONFIGS = [
    TreeConfig(),
    TreeConfig(size=5, max_trees=8, initial_trees=3, r_max=0.9, chop_reward=0.3),
    TreeConfig(size=12, max_trees=30, initial_trees=0, r_min=0.2, permanent_extinction=True, chop_reward=0.7),
]


def both_paths(monkeypatch, function):
    """function() with the numpy code, then with the kernels."""
    results = []
    for enabled in (False, True):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        results.append(function())
    return results


@pytest.mark.parametrize("config", TREE_CONFIGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tree_steps_and_observations_match(monkeypatch, config, seed):
    env = TreeEnv(config)

    def play():
        rng = np.random.default_rng(seed)
        state = env.reset(rng, 32)
        trace = []
        for step, actions in enumerate(rng.integers(0, 5, (200, 32))):
            state, reward, events = env.step(state, actions, grow=step % 50 != 0)  # regrowth off now and then
            trace.append((reward, events, env.observe(state)))
        return state, trace

    numpy_run, compiled_run = both_paths(monkeypatch, play)
    assert_same(numpy_run, compiled_run)


STUDY_SETTINGS = [
    {"train_steps": 12_000, "copies": 3},
    {"train_steps": 6_000, "size": 5, "max_trees": 8, "initial_trees": 8, "r_max": 0.9, "chop_reward": 0.3,
     "epsilon": 0.5, "gamma": 0.9},
    {"train_steps": 6_000, "copies": 2, "shared_rate": 0.0, "count_rate": 0.1, "r_min": 1e-6},
]


@pytest.mark.parametrize("settings", STUDY_SETTINGS)
@pytest.mark.parametrize("seed", [0, 3])
def test_tree_study_runs_match(monkeypatch, settings, seed):
    """The study's compiled loop: the same per-block records, replays, probes, snapshots and learned values."""
    tree_study.reference_policies.cache_clear()  # their long runs are compiled too: run them on both paths
    numpy_run, compiled_run = both_paths(monkeypatch, lambda: run_study(StudyRun.build("tree", seed, settings)))
    numpy_run, compiled_run = (dataclasses.replace(r, seconds=0.0) for r in (numpy_run, compiled_run))
    assert_same(numpy_run, compiled_run)
    assert len(compiled_run.replay_steps) == tree_study.REPLAY_WINDOWS
