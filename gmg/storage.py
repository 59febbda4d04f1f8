"""Saved runs: a trained agent's parameters in `.npz`, everything else in JSON; never pickle.

A saved run is a folder with `run.json` (format, version, the experiment's environment, agent,
seed and every parameter, the training curve and the JSON summary) and `agent.npz` (the agent's
parameter arrays, read with `allow_pickle=False`). Loading rebuilds the Experiment through the
same validation as the CLI and the links, checks every array against a freshly built agent's
(names, shapes, finite values), and evaluates the agent again -- evaluation is a function of the
seed, so the result is the run that was saved. A tampered or foreign file fails with
`StorageError`, a message for the user.

`RunStore` keeps saved runs in one folder (`GMG_RUN_STORE`, default `~/.gmg/runs`), so they outlive
the app: list, save, load, delete.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .agents import AGENTS
from .experiment import RunResult, evaluate_splits, summary
from .params import ParamError
from .train import Experiment, TrainResult

FORMAT = "gmg-run"
VERSION = 1
MAX_JSON_BYTES = 2_000_000
MAX_NPZ_BYTES = 50_000_000
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
STORE_ENV = "GMG_RUN_STORE"


class StorageError(ValueError):
    """A saved run that cannot be read; the message is meant for the user."""


def save_run(result: RunResult, folder: Path) -> Path:
    """Write `result` to `folder` (created; existing files replaced)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ex = result.experiment
    meta = {
        "format": FORMAT, "version": VERSION, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "env": ex.env_name, "agent": ex.agent_name, "seed": ex.seed, "config": ex.config_dict(),
        "train_seconds": result.trained.seconds, "train_steps_done": result.trained.steps_done,
        "curve": result.trained.curve, "summary": _plain(summary(result)),
    }
    (folder / "run.json").write_text(json.dumps(_plain(meta), allow_nan=False, indent=1))
    np.savez(folder / "agent.npz", **result.trained.agent.params)
    return folder


def load_run(folder: Path) -> RunResult:
    """The saved run in `folder`, its agent restored and evaluated again; raises StorageError."""
    folder = Path(folder)
    meta = _read_json(folder / "run.json")
    try:
        experiment = Experiment.build(meta["env"], meta["agent"], meta["seed"], meta["config"])
    except (KeyError, TypeError) as exc:
        raise StorageError(f"run.json lacks a field or has one of the wrong type ({exc})") from None
    except ParamError as exc:
        raise StorageError(f"run.json holds settings this version refuses: {exc}") from None
    env = experiment.make_env()
    agent = AGENTS[experiment.agent_name](env, experiment.agent_config, np.random.default_rng(experiment.seed))
    agent.params = _read_params(folder / "agent.npz", agent.params)
    curve = meta.get("curve", [])
    if not isinstance(curve, list) or not all(isinstance(row, dict) for row in curve):
        raise StorageError("run.json: the training curve is not a list of rows")
    trained = TrainResult(experiment, agent, curve, float(meta.get("train_seconds", 0.0)),
                          int(meta.get("train_steps_done", 0)), False)
    return RunResult(experiment, trained, evaluate_splits(experiment, env, agent))


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise StorageError(f"{path.name} is missing: not a saved gmg run")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise StorageError(f"{path.name} is larger than {MAX_JSON_BYTES:,} bytes: not a saved gmg run")
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(f"{path.name} is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StorageError(f"{path.name} is not a saved gmg run")
    if meta.get("version") != VERSION:
        raise StorageError(f"{path.name} has format version {meta.get('version')!r}; this gmg reads {VERSION}")
    return meta


def _read_params(path: Path, expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays in `path`, which must match `expected` (a fresh agent's) in names and shapes."""
    if not path.is_file():
        raise StorageError(f"{path.name} is missing")
    if path.stat().st_size > MAX_NPZ_BYTES:
        raise StorageError(f"{path.name} is larger than {MAX_NPZ_BYTES:,} bytes")
    try:
        with np.load(path, allow_pickle=False) as data:
            params = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise StorageError(f"{path.name} is not a readable .npz of arrays ({exc.__class__.__name__})") from None
    if set(params) != set(expected):
        raise StorageError(f"{path.name} holds {sorted(params)}, this agent needs {sorted(expected)}")
    for name, value in params.items():
        if value.shape != expected[name].shape or value.dtype.kind != "f" or not np.isfinite(value).all():
            raise StorageError(f"{path.name}: {name} must be finite floats of shape {expected[name].shape}")
    return {name: value.astype(expected[name].dtype) for name, value in params.items()}


def _plain(value):
    """JSON-safe: numpy scalars unwrapped, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class SavedRun:
    name: str
    env: str
    agent: str
    seed: int
    saved_at: str


class RunStore:
    """Saved runs in one folder, one subfolder per run, named by the user."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder or os.environ.get(STORE_ENV) or Path.home() / ".gmg" / "runs")

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME.match(name) or name.strip(".") == "":
            raise StorageError("a run's name is 1 to 64 letters, digits, spaces, '.', '_' or '-', "
                               "and starts with a letter or digit")
        return self.folder / name

    def save(self, name: str, result: RunResult) -> SavedRun:
        save_run(result, self._path(name))
        return self._entry(name)

    def load(self, name: str) -> RunResult:
        path = self._path(name)
        if not path.is_dir():
            raise StorageError(f"no saved run named {name!r}")
        return load_run(path)

    def delete(self, name: str) -> None:
        path = self._path(name)
        if path.is_dir():
            shutil.rmtree(path)

    def list(self) -> list[SavedRun]:
        """Every readable saved run, newest first (unreadable folders are left out)."""
        if not self.folder.is_dir():
            return []
        runs = []
        for path in self.folder.iterdir():
            try:
                runs.append(self._entry(path.name))
            except StorageError:
                continue
        return sorted(runs, key=lambda run: run.saved_at, reverse=True)

    def _entry(self, name: str) -> SavedRun:
        meta = _read_json(self._path(name) / "run.json")
        try:
            return SavedRun(name, str(meta["env"]), str(meta["agent"]), int(meta["seed"]), str(meta["saved_at"]))
        except (KeyError, TypeError, ValueError):
            raise StorageError(f"{name}: run.json lacks its environment, agent, seed or date") from None
