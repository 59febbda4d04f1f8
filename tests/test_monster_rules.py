"""Rules of the Monster gridworld, from small hand-drawn maps and action strings.

Map characters: `.` empty, `@` agent, `M` monster, `a` apple, `s` shield. Actions: u d l r s.
Expected rewards are computed from the config's constants, which are set away from their defaults
(so a rule that ignores a constant fails). Monster moves are made deterministic where needed with
`monster_extra_step_prob` = 0.0 or 1.0; random parts (knock-back, respawn, chase ties) are checked
over many episode keys.
"""

from __future__ import annotations

import numpy as np
import pytest

from gmg import grid
from gmg.envs import monster as monster_module
from gmg.envs.monster import MonsterConfig, MonsterEnv

from helpers import play

APPLE_REWARD = 2.5
HIT_PENALTY = 1.75
KEYS = range(64)


def make_env(size=5, extra=0.0, knockback=3, **overrides) -> MonsterEnv:
    """An env whose grid size matches the test map (knock-back cells are drawn on that grid)."""
    config = MonsterConfig(
        size=size,
        monsters=1,
        apples=1,
        shields=1,
        monster_extra_step_prob=extra,
        apple_reward=APPLE_REWARD,
        hit_penalty=HIT_PENALTY,
        knockback_distance=knockback,
        monster_start_distance=1,
        **overrides,
    )
    return MonsterEnv(config)


def ascii_map(text: str) -> str:
    return "\n".join(grid.parse_ascii(text))


def positions(cells) -> set[tuple[int, int]]:
    return {tuple(int(v) for v in cell) for cell in cells}


def dist(a, b) -> int:
    return int(grid.manhattan(np.asarray(a), np.asarray(b)))


# ------------------------------------------------------------------------------ ASCII maps
@pytest.mark.parametrize(
    "text",
    [
        """
        @....
        .M..a
        ..s..
        .....
        a...M
        """,
        """
        aaaa
        a@sa
        sMMs
        ....
        """,
        """
        .....
        .....
        ..@..
        .....
        .....
        """,
    ],
)
def test_ascii_round_trip(text):
    env = make_env(size=len(grid.parse_ascii(text)))
    state = env.from_ascii(text)
    assert env.to_ascii(state) == ascii_map(text)
    assert env.to_ascii(env.from_ascii(env.to_ascii(state))) == ascii_map(text)


def test_ascii_rejects_bad_maps():
    env = make_env()
    with pytest.raises(ValueError):
        env.from_ascii("@..\n...\n...x")  # not a rectangle
    with pytest.raises(ValueError):
        env.from_ascii("@..\n.x.\n...")  # unknown character
    with pytest.raises(ValueError):
        env.from_ascii("...\n...\n...")  # no agent
    with pytest.raises(ValueError):
        grid.actions_from_string("rrx")


# ---------------------------------------------------------------------------------- moving
@pytest.mark.parametrize(
    "moves, expected",
    [
        ("u", "..@..\n.....\n....."),
        ("d", ".....\n.....\n..@.."),
        ("l", ".....\n.@...\n....."),
        ("r", ".....\n...@.\n....."),
        ("s", ".....\n..@..\n....."),
        ("rr", ".....\n....@\n....."),
        ("ul", ".@...\n.....\n....."),
    ],
)
def test_moves(moves, expected):
    env = make_env()
    state = env.from_ascii(".....\n.....\n..@..\n.....\n.....")
    state, rewards, _ = play(env, state, moves)
    assert env.to_ascii(state).splitlines()[1:4] == expected.splitlines()
    assert rewards == [0.0] * len(moves)


@pytest.mark.parametrize("corner, moves", [("top-left", "uullul"), ("bottom-right", "ddrrdr")])
def test_moving_into_the_border_is_a_no_op(corner, moves):
    env = make_env()
    text = "@....\n.....\n.....\n.....\n....." if corner == "top-left" else ".....\n.....\n.....\n.....\n....@"
    state = env.from_ascii(text)
    final, rewards, _ = play(env, state, moves)
    assert env.to_ascii(final) == text
    assert int(final.t[0]) == len(moves)
    assert rewards == [0.0] * len(moves)


# ---------------------------------------------------------------------------------- apples
def test_apples_give_apple_reward_and_respawn():
    env = make_env()
    state = env.from_ascii(
        """
        @aaa.
        .....
        ..s..
        .....
        .....
        """
    )
    final, rewards, events = play(env, state, "rrr")
    assert [e["apple"] for e in events] == [1, 1, 1]
    assert sum(rewards) == pytest.approx(3 * APPLE_REWARD)
    assert final.apples.shape == state.apples.shape  # the count stays
    apples = positions(final.apples[0])
    assert len(apples) == 3  # on distinct cells
    assert tuple(final.agent[0]) not in apples
    assert not apples & positions(final.shield_items[0])


