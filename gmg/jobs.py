"""Background runs: each in its own child process, under one server-wide limit, stopped when nobody waits.

Pure Python (no Streamlit). A run trains in a child process (gmg.worker), not a thread: the
trainer is many small numpy calls that hold the GIL, so in a thread it would slow the web server
down, and two runs (the preset trains two agents) would take turns on one core instead of using
both. The child streams progress rows, then the result or the error; a watcher thread here files
them into the job's fields, which the UI reads from its own thread.

Every kind of run (experiment, study, diagnosis, seed study, sweep, reopened saved run) is a
`TrainJob` around a hashable run object whose `runner` names what the child calls. A `JobQueue`
starts at most `limit` jobs at once and keeps the rest waiting in order (the UI shows each job's
place); a job whose owner (a browser session) has gone is stopped and its place given up.
`run_many` runs a list of runs for the command line: locally in child processes, or on a Dask cluster.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from typing import Callable

from .params import ParamError
from .worker import read_message, resolve

log = logging.getLogger(__name__)

EXPERIMENT_RUNNER = "gmg.experiment:run"
SCHEDULER_ENV = "GMG_DASK_SCHEDULER"  # the Dask cluster `run_many` uses when no scheduler is given
OWNER_GRACE_SECONDS = 5.0  # an owner gone this long has left (a reconnecting browser comes back sooner)
PUMP_SECONDS = 0.2  # how often the queue looks for free places and departed owners


class TrainJob:
    """A run in a child process, with progress, live curve and stop.

    `run` is the hashable run object (an Experiment, a StudyRun, a SeedStudy, ...); its `runner`
    attribute ("module:function") is what the child calls, else `gmg.experiment.run`. `record` is
    the number of episodes per split whose frames an experiment keeps. A job is queued until
    `start()`; `cancel()` before then finishes it as stopped without a process.
    """

    def __init__(self, run, record: int = 2, runner: str | None = None, owner: str | None = None):
        self.experiment = run
        self.record = record
        self.runner = runner or getattr(run, "runner", None) or EXPERIMENT_RUNNER
        self.owner = owner
        self._stop_requested = False
        self._cancelled = False
        self._lock = threading.Lock()  # guards the progress fields
        self._state_lock = threading.Lock()  # a job starts or is cancelled, never both
        self._curve: list[dict] = []
        self._fraction = 0.0
        self.result = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.seconds = 0.0
        self._process: subprocess.Popen | None = None
        self._watcher = threading.Thread(target=self._watch, name=f"watch-{self.runner}", daemon=True)

    def start(self) -> "TrainJob":
        """Start the child process (a cancelled job stays unstarted)."""
        with self._state_lock:
            if self._cancelled:
                return self
            # the child sees the same modules as this process (the app's folder, a test's folder); it
            # inherits no other descriptor (close_fds), so only this job holds its pipes
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gmg.worker", str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                close_fds=True,
            )
            pickle.dump((self.runner, self.experiment, self.record), self._process.stdin)
            self._process.stdin.flush()
            self.started_at = time.perf_counter()
            self._watcher.start()
        return self

    def _cancel_if_queued(self) -> bool:
        """Mark the job stopped; True if it had not started (so there is no process to tell)."""
        with self._state_lock:
            self._stop_requested = True
            if self.started_at is None:
                self._cancelled = True
            return self._cancelled

    def request_stop(self) -> None:
        """Ask the run to stop at its next batch (a queued job is cancelled); it then finishes with `stopped` set."""
        if not self._cancel_if_queued():
            self._send(b"s")

    def abandon(self) -> None:
        """End the run at once, keeping nothing: its child sees end of file and exits (nobody waits for it)."""
        if self._cancel_if_queued():
            return
        try:
            self._process.stdin.close()
        except (OSError, ValueError):
            pass

    def _send(self, command: bytes) -> None:
        try:
            self._process.stdin.write(command)
            self._process.stdin.flush()
        except (OSError, ValueError):  # the child already finished and closed its end
            pass

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a started job; True once it has finished."""
        if self.started_at is not None:
            self._watcher.join(timeout)
        return self.finished

    @property
    def queued(self) -> bool:
        return self.started_at is None and not self._cancelled

    @property
    def finished(self) -> bool:
        return self._cancelled or (self.started_at is not None and not self._watcher.is_alive())

    @property
    def running(self) -> bool:
        return self._watcher.is_alive()

    @property
    def stopped(self) -> bool:
        return self._stop_requested

    @property
    def progress(self) -> float:
        """Share of the training steps done, 0..1 (evaluation afterwards takes about a second)."""
        with self._lock:
            return self._fraction

    @property
    def curve(self) -> list[dict]:
        """A copy of the learning-curve rows reported so far."""
        with self._lock:
            return list(self._curve)

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return self.seconds if self.finished else time.perf_counter() - self.started_at

    def _on_progress(self, row: dict) -> None:
        with self._lock:
            self._curve.append({k: v for k, v in row.items() if k != "fraction"})
            self._fraction = row["fraction"]

    def _watch(self) -> None:
        """File the child's messages until its last one; a child that dies silently is an error too,
        unless it was told to stop (a stopped run that took too long to finish is cut short)."""
        try:
            while (message := read_message(self._process.stdout)) is not None:
                kind, payload = message
                if kind == "progress":
                    self._on_progress(payload)
                elif kind == "result":
                    self.result = payload
                else:
                    log.error("run failed for %s: %s", self.experiment, payload)
                    self.error = payload
            if self.result is None and self.error is None and not self._stop_requested:
                self.error = f"the training process ended unexpectedly (exit code {self._process.wait()})"
        finally:
            try:
                self._process.stdin.close()  # end of file also ends a child that is still running
            except (OSError, ValueError):
                pass
            self._process.wait()
            self.seconds = time.perf_counter() - self.started_at


