"""Background training jobs and the shared result store."""

import os

import pytest

from helpers import descendants

from gmg.jobs import JobQueue, ResultStore, TrainJob
from gmg.train import Experiment, StoppedExperiment


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


def sleeper(run, on_progress=None, stop=None, record=0):
    """A runner that waits until stopped (or 30 s): a stand-in for a long training run."""
    stop.wait(30)
    return "slept"


def stubborn(run, on_progress=None, stop=None, record=0):
    """A runner that ignores a stop request."""
    import time

    time.sleep(60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split()[2] == "Z"  # a zombie has ended


def wait_until(condition, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_queue_runs_at_most_its_limit_and_says_who_is_next():
    queue = JobQueue(lambda: 2)
    jobs = queue.submit([TrainJob(Experiment.build(seed=seed), runner=f"{__name__}:sleeper") for seed in range(5)])
    assert wait_until(lambda: queue.running == 2)
    assert [job.started_at is not None for job in jobs] == [True, True, False, False, False]
    assert [queue.ahead(job) for job in jobs] == [None, None, 0, 1, 2]
    jobs[4].request_stop()  # leaving the queue never starts it
    jobs[0].request_stop()  # a place frees up: the next in line starts
    assert wait_until(lambda: jobs[2].started_at is not None)
    assert jobs[4].finished and jobs[4].stopped and jobs[4].started_at is None
    assert queue.ahead(jobs[3]) == 0 and queue.running == 2
    for job in jobs:
        job.request_stop()
    assert wait_until(lambda: all(job.finished for job in jobs) and queue.running == 0)
    assert jobs[0].result == "slept" and jobs[3].started_at is None


def test_a_job_whose_owner_left_is_ended_queued_or_running():
    present = {"a", "b"}
    queue = JobQueue(lambda: 1, owner_alive=lambda owner: owner in present, grace=0.3)
    running, waiting, other = queue.submit([TrainJob(Experiment(), runner=f"{__name__}:sleeper", owner=owner)
                                            for owner in ("a", "a", "b")])
    assert wait_until(lambda: running.started_at is not None)
    pid = running._process.pid
    present.discard("a")  # the tab closed
    assert wait_until(lambda: running.finished and waiting.finished, timeout=5)
    assert not wait_until(lambda: alive(pid) and False, timeout=0.1) and not alive(pid)
    assert waiting.started_at is None and running.result is None and running.error is None
    assert wait_until(lambda: other.started_at is not None)  # b's job got the place
    other.request_stop()
    assert other.join(10) and other.result == "slept"


def test_a_run_that_ignores_stop_is_cut_short(monkeypatch):
    job = TrainJob(Experiment(), runner=f"{__name__}:stubborn").start()
    job.request_stop()
    assert job.join(timeout=20)  # the worker's grace (10 s), not the runner's 60 s
    assert job.stopped and job.error is None and job.result is None


def test_a_worker_ends_when_its_parent_dies():
    """A server killed with -9 leaves no run behind: the child is re-parented, notices and exits, even
    when a forked copy of the server still holds its pipe."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(os.getcwd())!r})
        from gmg.jobs import TrainJob
        from gmg.train import Experiment
        job = TrainJob(Experiment(), runner="tests.test_jobs:sleeper").start()
        if os.fork() == 0:  # a forked copy holding the job's pipe ends, like a process pool's child
            time.sleep(30)
            os._exit(0)
        print(job._process.pid, flush=True)
        time.sleep(30)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(__file__)))
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait()
    assert wait_until(lambda: not alive(child), timeout=5)


def test_a_stored_result_is_never_replaced():
    store = ResultStore(capacity=4)
    key = Experiment.build(seed=3)
    assert store.put(key, "four recorded episodes") == "four recorded episodes"
    assert store.put(Experiment.build(seed=3), "two recorded episodes") == "four recorded episodes"
    assert store.get(key) == "four recorded episodes"


def test_a_stopped_run_has_its_own_key():
    full = Experiment.build(seed=3)
    stopped = StoppedExperiment.of(full, 1000)
    assert stopped != full and hash(stopped) != hash(full) and stopped.full == full
    assert StoppedExperiment.of(full, 1000) == stopped != StoppedExperiment.of(full, 2000)


def test_no_run_of_any_kind_outlives_a_killed_server():
    """A stand-in server queues one job of every kind (experiment, study, diagnosis, seed study, sweep),
    all started at once, and is killed with -9: within a few seconds nothing it started is left."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import time
        from gmg import seeds, sweep
        from gmg.diagnose import DiagnosisRun
        from gmg.jobs import JobQueue, TrainJob
        from gmg.studies import StudyRun
        from gmg.train import Experiment
        long = {"train_steps": "5000000"}
        runs = [Experiment.build(overrides=long), StudyRun.build("tree", 0, {"train_steps": "2000000"}),
                DiagnosisRun(Experiment.build(overrides=long)), seeds.SeedStudy(Experiment.build(overrides=long), 3),
                sweep.Sweep("monster", "train_episode_length", ("25", "200"), 1,
                            overrides=(("train_steps", "5000000"),))]
        jobs = JobQueue(lambda: len(runs)).submit([TrainJob(run) for run in runs])
        print("started", flush=True)
        time.sleep(60)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(__file__)))
    assert server.stdout.readline().strip() == "started"
    assert wait_until(lambda: len(descendants(server.pid)) >= 5)
    import time

    time.sleep(2)  # every child under way (imported, training)
    started = descendants(server.pid)
    server.kill()
    server.wait()
    assert wait_until(lambda: not any(alive(pid) for pid in started), timeout=5), \
        [open(f"/proc/{pid}/cmdline").read() for pid in started if alive(pid)]


def test_a_run_yields_the_cores_to_the_server():
    """Training runs below the server's priority, so pages are served and drawn first."""
    from gmg.worker import NICENESS

    job = TrainJob(Experiment(), runner=f"{__name__}:sleeper").start()
    pid = job._process.pid

    def niceness() -> int:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])

    assert wait_until(lambda: niceness() == os.nice(0) + NICENESS)
    job.request_stop()
    assert job.join(10)
