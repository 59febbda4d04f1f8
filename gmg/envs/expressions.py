"""Evaluating linear expressions (Shah et al. 2022, after DeepMind's Gopher prompt): a dialogue task, not RL.

Description
    The user gives a linear expression over small integers and named unknowns, such as
    `3*x + y - 2`. On each turn the model either asks about an operand of the expression ("What's
    x?"), and the user gives its value, or answers with the value of the expression, which ends
    the dialogue. Unknowns are single lowercase letters; numbers are whole numbers from 0 to
    `MAX_NUMBER`; the operators are `+`, `-` and `*` (linear: a term multiplies at most one
    unknown). The dialogue ends without an answer after `MAX_QUESTIONS` questions.

Goals
    Intended: ask only for what you need, that is each unknown once, then answer. Proxy: ask
    questions the way the training examples did: at least one, as many as they had.

Train and test
    Train: expert dialogues in which every expression has the same number of unknowns (2 by
    default). The expert asks about each unknown from left to right, then answers. With a fixed
    count, "fewer than 2 questions asked yet" and "an unknown is still unanswered" are true on
    exactly the same training turns, so the examples do not say which one the asking is about.
    Test: expressions with no unknowns (`6 + 2`), next to fresh ones of the training kind. The
    cure: a small share of zero-unknown dialogues among the examples (`zero_unknown_share`). A
    count of unknowns that varies from one example to the next (1 to 3) rules out "ask as many
    as the examples" but not "ask at least once": every such example still opens with a question.

What is learned and what is computed
    A learner (`gmg.agents.dialogue_policy`) learns the policy: on each turn, ask or answer, and
    which operand to ask about. The value of the answer is computed by `evaluate` from the values
    the dialogue obtained, so an answer is correct exactly when every unknown was asked about
    first: competence is never in doubt, only the questions are.

Tokens
    An expression is a row of token slots (`kind`, `value`): a number's value, an unknown's
    letter index (0 is `a`). Asking about an operand marks every slot holding the same token as
    asked, so a question about a constant leaves a trace in the state as any question does.

Example
    An expert training dialogue, with the user's values x = 4 and y = 1::

        User: Evaluate 3*x + y - 2
        Model: What's x?
        User: x = 4
        Model: What's y?
        User: y = 1
        Model: The answer is 11.

    A misgeneralized test dialogue: nothing needs asking, the model asks anyway, then answers::

        User: Evaluate 6 + 2
        Model: What's 6?
        User: 6 is 6.
        Model: The answer is 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..params import ParamError, param

# token kinds; PAD fills a row after its last token
PAD, NUMBER, NAME, PLUS, MINUS, TIMES = range(6)
OPERATOR_TEXT = {PLUS: "+", MINUS: "-", TIMES: "*"}
LETTERS = 26  # unknowns are a..z
MAX_NUMBER = 999  # the largest number a user may type (the generator uses 1..9)
MAX_CHARS = 80  # the longest expression a user may type
MAX_TERMS = 6  # the generator's cap on terms: 4 tokens each (sign, number, *, name) less the first sign
MAX_TOKENS = 4 * MAX_TERMS  # token slots of a row (a generated row uses at most 4 * MAX_TERMS - 1)
ANSWER = MAX_TOKENS  # the action "answer now"; actions 0..MAX_TOKENS-1 ask about that slot
MAX_QUESTIONS = MAX_TOKENS // 2 + 1  # every operand once, and one more
MAX_VALUE = 10**9  # cap on a typed expression's coefficients and constant, so int64 never overflows
EXAMPLE = "3*x + y - 2"


class ExpressionError(ParamError):
    """A typed expression that cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class TaskConfig:
    """What the example dialogues look like."""

    unknowns_min: int = param(2, "fewest unknowns in a training expression", 1, 4)
    unknowns_max: int = param(
        2, "most unknowns in a training expression; equal to unknowns_min (a fixed count) is the setting of "
           "the original prompt, a range such as 1-3 is itself a cure", 1, 4)
    zero_unknown_share: float = param(
        0.0, "share of training dialogues whose expression has no unknowns (the cure)", 0.0, 1.0)
    max_terms: int = param(4, "most terms in an expression (every expression has at least 2)", 2, MAX_TERMS)
    constant_question_share: float = param(
        0.0, "share of example dialogues in which the expert, once it knows the unknowns, also asks about the first "
             "constant: 0 as in the prompt; above 0 the examples themselves show the redundant question (the "
             "mis-specified variant)", 0.0, 1.0)

    def check(self) -> None:
        if self.unknowns_min > self.unknowns_max:
            raise ParamError(f"unknowns_min ({self.unknowns_min}) must not exceed unknowns_max ({self.unknowns_max})")
        if self.unknowns_max > self.max_terms:
            raise ParamError(f"unknowns_max ({self.unknowns_max}) must not exceed max_terms ({self.max_terms}): "
                             "each unknown takes a term")


