"""Rules of keys and chests, from small hand-drawn maps and action strings.

Map characters: `.` empty, `@` agent, `k` key, `c` chest. Actions: u d l r s. The chest reward is
set away from its default, so a rule that ignores it fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from gmg import grid
from gmg.envs import keys as keys_module
from gmg.envs.keys import KeysConfig, KeysEnv
from gmg.goals import GoalPlanner
from gmg.keys import new_keys
from gmg.rollout import evaluate

CHEST_REWARD = 2.5


def make_env(size=5, **overrides) -> KeysEnv:
    small = dict(train_keys=2, train_chests=3, test_keys=3, test_chests=2)
    return KeysEnv(KeysConfig(size=size, chest_reward=CHEST_REWARD, **{**small, **overrides}))


def play(env, state, moves: str):
    """Step a one-row state -> (final state, rewards, events per step, terminated per step)."""
    rewards, events, ends = [], [], []
    for action in grid.actions_from_string(moves):
        state, reward, ev, terminated, _ = env.step(state, np.array([action]))
        rewards.append(float(reward[0]))
        events.append({name: int(value[0]) for name, value in ev.items()})
        ends.append(bool(terminated[0]))
    return state, rewards, events, ends


DOC_MAP = """
k....
.@.c.
.....
.k...
c...c
"""


def test_ascii_round_trip_and_bad_maps():
    env = make_env()
    state = env.from_ascii(DOC_MAP)
    assert env.to_ascii(state) == "\n".join(grid.parse_ascii(DOC_MAP))
    for bad in ("@....\n.....\n.....\n.....\n....x", ".....\n.....\n.....\n.....\n.....", "@..\n...\n..."):
        with pytest.raises(ValueError):
            env.from_ascii(bad)


def test_the_docstring_example_plays_as_described():
    env = make_env()
    state = env.from_ascii(DOC_MAP)
    state, rewards, events, ends = play(env, state, "lu")
    assert int(state.inventory[0]) == 1 and events[1]["key"] == 1 and rewards == [0.0, 0.0]
    state, rewards, events, ends = play(env, state, "rrrd")
    assert rewards == [0.0] * 3 + [CHEST_REWARD]
    assert int(state.inventory[0]) == 0 and int(state.chest_present[0].sum()) == 2
    assert not any(ends)  # one key left on the map: chests can still be opened
    assert events[0]["keys_suffice"] == 0  # one key held, three chests left


def test_a_chest_without_a_key_stays_shut():
    env = make_env()
    state = env.from_ascii("@c...\n.....\n.....\n.....\n....k")
    state, rewards, events, ends = play(env, state, "rls")
    assert rewards == [0.0] * 3 and sum(e["chest"] for e in events) == 0
    assert bool(state.chest_present[0, 0])


def test_one_key_opens_one_chest():
    env = make_env()
    state = env.from_ascii("@kcc.\n.....\n.....\n.....\n....k")
    state, rewards, events, ends = play(env, state, "rrr")
    assert rewards == [0.0, CHEST_REWARD, 0.0]  # the second chest finds no key
    assert int(state.inventory[0]) == 0 and state.chest_present[0].tolist() == [False, True]


def test_keys_are_picked_up_once_and_stack():
    env = make_env()
    state = env.from_ascii("@kk..\n.....\n.....\n.....\n....c")
    state, _, events, _ = play(env, state, "rrlr")
    assert [e["key"] for e in events] == [1, 1, 0, 0]
    assert int(state.inventory[0]) == 2 and not state.key_present[0].any()


def test_surplus_keys_are_keys_picked_up_while_the_held_ones_suffice():
    env = make_env()
    state = env.from_ascii("@kkkc\n.....\n.....\n.....\n.....")  # one chest
    state, _, events, _ = play(env, state, "rrr")
    assert [e["surplus_key"] for e in events] == [0, 1, 1]
    assert [e["keys_suffice"] for e in events] == [0, 1, 1]


@pytest.mark.parametrize(
    "text, moves, ends",
    [
        ("@c...\n.....\n.....\n.....\n.....", "s", [True]),  # no key held, none on the map
        ("@kc..\n.....\n.....\n.....\n.....", "rr", [False, True]),  # the last chest opened
        ("@kc..\n.....\n.....\n.....\n....c", "rr", [False, True]),  # keys used up, a chest left
        ("@kkc.\n.....\n.....\n.....\n....c", "rrr", [False, False, False]),  # a key still held
    ],
)
def test_the_episode_ends_when_no_chest_can_be_opened(text, moves, ends):
    env = make_env()
    assert play(env, env.from_ascii(text), moves)[3] == ends


def test_levels_follow_the_regime_of_their_split():
    env = make_env(size=6, train_keys=3, train_chests=10, test_keys=10, test_chests=3)
    keys = new_keys(np.random.default_rng(0), 400)
    train, test = env.reset_from_keys(keys, "train"), env.reset_from_keys(keys, "test")
    assert (train.key_present.sum(1) == 3).all() and (train.chest_present.sum(1) == 10).all()
    assert (test.key_present.sum(1) == 10).all() and (test.chest_present.sum(1) == 3).all()
    for state in (train, test):  # the agent and every item on distinct cells
        cells = np.concatenate([state.agent[:, None], state.keys, state.chests], 1)
        flat = grid.flat(cells, 6)
        assert all(len(set(row)) == flat.shape[1] for row in flat)


def test_test_like_share_mixes_the_regimes():
    keys = new_keys(np.random.default_rng(1), 2000)
    share = make_env(test_like_share=0.3).reset_from_keys(keys, "train")
    test_like = share.key_present.sum(1) == 3
    assert 0.26 < test_like.mean() < 0.34
    assert (share.chest_present.sum(1) == np.where(test_like, 2, 3)).all()
    always = make_env(test_like_share=1.0).reset_from_keys(keys, "train")
    assert (always.key_present.sum(1) == 3).all()


def test_too_many_objects_are_rejected():
    with pytest.raises(ValueError):
        KeysConfig(size=4, train_keys=10, test_chests=10).check()


def test_observe_features_and_context():
    env = make_env()
    state = env.from_ascii(".k...\n.@...\n.....\n...c.\n....c", inventory=1)
    obs = env.observe(state)
    feats = obs["action_features"][0]  # actions u d l r s; features as in FEATURE_NAMES
    assert feats[:, 0].tolist() == [1, 0, 0, 0, 0]  # up picks up the key
    assert feats[:, 1].tolist() == [1, -1, -1, -1, 0]
    assert feats[:, 2].tolist() == [0, 0, 0, 0, 0]
    assert feats[:, 3].tolist() == [-1, 1, -1, 1, 0]
    assert obs["context"][0].tolist() == [1, 0, 0]  # a key on the map; one key held for two chests
    state.inventory[0] = 0
    assert env.observe(state)["action_features"][0, :, 2].tolist() == [0] * 5


def test_context_flags_no_key_left_and_keys_that_suffice():
    env = make_env()
    state = env.from_ascii("@....\n.....\n..c..\n.....\n....c", inventory=3)
    assert env.observe(state)["context"][0].tolist() == [1, 1, 1]
    scale = keys_module.KEYS_SCALE  # holding a key, keys held, keys held beyond the 2 chests left
    assert env.observe(state)["state_features"][0].tolist() == [1, 1, 1, 1, 3 / scale, 1 / scale]


def test_a_shut_chest_under_the_agent_does_not_count_as_the_nearest():
    env = make_env()
    state = env.from_ascii("@....\n.....\n.....\n.....\n...kc")
    state, *_ = play(env, state, "r")
    state.agent[0] = state.chests[0, 0]  # stand on the chest without a key
    values = env.goal_action_values(state, "chests")[0]
    assert values.max() < 0  # it must be left and entered again


PLANNER_MAP = "..ck.\n.....\nk.@..\n.....\n....."  # the left key is the nearest, the top one next to the chest


def test_goal_planners_point_at_their_own_goal():
    env = make_env()
    state = env.from_ascii(PLANNER_MAP)

    def best(goal, inventory=0):
        state.inventory[:] = inventory
        values = env.goal_action_values(state, goal)[0]
        return set(np.flatnonzero(values == values.max()))

    assert best("keys") == {2}  # left: the nearest key
    assert best("chests") == {0, 3}  # no key in hand: up or right, toward the key on the way to the chest
    assert best("chests", inventory=1) == {0}  # a key in hand: straight up to the chest, no detour for keys


def test_the_chest_planner_fetches_one_key_then_opens_the_chest():
    env = make_env()
    state, planner = env.from_ascii(PLANNER_MAP), GoalPlanner(env, "chests")
    rng, keys, chests, terminated = np.random.default_rng(0), 0, 0, False
    for _ in range(5):
        state, _, events, ended, _ = env.step(state, planner.act_on_state(state, rng))
        keys, chests, terminated = keys + int(events["key"][0]), chests + int(events["chest"][0]), bool(ended[0])
        if terminated:
            break
    assert (keys, chests, terminated) == (1, 1, True)  # the only chest opened, within 4 steps


def test_metrics_count_events_per_episode():
    class Scripted:  # walks right along the top row
        def act(self, obs, rng, explore):
            return np.full(len(obs["context"]), 3)

    env = make_env(size=5)
    state = env.from_ascii("@kkc.\n.....\n.....\n.....\n.....")

    class FixedReset(KeysEnv):
        def reset(self, rng, batch, split="train"):
            return state.rows(np.zeros(batch, dtype=np.int64))

    fixed = FixedReset(env.config)
    rollout = evaluate(fixed, Scripted(), "test", 3, np.random.default_rng(0))
    m = fixed.metrics(rollout)
    assert m["keys_per_episode"] == 2 and m["surplus_keys_per_episode"] == 1
    assert m["chests_per_episode"] == 1 and m["chests_opened_share"] == 1
    assert m["steps_to_last_chest"] == 3 and m["return_per_episode"] == CHEST_REWARD
    assert m["steps_per_episode"] == 3  # the last chest ends the episode
    mask = fixed.after_goal_split_mask(rollout)
    assert mask[0, :3].tolist() == [False, True, True]


def test_the_contrast_learner_sees_chests_only_with_a_key_in_hand():
    text = ".....\n.@...\n.....\n...c.\n....k"
    plain, contrast = make_env(), make_env(chest_pull_needs_key=True)
    assert plain.observe(plain.from_ascii(text))["action_features"][0, :, 3].tolist() == [-1, 1, -1, 1, 0]
    assert contrast.observe(contrast.from_ascii(text))["action_features"][0, :, 3].tolist() == [0] * 5
    assert contrast.observe(contrast.from_ascii(text, inventory=1))["action_features"][0, :, 3].tolist() == [-1, 1, -1, 1, 0]
