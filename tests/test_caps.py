"""Resource caps (GMG_CAPS, gmg.caps): one setting lowers a maximum at every boundary at once."""

import dataclasses
import json
from pathlib import Path

import pytest

from helpers import open_page

from gmg import caps, cli, seeds, sweep
from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.params import ParamError, describe, parse_value, with_overrides
from gmg.studies import STUDIES, StudyRun
from gmg.studies import tree
from gmg.train import Experiment, RunLimits

ROOT = Path(__file__).resolve().parents[1]
CAPS = "train_steps=1000000, size=12,eval_episodes=500,sweep_values=5,sweep_runs=15,seeds=50"

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


@pytest.fixture
def capped(monkeypatch):
    monkeypatch.setenv(caps.ENV_VAR, CAPS)


@pytest.fixture(autouse=True)
def no_caps_by_default(monkeypatch):
    monkeypatch.delenv(caps.ENV_VAR, raising=False)


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str, *parts: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gmg: error: "), err
    assert all(part in lines[0] for part in parts), lines[0]


# ------------------------------------------------------------------------------- the library
def test_without_caps_the_built_in_ranges_hold():
    assert caps.current() == {}
    assert parse_value(RunLimits, "train_steps", "5000000") == 5_000_000
    assert sweep.MAX_VALUES == 12 and sweep.MAX_SEEDS == 20 and sweep.MAX_RUNS == 120 and seeds.MAX_SEEDS == 500


def test_parse_value_and_describe_use_the_capped_maximum(capped):
    assert caps.current()["train_steps"] == 1_000_000 and caps.current()["size"] == 12
    assert parse_value(RunLimits, "train_steps", "1e6") == 1_000_000  # the cap itself is allowed
    with pytest.raises(ParamError, match=r"train_steps must be between 0 and 1000000 \(capped on this server\)"):
        parse_value(RunLimits, "train_steps", "1000001")
    # a name shared by several configs caps every one of them (the Tree study's size too)
    for config in [cls.Config for cls in ENVS.values()] + [tree.Config]:
        assert {row["name"]: row["high"] for row in describe(config)}["size"] == 12
        with pytest.raises(ParamError, match="capped"):
            parse_value(config, "size", "13")
    highs = {row["name"]: row["high"] for row in describe(RunLimits)}
    assert {name: highs[name] for name in ("train_steps", "n_envs", "eval_episodes")} == {
        "train_steps": 1_000_000, "n_envs": 4096, "eval_episodes": 500}
    with pytest.raises(ParamError, match="capped"):
        Experiment.build("monster", overrides={"eval_episodes": "501"})
    with pytest.raises(ParamError, match="capped"):
        StudyRun.build("tree", 0, {"train_steps": "1000001"})


def test_sweep_and_seed_counts_are_capped(capped):
    assert sweep.MAX_VALUES == 5 and sweep.MAX_RUNS == 15 and sweep.MAX_SEEDS == 15 and seeds.MAX_SEEDS == 50
    with pytest.raises(ParamError, match="at most 5 values"):
        sweep.Sweep("coin", "size", tuple(str(v) for v in range(6, 12)), 1)
    with pytest.raises(ParamError, match="at most 15 trainings"):
        sweep.Sweep("coin", "size", ("6", "7", "8", "9"), 4)
    sweep.Sweep("coin", "size", ("6", "7", "8"), 5)  # 15 runs: the cap itself
    with pytest.raises(ParamError, match="between 1 and 50"):
        seeds.experiments_for(Experiment(), 51)
    assert len(seeds.experiments_for(Experiment(), 50)) == 50


