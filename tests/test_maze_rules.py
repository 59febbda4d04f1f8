"""Rules of the cheese maze: hand-drawn maps and action strings, generated mazes are trees, the decision square."""

from __future__ import annotations

import numpy as np
import pytest

from gmg import grid
from gmg.envs import maze as maze_module
from gmg.envs.levels import FAR
from gmg.envs.maze import MazeConfig, MazeEnv
from tests.test_coin_rules import play

REWARD = 4.0
COST = 0.25  # per step


def make_env(size=5, **overrides) -> MazeEnv:
    return MazeEnv(MazeConfig(size=size, object_reward=REWARD, step_cost=COST, **overrides))


def docstring_map() -> str:
    doc = maze_module.__doc__
    return doc[doc.index("::") + 2: doc.index("With \"uurrrr\"")]


def test_docstring_example_plays_as_described():
    env = make_env()
    state = env.from_ascii(docstring_map())
    assert tuple(divmod(int(state.decision[0]), 5)) == (2, 0)
    _, total, ev, term = play(env, state, "uurrrr")
    assert (total, ev["cheese"], ev["decision"], ev["decision_to_cheese"], term) == (REWARD - 6 * COST, 1, 1, 1, True)
    _, total, ev, term = play(env, env.from_ascii(docstring_map()), "uuuurrrr")
    assert (total, ev["corner"], ev["decision"], ev["decision_to_cheese"], term) == (-8 * COST, 1, 1, 0, False)


def test_walls_block_and_the_decision_is_counted_once():
    env = make_env()
    state, total, ev, term = play(env, env.from_ascii(docstring_map()), "rruuduu")
    assert env.to_ascii(state).splitlines()[1] == "@####"  # right is a wall; on the decision square twice
    assert ev["decision"] == 1 and total == -7 * COST


def test_cheese_in_the_corner_has_no_decision_square():
    env = make_env()
    state = env.from_ascii(docstring_map().replace("h", ".").replace(".....\n", "....h\n", 1))
    assert state.decision[0] == -1


def test_generated_mazes_are_trees_with_everything_reachable():
    env = make_env(size=9)
    state = env.reset(np.random.default_rng(0), 200, "test")
    free = ~state.walls
    rooms = 25
    assert (free.sum(1) == 2 * rooms - 1).all()  # a spanning tree of 25 rooms opens 24 passages
    start = grid.flat(env.start_cell(9), 9)
    assert (state.end_dist[:, start] < FAR).all() and (state.obj_dist[free] < FAR).all()


@pytest.mark.parametrize("region", [1, 5])
def test_training_cheese_lies_in_the_top_right_region(region):
    env = make_env(size=9, cheese_region=region)
    state = env.reset(np.random.default_rng(2), 300, "train")
    assert (state.obj[:, 0] < region).all() and (state.obj[:, 1] >= 9 - region).all()
    distinct = len({tuple(c) for c in state.obj})
    assert distinct == 1 if region == 1 else distinct > 5


def test_test_cheese_is_anywhere_and_decisions_exist():
    env = make_env(size=9)
    state = env.reset(np.random.default_rng(3), 300, "test")
    assert len({tuple(c) for c in state.obj}) > 20 and (state.decision >= 0).mean() > 0.3


def test_with_object_at_moves_the_cheese_and_restarts():
    env = make_env(size=9)
    state = env.reset(np.random.default_rng(4), 2, "test")
    cells = grid.cell_grid(9, 9)[~state.walls[1]][:5]
    moved = env.with_object_at(state, 1, cells)
    assert (moved.obj == cells).all() and (moved.walls == state.walls[1]).all()
    assert (moved.obj_dist[np.arange(5), grid.flat(cells, 9)] == 0).all()


def test_the_corner_reward_is_paid_once_per_episode():
    env = make_env(target_reward=3.0)
    _, total, ev, term = play(env, env.from_ascii(docstring_map()), "uuuurrrrlrlr")
    assert (total, ev["corner"], ev["step"], term) == (3.0 - 12 * COST, 1, 12, False)  # in and out twice more: nothing
