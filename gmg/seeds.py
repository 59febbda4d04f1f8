"""Seed variance: agents that differ only in their training seed, each diagnosed (gmg.diagnose).

Preferences can change with the seed alone, so one run says little: `run_seeds` trains and
diagnoses one agent per seed, in parallel child processes (gmg.jobs), or on an existing Dask cluster
(`scheduler`, or the GMG_DASK_SCHEDULER environment variable), and reports each seed as it
arrives. A seed is an outlier when its verdict differs from the majority's, or when its
preference or capability lies more than OUTLIER_MADS robust deviations from the median.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import caps
from .diagnose import VERDICTS, check_diagnosable, diagnose
from .jobs import run_many
from .params import ParamError
from .train import Experiment

# MAX_SEEDS, one request's cap, is read when used (module __getattr__ below): gmg.caps.COUNTS["seeds"]
# (500), lowered by GMG_CAPS
DEFAULT_SEEDS = 20  # also the lowest cap GMG_CAPS may set (gmg.caps.COUNTS)
OUTLIER_MADS = 3.0
MIN_SPREAD = 0.05  # a robust deviation never counts as smaller than this (preferences often sit at 0 or 1)


def __getattr__(name: str):
    if name == "MAX_SEEDS":
        return caps.count("seeds")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def seed_point(experiment: Experiment) -> dict:
    """One seed: its verdict, preference (P(intended goal) where the goals differ) and capability."""
    d = diagnose(experiment)
    intended = d["goals"]["intended"]
    return {
        "seed": experiment.seed,
        "verdict": d["verdict"],
        "probabilities": d["probabilities"],
        "preference": d["evidence"]["posterior_where_goals_differ"][intended],
        "capability": d["evidence"]["capability"]["test"]["score"],
        "train_capability": d["evidence"]["capability"]["train"]["score"],
    }


def experiments_for(base: Experiment, seeds: int, first_seed: int = 0) -> list[Experiment]:
    high = caps.count("seeds")
    if not 1 <= seeds <= high:
        raise ParamError(f"the number of seeds must be between 1 and {high}, got {seeds}")
    return [dataclasses.replace(base, seed=first_seed + i) for i in range(seeds)]


def run_seeds(experiments: list[Experiment], workers: int | None = None, scheduler: str | None = None,
              on_point=None, stop=None) -> list[dict]:
    """Every experiment's seed point; `on_point(point)` as each arrives. Sorted by seed.

    `scheduler`: a Dask scheduler address (default: the GMG_DASK_SCHEDULER environment variable);
    without one, `workers` local child processes (default: one per core; 1: one seed after the
    other in this process, as the app's one-process jobs do). A set `stop` ends the study after
    the seeds under way.
    """
    points = []

    def take(point: dict) -> None:
        points.append(point)
        if on_point is not None:
            on_point(point)

    run_many(experiments, "gmg.seeds:seed_point_job", take, workers, scheduler, stop)
    return sorted(points, key=lambda p: p["seed"])


def seed_point_job(experiment: Experiment, on_progress=None, stop=None, record: int = 0) -> dict:
    """`seed_point` as a gmg.jobs runner (one child process per seed)."""
    return seed_point(experiment)


def study(points: list[dict]) -> dict:
    """Verdict counts, the majority verdict, and each point with its `outlier` flag."""
    counts = {v: sum(p["verdict"] == v for p in points) for v in VERDICTS}
    majority = max(counts, key=counts.get)
    flagged = []
    for p in points:
        far = any(_robust_distance(p[key], [q[key] for q in points]) > OUTLIER_MADS
                  for key in ("preference", "capability"))
        flagged.append({**p, "outlier": bool(p["verdict"] != majority or far)})
    return {"verdict_counts": counts, "majority_verdict": majority, "seeds": flagged,
            "outliers": [p["seed"] for p in flagged if p["outlier"]]}


def _robust_distance(value: float, values: list[float]) -> float:
    median = float(np.median(values))
    mad = max(1.4826 * float(np.median(np.abs(np.asarray(values) - median))), MIN_SPREAD)
    return abs(value - median) / mad


def points_table(result: dict) -> pd.DataFrame:
    """One row per seed: verdict, preference, capability (test and train), outlier."""
    return pd.DataFrame([{key: p[key] for key in ("seed", "verdict", "preference", "capability", "train_capability",
                                                  "outlier")} for p in result["seeds"]]).round(3)


@dataclass(frozen=True)
class SeedStudy:
    """A seed study as one job for the UI's background runner (hashable: a cache key)."""

    experiment: Experiment  # the settings every seed shares (its own seed is ignored)
    seeds: int = DEFAULT_SEEDS
    runner = "gmg.seeds:run_seed_study"

    def __post_init__(self):
        check_diagnosable(self.experiment)
        experiments_for(self.experiment, self.seeds)  # the cap on seeds

    @property
    def agent_name(self) -> str:
        return self.experiment.agent_name

    def summarize(self, result: dict) -> dict:
        return result


def run_seed_study(job: SeedStudy, on_progress=None, stop=None, record: int = 0) -> dict | None:
    """The background runner, one seed after another in its one process (the server's job limit
    counts processes): points stream out as progress rows; the result is `study(points)`, or None
    if stopped before any seed finished."""
    done = []

    def report(point: dict) -> None:
        done.append(point)
        if on_progress is not None:
            on_progress({"fraction": len(done) / job.seeds, "point": point})

    points = run_seeds(experiments_for(job.experiment, job.seeds), workers=1, on_point=report, stop=stop)
    return study(points) if points else None
