"""The Tree study: settings, determinism, phases, the JSON contract, and reduced but real learning runs."""

import dataclasses
import io
import json
import threading

import numpy as np
import pytest

from gmg import diagnose
from gmg.cli import main
from gmg.params import ParamError
from gmg.render import tree as tree_figures
from gmg.studies import StudyRun, run_study, tree

from helpers import assert_evidence_backs

SHORT = tree.Config(train_steps=6000, probe_every=2000)


@pytest.fixture(scope="module")
def short_result():
    return tree.run(SHORT, 0)


@pytest.mark.parametrize("overrides, message", [
    ({"train_steps": "-5"}, "between"),
    ({"train_steps": "1e12"}, "between"),
    ({"r_min": "nan"}, "finite"),
    ({"gamma": "often"}, "type float"),
    ({"copies": "1000"}, "between"),
    ({"sustainable_above": "10"}, "below max_trees"),
    ({"initial_trees": "11"}, "initial_trees"),
    ({"nosuch": "1"}, "unknown parameter"),
])
def test_bad_settings_are_refused_with_a_message(overrides, message):
    with pytest.raises(ParamError, match=message):
        StudyRun.build("tree", 0, overrides)


def test_same_seed_same_run_and_another_seed_differs(short_result):
    again = tree.run(SHORT, 0)
    other = tree.run(SHORT, 1)
    for name in ("reward", "mean_trees", "affinity", "replay_trees"):
        assert np.array_equal(getattr(short_result, name), getattr(again, name))
    assert not np.array_equal(short_result.mean_trees, other.mean_trees)


def test_a_copy_is_the_same_run_whatever_runs_beside_it(short_result):
    batch = tree.run(tree.Config(train_steps=6000, probe_every=2000, copies=3), 0)
    assert np.array_equal(batch.reward[0], short_result.reward[0])
    assert np.array_equal(batch.affinity[0], short_result.affinity[0])
    assert not np.array_equal(batch.reward[1], batch.reward[0])


def test_stop_ends_the_run_early():
    stop = threading.Event()
    rows = []

    def on_progress(row):
        rows.append(row)
        if row["steps"] >= 2000:
            stop.set()

    result = tree.run(tree.Config(train_steps=20_000), 0, on_progress=on_progress, stop=stop)
    assert result.steps_done < 20_000 and rows[-1]["fraction"] < 1


def test_progress_rows_carry_the_live_view(short_result):
    rows = []
    tree.run(SHORT, 0, on_progress=rows.append)
    assert rows[-1]["fraction"] == 1.0 and rows[-1]["steps"] == 6000
    assert len(rows[-1]["mean_trees"]) == 1 and 0 <= rows[-1]["agent_cell"] < 100
    fig = tree_figures.live_figure(rows, SHORT)
    assert len(fig.data) >= 3


@pytest.mark.parametrize("curve, expected", [
    # full, then crashed, then back: all three phases; the trailing 5-block mean crosses 3 trees at
    # block 13 (2.8) and 6 trees at block 43 (7.4)
    ([10] * 10 + [1] * 30 + [9] * 60, {"early": (0, 13), "crash": (13, 43), "late": (75, 100)}),
    # never crashes: no crash phase
    ([9] * 100, {"early": (0, 75), "crash": None, "late": (75, 100)}),
    # crashes for good: the crash runs into the late phase's start
    ([10] * 10 + [0] * 90, {"early": (0, 13), "crash": (13, 75), "late": (75, 100)}),
    # never near full (a sparse start): a low population is not a crash
    ([2] * 100, {"early": (0, 75), "crash": None, "late": (75, 100)}),
])
def test_phase_bounds(curve, expected):
    assert tree.phase_bounds(np.array(curve, float), 10) == expected


def test_recovered_needs_a_crash_and_a_return():
    assert tree.recovered(np.array([10] * 10 + [1] * 30 + [9] * 60, float), 10)
    assert not tree.recovered(np.array([10] * 10 + [0] * 90, float), 10)
    assert not tree.recovered(np.array([9] * 100, float), 10)


