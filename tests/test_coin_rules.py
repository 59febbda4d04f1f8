"""Rules of the coin level, from hand-drawn maps and action strings (constants set away from defaults)."""

from __future__ import annotations

import numpy as np
import pytest

from gmg import grid
from gmg.envs import coin as coin_module
from gmg.envs.coin import CoinConfig, CoinEnv
from gmg.envs.levels import FAR

REWARD = 7.5
PENALTY = 0.5  # for dying


def make_env(size=6, **overrides) -> CoinEnv:
    return CoinEnv(CoinConfig(size=size, object_reward=REWARD, death_penalty=PENALTY, **overrides))


def play(env, state, moves: str):
    """-> (final state, total reward, events summed, terminated at the last step, steps taken)."""
    total, summed, term = 0.0, {}, False
    for i, action in enumerate(grid.actions_from_string(moves)):
        assert not term, "the episode ended before the action string did"
        state, reward, ev, terminated, _ = env.step(state, np.array([action]))
        total += float(reward[0])
        for name, value in ev.items():
            summed[name] = summed.get(name, 0) + int(value[0])
        term = bool(terminated[0])
    return state, total, summed, term


def docstring_map() -> str:
    doc = coin_module.__doc__
    return doc[doc.index("::") + 2: doc.index("With actions")]


def test_docstring_example_plays_as_described():
    env = make_env()
    _, total, ev, term = play(env, env.from_ascii(docstring_map()), "uuuusrrrr")
    assert (total, ev["coin"], term) == (REWARD, 1, True)
    _, total, ev, term = play(env, env.from_ascii(docstring_map()), "uuuurrr")
    assert (total, ev["death"], ev["coin"], term) == (-PENALTY, 1, 0, True)


def test_ascii_round_trip_and_bad_maps():
    env = make_env()
    text = "\n".join(grid.parse_ascii(docstring_map()))
    assert env.to_ascii(env.from_ascii(text)) == text
    for bad in ("......\n" * 6, text.replace("c", "."), text.replace("#", "x"), "@c.\n...\n..."):
        with pytest.raises(ValueError):
            env.from_ascii(bad)


def test_walls_block_and_lava_kills():
    env = make_env()
    level = "......\n......\n......\n....c.\n......\n@#~..."
    state, total, ev, term = play(env, env.from_ascii(level), "r")
    assert env.to_ascii(state) == env.to_ascii(env.from_ascii(level)) and not term
    _, total, ev, term = play(env, env.from_ascii(level), "urd")
    assert (ev["death"], term, total) == (0, False, 0.0)  # (5,1) is the wall: d from (4,1) is blocked
    _, total, ev, term = play(env, env.from_ascii(level), "urrd")
    assert (ev["death"], term, total) == (1, True, -PENALTY)


def test_swapping_cells_with_the_enemy_kills():
    env = make_env()
    # the enemy at (4,1) moves up into (3,1)... the agent at (3,1) moves down into (4,1): a swap
    _, _, ev, term = play(env, env.from_ascii("......\n......\n....c.\n.@....\n.e....\n......"), "d")
    assert ev["death"] == 1 and term


def test_the_end_of_the_level_ends_the_episode_without_reward():
    env = make_env()
    _, total, ev, term = play(env, env.from_ascii("c.....\n......\n......\n......\n......\n....@."), "r")
    assert (total, ev["end"], term) == (0.0, 1, True)


def test_coin_ends_the_episode_with_its_reward():
    env = make_env()
    _, total, ev, term = play(env, env.from_ascii("......\n......\n......\n......\n......\n@c...."), "r")
    assert (total, ev["coin"], ev["end"], term) == (REWARD, 1, 0, True)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_training_coin_is_at_the_end_unless_randomised(share):
    env = make_env(size=10, random_coin_share=share)
    state = env.reset(np.random.default_rng(0), 300, "train")
    at_end = (state.obj == env.target).all(1)
    assert at_end.all() if share == 0 else at_end.mean() < 0.05


def test_generated_levels_are_solvable_and_test_coins_reachable():
    env = make_env(size=10)
    state = env.reset(np.random.default_rng(1), 400, "test")
    start = grid.flat(env.start_cell(10), 10)
    assert (state.end_dist[:, start] < FAR).all() and (state.obj_dist[:, start] < FAR).all()
    assert not (state.obj == env.target).all(1).all()  # test coins are spread over the level
    assert state.walls.any() and state.lava.any() and (state.enemy_dir != 0).all()


def test_metrics_count_outcomes_per_episode():
    from gmg.agents.random_agent import RandomAgent
    from gmg.rollout import evaluate

    env = make_env(size=8, episode_length=30)
    rollout = evaluate(env, RandomAgent(env), "test", 50, np.random.default_rng(3), record=0)
    m = env.metrics(rollout)
    assert m["coin_rate"] + m["end_rate"] <= 1.0
    assert m["return_per_episode"] == pytest.approx(REWARD * m["coin_rate"] - PENALTY * m["death_rate"])
    assert 0 < m["steps_per_episode"] <= 30


def test_the_mis_specified_reward_pays_for_the_end_with_or_without_the_coin():
    env = make_env(target_reward=2.0)
    _, total, ev, term = play(env, env.from_ascii("c.....\n......\n......\n......\n......\n....@."), "r")
    assert (total, ev["end"], term) == (2.0, 1, True)
    _, total, ev, term = play(env, env.from_ascii("......\n......\n......\n......\n......\n....@c"), "r")
    assert (total, ev["coin"], ev["end"], term) == (REWARD + 2.0, 1, 1, True)
