"""The one interface every agent implements, so environments and the trainer never special-case.

An agent sees an observation dict (batched): the hand-made features of an environment's `observe`,
or its `raw_observation` for an agent whose `observation` is "raw"; it picks actions,
and learns from transitions one batched step at a time. An on-policy or network agent is free to
buffer transitions inside `learn` and update when its buffer is full; the trainer does not care.
Hyperparameters live in a frozen config dataclass; learned parameters in `params` (a dict of
arrays), so agents are easy to save, compare and cache.
"""

from __future__ import annotations

import numpy as np


TIE_TOLERANCE = 1e-9  # action values closer than this count as tied


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax that breaks ties uniformly at random.

    With np.argmax a zero-initialised agent would always pick action 0 and fake a preference.
    """
    best = values >= values.max(-1, keepdims=True) - TIE_TOLERANCE
    return np.where(best, rng.random(values.shape), -1.0).argmax(-1)


def epsilon_greedy(values: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    actions = argmax_random_ties(values, rng)
    explore = rng.random(len(actions)) < epsilon
    return np.where(explore, rng.integers(0, values.shape[-1], len(actions)), actions)


class Agent:
    """Base class: subclasses set `name`, `Config`, and implement the methods below."""

    name = "agent"
    title = "Agent"
    Config = None
    learns = True
    observation = "features"  # what it reads: "features" (env.observe) or "raw" (env.raw_observation)
    # the agent's own representation choice for the ablation "same training, another representation":
    # (parameter, (as designed, ablated)); None: the world's card names it (EnvCard.representation)
    representation: tuple[str, tuple] | None = None

    def __init__(self, env, config=None, rng: np.random.Generator | None = None):
        # rng: for agents whose parameters start random (networks); zero-initialised ones ignore it
        self.env = env
        self.config = config if config is not None else self.Config()
        self.params: dict[str, np.ndarray] = {}

    def action_values(self, obs: dict) -> np.ndarray:
        """(B, A) preferences over actions (Q-values or logits); used to act and to draw policies."""
        raise NotImplementedError

    def act(self, obs: dict, rng: np.random.Generator, explore: bool) -> np.ndarray:
        raise NotImplementedError

    def set_training_progress(self, fraction: float) -> None:
        """Called by the trainer before each batched step with the share of training done."""

    def learn(self, obs: dict, actions: np.ndarray, reward: np.ndarray, next_obs: dict, terminated: np.ndarray,
              learning: np.ndarray | None = None) -> dict:
        """Learn from one batched transition; returns diagnostics (e.g. {"td_error": ...}).

        `learning`: (B,) bool, the rows to learn from (None: every row); the others are stepped but
        teach nothing (a curriculum's levels that are only scored, gmg.curriculum)."""
        raise NotImplementedError

    def state_values(self, obs: dict) -> np.ndarray:
        """(B,) the agent's estimate of each state's value (a curriculum's regret score, gmg.curriculum)."""
        raise NotImplementedError

    def end_episodes(self, rows: np.ndarray) -> None:
        """Called by the trainer after `learn` with the rows whose episode just ended (terminated or
        timed out) and restarts; an agent that learns from whole rollouts cuts them there."""

    def begin_episodes(self) -> None:
        """Called before a new batch of episodes is played from its start (an evaluation, a diagnosis's
        episodes, an edited map): an agent that remembers the episode so far forgets it."""


def observe(env, agent, state) -> dict:
    """The observation `agent` reads of a batch of states (an object without `observation`, such as a
    scripted test agent or a planner acting on the state, gets the features, as before raw observations)."""
    return env.raw_observation(state) if getattr(agent, "observation", "features") == "raw" else env.observe(state)
