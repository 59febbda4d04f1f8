"""Run a trained agent on a split (train or test distribution) and keep per-step events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import goals
from .agents.base import observe


@dataclass
class Rollout:
    split: str
    episode_length: int
    events: dict[str, np.ndarray]  # name -> (E, T), zero after an episode ended
    reward: np.ndarray  # (E, T)
    active: np.ndarray  # (E, T) bool: the episode was still running at step t
    goal_loglik: dict[str, np.ndarray]  # goal -> (E, T) log-likelihood of each action under that goal
    frames: list  # env states of the first `record` episodes, at t = 0..T

    @property
    def episodes(self) -> int:
        return self.reward.shape[0]


def policy_actions(agent, state, obs: dict, rng: np.random.Generator) -> np.ndarray:
    """The agent's evaluation actions; a planner (gmg.goals.GoalPlanner) acts on the state itself."""
    if getattr(agent, "acts_on_state", False):
        return agent.act_on_state(state, rng)
    return agent.act(obs, rng, explore=False)


def begin_episodes(actor) -> None:
    """A new batch of episodes starts: an actor that remembers the episode so far (`Agent.begin_episodes`)
    forgets it; planners and scripted actors remember nothing and need not say so."""
    forget = getattr(actor, "begin_episodes", None)
    if forget is not None:
        forget()


def evaluate(env, agent, split: str, episodes: int, rng: np.random.Generator, record: int = 2) -> Rollout:
    """`episodes` fresh episodes of `split`, the first `record` of them recorded frame by frame."""
    return play(env, agent, env.reset(rng, episodes, split), split, rng, record)


def play(env, agent, state, split: str, rng: np.random.Generator, record: int = 2) -> Rollout:
    """The agent's evaluation episodes from the batch of states `state` (e.g. a map a visitor edited) on."""
    horizon = env.episode_length(split)
    episodes = len(state.t)
    obs = observe(env, agent, state)
    begin_episodes(agent)
    active = np.ones(episodes, dtype=bool)
    names = env.events + env.step_counts
    events = {name: np.zeros((episodes, horizon), dtype=np.int64) for name in names}
    reward = np.zeros((episodes, horizon))
    was_active = np.zeros((episodes, horizon), dtype=bool)
    loglik = {g: np.zeros((episodes, horizon)) for g in env.goal_rewards}
    record = min(record, episodes)
    frames = [state.rows(slice(0, record)).copy()]
    for t in range(horizon):
        actions = policy_actions(agent, state, obs, rng)
        for goal, ll in goals.action_loglik(env, state, actions).items():
            loglik[goal][:, t] = ll * active
        next_state, r, ev, terminated, truncated = env.step(state, actions)
        was_active[:, t] = active
        reward[:, t] = r * active
        for name in names:
            events[name][:, t] = ev[name] * active
        active = active & ~(terminated | truncated)
        state = next_state
        frames.append(state.rows(slice(0, record)).copy())
        obs = observe(env, agent, state)
    return Rollout(split, horizon, events, reward, was_active, loglik, frames)
