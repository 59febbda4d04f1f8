"""Training: a whole run is a function of (Experiment, seed), with optional progress and stop hooks."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .agents import AGENTS
from .agents.base import observe
from .curriculum import CURRICULA, SCORES, LevelReplay
from .envs import ENVS
from .params import ParamError, clip, describe, param, with_overrides


@dataclass(frozen=True)
class RunLimits:
    """How to train and evaluate: how long, and which levels; ranges double as resource caps for a shared server."""

    train_steps: int = param(400_000, "environment steps of training (summed over the batch)", 0, 5_000_000)
    n_envs: int = param(256, "environments stepped in parallel while training", 1, 4096)
    eval_episodes: int = param(200, "episodes per split when evaluating", 1, 2000)
    curriculum: str = param(
        "dr", "which level each training episode plays: dr, a fresh level of the training distribution every time; "
        "plr, robust prioritised level replay: new levels from the same distribution are only scored by the "
        "agent's value errors (regret), and the agent learns on replays of the highest-scored ones (gmg/curriculum.py)",
        choices=CURRICULA,
    )
    replay_buffer_size: int = param(
        128, "plr: levels kept for replay (the highest-scored of those seen); a small buffer keeps mostly the rare "
        "levels that matter, a large one dilutes them (docs/curriculum.md)", 1, 4096)
    replay_prob: float = param(0.5, "plr: chance that a new episode replays a kept level rather than a new one", 0.0, 1.0)
    replay_temperature: float = param(
        0.3, "plr: replay chances go as (1 / score rank) ** (1 / temperature): low, only the top levels", 0.01, 10.0)
    replay_staleness: float = param(
        0.3, "plr: share of the replay chance given by how long ago a level was last played", 0.0, 1.0)
    regret_score: str = param(
        "value_loss", "plr: a level's score, per step of its last episode: the mean absolute TD error of the agent's "
        "values (surprises either way), or only the positive ones (robust PLR's choice; it misses a level where the "
        "agent expected the coin at the end and got nothing)", choices=SCORES,
    )


def default_limits(env_name: str, agent_name: str) -> RunLimits:
    """RunLimits' defaults with what the world's card says the agent needs there (`EnvCard.agent_limits`),
    each kept within the maximum in force on this server (GMG_CAPS may lower it below the card's budget)."""
    maxima = {row["name"]: row["high"] for row in describe(RunLimits)}
    needs = ENVS[env_name].card.agent_limits.get(agent_name, {})
    return with_overrides(RunLimits(), {name: min(value, maxima[name]) for name, value in needs.items()})


MAX_SEED = 2**31 - 1  # the one cap on seeds, shared by the CLI and the UI
SHOWN_LEVELS = 6  # curriculum=plr: the most replayed levels a run keeps to show


@dataclass(frozen=True)
class Experiment:
    """Everything that determines a run. Frozen and hashable, so results can be cached by it."""

    env_name: str = "monster"
    agent_name: str = "linear_q"
    seed: int = 0
    env_config: object = None
    agent_config: object = None
    limits: RunLimits = None  # None: `default_limits` of this world and agent

    def __post_init__(self):
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ParamError(f"seed must be an integer between 0 and {MAX_SEED}, got {str(self.seed)[:40]!r}")
        if self.env_name not in ENVS:
            raise ParamError(f"unknown environment {clip(self.env_name)!r}; known: {', '.join(ENVS)}")
        if self.agent_name not in AGENTS:
            raise ParamError(f"unknown agent {clip(self.agent_name)!r}; known: {', '.join(AGENTS)}")
        if self.env_config is None:
            object.__setattr__(self, "env_config", ENVS[self.env_name].Config())
        if self.agent_config is None:
            object.__setattr__(self, "agent_config", AGENTS[self.agent_name].Config())
        if self.limits is None:
            object.__setattr__(self, "limits", default_limits(self.env_name, self.agent_name))

    @classmethod
    def build(cls, env_name="monster", agent_name="linear_q", seed=0, overrides: dict | None = None) -> "Experiment":
        """Experiment from user input: `overrides` maps parameter names (env, agent or limits) to raw values."""
        base = cls(env_name, agent_name, int(seed))
        groups = {"env_config": base.env_config, "agent_config": base.agent_config, "limits": base.limits}
        split = {key: {} for key in groups}
        for name, raw in (overrides or {}).items():
            owner = next((key for key, cfg in groups.items() if name in {f.name for f in dataclasses.fields(cfg)}), None)
            if owner is None:
                known = sorted({f.name for cfg in groups.values() for f in dataclasses.fields(cfg)})
                raise ParamError(f"unknown parameter {str(name)[:40]!r}; known: {', '.join(known)}")
            split[owner][name] = raw
        return dataclasses.replace(base, **{key: with_overrides(groups[key], split[key]) for key in groups})

    def make_env(self):
        return ENVS[self.env_name](self.env_config)

    def config_dict(self) -> dict:
        return {
            **dataclasses.asdict(self.env_config),
            **dataclasses.asdict(self.agent_config),
            **dataclasses.asdict(self.limits),
        }


@dataclass(frozen=True)
class StoppedExperiment(Experiment):
    """A run stopped after `stopped_at` training steps: a cache key of its own, since a partly trained
    agent is not the run its settings name (and never equal to one)."""

    stopped_at: int = 0

    @property
    def full(self) -> Experiment:
        """The run these settings name, had it not been stopped."""
        return Experiment(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Experiment)})

    @classmethod
    def of(cls, experiment: Experiment, stopped_at: int) -> "StoppedExperiment":
        return cls(**{f.name: getattr(experiment, f.name) for f in dataclasses.fields(Experiment)}, stopped_at=stopped_at)