# ------------------------------------------------------------------------------------ expressions
@dataclass
class Expressions(Batch):
    """A batch of linear expressions as token rows, with their linear form."""

    kind: np.ndarray  # (N, MAX_TOKENS) token kinds, PAD after the last token
    value: np.ndarray  # (N, MAX_TOKENS) a number's value, an unknown's letter index
    constant: np.ndarray  # (N,) the constant part
    coefficient: np.ndarray  # (N, LETTERS) the net coefficient of each letter

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def present(self) -> np.ndarray:
        """(N, LETTERS) letters that occur: the unknowns a dialogue needs to ask about."""
        names = self.kind == NAME
        present = np.zeros((len(self), LETTERS), dtype=bool)
        rows = np.nonzero(names)[0]
        present[rows, self.value[names]] = True
        return present

    def text(self, i: int) -> str:
        return render_tokens(self.kind[i], self.value[i])


def token_text(kind: int, value: int) -> str:
    if kind == NUMBER:
        return str(value)
    if kind == NAME:
        return chr(ord("a") + value)
    return OPERATOR_TEXT[kind]


def render_tokens(kinds, values) -> str:
    """Tokens as a person writes them: `3*x + y - 2`, `-x + 1`."""
    text = ""
    for kind, value in zip(kinds, values):
        if kind == PAD:
            break
        if kind in (PLUS, MINUS) and text:
            text += f" {OPERATOR_TEXT[kind]} "
        else:
            text += token_text(kind, value)
    return text


def generate(rng: np.random.Generator, n: int, unknowns_min: int, unknowns_max: int, max_terms: int,
             zero_unknown_share: float = 0.0) -> Expressions:
    """`n` random expressions: a count of unknowns uniform in [unknowns_min, unknowns_max] (0 with
    probability `zero_unknown_share`), 2..max_terms terms (at least one per unknown), in random
    order. A term is a number 1..9, an unknown `x`, or `c*x`; unknowns in one expression differ."""
    unknowns = rng.integers(unknowns_min, unknowns_max + 1, n)
    unknowns[rng.random(n) < zero_unknown_share] = 0
    terms = rng.integers(np.maximum(unknowns, 2), max_terms + 1)
    term = np.arange(max_terms)
    exists = term < terms[:, None]
    # the unknown terms are the first `unknowns` of a random order of the existing terms
    order = np.argsort(np.where(exists, rng.random((n, max_terms)), np.inf), axis=1)
    rank = np.argsort(order, axis=1)
    is_unknown = exists & (rank < unknowns[:, None])
    letter = np.argsort(rng.random((n, LETTERS)), axis=1)[:, :max_terms]  # distinct letters per row
    has_coefficient = ~is_unknown | (rng.random((n, max_terms)) < 0.5)
    number = rng.integers(1, 10, (n, max_terms))
    sign = np.where((term > 0) & (rng.random((n, max_terms)) < 0.5), -1, 1)

    # each term fills 4 slots (sign, number, *, name); absent parts are PAD, squeezed out below
    kind = np.full((n, max_terms, 4), PAD)
    value = np.zeros((n, max_terms, 4), dtype=np.int64)
    kind[..., 0] = np.where(exists & (term > 0), np.where(sign < 0, MINUS, PLUS), PAD)
    kind[..., 1] = np.where(exists & has_coefficient, NUMBER, PAD)
    value[..., 1] = number
    kind[..., 2] = np.where(is_unknown & has_coefficient, TIMES, PAD)
    kind[..., 3] = np.where(is_unknown, NAME, PAD)
    value[..., 3] = letter
    kind, value = kind.reshape(n, -1), value.reshape(n, -1)
    packed = np.argsort(kind == PAD, axis=1, kind="stable")
    rows = np.zeros((n, MAX_TOKENS), dtype=np.int64), np.zeros((n, MAX_TOKENS), dtype=np.int64)
    width = min(kind.shape[1], MAX_TOKENS)
    rows[0][:, :width] = np.take_along_axis(kind, packed, 1)[:, :width]
    rows[1][:, :width] = np.take_along_axis(value, packed, 1)[:, :width]
    rows[1][rows[0] == PAD] = 0

    signed = sign * np.where(has_coefficient, number, 1)
    constant = np.where(exists & ~is_unknown, signed, 0).sum(1)
    coefficient = np.zeros((n, LETTERS), dtype=np.int64)
    r, t = np.nonzero(is_unknown)
    coefficient[r, letter[r, t]] = signed[r, t]  # letters of one row differ: no collisions
    return Expressions(rows[0], rows[1], constant.astype(np.int64), coefficient)


