"""Several visitors at once: sessions never see each other's runs or state, and one session's memory
stays bounded however many runs it makes."""

import contextlib
import json
import threading
from pathlib import Path
from unittest import mock

import pytest
from streamlit.testing.v1 import AppTest

from helpers import open_page, wait_for_training

from gmg import ui
from gmg.experiment import run as run_experiment
from gmg.experiment import RunResult
from gmg.jobs import TrainJob
from gmg.train import Experiment

ROOT = Path(__file__).resolve().parents[1]
# the smallest real runs: a few thousand steps, short test episodes
TINY = {"train_steps": "2048", "n_envs": "64", "eval_episodes": "4"}
SHORT_EPISODES = {"monster": {"test_episode_length": "20"}, "keys": {"episode_length": "20"},
                  "follow": {"episode_length": "20"}}

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


@contextlib.contextmanager
def parallel_apptests():
    """Let AppTest scripts run in parallel threads.

    Each AppTest run installs process-wide globals (a mock Streamlit Runtime, a patched config
    option) and resets them when it ends, so a second run in another thread would lose them
    mid-script. Here one shared set is installed for the whole block and each run's own swap is
    made a no-op; sessions (session_state, query parameters, widgets) stay AppTest's own, one per
    instance, as on a real server.
    """
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test
    from streamlit.testing.v1.util import patch_config_options

    shared = mock.MagicMock(spec=Runtime)
    shared.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    shared.dataframe_source_mgr = DataframeSourceManager()
    shared.cache_storage_manager = MemoryCacheStorageManager()
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    shared.bidi_component_registry = components

    class PerRunRuntime:  # what each run now sets and resets: nothing anyone reads
        _instance = None

    with mock.patch.object(app_test, "Runtime", PerRunRuntime), \
            mock.patch.object(app_test, "patch_config_options", lambda options: contextlib.nullcontext()), \
            patch_config_options({"global.appTest": True}):
        Runtime._instance = shared
        try:
            yield
        finally:
            Runtime._instance = None


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def summary_shown(at: AppTest) -> dict:
    """The run summary the page displays (the JSON under "Full summary and downloads")."""
    shown = [json.loads(element.value) for element in at.json]
    state = at.session_state
    assert len(shown) == 1, ("no run summary on the page", [e.value for e in [*at.info, *at.warning, *at.error]],
                             {key: state[key] for key in ("shown", "jobs", "notices", "history") if key in state},
                             [e.message for e in at.exception])
    return shown[0]


