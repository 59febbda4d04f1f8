"""The command line: its JSON contract, `list`, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gmg import cli, compiled
from gmg.agents import AGENTS
from gmg.studies import STUDIES
from gmg.envs import ENVS

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--train-steps", "5000", "--eval-episodes", "10"]
MONSTER_METRICS = (
    "apples_per_episode",
    "shields_per_episode",
    "apples_per_100_after_clear",
    "shields_per_100_after_clear",
    "monster_hits_per_episode",
    "return_per_episode",
)


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def experiment_json(capsys, *extra):
    code, out, err = run_cli(capsys, "experiment", "monster", *SHORT, *extra, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)  # exactly one JSON document: json.loads rejects trailing text


def _finite_or_null(value):
    if isinstance(value, dict):
        return all(_finite_or_null(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_or_null(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


# ------------------------------------------------------------------------------------ list
def test_list_shows_every_env_agent_and_parameter(capsys):
    code, out, err = run_cli(capsys, "list")
    assert code == 0 and err == ""
    for name, env_cls in ENVS.items():
        assert name in out
        for row in cli.params.describe(env_cls.Config):
            assert row["name"] in out and row["help"] in out
    for name in AGENTS:
        assert name in out
    for name, study in STUDIES.items():
        assert f"{name}: " in out and f"learner: {study.LEARNER}" in out
        assert all(row["name"] in out for row in cli.params.describe(study.Config))
    assert "train_steps" in out and "default" in out


def test_list_json(capsys):
    code, out, err = run_cli(capsys, "list", "--json")
    assert code == 0 and err == ""
    cat = json.loads(out)
    assert set(cat["environments"]) == set(ENVS) | set(STUDIES)
    assert cat["environments"]["tree"]["learner"] == "continual_q"
    assert set(cat["agents"]) == set(AGENTS)
    size = next(p for p in cat["environments"]["monster"]["parameters"] if p["name"] == "size")
    assert {"default", "low", "high", "help", "type"} <= set(size)
    assert {"train_steps", "n_envs", "eval_episodes"} <= {p["name"] for p in cat["limits"]["parameters"]}


def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "gmg", "list"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "monster" in proc.stdout and "linear_q" in proc.stdout


# ------------------------------------------------------------------------------ experiment
def test_experiment_json_contract(capsys):
    s = experiment_json(capsys)
    assert {"env", "agent", "seed", "config", "train_seconds", "goals", "splits"} <= set(s)
    assert (s["env"], s["agent"], s["seed"]) == ("monster", "linear_q", 0)
    assert s["goals"] == {"intended": "apples", "proxy": "shields"}
    # config holds every parameter, with the shortcuts applied
    for cls in (ENVS["monster"].Config, AGENTS["linear_q"].Config, cli.RunLimits):
        assert {row["name"] for row in cli.params.describe(cls)} <= set(s["config"])
    assert s["config"]["train_steps"] == 5000 and s["config"]["eval_episodes"] == 10
    assert isinstance(s["train_seconds"], (int, float)) and s["train_seconds"] >= 0
    assert set(s["splits"]) == {"train", "test"}
    for split in s["splits"].values():
        for name in MONSTER_METRICS:
            assert name in split["metrics"]
            value = split["metrics"][name]
            assert value is None or isinstance(value, (int, float))
        assert set(split["attribution"]) == {"apples", "shields"}
        assert sum(split["attribution"].values()) == pytest.approx(1.0)
    assert _finite_or_null(s)


def test_experiment_after_clear_metrics_are_null_when_never_cleared(capsys):
    """No 2-step episode clears 5 monsters: the after-clear rates are null, not NaN."""
    s = experiment_json(
        capsys, "--set", "monsters=5", "--set", "train_episode_length=2", "--set", "test_episode_length=2"
    )
    for split in s["splits"].values():
        assert split["metrics"]["apples_per_100_after_clear"] is None
        assert split["metrics"]["shields_per_100_after_clear"] is None


def test_experiment_random_agent(capsys):
    s = experiment_json(capsys, "--agent", "random", "--seed", "3")
    assert s["agent"] == "random" and s["seed"] == 3
    assert "gamma" not in s["config"]
    assert s["splits"]["test"]["metrics"]["monster_hits_per_episode"] > 0


def test_experiment_set_any_parameter(capsys):
    s = experiment_json(
        capsys, "--set", "train_episode_length=200", "--set", "size=8", "--set", "gamma=0.8", "--set", "n_envs=32"
    )
    assert s["config"]["train_episode_length"] == 200
    assert s["config"]["size"] == 8 and s["config"]["gamma"] == 0.8 and s["config"]["n_envs"] == 32


def test_experiment_is_reproducible(capsys):
    a, b = experiment_json(capsys, "--seed", "5"), experiment_json(capsys, "--seed", "5")
    for s in (a, b):
        s.pop("train_seconds")
    assert a == b


def test_experiment_table_without_json(capsys):
    code, out, err = run_cli(capsys, "experiment", "monster", *SHORT)
    assert code == 0, err
    assert "apples_per_100_after_clear" in out and "test" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


# ------------------------------------------------------------------------------- bad input
LONG = "x" * 10_000
HOSTILE = {
    "no command": [],
    "unknown command": ["frobnicate"],
    "missing environment": ["experiment"],
    "unknown environment": ["experiment", "nosuch"],
    "unknown agent": ["experiment", "monster", "--agent", "nosuch"],
    "unknown parameter": ["experiment", "monster", "--set", "nosuch=1"],
    "unknown option": ["experiment", "monster", "--bogus"],
    "option without value": ["experiment", "monster", "--seed"],
    "below range": ["experiment", "monster", "--set", "size=3"],
    "above range": ["experiment", "monster", "--set", "monster_extra_step_prob=1.5"],
    "negative steps": ["experiment", "monster", "--train-steps", "-5"],
    "zero episodes": ["experiment", "monster", "--eval-episodes", "0"],
    "wrong type": ["experiment", "monster", "--set", "size=abc"],
    "fraction for int": ["experiment", "monster", "--set", "size=2.5"],
    "empty value": ["experiment", "monster", "--set", "size="],
    "nan float": ["experiment", "monster", "--set", "apple_reward=nan"],
    "inf float": ["experiment", "monster", "--set", "hit_penalty=inf"],
    "nan int": ["experiment", "monster", "--train-steps", "nan"],
    "huge int": ["experiment", "monster", "--train-steps", "1e30"],
    "huge literal": ["experiment", "monster", "--set", "size=" + "9" * 60],
    "overflowing float": ["experiment", "monster", "--set", "gamma=1e999"],
    "huge seed": ["experiment", "monster", "--seed", "99999999999999999999999"],
    "negative seed": ["experiment", "monster", "--seed", "-1"],
    "seed not a number": ["experiment", "monster", "--seed", "abc"],
    "set without =": ["experiment", "monster", "--set", "size"],
    "set without name": ["experiment", "monster", "--set", "=3"],
    "given twice": ["experiment", "monster", "--train-steps", "100", "--set", "train_steps=200"],
    "objects do not fit": ["experiment", "monster", "--set", "size=4", "--set", "monsters=20"],
    "knockback beyond grid": ["experiment", "monster", "--set", "knockback_distance=30"],
    "long environment": ["experiment", LONG],
    "long agent": ["experiment", "monster", "--agent", LONG],
    "long parameter name": ["experiment", "monster", "--set", LONG + "=1"],
    "long value": ["experiment", "monster", "--set", "size=" + "1" * 10_000],
    "long seed": ["experiment", "monster", "--seed", "1" * 10_000],
    "list unknown option": ["list", "--bogus"],
    # Python's int() and float() read other scripts' digits: size=١٢ would be 12
    "arabic-indic digits": ["experiment", "monster", *SHORT, "--set", "size=\u0661\u0662"],
    "fullwidth digits": ["experiment", "monster", *SHORT, "--set", "gamma=\uff10.\uff19"],
    "arabic-indic seed": ["experiment", "monster", *SHORT, "--seed", "\u0663"],
    "arabic-indic steps": ["experiment", "monster", "--train-steps", "\u0665\u0660\u0660\u0660", "--eval-episodes", "10"],
    "digit separators": ["experiment", "monster", *SHORT, "--set", "size=1_0"],
}


@pytest.mark.parametrize("argv", list(HOSTILE.values()), ids=list(HOSTILE))
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("gmg: error: ")
    assert "Traceback" not in err
    assert len(err) < 700  # long input is cut, not echoed


def test_messages_name_the_problem(capsys):
    assert "size" in run_cli(capsys, "experiment", "monster", "--set", "size=3")[2]
    assert "nosuch" in run_cli(capsys, "experiment", "monster", "--agent", "nosuch")[2]
    assert "NAME=VALUE" in run_cli(capsys, "experiment", "monster", "--set", "size")[2]


@pytest.mark.parametrize("setting, value", [
    ("size", "9" * 60),  # in range of the 64-character limit, far out of the parameter's
    ("size", "1e308"),  # read as an int of 309 digits: the message quotes what was typed
    ("gamma", "x" * 60),
    ("test_partner", "y" * 60),  # a choice
])
def test_messages_quote_at_most_40_characters_of_a_value(capsys, setting, value):
    env = "follow" if setting == "test_partner" else "monster"
    code, out, err = run_cli(capsys, "experiment", env, *SHORT, "--set", f"{setting}={value}")
    assert code == 2 and setting in err
    assert value[:40] in err and (len(value) <= 40 or value[:41] not in err) and "9" * 41 not in err, err


def test_the_cli_accepts_ascii_digits_only(capsys):
    code, out, err = run_cli(capsys, "experiment", "monster", *SHORT, "--set", "size=\u0661\u0662")
    assert code == 2 and "size must be of type int" in err, err
    assert "\u0661\u0662" in err  # quoted as given, so the reader sees what was refused


def test_keyboard_interrupt_in_process(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("gmg.experiment.run", interrupted)
    code, out, err = run_cli(capsys, "experiment", "monster", *SHORT, "--json")
    assert code == 130 and out == ""
    assert err == "gmg: interrupted\n"


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_exits_130_without_traceback():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gmg", "experiment", "monster", "--train-steps", "5000000", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell that starts the tests in the background ignores SIGINT in its children, and Python
        # then leaves it ignored: restore the default, as a terminal's Ctrl-C finds it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(2.0)  # past the imports, into training
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out == "" and "Traceback" not in err


def test_internal_error_is_one_line_exit_1(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.delenv("GMG_DEBUG", raising=False)
    monkeypatch.setattr("gmg.experiment.run", broken)
    code, out, err = run_cli(capsys, "experiment", "monster", *SHORT, "--json")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "boom second line" in err and "Traceback" not in err


def test_ctrl_c_inside_a_compiled_kernel_counts_as_an_interrupt():
    """numba turns a KeyboardInterrupt raised while a kernel ran into a SystemError chained to it."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("returned a result with an exception set") from interrupt
    except SystemError as error:
        assert compiled.interrupted(error)
    assert not compiled.interrupted(SystemError("a real bug")) and compiled.interrupted(KeyboardInterrupt())