@dataclass
class TrainResult:
    experiment: Experiment
    agent: object
    curve: list[dict]  # one row per progress report
    seconds: float
    steps_done: int
    stopped: bool
    # curriculum=plr: the most replayed training levels (a state, most replayed first) and their replay counts
    replayed_levels: tuple | None = None


def train(
    experiment: Experiment,
    on_progress: Callable[[dict], None] | None = None,
    stop: threading.Event | None = None,
    reports: int = 40,
) -> TrainResult:
    """Train the experiment's agent on its environment's training distribution.

    Every environment's timer starts at a random offset, so episodes end at staggered times and
    each batched update mixes early and late episode phases.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(experiment.seed)
    env = experiment.make_env()
    agent = AGENTS[experiment.agent_name](env, experiment.agent_config, rng)
    n_envs = experiment.limits.n_envs
    batches = experiment.limits.train_steps // n_envs if agent.learns else 0  # nothing to learn: skip
    report_every = max(1, batches // reports)

    state = env.reset(rng, n_envs, "train")
    state.t[:] = rng.integers(0, state.limit)
    obs = observe(env, agent, state)
    # domain randomisation is the world's own reset: no replay object, not one random number more
    plr = experiment.limits.curriculum == "plr" and batches
    replay = LevelReplay(experiment.limits, env, agent, state, obs) if plr else None
    tally = _Tally(env.events)
    curve: list[dict] = []
    batches_done = 0
    for batch in range(batches):
        if stop is not None and stop.is_set():
            break
        agent.set_training_progress(batch / batches)
        actions = agent.act(obs, rng, explore=True)
        next_state, reward, events, terminated, truncated = env.step(state, actions)
        next_obs = observe(env, agent, next_state)
        if replay is None:
            agent.learn(obs, actions, reward, next_obs, terminated)
        else:
            replay.step(reward, next_obs, terminated)
            agent.learn(obs, actions, reward, next_obs, terminated, replay.learning)
        tally.add(reward, events)
        done = terminated | truncated
        if done.any():
            rows = np.flatnonzero(done)
            agent.end_episodes(rows)
            fresh = env.reset(rng, len(rows), "train") if replay is None else replay.next_levels(rows, rng)
            next_state.put_rows(rows, fresh)
            fresh_obs = observe(env, agent, fresh)
            for key, value in fresh_obs.items():
                next_obs[key][rows] = value
            if replay is not None:
                replay.started(rows, fresh_obs)
        state, obs = next_state, next_obs
        batches_done = batch + 1
        if (batch + 1) % report_every == 0 or batch + 1 == batches:
            row = {"steps": (batch + 1) * n_envs, "seconds": time.perf_counter() - start, **tally.rates(),
                   **(replay.report() if replay is not None else {})}
            curve.append(row)
            tally = _Tally(env.events)
            if on_progress is not None:
                on_progress({**row, "fraction": (batch + 1) / max(batches, 1)})
    return TrainResult(
        experiment, agent, curve, time.perf_counter() - start, batches_done * n_envs, batches_done < batches,
        replay.most_replayed(SHOWN_LEVELS) if replay is not None else None,
    )


class _Tally:
    """Running sums between two progress reports, turned into rates per 100 steps."""

    def __init__(self, event_names):
        self.steps = 0
        self.reward = 0.0
        self.events = {name: 0 for name in event_names}

    def add(self, reward: np.ndarray, events: dict) -> None:
        self.steps += len(reward)
        self.reward += float(reward.sum())
        for name in self.events:
            self.events[name] += int(events[name].sum())

    def rates(self) -> dict:
        per100 = 100.0 / max(self.steps, 1)
        rates = {"reward_per_100_steps": self.reward * per100}
        rates.update({f"{name}_per_100_steps": count * per100 for name, count in self.events.items()})
        return rates
