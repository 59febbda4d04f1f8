"""A general learner on the raw observation: PPO with separate actor and critic MLPs, in numpy.

Why this learner: it sees only what every episodic world offers as `raw_observation` (one-hot
grid channels, one per kind of thing, plus a few carried scalars), never the hand-made,
goal-named features the linear agents read, and it contains nothing specific to a world. Whatever
goal it pursues at test is what training made of raw pixels-like input, as with the papers' agents.

Observation: the grid cropped around the agent (the channel named "agent", first by contract) so
that the whole grid is always in view (side 2H-1; cells off the grid read 0 in every channel),
without the agent channel itself, plus one-hot of the agent's row and column (where the edges
are) and the scalars. An egocentric view lets "an object one step to the right" mean the same
input wherever the agent stands: the quick probes (docs/neural-learner.md) found the full,
non-centred grid much slower to learn.

Memory (`memory`, default none): a policy that sees only the current grid has no way to tell which
way along a corridor it was going, and in mazes it falls into stepping back and forth (the 400k maze
agent does so on 41% of the steps of its failed training episodes: docs/neural-learner.md, "Session 5").
With memory="last_move" the input also holds the direction of its last step (up, down, left, right,
stayed; "episode start" before the first): one step of memory, read off the agent channel, reset when
an episode starts (`end_episodes`, `begin_episodes`). What the probes draw (`action_values`, the policy
field) is the policy at an episode's start.

Networks: actor and critic are separate MLPs, input -> 128 -> LayerNorm -> ReLU -> 128 ->
LayerNorm -> ReLU -> 5 logits / 1 value. A shared torso collapsed in the probes: the value loss
on unnormalised returns swamped the policy gradient.

Learning: PPO (clipped surrogate, GAE, advantages normalised per minibatch, entropy bonus) on
rollouts of `rollout_steps` batched steps. Truncation at a time limit bootstraps from the value
of the true next state (the trainer says which rows ended through `end_episodes`).

Exploration: on-policy PPO can settle on "do nothing" before it ever meets a rare reward (the coin
world: a random walk finds the coin in 2% of levels and dies in 57%; the probes saw PPO learn to
stay put within 50k steps, and an entropy bonus of 0.05-0.2 did not help). So while training, the
reward gets a novelty bonus: `novelty_bonus` for entering a cell (read off the agent channel) the
agent has not entered yet in this episode (an episodic visit count, as in Go-Explore / NGU). It
pays for crossing the level, not for finding anything in particular, and it falls linearly to
`novelty_floor` (default 0) over the first `explore_share` of training, so the rest of training
sees the world's own reward. A floor of 0.1 (a bonus that never fades) made 2% randomised coin
levels cure the coin failure at 800k steps but cost the keys world its training competence (the
bonus is in reward units; docs/neural-learner.md, "Session 2"), so the default stays 0.

Actions are drawn from the policy, in training and when evaluated.

Speed (numpy on one core; docs/neural-learner.md, "Session 2"): the encoded input is mostly zeros
(coin: ~10 nonzero of 2,186 inputs), so the first layers of actor and critic, side by side in one
(D, 2h) block, are applied by gathering the rows of the nonzero inputs, and their weight gradient is
one product over the inputs nonzero somewhere in the minibatch; the critic's values of a rollout
are kept from acting (the parameters change only after the rollout); Adam runs on one flat vector
of every parameter. Two PPO epochs at a doubled step size learn as four did, in about half the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import param
from .base import Agent

LN_EPS = 1e-5
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


@dataclass(frozen=True)
class NeuralConfig:
    hidden: int = param(128, "units in each of the two hidden layers of the actor and of the critic", 8, 512)
    learning_rate: float = param(6e-4, "Adam step size at the start; it decays linearly to 0 by the end", 1e-6, 1e-1)
    gamma: float = param(0.98, "discount factor", 0.0, 0.999)
    gae_lambda: float = param(0.9, "GAE lambda: how far advantages look ahead", 0.0, 1.0)
    rollout_steps: int = param(16, "batched steps per rollout (one PPO update per rollout)", 1, 512)
    epochs: int = param(2, "passes over each rollout", 1, 32)
    minibatches: int = param(8, "minibatches per pass", 1, 256)
    clip: float = param(0.2, "PPO clip range of the probability ratio", 0.01, 1.0)
    entropy: float = param(0.01, "weight of the entropy bonus", 0.0, 1.0)
    max_grad_norm: float = param(10.0, "clip each network's gradient to this global norm", 0.01, 1000.0)
    explore_share: float = param(0.3, "the novelty bonus falls linearly to 0 over this share of training", 0.001, 1.0)
    novelty_bonus: float = param(
        0.1, "while training, reward added for entering a cell not yet visited in the episode (annealed)", 0.0, 10.0
    )
    novelty_floor: float = param(
        0.0, "the novelty bonus falls from novelty_bonus to this over explore_share, then stays", 0.0, 10.0
    )
    memory: str = param(
        "none", "what the network is told of the episode so far: none (the current observation only); last_move, "
        "also the direction of its last step (up, down, left, right, stayed; none at an episode's start): one step "
        "of memory, which breaks the back-and-forth a memoryless policy falls into in mazes", choices=("none", "last_move"),
    )
    view: str = param(
        "egocentric", "how the grid is laid out for the network: egocentric, cropped around the agent (the same "
        "input means the same thing wherever the agent stands); grid, as the world is (the ablation: same "
        "training, another representation)", choices=("egocentric", "grid"),
    )


# ------------------------------------------------------------------ numpy MLP (float32)
def mlp_init(rng: np.random.Generator, prefix: str, sizes: list[int], out_scale: float) -> dict[str, np.ndarray]:
    """Weights of an MLP with LayerNorm + ReLU after each hidden layer; the last layer scaled by out_scale."""
    params = {}
    layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        scale = (out_scale if i == layers - 1 else np.sqrt(2.0)) / np.sqrt(n_in)
        params[f"{prefix}.w{i}"] = (rng.standard_normal((n_in, n_out)) * scale).astype(np.float32)
        params[f"{prefix}.b{i}"] = np.zeros(n_out, dtype=np.float32)
        if i < layers - 1:
            params[f"{prefix}.g{i}"] = np.ones(n_out, dtype=np.float32)
            params[f"{prefix}.beta{i}"] = np.zeros(n_out, dtype=np.float32)
    return params


def mlp_forward(p: dict, prefix: str, x: np.ndarray, layers: int = 3, z0: np.ndarray | None = None):
    """Output (N, out) and the cache the backward pass needs. `z0`: x @ w0 computed already (the
    agent computes the first layers of actor and critic in one product)."""
    cache = []
    h = x
    for i in range(layers):
        if i == 0:
            z = (first_layer(x, p[f"{prefix}.w0"]) if z0 is None else z0) + p[f"{prefix}.b0"]
        else:
            z = h @ p[f"{prefix}.w{i}"] + p[f"{prefix}.b{i}"]
        if i == layers - 1:
            cache.append((h,))
            return z, cache
        mu = z.mean(1, keepdims=True)
        zc = z - mu
        rstd = 1.0 / np.sqrt((zc * zc).mean(1, keepdims=True) + LN_EPS)
        zhat = zc * rstd
        y = zhat * p[f"{prefix}.g{i}"] + p[f"{prefix}.beta{i}"]
        cache.append((h, zhat, rstd, y > 0))
        h = np.maximum(y, 0)
    raise AssertionError("unreachable")


def mlp_backward(p: dict, prefix: str, cache: list, dout: np.ndarray, first_weight: bool = True):
    """Gradients of every weight given d(loss)/d(output); no gradient for the input. With
    first_weight=False the first weight's gradient is left out and (grads, d(loss)/d(x @ w0)) returned."""
    grads = {}
    layers = len(cache)
    d = dout
    for i in reversed(range(layers)):
        h = cache[i][0]
        if i < layers - 1:
            _, zhat, rstd, on = cache[i]
            dy = d * on
            grads[f"{prefix}.g{i}"] = (dy * zhat).sum(0)
            grads[f"{prefix}.beta{i}"] = dy.sum(0)
            dzhat = dy * p[f"{prefix}.g{i}"]
            d = rstd * (dzhat - dzhat.mean(1, keepdims=True) - zhat * (dzhat * zhat).mean(1, keepdims=True))
        if i > 0 or first_weight:
            grads[f"{prefix}.w{i}"] = h.T @ d
        grads[f"{prefix}.b{i}"] = d.sum(0)
        if i > 0:
            d = d @ p[f"{prefix}.w{i}"].T
    return grads if first_weight else (grads, d)