def test_summary_is_the_json_contract(short_result):
    s = tree.summary(short_result)
    assert {"env", "agent", "seed", "config", "train_seconds", "goals", "phases", "extinct_runs",
            "recovered_runs", "reference"} <= set(s)
    assert set(s["phases"]) == {"early", "crash", "late"}
    for phase in s["phases"].values():
        if phase is not None:
            assert set(phase["metrics"]) == {"reward_per_1000_steps", "mean_trees", "min_trees", "affinity"}
    assert set(s["reference"]) == {"greedy", "sustainable"}
    json.dumps(s, allow_nan=False)  # plain JSON: no numpy scalars, no NaN


def test_cli_runs_the_study_and_prints_one_json_object():
    out, err = io.StringIO(), io.StringIO()
    code = main(["experiment", "tree", "--seed", "2", "--set", "train_steps=5000", "--json"], out=out, err=err)
    assert code == 0, err.getvalue()
    s = json.loads(out.getvalue())
    assert (s["env"], s["agent"], s["seed"], s["config"]["train_steps"]) == ("tree", "continual_q", 2, 5000)


@pytest.mark.parametrize("argv, message", [
    (["experiment", "tree", "--agent", "random"], "--agent does not apply"),
    (["experiment", "tree", "--set", "r_min=-1"], "between"),
    (["experiment", "tree", "--eval-episodes", "5"], "unknown parameter"),
])
def test_cli_bad_study_input_is_one_line_and_exit_2(argv, message):
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    assert message in err.getvalue() and err.getvalue().count("\n") == 1 and not out.getvalue()


def test_figures_draw(short_result):
    report = tree.summary(short_result)
    assert len(tree_figures.population_figure(short_result).data) == 2 * (1 + 2)  # copy + two references, two panels
    assert tree_figures.affinity_figure(short_result).data[0].type == "heatmap"
    assert len(tree_figures.reference_figure(report).data) == 2
    replay = tree_figures.replay_figure(short_result, 0)
    assert len(replay.frames) == tree.REPLAY_STEPS + 1
    assert "trees standing" in tree.what_to_notice(report) or "crash" in tree.what_to_notice(report)


def test_study_runner_is_what_the_worker_calls():
    result = run_study(StudyRun.build("tree", 0, {"train_steps": "2000"}))
    assert result.steps_done == 2000


# ---------------------------------------------------------------- learning (reduced but real runs)
def _checks(result):
    return [all(tree.headline_checks(tree.copy_phases(result, k), result.config.max_trees).values())
            for k in range(result.config.copies)]


@pytest.fixture(scope="module")
def six_worlds():
    """Six copies for 200k steps (the default is 300k)."""
    return tree.run(tree.Config(train_steps=200_000, copies=6), 7)


def test_learning_crash_then_recovery(six_worlds):
    """Most copies crash, then earn 1.5x the crash rate with more trees."""
    result = six_worlds
    assert sum(_checks(result)) >= 5
    summary = tree.summary(result)
    assert summary["extinct_runs"] >= 5 and summary["recovered_runs"] >= 5
    # restraint is learned: late in the run the frozen policy rarely chops the last trees
    assert summary["phases"]["late"]["metrics"]["affinity"] < 0.2 < summary["phases"]["crash"]["metrics"]["affinity"]


def test_no_values_shared_across_counts_means_no_crash():
    """The cure: a learner whose values are all count-specific has no "chop the nearest tree" to carry over."""
    result = tree.run(tree.Config(train_steps=60_000, copies=6, shared_rate=0.0, count_rate=0.1), 7)
    crashed = [tree.phase_bounds(result.mean_trees[k], 10)["crash"] is not None for k in range(6)]
    assert sum(crashed) <= 1


