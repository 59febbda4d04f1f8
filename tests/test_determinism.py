"""Determinism, for every registered environment (a new env in gmg.envs.ENVS is tested by default).

- the same seed gives the same rollout;
- a batch of B rows equals B single runs started from the same keys, under the same actions;
- `step` and `observe` do not modify their input state;
- a short seeded training run, done twice, gives identical learned parameters;
- train + evaluate (the CLI's and the UI's unit) gives the same summary twice.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.experiment import run, summary
from gmg.keys import new_keys
from gmg.train import Experiment, train

ENV_NAMES = list(ENVS)
B, T = 6, 60


def fields_of(state) -> dict:
    if dataclasses.is_dataclass(state):
        return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    return dict(vars(state))


def assert_same(a, b, path="value"):
    """Deep equality over dicts, lists, tuples, arrays, states and scalars, with a path in the message."""
    if dataclasses.is_dataclass(a) or hasattr(a, "__dict__") and not isinstance(a, np.ndarray):
        a, b = fields_of(a), fields_of(b)
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ"
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert x.shape == y.shape and x.dtype == y.dtype, f"{path}: {x.shape}/{x.dtype} vs {y.shape}/{y.dtype}"
        assert np.array_equal(x, y), f"{path} differs"


def row_of(value, i: int):
    """Row i of a batched structure (arrays with a leading batch axis; scalars are shared)."""
    if dataclasses.is_dataclass(value) or hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
        return {k: row_of(v, i) for k, v in fields_of(value).items()}
    if isinstance(value, dict):
        return {k: row_of(v, i) for k, v in value.items()}
    array = np.asarray(value)
    return array if array.ndim == 0 else array[i : i + 1]


def rollout(env, seed: int, batch: int = B, steps: int = T) -> list:
    rng = np.random.default_rng(seed)
    state = env.reset(rng, batch, "train")
    trace = [(state, env.observe(state))]
    for _ in range(steps):
        state, reward, events, terminated, _ = env.step(state, rng.integers(0, env.n_actions, batch))
        trace.append((state, reward, events, terminated, env.observe(state)))
    return trace


@pytest.fixture(params=ENV_NAMES)
def env(request):
    return ENVS[request.param]()


def test_registry_is_not_empty():
    assert ENV_NAMES and list(AGENTS)


def test_same_seed_same_rollout(env):
    assert_same(rollout(env, 3), rollout(env, 3))


def test_different_seeds_differ(env):
    with pytest.raises(AssertionError):
        assert_same(rollout(env, 3), rollout(env, 4))


def test_batch_equals_single_runs(env):
    keys = new_keys(np.random.default_rng(11), B)
    actions = np.random.default_rng(12).integers(0, env.n_actions, (T, B))
    batch = env.reset_from_keys(keys)
    singles = [env.reset_from_keys(keys[i : i + 1]) for i in range(B)]
    for i in range(B):
        assert_same(row_of(batch, i), row_of(singles[i], 0), f"reset row {i}")
    for t in range(T):
        batch, reward, events, terminated, _ = env.step(batch, actions[t])
        batch_obs = env.observe(batch)
        for i in range(B):
            singles[i], r, ev, term, _ = env.step(singles[i], actions[t, i : i + 1])
            where = f"step {t} row {i}"
            assert_same(row_of(batch, i), row_of(singles[i], 0), f"{where} state")
            assert_same(reward[i : i + 1], r, f"{where} reward")
            assert_same(row_of(events, i), ev, f"{where} events")
            assert_same(terminated[i : i + 1], term, f"{where} terminated")
            assert_same(row_of(batch_obs, i), env.observe(singles[i]), f"{where} observation")


def test_batch_rows_do_not_depend_on_their_order(env):
    keys = new_keys(np.random.default_rng(5), B)
    order = np.random.default_rng(6).permutation(B)
    actions = np.random.default_rng(7).integers(0, env.n_actions, (T, B))
    a, b = env.reset_from_keys(keys), env.reset_from_keys(keys[order])
    for t in range(T):
        a, ra, *_ = env.step(a, actions[t])
        b, rb, *_ = env.step(b, actions[t, order])
        assert_same(ra[order], rb, f"step {t} reward")
    for j, i in enumerate(order):
        assert_same(row_of(a, int(i)), row_of(b, j), f"row {i}")


def test_step_and_observe_do_not_modify_their_input(env):
    rng = np.random.default_rng(2)
    state = env.reset(rng, B, "train")
    for _ in range(T):
        before = copy.deepcopy(state)
        next_state, *_ = env.step(state, rng.integers(0, env.n_actions, B))
        assert_same(state, before, "state after step")
        env.observe(state)
        assert_same(state, before, "state after observe")
        state = next_state


@pytest.mark.parametrize("agent_name", list(AGENTS))
@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_seeded_training_is_reproducible(env_name, agent_name):
    experiment = Experiment.build(env_name, agent_name, 7, {"train_steps": 3000, "n_envs": 32})
    a, b = train(experiment), train(experiment)
    assert a.steps_done == b.steps_done
    assert (a.steps_done > 0) == AGENTS[agent_name].learns  # nothing to learn: training is skipped
    assert_same(a.agent.params, b.agent.params, "params")
    drop = lambda curve: [{k: v for k, v in row.items() if k != "seconds"} for row in curve]  # noqa: E731
    assert drop(a.curve) == drop(b.curve)
    if AGENTS[agent_name].learns:
        assert any(np.any(p != 0) for p in a.agent.params.values()), "training changed nothing"
        other = train(Experiment.build(env_name, agent_name, 8, {"train_steps": 3000, "n_envs": 32}))
        with pytest.raises(AssertionError):
            assert_same(a.agent.params, other.agent.params)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_experiment_summary_is_reproducible(env_name):
    experiment = Experiment.build(env_name, "linear_q", 1, {"train_steps": 2000, "n_envs": 32, "eval_episodes": 6})
    a, b = summary(run(experiment)), summary(run(experiment))
    a.pop("train_seconds"), b.pop("train_seconds")
    assert a == b
