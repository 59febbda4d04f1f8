"""A dialogue policy learned by behaviour cloning: numpy, in-process, no reinforcement learning.

The policy decides each turn of an expressions dialogue (`gmg.envs.expressions`): ask about an
operand ("What's x?") or answer. It is factored the way a language model writes the reply: a
*mode* head first chooses between "What's ..." and "The answer is ...", then a *pointer* head
chooses the operand to ask about. Nothing about unknowns is written in; both heads are fitted by
cross-entropy to the expert's turns (the pointer on asking turns only).

What the model sees (`features`)
    Each token slot: its kind (number, unknown, +, -, *), its identity (the digit 0..9, "a
    number of 10 or more", or the letter), whether it was asked about, and its position. So it
    can see whether an expression has unknowns, which, and which were asked about; a question
    about a constant marks that constant's slots as asked, like any question. Besides the slots:
    the turn (questions asked so far).

Network
    A slot encoder shared by every slot (one ReLU layer). The pointer scores each slot linearly
    from its encoding; a masked softmax over the operand slots (operators cannot be asked
    about). The mode head is an MLP over the sum of the slot encodings (so counts of kinds of
    slots are at hand) and the turn. Fitted with Adam (decoupled weight decay), minibatches.

What is learned and what is computed
    Learned: the ask/answer decision and the choice of operand. Computed, not learned: the
    answer's value, from the values the dialogue obtained (`gmg.envs.expressions.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..envs.expressions import ANSWER, MAX_TOKENS, NAME, NUMBER, PAD, TIMES, DialogueState, LETTERS
from ..params import param

KINDS = TIMES  # one-hot columns for the non-PAD kinds NUMBER..TIMES
IDENTITIES = 11 + LETTERS  # the digits 0..9, "10 or more", the letters
SLOT_FEATURES = KINDS + IDENTITIES + 2  # + asked + position
TURN_BUCKETS = 8  # turns 0..6 one-hot, 7 and more share the last column
POOL_SCALE = 1 / 8  # sum-pooled slot encodings, scaled to a typical row's token count
ADAM_BETAS = (0.9, 0.999)


@dataclass(frozen=True)
class DialoguePolicyConfig:
    hidden: int = param(32, "units of the slot encoder and of the mode head's hidden layer", 4, 256)
    epochs: int = param(40, "passes over the expert turns", 1, 500)
    batch_size: int = param(128, "expert turns per gradient step", 8, 4096)
    learning_rate: float = param(3e-3, "Adam step size", 1e-5, 0.1)
    weight_decay: float = param(1e-4, "decoupled weight decay per step, relative to the step size", 0.0, 0.1)


@dataclass
class Features(Batch):
    slots: np.ndarray  # (N, S, SLOT_FEATURES) float32, S = the longest row of the batch
    real: np.ndarray  # (N, S) slots holding a token
    operand: np.ndarray  # (N, S) slots that can be asked about
    turn: np.ndarray  # (N, TURN_BUCKETS) float32 one-hot


def features(state: DialogueState, width: int | None = None) -> Features:
    """The model's view of a batch of dialogue states; `width` slots (default: the longest row)."""
    kind = state.expressions.kind
    if width is None:
        width = max(int((kind != PAD).sum(1).max(initial=1)), 1)
    kind, value, asked = kind[:, :width], state.expressions.value[:, :width], state.asked[:, :width]
    n = len(kind)
    slots = np.zeros((n, width, SLOT_FEATURES), dtype=np.float32)
    real = kind != PAD
    r, s = np.nonzero(real)
    slots[r, s, kind[r, s] - 1] = 1
    identity = np.where(kind == NUMBER, np.minimum(value, 10), 11 + value)
    slots[r, s, KINDS + identity[r, s]] = 1
    slots[..., -2] = asked
    slots[..., -1] = np.arange(width) / MAX_TOKENS * real
    turn = np.zeros((n, TURN_BUCKETS), dtype=np.float32)
    turn[np.arange(n), np.minimum(state.turn, TURN_BUCKETS - 1)] = 1
    return Features(slots, real, real & ((kind == NUMBER) | (kind == NAME)), turn)


def init_params(hidden: int, rng: np.random.Generator, dtype=np.float32) -> dict[str, np.ndarray]:
    def he(fan_in, *shape):
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(dtype)

    return {
        "slot_w": he(SLOT_FEATURES, SLOT_FEATURES, hidden), "slot_b": np.zeros(hidden, dtype),
        "point_w": he(hidden, hidden),
        "mode_w": he(hidden + TURN_BUCKETS, hidden + TURN_BUCKETS, hidden), "mode_b": np.zeros(hidden, dtype),
        "ask_w": he(hidden, hidden), "ask_b": np.zeros((), dtype),
    }


