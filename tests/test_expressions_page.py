"""The expressions page through AppTest: it trains a reduced run, shows both kinds of dialogue, the rates,
the cure sweep, and answers a typed expression, with an error (not a traceback) for one it cannot read."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
# link parameters (gmg.ui.study_settings names them <study>_<field>): a reduced run with a 1-seed sweep
REDUCED = {"expressions_train_dialogues": "150", "expressions_epochs": "6", "expressions_eval_dialogues": "30",
           "expressions_sweep_seeds": "1"}


pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def trained_page(timeout: float = 60) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/expressions.py"), default_timeout=30)
    for key, value in REDUCED.items():
        at.query_params[key] = value
    at.run()
    if not any(at.session_state["jobs"].values()) and not at.get("plotly_chart"):
        at.button(key="expressions_train").click().run()
    deadline = time.monotonic() + timeout
    while any(at.session_state["jobs"].values()):  # AppTest does not tick run_every fragments
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.2)
        at.run()
    return at


def test_page_shows_dialogues_rates_sweep_and_answers_a_typed_expression():
    at = trained_page()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    transcripts = [c.value for c in at.code]
    assert any(t.startswith("User: Evaluate") and "What's" in t for t in transcripts)
    assert transcripts[-1].startswith("User: Evaluate 6 + 2") and transcripts[-1].endswith("The answer is 8.")
    labels = [m.label for m in at.metric]
    assert "Redundant question, no unknowns" in labels and "Correct answers, training kind" in labels
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert "Share of dialogues" in titles and any(t.startswith("Cure sweep") for t in titles)
    assert any(t.startswith("Diagnosis: ") for t in titles)
    assert any("**Counterfactual**" in m.value for m in at.markdown)

    at.text_input(key="expressions_typed").set_value("2*a + 3").run()
    assert "What's a?" in at.code[-1].value and not at.error


def test_a_typed_expression_it_cannot_read_gives_an_error_not_a_traceback():
    at = trained_page()
    for typed, message in [("1/0", "division"), ("x*y", "not linear"), ("", "type an expression"),
                           ("__import__('os')", "is not an unknown"), ("NaN", "is not an unknown")]:
        at.text_input(key="expressions_typed").set_value(typed).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (typed, [e.value for e in at.error])
