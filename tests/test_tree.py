"""Tree gridworld rules: chopping, the regrowth law (checked statistically), maps, and the learner's bookkeeping."""

import math

import numpy as np
import pytest

from gmg.agents.continual_q import ContinualQ, ContinualQConfig
from gmg.envs.tree import TreeConfig, TreeEnv
from gmg.grid import actions_from_string
from gmg.keys import new_keys
from gmg.params import ParamError, with_overrides

DOC_MAP = """
T...
.@..
..T.
....
"""
STAY = actions_from_string("s")


def small_env(**changes) -> TreeEnv:
    return TreeEnv(TreeConfig(size=4, max_trees=3, initial_trees=2, **changes))


def play(env, state, actions: str, grow: bool = False):
    rewards = []
    for action in actions_from_string(actions):
        state, reward, _ = env.step(state, np.array([action]), grow=grow)
        rewards.append(float(reward[0]))
    return state, rewards


def test_docstring_example_chops_the_tree():
    env = small_env()
    state = env.from_ascii(DOC_MAP)
    assert env.to_ascii(state) == DOC_MAP.strip()
    state, rewards = play(env, state, "ul")
    assert rewards == [0.0, 1.0]
    assert env.to_ascii(state) == "@...\n....\n..T.\n...."
    assert state.count.tolist() == [1]


def test_walls_block_and_staying_never_chops():
    env = small_env()
    state = env.from_ascii("@...\n....\n..T.\n....")
    state, rewards = play(env, state, "ulsss")
    assert rewards == [0.0] * 5 and state.agent.tolist() == [[0, 0]]


@pytest.mark.parametrize("text, message", [
    ("T..\n.@.\n...", "side"),
    ("T...\n.@..\n..x.\n....", "unknown"),
    ("T...\n....\n..T.\n....", "exactly one agent"),
])
def test_bad_maps_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        small_env().from_ascii(text)


def test_published_regrowth_rates():
    env = TreeEnv(TreeConfig(r_min=1e-6))
    p = env.spawn_probability(np.arange(11))
    assert p[0] == pytest.approx(1e-6)
    assert p[[1, 5, 9]] == pytest.approx([0.3 * math.log(2) / math.log(11), 0.224, 0.288], abs=1e-3)
    assert p[10] == 0.0  # a full forest does not grow
    assert TreeEnv(TreeConfig(permanent_extinction=True)).spawn_probability(np.array([0, 1]))[0] == 0.0


@pytest.mark.parametrize("trees", [0, 1, 5, 9])
def test_regrowth_happens_at_rate_r_n_on_a_uniform_empty_cell(trees):
    """One map with n trees, copied into 20,000 worlds with their own keys, the agent standing still:
    a tree grows with probability r(n), on each empty cell but the agent's equally often."""
    env = TreeEnv(TreeConfig(r_min=0.05))
    n = 20_000
    state = env.reset(np.random.default_rng(trees), 1, trees=trees).rows(np.zeros(n, int))
    state.key = new_keys(np.random.default_rng(100 + trees), n)
    after, _, events = env.step(state, np.repeat(STAY, n))
    p = env.spawn_probability(np.array([trees]))[0]
    grown = events["spawn"]
    assert abs(grown.mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    new = after.trees & ~state.trees
    assert (new.sum(1) == grown).all() and (after.count == trees + grown).all()
    allowed = ~state.trees[0]
    allowed[state.cell[0]] = False  # never on the agent, nor on a standing tree
    per_cell = new.sum(0)
    assert (per_cell[~allowed] == 0).all()
    expected = grown.sum() / allowed.sum()
    assert np.abs(per_cell[allowed] - expected).max() < 5 * math.sqrt(expected)


def test_permanent_extinction_means_nothing_ever_grows_again():
    env = TreeEnv(TreeConfig(permanent_extinction=True, r_min=0.5))
    state = env.reset(np.random.default_rng(0), 64, trees=0)
    for _ in range(200):
        state, reward, _ = env.step(state, np.repeat(STAY, 64))
    assert state.count.sum() == 0 and not state.trees.any()


def test_step_is_pure_and_keyed_by_the_row():
    env = TreeEnv()
    state = env.reset(np.random.default_rng(3), 6)
    before = state.copy()
    actions = np.array([0, 1, 2, 3, 4, 0])
    a, ra, _ = env.step(state, actions)
    b, rb, _ = env.step(state, actions)
    assert (state.trees == before.trees).all() and (state.cell == before.cell).all()
    assert (a.trees == b.trees).all() and (ra == rb).all()
    single, _, _ = env.step(state.rows(slice(4, 5)), actions[4:5])
    assert (single.trees[0] == a.trees[4]).all()


def test_observation_is_the_nearest_tree_offset_and_count():
    env = small_env()
    obs = env.observe(env.from_ascii(DOC_MAP))
    side = 2 * env.size - 1
    # from (1, 1) the trees at (0, 0) and (2, 2) are both 2 away: ties go to the lowest cell, (0, 0)
    assert obs["nearest"].tolist() == [(-1 + 3) * side + (-1 + 3)] and obs["count"].tolist() == [2]
    empty = env.observe(env.from_ascii("....\n.@..\n....\n...."))
    assert empty["nearest"].tolist() == [3 * side + 3] and empty["count"].tolist() == [0]


def test_greedy_reference_walks_to_the_nearest_tree():
    env = small_env()
    state = env.from_ascii("....\n.@..\n....\n...T")
    rewards = []
    for _ in range(4):
        state, reward, _ = env.step(state, env.toward_nearest(state), grow=False)
        rewards.append(float(reward[0]))
    assert rewards == [0.0, 0.0, 0.0, 1.0]


def test_config_rejects_impossible_worlds():
    with pytest.raises(ParamError, match="initial_trees"):
        with_overrides(TreeConfig(), {"initial_trees": "12"})
    with pytest.raises(ParamError, match="below the number of cells"):
        with_overrides(TreeConfig(), {"size": "3", "max_trees": "9"})


def test_learner_update_matches_the_two_table_rule():
    """Q = shared[o, a] + per_count[n, o, a]: one TD step moves every count's entry by the shared rate."""
    config = ContinualQConfig(gamma=0.5, shared_rate=0.1, count_rate=0.02, epsilon=0.0)
    learner = ContinualQ(n_offsets=9, n_counts=4, n_actions=5, keys=new_keys(np.random.default_rng(0), 1),
                         config=config)
    learner.start({"nearest": np.array([4]), "count": np.array([2])})
    learner.act(np.array([[0.9, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5]]))  # ties: the largest noise, action 0
    learner.update(np.array([1.0]), {"nearest": np.array([3]), "count": np.array([1])})
    q = learner.q[0]
    assert q[2, 4, 0] == pytest.approx(0.12) and q[0, 4, 0] == pytest.approx(0.1) and q[3, 4, 0] == pytest.approx(0.1)
    assert np.count_nonzero(q) == 4  # one entry per count for that offset and action


def test_learner_corrects_values_of_a_next_state_sharing_the_entry():
    config = ContinualQConfig(gamma=0.0, shared_rate=0.1, count_rate=0.02, epsilon=0.0)
    learner = ContinualQ(9, 4, 5, new_keys(np.random.default_rng(0), 1), config)
    obs = {"nearest": np.array([4]), "count": np.array([2])}
    learner.start(obs)
    action = learner.act(np.array([[0.9, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5]]))
    learner.update(np.array([1.0]), obs)  # the same state again
    assert learner.action_values(obs)[0, action[0]] == pytest.approx(0.12)
    assert learner.current_values[0, action[0]] == pytest.approx(0.12)