def test_apple_respawns_on_a_free_cell():
    """Every cell but the agent's holds an apple: the picked apple can only reappear where the agent was."""
    env = make_env(size=4)
    state = env.from_ascii("@aaa\naaaa\naaaa\naaaa")
    final, rewards, events = play(env, state, "r")
    assert env.to_ascii(final) == "a@aa\naaaa\naaaa\naaaa"
    assert rewards == [APPLE_REWARD] and events[0]["apple"] == 1


def test_respawn_avoids_agent_items_and_living_monsters():
    env = make_env(knockback=1)
    text = """
        @a...
        .....
        ..s..
        .M...
        .....
        """
    forbidden = {(0, 1), (2, 2), (3, 1)}  # the agent after its move, the shield, the monster (before it moves)
    seen = set()
    for key in KEYS:
        final, rewards, events = play(env, env.from_ascii(text, key=key), "r")
        assert events[0]["apple"] == 1 and rewards == [APPLE_REWARD]
        (apple,) = positions(final.apples[0])
        assert apple not in forbidden
        seen.add(apple)
    assert len(seen) > 10  # a random free cell, not a fixed one


# --------------------------------------------------------------------------------- shields
def test_shield_pickup_fills_the_inventory_with_no_reward():
    env = make_env()
    state = env.from_ascii(
        """
        @ss..
        .....
        ..a..
        .....
        .....
        """
    )
    final, rewards, events = play(env, state, "rr")
    assert rewards == [0.0, 0.0]
    assert [e["shield"] for e in events] == [1, 1]
    assert int(final.inventory[0]) == 2
    assert final.shield_items.shape == state.shield_items.shape
    assert tuple(final.agent[0]) not in positions(final.shield_items[0])


def test_shield_respawns_on_a_free_cell():
    env = make_env(size=4)
    state = env.from_ascii("@sss\nssss\nssss\nssss")
    final, rewards, _ = play(env, state, "r")
    assert env.to_ascii(final) == "s@ss\nssss\nssss\nssss"
    assert rewards == [0.0] and int(final.inventory[0]) == 1


# ---------------------------------------------------------------------------------- chasing
@pytest.mark.parametrize(
    "before, after",
    [
        # the monster closes the larger gap first: vertical here...
        (".M...\n.....\n.....\n.....\n@....", ".....\n.M...\n.....\n.....\n@...."),
        # ...horizontal here
        (".....\n....M\n.....\n@....\n.....", ".....\n...M.\n.....\n@....\n....."),
        # in a line with the agent
        ("M...@\n.....\n.....\n.....\n.....", ".M..@\n.....\n.....\n.....\n....."),
    ],
)
def test_monster_chases_along_the_larger_gap(before, after):
    env = make_env(extra=0.0)
    for key in KEYS:
        final, rewards, _ = play(env, env.from_ascii(before, key=key), "s")
        assert env.to_ascii(final) == after
        assert rewards == [0.0]


def test_chase_tie_goes_either_way():
    env = make_env(extra=0.0)
    seen = set()
    for key in KEYS:
        final, _, _ = play(env, env.from_ascii("M....\n.....\n..@..\n.....\n.....", key=key), "s")
        seen.add(tuple(int(v) for v in final.monsters[0, 0]))
    assert seen == {(1, 0), (0, 1)}


def test_extra_step_at_probability_one():
    env = make_env(extra=1.0)
    for key in KEYS:
        final, _, _ = play(env, env.from_ascii("M...@\n.....\n.....\n.....\n.....", key=key), "s")
        assert env.to_ascii(final).splitlines()[0] == "..M.@"


def test_extra_step_probability_is_respected_on_average():
    env = make_env(extra=0.5)
    moved_two = 0
    for key in range(400):
        final, _, _ = play(env, env.from_ascii("M...@\n.....\n.....\n.....\n.....", key=key), "s")
        moved_two += int(final.monsters[0, 0, 1]) == 2
    assert 150 < moved_two < 250  # binomial(400, 0.5): mean 200, sd 10


def test_monsters_outrun_the_agent():
    """With the extra step certain, a monster two cells behind a fleeing agent gains one cell a step."""
    env = make_env(size=8, extra=1.0, knockback=7)
    text = "M.@.....\n" + "........\n" * 7
    final, rewards, events = play(env, env.from_ascii(text), "rr")
    assert [e["hit"] for e in events] == [0, 1]
    assert rewards == [0.0, -HIT_PENALTY]


