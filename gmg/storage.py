"""Saved runs: a trained agent's parameters in `.npz`, everything else in JSON; never pickle.

A saved run is a folder with `run.json` (format, version, the experiment's environment, agent,
seed and every parameter, the training curve and the JSON summary) and `agent.npz` (the agent's
parameter arrays, read with `allow_pickle=False`). Loading rebuilds the Experiment through the
same validation as the CLI and the links, checks every array against a freshly built agent's
(names, shapes, finite values), and evaluates the agent again -- evaluation is a function of the
seed, so the result is the run that was saved. A tampered or foreign file fails with
`StorageError`, a message for the user.

`RunStore` keeps saved runs under one folder (`GMG_RUN_STORE`, default `~/.gmg/runs`), so they
outlive the app, one subfolder per owner: `<store>/<owner>/<name>`. An owner is a visitor's key
(random, made by `new_owner`; gmg.ui says where a visitor keeps it), or `SHARED`, the one folder
every visitor uses when the operator opts in with GMG_RUN_STORE_SHARED=1. A store lists, opens,
saves and deletes its owner's runs only, within quotas on runs and bytes per owner and in total
(GMG_CAPS `saved_runs`, `saved_mb`, `saved_runs_total`, `saved_mb_total`; gmg.caps).

What a visitor can do to the server's disk is bounded: a save writes to a temporary folder and
renames it into place (a failed save leaves nothing), never replaces a run unless asked
(`replace=True`), and creates every file afresh (never writes through an existing file or link);
a symbolic link (a run folder or a file in one) is never followed; a run that cannot be read is
listed with its message; errors from the file system become StorageError without the server's
paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import caps
from .agents import AGENTS
from .experiment import RunResult, evaluate_splits, summary
from .params import ParamError, clip
from .train import Experiment, TrainResult

FORMAT = "gmg-run"
VERSION = 1
MAX_JSON_BYTES = 2_000_000
MAX_NPZ_BYTES = 50_000_000
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
STORE_ENV = "GMG_RUN_STORE"
SHARED_ENV = "GMG_RUN_STORE_SHARED"
OWNER_BYTES = 18  # a visitor's key: 144 random bits, 24 URL-safe characters; not guessed
OWNER = re.compile(r"^[A-Za-z0-9_-]{24}$")
SHARED = "shared"  # the owner of the operator's shared folder: not a visitor's key (too short)
TEMP_PREFIX = ".saving-"  # a save under way; no run's name starts with '.' (NAME)
MB = 1_000_000
# one save at a time in this server: the quota check and the rename into place are one step
_SAVING = threading.Lock()


class StorageError(ValueError):
    """A saved run that cannot be read or written; the message is meant for the user."""


class RunExists(StorageError):
    """A save under a name already used, without `replace=True`: the user must confirm."""


def new_owner() -> str:
    return secrets.token_urlsafe(OWNER_BYTES)


def shared() -> bool:
    """Whether the operator opted into one folder of saved runs for every visitor."""
    return os.environ.get(SHARED_ENV, "").strip() == "1"


def save_run(result: RunResult, folder: Path) -> Path:
    """Write `result` into `folder` (created if missing). Its files are created afresh: an existing
    run.json or agent.npz, or a link by that name, raises FileExistsError instead of being written through."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ex = result.experiment
    meta = {
        "format": FORMAT, "version": VERSION, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "env": ex.env_name, "agent": ex.agent_name, "seed": ex.seed, "config": ex.config_dict(),
        "train_seconds": result.trained.seconds, "train_steps_done": result.trained.steps_done,
        "curve": result.trained.curve, "summary": _plain(summary(result)),
    }
    with open(folder / "run.json", "x") as file:
        file.write(json.dumps(_plain(meta), allow_nan=False, indent=1))
    with open(folder / "agent.npz", "xb") as file:
        np.savez(file, **result.trained.agent.params)
    return folder


