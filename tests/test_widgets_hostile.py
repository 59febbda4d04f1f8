"""Hostile values in every widget of every page: never a traceback; the value is refused or clamped, or
an error says why; and what the page showed before (a finished run) stays on display.

Data-driven: each page is opened (a tiny run where it trains), then every widget it draws gets, in
rounds, one hostile value of its kind (negative, huge, NaN, none, the wrong type, very long or
control-character strings); one rerun per round. AppTest itself refuses some values a browser
could not send either (a string in a number field, an option that is not offered): those count as
refused. NaN and infinities go to float fields only: in an integer field Streamlit's own
deserializer raises before the page runs (`int(nan)`), which only a hand-made client could cause.
"""

import dataclasses
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from helpers import wait_for_training

from gmg import ui
from gmg.storage import RunStore, new_owner
from gmg.studies import StudyRun, run_study

ROOT = Path(__file__).resolve().parents[1]
OWNER = new_owner()  # the visitor whose saved run the Saved runs page shows
TINY = {"train_steps": "2048", "n_envs": "64", "eval_episodes": "4"}

LONG = "x" * 100_000
# per widget kind, the hostile values of each round (a round uses value [round % len])
HOSTILE = {
    "number_input": [-1e18, 1e18, None, -1, 0.5, 10**40],
    "number_input_float": [float("nan"), float("inf"), -float("inf"), -1e300, 1e300, None],
    "text_input": [LONG, "\x00\x1b[2J<script>alert(1)</script>\u202e", "nan,inf,-1e999", ",,,", "💥" * 500, "   "],
    "text_area": [LONG, "\x00<script>", "💥" * 500],
    "slider": [-10**9, 10**9, None],
    "selectbox": [None, "no such option", 10**9],
    "radio": [None, "no such option"],
    "multiselect": [["no such option"], [LONG]],  # (none chosen is an ordinary choice)
    "button_group": [None, 10**9, "no such option"],
    "toggle": [None, "yes"],
    "checkbox": [None, "yes"],
}
ROUNDS = max(len(values) for values in HOSTILE.values())
KINDS = ("number_input", "text_input", "text_area", "slider", "selectbox", "radio", "multiselect", "button_group",
         "toggle", "checkbox")


@dataclasses.dataclass
class Page:
    link: dict
    trains: bool = False  # trains on arrival: wait for it, and the run must stay on display
    setup: tuple = ()  # (widget kind, key, value) steps before the hostile rounds
    follow_up: str | None = None  # a button that uses the text inputs: clicked after each round
    prefill: bool = False  # the run of `link` goes into the server's store first (a replay, not a training)
    keeps: str = "shown"  # what must survive: "shown" (the runs on display) or "saved" (the saved runs listed)


PAGES = {
    "home": Page({}),
    "explore": Page({**TINY, "test_episode_length": "20"}, trains=True, follow_up="explore_save"),
    "compare": Page({**TINY, "test_episode_length": "20"}, trains=True),
    "raw": Page({**TINY, "test_episode_length": "20"}, trains=True),
    "diagnose": Page({**TINY, "test_episode_length": "20"}, trains=True),
    "seeds": Page({**TINY, "test_episode_length": "20", "seeds": "2"}),  # many seeds wait for the click
    "sweep": Page({}),  # its results are drawn only in the run of the click (the sweep itself: test_sweep.py)
    # the Tree run is trained here, not in a child, with shorter reference policies (fixture short_tree_references)
    "tree": Page({"tree_train_steps": "2000", "tree_probe_every": "1000"}, trains=True, prefill=True),
    "expressions": Page({"expressions_train_dialogues": "200", "expressions_epochs": "2",
                         "expressions_eval_dialogues": "50"}, trains=True),
    "maze_probe": Page({}),
    "move": Page({**TINY, "test_episode_length": "20"}, trains=True),
    # an option that is not offered empties the choice (Streamlit's reset): the saved runs themselves stay
    "runs": Page({"owner": OWNER}, setup=(("multiselect", "runs_open", ["saved run"]),), keeps="saved"),
}


def widgets(at: AppTest) -> list:
    found = []
    for kind in KINDS:
        for widget in at.get(kind):
            assert widget.key, f"a {kind} without a key cannot be bound to a link: {widget.label}"
            found.append((kind, widget))
    return found


