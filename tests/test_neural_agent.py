"""The neural agent (gmg/agents/neural.py): it reads nothing but the raw observation, a seed fixes
its run, and its numpy gradients are the gradients of its losses."""

from __future__ import annotations

import numpy as np
import pytest

from gmg.agents.neural import (
    LAST_MOVES, NeuralAgent, NeuralConfig, last_move_one_hot, log_softmax, mlp_backward, mlp_forward, mlp_init,
)
from gmg.envs import ENVS
from gmg.experiment import run, summary
from gmg.train import Experiment, train

SHORT = {"train_steps": "2048", "n_envs": "32", "eval_episodes": "4"}


@pytest.mark.parametrize("name", list(ENVS))
def test_reads_only_the_raw_observation(name, monkeypatch):
    def refuse(self, state):
        raise AssertionError("the neural agent must not read the hand-made features")

    monkeypatch.setattr(ENVS[name], "observe", refuse)
    result = run(Experiment.build(name, "neural", 0, SHORT))
    assert result.trained.steps_done == 2048
    assert set(summary(result)["splits"]) == {"train", "test"}


def test_same_seed_same_parameters():
    first, second, other = (train(Experiment.build("coin", "neural", seed, SHORT)).agent.params for seed in (3, 3, 4))
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert not all(np.array_equal(first[k], other[k]) for k in first)
    assert all(w.dtype == np.float32 for w in first.values())


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float64) for k, v in mlp_init(rng, "net", [7, 6, 5, 3], 1.0).items()}
    x = rng.standard_normal((4, 7))
    target = rng.standard_normal((4, 3))

    def loss(p):
        out, cache = mlp_forward(p, "net", x)
        return float(((log_softmax(out) * target).sum())), out, cache

    _, out, cache = loss(params)
    p = np.exp(log_softmax(out))
    grads = mlp_backward(params, "net", cache, target - p * target.sum(1, keepdims=True))
    for name, weight in params.items():
        i = tuple(rng.integers(0, s) for s in weight.shape)
        old = weight[i]
        weight[i] = old + 1e-6
        up = loss(params)[0]
        weight[i] = old - 1e-6
        down = loss(params)[0]
        weight[i] = old
        assert grads[name][i] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-7), name


def test_crop_is_centred_on_the_agent():
    env = ENVS["maze"]()
    agent = NeuralAgent(env, rng=np.random.default_rng(0))
    state = env.reset(np.random.default_rng(0), 5)
    obs = env.raw_observation(state)
    x = agent.encode(obs)
    size = state.size
    side = 2 * size - 1
    walls = x[:, : side * side].reshape(-1, side, side)  # the first channel after the agent's: walls
    for b in range(5):
        r, c = state.agent[b]
        grid = obs["grid"][b, 1]
        # the crop's centre is the agent's cell; the cell (i, j) of the grid sits at offset (i - r, j - c)
        for i in range(size):
            for j in range(size):
                assert walls[b, size - 1 + i - r, size - 1 + j - c] == grid[i, j]


def test_the_grid_view_lays_the_grid_out_as_it_is():
    # the ablation's representation: same channels, row and column, no centring on the agent
    env = ENVS["maze"]()
    agent = NeuralAgent(env, NeuralConfig(view="grid"), rng=np.random.default_rng(0))
    state = env.reset(np.random.default_rng(0), 5)
    obs = env.raw_observation(state)
    x = agent.encode(obs)
    size = state.size
    channels = obs["grid"].shape[1] - 1
    assert x.shape[1] == channels * size * size + 2 * size + obs["scalars"].shape[1]
    assert np.array_equal(x[:, : channels * size * size], obs["grid"][:, 1:].reshape(5, -1))
    assert np.array_equal(x[:, channels * size * size + state.agent[:, 0]].diagonal(), np.ones(5))


def test_the_last_move_reads_which_way_the_agent_stepped():
    row, col = np.array([3, 2, 4, 3, 3, 3]), np.array([3, 3, 3, 2, 4, 3])
    last = np.array([[-1, -1], [3, 3], [3, 3], [3, 3], [3, 3], [3, 3]])
    codes = last_move_one_hot(row, col, last).argmax(1)
    assert [LAST_MOVES[c] for c in codes] == ["episode start", "up", "down", "left", "right", "stayed"]
    assert np.array_equal(last_move_one_hot(row, col, None).argmax(1), np.zeros(6))


def test_memory_is_the_last_move_only_and_starts_afresh_with_each_episode():
    env = ENVS["maze"]()
    plain = NeuralAgent(env, rng=np.random.default_rng(0))
    agent = NeuralAgent(env, NeuralConfig(memory="last_move"), rng=np.random.default_rng(0))
    state = env.reset(np.random.default_rng(0), 4)
    obs = env.raw_observation(state)
    # the same encoding as without memory, plus the move's one-hot: "episode start" before acting
    x = agent.encode(obs)
    assert np.array_equal(x[:, : -len(LAST_MOVES)], plain.encode(obs)) and np.all(x[:, -len(LAST_MOVES)] == 1)
    agent.act(obs, np.random.default_rng(1), explore=False)
    assert np.array_equal(agent.last_cells, state.agent)
    step = env.step(state, np.full(4, 4))  # action 4 = stay (env.n_actions == 5): every row "stayed"
    moved = agent.encode(env.raw_observation(step.state), agent.last_cells)
    assert np.all(moved[:, -1] == 1) and np.array_equal(moved[:, : -len(LAST_MOVES)], plain.encode(env.raw_observation(step.state)))
    agent.end_episodes(np.array([1]))  # row 1 restarts: its next step reads "episode start" again
    assert np.array_equal(agent.last_cells[1], [-1, -1]) and np.array_equal(agent.last_cells[0], state.agent[0])
    agent.begin_episodes()  # a new batch of episodes (an evaluation): nothing remembered
    assert agent.last_cells is None


def test_an_agent_with_memory_trains_and_is_evaluated_with_it():
    result = run(Experiment.build("maze", "neural", 0, {"train_steps": 4096, "eval_episodes": 8, "memory": "last_move"}))
    agent = result.trained.agent
    assert agent.params["actor.w0"].shape[0] == NeuralAgent(result.env).n_inputs + len(LAST_MOVES)
    assert result.rollouts["test"].reward.shape[0] == 8


def test_a_saved_neural_run_reloads_as_the_same_run(tmp_path):
    from gmg.storage import load_run, save_run

    result = run(Experiment.build("keys", "neural", 0, SHORT))
    again = load_run(save_run(result, tmp_path / "run"))
    assert summary(again)["splits"] == summary(result)["splits"]
    assert all(again.trained.agent.params[k].dtype == np.float32 for k in again.trained.agent.params)
