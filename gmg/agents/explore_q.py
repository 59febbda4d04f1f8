"""Linear Q-learning that explores where its inputs are new: a count-based bonus (diagonal LinUCB).

Why: epsilon-greedy rarely strays far from the route it has learned. When the object (the coin,
the cheese) sometimes lies off that route in training, the greedy agent walks past it, never
collects it, and the object's weights for that part of the level never grow: the diversity meant
to cure a proxy goal is there, but the agent never learns from it. This agent keeps the value
function, the update and the step sizes of `linear_q` and only changes how it picks actions while
training: it adds to each action's value a bonus for how new the inputs of that action are,

    bonus(s, a) = b * sqrt( sum_i x_i(s, a)^2 / (1 + n_i) ),   n_i = sum over past chosen actions of x_i^2,

with x(s, a) = g(s, a) (x) c(s) the crossed inputs of `linear_q` (the diagonal of the LinUCB
bonus for linear values). An action that moves toward an object in a part of the level where the
agent has rarely seen one gets a large bonus, so the agent goes and finds out what it is worth;
inputs it has met often get almost none. When evaluated it acts on its values alone, so at test
it shows what training taught it: inputs never met in training (regions where the object never
lay) still have weight zero.

Its step size starts at 0.3 (linear_q: 0.05). The update is a batch mean, so an input present in
one row of 256 moves 1/256 as far as one present in every row; the few off-route objects the bonus
finds must each count. Without the bonus this step size is unstable (coin, share 0.1: one seed of
two never learned to take the coin); with it, every seed of the benchmark learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import compiled
from ..params import param
from .base import epsilon_greedy
from .linear_q import LinearQAgent, LinearQConfig


@dataclass(frozen=True)
class ExploreQConfig(LinearQConfig):
    learning_rate: float = param(0.3, "step size of each batched update at the start", 1e-5, 1.0)
    bonus: float = param(
        20.0, "while training, each action's value gets bonus * sqrt(sum of x^2 / (1 + count)) over its inputs x",
        0.0, 100.0,
    )


class ExploreQAgent(LinearQAgent):
    name = "explore_q"
    title = "Linear Q-learning with a novelty bonus"
    Config = ExploreQConfig

    def __init__(self, env, config=None, rng=None):
        super().__init__(env, config, rng)
        # how often each crossed input was active in a chosen action, summed over training (x^2)
        self.params["counts"] = np.zeros((len(env.feature_names), len(env.context_names)))

    def novelty(self, obs: dict) -> np.ndarray:
        """(B, A) sqrt(sum_i x_i^2 / (1 + n_i)) over the crossed inputs x of each action."""
        rarity = 1.0 / (1.0 + self.params["counts"])
        if compiled.ENABLED:
            return novelty_rows(obs["action_features"], rarity, self.contexts(obs))
        return np.sqrt(np.einsum("baf,fc,bc->ba", obs["action_features"] ** 2, rarity, self.contexts(obs) ** 2))

    def act(self, obs: dict, rng: np.random.Generator, explore: bool) -> np.ndarray:
        if not explore:
            return super().act(obs, rng, explore)
        values = self.acting_values(obs) + self.config.bonus * self.novelty(obs)
        return epsilon_greedy(values, self.config.epsilon, rng)

    def learn(self, obs, actions, reward, next_obs, terminated, learning=None) -> dict:
        chosen = obs["action_features"][np.arange(len(actions)), actions]
        if learning is not None:  # what the agent does not learn from, it has not met either
            chosen = chosen * learning[:, None]
        self.params["counts"] += (chosen**2).T @ self.contexts(obs) ** 2
        return super().learn(obs, actions, reward, next_obs, terminated, learning)


@compiled.kernel
def novelty_rows(features, rarity, contexts):
    """`ExploreQAgent.novelty` compiled (a sixth of a default coin or maze run went to its einsum): the same
    products, (x^2 * rarity) * context^2, summed as numpy's einsum sums them here, one running total per
    action from 0 over the features, the contexts inner (tests/test_compiled.py checks the trained weights bit
    for bit, so a numpy whose einsum sums in another order would show there)."""
    n, n_actions, n_features = features.shape
    out = np.empty((n, n_actions))
    for b in range(n):
        for a in range(n_actions):
            total = 0.0
            for f in range(n_features):
                for c in range(rarity.shape[1]):
                    total += features[b, a, f] ** 2 * rarity[f, c] * contexts[b, c] ** 2
            out[b, a] = np.sqrt(total)
    return out