def objects_of(value, kinds, seen=None) -> list:
    """Every object of `kinds` reachable through dicts, lists, tuples and sets."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    found = [value] if isinstance(value, kinds) else []
    if isinstance(value, dict):
        value = list(value.keys()) + list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found += objects_of(item, kinds, seen)
    return found


# -------------------------------------------------------------------------------- isolation
VISITORS = [("monster", "linear_q", 1), ("keys", "linear_q", 2), ("follow", "random", 3)]


def visit(env: str, agent: str, seed: int, out: dict) -> None:
    """One visitor: a link with their settings trains on arrival; then they change the seed and train again."""
    try:
        at = wait_for_training(open_page("pages/explore.py", 60, env=env, agent=agent, seed=seed, **TINY,
                                         **SHORT_EPISODES[env]), 60)
        first = summary_shown(at)
        at.query_params["seed"] = str(seed + 10)  # a browser writes the changed widget into the link
        at.sidebar.number_input(key="seed").set_value(seed + 10).run()
        at.button(key="explore_train").click().run()
        out[seed] = (wait_for_training(at, 60), first)
    except BaseException as exc:  # reported by the test, not lost in the thread
        out[seed] = exc


def test_concurrent_sessions_see_only_their_own_runs_and_state():
    out: dict = {}
    with parallel_apptests():
        threads = [threading.Thread(target=visit, args=(*visitor, out)) for visitor in VISITORS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
    assert set(out) == {seed for _, _, seed in VISITORS}
    for env, agent, seed in VISITORS:
        if isinstance(out[seed], BaseException):
            raise out[seed]
        at, first = out[seed]
        assert_clean(at)
        # what the page shows: this visitor's settings, before and after their second run
        assert (first["env"], first["agent"], first["seed"]) == (env, agent, seed)
        shown = summary_shown(at)
        assert (shown["env"], shown["agent"], shown["seed"]) == (env, agent, seed + 10)
        assert at.sidebar.selectbox(key="env").value == env and at.sidebar.number_input(key="seed").value == seed + 10
        # what the session holds: only its own runs, no job handles left over
        state = at.session_state
        assert [(e.env_name, e.agent_name, e.seed) for e in state["history"]] == [(env, agent, seed + 10),
                                                                                  (env, agent, seed)]
        assert [(e.env_name, e.seed) for e in state["shown"]["explore"]] == [(env, seed + 10)]
        assert not any(state["jobs"].values())
        experiments = objects_of(state.to_dict(), Experiment)
        assert {(e.env_name, e.seed) for e in experiments} == {(env, seed), (env, seed + 10)}
        assert not objects_of(state.to_dict(), (TrainJob, RunResult))
    # no two sessions share a mutable piece of state
    states = [out[seed][0].session_state for _, _, seed in VISITORS]
    for key in ("history", "shown", "jobs", "notices", "auto_started"):
        assert len({id(state[key]) for state in states}) == len(states), key


# ----------------------------------------------------------------------------- bounded memory
REAL_RUNS = 2
CACHED_RUNS = 18  # 20 runs in all: more than HISTORY_KEPT and RESULTS_KEPT


def test_one_session_stays_bounded_over_many_runs():
    """Many runs in one session: the history, the shown runs, the notices and the job handles stay
    capped, and results live only in the server's capped store, never in the session."""
    link = {**TINY, **SHORT_EPISODES["monster"]}
    at = wait_for_training(open_page("pages/explore.py", 60, **link), 60)

    def choose_seed(seed: int) -> None:
        # AppTest formats the "Recent runs" choice again from the session's history, which the last run
        # changed after drawing the picker, and then cannot find it among the drawn options (a browser
        # sends the label it shows, and Streamlit resets a label it no longer offers): pick it anew
        if at.sidebar.get("selectbox") and any(box.key == "history_choice" for box in at.sidebar.selectbox):
            at.sidebar.selectbox(key="history_choice").select_index(0)
        at.sidebar.number_input(key="seed").set_value(seed).run()

    for seed in range(1, REAL_RUNS):  # real trainings in child processes
        choose_seed(seed)
        at.button(key="explore_train").click().run()
        wait_for_training(at, 60)
        assert not objects_of(at.session_state.to_dict(), TrainJob)  # the handles go once collected
    store = ui.result_store()
    for seed in range(REAL_RUNS, REAL_RUNS + CACHED_RUNS):
        # runs somebody else trained: they come from the shared store, as a replay would
        experiment = Experiment.build("monster", "linear_q", seed, link)
        store.put(experiment, run_experiment(experiment, record=ui.RECORDED_EPISODES))
        choose_seed(seed)
        assert not any(at.session_state["jobs"].values())
        assert len(at.session_state["history"]) <= ui.HISTORY_KEPT
    assert_clean(at)
    state = at.session_state
    total = REAL_RUNS + CACHED_RUNS
    assert [e.seed for e in state["history"]] == list(range(total - 1, total - 1 - ui.HISTORY_KEPT, -1))
    assert summary_shown(at)["seed"] == total - 1
    assert len(store) <= ui.RESULTS_KEPT
    assert len(objects_of(state.to_dict(), Experiment)) <= ui.HISTORY_KEPT + 1
    assert not objects_of(state.to_dict(), (TrainJob, RunResult))
    assert sum(len(messages) for messages in state["notices"].values()) <= 1
    assert len(state.to_dict()) < 60  # widget keys and the few of ui.init_state, not one per run
