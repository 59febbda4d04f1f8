"""Batched Q-learning with a linear function over observation features.

Why this learner: it learns the Monster task from reward alone in a few seconds of CPU, far
more reliably than the small networks and deep PPO runs the prototypes tried (see docs/learners.md). The
value of action a in state s is

    Q(s, a) = W . [ g(s, a) (x) c(s) ]  +  w . z(s)

where g(s, a) are the environment's per-action features (what the cell the action leads to
holds, how distances to each kind of object change) and c(s) its context features (always 1,
holding a shield, no monster alive, ...). The outer product lets every per-action weight depend
on the context, so the agent *can* value shields differently once the monsters are gone; whether
it learns to depends only on what its training episodes showed it. z(s) are state features (the
context plus counts such as the share of monsters alive and shields held): they let the value of
a state reflect how dangerous it is, so that killing a monster, and hence a shield, has value. All weights start at zero:
there is no built-in preference for any object.

One Q(0) update per batched step, averaged over the batch; the time limit is a truncation, so
the target bootstraps through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import param
from .base import Agent, epsilon_greedy

# "shared" keeps only the first context ("always", 1 in every state): the same training data, a representation
# that cannot tell the contexts apart (the ablation of docs/ablations.md)
CONTEXT_WEIGHTS = ("per context", "shared")


@dataclass(frozen=True)
class LinearQConfig:
    gamma: float = param(0.98, "discount factor", 0.0, 0.999)
    learning_rate: float = param(0.05, "step size of each batched update at the start", 1e-5, 1.0)
    final_learning_rate_share: float = param(
        0.1, "the step size decays linearly to this share of learning_rate by the end of training", 0.0, 1.0
    )
    state_rate_multiplier: float = param(
        10.0, "the state-feature weights (the value baseline) learn this many times faster", 1.0, 100.0
    )
    epsilon: float = param(0.1, "exploration rate while training", 0.0, 1.0)
    eval_epsilon: float = param(0.05, "exploration rate when evaluated", 0.0, 1.0)
    context_weights: str = param(
        "per context", "a representation choice: each feature's weight may differ per context (holding a shield, "
        "the coin's region, ...), or one shared weight per feature holds in every context", choices=CONTEXT_WEIGHTS,
    )


class LinearQAgent(Agent):
    name = "linear_q"
    title = "Linear Q-learning"
    Config = LinearQConfig

    def __init__(self, env, config=None, rng=None):
        super().__init__(env, config, rng)
        n_inputs = len(env.feature_names) * len(env.context_names) + len(env.state_feature_names)
        self.params = {"weights": np.zeros(n_inputs)}
        self.step_size = self.config.learning_rate
        self.context_mask = np.ones(len(env.context_names))
        self._acted = (None, None)  # the observation `act` last valued, and its values (see acting_values)
        if self.config.context_weights == "shared":
            self.context_mask[1:] = 0.0

    def contexts(self, obs: dict) -> np.ndarray:
        """(B, C) the contexts this agent's weights see: all of them, or only "always" when shared."""
        return obs["context"] * self.context_mask

    def set_training_progress(self, fraction: float) -> None:
        # annealing the step size settles the weights, so the greedy policy at the end of
        # training does not depend on the noise of the last few updates
        share = 1.0 - (1.0 - self.config.final_learning_rate_share) * fraction
        self.step_size = self.config.learning_rate * share

    def weight_table(self) -> dict[str, dict[str, float]]:
        """Learned weights, {context: {feature: weight}}: what each feature is worth in each context.

        The weights of a context add up: with no monster alive and a shield held, the value of
        "closer to shield" is its "always" + "holding a shield" + "no monster alive" weights.
        """
        crossed, _ = self._split_weights()
        return {
            context: {feature: float(crossed[f, c]) for f, feature in enumerate(self.env.feature_names)}
            for c, context in enumerate(self.env.context_names)
        }

    def _split_weights(self):
        """Views into the flat weight vector: (F, C) crossed weights and (S,) state weights."""
        w = self.params["weights"]
        n_crossed = len(self.env.feature_names) * len(self.env.context_names)
        return w[:n_crossed].reshape(len(self.env.feature_names), -1), w[n_crossed:]

    def action_values(self, obs: dict) -> np.ndarray:
        crossed, state_w = self._split_weights()
        # sum_f sum_c g[b,a,f] W[f,c] c[b,c], without materialising the (B, A, F*C) inputs
        per_context = obs["action_features"] @ crossed  # (B, A, C)
        return np.einsum("bac,bc->ba", per_context, self.contexts(obs)) + (obs["state_features"] @ state_w)[:, None]

    def acting_values(self, obs: dict) -> np.ndarray:
        """`action_values(obs)` of a training step, kept for its `learn`: the values of the state acted in are the
        same there (no update in between), and each computation is a third of the agent's time."""
        values = self.action_values(obs)
        self._acted = (obs, values)
        return values

    def act(self, obs: dict, rng: np.random.Generator, explore: bool) -> np.ndarray:
        if not explore:  # evaluated: no learn follows, nothing to keep
            return epsilon_greedy(self.action_values(obs), self.config.eval_epsilon, rng)
        return epsilon_greedy(self.acting_values(obs), self.config.epsilon, rng)

    def state_values(self, obs: dict) -> np.ndarray:
        """max_a Q(s, a): the value Q-learning's target gives a state."""
        return self.action_values(obs).max(-1)

    def learn(self, obs, actions, reward, next_obs, terminated, learning=None) -> dict:
        rows = np.arange(len(actions))
        next_value = self.action_values(next_obs).max(-1)
        target = reward + self.config.gamma * np.where(terminated, 0.0, next_value)
        acted_obs, acted_values = self._acted
        self._acted = (None, None)  # the update below makes them stale
        td = target - (acted_values if acted_obs is obs else self.action_values(obs))[rows, actions]
        if learning is not None:
            # rows that teach nothing add zero to the batch mean: dividing by the rows that learn instead made
            # each step up to 256x larger early on, when few rows replay (maze, 2% share: seed 8 collapsed)
            td = np.where(learning, td, 0.0)
        # gradient of Q(s, a) w.r.t. the crossed weights is outer(g(s, a), c(s)); average over the batch
        crossed, state_w = self._split_weights()
        scale = self.step_size / len(actions)
        crossed += scale * (obs["action_features"][rows, actions] * td[:, None]).T @ self.contexts(obs)
        state_w += scale * self.config.state_rate_multiplier * td @ obs["state_features"]
        return {"td_error": float(np.abs(td).mean())}
