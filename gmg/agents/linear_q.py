"""Batched Q-learning with a linear function over observation features.

Why this learner: it learns the Monster task from reward alone in a few seconds of CPU, far
more reliably than the small networks and deep PPO runs the prototypes tried (see README). The
value of action a in state s is

    Q(s, a) = w . [ g(s, a) (x) c(s),  c(s) ]

where g(s, a) are the environment's per-action features (what the cell the action leads to
holds, how distances to each kind of object change) and c(s) its context features (always 1,
holding a shield, no monster alive, ...). The outer product lets every per-action weight depend
on the context, so the agent *can* value shields differently once the monsters are gone; whether
it learns to depends only on what its training episodes showed it. All weights start at zero:
there is no built-in preference for any object.

One Q(0) update per batched step, averaged over the batch; the time limit is a truncation, so
the target bootstraps through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import param
from .base import Agent, epsilon_greedy


@dataclass(frozen=True)
class LinearQConfig:
    gamma: float = param(0.9, "discount factor", 0.0, 0.999)
    learning_rate: float = param(0.05, "step size of each batched update", 1e-5, 1.0)
    epsilon: float = param(0.1, "exploration rate while training", 0.0, 1.0)
    eval_epsilon: float = param(0.05, "exploration rate when evaluated", 0.0, 1.0)


def linear_inputs(obs: dict) -> np.ndarray:
    """(B, A, F*C + C): per-action features crossed with the context, plus the context itself."""
    g, c = obs["action_features"], obs["context"]
    b, a, f = g.shape
    crossed = (g[..., :, None] * c[:, None, None, :]).reshape(b, a, f * c.shape[1])
    return np.concatenate([crossed, np.broadcast_to(c[:, None, :], (b, a, c.shape[1]))], -1)


class LinearQAgent(Agent):
    name = "linear_q"
    title = "Linear Q-learning"
    Config = LinearQConfig

    def __init__(self, env, config=None, rng=None):
        super().__init__(env, config, rng)
        n_inputs = len(env.feature_names) * len(env.context_names) + len(env.context_names)
        self.params = {"weights": np.zeros(n_inputs)}

    def weight_names(self) -> list[str]:
        crossed = [f"{f} | {c}" for f in self.env.feature_names for c in self.env.context_names]
        return crossed + [f"state: {c}" for c in self.env.context_names]

    def action_values(self, obs: dict) -> np.ndarray:
        return linear_inputs(obs) @ self.params["weights"]

    def act(self, obs: dict, rng: np.random.Generator, explore: bool) -> np.ndarray:
        eps = self.config.epsilon if explore else self.config.eval_epsilon
        return epsilon_greedy(self.action_values(obs), eps, rng)

    def learn(self, obs, actions, reward, next_obs, terminated) -> dict:
        w = self.params["weights"]
        inputs = linear_inputs(obs)[np.arange(len(actions)), actions]
        next_value = (linear_inputs(next_obs) @ w).max(-1)
        target = reward + self.config.gamma * np.where(terminated, 0.0, next_value)
        td = target - inputs @ w
        w += self.config.learning_rate * (td[:, None] * inputs).mean(0)
        return {"td_error": float(np.abs(td).mean())}
