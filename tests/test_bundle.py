"""The presets that ship with the app (gmg/bundled, written by `python -m gmg bundle`): complete, current,
reproducible, and shown by the preset page without training."""

import dataclasses
import json

import numpy as np
import pytest

from gmg.bundle import bundled_folders, bundled_run, preset_experiments, run_folder_name
from gmg.cli import jsonable, main
from gmg.experiment import RECORDED_EPISODES, summary
from gmg.storage import load_run
from gmg.train import train
from helpers import open_page

REGENERATE = "the bundle is out of date: run `python -m gmg bundle` and commit gmg/bundled"


def test_every_preset_ships_and_nothing_else():
    assert set(bundled_folders()) == set(preset_experiments()), REGENERATE


@pytest.mark.parametrize("experiment", preset_experiments(), ids=run_folder_name)
def test_a_bundled_run_reads_back_as_its_stored_summary_and_evaluates_again_to_the_same(experiment):
    folder = bundled_folders()[experiment]
    stored = json.loads((folder / "run.json").read_text())["summary"]
    shipped = bundled_run(experiment)
    assert jsonable(summary(shipped)) == stored
    evaluated = load_run(folder, RECORDED_EPISODES)  # the saved agent played again
    for split, rollout in evaluated.rollouts.items():
        read = shipped.rollouts[split]
        for part in ("events", "goal_loglik"):
            assert getattr(read, part).keys() == getattr(rollout, part).keys(), REGENERATE
            assert all(np.array_equal(getattr(read, part)[name], value) for name, value in getattr(rollout, part).items()), REGENERATE
        assert np.array_equal(read.reward, rollout.reward) and np.array_equal(read.active, rollout.active), REGENERATE
        assert len(read.frames) == len(rollout.frames)
        for kept, played in zip(read.frames, rollout.frames):
            assert all(np.array_equal(getattr(kept, f.name), getattr(played, f.name)) for f in dataclasses.fields(played)), REGENERATE


def test_a_bundled_agent_is_what_training_its_settings_gives():
    """Training is a function of the experiment: retraining one bundled preset (the quickest) gives its agent,
    up to the last bits: numpy's sums round differently on other processors (seen: the bundle of one machine
    retrained on another differed by 2e-16 in a weight of about 2; the same machine gives the same bits)."""
    experiment = min(preset_experiments(), key=lambda e: e.env_name != "keys")
    stored = np.load(bundled_folders()[experiment] / "agent.npz", allow_pickle=False)
    trained = train(experiment).agent.params
    assert set(stored.files) == set(trained), REGENERATE
    for name, value in trained.items():
        np.testing.assert_allclose(value, stored[name], rtol=1e-9, atol=1e-12, err_msg=REGENERATE)


WALL_CLOCK = ("saved_at", "train_seconds")  # a run's date and training time differ between two runs


def without_wall_clock(meta: dict) -> dict:
    meta = {key: value for key, value in meta.items() if key not in WALL_CLOCK}
    meta["summary"] = {key: value for key, value in meta["summary"].items() if key not in WALL_CLOCK}
    meta["curve"] = [{key: value for key, value in row.items() if key != "seconds"} for row in meta["curve"]]
    return meta


def files(folder):
    return sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())


def test_the_bundle_command_reproduces_its_files(tmp_path, capsys):
    reduced = ["--set", "train_steps=4096", "--set", "eval_episodes=8"]
    for name in ("first", "second"):
        assert main(["bundle", "--out", str(tmp_path / name), *reduced]) == 0
    written = capsys.readouterr().out
    first_files = files(tmp_path / "first")
    assert first_files == files(tmp_path / "second")
    # run.json, agent.npz, rollouts.npz per run (at one budget for every agent, no run beside the neural one)
    assert len(first_files) == 3 * len(preset_experiments({"train_steps": 4096, "eval_episodes": 8}))
    for path in first_files:
        first, second = tmp_path / "first" / path, tmp_path / "second" / path
        if path.suffix == ".json":
            assert without_wall_clock(json.loads(first.read_text())) == without_wall_clock(json.loads(second.read_text()))
        else:
            with np.load(first) as a, np.load(second) as b:
                assert a.files == b.files and all(np.array_equal(a[name], b[name]) for name in a.files)
        assert str(first.parent) in written  # each run folder is listed with its size


@pytest.mark.parametrize("link", [{}, {"env": "coin", "agent": "explore_q"}], ids=["monster", "coin"])
def test_the_preset_page_shows_a_bundled_preset_without_training(link, clear_streamlit_caches):
    at = open_page("pages/compare.py", **link)
    assert not at.exception
    assert not at.session_state["last_started"] and not any(at.session_state["jobs"].values())
    assert any("Shipped with the app" in caption.value for caption in at.caption)
    animations = [chart for chart in at.get("plotly_chart") if json.loads(chart.proto.spec).get("frames")]
    assert len(animations) == 1
