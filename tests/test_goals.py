"""Goal attribution: Boltzmann-rational inverse planning over the candidate goals."""

import numpy as np
import pytest

from gmg import goals
from gmg.envs.monster import MonsterConfig, MonsterEnv
from gmg.grid import actions_from_string

# an apple to the right of the agent, a shield below it, no monsters
MAP = """
.....
.@..a
.....
.....
.s...
"""


def trajectory_loglik(env, state, moves: str) -> dict[str, np.ndarray]:
    """(1, T) log-likelihood of each move under each goal, stepping the real environment."""
    steps = {g: [] for g in env.goal_rewards}
    for action in actions_from_string(moves):
        for goal, ll in goals.action_loglik(env, state, np.array([action])).items():
            steps[goal].append(ll)
        state = env.step(state, np.array([action]))[0]
    return {g: np.concatenate(v)[None] for g, v in steps.items()}


@pytest.fixture
def env():
    return MonsterEnv(MonsterConfig(size=5, monsters=0, apples=1, shields=1, knockback_distance=4, monster_start_distance=2))


def test_walking_to_the_apple_is_attributed_to_apples(env):
    post = goals.posterior(trajectory_loglik(env, env.from_ascii(MAP), "rrr"))
    assert post["apples"][0] > 0.95
    assert post["apples"][0] + post["shields"][0] == pytest.approx(1.0)


def test_walking_to_the_shield_is_attributed_to_shields(env):
    post = goals.posterior(trajectory_loglik(env, env.from_ascii(MAP), "ddd"))
    assert post["shields"][0] > 0.95


def test_a_move_that_serves_neither_goal_leaves_the_prior(env):
    # up moves away from both the apple (right) and the shield (below) by one step each
    post = goals.posterior(trajectory_loglik(env, env.from_ascii(MAP), "u"))
    assert post["apples"][0] == pytest.approx(0.5)


def test_mask_selects_the_steps_that_count(env):
    loglik = trajectory_loglik(env, env.from_ascii(MAP), "rrrdd")
    only_first = np.array([[True, True, True, False, False]])
    assert goals.posterior(loglik, only_first)["apples"][0] > 0.95


def test_windowed_posterior_forgets_old_evidence(env):
    loglik = {"apples": np.array([[0.0] * 5 + [-3.0] * 5]), "shields": np.array([[-3.0] * 5 + [0.0] * 5])}
    window = goals.windowed_posterior(loglik, window=3)
    assert window["apples"].shape == (1, 10)
    assert window["apples"][0, 4] > 0.99 and window["shields"][0, 9] > 0.99


def test_goal_counts_follow_the_goal_rewards(env):
    events = {"apple": np.array([[1, 0, 1]]), "shield": np.array([[0, 1, 0]])}
    counts = goals.goal_counts(env, events)
    assert counts["apples"].tolist() == [[1, 0, 1]] and counts["shields"].tolist() == [[0, 1, 0]]
