"""Train, then evaluate on the train and test distributions: the unit the CLI and the UI share."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from . import goals
from .rollout import Rollout, evaluate
from .train import Experiment, TrainResult, train

SPLITS = ("train", "test")
RECORDED_EPISODES = 4  # episodes per split whose frames the app keeps for its animations


@dataclass
class RunResult:
    experiment: Experiment
    trained: TrainResult
    rollouts: dict[str, Rollout]

    @property
    def env(self):
        return self.trained.agent.env


def run(experiment: Experiment, on_progress=None, stop=None, record: int = 2,
        evaluate_stopped: bool = True) -> RunResult:
    """Train, then evaluate on both splits. A stopped run's partly trained agent is evaluated too
    (a teacher can show an under-trained agent), unless `evaluate_stopped` is off."""
    trained = train(experiment, on_progress=on_progress, stop=stop)
    if trained.stopped and not evaluate_stopped:
        return RunResult(experiment, trained, {})
    return RunResult(experiment, trained, evaluate_splits(experiment, trained.agent.env, trained.agent, record))


def evaluate_splits(experiment: Experiment, env, agent, record: int = 2) -> dict[str, Rollout]:
    """The agent on each split's maps; a function of the experiment's seed (a saved agent evaluates the same)."""
    return {split: evaluate(env, agent, split, experiment.limits.eval_episodes, split_rng(experiment, split), record)
            for split in SPLITS}


def split_rng(experiment: Experiment, split: str) -> np.random.Generator:
    """The evaluation's random numbers on one split: a function of the experiment's seed and the split only."""
    return np.random.default_rng([experiment.seed, 1 + SPLITS.index(split)])


def metrics_with(result: RunResult, split: str, **env_changes) -> dict:
    """The trained agent's metrics on `split` of its world with some settings changed (e.g. follow's cured
    agent with the expert partner only), over the run's evaluation episodes and seed."""
    env = type(result.env)(dataclasses.replace(result.env.config, **env_changes))
    rollout = evaluate(env, result.trained.agent, split, result.experiment.limits.eval_episodes,
                       split_rng(result.experiment, split), record=0)
    return env.metrics(rollout)


def summary(result: RunResult) -> dict:
    """The JSON contract of `python -m gmg experiment` (see docs/cli.md)."""
    ex, env = result.experiment, result.env
    splits = {}
    for split, rollout in result.rollouts.items():
        splits[split] = {
            "metrics": env.metrics(rollout),
            "attribution": goals.split_attribution(env, rollout),
            "attribution_where_goals_differ": goals.split_attribution(env, rollout, env.after_goal_split_mask(rollout)),
        }
    return {
        "env": ex.env_name,
        "agent": ex.agent_name,
        "seed": ex.seed,
        "config": ex.config_dict(),
        "train_seconds": round(result.trained.seconds, 3),
        "train_steps_done": result.trained.steps_done,
        "goals": dict(env.goals),
        "splits": splits,
    }
