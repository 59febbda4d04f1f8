"""The raw observation every episodic environment offers (a general learner reads only this).

Looped over ENVS, so a new environment is checked by default: shapes and dtype, 0/1 channels with
exactly one agent cell, channel and scalar names matching the arrays, the same state giving the
same observation, the state left unmodified, and no call to the hand-made `observe`.
"""

from __future__ import annotations

import numpy as np
import pytest

from gmg.envs import ENVS

B, T = 8, 40


def states(env, seed=0):
    """The reset state and the states of a random walk of T steps (both splits)."""
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        state = env.reset(rng, B, split)
        yield state
        for _ in range(T):
            state, *_ = env.step(state, rng.integers(0, env.n_actions, B))
            yield state


@pytest.mark.parametrize("name", list(ENVS))
def test_shapes_and_one_hot(name):
    env = ENVS[name]()
    assert env.raw_channels[0] == "agent"
    assert len(set(env.raw_channels)) == len(env.raw_channels)
    for state in states(env):
        obs = env.raw_observation(state)
        assert set(obs) == {"grid", "scalars"}
        grid, scalars = obs["grid"], obs["scalars"]
        assert grid.dtype == np.float32 and scalars.dtype == np.float32
        assert grid.ndim == 4 and grid.shape[:2] == (B, len(env.raw_channels))
        assert scalars.shape == (B, len(env.raw_scalars))
        assert set(np.unique(grid)) <= {0.0, 1.0}
        assert (grid[:, 0].sum((1, 2)) == 1).all(), "exactly one agent cell"
        assert np.array_equal(np.argwhere(grid[:, 0])[:, 1:], state.agent)
        assert np.isfinite(scalars).all() and (np.abs(scalars) <= 1).all()


@pytest.mark.parametrize("name", list(ENVS))
def test_deterministic_and_pure(name):
    env = ENVS[name]()
    for a, b in zip(states(env, seed=3), states(env, seed=3)):
        before = a.copy()
        first = env.raw_observation(a)
        for key, value in env.raw_observation(b).items():
            assert np.array_equal(first[key], value)
        for field in vars(before):
            assert np.array_equal(getattr(before, field), getattr(a, field)), f"raw_observation changed {field}"


@pytest.mark.parametrize("name", list(ENVS))
def test_does_not_call_observe(name, monkeypatch):
    env = ENVS[name]()

    def refuse(state):
        raise AssertionError("raw_observation must not read the hand-made features")

    monkeypatch.setattr(env, "observe", refuse)
    for state in states(env):
        env.raw_observation(state)