# ---------------------------------------------------------------------------------- contact
def test_hit_without_shield_costs_hit_penalty_and_knocks_the_monster_away():
    env = make_env(extra=0.0, knockback=3)
    for key in KEYS:
        state = env.from_ascii(".....\n.....\n.M@..\n.....\n.....", key=key)
        final, rewards, events = play(env, state, "s")
        assert rewards == [-HIT_PENALTY]
        assert events[0]["hit"] == 1 and events[0]["kill"] == 0
        assert bool(final.alive[0, 0])
        assert dist(final.agent[0], final.monsters[0, 0]) >= env.config.knockback_distance


def test_walking_into_a_monster_is_a_hit_too():
    env = make_env(extra=0.0, knockback=4)
    for key in KEYS:
        final, rewards, events = play(env, env.from_ascii("..@M.\n.....\n.....\n.....\n.....", key=key), "r")
        assert rewards == [-HIT_PENALTY] and events[0]["hit"] == 1
        # knocked away when the agent walked in, then it chased one step
        assert dist(final.agent[0], final.monsters[0, 0]) >= env.config.knockback_distance - 1


def test_fast_monster_hits_a_standing_agent_from_two_cells():
    env = make_env(extra=1.0)
    for key in KEYS:
        _, rewards, events = play(env, env.from_ascii("M.@..\n.....\n.....\n.....\n.....", key=key), "s")
        assert rewards == [-HIT_PENALTY] and events[0]["hit"] == 1


def test_hit_then_chase_again():
    """A knocked-away monster keeps chasing: with no shield around it hits again later."""
    env = make_env(extra=0.0)
    state = env.from_ascii(".....\n.....\n.M@..\n.....\n.....")
    _, rewards, events = play(env, state, "s" * 20)
    hits = sum(e["hit"] for e in events)
    assert hits >= 2
    assert sum(rewards) == pytest.approx(-HIT_PENALTY * hits)


def test_shield_destroys_the_monster_with_no_reward():
    env = make_env(extra=0.0)
    state = env.from_ascii(".....\n.....\n.M@..\n.....\n.....", inventory=1)
    final, rewards, events = play(env, state, "s")
    assert rewards == [0.0]
    assert events[0]["kill"] == 1 and events[0]["hit"] == 0
    assert not final.alive[0].any()
    assert int(final.inventory[0]) == 0
    assert "M" not in env.to_ascii(final)


def test_walking_into_a_monster_with_a_shield_destroys_it():
    env = make_env(extra=0.0)
    final, rewards, events = play(env, env.from_ascii("..@M.\n.....\n.....\n.....\n.....", inventory=3), "r")
    assert rewards == [0.0] and events[0]["kill"] == 1
    assert int(final.inventory[0]) == 2 and not final.alive[0].any()


def test_shield_picked_up_this_step_protects():
    env = make_env(extra=0.0)
    final, rewards, events = play(env, env.from_ascii("..@sM\n.....\n.....\n.....\n.....", key=1), "r")
    assert events[0]["shield"] == 1 and events[0]["kill"] == 1 and events[0]["hit"] == 0
    assert rewards == [0.0] and int(final.inventory[0]) == 0


def test_two_monsters_one_shield():
    env = make_env(extra=0.0)
    for key in KEYS:
        state = env.from_ascii(".....\n.....\n.M@M.\n.....\n.....", inventory=1, key=key)
        final, rewards, events = play(env, state, "s")
        assert events[0]["kill"] == 1 and events[0]["hit"] == 1
        assert rewards == [-HIT_PENALTY]
        assert int(final.inventory[0]) == 0
        assert int(final.alive[0].sum()) == 1
        survivor = final.monsters[0][final.alive[0]][0]
        assert dist(final.agent[0], survivor) >= env.config.knockback_distance


def test_two_monsters_no_shield_two_hits():
    env = make_env(extra=0.0)
    _, rewards, events = play(env, env.from_ascii(".....\n.....\n.M@M.\n.....\n....."), "s")
    assert rewards == [-2 * HIT_PENALTY] and events[0]["hit"] == 2


def test_two_monsters_two_shields():
    env = make_env(extra=0.0)
    final, rewards, events = play(env, env.from_ascii(".....\n.....\n.M@M.\n.....\n.....", inventory=2), "s")
    assert rewards == [0.0] and events[0]["kill"] == 2
    assert int(final.inventory[0]) == 0 and not final.alive[0].any()


