"""The Diagnose and Seed variance pages through AppTest: a reduced run each, presets, and bad links."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")
TINY = {"train_steps": "20000", "eval_episodes": "20"}


def trained(path: str, **link) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=30)
    for key, value in link.items():
        at.query_params[key] = str(value)
    return trained_after(at)


def trained_after(at: AppTest, timeout: float = 120) -> AppTest:
    """Run the page, then rerun until its background job has finished and been collected."""
    at.run()
    deadline = time.monotonic() + timeout
    while any(at.session_state["jobs"].values()):  # AppTest does not tick run_every fragments
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.3)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_diagnose_page_shows_the_verdict_and_its_evidence():
    at = trained("pages/diagnose.py", agent="random", **TINY)
    assert not at.error, [e.value for e in at.error]
    assert titles(at) == ["Diagnosis: capability failure"]
    text = " ".join(m.value for m in at.markdown)
    assert "**Capability**" in text and "**Counterfactual**" in text


def test_diagnose_presets_set_the_sidebar():
    at = AppTest.from_file(str(ROOT / "pages/diagnose.py"), default_timeout=30)
    for key, value in TINY.items():
        at.query_params[key] = value
    at.run()
    at.button(key="diagnose_preset_2").click().run()  # mis-specified: +1 per shield
    assert at.session_state["shield_reward"] == 1.0 and at.session_state["agent"] == "linear_q"
    at.button(key="diagnose_preset_4").click().run()  # the random agent
    assert at.session_state["agent"] == "random" and at.session_state["shield_reward"] == 0.0


def test_seeds_page_waits_for_the_click_then_streams_a_study():
    at = AppTest.from_file(str(ROOT / "pages/seeds.py"), default_timeout=30)
    for key, value in {"seeds": "2", **TINY}.items():
        at.query_params[key] = value
    at.run()
    assert not any(at.session_state["jobs"].values())  # minutes of work never start on a visit alone
    at.button(key="seeds_train").click()
    at = trained_after(at)
    assert not at.error, [e.value for e in at.error]
    assert titles(at) == ["2 seeds: preference against capability (ringed: outliers)"]
    assert len(at.dataframe[0].value) == 2
    assert any(m.value.startswith("**Verdicts.**") for m in at.markdown)


@pytest.mark.parametrize("seeds, message", [("0", "seeds"), ("1000", "seeds"), ("nan", "seeds")])
def test_seeds_page_refuses_bad_counts(seeds, message):
    at = AppTest.from_file(str(ROOT / "pages/seeds.py"), default_timeout=30)
    at.query_params["seeds"] = seeds
    at.run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert at.session_state["seeds"] == 5  # the page's handful
