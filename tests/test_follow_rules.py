"""Rules of follow-the-expert, from small hand-drawn maps and action strings.

Map characters: `.` empty, `@` agent, `P` partner, digits the tiles in their cyclic order. Actions:
u d l r s. Rewards are set away from their defaults, so a rule that ignores a constant fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from gmg import grid
from gmg.envs.follow import FollowConfig, FollowEnv
from gmg.keys import new_keys
from gmg.rollout import evaluate

from helpers import play

CORRECT, WRONG = 1.5, 0.75
DOC_MAP = """
0....
.@...
..P.1
.....
2....
"""


def make_env(size=5, **overrides) -> FollowEnv:
    config = dict(size=size, tiles=3, correct_reward=CORRECT, wrong_penalty=WRONG, partner_speed=1.0, partner_pause=0)
    return FollowEnv(FollowConfig(**{**config, **overrides}))


def test_ascii_round_trip_and_bad_maps():
    env = make_env()
    state = env.from_ascii(DOC_MAP)
    assert env.to_ascii(state) == "\n".join(grid.parse_ascii(DOC_MAP))
    for bad in ("0....\n.@...\n.....\n.....\n....x", "0....\n.....\n....1\n.....\n.....", "0@...\n.....\n.....\n.....\n....2"):
        with pytest.raises(ValueError):
            env.from_ascii(bad)


def test_the_docstring_example_plays_as_described():
    env = make_env()
    state = env.from_ascii(DOC_MAP)
    _, rewards, _ = play(env, state, "lu" + "ddrrrr" + "ddllll")
    assert rewards == [0, CORRECT] + [0] * 5 + [CORRECT] + [0] * 5 + [CORRECT]
    _, rewards, events = play(env, state, "lu" + "dddd")
    assert rewards[-1] == -WRONG and events[-1]["wrong"] == 1


def test_re_entering_the_last_tile_is_wrong_and_standing_on_it_is_no_visit():
    env = make_env()
    state, rewards, events = play(env, env.from_ascii(DOC_MAP), "lussdu")
    assert rewards == [0, CORRECT, 0, 0, 0, -WRONG]
    assert sum(e["correct"] + e["wrong"] for e in events) == 2


def test_after_a_wrong_visit_the_cycle_continues_from_the_tile_visited():
    env = make_env()
    state, rewards, _ = play(env, env.from_ascii(DOC_MAP), "lu" + "dddd" + "uuuu")  # 0, 2 (wrong), 0 (= succ 2)
    assert rewards[-1] == CORRECT


def test_the_agent_remembers_verified_successors_only():
    env = make_env()
    state, _, _ = play(env, env.from_ascii(DOC_MAP), "lu" + "dddd")  # 0 then 2: wrong, not remembered
    assert state.known[0].tolist() == [-1, -1, -1]
    state, _, _ = play(env, state, "uuuu")  # 2 then 0: correct
    assert state.known[0].tolist() == [-1, -1, 0]


@pytest.mark.parametrize("partner, order", [("expert", [0, 1, 2, 0]), ("anti-expert", [0, 2, 1, 0])])
def test_the_partner_visits_tiles_in_its_order(partner, order):
    env = make_env()
    state = env.from_ascii("0...1\n.....\n..P..\n.....\n@...2", partner=partner)
    visited = []
    for _ in range(40):
        state, *_ = env.step(state, np.array([4]))
        last = int(state.partner_last[0])
        if last >= 0 and (not visited or visited[-1] != last):
            visited.append(last)
    assert visited[:4] == order
    assert int(state.partner_after[0, order[1]]) == order[2]  # it remembers what the partner did


def test_the_partner_pauses_on_tiles_and_moves_at_its_speed():
    env = make_env(partner_pause=3)
    state = env.from_ascii("0...1\n.....\n.....\n.....\n@P..2")
    steps = []
    for t in range(20):
        state, *_ = env.step(state, np.array([4]))
        steps.append((int(state.partner_last[0]), tuple(int(v) for v in state.partner[0])))
    arrive = next(t for t, (last, _) in enumerate(steps) if last == 0)
    assert arrive == 4  # (4, 1) -> (0, 0) is 5 moves: it arrives in the 5th step
    assert all(steps[arrive + k][1] == (0, 0) for k in range(4))  # stays `partner_pause` more steps
    assert steps[arrive + 4][1] != (0, 0)
    frozen = make_env(partner_speed=0.0).from_ascii("0...1\n.....\n.....\n.....\n@P..2")
    moved, *_ = make_env(partner_speed=0.0).step(frozen, np.array([4]))
    assert moved.partner[0].tolist() == [4, 1]


def test_an_absent_partner_does_not_move_or_show():
    env = make_env()
    state = env.from_ascii(DOC_MAP, partner="absent")
    obs = env.observe(state)
    after, *_ = env.step(state, np.array([4]))
    assert after.partner[0].tolist() == state.partner[0].tolist()
    assert obs["context"][0, 1] == 0 and not obs["action_features"][0, :, [0, 1, 2, 3, 9, 10, 11]].any()


def test_reset_draws_one_cycle_and_the_partner_of_each_split():
    env = make_env(size=6, tiles=5, expert_dropout=0.25, anti_expert_share=0.4)
    keys = new_keys(np.random.default_rng(0), 2000)
    train, test = env.reset_from_keys(keys, "train"), env.reset_from_keys(keys, "test")
    tile = np.zeros(2000, dtype=np.int64)
    seen = np.zeros((2000, 5), dtype=bool)
    for _ in range(5):  # following succ from tile 0 visits every tile once: one cycle
        seen[np.arange(2000), tile] = True
        tile = train.succ[np.arange(2000), tile]
    assert seen.all() and (tile == 0).all()
    anti = (train.partner_next != train.succ).any(1)
    assert (train.succ[np.arange(2000)[:, None], train.partner_next][anti] == np.arange(5)).all()  # the reverse
    assert 0.37 < anti.mean() < 0.43 and not train.disproved.any()
    assert (test.succ[np.arange(2000)[:, None], test.partner_next] == np.arange(5)).all()  # the reverse order
    assert test.partner_present.all() and 0.22 < 1 - train.partner_present.mean() < 0.28
    assert len({tuple(o) for o in train.succ[:200]}) > 12  # orders differ between episodes
    absent = make_env(test_partner="absent").reset_from_keys(keys[:10], "test")
    assert not absent.partner_present.any()


def test_observe_points_at_the_partners_tiles_and_the_verified_successor():
    env = make_env()
    state = env.from_ascii("0...1\n.....\n..@..\n.....\nP...2")
    state.partner_last[0], state.agent_last[0] = 1, 0
    state.partner_after[0, 0], state.known[0, 0] = 2, 1
    feats = env.observe(state)["action_features"][0]  # actions u d l r s
    assert feats[:, 1].tolist() == [1, -1, -1, 1, 0]  # closer to tile 1 (top right)
    assert feats[:, 3].tolist() == [-1, 1, -1, 1, 0]  # closer to tile 2 (bottom right): the partner's next after 0
    assert feats[:, 5].tolist() == [1, -1, -1, 1, 0]  # closer to tile 1: verified after 0
    state.partner_after[0, 2] = 0  # it went 2 -> 0
    obs = env.observe(state)
    assert not obs["action_features"][0, :, 10:].any()  # its step before 0 shows only once it is disproved
    assert obs["context"][0].tolist() == [1, 1, 1, 0]
    state.disproved[0] = True
    obs = env.observe(state)
    assert obs["action_features"][0, :, 11].tolist() == [-1, 1, -1, 1, 0]  # closer to tile 2
    assert obs["context"][0].tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize("moves, shown, disproved", [
    ("dddd", 2, True),  # it copies the partner's step 0 -> 2: wrong
    ("ddrrrr", 2, True),  # its correct step 0 -> 1 is not the partner's 0 -> 2
    ("ddrrrr", 1, False),  # it copies the partner's step 0 -> 1: correct
    ("dddd", 1, False),  # a wrong guess of its own says nothing about the partner
])
def test_the_agent_disproves_the_partner_by_its_own_step_from_a_tile(moves, shown, disproved):
    env = make_env()
    state = env.from_ascii(DOC_MAP, partner="anti-expert")
    state.partner_wait[:] = 100  # the partner stays where it is
    state, *_ = play(env, state, "lu")  # tile 0: the first visit
    state.partner_after[0, 0] = shown  # as if the partner had stepped from 0 to `shown`
    state, *_ = play(env, state, moves)
    assert bool(state.disproved[0]) is disproved


@pytest.mark.parametrize("partner, disproved", [("anti-expert", True), ("expert", False)])
def test_a_partner_step_against_a_verified_successor_disproves_it(partner, disproved):
    env = make_env()
    state = env.from_ascii("0...1\n.....\n.....\n.....\n@P..2", partner=partner)
    state.known[0, 0] = 1  # the agent has verified 0 -> 1
    for _ in range(20):  # the partner visits 0, then 2 (anti-expert) or 1 (expert)
        state, *_ = env.step(state, np.array([4]))
    assert state.partner_after[0, 0] == (2 if partner == "anti-expert" else 1)
    assert bool(state.disproved[0]) is disproved


def test_goal_planners_head_for_the_rule_and_for_the_partner():
    env = make_env()
    state = env.from_ascii("0...1\n.....\n..@..\n.....\nP...2", partner="anti-expert")
    state.agent_last[0], state.partner_last[0] = 0, 2  # the rule wants 1; the partner was last on 2
    for goal, best in (("rule", {0, 3}), ("partner", {1, 3})):
        values = env.goal_action_values(state, goal)[0]
        assert set(np.flatnonzero(values == values.max())) == best
    state.agent_last[0] = 2  # the agent has just followed: the partner's pursuer heads for the partner
    values = env.goal_action_values(state, "partner")[0]
    assert set(np.flatnonzero(values == values.max())) == {1, 2}


def test_metrics_count_following_and_distance():
    env = make_env()
    state = env.from_ascii("0....\n.@...\n..P.1\n.....\n2....")

    class FixedReset(FollowEnv):
        def reset(self, rng, batch, split="train"):
            return state.rows(np.zeros(batch, dtype=np.int64))

    class Scripted:  # waits by the top-left tile, enters it, steps out and re-enters it
        moves = grid.actions_from_string("ssssslurl" + "s" * 41)

        def act(self, obs, rng, explore):
            self.t = getattr(self, "t", -1) + 1
            return np.full(len(obs["context"]), self.moves[self.t])

    fixed = FixedReset(env.config)
    rollout = evaluate(fixed, Scripted(), "test", 1, np.random.default_rng(0))
    m = fixed.metrics(rollout)
    assert m["correct_visits_per_episode"] == 1 and m["wrong_visits_per_episode"] == 1
    assert m["return_per_episode"] == CORRECT - WRONG
    assert m["partner_following"] == 1.0  # both visits entered tile 0, the partner's last tile
    assert m["mean_distance_to_partner"] == pytest.approx(rollout.events["partner_distance"][0].mean())