@dataclass(frozen=True)
class SavedExperiment(Experiment):
    """A saved run to reopen: the cache key and background job (`runner`) of its evaluation.

    `folder` and `digest` (of its files) name the saved agent: a replaced run is a new key, and a
    reopened run never stands in for a trained one (another class: never equal to an Experiment),
    whatever its agent holds.
    """

    folder: str = ""
    digest: str = ""
    runner = "gmg.storage:reopen_run"


def run_experiment(folder: Path) -> Experiment:
    """The Experiment that the saved run in `folder` was trained as, from its run.json (cheap: no
    agent is built); raises StorageError."""
    folder = Path(folder)
    if folder.is_symlink():
        raise StorageError(f"{folder.name} is a symbolic link: refused")
    return _experiment(_read_json(folder / "run.json"))


def saved_experiment(folder: Path) -> SavedExperiment:
    """The key of the saved run in `folder`, from its run.json and the digest of its files (cheap: no
    agent is built); raises StorageError."""
    folder = Path(folder)
    experiment = run_experiment(folder)
    return SavedExperiment(**{f.name: getattr(experiment, f.name) for f in dataclasses.fields(Experiment)},
                           folder=str(folder), digest=_digest(folder))


def reopen_run(key: SavedExperiment, on_progress=None, stop=None, record: int = 2) -> RunResult:
    """The background runner of a reopened run: load and evaluate it, if its files are still the ones
    the key names."""
    folder = Path(key.folder)
    result = load_run(folder, record)
    if _digest(folder) != key.digest:
        raise StorageError("the saved run was replaced while it was being opened: open it again")
    return result


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("run.json", "agent.npz"):
        _regular_file(folder / name)
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def _experiment(meta: dict) -> Experiment:
    try:
        return Experiment.build(meta["env"], meta["agent"], meta["seed"], meta["config"])
    except (KeyError, TypeError) as exc:
        raise StorageError(f"run.json lacks a field or has one of the wrong type ({exc})") from None
    except ParamError as exc:
        raise StorageError(f"run.json holds settings this version refuses: {exc}") from None


def load_run(folder: Path, record: int = 2) -> RunResult:
    """The saved run in `folder`, its agent restored and evaluated again (keeping the frames of
    `record` episodes per split); raises StorageError."""
    trained = load_trained(folder)
    experiment = trained.experiment
    return RunResult(experiment, trained, evaluate_splits(experiment, trained.agent.env, trained.agent, record))


def load_trained(folder: Path) -> TrainResult:
    """The saved run in `folder` as trained: its agent restored, not evaluated; raises StorageError."""
    folder = Path(folder)
    if folder.is_symlink():
        raise StorageError(f"{folder.name} is a symbolic link: refused")
    meta = _read_json(folder / "run.json")
    experiment = _experiment(meta)
    env = experiment.make_env()
    agent = AGENTS[experiment.agent_name](env, experiment.agent_config, np.random.default_rng(experiment.seed))
    agent.params = _read_params(folder / "agent.npz", agent.params)
    curve = meta.get("curve", [])
    if not isinstance(curve, list) or not all(isinstance(row, dict) for row in curve):
        raise StorageError("run.json: the training curve is not a list of rows")
    return TrainResult(experiment, agent, curve, float(meta.get("train_seconds", 0.0)),
                       int(meta.get("train_steps_done", 0)), False)


def _regular_file(path: Path) -> None:
    """Refuse a symbolic link (it could point anywhere on the server) and a missing file."""
    if path.is_symlink():
        raise StorageError(f"{path.name} is a symbolic link: refused")
    if not path.is_file():
        raise StorageError(f"{path.name} is missing: not a saved gmg run")


