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
from gmg.envs import ENVS
from gmg.envs.tree import TreeConfig, TreeEnv
from gmg.studies import StudyRun, run_study
from gmg.studies import tree as tree_study
from gmg.train import Experiment, train

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
    {"train_steps": 6_000, "copies": 3},
    {"train_steps": 6_000, "size": 5, "max_trees": 8, "initial_trees": 8, "r_max": 0.9, "chop_reward": 0.3,
     "epsilon": 0.5, "gamma": 0.9},
    {"train_steps": 6_000, "copies": 2, "shared_rate": 0.0, "count_rate": 0.1, "r_min": 1e-6},
]


@pytest.mark.parametrize("settings", STUDY_SETTINGS)
@pytest.mark.parametrize("seed", [0, 3])
def test_tree_study_runs_match(monkeypatch, settings, seed):
    """The study's compiled loop: the same per-block records, replays, probes, snapshots, learned values and
    references."""

    def fresh_run():
        tree_study.reference_policies.cache_clear()  # the references' long runs are compiled too: run them each time
        return run_study(StudyRun.build("tree", seed, settings))

    numpy_run, compiled_run = both_paths(monkeypatch, fresh_run)
    numpy_run, compiled_run = (dataclasses.replace(r, seconds=0.0) for r in (numpy_run, compiled_run))
    assert_same(numpy_run, compiled_run)
    assert len(compiled_run.replay_steps) == tree_study.REPLAY_WINDOWS


# ---------------------------------------------------------------- the episodic worlds (every registered one)
SMALL_CONFIGS = {  # a second setting per world, away from its defaults
    "monster": {"size": 6, "monsters": 8, "shields": 2, "shield_reward_spread": 0.5, "knockback_distance": 2,
                "monster_extra_step_prob": 0.9, "monster_start_distance": 2},
    "keys": {"size": 5, "train_keys": 6, "train_chests": 4, "test_like_share": 0.5, "key_reward": 0.3,
             "chest_pull_needs_key": True},
    "follow": {"size": 5, "tiles": 7, "partner_speed": 0.6, "partner_pause": 1, "expert_dropout": 0.3,
               "anti_expert_share": 0.5, "copy_reward": 0.5},
    "coin": {"size": 9, "enemy": False, "lava_prob": 0.6, "random_coin_share": 0.5, "object_tiles": 3},
    "maze": {"size": 11, "cheese_region": 5, "random_cheese_share": 0.3, "object_tiles": 1},
}


def world_settings():
    for name in ENVS:
        yield name, {}
        if name in SMALL_CONFIGS:
            yield name, SMALL_CONFIGS[name]


@pytest.mark.parametrize(("name", "settings"), list(world_settings()))
@pytest.mark.parametrize("split", ["train", "test"])
def test_episodes_match(monkeypatch, name, settings, split):
    """Resets, steps, rewards, events, the hand-made features and the raw observation, with episodes
    ending and restarting along the way."""
    env = Experiment.build(name, "random", 0, settings).make_env()

    def play(seed):
        rng = np.random.default_rng(seed)
        state = env.reset(rng, 24, split)
        trace = []
        for _ in range(80):
            step = env.step(state, rng.integers(0, env.n_actions, 24))
            trace.append((step, env.observe(step.state), env.raw_observation(step.state)))
            state = step.state
            done = np.flatnonzero(step.terminated | step.truncated)
            if len(done):
                state.put_rows(done, env.reset(rng, len(done), split))
        return state, trace

    for seed in (0, 1):
        numpy_run, compiled_run = both_paths(monkeypatch, lambda seed=seed: play(seed))
        assert_same(numpy_run, compiled_run)


@pytest.mark.parametrize("name", list(ENVS))
def test_trained_weights_match(monkeypatch, name):
    """A short training run of the world's default agent: the same learned parameters and curve, bit for bit."""
    experiment = Experiment.build(name, ENVS[name].card.agent, 4, {"train_steps": 15_000, "n_envs": 64})

    def learned():
        result = train(experiment)
        return result.agent.params, [{k: v for k, v in row.items() if k != "seconds"} for row in result.curve]

    numpy_run, compiled_run = both_paths(monkeypatch, learned)
    assert_same(numpy_run, compiled_run)


def test_tree_random_walk_matches(monkeypatch):
    """The diagnosis's floor: a random walk stepped by the compiled step, its moves drawn by numpy."""
    config = TREE_CONFIGS[1]
    numpy_run, compiled_run = both_paths(monkeypatch, lambda: tree_study.random_walk.__wrapped__(config))
    assert_same(numpy_run, compiled_run)


@pytest.mark.parametrize(("name", "agent", "settings"), [
    ("keys", "explore_q", {"context_weights": "shared"}),
    ("follow", "explore_q", {"curriculum": "plr", "replay_prob": 0.8}),
    ("monster", "linear_q", {"curriculum": "plr"}),
])
def test_other_agents_weights_match(monkeypatch, name, agent, settings):
    """The agents' compiled part (explore_q's novelty bonus) away from the defaults: other worlds, shared context
    weights, a curriculum whose rows learn only in part."""
    experiment = Experiment.build(name, agent, 2, {"train_steps": 15_000, "n_envs": 64, **settings})

    def learned():
        return train(experiment).agent.params

    numpy_run, compiled_run = both_paths(monkeypatch, learned)
    assert_same(numpy_run, compiled_run)
