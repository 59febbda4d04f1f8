"""The Gymnasium adapter: every world passes Gymnasium's own checker, and behaves like gmg's."""

import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")  # in requirements-dev.txt: this runs in CI

from gymnasium.utils.env_checker import check_env  # noqa: E402

from gmg import gym_adapter  # noqa: E402
from gmg.params import ParamError  # noqa: E402


@pytest.mark.parametrize("env_id", list(gym_adapter.ENV_IDS.values()))
def test_every_world_passes_gymnasiums_checker(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded feature boxes draw a warning, not an error
        check_env(gymnasium.make(env_id).unwrapped)


@pytest.mark.parametrize("env_id", list(gym_adapter.ENV_IDS.values()))
def test_same_seed_same_episode(env_id):
    def play(seed):
        env = gymnasium.make(env_id)
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        trace = [obs]
        for _ in range(30):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace.append((obs, reward))
            if terminated or truncated:
                break
        return trace

    a, b, other = play(1), play(1), play(2)
    assert repr(a) == repr(b) and repr(a) != repr(other)


def test_episodes_are_truncated_at_the_splits_length():
    for split, length in (("train", 25), ("test", 200)):
        env = gymnasium.make("gmg/Monster-v0", split=split)
        env.reset(seed=0)
        steps, truncated = 0, False
        while not truncated:
            _, _, terminated, truncated, _ = env.step(4)
            steps += 1
            assert not terminated
        assert steps == length


def test_rewards_and_events_are_the_worlds():
    env = gymnasium.make("gmg/Monster-v0", apple_reward=2.0)
    env.reset(seed=0)
    total, apples = 0.0, 0
    for _ in range(25):
        _, reward, _, _, info = env.step(env.action_space.sample())
        total += reward
        apples += info["events"]["apple"]
        total += info["events"]["hit"]  # the hits' penalty (1 each) back
    assert total == pytest.approx(2.0 * apples)


def test_render_modes():
    env = gymnasium.make("gmg/Keys-v0", render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == env.unwrapped.world.to_ascii(env.unwrapped.state) + "\n"
    image = gymnasium.make("gmg/Tree-v0", render_mode="rgb_array")
    image.reset(seed=0)
    frame = image.render()
    assert frame.shape == (160, 160, 3) and frame.dtype == np.uint8
    assert (frame == (46, 125, 50)).all(-1).any()  # a tree's green is drawn


@pytest.mark.parametrize("kwargs, error, message", [
    ({"env_name": "nosuch"}, ValueError, "unknown environment"),
    ({"split": "validation"}, ValueError, "split"),
    ({"render_mode": "human"}, ValueError, "render_mode"),
    ({"size": "-3"}, ParamError, "between"),
    ({"nosuch": 1}, ParamError, "unknown parameter"),
])
def test_bad_arguments_are_refused_with_a_message(kwargs, error, message):
    with pytest.raises(error, match=message):
        gym_adapter.GmgEnv(**kwargs)


def test_bad_actions_and_steps_before_reset():
    env = gym_adapter.GmgEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    for action in (7, -1, "up"):
        with pytest.raises(ValueError, match="action"):
            env.step(action)


@pytest.mark.parametrize("name", ["monster", "keys", "follow", "coin", "maze"])
def test_raw_grid_observation_for_an_outside_learner(name):
    """obs_type="grid": an image-like Box an outside RL loop can train on (a few steps of one)."""
    from gmg.envs import ENVS

    env = gymnasium.make(gym_adapter.ENV_IDS[name], obs_type="grid")
    world = ENVS[name]()
    assert env.observation_space.shape == (len(world.raw_channels) + len(world.raw_scalars),
                                           world.config.size, world.config.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(20):
        assert env.observation_space.contains(obs) and obs[0].sum() == 1  # one agent cell
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()


def test_raw_grid_observation_needs_an_episodic_world():
    with pytest.raises(ValueError, match="episodic"):
        gymnasium.make(gym_adapter.ENV_IDS["tree"], obs_type="grid")
