"""Helpers the rules tests share."""

import numpy as np

from gmg import grid


def play(env, state, moves: str):
    """Step a one-row state through an action string -> (final state, rewards, events per step).

    For episodes that must not end on the way (the step asserts it)."""
    rewards, events = [], []
    for action in grid.actions_from_string(moves):
        state, reward, ev, terminated = env.step(state, np.array([action]))
        assert not terminated[0]
        rewards.append(float(reward[0]))
        events.append({name: int(value[0]) for name, value in ev.items()})
    return state, rewards, events
