"""Background training jobs and the shared result store."""

import os

import pytest

from gmg.jobs import ResultStore, TrainJob
from gmg.train import Experiment


def test_job_trains_evaluates_and_reports_progress(fast_overrides):
    job = TrainJob(Experiment.build(overrides=fast_overrides), record=2).start()
    assert job.join(timeout=30)
    assert job.error is None and not job.stopped and not job.running
    assert job.progress == pytest.approx(1.0)
    assert job.curve and job.curve == job.result.trained.curve
    assert "fraction" not in job.curve[0]
    assert set(job.result.rollouts) == {"train", "test"}
    assert len(job.result.rollouts["test"].frames[0].t) == 2  # two recorded episodes
    assert job.elapsed == job.seconds > 0


def test_stop_ends_a_long_run_early():
    job = TrainJob(Experiment.build(overrides={"train_steps": 5_000_000, "eval_episodes": 5})).start()
    job.join(timeout=0.3)  # let the trainer get under way
    job.request_stop()
    assert job.join(timeout=20)
    assert job.stopped and job.result.trained.stopped
    assert job.progress < 0.5


def broken_run(*args, **kwargs):
    raise RuntimeError("out of shields")


def test_a_failing_run_reports_its_error_instead_of_raising(fast_overrides):
    job = TrainJob(Experiment.build(overrides=fast_overrides), runner=f"{__name__}:broken_run").start()
    assert job.join(timeout=30)
    assert job.error == "RuntimeError: out of shields" and job.result is None


def test_two_jobs_train_at_once_in_separate_processes(fast_overrides):
    experiments = [Experiment.build(seed=seed, overrides=fast_overrides) for seed in (0, 1)]
    started = [TrainJob(e).start() for e in experiments]
    assert len({job._process.pid for job in started} | {os.getpid()}) == 3
    assert all(job.join(timeout=60) for job in started)
    assert all(job.error is None and job.result.experiment == e for job, e in zip(started, experiments))


def test_result_store_forgets_the_least_recently_used_run():
    a, b, c = (Experiment.build(seed=seed) for seed in range(3))
    store = ResultStore(capacity=2)
    store.put(a, "result a")
    store.put(b, "result b")
    assert store.get(a) == "result a"  # a is now the most recent
    store.put(c, "result c")
    assert a in store and c in store and b not in store and len(store) == 2
    assert store.get(Experiment.build(seed=0)) == "result a"  # keyed by value, not identity