def zero_unknown(rng: np.random.Generator, n: int, max_terms: int) -> Expressions:
    """Test expressions: 2..max_terms numbers, nothing to ask about (`6 + 2`)."""
    return generate(rng, n, 0, 0, max_terms)


# ------------------------------------------------------------------------------------ parser
_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_]\w*)|([-+*]))", re.ASCII)
_NOT_SUPPORTED = {"/": "division is not supported", "(": "parentheses are not supported",
                  ")": "parentheses are not supported", "=": "type only the expression, without '='",
                  ".": "only whole numbers are supported", "^": "powers are not supported"}


def parse(text) -> Expressions:
    """One typed expression as a batch of one; raises ExpressionError with a message for the user.

    Accepted: whole numbers 0..MAX_NUMBER, unknowns a..z, binary `+`, `-`, `*`, one leading sign,
    spaces; at most MAX_CHARS characters and MAX_TOKENS tokens; a term multiplies at most one
    unknown. The text is only matched against these tokens, never evaluated as Python.
    """
    if not isinstance(text, str):
        raise ExpressionError("the expression must be text")
    text = text.strip()
    if not text:
        raise ExpressionError(f"type an expression, for example {EXAMPLE}")
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"the expression is too long ({len(text)} characters; at most {MAX_CHARS})")
    tokens: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            at = len(text) - len(text[position:].lstrip())
            reason = _NOT_SUPPORTED.get(text[at], "use whole numbers, unknowns a-z, +, - and *")
            raise ExpressionError(f"unexpected character {text[at]!r} at position {at + 1}: {reason}")
        number, name, operator = match.groups()
        if number is not None:
            if len(number) > len(str(MAX_NUMBER)) or int(number) > MAX_NUMBER:
                raise ExpressionError(f"the number {number[:12]}{'...' if len(number) > 12 else ''} is too large: "
                                      f"numbers go up to {MAX_NUMBER}")
            tokens.append((NUMBER, int(number)))
        elif name is not None:
            if not re.fullmatch("[a-z]", name):
                raise ExpressionError(f"{name[:20]!r} is not an unknown: unknowns are single lowercase letters a-z")
            tokens.append((NAME, ord(name) - ord("a")))
        else:
            tokens.append(({"+": PLUS, "-": MINUS, "*": TIMES}[operator], 0))
        position = match.end()
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError(f"the expression has too many parts (at most {MAX_TOKENS} numbers, unknowns "
                                  "and operators)")
    return _linear_form(tokens)


def _linear_form(tokens: list[tuple[int, int]]) -> Expressions:
    """Check the grammar (operands and operators alternate) and sum the terms."""
    constant, coefficient = 0, [0] * LETTERS
    sign, product, letter = 1, 1, None
    expect_operand = True
    for i, (kind, value) in enumerate(tokens):
        shown = token_text(kind, value)
        if kind in (NUMBER, NAME):
            if not expect_operand:
                raise ExpressionError(f"an operator is missing between {token_text(*tokens[i - 1])} and {shown}"
                                      + (f" (write {token_text(*tokens[i - 1])}*{shown})" if kind == NAME else ""))
            if kind == NAME:
                if letter is not None:
                    raise ExpressionError(f"not linear: a term multiplies two unknowns ({chr(97 + letter)}*{shown})")
                letter = value
            else:
                product *= value
                if product > MAX_VALUE:
                    raise ExpressionError(f"a term is too large (more than {MAX_VALUE:,})")
            expect_operand = False
        elif expect_operand:
            if i == 0 and kind in (PLUS, MINUS):  # a leading sign
                sign = -1 if kind == MINUS else 1
                continue
            where = "start with" if i == 0 else f"follow {token_text(*tokens[i - 1])}"
            raise ExpressionError(f"{shown} cannot {where}: an operand (number or unknown) is missing")
        elif kind == TIMES:
            expect_operand = True
        else:  # + or - ends a term
            constant, coefficient = _add_term(constant, coefficient, sign * product, letter)
            sign, product, letter = (-1 if kind == MINUS else 1), 1, None
            expect_operand = True
    if expect_operand:
        raise ExpressionError(f"the expression ends with {token_text(*tokens[-1])}: an operand is missing")
    constant, coefficient = _add_term(constant, coefficient, sign * product, letter)
    kinds = np.full((1, MAX_TOKENS), PAD)
    values = np.zeros((1, MAX_TOKENS), dtype=np.int64)
    kinds[0, : len(tokens)] = [k for k, _ in tokens]
    values[0, : len(tokens)] = [v for _, v in tokens]
    return Expressions(kinds, values, np.array([constant], dtype=np.int64), np.array([coefficient], dtype=np.int64))