def forward(params: dict, x: Features):
    """(ask logit (N,), pointer scores (N, S) with non-operands at -inf, cache for `gradients`)."""
    pre = x.slots @ params["slot_w"] + params["slot_b"]
    encoded = np.maximum(pre, 0) * x.real[..., None]
    context = np.concatenate([encoded.sum(1) * POOL_SCALE, x.turn], axis=1)
    mode_hidden = np.maximum(context @ params["mode_w"] + params["mode_b"], 0)
    ask_logit = mode_hidden @ params["ask_w"] + params["ask_b"]
    scores = np.where(x.operand, encoded @ params["point_w"], -np.inf)
    return ask_logit, scores, (encoded, context, mode_hidden)


def loss_and_gradients(params: dict, x: Features, actions: np.ndarray):
    """Mean cross-entropy of the mode head on every turn plus the pointer's on asking turns."""
    ask_logit, scores, (encoded, context, mode_hidden) = forward(params, x)
    n = len(actions)
    asks = actions != ANSWER
    p_ask = 1 / (1 + np.exp(-ask_logit))
    mode_loss = np.logaddexp(0, np.where(asks, -ask_logit, ask_logit)).mean()
    d_ask = ((p_ask - asks) / n).astype(encoded.dtype)
    n_asks = max(int(asks.sum()), 1)
    log_p = scores - scores.max(1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(1, keepdims=True))
    target = np.where(asks, actions, 0)
    point_loss = -(log_p[np.arange(n), target] * asks).sum() / n_asks
    d_scores = np.exp(log_p)
    d_scores[np.arange(n), target] -= 1
    d_scores *= (asks / n_asks)[:, None]

    grads = {"ask_w": mode_hidden.T @ d_ask, "ask_b": d_ask.sum()}
    d_mode_hidden = np.outer(d_ask, params["ask_w"]) * (mode_hidden > 0)
    grads["mode_w"] = context.T @ d_mode_hidden
    grads["mode_b"] = d_mode_hidden.sum(0)
    d_pooled = (d_mode_hidden @ params["mode_w"].T)[:, : encoded.shape[2]] * POOL_SCALE
    grads["point_w"] = np.einsum("nsh,ns->h", encoded, d_scores)
    d_encoded = (d_scores[..., None] * params["point_w"] + d_pooled[:, None, :]) * (encoded > 0)
    flat = d_encoded.reshape(-1, d_encoded.shape[2])
    grads["slot_w"] = x.slots.reshape(-1, x.slots.shape[2]).T @ flat
    grads["slot_b"] = flat.sum(0)
    return float(mode_loss + point_loss), grads


def act(params: dict, state: DialogueState) -> np.ndarray:
    """Greedy actions: ANSWER, or the operand slot with the highest pointer score."""
    ask_logit, scores, _ = forward(params, features(state))
    return np.where(ask_logit > 0, scores.argmax(1), ANSWER)


@dataclass
class FitResult:
    params: dict[str, np.ndarray]
    losses: list[float]  # mean training loss per epoch done
    stopped: bool


def fit(config: DialoguePolicyConfig, trace: list, rng: np.random.Generator, on_epoch=None, stop=None) -> FitResult:
    """Behaviour cloning on `trace`, the (state, expert actions) pairs of `gmg.envs.expressions.play`.

    on_epoch(epoch, loss) after each pass; a set `stop` event ends early (`stopped`)."""
    width = max(int((state.expressions.kind != PAD).sum(1).max(initial=1)) for state, _ in trace)
    parts = [features(state, width) for state, _ in trace]
    x = Features.concat(parts)
    actions = np.concatenate([a for _, a in trace])
    params = init_params(config.hidden, rng)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    b1, b2 = ADAM_BETAS
    steps, losses = 0, []
    for epoch in range(config.epochs):
        if stop is not None and stop.is_set():
            return FitResult(params, losses, True)
        order = rng.permutation(len(actions))
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            loss, grads = loss_and_gradients(params, x.rows(batch), actions[batch])
            total += loss * len(batch)
            steps += 1
            for name, grad in grads.items():
                m, v = moments[name]
                m += (1 - b1) * (grad - m)
                v += (1 - b2) * (grad * grad - v)
                step = m / (1 - b1**steps) / (np.sqrt(v / (1 - b2**steps)) + 1e-8)
                params[name] -= config.learning_rate * (step + config.weight_decay * params[name])
        losses.append(total / len(order))
        if on_epoch is not None:
            on_epoch(epoch, losses[-1])
    return FitResult(params, losses, False)
