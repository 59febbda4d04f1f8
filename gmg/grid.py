"""Shared grid kernels: moves, batched cell sampling, distances, ASCII helpers.

Positions are integer arrays whose last axis is (row, col); row 0 is the top of the map.
Every function takes a leading batch axis and draws randomness only from the Generator it is given.
"""

from __future__ import annotations

import functools

import numpy as np

from . import compiled

ACTION_KEYS = "udlrs"  # up, down, left, right, stay: one letter per action, for action strings "rrdds"
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1), (0, 0)], dtype=np.int64)
N_ACTIONS = len(MOVES)


def actions_from_string(text: str) -> np.ndarray:
    """'rrd' -> array([3, 3, 1]); unknown letters raise ValueError naming them."""
    try:
        return np.array([ACTION_KEYS.index(ch) for ch in text], dtype=np.int64)
    except ValueError:
        bad = sorted(set(text) - set(ACTION_KEYS))
        raise ValueError(f"unknown action letters {bad}; use {ACTION_KEYS!r}") from None


def move(pos: np.ndarray, actions: np.ndarray, height: int, width: int) -> np.ndarray:
    """Apply one move per row; moves off the grid leave the position unchanged."""
    target = pos + MOVES[actions]
    inside = (
        (target[..., 0] >= 0) & (target[..., 0] < height) & (target[..., 1] >= 0) & (target[..., 1] < width)
    )
    return np.where(inside[..., None], target, pos)


def all_moves(pos: np.ndarray, height: int, width: int) -> np.ndarray:
    """(..., 2) positions -> (..., N_ACTIONS, 2): the cell each action leads to."""
    target = pos[..., None, :] + MOVES
    clipped = np.clip(target, 0, [height - 1, width - 1])
    # a move off the grid is a no-op, exactly as in `move`
    return np.where((clipped == target).all(-1, keepdims=True), target, pos[..., None, :])


@functools.cache
def move_table(height: int, width: int) -> np.ndarray:
    """(cells, N_ACTIONS) the flat cell each action leads to from each flat cell (off the grid: stay), read-only."""
    table = flat(all_moves(cell_grid(height, width), height, width), width)
    table.flags.writeable = False
    return table


def manhattan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Manhattan distance between broadcastable position arrays (equals BFS distance on an open grid)."""
    return np.abs(a - b).sum(-1)


@functools.cache
def distance_table(height: int, width: int) -> np.ndarray:
    """(cells, cells) Manhattan distances between flat cell indices; gathers beat recomputing."""
    cells = cell_grid(height, width)
    table = manhattan(cells[:, None], cells[None])
    table.flags.writeable = False
    return table


def flat(pos: np.ndarray, width: int) -> np.ndarray:
    """(..., 2) positions -> (...) flat cell indices."""
    return pos[..., 0] * width + pos[..., 1]


def occupancy(positions: np.ndarray, present: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, K, 2) positions with (N, K) presence -> (N, height*width) bool occupancy."""
    n = positions.shape[0]
    occupied = np.zeros((n, height * width), dtype=bool)
    rows, ks = np.nonzero(present)
    occupied[rows, positions[rows, ks, 0] * width + positions[rows, ks, 1]] = True
    return occupied


def sample_cells(scores: np.ndarray, allowed: np.ndarray, width: int) -> np.ndarray:
    """One random allowed cell per row of an (N, height*width) mask, given uniform scores -> (N, 2).

    Rows with no allowed cell fall back to the best-scoring cell of the whole grid.
    """
    cell = sample_flat(scores, allowed)
    return np.stack([cell // width, cell % width], -1)


def sample_flat(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`sample_cells` as flat cell indices -> (N,)."""
    if compiled.ENABLED:
        return sample_flat_rows(scores, allowed)
    return (scores + allowed).argmax(-1)  # +1.0 where allowed: allowed cells always outrank the rest


def distinct_cells(scores: np.ndarray, allowed: np.ndarray, count: int, width: int) -> np.ndarray:
    """`count` distinct random cells per row, allowed cells first: (N, cells) -> (N, count, 2)."""
    if compiled.ENABLED:
        order = distinct_flat_rows(scores, allowed, min(count, scores.shape[1]))
    else:
        order = np.argsort(-np.where(allowed, scores + 1.0, scores), -1, kind="stable")[:, :count]
    return np.stack([order // width, order % width], -1)


@compiled.kernel
def sample_flat_row(scores, allowed):
    """`sample_flat` for one row: the first cell with the largest score + allowed."""
    best, best_value = 0, -np.inf
    for c in range(len(scores)):
        value = scores[c] + allowed[c]
        if value > best_value:
            best, best_value = c, value
    return best


@compiled.kernel
def sample_flat_rows(scores, allowed):
    cells = np.empty(len(scores), np.int64)
    for b in range(len(scores)):
        cells[b] = sample_flat_row(scores[b], allowed[b])
    return cells


@compiled.kernel
def distinct_flat_row(scores, allowed, out):
    """`distinct_cells`' order for one row, compiled: the len(out) cells a stable ascending sort of
    -(score + allowed) puts first, i.e. the largest values, the lowest index first among equal ones."""
    keys = np.empty(len(scores))
    picked = np.zeros(len(scores), np.bool_)
    for c in range(len(scores)):
        keys[c] = -(scores[c] + 1.0) if allowed[c] else -scores[c]
    for j in range(len(out)):
        best = -1
        for c in range(len(scores)):
            if not picked[c] and (best < 0 or keys[c] < keys[best]):
                best = c
        out[j], picked[best] = best, True


@compiled.kernel
def distinct_flat_rows(scores, allowed, count):
    order = np.empty((len(scores), count), np.int64)
    for b in range(len(scores)):
        distinct_flat_row(scores[b], allowed[b], order[b])
    return order


def pair_distances(cells: np.ndarray, objects: np.ndarray, size: int) -> np.ndarray:
    """(B, A, 2) cells and (B, K, 2) objects on a size x size open grid -> (B, A, K) step distances."""
    table = distance_table(size, size)
    return table[flat(cells, size)[:, :, None], flat(objects, size)[:, None, :]]


def map_cells(text: str, size: int, kinds: str, what: str) -> dict[str, np.ndarray]:
    """A hand-drawn square map -> {character: (1, K, 2) cells} for each character of `kinds`.

    `.` is empty, `@` the agent (exactly one); any other character is refused, as is a map
    whose side is not `size`. `what` names the world in messages ("a Monster map").
    """
    rows = parse_ascii(text)
    if len(rows) != len(rows[0]) or len(rows) != size:
        raise ValueError(f"{what} must be a square of side size={size}")
    found = {ch: [] for ch in "@" + kinds}
    for r, line in enumerate(rows):
        for col, ch in enumerate(line):
            if ch in found:
                found[ch].append((r, col))
            elif ch != ".":
                raise ValueError(f"unknown map character {ch!r}")
    if len(found["@"]) != 1:
        raise ValueError("a map needs exactly one agent '@'")
    return {ch: np.array(cells, dtype=np.int64).reshape(1, len(cells), 2) for ch, cells in found.items()}


def cell_grid(height: int, width: int) -> np.ndarray:
    """(height*width, 2) array of every cell, in row-major order."""
    rows, cols = np.divmod(np.arange(height * width), width)
    return np.stack([rows, cols], -1)


def parse_ascii(text: str) -> list[str]:
    """Strip indentation and blank lines from a hand-drawn map; check it is rectangular."""
    rows = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError("an ASCII map must be a non-empty rectangle of characters")
    return rows
