"""Counter-based random numbers: every batch row carries its own 64-bit key.

Environments draw one key per episode from the caller's `np.random.Generator` at reset; inside
the episode every random number is a hash of (key, time step, purpose, index), as JAX's PRNG keys
do. So `step` is a pure function of (state, actions), and row i of a batch is bit-identical to a
single run started from the same key -- whatever the batch size or the order of the rows.
"""

from __future__ import annotations

import functools

import numpy as np

from . import compiled

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_SHIFT_11, _SHIFT_27, _SHIFT_30, _SHIFT_31 = (np.uint64(bits) for bits in (11, 27, 30, 31))


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on `z`, a fresh array (uint64 arithmetic wraps modulo 2**64 by design).

    In place with one scratch array: hashing is much of an environment step's time.
    """
    scratch = np.empty_like(z)
    z ^= np.right_shift(z, _SHIFT_30, out=scratch)
    z *= _M1
    z ^= np.right_shift(z, _SHIFT_27, out=scratch)
    z *= _M2
    z ^= np.right_shift(z, _SHIFT_31, out=scratch)
    return z


@functools.cache
def _columns(n: int) -> np.ndarray:
    """(n,) the per-column offsets of `uniforms`, computed once per width."""
    columns = np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
    columns.flags.writeable = False
    return columns


def new_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)


def uniforms(keys: np.ndarray, counter: np.ndarray | int, purpose: int, n: int) -> np.ndarray:
    """(N,) keys -> (N, n) floats in [0, 1), distinct for every (key, counter, purpose, column)."""
    counter = np.atleast_1d(np.asarray(counter).astype(np.uint64))
    if compiled.ENABLED:
        return uniforms_rows(np.asarray(keys, np.uint64), counter, np.uint64(purpose + 1), n)
    stream = _mix(keys ^ _mix(counter * _GOLDEN + np.uint64(purpose + 1)))
    z = _mix(stream[:, None] + _columns(n))
    z >>= _SHIFT_11
    out = z.astype(np.float64)
    out *= 2.0**-53
    return out


@compiled.kernel
def _mix_one(z):
    """`_mix` of one uint64 (every constant a uint64: numba would turn mixed integer types into floats)."""
    z ^= z >> _SHIFT_30
    z *= _M1
    z ^= z >> _SHIFT_27
    z *= _M2
    return z ^ (z >> _SHIFT_31)


@compiled.kernel
def uniform_row(key, counter, purpose_code, out):
    """One row of `uniforms` (its key, its counter) into `out` (n,)."""
    stream = _mix_one(key ^ _mix_one(counter * _GOLDEN + purpose_code))
    column = np.uint64(0)
    for j in range(len(out)):
        column += _GOLDEN  # (j + 1) * _GOLDEN, wrapping as the numpy code's product does
        out[j] = np.float64(_mix_one(stream + column) >> _SHIFT_11) * 2.0**-53


@compiled.kernel
def uniforms_rows(keys, counter, purpose_code, n):
    """`uniforms` compiled: the same hashes in the same order; `counter` has one entry or one per key."""
    out = np.empty((len(keys), n))
    for i in range(len(keys)):
        uniform_row(keys[i], counter[i % len(counter)], purpose_code, out[i])
    return out
