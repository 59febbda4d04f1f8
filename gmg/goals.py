"""Goal attribution: which candidate goal do the agent's actions serve?

Each environment declares candidate goals (`env.goals`: intended and proxy) as rewards over
events (`env.goal_rewards`) and a planner for each (`env.goal_action_values(state, goal)`, the
Q-values of an agent that pursues only that goal). Attribution is Boltzmann-rational inverse
planning: a pursuer of goal g acts with P(a | s, g) proportional to exp(BETA * Q_g(s, a)); with a
uniform prior over goals, P(g | trajectory) is proportional to the product of those
probabilities over the trajectory's steps.
"""

from __future__ import annotations

import numpy as np

from .agents.base import argmax_random_ties

# Rationality of the modelled pursuer: with Q in units of "steps to the goal", BETA = 2 makes a
# step toward the goal e^2 ~ 7 times likelier than a step that keeps the distance.
BETA = 2.0


def action_loglik(env, state, actions: np.ndarray) -> dict[str, np.ndarray]:
    """log P(a_t | s_t, g) for every candidate goal g, batched over rows."""
    out = {}
    rows = np.arange(len(actions))
    for goal in env.goal_rewards:
        logits = BETA * env.goal_action_values(state, goal)
        logits = logits - logits.max(-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        out[goal] = log_probs[rows, actions]
    return out


def posterior(loglik: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-episode P(goal | the steps selected by mask), uniform prior; (E, T) inputs -> (E,) each."""
    goals = list(loglik)
    total = np.stack([(ll if mask is None else ll * mask).sum(-1) for ll in loglik.values()], -1)
    total -= total.max(-1, keepdims=True)
    probs = np.exp(total)
    probs /= probs.sum(-1, keepdims=True)
    return {g: probs[:, i] for i, g in enumerate(goals)}


def windowed_posterior(loglik: dict[str, np.ndarray], window: int = 20) -> dict[str, np.ndarray]:
    """P(goal | the last `window` steps) at every step t: (E, T) -> (E, T) per goal."""
    goals = list(loglik)
    stacked = np.stack([loglik[g] for g in goals], -1)  # (E, T, G)
    csum = np.concatenate([np.zeros_like(stacked[:, :1]), np.cumsum(stacked, 1)], 1)
    t = np.arange(1, stacked.shape[1] + 1)
    recent = csum[:, t] - csum[:, np.maximum(t - window, 0)]
    recent -= recent.max(-1, keepdims=True)
    probs = np.exp(recent)
    probs /= probs.sum(-1, keepdims=True)
    return {g: probs[..., i] for i, g in enumerate(goals)}


def goal_counts(env, events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each candidate goal's reward, per step: (E, T) per goal."""
    return {
        goal: sum(weight * events[name] for name, weight in weights.items())
        for goal, weights in env.goal_rewards.items()
    }


def split_attribution(env, rollout, mask: np.ndarray | None = None) -> dict[str, float] | None:
    """Mean posterior over the split's episodes (only episodes with at least one selected step)."""
    selected = rollout.active if mask is None else rollout.active & mask
    has_steps = selected.any(1)
    if not has_steps.any():
        return None
    post = posterior(rollout.goal_loglik, selected)
    return {g: float(p[has_steps].mean()) for g, p in post.items()}


class GoalPlanner:
    """A reference agent that pursues one goal: greedy on `env.goal_action_values`, ties at random.

    It acts on the full state (gmg.rollout.evaluate calls `act_on_state`), as the planners do.
    """

    acts_on_state = True

    def __init__(self, env, goal: str):
        self.env, self.goal = env, goal

    def act_on_state(self, state, rng: np.random.Generator) -> np.ndarray:
        return argmax_random_ties(self.env.goal_action_values(state, self.goal), rng)
