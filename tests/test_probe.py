"""Policy fields: the agent put on every free cell of a recorded state, its greedy moves classified by goal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gmg import grid
from gmg.agents.linear_q import LinearQAgent
from gmg.envs.monster import MonsterConfig, MonsterEnv
from gmg.probe import CATEGORIES, policy_field

# two monsters (the second is killed in the tests), an apple and a shield
MONSTER_MAP = """
M....
.@..a
.....
..M..
.s...
"""
# apple top right, shield bottom left: from every cell the two goals call for different moves
APART_MAP = """
....a
.....
..@..
.....
s....
"""
# apple and shield on the top row: moving right along it serves both
ALIGNED_MAP = """
..s.a
.....
..@..
.....
.....
"""


@pytest.fixture
def env():
    return MonsterEnv(MonsterConfig(size=5, monsters=0, apples=1, shields=1, knockback_distance=4,
                                    monster_start_distance=2))


def cells_of(cells) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in cells}


def agent_valuing(env, feature: str, weight: float = 1.0) -> LinearQAgent:
    """A linear agent whose only nonzero weight is `feature` in the "always" context."""
    agent = LinearQAgent(env)
    # the flat weights start with the (feature, context) grid, row-major, "always" first
    agent.params["weights"][env.feature_names.index(feature) * len(env.context_names)] = weight
    return agent


def test_probe_states_put_the_agent_on_every_free_cell_and_change_nothing_else(env):
    one = env.from_ascii(MONSTER_MAP, inventory=2)
    state = one.rows(np.array([0, 0]))  # two rows; probe the second, where the top-left monster is dead
    state.alive[1, 0] = False
    state.inventory[1] = 3
    before = state.copy()
    probes, cells = env.probe_states(state, row=1)

    taken = {(1, 4), (4, 1), (3, 2)}  # the apple, the shield, the living monster
    assert cells_of(cells) == {(r, c) for r in range(5) for c in range(5)} - taken
    assert len(cells) == len(cells_of(cells)) == len(probes.t) == 22
    assert (0, 0) in cells_of(cells)  # a dead monster's cell is free
    assert (1, 1) in cells_of(cells)  # so is the agent's own
    assert np.array_equal(probes.agent, cells)
    for name in ("monsters", "alive", "apples", "shield_items", "inventory", "t", "key"):
        assert (getattr(probes, name) == getattr(state, name)[1]).all(), name
    for f in dataclasses.fields(state):
        if f.name != "size":
            assert np.array_equal(getattr(state, f.name), getattr(before, f.name)), f"input {f.name} changed"
    probes.agent[:] = 0  # the probes share no memory with the input
    assert np.array_equal(state.agent, before.agent)


@pytest.mark.parametrize("feature, goal_role", [("closer to apple", "intended"), ("closer to shield", "proxy")])
def test_an_agent_valuing_one_object_serves_that_goal_from_every_cell(env, feature, goal_role):
    field = policy_field(env, agent_valuing(env, feature), env.from_ascii(APART_MAP))
    assert len(field.cells) == 23
    assert set(field.serves) == {goal_role}
    assert field.counts[goal_role] == 23 and field.shares[goal_role] == 1.0
    assert sum(field.counts.values()) == 23


def test_moves_that_serve_both_goals_are_grey_and_ties_are_flagged(env):
    field = policy_field(env, agent_valuing(env, "closer to apple"), env.from_ascii(ALIGNED_MAP))
    at = {(int(r), int(c)): i for i, (r, c) in enumerate(field.cells)}
    right = grid.ACTION_KEYS.index("r")
    assert field.actions[at[0, 0]] == right and field.serves[at[0, 0]] == "both"  # toward the shield, then the apple
    assert field.actions[at[0, 3]] == right and field.serves[at[0, 3]] == "intended"  # the shield is behind it
    assert not field.tied[at[0, 0]]
    assert field.tied[at[2, 2]]  # up and right come equally closer to the apple
    assert field.actions[at[2, 2]] in (grid.ACTION_KEYS.index("u"), right)


def test_an_untrained_agent_ties_everywhere_and_its_field_is_reproducible(env):
    state = env.from_ascii(APART_MAP)
    field = policy_field(env, LinearQAgent(env), state)
    again = policy_field(env, LinearQAgent(env), state)
    assert field.tied.all()
    assert np.array_equal(field.actions, again.actions)
    assert len(set(field.actions)) > 1  # drawn at random, not always action 0


def test_a_trained_agent_gives_one_valid_move_per_free_cell(fast_result):
    env, rollout = fast_result.env, fast_result.rollouts["test"]
    state = rollout.frames[10]
    field = policy_field(env, fast_result.trained.agent, state, row=1)
    _, cells = env.probe_states(state, 1)
    assert np.array_equal(field.cells, cells)
    assert field.actions.shape == field.serves.shape == field.tied.shape == (len(cells),)
    assert ((field.actions >= 0) & (field.actions < env.n_actions)).all()
    assert set(field.serves) <= set(CATEGORIES)
    assert sum(field.shares.values()) == pytest.approx(1.0)
