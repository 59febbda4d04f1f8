"""The expressions task: generator, parser, evaluator, dialogues, and the docstring's examples."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gmg.envs import expressions as task
from gmg.envs.expressions import ANSWER, MAX_QUESTIONS, NAME, NUMBER, PAD, ExpressionError
from gmg.params import ParamError, with_overrides


def generate(seed=0, n=500, low=2, high=2, max_terms=4, share=0.0):
    return task.generate(np.random.default_rng(seed), n, low, high, max_terms, share)


def unknown_counts(expressions):
    return expressions.present.sum(1)


# ------------------------------------------------------------------------------------ generator
def test_generator_same_seed_same_expressions_and_different_seeds_differ():
    a, b, c = generate(0), generate(0), generate(1)
    for name in ("kind", "value", "constant", "coefficient"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.value, c.value)


@pytest.mark.parametrize("low, high, max_terms", [(2, 2, 4), (1, 3, 4), (4, 4, 6), (1, 1, 2)])
def test_every_training_expression_has_the_configured_unknowns_and_terms(low, high, max_terms):
    ex = generate(n=2000, low=low, high=high, max_terms=max_terms)
    counts = unknown_counts(ex)
    assert counts.min() == low and counts.max() == high
    # unknowns in one expression differ: as many NAME tokens as distinct letters
    assert np.array_equal((ex.kind == NAME).sum(1), counts)
    terms = 1 + np.isin(ex.kind, (task.PLUS, task.MINUS)).sum(1)
    assert terms.min() == max(low, 2) and terms.max() == max_terms
    assert (ex.kind[:, -1] == PAD).all()  # a generated row never fills every slot
    assert ex.value[(ex.kind == NUMBER)].min() >= 1 and ex.value[(ex.kind == NUMBER)].max() <= 9


def test_zero_unknown_share_mixes_in_expressions_without_unknowns():
    ex = generate(n=4000, share=0.05)
    zero = unknown_counts(ex) == 0
    assert 0.03 < zero.mean() < 0.07
    assert (unknown_counts(ex)[~zero] == 2).all()
    assert (unknown_counts(generate(n=200, share=1.0)) == 0).all()


def test_zero_unknown_test_expressions_are_numbers_only():
    ex = task.zero_unknown(np.random.default_rng(3), 500, 4)
    assert not (ex.kind == NAME).any()
    assert ((ex.kind == NUMBER).sum(1) >= 2).all()
    assert (ex.coefficient == 0).all()


def test_generated_text_parses_back_to_the_same_tokens_and_linear_form():
    ex = generate(n=300, low=1, high=4, max_terms=6, share=0.1)
    for i in range(len(ex)):
        back = task.parse(ex.text(i))
        assert np.array_equal(back.kind[0], ex.kind[i]) and np.array_equal(back.value[0], ex.value[i])
        assert back.constant[0] == ex.constant[i]
        assert np.array_equal(back.coefficient[0], ex.coefficient[i])


# ------------------------------------------------------------------------------------ parser
@pytest.mark.parametrize("text, constant, coefficients", [
    ("3*x + y - 2", -2, {"x": 3, "y": 1}),
    ("  6 + 2 ", 8, {}),
    ("-x + 1", 1, {"x": -1}),
    ("+4", 4, {}),
    ("2*3*x - 4*y", 0, {"x": 6, "y": -4}),
    ("x*5 - x", 0, {"x": 4}),
    ("0", 0, {}),
    ("999 - 1", 998, {}),
    ("a-b-c", 0, {"a": 1, "b": -1, "c": -1}),
])
def test_parser_reads_linear_expressions(text, constant, coefficients):
    ex = task.parse(text)
    assert ex.constant[0] == constant
    assert {chr(97 + i): int(c) for i, c in enumerate(ex.coefficient[0]) if c} == coefficients


@pytest.mark.parametrize("text, message", [
    ("", "type an expression"),
    ("   ", "type an expression"),
    ("1" * 10_000, "too long (10000 characters; at most 80)"),
    ("NaN", "'NaN' is not an unknown"),
    ("__import__('os')", "'__import__' is not an unknown"),
    ("1/0", "division is not supported"),
    ("(x + 1)", "parentheses are not supported"),
    ("x = 3", "without '='"),
    ("1.5 + x", "only whole numbers"),
    ("x²", "unexpected character '²'"),
    ("６ + 2", "unexpected character '６'"),  # a fullwidth digit is not a number here
    ("é", "unexpected character 'é'"),
    ("\x00", "unexpected character '\\x00'"),
    ("X + 1", "single lowercase letters"),
    ("foo + 1", "'foo' is not an unknown"),
    ("2x", "an operator is missing between 2 and x (write 2*x)"),
    ("3 4", "an operator is missing between 3 and 4"),
    ("x*y", "not linear"),
    ("2*x*3*y", "not linear"),
    ("3 +", "ends with +"),
    ("* 3", "* cannot start with"),
    ("3 + + 4", "+ cannot follow +"),
    ("--3", "- cannot follow -"),
    ("1000", "too large: numbers go up to 999"),
    ("123456789012345678901234567890", "too large"),
    ("999*999*999*999", "too large"),
    ("1+" * 12 + "1", "too many parts"),
])
def test_parser_rejects_bad_input_with_a_message(text, message):
    with pytest.raises(ExpressionError) as info:
        task.parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ParamError)  # the UI's and the CLI's error handling applies


def test_parser_rejects_text_that_is_not_a_string():
    with pytest.raises(ExpressionError, match="must be text"):
        task.parse(None)


def test_the_longest_accepted_expression_fills_every_slot():
    text = "+" + "+".join("123456abcdef")  # a sign, 12 operands, 11 operators: 24 tokens
    ex = task.parse(text)
    assert (ex.kind != PAD).all()


# ------------------------------------------------------------------------------------ evaluator
def test_evaluate_and_the_partial_form_of_an_answer():
    ex = task.parse("3*x + y - 2")
    values = np.zeros((1, task.LETTERS), dtype=np.int64)
    values[0, [23, 24]] = 4, 1
    assert task.evaluate(ex, values)[0] == 11
    known = np.zeros((1, task.LETTERS), dtype=bool)
    known[0, 23] = True
    assert task.evaluate(ex, values, known)[0] == 10  # y counts as 0: the computable part
    assert task.linear_text(10, np.where(known[0], 0, ex.coefficient[0])) == "y + 10"
    assert task.linear_text(-2, ex.coefficient[0]) == "3*x + y - 2"
    assert task.linear_text(0, [-1] + [0] * 25) == "-a"
    assert task.linear_text(-7, [0] * 26) == "-7"


# ------------------------------------------------------------------------------------ dialogues
def values_for(**letters):
    values = np.zeros((1, task.LETTERS), dtype=np.int64)
    for name, value in letters.items():
        values[0, ord(name) - 97] = value
    return values


def scripted(*actions):
    """A policy that plays `actions` (slots or ANSWER) turn by turn, on a batch of one."""
    return lambda state: np.array([actions[min(int(state.turn[0]), len(actions) - 1)]])


def docstring_dialogues() -> list[list[str]]:
    blocks = re.findall(r"((?:^ {8}(?:User|Model): .*\n)+)", task.__doc__, flags=re.M)
    return [[line.strip() for line in block.splitlines()] for block in blocks]


def test_docstring_examples_are_what_the_code_produces():
    expert, misgeneralized = docstring_dialogues()
    played = task.play(task.parse("3*x + y - 2"), values_for(x=4, y=1), task.expert_policy)
    assert task.transcript(played, 0) == expert
    redundant = task.play(task.parse("6 + 2"), values_for(), scripted(0, ANSWER))
    assert task.transcript(redundant, 0) == misgeneralized
    assert task.metrics(redundant)["redundant_question_rate"] == 1.0


def test_expert_asks_each_unknown_once_left_to_right_then_answers_correctly():
    ex = generate(n=1000, low=1, high=4, max_terms=5, share=0.1)
    values = task.user_values(np.random.default_rng(1), len(ex))
    trace = []
    dialogues = task.play(ex, values, task.expert_policy, trace)
    assert np.array_equal(dialogues.n_questions, unknown_counts(ex))
    assert dialogues.correct.all() and not dialogues.redundant.any()
    assert task.metrics(dialogues) == {
        "redundant_question_rate": 0.0, "missing_question_rate": 0.0, "answer_accuracy": 1.0,
        "questions_per_dialogue": float(unknown_counts(ex).mean()), "constant_question_rate": 0.0,
        "redundant_questions_per_dialogue": 0.0, "no_answer_rate": 0.0}
    first = dialogues.questions[:, 0]
    asked_rows = first >= 0
    assert (first[asked_rows] == (ex.kind == NAME).argmax(1)[asked_rows]).all()  # the leftmost unknown first
    # the trace holds one (state, actions) per turn, every dialogue's turns once
    assert sum(len(actions) for _, actions in trace) == len(ex) + unknown_counts(ex).sum()


def test_answering_without_asking_is_a_missing_question():
    dialogues = task.play(task.parse("2*x + 1"), values_for(x=3), scripted(ANSWER))
    assert task.transcript(dialogues, 0)[-1] == "Model: The answer is 2*x + 1."
    m = task.metrics(dialogues)
    assert m["missing_question_rate"] == 1.0 and m["answer_accuracy"] == 0.0


def test_asking_the_same_unknown_twice_is_redundant_and_marks_every_slot_with_it():
    ex = task.parse("x + 3 + x")
    dialogues = task.play(ex, values_for(x=5), scripted(0, 4, ANSWER))
    assert dialogues.redundant[0, :2].tolist() == [False, True]
    assert dialogues.correct[0] and task.transcript(dialogues, 0)[-1] == "Model: The answer is 13."
    state_trace = []
    task.play(ex, values_for(x=5), scripted(0, ANSWER), state_trace)
    assert state_trace[1][0].asked[0, :5].tolist() == [True, False, False, False, True]


def test_a_policy_that_never_answers_ends_without_an_answer():
    dialogues = task.play(task.parse("6 + 2"), values_for(), scripted(0))
    assert dialogues.n_questions[0] == MAX_QUESTIONS
    m = task.metrics(dialogues)
    assert m["no_answer_rate"] == 1.0 and m["answer_accuracy"] == 0.0
    assert task.transcript(dialogues, 0)[-1] == f"(no answer after {MAX_QUESTIONS} questions)"


def test_asking_about_an_operator_is_refused():
    with pytest.raises(ValueError, match="no operand"):
        task.play(task.parse("6 + 2"), values_for(), scripted(1))


# ------------------------------------------------------------------------------------ config
def test_task_config_checks_its_ranges():
    with pytest.raises(ParamError, match="must not exceed unknowns_max"):
        with_overrides(task.TaskConfig(), {"unknowns_min": "3"})
    with pytest.raises(ParamError, match="must not exceed max_terms"):
        with_overrides(task.TaskConfig(), {"unknowns_max": "4", "max_terms": "3"})
    with pytest.raises(ParamError, match="between 0.0 and 1.0"):
        with_overrides(task.TaskConfig(), {"zero_unknown_share": "1.5"})
