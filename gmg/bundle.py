"""The presets that ship with the app: every world's failure and cure, trained ahead of time.

`python -m gmg bundle` trains each episodic world's two preset runs (its card's `contrast`, seed 0,
every other setting at its default) with the card's agent and with the neural agent on raw
observations (a minute or more each: it is also the command that pretrains the neural agent where
the world's card gives it a longer budget, `EnvCard.agent_limits`), plus the card's agent trained
as long as the neural one where that differs (the "Features vs raw observations" page trains both
for the same steps), and writes them as saved runs
(gmg.storage: run.json and agent.npz, no pickle) to `gmg/bundled/<env>/<parameter>-<value>/`,
each with its evaluation as recorded (`rollouts.npz`: per-step events, rewards and goal
likelihoods of every evaluation episode, and the frames of the app's recorded episodes). A
bundled run is the run its Experiment names (training and evaluation are functions of the
experiment), so a page that asks for exactly those settings shows it at once instead of training:
`bundled_run` reads it back without evaluating (0.1 s instead of 0.2-0.4 s per run on an idle
machine, 0.5-1.9 s on a loaded one). Any other setting or seed is trained as usual.

Run the command again after changing a world, an agent or the trainer: tests/test_bundle.py
fails when a bundled run no longer evaluates to the summary and rollouts stored with it, or no
longer trains to the agent stored with it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from .agents import RAW_LEARNER
from .envs import ENVS
from .experiment import RECORDED_EPISODES, SPLITS, RunResult
from .jobs import EXPERIMENT_RUNNER, run_parallel
from .rollout import Rollout
from .storage import StorageError, load_trained, run_experiment, save_run
from .train import Experiment, default_limits

log = logging.getLogger(__name__)

BUNDLE_FOLDER = Path(__file__).resolve().parent / "bundled"
SEED = 0
ROLLOUTS = "rollouts.npz"


def preset_experiments(overrides: dict | None = None) -> list[Experiment]:
    """Every episodic world's failure and cure (its card's contrast) at seed 0 with the card's agent and with
    the raw-observation learner (the preset page with either agent, the "Features vs raw observations" page),
    trained as long as each needs in that world; `overrides` (parameter -> raw value, e.g. a shorter
    training) apply to every run."""
    overrides = overrides or {}
    runs = []
    for env_name, env_cls in ENVS.items():
        if env_cls.card.contrast is None:
            continue
        parameter, values = env_cls.card.contrast
        runs += [Experiment.build(env_name, agent, SEED, {**overrides, parameter: value})
                 for agent in (env_cls.card.agent, RAW_LEARNER) for value in values]
        # the features-vs-raw page trains the card's agent beside the neural one for as long (the neural
        # agent's budget may be longer); its neural run is the failure's
        steps = Experiment.build(env_name, RAW_LEARNER, SEED, overrides).limits.train_steps
        beside = Experiment.build(env_name, env_cls.card.agent, SEED, {"train_steps": steps, **overrides})
        runs += [beside] if beside not in runs else []
    return runs


def run_folder_name(experiment: Experiment) -> str:
    """'monster/train_episode_length-25': the world, then the preset parameter and its value (prefixed by the
    agent's name when it is not the card's: 'monster/neural-train_episode_length-25'; followed by the training
    steps when they are not the agent's default there: 'monster/train_episode_length-25-800000-steps')."""
    parameter, _ = ENVS[experiment.env_name].card.contrast
    agent = "" if experiment.agent_name == ENVS[experiment.env_name].card.agent else f"{experiment.agent_name}-"
    steps = experiment.limits.train_steps
    budget = "" if steps == default_limits(experiment.env_name, experiment.agent_name).train_steps else f"-{steps}-steps"
    return f"{experiment.env_name}/{agent}{parameter}-{experiment.config_dict()[parameter]}{budget}"


def write_bundle(folder: Path, experiments: list[Experiment], workers: int = 1,
                 on_saved: Callable[[Experiment], None] | None = None) -> list[Path]:
    """Train `experiments` (`workers` child processes at a time) and save each as a run under `folder`,
    which the finished bundle replaces whole (a failed run leaves the old bundle as it was).
    `on_saved(experiment)` follows each save. Returns the run folders."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=folder.parent))
    try:
        def save(result: RunResult) -> None:
            run_folder = save_run(result, staging / run_folder_name(result.experiment))
            save_rollouts(result.rollouts, run_folder / ROLLOUTS)
            if on_saved is not None:
                on_saved(result.experiment)

        run_parallel(experiments, EXPERIMENT_RUNNER, workers, save, record=RECORDED_EPISODES)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / run_folder_name(experiment) for experiment in experiments]


@functools.cache
def bundled_folders(folder: Path = BUNDLE_FOLDER) -> dict[Experiment, Path]:
    """The bundled runs by the Experiment each was trained as (read once per process: only run.json)."""
    folders = {}
    for run_json in sorted(Path(folder).glob("*/*/run.json")):
        try:
            folders[run_experiment(run_json.parent)] = run_json.parent
        except StorageError as exc:  # a bundle from an older gmg: that preset trains as usual
            log.warning("bundled run %s is skipped: %s", run_json.parent.name, exc)
    return folders


def bundled_run(experiment) -> RunResult | None:
    """The bundled run of exactly these settings, as trained and evaluated (frames of RECORDED_EPISODES
    episodes per split), or None if none ships with the app."""
    folder = bundled_folders().get(experiment)
    if folder is None:
        return None
    trained = load_trained(folder)
    return RunResult(experiment, trained, read_rollouts(folder / ROLLOUTS, trained.agent.env))


def save_rollouts(rollouts: dict[str, Rollout], path: Path) -> None:
    """Each split's rollout as compressed arrays named `<split>/<part>[/<name>]`; a recorded frame's
    arrays are stacked over time (`<split>/frames/<field>`)."""
    arrays = {}
    for split, rollout in rollouts.items():
        arrays[f"{split}/reward"], arrays[f"{split}/active"] = rollout.reward, rollout.active
        arrays.update({f"{split}/events/{name}": value for name, value in rollout.events.items()})
        arrays.update({f"{split}/goal_loglik/{goal}": value for goal, value in rollout.goal_loglik.items()})
        arrays.update({f"{split}/frames/{name}": np.stack([getattr(frame, name) for frame in rollout.frames])
                       for name in rollout.frames[0].arrays()})
    with open(path, "xb") as file:
        np.savez_compressed(file, **arrays)


def read_rollouts(path: Path, env) -> dict[str, Rollout]:
    """The rollouts `save_rollouts` wrote, for `env` (which gives each frame's other fields, e.g. the map's size)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}

    def part(split: str, kind: str) -> dict[str, np.ndarray]:
        prefix = f"{split}/{kind}/"
        return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}

    rollouts = {}
    for split in SPLITS:
        frames = part(split, "frames")
        template = env.reset(np.random.default_rng(0), 1, split)
        steps = len(next(iter(frames.values())))
        rollouts[split] = Rollout(
            split, env.episode_length(split), part(split, "events"), arrays[f"{split}/reward"],
            arrays[f"{split}/active"], part(split, "goal_loglik"),
            [dataclasses.replace(template, **{name: value[t] for name, value in frames.items()}) for t in range(steps)],
        )
    return rollouts