def sparse_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero entries of each row of x (N, D): column indices (N, K) and values (N, K), K the
    largest count of a row; shorter rows are padded with index 0 and value 0."""
    rows, cols = np.nonzero(x)
    counts = np.bincount(rows, minlength=len(x))
    k = max(1, int(counts.max(initial=0)))
    pos = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    idx, val = np.zeros((len(x), k), np.intp), np.zeros((len(x), k), np.float32)
    idx[rows, pos] = cols
    val[rows, pos] = x[rows, cols]
    return idx, val


def first_layer(x: np.ndarray, w: np.ndarray, sparse: tuple | None = None) -> np.ndarray:
    """x @ w. The raw observation is mostly zeros (coin: ~10 nonzero of 2,186 inputs), so where a
    row has few nonzeros the product gathers the rows of w they select (the same sum, up to rounding)."""
    idx, val = sparse if sparse is not None else sparse_rows(x)
    if 4 * idx.shape[1] >= w.shape[0]:
        return x @ w
    return np.einsum("nk,nkh->nh", val, w[idx])


def agent_cells(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the agent in each (C, H, W) grid of the batch: the cell of channel 0."""
    where = grid[:, 0].reshape(len(grid), -1).argmax(1)
    return where // grid.shape[3], where % grid.shape[3]


