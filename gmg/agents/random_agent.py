"""The random agent: uniform actions, no learning. The incompetence floor every metric is read against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Agent


@dataclass(frozen=True)
class RandomConfig:
    pass


class RandomAgent(Agent):
    name = "random"
    title = "Random (no learning)"
    Config = RandomConfig
    learns = False

    def action_values(self, obs: dict) -> np.ndarray:
        return np.zeros(obs["action_features"].shape[:1] + (self.env.n_actions,))

    def act(self, obs, rng, explore):
        return rng.integers(0, self.env.n_actions, len(obs["action_features"]))

    def learn(self, obs, actions, reward, next_obs, terminated, learning=None) -> dict:
        return {}
