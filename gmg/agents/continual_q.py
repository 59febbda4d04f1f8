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

from .. import compiled
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
        # the current state, carried from one step to the next (the Tree study's compiled loop updates
        # them in place): each copy's nearest-tree offset, its row of Q, and that row's values
        self.current_offsets = self.current_rows = self.current_values = None
        self._actions = None

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
        self.current_offsets = obs["nearest"]
        self.current_rows = self._table_rows(obs, self._copies)
        self.current_values = self._q_rows[self.current_rows]

    def act(self, draws: np.ndarray) -> np.ndarray:
        """Exploring actions in the current state; `draws` as for `choose`."""
        self._actions = self.choose(self.current_values, draws, explore=True)
        return self._actions

    def update(self, reward: np.ndarray, next_obs: dict) -> None:
        """Q-learning on the last transition (no terminal states: the world goes on); next_obs becomes current."""
        c, copies, actions = self.config, self._copies, self._actions
        offsets, rows = self.current_offsets, self.current_rows
        next_rows = self._table_rows(next_obs, copies)
        next_values = self._q_rows[next_rows]
        td = reward + c.gamma * next_values.max(1) - self.current_values[copies, actions]
        self.q[copies, :, offsets, actions] += (c.shared_rate * td)[:, None]  # shared: every count
        self._q_rows[rows, actions] += c.count_rate * td  # this count only
        # next_values were looked up before the update: correct the entries it changed, if the next state shares them
        same_offset = next_obs["nearest"] == offsets
        correction = c.shared_rate * same_offset + c.count_rate * (next_rows == rows)
        next_values[copies, actions] += td * correction
        self.current_offsets, self.current_rows, self.current_values = next_obs["nearest"], next_rows, next_values


# ---------------------------------------------------------------- compiled kernels (gmg.compiled)
@compiled.kernel
def choose_row(values, draws, epsilon, explore):
    """`ContinualQ.choose` for one row: the same tie-breaking noise and coin, the same action."""
    n_actions = len(values)
    top = values.max() - TIE_TOLERANCE
    action, best_draw = 0, -2.0
    for a in range(n_actions):
        draw = draws[a] if values[a] >= top else -1.0
        if draw > best_draw:  # strictly: the first of equal draws, as argmax
            action, best_draw = a, draw
    if explore and draws[n_actions] < epsilon:
        action = np.int64(draws[n_actions + 1] * n_actions)
    return action


@compiled.kernel
def update_row(q_rows, b, n_counts, n_offsets, offsets, rows, values, action, reward, next_offset, next_row,
               gamma, shared_rate, count_rate):
    """`ContinualQ.update` for copy b, in place on Q and on the current offsets, rows and values."""
    next_values = q_rows[next_row].copy()
    td = reward + gamma * next_values.max() - values[b, action]
    shared = shared_rate * td
    for n in range(n_counts):
        q_rows[(b * n_counts + n) * n_offsets + offsets[b], action] += shared
    q_rows[rows[b], action] += count_rate * td
    correction = shared_rate * (next_offset == offsets[b]) + count_rate * (next_row == rows[b])
    next_values[action] += td * correction
    offsets[b], rows[b] = next_offset, next_row
    values[b] = next_values