LAST_MOVES = ("episode start", "up", "down", "left", "right", "stayed")


def last_move_one_hot(row: np.ndarray, col: np.ndarray, last_cells: np.ndarray | None) -> np.ndarray:
    """(B, len(LAST_MOVES)) float32: which way the agent moved from `last_cells` ((B, 2), -1: the episode's start) to
    (row, col); a step into a wall reads "stayed"."""
    code = np.zeros(len(row), np.intp)
    if last_cells is not None:
        d_row, d_col = row - last_cells[:, 0], col - last_cells[:, 1]
        code = np.select([last_cells[:, 0] < 0, d_row < 0, d_row > 0, d_col < 0, d_col > 0], [0, 1, 2, 3, 4], 5)
    one_hot = np.zeros((len(row), len(LAST_MOVES)), np.float32)
    one_hot[np.arange(len(row)), code] = 1.0
    return one_hot


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


class NeuralAgent(Agent):
    name = "neural"
    title = "Neural network on raw observations (PPO)"
    Config = NeuralConfig
    observation = "raw"
    representation = ("view", ("egocentric", "grid"))

    def __init__(self, env, config=None, rng=None):
        super().__init__(env, config, rng)
        rng = rng if rng is not None else np.random.default_rng(0)
        # its own stream for minibatch shuffling, drawn once from the caller's generator
        self.rng = np.random.default_rng(rng.integers(2**63))
        sample = env.raw_observation(env.reset(np.random.default_rng(0), 1, "train"))
        self.n_inputs = self.encode(sample).shape[1]
        h, n_actions = self.config.hidden, env.n_actions
        self.params = {
            **mlp_init(rng, "actor", [self.n_inputs, h, h, n_actions], 0.01),
            **mlp_init(rng, "critic", [self.n_inputs, h, h, 1], 1.0),
        }
        self._flat: np.ndarray | None = None
        self._first_weights()
        self.adam = (np.zeros_like(self._flat), np.zeros_like(self._flat))  # Adam's moments, laid out as _flat
        self.adam_steps = 0
        self.lr = self.config.learning_rate
        self.bonus = self.config.novelty_bonus
        self.visited: np.ndarray | None = None  # (B, H, W) cells the agent entered this episode
        self.buffer: list[dict] = []
        self.acted: dict | None = None
        self.next_obs: dict | None = None  # the last step's next observation, until the trainer resets rows
        # memory="last_move": (B, 2) where the agent stood when it last acted, -1 for a row whose episode starts
        # (None: every row starts); the probes (action_values, state_values) see every row at its start
        self.last_cells: np.ndarray | None = None

    # -------------------------------------------------------------- observation
    def encode(self, obs: dict, last_cells: np.ndarray | None = None) -> np.ndarray:
        """(B, D) float32: the grid around the agent (side 2H-1; with view="grid", the grid as it is), agent channel
        left out, then one-hot row and column, scalars; with memory="last_move", the one-hot of its last step
        (`last_cells`: (B, 2) where the agent stood one step earlier, -1 where an episode starts; None: all start)."""
        return self._encode(obs, last_cells)[0]

    def _encode(self, obs: dict, last_cells: np.ndarray | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """The encoding, dense (B, D) and as `sparse_rows` gives it, built from the grid's nonzero cells."""
        grid, scalars = obs["grid"], obs["scalars"].astype(np.float32)
        n, channels, height, width = grid.shape
        row, col = agent_cells(grid)
        if self.config.memory == "last_move":  # the step's one-hot goes in as one more scalar block
            scalars = np.concatenate([scalars, last_move_one_hot(row, col, last_cells)], 1)
        b, c, r, q = np.nonzero(grid[:, 1:])
        if self.config.view == "egocentric":  # the crop centred on the agent
            side_r, side_c = 2 * height - 1, 2 * width - 1
            cells = (c * side_r + r - row[b] + height - 1) * side_c + q - col[b] + width - 1
        else:
            side_r, side_c = height, width
            cells = (c * height + r) * width + q
        crop_cells = (channels - 1) * side_r * side_c
        every = np.arange(n)
        rows = np.concatenate([b, every, every, np.repeat(every, scalars.shape[1])])
        cols = np.concatenate([
            cells, crop_cells + row, crop_cells + height + col,
            np.tile(crop_cells + height + width + np.arange(scalars.shape[1]), n),
        ])
        vals = np.concatenate([grid[:, 1:][b, c, r, q].astype(np.float32), np.ones(2 * n, np.float32), scalars.ravel()])
        x = np.zeros((n, crop_cells + height + width + scalars.shape[1]), np.float32)
        x[rows, cols] = vals
        order = np.argsort(rows, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        counts = np.bincount(rows, minlength=n)
        k = max(1, int(counts.max(initial=0)))
        pos = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        idx, val = np.zeros((n, k), np.intp), np.zeros((n, k), np.float32)
        idx[rows, pos], val[rows, pos] = cols, vals
        return x, (idx, val)

    # -------------------------------------------------------------- acting
    def _first_weights(self) -> np.ndarray:
        """(D, 2h): the first weights of actor and critic side by side, so that one product serves both.

        Every parameter lives in one flat float32 vector (`_flat`: this (D, 2h) block first, then the
        others in `params` order), so that Adam updates them in a few whole-vector operations;
        `params` holds views of it ("actor.w0" and "critic.w0" are the two column halves of the
        block). If `params` was replaced (a loaded run), the vector is rebuilt from it."""
        p = self.params
        if self._flat is not None and all(w.base is self._flat for w in p.values()):
            return self._w0
        actor, critic = p["actor.w0"], p["critic.w0"]
        n_in, h = actor.shape
        others = [k for k in p if k not in ("actor.w0", "critic.w0")]
        sizes = [n_in * 2 * h] + [p[k].size for k in others]
        flat = np.empty(sum(sizes), np.float32)
        w0 = flat[: sizes[0]].reshape(n_in, 2 * h)
        w0[:, :h], w0[:, h:] = actor, critic
        views = {"actor.w0": w0[:, :h], "critic.w0": w0[:, h:]}
        self._slices = {}
        start = sizes[0]
        for k, size in zip(others, sizes[1:]):
            self._slices[k] = slice(start, start + size)
            flat[start : start + size] = p[k].ravel()
            views[k] = flat[start : start + size].reshape(p[k].shape)
            start += size
        self.params = {k: views[k] for k in p}  # same names and order
        self._flat, self._w0 = flat, w0
        return w0

    def _forward(self, x: np.ndarray, sparse: tuple | None = None):
        """Actor logits, critic values (N,), and both caches, with the first layers in one product."""
        h = self.params["actor.b0"].shape[0]
        z0 = first_layer(x, self._first_weights(), sparse)
        logits, actor_cache = mlp_forward(self.params, "actor", x, z0=z0[:, :h])
        values, critic_cache = mlp_forward(self.params, "critic", x, z0=z0[:, h:])
        return logits, values[:, 0], actor_cache, critic_cache

    def action_values(self, obs: dict) -> np.ndarray:
        """The actor's logits (log-probabilities up to a constant)."""
        self._first_weights()
        logits, _ = mlp_forward(self.params, "actor", self.encode(obs))
        return logits.astype(np.float64)

    def act(self, obs: dict, rng: np.random.Generator, explore: bool) -> np.ndarray:
        x, sparse = self._encode(obs, self.last_cells)
        if self.config.memory != "none":
            self.last_cells = np.stack(agent_cells(obs["grid"]), 1)
        if explore:  # training: the critic's value of x now (the parameters change only after the rollout)
            logits, values, _, _ = self._forward(x, sparse)
        else:
            self._first_weights()
            logits, _ = mlp_forward(self.params, "actor", x, z0=first_layer(x, self.params["actor.w0"], sparse))
        pi = np.exp(log_softmax(logits.astype(np.float64)))
        # inverse-CDF sampling: one uniform per row from the caller's generator
        cdf = pi.cumsum(1)
        actions = np.minimum((rng.random((len(x), 1)) * cdf[:, -1:] > cdf).sum(1), pi.shape[1] - 1)
        if explore:
            self.acted = {"x": x, "idx": sparse[0], "val": sparse[1], "value": values, "pi": pi[np.arange(len(x)), actions]}
        return actions

    # -------------------------------------------------------------- learning
    def set_training_progress(self, fraction: float) -> None:
        c = self.config
        self.lr = c.learning_rate * (1.0 - fraction)
        fade = max(0.0, 1.0 - fraction / c.explore_share)
        self.bonus = c.novelty_floor + (c.novelty_bonus - c.novelty_floor) * fade

    def learn(self, obs, actions, reward, next_obs, terminated, learning=None) -> dict:
        acted = self.acted
        self.acted = None
        self.buffer.append({
            **acted, "actions": actions, "reward": (reward + self._novelty(obs, next_obs)).astype(np.float32),
            "terminated": terminated.copy(), "done": terminated.copy(),
            "bootstrap": np.zeros(len(actions), np.float32), "learning": learning,
        })
        self.next_obs = next_obs
        if len(self.buffer) < self.config.rollout_steps:
            return {}
        return self._update()

    def _novelty(self, obs: dict, next_obs: dict) -> np.ndarray:
        """The bonus for entering a cell first visited this episode, read off the agent channel."""
        grid = obs["grid"]
        if self.visited is None:
            self.visited = np.zeros((len(grid),) + grid.shape[2:], dtype=bool)
        rows = np.arange(len(grid))
        self.visited[(rows, *agent_cells(grid))] = True
        after = (rows, *agent_cells(next_obs["grid"]))
        new = ~self.visited[after]
        self.visited[after] = True
        return self.bonus * new

    def end_episodes(self, rows: np.ndarray) -> None:
        """Rows that ended at the last step: cut the advantage chain there; a time limit bootstraps from V(next).

        The trainer calls this before it resets those rows of the next observation, so
        `self.next_obs` still holds the true next states. After the last step of a rollout the buffer
        is already empty: that step bootstraps from V(next state) anyway."""
        if self.visited is not None:
            self.visited[rows] = False
        if self.buffer:
            step = self.buffer[-1]
            step["done"][rows] = True
            alive = rows[~step["terminated"][rows]]
            if len(alive):
                last = None if self.last_cells is None else self.last_cells[alive]
                step["bootstrap"][alive] = self._value(self.encode({k: v[alive] for k, v in self.next_obs.items()}, last))
        if self.last_cells is not None:
            self.last_cells[rows] = -1

    def begin_episodes(self) -> None:
        self.last_cells = None

    def state_values(self, obs: dict) -> np.ndarray:
        """The critic's value of each state."""
        return self._value(self.encode(obs))

    def _value(self, x: np.ndarray) -> np.ndarray:
        self._first_weights()
        return mlp_forward(self.params, "critic", x)[0][:, 0]

    def _update(self) -> dict:
        c = self.config
        steps, self.buffer = self.buffer, []
        n_steps, n_envs = len(steps), len(steps[0]["actions"])
        x = np.stack([s["x"] for s in steps])  # (T, B, D)
        values = np.stack([s["value"] for s in steps])  # (T, B), from act: same parameters
        next_values = np.concatenate([values[1:], self._value(self.encode(self.next_obs, self.last_cells))[None]])
        advantages = np.zeros((n_steps, n_envs), np.float32)
        running = np.zeros(n_envs, np.float32)
        for t in reversed(range(n_steps)):
            s = steps[t]
            # a row that ended at t bootstraps from V(true next state) (0 if terminated), not from the reset state
            nxt = np.where(s["done"], s["bootstrap"], next_values[t]) if t < n_steps - 1 else next_values[t]
            nxt = np.where(s["terminated"], 0.0, nxt)
            delta = s["reward"] + c.gamma * nxt - values[t]
            running = delta + c.gamma * c.gae_lambda * np.where(s["done"], 0.0, running)
            advantages[t] = running
        returns = (advantages + values).reshape(-1)
        flat = lambda key: np.concatenate([s[key] for s in steps])  # noqa: E731
        x, actions, pi_old = x.reshape(n_steps * n_envs, -1), flat("actions"), flat("pi")
        k = max(s["idx"].shape[1] for s in steps)  # the nonzero inputs of each row, padded to the rollout's longest
        pad = lambda key: np.concatenate([np.pad(s[key], ((0, 0), (0, k - s[key].shape[1]))) for s in steps])  # noqa: E731
        idx, val = pad("idx"), pad("val")
        advantages = advantages.reshape(-1)
        if steps[0]["learning"] is not None:  # the advantages ran over every row; only some rows teach (gmg.curriculum)
            kept = np.flatnonzero(flat("learning"))
            if len(kept) < c.minibatches:
                return {}
            x, actions, pi_old, idx, val, advantages, returns = (
                part[kept] for part in (x, actions, pi_old, idx, val, advantages, returns))
        size = len(actions) // c.minibatches
        stats = []
        for _ in range(c.epochs):
            order = self.rng.permutation(len(actions))
            for m in range(c.minibatches):
                mb = order[m * size : (m + 1) * size]
                stats.append(self._minibatch(x, mb, (idx[mb], val[mb]), actions[mb], pi_old[mb], advantages[mb], returns[mb]))
        return {"policy_entropy": float(np.mean([s[0] for s in stats])), "value_error": float(np.mean([s[1] for s in stats]))}

    def _minibatch(self, x_all, mb, sparse, actions, pi_old, advantages, returns):
        c = self.config
        n = len(actions)
        rows = np.arange(n)
        adv = ((advantages - advantages.mean()) / (advantages.std() + 1e-8)).astype(np.float32)
        dense = 4 * sparse[0].shape[1] >= self._w0.shape[0]  # first_layer's choice
        logits, values, actor_cache, critic_cache = self._forward(x_all[mb] if dense else None, sparse)
        logp = log_softmax(logits)
        p = np.exp(logp)
        ratio = np.exp(logp[rows, actions] - np.log(pi_old)).astype(np.float32)
        # the unclipped term is the minimum (and carries the gradient) unless the ratio left the clip range
        active = np.where(adv >= 0, ratio <= 1 + c.clip, ratio >= 1 - c.clip)
        d_logp_a = -adv * ratio * active / n
        d_logits = -p * d_logp_a[:, None]
        d_logits[rows, actions] += d_logp_a
        entropy = -(p * logp).sum(1)
        d_logits += c.entropy * p * (logp + entropy[:, None]) / n
        error = values - returns
        grads, d_actor = mlp_backward(self.params, "actor", actor_cache, d_logits.astype(np.float32), first_weight=False)
        critic_grads, d_critic = mlp_backward(
            self.params, "critic", critic_cache, (error / n)[:, None].astype(np.float32), first_weight=False
        )
        grads.update(critic_grads)
        flat = np.empty_like(self._flat)  # the gradient, laid out as the parameters
        w0 = flat[: self._w0.size].reshape(self._w0.shape)
        # both first weights' gradients in one product, over the inputs nonzero somewhere in the minibatch
        used = np.unique(sparse[0])
        w0[:] = 0.0
        w0[used] = x_all[np.ix_(mb, used)].T @ np.concatenate([d_actor, d_critic], 1)
        for k, where in self._slices.items():
            flat[where] = grads[k].ravel()
        self._adam_step(flat)
        return float(entropy.mean()), float(np.abs(error).mean())

    def _adam_step(self, grad: np.ndarray) -> None:
        """One Adam step on the flat parameter vector; each network's gradient clipped to max_grad_norm first."""
        c = self.config
        w0 = grad[: self._w0.size].reshape(self._w0.shape)
        h = w0.shape[1] // 2
        columns = (w0 * w0).sum(0)
        for prefix, half in (("actor", w0[:, :h]), ("critic", w0[:, h:])):
            where = [s for k, s in self._slices.items() if k.startswith(prefix + ".")]
            norm = np.sqrt(float(columns[:h].sum() if prefix == "actor" else columns[h:].sum())
                           + sum(float(np.dot(grad[s], grad[s])) for s in where))
            scale = min(1.0, c.max_grad_norm / (norm + 1e-6))
            if scale < 1.0:
                half *= scale
                for s in where:
                    grad[s] *= scale
        self.adam_steps += 1
        b1, b2 = ADAM_BETAS
        step = self.lr * np.sqrt(1 - b2**self.adam_steps) / (1 - b1**self.adam_steps)
        m, v = self.adam
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        grad *= grad
        grad *= 1 - b2
        v += grad
        np.sqrt(v, out=grad)
        grad += ADAM_EPS
        np.divide(m, grad, out=grad)
        grad *= step
        self._flat -= grad
