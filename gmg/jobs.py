"""Background training: a run in a worker thread that a UI can poll and stop.

Pure Python (no Streamlit): the worker only writes to its own fields, under a lock, and the UI
reads them from its own thread. Streamlit APIs must never be called from the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from .experiment import RunResult, run
from .train import Experiment

log = logging.getLogger(__name__)


class TrainJob:
    """`gmg.experiment.run(experiment)` in a daemon thread, with progress, live curve and stop."""

    def __init__(self, experiment: Experiment, record: int = 2):
        self.experiment = experiment
        self.record = record
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._curve: list[dict] = []
        self._fraction = 0.0
        self.result: RunResult | None = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._work, name=f"train-{experiment.agent_name}", daemon=True)

    def start(self) -> "TrainJob":
        self.started_at = time.perf_counter()
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the trainer to stop at its next batch; the job then finishes with `stopped` set."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True once it has finished."""
        self._thread.join(timeout)
        return self.finished

    @property
    def finished(self) -> bool:
        return self.started_at is not None and not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

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

    def _work(self) -> None:
        try:
            self.result = run(self.experiment, on_progress=self._on_progress, stop=self._stop, record=self.record)
        except Exception as exc:  # reported to the user by the UI; the traceback goes to the log
            log.exception("training failed for %s", self.experiment)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
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
