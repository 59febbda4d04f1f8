"""Shared fixtures: settings that train in well under a second, and one such run for figure tests."""

import pytest

# overrides (or link parameters) for a short but real run: a fraction of a second of training
FAST = {"train_steps": "20000", "eval_episodes": "20"}


@pytest.fixture
def fast_overrides() -> dict:
    return dict(FAST)


@pytest.fixture(scope="session")
def fast_result():
    from gmg.experiment import run
    from gmg.train import Experiment

    return run(Experiment.build(overrides=FAST), record=2)


@pytest.fixture
def clear_streamlit_caches():
    """Streamlit's caches are process-wide: without this, one page test's trained runs would leak into the next."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def keep_main_module():
    """AppTest leaves the last page it ran as sys.modules["__main__"]; a process spawned afterwards
    (Dask's local workers) would import that page again. Put the real one back after every test."""
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
