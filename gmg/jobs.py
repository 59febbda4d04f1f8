"""Background training: a run in its own process that a UI can poll and stop.

Pure Python (no Streamlit). Training runs in a child process (gmg.worker), not a thread: the
trainer is many small numpy calls that hold the GIL, so in a thread it would slow the web server
down, and two runs (the preset trains two agents) would take turns on one core instead of using
both. The child streams progress rows, then the result or the error; a watcher thread here files
them into the job's fields, which the UI reads from its own thread.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import OrderedDict

from .experiment import RunResult
from .train import Experiment
from .worker import read_message

log = logging.getLogger(__name__)


class TrainJob:
    """`gmg.experiment.run(experiment)` in a child process, with progress, live curve and stop.

    `runner` ("module:function") replaces `gmg.experiment.run`, for tests; the child imports it.
    """

    def __init__(self, experiment: Experiment, record: int = 2, runner: str = "gmg.experiment:run"):
        self.experiment = experiment
        self.record = record
        self.runner = runner
        self._stop_requested = False
        self._lock = threading.Lock()
        self._curve: list[dict] = []
        self._fraction = 0.0
        self.result: RunResult | None = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.seconds = 0.0
        self._process: subprocess.Popen | None = None
        self._watcher = threading.Thread(target=self._watch, name=f"watch-{experiment.agent_name}", daemon=True)

    def start(self) -> "TrainJob":
        self.started_at = time.perf_counter()
        # the child sees the same modules as this process (the app's folder, a test's folder)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "gmg.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        pickle.dump((self.runner, self.experiment, self.record), self._process.stdin)
        self._process.stdin.flush()
        self._watcher.start()
        return self

    def request_stop(self) -> None:
        """Ask the trainer to stop at its next batch; the job then finishes with `stopped` set."""
        self._stop_requested = True
        try:
            self._process.stdin.write(b"s")
            self._process.stdin.flush()
        except (OSError, ValueError):  # the child already finished and closed its end
            pass

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job; True once it has finished."""
        self._watcher.join(timeout)
        return self.finished

    @property
    def finished(self) -> bool:
        return self.started_at is not None and not self._watcher.is_alive()

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
        """File the child's messages until its last one; a child that dies silently is an error too."""
        try:
            while (message := read_message(self._process.stdout)) is not None:
                kind, payload = message
                if kind == "progress":
                    self._on_progress(payload)
                elif kind == "result":
                    self.result = payload
                else:
                    log.error("training failed for %s: %s", self.experiment, payload)
                    self.error = payload
            if self.result is None and self.error is None:
                self.error = f"the training process ended unexpectedly (exit code {self._process.wait()})"
        finally:
            self._process.stdin.close()  # end of file also stops a child that is still running
            self._process.wait()
            self.seconds = time.perf_counter() - self.started_at


class ResultStore:
    """A thread-safe, size-capped LRU mapping from Experiment to RunResult.

    One store serves every session of a server, so identical settings replay instantly; the cap
    bounds memory (a result with default settings is about 3 MB).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict[Experiment, RunResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, experiment: Experiment) -> RunResult | None:
        with self._lock:
            result = self._items.get(experiment)
            if result is not None:
                self._items.move_to_end(experiment)
            return result

    def put(self, experiment: Experiment, result: RunResult) -> None:
        with self._lock:
            self._items[experiment] = result
            self._items.move_to_end(experiment)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __contains__(self, experiment: Experiment) -> bool:
        with self._lock:
            return experiment in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
