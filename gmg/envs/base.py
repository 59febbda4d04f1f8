"""What every episodic environment shares: its config checked at construction, the five moves, and a
reset that draws one random key per episode from the caller's Generator (see gmg.keys)."""

from __future__ import annotations

import numpy as np

from .. import grid
from ..keys import new_keys
from .card import EnvCard


class EpisodicEnv:
    """Base of the registered environments; subclasses set `Config` and implement `reset_from_keys`."""

    Config = None
    n_actions = grid.N_ACTIONS
    card = EnvCard()  # what the rest of the program says about this world (gmg.envs.card)

    def __init__(self, config=None):
        self.config = config or self.Config()
        self.config.check()

    def episode_length(self, split: str) -> int:
        """The same on both splits unless an environment says otherwise."""
        return self.config.episode_length

    def reset(self, rng: np.random.Generator, batch: int, split: str = "train"):
        return self.reset_from_keys(new_keys(rng, batch), split)

    def reset_from_keys(self, keys: np.ndarray, split: str = "train"):
        raise NotImplementedError
