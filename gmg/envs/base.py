"""What an episodic environment is, in code: every member the rest of the program uses, with its meaning.

A world is a subclass of `EpisodicEnv` (one module: rules, docstring with ASCII maps, and its `card`)
registered in `gmg.envs.ENVS`. It is pure and batched: a state is a `gmg.batch.Batch` dataclass of
arrays with the batch on the leading axis, `step` returns a new state and never modifies its input,
and every random draw comes from the state's per-episode key (`gmg.keys`), so the same keys give the
same episode. The time limit is the environment's: `reset` stamps each episode's `limit` on its
state and `step` reports `truncated` when the step count reaches it.

Members a subclass must provide are declared here and raise NotImplementedError; members with a
sensible default (no extra step counts, no background cells, one episode length for both splits)
have it here, so the program never asks "does this world have X?".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import compiled, grid
from ..keys import new_keys
from .card import EnvCard


class Step(NamedTuple):
    """One batched step: the next state, the reward, the events, and why an episode ended."""

    state: object
    reward: np.ndarray  # (B,) float: the specified reward the agent learns from
    events: dict[str, np.ndarray]  # name -> (B,) int counts this step (`events` + `step_counts`)
    terminated: np.ndarray  # (B,) bool: the episode ended by the rules (no bootstrapping past it)
    truncated: np.ndarray  # (B,) bool: not terminated, but the episode reached its time limit


def paint(grid_: np.ndarray, channel: int, cells: np.ndarray, present: np.ndarray | None = None) -> None:
    """Set grid_[b, channel, row, col] = 1 for the (B, K, 2) `cells` of each row b where `present` (B, K)."""
    if compiled.ENABLED:
        paint_rows(grid_, channel, cells, np.ones(cells.shape[:2], dtype=bool) if present is None else present)
        return
    b = np.broadcast_to(np.arange(cells.shape[0])[:, None], cells.shape[:2])
    keep = np.ones(cells.shape[:2], dtype=bool) if present is None else present
    grid_[b[keep], channel, cells[..., 0][keep], cells[..., 1][keep]] = 1.0


@compiled.kernel
def paint_rows(grid_, channel, cells, present):
    """`paint` compiled (its numpy code is the reference)."""
    for b in range(cells.shape[0]):
        for k in range(cells.shape[1]):
            if present[b, k]:
                grid_[b, channel, cells[b, k, 0], cells[b, k, 1]] = 1.0


class EpisodicEnv:
    """Base of the registered environments: the contract every world fulfils."""

    # ------------------------------------------------------------ identity and settings
    name: str = ""
    """Registry key and URL value (`?env=monster`)."""
    title: str = ""
    """Human name shown in the app."""
    Config = None
    """Frozen dataclass of `gmg.params.param` fields with a `check()` that raises ParamError."""
    card = EnvCard()
    """What the rest of the program says about this world (gmg.envs.card)."""
    n_actions = grid.N_ACTIONS
    """Actions are the five moves of `gmg.grid` (up, down, left, right, stay)."""

    # ------------------------------------------------------------ goals and events
    goals: dict[str, str] = {}
    """{"intended": goal, "proxy": goal}: the goal the designer meant and the one that matches it in training."""
    goal_rewards: dict[str, dict[str, float]] = {}
    """goal -> {event: weight}: each candidate goal as a reward over events (metrics, goal attribution)."""
    events: tuple[str, ...] = ()
    """Names of the per-step event counts `step` reports (things that happened: "apple", "hit"...)."""
    step_counts: tuple[str, ...] = ()
    """Further per-step counts `step` reports that describe the state rather than an event (e.g.
    "monsters_alive"); recorded by rollouts like events."""
    diagnosis_presets: dict[str, tuple[str, dict]] = {}
    """The diagnosis page's presets: label -> (agent name, parameter changes), one per verdict."""

    # ------------------------------------------------------------ what a learner sees
    feature_names: tuple[str, ...] = ()
    """Hand-made per-action features of `observe` (the linear learners' inputs)."""
    context_names: tuple[str, ...] = ()
    """Per-state context flags of `observe`, crossed with the features by `linear_q`; the first is
    "always" (1 in every state), so a linear agent can share one weight per feature across contexts."""
    state_feature_names: tuple[str, ...] = ()
    """Per-state features of `observe` (a state-value baseline)."""
    raw_channels: tuple[str, ...] = ()
    """Names of the raw observation's grid channels, one per kind of thing in a cell; the first is "agent"."""
    raw_scalars: tuple[str, ...] = ()
    """Names of the raw observation's scalars: what the agent carries or remembers (no goal-named quantity)."""

    # ------------------------------------------------------------ drawing
    sprite_styles: dict[str, tuple[str, str, str]] = {}
    """kind -> (plotly marker symbol, colour, legend label), drawn in this order (the agent last, on top)."""
    background_labels: dict[str, str] = {}
    """colour -> legend label of the cells `background` paints in that colour (walls, lava)."""

    def __init__(self, config=None):
        self.config = config or self.Config()
        self.config.check()

    # ------------------------------------------------------------ episodes
    def episode_length(self, split: str) -> int:
        """The time limit of an episode on `split` ("train" or "test"); the same on both unless a world says otherwise."""
        return self.config.episode_length

    def reset(self, rng: np.random.Generator, batch: int, split: str = "train"):
        """`batch` new episodes of `split`, one random key each drawn from `rng`."""
        return self.reset_from_keys(new_keys(rng, batch), split)

    def reset_from_keys(self, keys: np.ndarray, split: str = "train"):
        """New episodes from (B,) uint64 keys: the state at t = 0, its `limit` the split's episode length."""
        raise NotImplementedError

    def limits(self, batch: int, split: str) -> np.ndarray:
        """(B,) the time limit to stamp on new states of `split` (for `reset_from_keys` and `from_ascii`)."""
        return np.full(batch, self.episode_length(split), dtype=np.int64)

    def step(self, state, actions: np.ndarray) -> Step:
        """Apply (B,) actions: the world's rules (`step_env`), then its time limit."""
        next_state, reward, events, terminated = self.step_env(state, actions)
        return Step(next_state, reward, events, terminated, ~terminated & (next_state.t >= next_state.limit))

    def step_env(self, state, actions: np.ndarray):
        """The rules of one step: (next state with t + 1, reward, events, terminated); `state` is not modified."""
        raise NotImplementedError

    # ------------------------------------------------------------ the specification and the goals
    def reward_weights(self) -> dict[str, tuple[float, float]]:
        """The specified reward as event -> (mean weight, standard deviation) (gmg.diagnose's counterfactual)."""
        raise NotImplementedError

    def goals_apart(self, state) -> np.ndarray:
        """(B,) bool: the situations where the intended and the proxy goal call for different behaviour."""
        raise NotImplementedError

    def goal_action_values(self, state, goal: str) -> np.ndarray:
        """(B, A) action values of a planner that pursues `goal` alone (goal attribution, reference agents)."""
        raise NotImplementedError

    # ------------------------------------------------------------ observations
    def observe(self, state) -> dict[str, np.ndarray]:
        """The hand-made features: {"action_features": (B, A, F), "context": (B, C), "state_features": (B, S)}."""
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

    def probe_states(self, state, row: int) -> tuple[object, np.ndarray]:
        """Batch row `row` copied once per cell the agent could stand on, the agent moved there: (states, (N, 2) cells)
        (the policy field: what the agent would do from every cell at that moment)."""
        raise NotImplementedError

    movable: tuple[str, ...] = ()
    """The state's fields of cells ((B, 2) or (B, K, 2)) a visitor may move on a map ("Move things"), the
    agent first: e.g. ("agent", "monsters", "apples", "shield_items"). Empty: nothing can be moved."""

    def thing_at(self, state, row: int, cell) -> str | None:
        """The first of `movable` with a thing at `cell` in row `row` (None: nothing movable there)."""
        for name in self.movable:
            if (getattr(state, name)[row].reshape(-1, 2) == np.asarray(cell)).all(1).any():
                return name
        return None

    def with_moved(self, state, row: int, source, target):
        """Row `row` of `state` as a new one-row state, with the thing at cell `source` (the first of `movable`
        that has one there) moved to cell `target`, which must be empty on the map (`to_ascii` draws "." there).
        Meant for an episode's start (everything on the map is present). Raises ValueError, with a sentence
        a visitor can read, when nothing movable is at `source` or `target` is taken."""
        one = state.rows(slice(row, row + 1)).copy()
        source, target = (int(source[0]), int(source[1])), (int(target[0]), int(target[1]))
        if not all(0 <= v < one.size for v in source + target):
            raise ValueError(f"cells must lie on the {one.size}x{one.size} map")
        name = self.thing_at(one, 0, source)
        if name is None:
            raise ValueError(f"nothing that can be moved is at row {source[0]}, column {source[1]}")
        if self.to_ascii(one).splitlines()[target[0]][target[1]] != ".":
            raise ValueError(f"row {target[0]}, column {target[1]} is taken: pick an empty cell")
        cells = getattr(one, name).reshape(-1, 2)  # a view: the edit lands in the state
        cells[np.flatnonzero((cells == source).all(1))[0]] = target
        return self.after_move(one)

    def after_move(self, state):
        """The one-row state `with_moved` edited, with what follows from positions recomputed (distances)."""
        return state

    def with_object_at(self, state, row: int, cells: np.ndarray):
        """Batch row `row` at its start, once per (N, 2) cell, with the object that matters moved there
        ("Move the object"; only worlds whose card has `object_probe`)."""
        raise NotImplementedError(f"{self.name}'s objects cannot be moved one at a time")

    # ------------------------------------------------------------ measurements
    def metrics(self, rollout) -> dict[str, float | None]:
        """Per-split numbers from a `gmg.rollout.Rollout`'s events (None where undefined, e.g. no such steps)."""
        raise NotImplementedError

    def after_goal_split_mask(self, rollout) -> np.ndarray:
        """(E, T) bool: the recorded steps where the goals had come apart."""
        raise NotImplementedError

    # ------------------------------------------------------------ drawing and maps
    def sprites(self, state) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """kind (of `sprite_styles`) -> (positions (B, K, 2), shown (B, K)) for every object to draw."""
        raise NotImplementedError

    def background(self, state) -> dict[str, np.ndarray]:
        """colour -> (N, 2) cells painted under the sprites (walls, lava) for row 0; none by default."""
        return {}

    def status(self, state) -> list[str]:
        """One short caption line per batch row (the step and what the map cannot show)."""
        raise NotImplementedError

    def from_ascii(self, text: str, key: int = 0):
        """A one-row state from a map drawn in characters (the module docstring's legend), limit = the test length."""
        raise NotImplementedError

    def to_ascii(self, state, row: int = 0) -> str:
        """Row `row` drawn in the characters `from_ascii` reads."""
        raise NotImplementedError