def _read_json(path: Path) -> dict:
    _regular_file(path)
    if path.stat().st_size > MAX_JSON_BYTES:
        raise StorageError(f"{path.name} is larger than {MAX_JSON_BYTES:,} bytes: not a saved gmg run")
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(f"{path.name} is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StorageError(f"{path.name} is not a saved gmg run")
    if meta.get("version") != VERSION:
        raise StorageError(f"{path.name} has format version {clip(repr(meta.get('version')))}; this gmg reads {VERSION}")
    return meta


def _read_params(path: Path, expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays in `path`, which must match `expected` (a fresh agent's) in names and shapes."""
    _regular_file(path)
    if path.stat().st_size > MAX_NPZ_BYTES:
        raise StorageError(f"{path.name} is larger than {MAX_NPZ_BYTES:,} bytes")
    try:
        with np.load(path, allow_pickle=False) as data:
            params = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise StorageError(f"{path.name} is not a readable .npz of arrays ({exc.__class__.__name__})") from None
    if set(params) != set(expected):
        raise StorageError(f"{path.name} holds {clip(sorted(params))}, this agent needs {sorted(expected)}")
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
class Quota:
    """Most saved runs and bytes per owner, and for the whole store."""

    runs: int
    bytes: int
    total_runs: int
    total_bytes: int

    @classmethod
    def from_caps(cls) -> "Quota":
        """The server's quota: built-in maxima lowered by GMG_CAPS (gmg.caps.COUNTS)."""
        return cls(caps.count("saved_runs"), caps.count("saved_mb") * MB,
                   caps.count("saved_runs_total"), caps.count("saved_mb_total") * MB)


@dataclass(frozen=True)
class SavedRun:
    """One entry of a store's list; `problem` says why a run cannot be opened ("" if it can be tried).

    `refused`: a symbolic link, or a folder whose name is no run's name: listed, never opened or deleted."""

    name: str
    env: str = ""
    agent: str = ""
    seed: int | None = None
    saved_at: str = ""
    problem: str = ""
    refused: bool = False


class RunStore:
    """One owner's saved runs: `<store>/<owner>/<name>`, one subfolder per run, named by the user."""

    def __init__(self, owner: str, folder: Path | None = None, quota: Quota | None = None):
        if owner != SHARED and not (isinstance(owner, str) and OWNER.match(owner)):
            raise StorageError("not a key to saved runs")
        self.owner = owner
        self.root = Path(folder or os.environ.get(STORE_ENV) or Path.home() / ".gmg" / "runs")
        self.folder = self.root / owner
        self.quota = quota or Quota.from_caps()

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME.match(name) or name.strip(".") == "":
            raise StorageError("a run's name is 1 to 64 letters, digits, spaces, '.', '_' or '-', "
                               "and starts with a letter or digit")
        self._check_folder()
        return self.folder / name

    def _check_folder(self) -> None:
        if self.folder.is_symlink():
            raise StorageError("this folder of saved runs is a symbolic link on the server: refused")

    def save(self, name: str, result: RunResult, replace: bool = False) -> SavedRun:
        """Save `result` as `name`; a run already named so is replaced only with `replace` (else RunExists)."""
        path = self._path(name)
        with _SAVING:
            if path.is_symlink():
                raise StorageError(f"\"{name}\" is a symbolic link on the server: refused, not replaced")
            if path.exists() and not replace:
                raise RunExists(f"a saved run is already named \"{name}\"")
            temp = None
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.folder))
                save_run(result, temp)
                self._check_quota(_size(temp), path)
                if path.exists():
                    old = self.folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
                    path.rename(old)
                    try:
                        temp.rename(path)
                    except OSError:
                        old.rename(path)  # the run that was to be replaced stays
                        raise
                    shutil.rmtree(old, ignore_errors=True)  # a leftover is a save under way: never listed
                else:
                    temp.rename(path)
            except OSError as exc:
                raise StorageError(f"the server could not write the run ({_reason(exc)})") from None
            finally:
                if temp is not None and temp.exists():
                    shutil.rmtree(temp, ignore_errors=True)
        return self._entry(name)

    def _check_quota(self, size: int, replaced: Path) -> None:
        """Raise StorageError if a new run of `size` bytes (replacing `replaced`, if it exists) breaks a quota."""
        mine = _usage(self.folder, skip=replaced)
        everyone = [_usage(folder, skip=replaced) for folder in _subfolders(self.root)]
        total_runs, total_bytes = sum(u[0] for u in everyone), sum(u[1] for u in everyone)
        q = self.quota
        if mine[0] + 1 > q.runs:
            raise StorageError(f"you have {mine[0]} saved runs, the most this server keeps for you (saved_runs): "
                               "delete one on the Saved runs page first")
        if mine[1] + size > q.bytes:
            raise StorageError(f"this run ({size / MB:.2f} MB) would bring your saved runs to "
                               f"{(mine[1] + size) / MB:.2f} MB, over the {q.bytes / MB:g} MB this server keeps "
                               "for you (saved_mb): delete some on the Saved runs page first")
        if total_runs + 1 > q.total_runs or total_bytes + size > q.total_bytes:
            raise StorageError(f"this server's store of saved runs is full ({total_runs} runs, "
                               f"{total_bytes / MB:.1f} MB of all visitors; saved_runs_total, saved_mb_total)")

    def key(self, name: str) -> SavedExperiment:
        """What names the saved run `name` as it is now: a cache key and a job that reopens it."""
        try:
            return saved_experiment(self._run_folder(name))
        except OSError as exc:
            raise StorageError(f"the server could not read it ({_reason(exc)})") from None

    def _run_folder(self, name: str) -> Path:
        path = self._path(name)
        if path.is_symlink():
            raise StorageError(f"\"{name}\" is a symbolic link on the server: refused")
        if not path.is_dir():
            raise StorageError(f"no saved run named \"{name}\"")
        return path

    def delete(self, name: str) -> None:
        """Delete the run `name` (nothing if there is none); never a symbolic link or what it points to."""
        path = self._path(name)
        if path.is_symlink():
            raise StorageError(f"\"{name}\" is a symbolic link on the server: not deleted (the operator's to remove)")
        if not path.exists():
            return
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise StorageError(f"\"{name}\" could not be deleted ({_reason(exc)})") from None

    def list(self) -> list[SavedRun]:
        """Every run of this owner: the readable ones newest first, then the others with their problem."""
        self._check_folder()
        try:
            names = [entry.name for entry in os.scandir(self.folder)] if self.folder.is_dir() else []
            runs = [self._entry(name) for name in names if not name.startswith(TEMP_PREFIX)]
        except OSError as exc:
            raise StorageError(f"the server could not list the saved runs ({_reason(exc)})") from None
        return (sorted((run for run in runs if not run.problem), key=lambda run: run.saved_at, reverse=True)
                + sorted((run for run in runs if run.problem), key=lambda run: run.name))

    def _entry(self, name: str) -> SavedRun:
        if not NAME.match(name) or name.strip(".") == "":
            return SavedRun(clip(name), problem="not a saved run: its name is not a run's name", refused=True)
        path = self.folder / name
        if path.is_symlink():
            return SavedRun(name, problem="a symbolic link on the server: refused", refused=True)
        try:
            meta = _read_json(path / "run.json")
            return SavedRun(name, clip(meta["env"]), clip(meta["agent"]), int(meta["seed"]), clip(meta["saved_at"]))
        except StorageError as exc:
            return SavedRun(name, problem=str(exc))
        except (KeyError, TypeError, ValueError):
            return SavedRun(name, problem="run.json lacks its environment, agent, seed or date")
        except OSError as exc:
            return SavedRun(name, problem=f"unreadable ({_reason(exc)})")


def _subfolders(folder: Path) -> list[Path]:
    """The real folders in `folder` (no links, no saves under way)."""
    if not folder.is_dir():
        return []
    return [Path(entry.path) for entry in os.scandir(folder)
            if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(TEMP_PREFIX)]


def _size(folder: Path) -> int:
    """Bytes of the files in a run folder (links not followed)."""
    return sum(entry.stat(follow_symlinks=False).st_size for entry in os.scandir(folder)
               if entry.is_file(follow_symlinks=False))


def _usage(folder: Path, skip: Path) -> tuple[int, int]:
    """(runs, bytes) in an owner's folder, leaving out `skip` (the run a save replaces)."""
    runs = [run for run in _subfolders(folder) if run != skip]
    return len(runs), sum(_size(run) for run in runs)


def _reason(exc: OSError) -> str:
    """An OSError without its file name, which would show the server's paths."""
    return exc.strerror or exc.__class__.__name__
