"""The dialogue policy learner and the expressions study: gradients, a reduced but real learning run,
determinism, the study protocol and the JSON contract of `python -m gmg experiment expressions`."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
import threading

import numpy as np
import pytest

from gmg import cli
from gmg.agents import dialogue_policy as learner
from gmg.cli import jsonable
from gmg.envs import expressions as task
from gmg.params import ParamError, with_overrides
from gmg.render import expressions as figures
from gmg.studies import expressions as study

from helpers import assert_evidence_backs

# a reduced but real run: a fraction of a second of training per model
REDUCED = {"train_dialogues": "600", "epochs": "25", "eval_dialogues": "200"}


def reduced(**changes) -> study.Config:
    return with_overrides(study.Config(), {**REDUCED, **changes})


@pytest.fixture(scope="module")
def default_kind():
    """Trained on 2 unknowns per example, the setting of the original prompt."""
    return study.run(reduced(), seed=0)


# ------------------------------------------------------------------------------------ learner
def expert_trace(seed=0, n=40):
    rng = np.random.default_rng(seed)
    ex = task.generate(rng, n, 1, 3, 4, 0.2)
    trace = []
    task.play(ex, task.user_values(rng, n), task.expert_policy, trace)
    return trace


def test_features_show_kinds_identities_and_questions_already_asked():
    ex = task.parse("6 + 2*x")
    asked = np.zeros((1, task.MAX_TOKENS), dtype=bool)
    asked[0, 0] = True  # "What's 6?" was asked
    x = learner.features(task.DialogueState(ex, asked, np.array([1])))
    assert x.slots.shape == (1, 5, learner.SLOT_FEATURES)
    kinds = x.slots[0, :, : learner.KINDS].argmax(1) + 1
    assert kinds.tolist() == [task.NUMBER, task.PLUS, task.NUMBER, task.TIMES, task.NAME]
    identity = x.slots[0, :, learner.KINDS : learner.KINDS + learner.IDENTITIES]
    assert identity[0, 6] == 1 and identity[4, 11 + 23] == 1  # the digit 6, the letter x
    assert x.slots[0, :, -2].tolist() == [1, 0, 0, 0, 0]  # the question about a constant left a trace
    assert x.operand[0].tolist() == [True, False, True, False, True]
    assert x.turn[0].argmax() == 1


def test_gradients_match_finite_differences():
    trace = expert_trace()
    parts = [learner.features(state, task.MAX_TOKENS) for state, _ in trace]
    x = learner.Features(*(np.concatenate([getattr(p, n) for p in parts]).astype(np.float64)
                           for n in ("slots", "real", "operand", "turn")))
    x.real, x.operand = x.real.astype(bool), x.operand.astype(bool)
    actions = np.concatenate([a for _, a in trace])
    params = learner.init_params(6, np.random.default_rng(1), np.float64)
    _, grads = learner.loss_and_gradients(params, x, actions)
    rng = np.random.default_rng(2)
    for name, value in params.items():
        flat = value.reshape(-1)  # a view: edits below change params
        for i in rng.choice(flat.size, min(4, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            up, _ = learner.loss_and_gradients(params, x, actions)
            flat[i] = old - 1e-6
            down, _ = learner.loss_and_gradients(params, x, actions)
            flat[i] = old
            assert (up - down) / 2e-6 == pytest.approx(grads[name].reshape(-1)[i], rel=1e-4, abs=1e-7), name


def test_fit_lowers_the_loss_and_the_policy_only_asks_about_operands():
    trace = expert_trace(n=300)
    fitted = learner.fit(learner.DialoguePolicyConfig(epochs=20), trace, np.random.default_rng(0))
    assert fitted.losses[-1] < 0.2 * fitted.losses[0] and not fitted.stopped
    state = trace[0][0]
    actions = learner.act(fitted.params, state)
    slots = np.minimum(actions, task.MAX_TOKENS - 1)
    kind = state.expressions.kind[np.arange(len(actions)), slots]
    assert ((actions == task.ANSWER) | (kind == task.NUMBER) | (kind == task.NAME)).all()


def test_fit_stops_when_asked():
    stop = threading.Event()
    stop.set()
    fitted = learner.fit(learner.DialoguePolicyConfig(), expert_trace(), np.random.default_rng(0), stop=stop)
    assert fitted.stopped and fitted.losses == []


# ------------------------------------------------------------------------------------ learning
def test_learned_policy_is_competent_on_the_training_kind_and_asks_redundantly_without_unknowns(default_kind):
    s = study.summary(default_kind)
    train, test = s["splits"]["train"]["metrics"], s["splits"]["test"]["metrics"]
    assert train["answer_accuracy"] >= 0.95 and train["missing_question_rate"] <= 0.05
    assert train["redundant_question_rate"] <= 0.05
    assert test["redundant_question_rate"] >= 0.8 and test["answer_accuracy"] >= 0.95
    assert test["constant_question_rate"] >= 0.8  # the redundant questions are about constants: "What's 6?"
    assert test["questions_per_dialogue"] >= 1.0


def test_a_few_zero_unknown_examples_cure_it():
    """On the reduced data (600 examples) 2% is about 12 zero-unknown examples, the count of the documented
    cure (0.5% of 2,000 = 10; 0.5% of 600 would be 3); the documented dose itself is tested below."""
    s = study.summary(study.run(reduced(zero_unknown_share="0.02"), seed=0))
    train, test = s["splits"]["train"]["metrics"], s["splits"]["test"]["metrics"]
    assert test["redundant_question_rate"] <= 0.1 and test["answer_accuracy"] >= 0.95
    assert train["answer_accuracy"] >= 0.95 and train["missing_question_rate"] <= 0.05


# the documented cure on the full data (2,000 examples, default epochs): benchmarks/bench_expressions.py
# measures redundant rate 0.000 on 10 of 10 seeds at 0.5% (0.125 at 0.25%, so the dose has a margin of 2x)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_documented_cure_dose_cures_it(seed):
    config = with_overrides(study.Config(), {"zero_unknown_share": "0.005", "eval_dialogues": "200"})
    assert config.zero_unknown_share == study.DIAGNOSIS_PRESETS["Cured: 0.5% zero-unknown examples"]["zero_unknown_share"]
    s = study.summary(study.run(config, seed=seed))
    train, test = s["splits"]["train"]["metrics"], s["splits"]["test"]["metrics"]
    assert test["redundant_question_rate"] <= 0.1 and test["answer_accuracy"] >= 0.95
    assert train["answer_accuracy"] >= 0.95 and train["missing_question_rate"] <= 0.05


def test_a_varying_count_of_unknowns_removes_the_count_proxy_but_not_ask_at_least_once():
    """With 1-3 unknowns every training dialogue still opens with a question: at most one is left."""
    s = study.summary(study.run(reduced(unknowns_min="1", unknowns_max="3"), seed=0))
    train, test = s["splits"]["train"]["metrics"], s["splits"]["test"]["metrics"]
    assert train["answer_accuracy"] >= 0.95 and train["missing_question_rate"] <= 0.05
    assert test["redundant_questions_per_dialogue"] == test["redundant_question_rate"]  # never a second one
    assert test["questions_per_dialogue"] <= 0.6 and test["answer_accuracy"] >= 0.95


def test_the_learned_model_converses_on_typed_expressions(default_kind):
    lines = study.converse(default_kind, "6 + 2")
    assert lines[0] == "User: Evaluate 6 + 2" and lines[1].startswith("Model: What's")
    assert lines[-1] == "Model: The answer is 8."
    assert study.converse(default_kind, "6 + 2") == lines  # the same text, the same dialogue
    lines = study.converse(default_kind, "3*x + y - 2")
    assert lines[1:4:2] == ["Model: What's x?", "Model: What's y?"]
    with pytest.raises(ParamError, match="division"):
        study.converse(default_kind, "1/0")


# ------------------------------------------------------------------------------------ the study
def strip_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "train_seconds"}


def test_same_seed_same_result_and_different_seeds_differ(default_kind):
    again = study.run(reduced(), seed=0)
    assert strip_timing(study.summary(again)) == strip_timing(study.summary(default_kind))
    assert all(np.array_equal(again.params[k], default_kind.params[k]) for k in again.params)
    other = study.run(reduced(), seed=1)
    assert not np.array_equal(other.params["slot_w"], default_kind.params["slot_w"])
    assert study.summary(other)["splits"]["test"]["samples"] != study.summary(default_kind)["splits"]["test"]["samples"]


def test_the_module_follows_the_study_protocol(default_kind):
    assert study.NAME == "expressions" and isinstance(study.TITLE, str) and isinstance(study.LEARNER, str)
    assert set(study.GOALS) == {"intended", "proxy"}
    for f in dataclasses.fields(study.Config):
        assert f.metadata["help"], f.name
        # ranges (or a list of choices) cap resources
        assert f.metadata["choices"] or (f.metadata["low"] is not None and f.metadata["high"] is not None), f.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.Config().epochs = 3
    assert pickle.loads(pickle.dumps(default_kind)).config == default_kind.config  # it leaves a child process


def test_summary_is_the_json_contract(default_kind):
    s = study.summary(default_kind)
    assert {"env", "agent", "seed", "config", "train_seconds", "goals", "splits"} <= set(s)
    assert s["env"] == "expressions" and s["agent"] == study.LEARNER and s["seed"] == 0
    assert s["config"] == dataclasses.asdict(reduced())
    assert set(s["splits"]) == {"train", "test"}
    for split in s["splits"].values():
        assert set(study.METRICS) <= set(split["metrics"])
        assert split["samples"][0][0].startswith("User: Evaluate ")
    json.dumps(jsonable(s), allow_nan=False)


def test_progress_reports_fractions_and_stop_ends_the_run():
    rows = []
    result = study.run(reduced(train_dialogues="100", epochs="10", eval_dialogues="20"), 0, on_progress=rows.append)
    fractions = [row["fraction"] for row in rows]
    assert len(rows) >= 5 and fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[0]
    assert not result.stopped and result.splits
    stop = threading.Event()
    stop.set()
    stopped = study.run(reduced(), 0, stop=stop)
    assert stopped.stopped and not stopped.splits
    assert study.summary(stopped)["splits"] == {}


def test_the_sweep_covers_every_share_and_the_varying_count_contrast():
    config = reduced(train_dialogues="100", epochs="8", eval_dialogues="30", sweep_seeds="2")
    s = study.summary(study.run(config, seed=3))
    runs = s["sweep"]["runs"]
    assert len(runs) == 2 * (len(study.SWEEP_SHARES) + 1)
    assert {row["seed"] for row in runs} == {3, 4}
    table = s["sweep"]["table"]
    assert [t["variant"] for t in table] == ["0%", "0.1%", "0.25%", "0.5%", "1%", "2%", "5%", study.CONTRAST]
    assert all(t["seeds"] == 2 and 0 <= t["seeds_cured"] <= 2 for t in table)
    assert table[0]["mean_redundant_rate"] >= 0.8  # share 0: the headline
    fig = figures.sweep_figure(s)
    assert fig.layout.title.text.startswith("Cure sweep") and len(fig.data) == 3
    assert len(figures.rates_figure(s).data) == 2


def test_config_rejects_settings_that_cannot_run():
    with pytest.raises(ParamError, match="must not exceed unknowns_max"):
        with_overrides(study.Config(), {"unknowns_min": "3"})
    with pytest.raises(ParamError, match="too much training"):
        with_overrides(study.Config(), {"train_dialogues": "10000", "epochs": "500", "hidden": "256"})
    with pytest.raises(ParamError, match="between 0 and 10"):
        with_overrides(study.Config(), {"sweep_seeds": "11"})


# ------------------------------------------------------------------------------------ CLI
def test_cli_prints_the_json_contract():
    out, err = io.StringIO(), io.StringIO()
    argv = ["experiment", "expressions", "--seed", "2", "--json"]
    for name, value in {**REDUCED, "train_dialogues": "300", "eval_dialogues": "50"}.items():
        argv += ["--set", f"{name}={value}"]
    assert cli.main(argv, out=out, err=err) == 0, err.getvalue()
    s = json.loads(out.getvalue())
    assert s["env"] == "expressions" and s["seed"] == 2 and s["config"]["train_dialogues"] == 300
    assert set(study.METRICS) <= set(s["splits"]["test"]["metrics"])


def test_cli_rejects_a_bad_setting_in_one_line():
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["experiment", "expressions", "--set", "zero_unknown_share=lots"], out=out, err=err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue().startswith("gmg: error: zero_unknown_share must be of type float")


# ------------------------------------------------------------------------------------ diagnosis
def test_the_mis_specified_examples_show_a_question_about_the_first_number_if_there_is_one():
    ex = task.parse("x + 3 + 2*y")
    dialogue = task.play(ex, np.full((1, task.LETTERS), 5), task.expert_asking_constant)
    assert task.transcript(dialogue, 0)[1:] == ["Model: What's x?", "User: x = 5", "Model: What's y?", "User: y = 5",
                                                "Model: What's 3?", "User: 3 is 3.", "Model: The answer is 18."]
    assert task.play(task.parse("x - y"), np.full((1, task.LETTERS), 5), task.expert_asking_constant).n_questions[0] == 2


def test_the_random_policy_only_asks_about_operands_and_sometimes_answers_at_once():
    ex = task.zero_unknown(np.random.default_rng(0), 400, 4)
    dialogues = task.play(ex, task.user_values(np.random.default_rng(1), 400), task.random_policy(np.random.default_rng(2)))
    at_once = (dialogues.n_questions == 0).mean()
    assert 0.1 < at_once < 0.5 and dialogues.answered.mean() > 0.9


def test_no_mis_specified_examples_leave_the_published_examples_unchanged(default_kind):
    again = study.run(reduced(constant_question_share="0"), seed=0)
    assert all(np.array_equal(default_kind.params[k], again.params[k]) for k in default_kind.params)


@pytest.mark.parametrize("preset, verdict", list(zip(study.DIAGNOSIS_PRESETS, (
    "goal_misgeneralization", "generalizes", "specification_gaming", "capability_failure"))))
def test_each_diagnosis_preset_gets_its_verdict(preset, verdict):
    from gmg import diagnose

    changes = {name: str(value) for name, value in study.DIAGNOSIS_PRESETS[preset].items()}
    if preset.startswith("Cured"):
        changes["zero_unknown_share"] = "0.02"  # 0.5% of 600 reduced examples would be 3
    run = study.run(reduced(**changes), seed=1)
    report = diagnose.verdict_report(study.summary(run), study.diagnose(run)[0])
    assert report["verdict"] == verdict
    assert_evidence_backs(report)
    # one decision per dialogue: nothing to discount, and the report says the counterfactual is not independent
    assert not report["verdict_flips"] and "not an independent measurement" in diagnose.explanation(report)
    json.dumps(jsonable(report), allow_nan=False)
