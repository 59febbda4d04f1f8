"""Which level each training episode plays: domain randomisation, or robust prioritised level replay.

Domain randomisation (`dr`, the default) is what a world does by itself: every new episode draws a
fresh level from the training distribution, so a kind of level that is 2% of the distribution is 2%
of what the agent learns from. Robust prioritised level replay (`plr`, "PLR-perp": Jiang et al. 2021,
"Replay-guided adversarial environment design") draws new levels from the same distribution but
keeps a buffer of the levels seen, each scored by a regret estimate, and replays the high-regret
ones: when goals differ on rare levels, those are the levels where the agent's values are wrong, so
they come back until it has learned them. The agent learns only on replayed levels; new levels are
played to be scored, never learned from ("perp": the agent's training data is chosen by the curriculum).

A level is the row of a freshly reset state (every world's state is a `gmg.batch.Batch`), so the
curriculum holds, replays and scores levels of any world without knowing what they contain.

Score of an episode: the mean over its steps of the magnitude of the TD errors of the agent's own
state values, |r + gamma V(s') - V(s)| (`value_loss`, PLR's L1 value loss with one-step errors), or of
their positive part only (`positive_value_loss`, robust PLR's choice). Measured on the coin at a 2%
share, the magnitude cures where the positive part does not (docs/curriculum.md): on a level with
the coin away from the end the agent's failure is a negative surprise (it expected the coin at the
end and got nothing), which only the magnitude counts. Both need only `Agent.state_values`.
Replay: each reset replays a buffer level with probability `replay_prob` once the buffer is full,
picked with probability (1 - staleness) P_score + staleness P_stale, where P_score ranks the levels
by score (1 / rank) ** (1 / temperature) and P_stale grows with the episodes since the level was last
played; otherwise it plays a new level, which enters the buffer in place of the lowest-scored one if
it scores higher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CURRICULA = ("dr", "plr")
SCORES = ("value_loss", "positive_value_loss")


@dataclass
class ReplayTally:
    """Counts between two progress reports: levels started, replayed, and how many of each had the goals apart."""

    replayed: int = 0
    replayed_apart: int = 0
    new: int = 0
    new_apart: int = 0


class LevelReplay:
    """Robust PLR over a batch of `n_envs` episodes: which level each row plays, and which rows learn.

    The trainer calls `step` after every batched step (with the true next observation, before any reset),
    `next_levels` for the rows whose episode ended, and `started` with those rows' first observation.
    """

    def __init__(self, limits, env, agent, state, obs: dict):
        self.env, self.agent = env, agent
        self.size = limits.replay_buffer_size
        self.replay_prob = limits.replay_prob
        self.temperature = limits.replay_temperature
        self.staleness = limits.replay_staleness
        self.positive = limits.regret_score == "positive_value_loss"
        self.gamma = agent.config.gamma
        n = len(state.t)
        self.levels = state.rows(np.zeros(self.size, dtype=np.int64))  # the buffer's levels (the first `filled`)
        self.scores = np.zeros(self.size)
        self.last_played = np.zeros(self.size, dtype=np.int64)  # the episode clock when each level last started
        self.plays = np.zeros(self.size, dtype=np.int64)  # how often each level was replayed
        self.apart = np.zeros(self.size, dtype=bool)  # the goals differ on the level (env.goals_apart at its start)
        self.filled = 0
        self.clock = n  # episodes started so far: the staleness clock
        self.starts = state.copy()  # each row's level as it started (what enters the buffer)
        self.starts.t[:] = 0  # the trainer staggers the first episodes' timers; the level itself starts at 0
        self.slot = np.full(n, -1, dtype=np.int64)  # each row's buffer slot, -1: a new level (scored, not learned)
        self.error_sum = np.zeros(n)
        self.steps = np.zeros(n, dtype=np.int64)
        self.values = agent.state_values(obs)
        self.tally = ReplayTally(new=n, new_apart=int(env.goals_apart(state).sum()))

    @property
    def learning(self) -> np.ndarray:
        """(B,) bool: the rows that play a replayed level, the only ones the agent learns from."""
        return self.slot >= 0

    def step(self, reward: np.ndarray, next_obs: dict, terminated: np.ndarray) -> None:
        """Add each row's TD error of this step (the values of the acting agent, before it learns)."""
        next_values = self.agent.state_values(next_obs)
        error = reward + self.gamma * np.where(terminated, 0.0, next_values) - self.values
        self.error_sum += np.maximum(error, 0.0) if self.positive else np.abs(error)
        self.steps += 1
        self.values = next_values

    def next_levels(self, rows: np.ndarray, rng: np.random.Generator):
        """Score the episodes that ended in `rows`, then the levels those rows play next (a state, row for row)."""
        self._score(rows)
        full = self.filled == self.size
        replay = rng.random(len(rows)) < self.replay_prob if full else np.zeros(len(rows), dtype=bool)
        slots = np.full(len(rows), -1, dtype=np.int64)
        if replay.any():
            slots[replay] = rng.choice(self.size, size=int(replay.sum()), p=self._replay_weights())
        fresh = self.levels.rows(np.maximum(slots, 0))  # the new rows' copies of slot 0 are overwritten next
        if not replay.all():
            fresh.put_rows(~replay, self.env.reset(rng, int((~replay).sum()), "train"))
        new_apart = self.env.goals_apart(fresh)[~replay]
        self.clock += len(rows)
        self.last_played[slots[replay]] = self.clock
        self.plays[slots[replay]] += 1
        self.slot[rows] = slots
        self.starts.put_rows(rows, fresh)
        self.tally.replayed += int(replay.sum())
        self.tally.replayed_apart += int(self.apart[slots[replay]].sum())
        self.tally.new += len(new_apart)
        self.tally.new_apart += int(new_apart.sum())
        return fresh

    def started(self, rows: np.ndarray, obs: dict) -> None:
        """The rows' new episodes began with observation `obs` (their rows only)."""
        self.values[rows] = self.agent.state_values(obs)
        self.error_sum[rows] = 0.0
        self.steps[rows] = 0

    def _score(self, rows: np.ndarray) -> None:
        """Score the ended episodes: a replayed level takes its new score; the new levels enter the buffer
        where they outscore the levels in it (the buffer keeps the highest scores; a tie keeps the old level)."""
        scores = self.error_sum[rows] / np.maximum(self.steps[rows], 1)
        slots = self.slot[rows]
        replayed = slots >= 0
        self.scores[slots[replayed]] = scores[replayed]
        old = self.filled
        new_rows, new_scores = rows[~replayed], scores[~replayed]
        pool = np.concatenate([self.scores[:old], new_scores])
        kept = np.argsort(-pool, kind="stable")[: self.size]
        entering = kept[kept >= old] - old  # indices into new_rows
        leaving = np.setdiff1d(np.arange(old), kept)
        free = np.concatenate([leaving, np.arange(old, self.size)])[: len(entering)]  # evicted slots, then empty ones
        self.filled = max(old, int(free.max(initial=-1)) + 1)
        starts = self.starts.rows(new_rows[entering])
        self.levels.put_rows(free, starts)
        self.scores[free] = new_scores[entering]
        self.last_played[free], self.plays[free] = self.clock, 0
        self.apart[free] = self.env.goals_apart(starts)

    def _replay_weights(self) -> np.ndarray:
        """(size,) the replay distribution: rank-prioritised scores mixed with staleness."""
        ranks = np.empty(self.size)
        ranks[np.argsort(-self.scores, kind="stable")] = np.arange(1, self.size + 1)
        by_score = (1.0 / ranks) ** (1.0 / self.temperature)
        by_score /= by_score.sum()
        stale = (self.clock - self.last_played).astype(np.float64)
        by_age = stale / stale.sum() if stale.sum() > 0 else np.full(self.size, 1.0 / self.size)
        return (1.0 - self.staleness) * by_score + self.staleness * by_age

    def report(self) -> dict:
        """The curve row's curriculum columns since the last report: the share of levels with the goals apart
        among replayed and among new levels, and in the buffer now."""
        t, self.tally = self.tally, ReplayTally()
        return {
            "replayed_apart_share": t.replayed_apart / t.replayed if t.replayed else None,
            "new_apart_share": t.new_apart / t.new if t.new else None,
            "buffer_apart_share": float(self.apart[: self.filled].mean()) if self.filled else None,
            "replayed_share": t.replayed / max(t.replayed + t.new, 1),
        }

    def most_replayed(self, count: int):
        """The `count` buffer levels replayed most often (a state, most replayed first) and their replay counts."""
        top = np.argsort(-self.plays[: self.filled], kind="stable")[:count]
        return self.levels.rows(top), self.plays[top]
