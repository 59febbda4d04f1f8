"""Move things on a test map (EpisodicEnv.with_moved, gmg.ui.moves, pages/move.py): the edit moves exactly one
thing, refuses what cannot be done with a sentence, and the trained agents play the edited level as their
policies say."""

import numpy as np
import pytest
from helpers import open_page

from gmg.bundle import SEED, bundled_run
from gmg.train import Experiment
from gmg.envs import ENVS
from gmg.probe import policy_field
from gmg.rollout import play
from gmg.ui.moves import format_moves, parse_moves


def first_test_state(name):
    env = ENVS[name]()
    return env, env.reset(np.random.default_rng(3), 2, "test")


def empty_cells(env, state):
    lines = env.to_ascii(state, 1).splitlines()
    return [(r, c) for r in range(state.size) for c in range(state.size) if lines[r][c] == "."]


@pytest.mark.parametrize("name", sorted(ENVS))
def test_a_move_changes_the_map_at_its_two_cells_only(name):
    env, state = first_test_state(name)
    before = env.to_ascii(state, 1).splitlines()
    target = empty_cells(env, state)[-1]
    for field in env.movable:
        source = tuple(int(v) for v in getattr(state, field)[1].reshape(-1, 2)[0])
        after = env.to_ascii(env.with_moved(state, 1, source, target)).splitlines()
        changed = {(r, c) for r in range(state.size) for c in range(state.size) if before[r][c] != after[r][c]}
        assert changed == {source, target}, field
        assert after[target[0]][target[1]] == before[source[0]][source[1]] and after[source[0]][source[1]] == "."
    assert env.to_ascii(state, 1).splitlines() == before  # the recorded state itself is untouched


@pytest.mark.parametrize("name", sorted(ENVS))
def test_a_move_that_cannot_be_made_says_why(name):
    env, state = first_test_state(name)
    empty = empty_cells(env, state)
    agent = tuple(int(v) for v in state.agent[1])
    with pytest.raises(ValueError, match="nothing that can be moved"):
        env.with_moved(state, 1, empty[0], empty[1])
    thing = tuple(int(v) for v in getattr(state, env.movable[1])[1].reshape(-1, 2)[0])
    with pytest.raises(ValueError, match="is taken"):
        env.with_moved(state, 1, agent, thing)
    with pytest.raises(ValueError, match="on the"):
        env.with_moved(state, 1, agent, (state.size, 0))


def test_moves_read_from_a_link_and_written_back():
    moves = [((2, 3), (5, 5)), ((0, 1), (4, 4))]
    assert parse_moves(format_moves(moves)) == moves and parse_moves("") == []
    for bad in ("2.3-5", "a.b-1.1", "2.3-5.5-1.1", "1.1-2.2," * 60):
        with pytest.raises(ValueError):
            parse_moves(bad)


def replay(name, parameter_value, moves):
    card = ENVS[name].card
    result = bundled_run(Experiment.build(name, card.agent, SEED, {card.contrast[0]: parameter_value}))
    env, agent = result.env, result.trained.agent
    state = result.rollouts["test"].frames[0].rows(slice(0, 1))
    for source, target in moves:
        state = env.with_moved(state, 0, source, target)
    return env, agent, state, play(env, agent, state.copy(), "test", np.random.default_rng(0), record=1)


def test_a_coin_moved_off_the_route_is_fetched_by_the_cured_agent_and_passed_by_the_failing_one():
    """The shipped coin presets (seed 0): on test level 0 the coin lies beside the start, on both agents' way.
    Moved up the level, away from the route to the end, the cured agent goes up and takes it, the failing
    one runs to the end without it; each first step is the one its policy field shows from the start."""
    moved = [((9, 1), (2, 4))]
    for share, fetched in ((0.3, True), (0.0, False)):
        env, agent, state, rollout = replay("coin", share, moved)
        _, _, _, unedited = replay("coin", share, [])
        assert bool(rollout.events["coin"][0].any()) is fetched
        assert bool(rollout.events["end"][0].any()) is not fetched
        assert unedited.events["coin"][0].any()  # unedited, both take the coin lying on their way
        field = policy_field(env, agent, state)
        start = np.flatnonzero((field.cells == state.agent[0]).all(1))[0]
        assert field.actions[start] == first_action(env, state, rollout)


def first_action(env, state, rollout):
    """The action that took the agent from its start to its cell at t=1 (the one action leading there)."""
    step = rollout.frames[1].agent[0] - state.agent[0]
    moves = {a: env.step(state.copy(), np.array([a])).state.agent[0] - state.agent[0] for a in range(env.n_actions)}
    [action] = [a for a, move in moves.items() if (move == step).all()]
    return action


def test_a_shield_put_beside_the_short_episode_agent_is_picked_up_at_once():
    """Monster, the shipped 25-step agent (seed 0): a shield moved next to it at the start is its first pick."""
    env, agent, state, rollout = replay("monster", 25, [])
    agent_cell = tuple(int(v) for v in state.agent[0])
    beside = next(c for c in ((agent_cell[0] - 1, agent_cell[1]), (agent_cell[0], agent_cell[1] - 1))
                  if env.to_ascii(state).splitlines()[c[0]][c[1]] == ".")
    shield = tuple(int(v) for v in state.shield_items[0, 0])
    _, _, moved_state, moved = replay("monster", 25, [(shield, beside)])
    assert moved.events["shield"][0, :3].sum() >= 1
    assert not np.array_equal(moved.events["shield"][0], rollout.events["shield"][0])


def test_the_page_plays_a_linked_map_and_explains_a_bad_move():
    at = open_page("pages/move.py", env="coin", agent="explore_q", moves="9.1-2.4")
    assert not at.exception and not at.error
    assert not at.session_state["last_started"] and not any(at.session_state["jobs"].values())  # shipped presets
    at = open_page("pages/move.py", env="coin", agent="explore_q", moves="0.0-2.4")
    assert not at.exception
    assert "nothing that can be moved is at row 0, column 0" in " ".join(e.value for e in at.error)