class JobQueue:
    """At most `limit()` jobs run at once, server-wide; the others wait, first come first served.

    `owner_alive(owner)` says whether a job's owner (a browser session) is still there; a job whose
    owner has been gone for OWNER_GRACE_SECONDS is abandoned, queued or running. A daemon thread
    starts waiting jobs as places free up.
    """

    def __init__(self, limit: Callable[[], int], owner_alive: Callable[[str], bool] | None = None,
                 grace: float = OWNER_GRACE_SECONDS):
        self._limit = limit
        self._owner_alive = owner_alive or (lambda owner: True)
        self._grace = grace
        self._lock = threading.Lock()
        self._waiting: list[TrainJob] = []
        self._running: list[TrainJob] = []
        self._gone_since: dict[str, float] = {}
        threading.Thread(target=_pump_while_alive, args=(weakref.ref(self),), name="job-queue", daemon=True).start()

    def submit(self, jobs: list[TrainJob]) -> list[TrainJob]:
        """Queue the jobs (started at once while places are free); returns them."""
        with self._lock:
            self._waiting.extend(jobs)
        self._pump()
        return jobs

    def ahead(self, job: TrainJob) -> int | None:
        """Jobs that start before this one (0: it starts next); None once it started or finished."""
        with self._lock:
            return self._waiting.index(job) if job in self._waiting else None

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _pump(self) -> None:
        now = time.monotonic()
        with self._lock:
            for job in self._waiting + self._running:
                if job.owner is not None and self._owner_left(job.owner, now):
                    job.abandon()
            self._running = [job for job in self._running if not job.finished]
            self._waiting = [job for job in self._waiting if job.queued]
            while self._waiting and len(self._running) < max(1, self._limit()):
                job = self._waiting.pop(0)
                self._running.append(job.start())

    def _owner_left(self, owner: str, now: float) -> bool:
        if self._owner_alive(owner):
            self._gone_since.pop(owner, None)
            return False
        return now - self._gone_since.setdefault(owner, now) >= self._grace


def _pump_while_alive(queue_ref: weakref.ref) -> None:
    """The queue's thread: holds it only weakly, so a queue nobody uses any more (a cleared cache)
    is collected and its thread ends."""
    while (queue := queue_ref()) is not None:
        try:
            queue._pump()
        except Exception:  # the queue must outlive any one bad job
            log.exception("job queue")
        del queue
        time.sleep(PUMP_SECONDS)


def run_many(runs: list, runner: str, take: Callable, workers: int | None = None, scheduler: str | None = None,
             stop: threading.Event | None = None) -> None:
    """`take(result)` for every run of `runs` as its result arrives, each computed by `runner` ("module:function").

    The one way to run many runs (seed studies, sweeps): on a Dask cluster when `scheduler` (or the
    GMG_DASK_SCHEDULER environment variable) gives its address; else in `workers` child processes
    (default: one per core); with workers=1, one after another in this process (the app's
    one-process jobs: the server's job limit counts processes). A set `stop` ends the loop after
    the runs under way.
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    workers = workers or os.cpu_count() or 1
    if scheduler:
        _run_on_dask(runs, resolve(runner), scheduler, take, stop)
    elif workers == 1:
        for run in runs:
            if stop is not None and stop.is_set():
                break
            take(resolve(runner)(run))
    elif runs:
        run_parallel(runs, runner, min(workers, len(runs)), take, stop)


def _run_on_dask(runs: list, function: Callable, scheduler: str, take: Callable, stop) -> None:
    try:
        from dask.distributed import Client, as_completed  # optional: only for a cluster
    except ImportError:
        raise ParamError("running on a Dask cluster needs dask[distributed]: pip install 'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParamError(f"cannot reach the Dask scheduler at {scheduler[:80]!r}: {exc}") from None
    with client:
        pending = client.map(function, runs, pure=False)
        for done in as_completed(pending):
            if stop is not None and stop.is_set():
                client.cancel(pending)
                break
            take(done.result())


def run_parallel(runs: list, runner: str, workers: int, take: Callable, stop: threading.Event | None = None,
                 poll: float = 0.5, record: int = 0) -> None:
    """`take(result)` for every run, each computed by `runner` in a child process, `workers` at a time
    (the command line's local pool; the app queues its runs on a JobQueue instead); an experiment keeps
    the frames of `record` episodes per split.

    Plain child processes rather than a multiprocessing pool: a forked pool child inherits the
    parent's pipes and locks, and a spawned one re-imports the parent's __main__.
    """
    todo, running = list(runs), []
    try:
        while todo or running:
            while todo and len(running) < workers:
                running.append(TrainJob(todo.pop(0), record=record, runner=runner).start())
            running[0].join(poll)  # wake up now and then to notice a stop request
            if stop is not None and stop.is_set():
                return
            for job in [job for job in running if job.finished]:
                running.remove(job)
                if job.error:
                    raise RuntimeError(f"{job.experiment} failed: {job.error}")
                take(job.result)
    finally:
        for job in running:
            job.abandon()


class ResultStore:
    """A thread-safe, size-capped LRU mapping from a run to its result; entries are never replaced.

    One store serves every session of a server, so identical settings replay instantly; the cap
    bounds memory (a result with default settings is about 3 MB). A key is everything that
    determines its result, so a second result for the same key is the same run: the first is kept
    and nothing one visitor does can change what another sees.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            result = self._items.get(key)
            if result is not None:
                self._items.move_to_end(key)
            return result

    def put(self, key, result):
        """Store `result` under `key` unless the key is held already; returns the stored result."""
        with self._lock:
            stored = self._items.setdefault(key, result)
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return stored

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