def test_permanent_extinction_allows_no_recovery():
    result = tree.run(tree.Config(train_steps=40_000, copies=4, permanent_extinction=True), 7)
    summary = tree.summary(result)
    assert summary["extinct_runs"] == 4 and summary["recovered_runs"] == 0
    assert summary["phases"]["late"]["metrics"]["reward_per_1000_steps"] == 0


# ---------------------------------------------------------------- diagnosis (gmg.studies.diagnose_study)
def _copy_verdicts(result) -> list[str]:
    """Each copy's verdict, after checking the evidence it stands on."""
    reports = [diagnose.verdict_report(tree.summary(result), evidence) for evidence in tree.diagnose(result)]
    for report in reports:
        assert_evidence_backs(report)
    return [report["verdict"] for report in reports]


def test_diagnosis_at_the_crash_onset_is_goal_misgeneralization_and_at_the_end_it_generalizes(six_worlds):
    """The same six learners: what each brought to its first crash pursues the proxy although the specified
    reward prefers restraint there; after its experience, each prefers restraint, and most harvest as the
    sustainable reference does from few trees (the others only partly generalize: restraint without the harvest)."""
    assert _copy_verdicts(six_worlds).count("goal_misgeneralization") >= 5
    later = dataclasses.replace(six_worlds, config=dataclasses.replace(six_worlds.config, diagnosed_moment="end"))
    verdicts = _copy_verdicts(later)
    assert set(verdicts) <= {"generalizes", "partly_generalizes"} and verdicts.count("generalizes") >= 3


def test_the_judges_discount_is_the_objectives_not_the_learners(six_worlds):
    """Judged at the stated 0.99, whatever the learner's gamma; at 0.9 the objective itself prefers the
    greedy chopping, and the sensitivity row says the verdict flips."""
    evidence = tree.diagnose(six_worlds)[0]
    other_gamma = dataclasses.replace(six_worlds, config=dataclasses.replace(six_worlds.config, gamma=0.9))
    again = tree.diagnose(other_gamma)[0]["counterfactual"]
    cf = evidence["counterfactual"]
    assert cf["judge_discount"] == 0.99 and (again["observed_return"], again["intended_return"]) == (
        cf["observed_return"], cf["intended_return"])
    report = diagnose.verdict_report(tree.summary(six_worlds), evidence)
    at = {row["discount"]: row["verdict"] for row in report["sensitivity"]}
    assert at[0.99] == at[1.0] == "goal_misgeneralization" and at[0.9] == "specification_gaming"
    assert report["verdict_flips"]


def test_diagnosis_of_a_myopic_objective_is_specification_gaming():
    """Discounted at 0.8, chopping the last trees now is worth more than any forest later: the objective agrees."""
    result = tree.run(tree.Config(train_steps=30_000, copies=4, **tree.DIAGNOSIS_PRESETS[
        "Mis-specified: the objective discounts at 0.8 per step"]), 7)
    assert _copy_verdicts(result).count("specification_gaming") >= 3


def test_diagnosis_of_the_random_walk_is_capability_failure():
    result = tree.run(tree.Config(train_steps=5000, copies=2, **tree.DIAGNOSIS_PRESETS[
        "Random agent: no learning, random moves"]), 7)
    assert _copy_verdicts(result) == ["capability_failure"] * 2


def test_cli_diagnoses_the_study_with_one_verdict_per_copy():
    out, err = io.StringIO(), io.StringIO()
    code = main(["diagnose", "tree", "--set", "train_steps=20000", "--set", "copies=2", "--json"], out=out, err=err)
    assert code == 0, err.getvalue()
    report = json.loads(out.getvalue())
    assert report["verdict"] in diagnose.VERDICTS and abs(sum(report["probabilities"].values()) - 1) < 1e-9
    assert [c["verdict"] for c in report["copies"]][0] == report["verdict"] and len(report["copies"]) == 2
    assert {"capability", "posterior_where_goals_differ", "counterfactual", "snapshot"} <= set(report["evidence"])
