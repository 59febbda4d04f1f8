"""Sweeps: train over a grid of values of one knob x K seeds, and read the test goal rates against it.

The classic plot is the CoinRun one: the share of training levels with a randomised coin on the
x axis, the test rates of the intended goal (coin) and of the proxy (end of the level) on the y axis,
with the spread over seeds. Every (value, seed) run is an ordinary `Experiment` (train, then
evaluate; `gmg.experiment.run`). The command line trains cells in parallel child processes; the
app runs a whole sweep as one background job (`Sweep.runner`), one cell after another. Finished
cells are cached in the process that trained them, so growing a sweep only trains the new cells.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from . import caps
from .envs import ENVS
from .experiment import run
from .jobs import run_many
from .params import ParamError
from .train import Experiment

# MAX_VALUES, MAX_SEEDS and MAX_RUNS (values x seeds) are read when used (module __getattr__ below): the
# built-in maxima (gmg.caps.COUNTS: sweep_values, sweep_runs; SEEDS_BUILTIN) lowered by GMG_CAPS
SEEDS_BUILTIN = 20
CACHE_KEPT = 512  # finished runs kept by this process

_cache: dict[Experiment, dict] = {}


def _max_seeds() -> int:
    return min(SEEDS_BUILTIN, caps.count("sweep_runs"))


_MAXIMA = {"MAX_VALUES": lambda: caps.count("sweep_values"), "MAX_SEEDS": _max_seeds,
           "MAX_RUNS": lambda: caps.count("sweep_runs")}


def __getattr__(name: str):
    if name in _MAXIMA:
        return _MAXIMA[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def goal_metrics(env_name: str) -> dict[str, str]:
    """{"intended": metric, "proxy": metric}: the test metrics a sweep plots for an environment."""
    env = ENVS[env_name]
    return env.card.goal_metrics or {role: f"{goal}_rate" for role, goal in env.goals.items()}


@dataclass(frozen=True)
class Sweep:
    """One knob x seeds; `experiments` is the grid, validated when built."""

    env_name: str
    param: str
    values: tuple
    seeds: int
    agent_name: str = "linear_q"
    overrides: tuple = ()  # (name, raw value) pairs applied to every run
    curricula: tuple = ("dr",)  # one curve per curriculum (gmg.curriculum): the same grid trained with each
    runner = "gmg.sweep:run_sweep_job"  # what a gmg.jobs.TrainJob runs for it in the app

    def __post_init__(self):
        MAX_VALUES, MAX_SEEDS, MAX_RUNS = (get() for get in _MAXIMA.values())
        if not self.values:
            raise ParamError("a sweep needs at least one value")
        if len(self.values) > MAX_VALUES:
            raise ParamError(f"a sweep takes at most {MAX_VALUES} values, got {len(self.values)}")
        if not isinstance(self.seeds, int) or not 1 <= self.seeds <= MAX_SEEDS:
            raise ParamError(f"seeds must be an integer between 1 and {MAX_SEEDS}, got {str(self.seeds)[:40]!r}")
        runs = len(self.values) * self.seeds * len(self.curricula)
        if runs > MAX_RUNS:
            raise ParamError(f"a sweep runs at most {MAX_RUNS} trainings (values x seeds x curricula), got {runs}")
        if self.param in dict(self.overrides):
            raise ParamError(f"{self.param} is the swept parameter and cannot also be set")
        if not self.curricula or len(set(self.curricula)) < len(self.curricula):
            raise ParamError("a sweep needs one or more different curricula")
        if self.curricula != ("dr",) and "curriculum" in (self.param, *dict(self.overrides)):
            raise ParamError("the curriculum is what the curves compare and cannot also be swept or set")
        self.experiments()  # every cell must be a valid run

    def experiments(self) -> list[Experiment]:
        """Every run, curriculum by curriculum, then value by value, then seed by seed."""
        return [
            Experiment.build(self.env_name, self.agent_name, seed,
                             {**({} if self.curricula == ("dr",) else {"curriculum": curriculum}),
                              **dict(self.overrides), self.param: value})
            for curriculum in self.curricula
            for value in self.values
            for seed in range(self.seeds)
        ]


    def summarize(self, table: pd.DataFrame) -> dict:
        return summary(self, table)



def run_cell(experiment: Experiment, on_progress=None, stop=None, record: int = 0) -> tuple[Experiment, dict]:
    """One cell: every test and train metric, and the training time (a gmg.jobs runner too)."""
    result = run(experiment, record=0)
    env = result.env
    return experiment, {
        "train_seconds": result.trained.seconds,
        **{f"{split}_{name}": value for split, rollout in result.rollouts.items()
           for name, value in env.metrics(rollout).items()},
    }


def run_sweep(sweep: Sweep, on_progress: Callable[[int, int], None] | None = None, workers: int | None = None,
              stop: threading.Event | None = None, scheduler: str | None = None) -> pd.DataFrame:
    """One row per (value, seed): the knob's value, the seed, the goal rates and every metric.

    Runs not in the cache train as `gmg.jobs.run_many` runs them: on the Dask cluster `scheduler`,
    or in `workers` child processes (default: one per CPU, at most 2; 1: one after another in this
    process); `on_progress(done, total)` is called as runs finish (cached runs count as done at
    once). A set `stop` ends the sweep early with the rows done so far.
    """
    grid = sweep.experiments()
    todo = [e for e in dict.fromkeys(grid) if e not in _cache]
    total = len(grid)
    done = total - len(todo)
    if on_progress is not None:
        on_progress(done, total)

    def take(cell: tuple[Experiment, dict]) -> None:
        nonlocal done
        _remember(*cell)
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    run_many(todo, "gmg.sweep:run_cell", take, workers or min(2, os.cpu_count() or 1), scheduler, stop)
    metrics = goal_metrics(sweep.env_name)
    rows = []
    raw_values = [v for _ in sweep.curricula for v in sweep.values for _ in range(sweep.seeds)]
    for value, experiment in zip(raw_values, grid):
        cell = _cache.get(experiment)
        if cell is None:  # stopped before this cell
            continue
        rows.append({sweep.param: experiment.config_dict()[sweep.param], "raw_value": value, "seed": experiment.seed,
                     "curriculum": experiment.limits.curriculum,
                     "intended": cell[f"test_{metrics['intended']}"], "proxy": cell[f"test_{metrics['proxy']}"],
                     **cell})
    return pd.DataFrame(rows)


def run_sweep_job(sweep: Sweep, on_progress=None, stop=None, record: int = 0) -> pd.DataFrame | None:
    """The app's background runner: one cell after another in its one process (the server's job
    limit counts processes); progress rows count the cells done. None if stopped before any cell
    finished."""

    def report(done: int, total: int) -> None:
        if on_progress is not None and done:
            on_progress({"fraction": done / total, "done": done, "total": total})

    table = run_sweep(sweep, on_progress=report, workers=1, stop=stop)
    return table if len(table) else None


def _remember(experiment: Experiment, cell: dict) -> None:
    if len(_cache) >= CACHE_KEPT:
        _cache.pop(next(iter(_cache)))
    _cache[experiment] = cell


def summarise(table: pd.DataFrame, param: str) -> pd.DataFrame:
    """Per value of the knob and curriculum: mean, min and max over seeds of the intended and proxy test rates."""
    grouped = table.groupby([param, "curriculum"], sort=False)[["intended", "proxy"]]
    out = grouped.agg(["mean", "min", "max"])
    out.columns = [f"{goal}_{stat}" for goal, stat in out.columns]
    return out.reset_index()


def summary(sweep: Sweep, table: pd.DataFrame) -> dict:
    """The JSON of `python -m gmg sweep`: the grid, the goal metrics, and per value and seed the two rates."""
    return {
        "env": sweep.env_name,
        "agent": sweep.agent_name,
        "param": sweep.param,
        "seeds": sweep.seeds,
        "overrides": dict(sweep.overrides),
        "curricula": list(sweep.curricula),
        "goal_metrics": goal_metrics(sweep.env_name),
        "summary": summarise(table, sweep.param).to_dict("records"),
        "runs": table[[sweep.param, "curriculum", "seed", "intended", "proxy", "train_seconds"]].to_dict("records"),
    }
