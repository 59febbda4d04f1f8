"""Every compiled kernel loaded once, or compiled after an install or an edit, before a visitor needs it.

The kernels compile on first use (gmg.compiled): about 10 s for one world's, 30 s for all of them, paid
once per install (numba caches them on disk). The app starts `warm_up` in a background thread when the
server starts, so the first Train finds them ready; afterwards it only loads them (well under a second).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from . import compiled
from .agents.explore_q import ExploreQAgent
from .envs import ENVS
from .studies import StudyRun, run_study


def warm_up() -> None:
    """Reset, step and observe every registered world, value its features with explore_q's novelty bonus, and
    run a short Tree study, on the compiled path."""
    if not compiled.ENABLED:
        return
    for world in ENVS.values():
        env = world()
        state = env.reset(np.random.default_rng(0), 2, "train")
        state = env.step(state, np.zeros(2, dtype=np.int64)).state
        ExploreQAgent(env).novelty(env.observe(state))
        env.raw_observation(state)
    run_study(StudyRun.build("tree", 0, {"train_steps": 1000}))


@functools.cache
def warm_up_in_background() -> threading.Thread:
    """`warm_up` in a daemon thread, started by the first call in a process (later calls return it)."""
    thread = threading.Thread(target=warm_up, name="gmg-kernel-warm-up", daemon=True)
    thread.start()
    return thread
