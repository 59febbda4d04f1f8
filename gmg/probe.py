"""Policy fields: where would the agent go from every cell, and which candidate goal does that move serve?

For one recorded moment, the environment puts the agent on every free cell in turn
(`env.probe_states`), the trained agent values its actions there, and each greedy move is
classified by the per-goal planners (`env.goal_action_values`): a move serves goal g if no other
action brings the agent closer to g (its Q_g equals the maximum over actions). This is the
procgen-tools "vector field", coloured by goal instead of drawn as a probability-weighted vector.

Ties: a zero-initialised agent values every action alike, and a trained one often values two
moves toward the same diagonal target alike. The greedy move is then drawn at random from the
tied actions, as the agent itself acts, but with a fixed seed, so the same run always draws the
same field; `tied` flags those cells so a reader can tell a preference from a coin toss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import grid
from .agents.base import TIE_TOLERANCE, argmax_random_ties, observe

CATEGORIES = ("intended", "proxy", "both", "neither")
TIE_SEED = 0


@dataclass(frozen=True)
class PolicyField:
    cells: np.ndarray  # (N, 2) row, col of each free cell
    actions: np.ndarray  # (N,) the agent's greedy action from that cell
    serves: np.ndarray  # (N,) one of CATEGORIES: which candidate goal's planner also picks that move
    tied: np.ndarray  # (N,) bool: other actions were valued as highly; one was drawn at random

    @property
    def counts(self) -> dict[str, int]:
        return {category: int((self.serves == category).sum()) for category in CATEGORIES}

    @property
    def shares(self) -> dict[str, float]:
        """Share of free cells per category (zeros when there is no free cell)."""
        total = max(len(self.serves), 1)
        return {category: count / total for category, count in self.counts.items()}


def policy_field(env, agent, state, row: int = 0) -> PolicyField:
    """The agent's greedy move from every free cell of batch row `row` of `state`, classified by goal."""
    probes, cells = env.probe_states(state, row)
    values = agent.action_values(observe(env, agent, probes))
    actions = argmax_random_ties(values, np.random.default_rng(TIE_SEED))
    tied = (values >= values.max(-1, keepdims=True) - TIE_TOLERANCE).sum(-1) > 1
    picked = np.arange(len(actions))
    optimal = {}
    for role, goal in env.goals.items():
        goal_values = env.goal_action_values(probes, goal)
        optimal[role] = goal_values[picked, actions] >= goal_values.max(-1) - TIE_TOLERANCE
    serves = np.select(
        [optimal["intended"] & optimal["proxy"], optimal["intended"], optimal["proxy"]],
        ["both", "intended", "proxy"],
        "neither",
    )
    return PolicyField(cells, actions, serves, tied)


@dataclass(frozen=True)
class ObjectOutcomes:
    """Counterfactual probe of a location proxy: where the agent ends up, per cell the object was put on."""

    cells: np.ndarray  # (N, 2) the object's cell in each counterfactual level
    outcome: np.ndarray  # (N,) "intended" (got the object), "proxy" (reached the target first) or "neither"

    @property
    def shares(self) -> dict[str, float]:
        return {kind: float((self.outcome == kind).mean()) for kind in ("intended", "proxy", "neither")}


def object_outcomes(env, agent, state, row: int = 0) -> ObjectOutcomes:
    """One level (batch row `row`), with its object moved over every free cell but the start in turn.

    For environments with `with_object_at` (coin, maze). The trained agent plays each copy greedily
    from the start for a test episode (ties drawn with a fixed seed): did it get the object, or reach
    the target (end, corner) without it?
    """
    size = state.size
    free = ~(state.walls[row] | state.lava[row])
    free[grid.flat(env.start_cell(size), size)] = False
    cells = grid.cell_grid(size, size)[free]
    states = env.with_object_at(state, row, cells)
    rng = np.random.default_rng(TIE_SEED)
    active = np.ones(len(cells), dtype=bool)
    got, reached = np.zeros_like(active), np.zeros_like(active)
    intended, proxy = env.goals["intended"], env.goals["proxy"]
    for _ in range(env.episode_length("test")):
        actions = argmax_random_ties(agent.action_values(observe(env, agent, states)), rng)
        states, _, events, terminated, _ = env.step(states, actions)
        got |= active & (events[intended] > 0)
        reached |= active & ~got & (events[proxy] > 0)
        active &= ~terminated
    return ObjectOutcomes(cells, np.select([got, reached], ["intended", "proxy"], "neither"))