def by_key(at: AppTest, kind: str, key: str):
    return next(widget for widget in at.get(kind) if widget.key == key)


def hostile_value(kind: str, widget, round_: int):
    if kind == "number_input" and widget.proto.data_type == widget.proto.FLOAT:
        kind = "number_input_float"  # NaN and infinities: an integer field cannot even hold them
    values = HOSTILE[kind]
    return values[round_ % len(values)]


def in_domain(kind: str, widget) -> bool:
    """The widget holds a value it offers: a clamped or refused hostile value leaves one."""
    value = widget.value
    if kind == "number_input":
        proto = widget.proto
        return value is None or (math.isfinite(value) and (not proto.has_min or value >= proto.min)
                                 and (not proto.has_max or value <= proto.max))
    if kind == "slider":
        return all(widget.min <= v <= widget.max for v in (value if isinstance(value, (list, tuple)) else [value]))
    if kind in ("selectbox", "radio"):
        try:
            return value is None or widget.index is not None
        except ValueError:
            return False
    if kind == "multiselect":
        return all(str(v) in widget.options for v in (value or []))
    if kind == "button_group":
        return value is None or all(str(v) in [o.content for o in widget.proto.options]
                                    for v in (value if isinstance(value, list) else [value]))
    if kind in ("toggle", "checkbox"):
        return isinstance(value, bool)
    return False  # text: any string is a value, so a hostile one needs an error


def kept_state(at: AppTest, page: str) -> tuple:
    """What must survive hostile input: the runs on display and how many figures show them, or the
    saved runs the page lists."""
    if PAGES[page].keeps == "saved":
        return tuple(at.dataframe[0].value["name"]), tuple(run.name for run in RunStore(OWNER).list())
    shown = at.session_state["shown"].get(page) if "shown" in at.session_state else None
    return shown, len(at.get("plotly_chart"))


@pytest.fixture
def saved_run(fast_result, tmp_path, monkeypatch):
    monkeypatch.setenv("GMG_RUN_STORE", str(tmp_path))
    RunStore(OWNER, tmp_path).save("saved run", fast_result)


@pytest.fixture
def short_tree_references(monkeypatch):
    """The Tree study measures its reference policies over 160k steps (seconds); a tenth does here."""
    from gmg.studies import tree

    monkeypatch.setattr(tree, "REFERENCE_STEPS", tree.BLOCK)
    tree.reference_policies.cache_clear()  # cached by configuration: keep these numbers out of other tests
    yield
    tree.reference_policies.cache_clear()


@pytest.fixture
def no_bundled_presets(monkeypatch):
    """A round whose values all fall back to the defaults names a run that ships with the app (gmg/bundled),
    and the page rightly shows it: the shipped runs are out of this test, which checks that no value
    loses what was shown."""
    from gmg.ui import runs

    monkeypatch.setattr(runs, "bundled_folders", dict)


@pytest.mark.usefixtures("clear_streamlit_caches", "saved_run", "short_tree_references", "no_bundled_presets")
@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_values_in_every_widget_are_refused_or_explained(page):
    spec = PAGES[page]
    if spec.prefill:
        study = page
        run = StudyRun.build(study, 0, {key.removeprefix(f"{study}_"): value for key, value in spec.link.items()})
        ui.result_store().put(run, run_study(run))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60)
    for key, value in spec.link.items():
        at.query_params[key] = value
    at.run()
    wait_for_training(at, 60)
    for step in spec.setup:
        kind, key, value = step
        by_key(at, kind, key).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    before = kept_state(at, page)
    if spec.trains:
        assert before[0] and before[1], "the page shows no run to keep"
    if page == "home":
        assert not widgets(at)  # nothing to type into: the loop below has nothing to do
    refused_by_harness, sent_total = 0, 0
    for round_ in range(ROUNDS):
        sent = {}
        for kind, widget in widgets(at):
            value, current = hostile_value(kind, widget, round_), widget.value
            try:
                widget.set_value(value)
                widget._widget_state  # AppTest serializes here: a value it cannot send raises
            except (TypeError, ValueError, IndexError):
                refused_by_harness += 1
                widget.set_value(current)  # a browser cannot send it either: keep the current value
                continue
            sent[(kind, widget.key)] = value
        sent_total += len(sent)
        at.run()
        where = f"{page}, round {round_}"
        assert not at.exception, (where, [e.message[:300] for e in at.exception])
        errors = [e.value for e in at.error]
        for (kind, key), value in sent.items():
            widget = by_key(at, kind, key)
            assert in_domain(kind, widget) or errors, (where, kind, key, repr(value)[:60], repr(widget.value)[:60])
        if spec.follow_up and any(kind.startswith("text") for kind, _ in sent):
            at.button(key=spec.follow_up).click().run()
            assert not at.exception, (where, [e.message[:300] for e in at.exception])
            # refused with an error, or clamped: what was saved is a name the store lists (e.g. cut to 64 characters)
            saved = {run.name for run in RunStore(at.session_state["run_owner"]).list()}
            assert at.error or at.success, (where, "the click did nothing visible")
            assert all(any(f'"{name}"' in s.value for name in saved) for s in at.success), (where, saved)
        assert kept_state(at, page) == before, (where, "what the page showed changed or disappeared")
        assert all(len(e.value) < 2000 for e in at.error), (where, "an error message echoes a huge input")
    assert not at.exception
    # most hostile values reached the page: the test does not rest on AppTest's own refusals
    assert sent_total > refused_by_harness or page == "home", (sent_total, refused_by_harness)


