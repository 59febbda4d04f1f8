"""What every episodic environment shares: its config checked at construction, the five moves, and a
reset that draws one random key per episode from the caller's Generator (see gmg.keys)."""

from __future__ import annotations

import numpy as np

from .. import grid
from ..keys import new_keys
from .card import EnvCard


def paint(grid_: np.ndarray, channel: int, cells: np.ndarray, present: np.ndarray | None = None) -> None:
    """Set grid_[b, channel, row, col] = 1 for the (B, K, 2) `cells` of each row b where `present` (B, K)."""
    b = np.broadcast_to(np.arange(cells.shape[0])[:, None], cells.shape[:2])
    keep = np.ones(cells.shape[:2], dtype=bool) if present is None else present
    grid_[b[keep], channel, cells[..., 0][keep], cells[..., 1][keep]] = 1.0


class EpisodicEnv:
    """Base of the registered environments; subclasses set `Config` and implement `reset_from_keys`
    and `raw_observation`."""

    Config = None
    n_actions = grid.N_ACTIONS
    card = EnvCard()  # what the rest of the program says about this world (gmg.envs.card)
    raw_channels: tuple[str, ...] = ()
    """Names of the raw observation's grid channels, one per kind of thing in a cell; the first is "agent"."""
    raw_scalars: tuple[str, ...] = ()
    """Names of the raw observation's scalars: what the agent carries or remembers (no goal-named quantity)."""

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

    def raw_observation(self, state) -> dict[str, np.ndarray]:
        """What a general learner sees: {"grid": float32 (B, C, H, W) 0/1 channels named by `raw_channels`,
        "scalars": float32 (B, K) named by `raw_scalars`}, read off the state; nothing computed from the goals."""
        raise NotImplementedError

    def _raw_grid(self, state, height: int, width: int | None = None) -> np.ndarray:
        """A zero (B, C, H, W) grid with the agent channel painted."""
        out = np.zeros((len(state.t), len(self.raw_channels), height, width or height), dtype=np.float32)
        paint(out, 0, state.agent[:, None])
        return out
