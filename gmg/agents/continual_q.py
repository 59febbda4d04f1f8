"""Online Q-learning for a world that never resets: one learner per independent copy.

Why this learner (see gmg.studies.tree and docs/results.md): the value of moving `a` when the nearest
tree lies at offset `o` and `n` trees stand is the sum of two tables,

    Q(o, n, a) = shared[o, a] + per_count[n, o, a]

`shared` is the same for every tree count: it learns "walk to the nearest tree" quickly (larger
step size) and carries it to counts the agent has hardly seen -- the over-chopping of a young
agent. `per_count` sees the count, so the agent *can* learn that chopping the last trees is bad;
it learns more slowly, from the barren stretches it causes. All values start at zero: there is no
built-in preference for chopping or for waiting. Each copy of the world has its own tables and its
own exploration noise, so copy i is the same run whatever the number of copies beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..keys import uniforms
from ..params import param
from .base import TIE_TOLERANCE

# purpose of counter-based draws (see gmg.keys); distinct from the environment's
_CHOICE = 10


@dataclass(frozen=True)
class ContinualQConfig:
    gamma: float = param(0.99, "discount factor: below about 0.99 a full forest is not worth waiting for", 0.0, 0.9999)
    shared_rate: float = param(
        0.1, "step size of the values shared by every tree count (indexed by the nearest tree's offset)", 0.0, 1.0
    )
    count_rate: float = param(0.02, "step size of the values specific to each tree count", 0.0, 1.0)
    epsilon: float = param(0.1, "exploration rate: a random move instead of the best one", 0.0, 1.0)


class ContinualQ:
    """Acts and learns in one stream: `start(obs)`, then repeatedly `act(draws)` and `update(reward, next_obs)`."""

    name = "continual_q"
    title = "Online Q-learning (shared + per-count values)"

    def __init__(self, n_offsets: int, n_counts: int, n_actions: int, keys: np.ndarray, config: ContinualQConfig):
        copies = len(keys)
        self.config = config
        self.keys = keys  # per copy: its exploration noise (gmg.keys)
        self.n_actions = n_actions
        self.n_offsets, self.n_counts = n_offsets, n_counts
        # Q itself, the sum of the two tables, kept rather than summed at every lookup: an update
        # of shared[o, a] is added to Q[n, o, a] for every count n
        self.q = np.zeros((copies, n_counts, n_offsets, n_actions))
        self._q_rows = self.q.reshape(-1, n_actions)  # a view: row (copy, n, o)
        self._copies = np.arange(copies)
        self._rows = self._values = self._actions = None  # the current state's Q rows and values

    def _table_rows(self, obs: dict, copy: np.ndarray) -> np.ndarray:
        """Row indices into Q viewed as (copy * count * offset, A): one index is the fastest gather."""
        return (copy * self.n_counts + obs["count"]) * self.n_offsets + obs["nearest"]

    def action_values(self, obs: dict, copy: np.ndarray | None = None) -> np.ndarray:
        """(B, A) values; row b uses the tables of copy `copy[b]` (default: row b is copy b)."""
        return self._q_rows[self._table_rows(obs, self._copies if copy is None else copy)]

    def draws(self, counter, steps: int = 1, keys: np.ndarray | None = None) -> np.ndarray:
        """(B, steps, A + 2) uniforms for choosing `steps` consecutive actions (default keys: the copies')."""
        keys = self.keys if keys is None else keys
        return uniforms(keys, counter, _CHOICE, (self.n_actions + 2) * steps).reshape(len(keys), steps, -1)

    def choose(self, values: np.ndarray, draws: np.ndarray, explore: bool) -> np.ndarray:
        """Greedy actions with ties broken at random; exploring, a random one with probability epsilon.

        `draws` (B, A + 2): tie-breaking noise per action, then the exploration coin and the random action.
        """
        a = self.n_actions
        best = values >= values.max(1, keepdims=True) - TIE_TOLERANCE
        actions = np.where(best, draws[:, :a], -1.0).argmax(1)
        if explore:
            random_action = (draws[:, a + 1] * a).astype(np.int64)
            actions = np.where(draws[:, a] < self.config.epsilon, random_action, actions)
        return actions

    def start(self, obs: dict) -> None:
        """Begin the stream in the state `obs` (one row per copy)."""
        self._offsets = obs["nearest"]
        self._rows = self._table_rows(obs, self._copies)
        self._values = self._q_rows[self._rows]

    def act(self, draws: np.ndarray) -> np.ndarray:
        """Exploring actions in the current state; `draws` as for `choose`."""
        self._actions = self.choose(self._values, draws, explore=True)
        return self._actions

    def update(self, reward: np.ndarray, next_obs: dict) -> None:
        """Q-learning on the last transition (no terminal states: the world goes on); next_obs becomes current."""
        c, copies, actions = self.config, self._copies, self._actions
        next_rows = self._table_rows(next_obs, copies)
        next_values = self._q_rows[next_rows]
        td = reward + c.gamma * next_values.max(1) - self._values[copies, actions]
        self.q[copies, :, self._offsets, actions] += (c.shared_rate * td)[:, None]  # shared: every count
        self._q_rows[self._rows, actions] += c.count_rate * td  # this count only
        # next_values were looked up before the update: correct the entries it changed, if the next state shares them
        same_offset = next_obs["nearest"] == self._offsets
        correction = c.shared_rate * same_offset + c.count_rate * (next_rows == self._rows)
        next_values[copies, actions] += td * correction
        self._offsets, self._rows, self._values = next_obs["nearest"], next_rows, next_values