def test_a_worlds_budget_for_an_agent_is_its_default_within_the_caps(monkeypatch):
    # the neural agent needs longer on Monster (its card's agent_limits); the linear agent keeps RunLimits'
    assert Experiment.build("monster", "neural").limits.train_steps == 800_000
    assert Experiment("monster", "neural").limits.train_steps == 800_000
    assert Experiment.build("monster", "linear_q").limits.train_steps == RunLimits().train_steps == 400_000
    assert Experiment.build("coin", "neural").limits.train_steps == 400_000
    assert Experiment.build("monster", "neural", 0, {"train_steps": 1000}).limits.train_steps == 1000
    # a server that caps training below a world's budget still builds the default run, at the cap
    monkeypatch.setenv(caps.ENV_VAR, "train_steps=600000")
    assert Experiment.build("monster", "neural").limits.train_steps == 600_000


def test_every_cap_at_its_lowest_keeps_every_default_valid(monkeypatch):
    """The lowest cap allowed is the largest default: every default configuration still builds."""
    lowest = {name: max(default for _, _, default, _ in owners) for name, owners in caps.cappable().items()}
    lowest.update({name: floor for name, (floor, _, _) in caps.COUNTS.items()})
    monkeypatch.setenv(caps.ENV_VAR, ",".join(f"{name}={value}" for name, value in lowest.items()))
    assert caps.current() == lowest
    for config in ([RunLimits()] + [cls.Config() for cls in ENVS.values()] + [cls.Config() for cls in AGENTS.values()]
                   + [study.Config() for study in STUDIES.values()]):
        with_overrides(config, dataclasses.asdict(config))  # every default passes the capped range check
    assert caps.COUNTS["seeds"][0] == seeds.DEFAULT_SEEDS
    seeds.experiments_for(Experiment(), seeds.DEFAULT_SEEDS)
    monkeypatch.setenv(caps.ENV_VAR, ",".join(f"{name}={floor}" for name, (floor, _, _) in caps.COUNTS.items()))
    sweep.Sweep("monster", "train_episode_length", ("25", "50", "100", "200"), 3)  # the Sweep page's default grid


# -------------------------------------------------------------------------------------- CLI
def test_cli_refuses_values_above_a_cap_in_one_line(capsys, capped):
    code, out, err = run_cli(capsys, "experiment", "monster", "--set", "size=13")
    assert code == 2 and out == ""
    assert_one_error_line(err, "size must be between 4 and 12 (capped on this server), got 13")
    code, _, err = run_cli(capsys, "experiment", "monster", "--train-steps", "2000000")
    assert code == 2
    assert_one_error_line(err, "train_steps", "1000000")
    code, _, err = run_cli(capsys, "seeds", "monster", "--seeds", "51")
    assert code == 2
    assert_one_error_line(err, "--seeds must be an integer between 1 and 50")
    code, _, err = run_cli(capsys, "sweep", "coin", "--param", "size", "--values", "6,7,8,9,10,11")
    assert code == 2
    assert_one_error_line(err, "1 to 5")
    code, _, err = run_cli(capsys, "sweep", "coin", "--param", "size", "--values", "6,7,8,9", "--seeds", "4")
    assert code == 2
    assert_one_error_line(err, "at most 15 trainings")


def test_cli_list_shows_the_capped_ranges(capsys, capped):
    code, out, err = run_cli(capsys, "list", "--json")
    assert code == 0 and err == ""
    cat = json.loads(out)
    size = next(p for p in cat["environments"]["monster"]["parameters"] if p["name"] == "size")
    assert size["high"] == 12
    steps = next(p for p in cat["limits"]["parameters"] if p["name"] == "train_steps")
    assert steps["high"] == 1_000_000