@pytest.mark.usefixtures("short_tree_references")
def test_the_shortest_tree_run_allowed_can_be_summarised():
    from gmg.studies import tree

    summary = tree.summary(run_study(StudyRun.build("tree", 0, {"train_steps": "1000", "probe_every": "1000"})))
    assert summary["phases"]["early"] is None and summary["phases"]["late"]["copies"] == 1


@pytest.mark.usefixtures("clear_streamlit_caches")
def test_a_hostile_link_is_quoted_in_at_most_40_characters():
    """A link value, or a link key, of any length is named in the notice, not echoed whole."""
    at = AppTest.from_file(str(ROOT / "pages" / "seeds.py"), default_timeout=60)  # it waits for a click to train
    # seed and seeds: Streamlit itself failed on an infinite integer before (OverflowError)
    at.query_params.update({"size": LONG, "seed": "9" * 400, "seeds": "inf", "y" * 1000: "1"})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("`size=xxx" in e for e in errors) and any("`seed=999" in e for e in errors), errors
    assert any("`seeds=inf` was ignored" in e for e in errors), errors
    assert any("is not a setting" in e for e in errors), errors
    assert all("x" * 41 not in e and "9" * 41 not in e and "y" * 41 not in e for e in errors), errors
    at.run()  # and the next run binds the widgets again
    assert not at.exception and "seeds" not in at.query_params and at.sidebar.number_input(key="seeds").value == 5


@pytest.mark.usefixtures("clear_streamlit_caches")
def test_a_link_number_in_other_digits_is_refused_like_on_the_command_line():
    """Streamlit's number fields read a link with float(), which takes '١٢' for 12: refused, as --set size=١٢ is."""
    at = AppTest.from_file(str(ROOT / "pages" / "seeds.py"), default_timeout=60)
    at.query_params.update({"size": "\u0661\u0662", "seed": "\u0663", "gamma": "0.9_5"})
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "`size=\u0661\u0662` was ignored: size must be of type int" in errors, errors
    assert "`seed=\u0663` was ignored" in errors and "`gamma=0.9_5` was ignored" in errors, errors
    assert at.sidebar.number_input(key="seed").value == 0 and at.session_state["size"] != 12


def test_the_oversized_link_notice_uses_streamlits_own_limits():
    """Streamlit drops a query string beyond these (the notice itself is shown by the browser: tests/e2e)."""
    from streamlit.runtime.state import query_params

    assert ui.LINK_MAX_FIELDS == query_params.CLIENT_STATE_QUERY_STRING_MAX_FIELDS
    assert ui.LINK_MAX_CHARACTERS == query_params.CLIENT_STATE_QUERY_STRING_MAX_LENGTH
    too_many = "&".join(f"p{i}=1" for i in range(ui.LINK_MAX_FIELDS + 1))
    assert query_params.sanitize_query_string(too_many) == ""
    assert query_params.sanitize_query_string(too_many.rsplit("&", 1)[0]) != ""