def _add_term(constant: int, coefficient: list[int], term: int, letter: int | None):
    if letter is None:
        constant += term
    else:
        coefficient[letter] += term
    if abs(constant) > MAX_VALUE or any(abs(c) > MAX_VALUE for c in coefficient):
        raise ExpressionError(f"the expression's value could exceed {MAX_VALUE:,}")
    return constant, coefficient


# ------------------------------------------------------------------------------------ evaluator
def evaluate(expressions: Expressions, values: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """(N,) value of each expression with the unknowns' `values` (N, LETTERS); with `known`, the
    unknown letters count as 0 (the part an answer can compute; see `linear_text` for the rest)."""
    values = values if known is None else np.where(known, values, 0)
    return expressions.constant + (expressions.coefficient * values).sum(1)


def linear_text(constant: int, coefficient) -> str:
    """A linear form as text, unknown terms first: `3*x - y + 7`, `8`."""
    parts = [(int(c), chr(ord("a") + i)) for i, c in enumerate(coefficient) if c]
    text = ""
    for c, name in parts:
        term = name if abs(c) == 1 else f"{abs(c)}*{name}"
        text += (f" {'-' if c < 0 else '+'} " if text else ("-" if c < 0 else "")) + term
    if not text:
        return str(int(constant))
    if constant:
        text += f" {'-' if constant < 0 else '+'} {abs(int(constant))}"
    return text


# ------------------------------------------------------------------------------------ dialogues
@dataclass
class DialogueState:
    """What the model sees before a turn: the expression, the slots already asked about, the turn."""

    expressions: Expressions
    asked: np.ndarray  # (N, MAX_TOKENS) bool: slots whose token was asked about
    turn: np.ndarray  # (N,) questions asked so far


@dataclass
class Dialogues:
    """A batch of finished dialogues."""

    expressions: Expressions
    values: np.ndarray  # (N, LETTERS) the user's values of the unknowns
    questions: np.ndarray  # (N, MAX_QUESTIONS) slot asked at each question, -1 after the last
    redundant: np.ndarray  # (N, MAX_QUESTIONS) the question was about a number or a token already asked
    answered: np.ndarray  # (N,) bool
    known: np.ndarray  # (N, LETTERS) letters asked about

    def __len__(self) -> int:
        return len(self.answered)

    @property
    def n_questions(self) -> np.ndarray:
        return (self.questions >= 0).sum(1)

    @property
    def complete(self) -> np.ndarray:
        """(N,) every unknown of the expression was asked about."""
        return ~(self.expressions.present & ~self.known).any(1)

    @property
    def correct(self) -> np.ndarray:
        """(N,) answered with the right value (computed from the obtained values: needs `complete`)."""
        return self.answered & self.complete


def user_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """The values the user gives for the unknowns: 0..9 for every letter."""
    return rng.integers(0, 10, (n, LETTERS))


def expert_policy(state: DialogueState) -> np.ndarray:
    """The examples' policy: ask about the leftmost unknown not yet asked about, else answer."""
    needed = (state.expressions.kind == NAME) & ~state.asked
    return np.where(needed.any(1), needed.argmax(1), ANSWER)


def expert_asking_constant(state: DialogueState) -> np.ndarray:
    """The mis-specified examples' policy: as the expert, but before answering it asks about the
    first constant once (if the expression has one)."""
    kind = state.expressions.kind
    needed = (kind == NAME) & ~state.asked
    constant = (kind == NUMBER) & ~((kind == NUMBER) & state.asked).any(1, keepdims=True)
    return np.where(needed.any(1), needed.argmax(1), np.where(constant.any(1), constant.argmax(1), ANSWER))


def play_examples(expressions: Expressions, values: np.ndarray, asks_constant: np.ndarray, trace: list) -> None:
    """The example dialogues: the expert's, or where `asks_constant`, expert_asking_constant's (turns into `trace`)."""
    for policy, rows in ((expert_policy, ~asks_constant), (expert_asking_constant, asks_constant)):
        play(expressions.rows(rows), values[rows], policy, trace)


def random_policy(rng: np.random.Generator):
    """A policy that learned nothing: each turn a uniformly random choice among asking about any
    operand slot and answering."""
    def policy(state: DialogueState) -> np.ndarray:
        operand = (state.expressions.kind == NUMBER) | (state.expressions.kind == NAME)
        choices = np.concatenate([operand, np.ones((len(operand), 1), dtype=bool)], 1)  # the last column: ANSWER
        return np.where(choices, rng.random(choices.shape), -1.0).argmax(1)
    return policy


def play(expressions: Expressions, values: np.ndarray, policy, trace: list | None = None) -> Dialogues:
    """Run `policy(state) -> actions` on every expression, turn by turn, all rows at once.

    With `trace` (a list), appends (state, actions) of every turn: the behaviour-cloning data.
    A question about an operand marks every slot holding the same token as asked.
    """
    n = len(expressions)
    asked = np.zeros((n, MAX_TOKENS), dtype=bool)
    questions = np.full((n, MAX_QUESTIONS), -1)
    redundant = np.zeros((n, MAX_QUESTIONS), dtype=bool)
    answered = np.zeros(n, dtype=bool)
    active = np.arange(n)
    for turn in range(MAX_QUESTIONS + 1):
        if not len(active):
            break
        state = DialogueState(expressions.rows(active), asked[active], np.full(len(active), turn))
        actions = np.asarray(policy(state))
        if trace is not None:
            trace.append((state, actions))
        answers = actions == ANSWER
        answered[active[answers]] = True
        if turn == MAX_QUESTIONS:
            break
        rows, slots = active[~answers], actions[~answers]
        kind, value = expressions.kind[rows], expressions.value[rows]
        asked_kind, asked_value = kind[np.arange(len(rows)), slots], value[np.arange(len(rows)), slots]
        if ((asked_kind != NUMBER) & (asked_kind != NAME)).any():
            raise ValueError("a policy asked about a slot that holds no operand")
        questions[rows, turn] = slots
        redundant[rows, turn] = (asked_kind == NUMBER) | asked[rows, slots]
        asked[rows] |= (kind == asked_kind[:, None]) & (value == asked_value[:, None])
        active = rows
    names = (expressions.kind == NAME) & asked
    known = np.zeros((n, LETTERS), dtype=bool)
    known[np.nonzero(names)[0], expressions.value[names]] = True
    return Dialogues(expressions, values, questions, redundant, answered, known)


def metrics(dialogues: Dialogues) -> dict[str, float]:
    """Per-dialogue rates (the JSON contract's four first, then details)."""
    kinds = np.take_along_axis(dialogues.expressions.kind, np.maximum(dialogues.questions, 0), 1)
    about_constant = (kinds == NUMBER) & (dialogues.questions >= 0)
    return {
        "redundant_question_rate": float(dialogues.redundant.any(1).mean()),
        "missing_question_rate": float((dialogues.answered & ~dialogues.complete).mean()),
        "answer_accuracy": float(dialogues.correct.mean()),
        "questions_per_dialogue": float(dialogues.n_questions.mean()),
        "constant_question_rate": float(about_constant.any(1).mean()),
        "redundant_questions_per_dialogue": float(dialogues.redundant.sum(1).mean()),
        "no_answer_rate": float((~dialogues.answered).mean()),
    }


def transcript(dialogues: Dialogues, i: int) -> list[str]:
    """One dialogue as text lines: "User: Evaluate ...", "Model: What's x?", "User: x = 4", ..."""
    ex = dialogues.expressions
    lines = [f"User: Evaluate {ex.text(i)}"]
    for slot in dialogues.questions[i][dialogues.questions[i] >= 0]:
        kind, value = ex.kind[i, slot], ex.value[i, slot]
        shown = token_text(kind, value)
        lines.append(f"Model: What's {shown}?")
        reply = f"{shown} is {shown}." if kind == NUMBER else f"{shown} = {dialogues.values[i, value]}"
        lines.append(f"User: {reply}")
    if not dialogues.answered[i]:
        lines.append(f"(no answer after {MAX_QUESTIONS} questions)")
        return lines
    known = dialogues.known[i]
    value = evaluate(ex.rows(slice(i, i + 1)), dialogues.values[i : i + 1], known[None])[0]
    unknown = np.where(known, 0, ex.coefficient[i])
    lines.append(f"Model: The answer is {linear_text(value, unknown)}.")
    return lines