@pytest.mark.parametrize("bad, message", [
    ("nonsense", "expected NAME=VALUE"),
    ("colour=3", "unknown name 'colour'"),
    ("size=big", "size must be a number"),
    ("size=nan", "size must be a number"),
    ("size=12.5", "whole number"),
    ("size=99", "above its built-in maximum 21"),
    ("train_steps=6000000", "above its built-in maximum 5000000"),
    ("size=5", "below its default 10"),
    ("n_envs=1", "below its default 256"),
    ("seeds=10", "below its default 20"),
    ("sweep_runs=1000", "above its built-in maximum 120"),
    ("size=12,size=11", "capped twice"),
    ("train_episode_length=", "expected NAME=VALUE"),
    ("x" * 5000 + "=1", "unknown name"),
])
def test_a_bad_caps_setting_is_one_clear_line(capsys, monkeypatch, bad, message):
    monkeypatch.setenv(caps.ENV_VAR, bad)
    with pytest.raises(caps.CapsError, match="GMG_CAPS"):
        caps.current()
    for argv in (["list"], ["experiment", "monster", "--train-steps", "1000"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == ""
        assert_one_error_line(err, "GMG_CAPS: ", message)
        assert len(err) < 700


# ------------------------------------------------------------------------------------ the app

def test_sidebar_widgets_and_links_follow_the_caps(capped):
    # the seed-variance page has the full sidebar and trains only on a click
    at = open_page("pages/seeds.py", size=14, train_steps=2_000_000, seeds=60)
    assert not at.exception
    bar = at.sidebar
    assert bar.number_input(key="size").proto.max == 12
    assert bar.number_input(key="train_steps").proto.max == 1_000_000
    assert bar.number_input(key="eval_episodes").proto.max == 500
    assert bar.number_input(key="n_envs").proto.max == 4096  # not capped
    assert bar.number_input(key="seeds").proto.max == 50  # min(the page's 100, the cap)
    errors = " ".join(e.value for e in at.error)
    assert "`size=14` was ignored: size must be between 4 and 12 (capped on this server)" in errors
    assert "`train_steps=2000000` was ignored" in errors and "1000000" in errors
    assert "`seeds=60` was ignored" in errors
    assert bar.number_input(key="size").value == 10 and bar.number_input(key="train_steps").value == 400_000

    sweep_page = open_page("pages/sweep.py")
    assert not sweep_page.exception
    assert sweep_page.sidebar.number_input(key="sweep_seeds").proto.max == 15


def test_without_caps_the_sidebar_keeps_the_built_in_maxima():
    at = open_page("pages/seeds.py")
    assert at.sidebar.number_input(key="size").proto.max == 20
    assert at.sidebar.number_input(key="train_steps").proto.max == 5_000_000
    assert at.sidebar.number_input(key="seeds").proto.max == 100


def test_study_pages_follow_the_caps(monkeypatch):
    monkeypatch.setenv(caps.ENV_VAR, "train_steps=400000,size=12")
    # an invalid combination (more trees at the start than the forest holds) keeps the page from training
    at = open_page("pages/tree.py", tree_initial_trees=40, tree_max_trees=1)
    assert not at.exception
    assert at.sidebar.number_input(key="tree_size").proto.max == 12
    assert at.sidebar.number_input(key="tree_train_steps").proto.max == 400_000
    assert not any(at.session_state["jobs"].values())


@pytest.mark.parametrize("page", ["pages/home.py", "pages/explore.py", "pages/tree.py", "pages/seeds.py"])
def test_a_bad_caps_setting_is_one_message_on_every_page(monkeypatch, page):
    monkeypatch.setenv(caps.ENV_VAR, "size=5")
    at = open_page(page)
    assert not at.exception
    [error] = at.error
    assert "resource caps are misconfigured" in error.value and "GMG_CAPS: size=5 is below its default" in error.value
    assert not at.sidebar.number_input and "jobs" not in at.session_state  # stopped before anything else


def test_the_deployment_doc_documents_the_caps():
    # the README links to docs/deployment.md, which holds the caps (GMG_CAPS) for an operator
    assert "docs/deployment.md" in (ROOT / "README.md").read_text()
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text.split("## Caps for a shared server", 1)[1].split("\n## ", 1)[0]
    assert "GMG_CAPS=" in section
    for name in ["train_steps", "n_envs", "eval_episodes", "size", *caps.COUNTS]:
        assert f"`{name}`" in section, name