def test_monsters_never_respawn():
    env = make_env(extra=0.0)
    state = env.from_ascii("a....\n.....\n.M@..\n...s.\n.....", inventory=1)
    rng = np.random.default_rng(0)
    moves = "s" + "".join(rng.choice(list(grid.ACTION_KEYS), 200))
    final, _, events = play(env, state, moves)
    assert events[0]["kill"] == 1
    assert [e["monsters_alive"] for e in events] == [1] + [0] * 200
    assert sum(e["hit"] + e["kill"] for e in events[1:]) == 0
    assert not final.alive[0].any() and "M" not in env.to_ascii(final)


# ---------------------------------------------------------------------------------- events
def test_events_report_every_rule():
    env = make_env(extra=0.0)
    state = env.from_ascii(
        """
        @as..
        .....
        .....
        .....
        ....M
        """
    )
    assert set(env.events) == {"apple", "shield", "hit", "kill"}
    final, rewards, events = play(env, state, "rr")
    for e in events:
        assert set(e) == {"apple", "shield", "hit", "kill", "monsters_alive"}
    assert events[0] == {"apple": 1, "shield": 0, "hit": 0, "kill": 0, "monsters_alive": 1}
    assert events[1] == {"apple": 0, "shield": 1, "hit": 0, "kill": 0, "monsters_alive": 1}
    assert rewards == [APPLE_REWARD, 0.0]
    # now holding a shield, wait for the monster: it dies; the next step begins with none alive
    final, rewards, events = play(env, final, "s" * 8)
    kill_step = next(i for i, e in enumerate(events) if e["kill"])
    assert events[kill_step]["monsters_alive"] == 1 and events[kill_step]["hit"] == 0
    assert all(e["monsters_alive"] == 0 for e in events[kill_step + 1 :])
    assert sum(rewards) == 0.0


def test_reward_is_a_function_of_events_in_random_play():
    """Over a long random batched rollout: reward = apple_reward*apples - hit_penalty*hits, counts stay."""
    env = MonsterEnv(MonsterConfig(apple_reward=APPLE_REWARD, hit_penalty=HIT_PENALTY, monster_extra_step_prob=0.5))
    rng = np.random.default_rng(1)
    state = env.reset(rng, 64)
    c = env.config
    for _ in range(300):
        alive_before = state.alive.copy()
        state, reward, ev, _, _ = env.step(state, rng.integers(0, env.n_actions, 64))
        np.testing.assert_allclose(reward, c.apple_reward * ev["apple"] - c.hit_penalty * ev["hit"])
        assert state.apples.shape == (64, c.apples, 2) and state.shield_items.shape == (64, c.shields, 2)
        assert (state.inventory >= 0).all()
        assert not (state.alive & ~alive_before).any()  # monsters never come back
        assert (ev["kill"] == alive_before.sum(1) - state.alive.sum(1)).all()
        for pos in (state.agent, state.monsters, state.apples, state.shield_items):
            assert ((pos >= 0) & (pos < c.size)).all()
        for row in range(64):
            items = positions(state.apples[row]) | positions(state.shield_items[row])
            assert len(items) == c.apples + c.shields  # items never share a cell
            assert tuple(state.agent[row]) not in items  # whatever the agent stands on, it picked up


# ------------------------------------------------------------------------ degenerate configs
def test_observe_with_no_monsters():
    env = MonsterEnv(MonsterConfig(monsters=0))
    obs = env.observe(env.reset(np.random.default_rng(0), 4))
    assert obs["context"][:, 2].all()  # "no monster alive"


def test_observe_with_no_shields():
    env = MonsterEnv(MonsterConfig(shields=0))
    state = env.reset(np.random.default_rng(0), 4)
    obs = env.observe(state)
    assert (obs["action_features"][..., 2:4] == 0).all()  # no shield here, no shield to get closer to
    assert (env.goal_action_values(state, "shields") == env.goal_action_values(state, "shields")[:, :1]).all()


def test_the_docstring_example_plays_as_described():
    """The module docstring's map: pick up the shield; of the two monsters arriving together, one dies."""
    env = MonsterEnv(MonsterConfig(size=6, monster_extra_step_prob=0.0))
    doc_map = monster_module.__doc__.split("::")[1].split("\n\n")[1]  # the indented block after "::"
    final, rewards, events = play(env, env.from_ascii(doc_map), "dssss")
    assert events[0]["shield"] == 1 and rewards[0] == 0
    contact = next(i for i, ev in enumerate(events) if ev["kill"] or ev["hit"])  # the monsters' arrival
    assert events[contact]["kill"] == 1 and events[contact]["hit"] == 1
    assert rewards[contact] == -env.config.hit_penalty
    assert sum(ev["kill"] for ev in events) == 1 and int(final.inventory[0]) == 0 and final.alive.sum() == 1
