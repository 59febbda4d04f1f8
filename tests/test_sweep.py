"""Sweeps: a grid of (value, seed) runs in worker processes, cached, with progress and caps."""

import pytest

from gmg import cli, sweep
from gmg.params import ParamError

TINY = (("train_steps", "3000"), ("n_envs", "32"), ("eval_episodes", "8"))


def test_sweep_rows_progress_and_cache():
    grid = sweep.Sweep("coin", "random_coin_share", ("0", "0.5"), 2, overrides=TINY)
    calls = []
    table = sweep.run_sweep(grid, on_progress=lambda done, total: calls.append((done, total)), workers=2)
    assert list(table["random_coin_share"]) == [0.0, 0.0, 0.5, 0.5] and list(table["seed"]) == [0, 1, 0, 1]
    assert table[["intended", "proxy"]].apply(lambda c: c.between(0, 1)).all().all()
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    again = []
    assert sweep.run_sweep(grid, on_progress=lambda d, t: again.append((d, t))).equals(table)
    assert again == [(4, 4)]  # every run came from the cache
    summary = sweep.summarise(table, "random_coin_share")
    assert list(summary.columns[:5]) == ["random_coin_share", "curriculum", "intended_mean", "intended_min", "intended_max"]
    assert "random_coin_share" in table.to_csv(index=False).splitlines()[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(param="nope", values=("1",), seeds=1), "unknown parameter"),
    (dict(param="size", values=("3",), seeds=1), "between"),
    (dict(param="size", values=tuple(str(v) for v in range(6, 19)), seeds=1), "at most"),
    (dict(param="size", values=("8",), seeds=0), "seeds"),
    (dict(param="size", values=("6", "7", "8", "9", "10", "11", "12"), seeds=20), "trainings"),
])
def test_bad_sweeps_are_refused(kwargs, message):
    with pytest.raises(ParamError, match=message):
        sweep.Sweep("coin", **kwargs)


def test_cli_sweep_errors_are_one_line(capsys):
    assert cli.main(["sweep", "maze", "--param", "cheese_region", "--values", "1,99"]) == 2
    assert cli.main(["sweep", "maze", "--param", "cheese_region"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("gmg: error: ") for line in err)


def test_every_world_names_sweep_metrics_it_reports(fast_result):
    """A sweep of any world plots two test metrics that world's `metrics` reports (keys and follow once had none)."""
    from gmg.envs import ENVS
    from gmg.experiment import run
    from gmg.train import Experiment

    for name in ENVS:
        result = fast_result if name == "monster" else run(
            Experiment.build(name, overrides={"train_steps": "2048", "n_envs": "64", "eval_episodes": "4"}), record=0)
        assert set(sweep.goal_metrics(name).values()) <= set(result.env.metrics(result.rollouts["test"])), name


def test_local_processes_and_a_dask_cluster_give_the_same_sweep():
    """Sweeps run the one way every many-run study runs (gmg.jobs.run_many): locally or on Dask."""
    distributed = pytest.importorskip("dask.distributed")
    grid = sweep.Sweep("keys", "test_like_share", ("0", "0.3"), 1, overrides=TINY)
    local = sweep.run_sweep(grid, workers=2)
    sweep._cache.clear()  # nothing from the cache: every cell trains on the cluster
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = sweep.run_sweep(grid, scheduler=cluster.scheduler_address)
    assert remote.drop(columns="train_seconds").equals(local.drop(columns="train_seconds"))
