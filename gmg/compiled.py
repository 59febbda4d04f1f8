"""Compiled kernels: the hot loops of a world, compiled by numba when it is importable.

Why: at small batches and in the Tree study's one-world loop, a step's time is Python and numpy call
overhead, not arithmetic; a compiled loop over the rows removes it (issue 19, docs/benchmarks.md).
The numpy code stays the reference: every kernel computes the same numbers in the same order, so
results are bit-identical with or without numba (tests/test_compiled.py checks states, rewards,
events, observations and learned values against the numpy code over several seeds and settings).

`ENABLED` says which path runs: True when numba is importable and the environment variable
GMG_NUMPY is unset or "0" (GMG_NUMPY=1 forces the numpy code, e.g. to time or debug it; numba is
then not imported, and the kernels stay plain Python functions that tests can still run). Callers
read `compiled.ENABLED` at call time, so a test can switch paths in one process. Kernels are compiled on
their first call and cached on disk (numba's `cache=True`), so only the first process after an
install or an edit pays the compile time.
"""

from __future__ import annotations

import os

numba = None  # numba is a speed-up, never a requirement: the numpy code runs without it
if os.environ.get("GMG_NUMPY", "0") in ("", "0"):  # with GMG_NUMPY set, not even imported (about half a second)
    try:
        import numba
    except ImportError:
        pass

ENABLED = numba is not None


def interrupted(error: BaseException) -> bool:
    """Whether `error` is a Ctrl-C: a KeyboardInterrupt, or the SystemError numba raises when the interrupt
    arrived while a kernel ran ("returned a result with an exception set", the KeyboardInterrupt chained
    below it)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def kernel(function):
    """`function` compiled in numba's nopython mode (cached on disk); the plain function without numba."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True)(function)
