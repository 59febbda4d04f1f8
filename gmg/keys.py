"""Counter-based random numbers: every batch row carries its own 64-bit key.

Environments draw one key per episode from the caller's `np.random.Generator` at reset; inside
the episode every random number is a hash of (key, time step, purpose, index), as JAX's PRNG keys
do. So `step` is a pure function of (state, actions), and row i of a batch is bit-identical to a
single run started from the same key -- whatever the batch size or the order of the rows.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 arithmetic wraps modulo 2**64 by design)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def new_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)


def uniforms(keys: np.ndarray, counter: np.ndarray | int, purpose: int, n: int) -> np.ndarray:
    """(N,) keys -> (N, n) floats in [0, 1), distinct for every (key, counter, purpose, column)."""
    counter = np.atleast_1d(np.asarray(counter).astype(np.uint64))
    stream = _mix(keys ^ _mix(counter * _GOLDEN + np.uint64(purpose + 1)))
    z = _mix(stream[:, None] + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
