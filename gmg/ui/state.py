"""Pages, session state, notices and the server-wide store of finished runs: what every page starts with."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from .. import caps
from ..envs import ENVS
from ..envs.card import EnvCard
from ..experiment import RECORDED_EPISODES  # noqa: F401  (the pages' count of recorded episodes, re-exported)
from ..jobs import ResultStore
from ..params import ParamError
from ..train import RunLimits
from ..warmup import warm_up_in_background


RESULTS_KEPT = 16  # finished runs kept for the whole server (about 3 MB each)
HISTORY_KEPT = 8  # recent runs a session can go back to
APPLIED, APPLIED_NOW = "_applied_keys", "_applied_keys_now"  # session keys of apply_values's hand-over
POLL_SECONDS = 1.0  # a page's progress refresh while its run trains
# ... and while it only waits in the queue: every visitor's page polls the one server, so a long queue
# of fast-polling pages starved the server (measured: ten visitors' pages froze for a minute)
WAIT_POLL_SECONDS = 3.0
LIMIT_NAMES = tuple(f.name for f in dataclasses.fields(RunLimits))
OWNER_KEY = "owner"  # link parameter: the visitor's key to their saved runs (run_owner)
# link parameters of page widgets that are not settings of the run
MOVES_KEY = "moves"  # the things a visitor moved on a test map (gmg.ui.moves)
PAGE_LINK_KEYS = ("episode", "plots", "random", "policy_at", "seeds", MOVES_KEY)
PAGE_CONFIG = dict(page_title="Goal misgeneralization explorer", page_icon=":material/explore:", layout="wide")
# Streamlit leaves 6rem above a page's title; the toolbar it clears needs half that (style only: the
# style sheet takes no room on the page)
PAGE_STYLE = "<style>.stMainBlockContainer { padding-top: 3rem; } h1 { font-size: 2.25rem !important; }</style>"
# (file, title, icon): app.py routes them; every page links to them from its sidebar
PAGES = (
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/explore.py", "Explore", ":material/science:"),
    ("pages/compare.py", "Preset: failure vs cure", ":material/compare_arrows:"),
    ("pages/raw.py", "Features vs raw observations", ":material/neurology:"),
    ("pages/tree.py", "Tree gridworld", ":material/park:"),
    ("pages/expressions.py", "Expressions (not RL)", ":material/calculate:"),
    ("pages/diagnose.py", "Diagnose: GMG or gaming?", ":material/troubleshoot:"),
    ("pages/seeds.py", "Seed variance", ":material/scatter_plot:"),
    ("pages/sweep.py", "Sweep: diversity vs GMG", ":material/ssid_chart:"),
    ("pages/maze_probe.py", "Move the cheese (or coin)", ":material/grid_on:"),
    ("pages/move.py", "Move things on the map", ":material/pan_tool:"),
    ("pages/runs.py", "Saved runs", ":material/folder_open:"),
)


# the ten-minute lecture's path: Monster's preset -> move the coin -> expressions -> diagnose; page ->
# (the next page, what it shows, its link parameters)
LECTURE_NEXT = {
    "compare": ("pages/maze_probe.py", "move the coin, and see where the agent goes", {"probe_env": "coin"}),
    "maze_probe": ("pages/expressions.py", "goal misgeneralization without reinforcement learning", {}),
    "expressions": ("pages/diagnose.py", "goal misgeneralization or specification gaming?", {}),
}


def init_state() -> None:
    """Idempotent; every page calls it first, because a deep link can run a page without app.py."""
    st.set_page_config(**PAGE_CONFIG)
    st.html(PAGE_STYLE)
    warm_up_in_background()  # once per server: the compiled kernels ready before the first Train
    try:
        caps.current()
    except caps.CapsError as exc:  # the operator's mistake: say so on every page, and nothing else
        st.error(f"This server's resource caps are misconfigured: {exc}", icon=":material/error:")
        st.stop()
    ss = st.session_state
    ss[APPLIED_NOW] = ss.pop(APPLIED, set())  # the keys a callback set just before this run (apply_values)
    ss.setdefault("jobs", {})  # page -> [TrainJob] training for that page
    ss.setdefault("shown", {})  # page -> tuple of Experiments on display
    ss.setdefault("history", [])  # recent Experiments, newest first
    ss.setdefault("notices", {})  # page -> [(kind, message)] kept until the next Train click
    ss.setdefault("auto_started", set())  # pages that already trained on their first visit
    ss.setdefault("last_started", {})  # page -> the runs it last started
    oversized_link_notice()


# Streamlit 1.67 drops a whole query string beyond these limits (streamlit.runtime.state.query_params,
# CLIENT_STATE_QUERY_STRING_MAX_FIELDS and _MAX_LENGTH), silently: the page runs with the defaults
LINK_MAX_FIELDS, LINK_MAX_CHARACTERS = 1000, 512 * 1024
OVERSIZED_LINK_HTML = f"""<div class="gmg-oversized-link" role="alert" style="display: none; padding: 0.75rem 1rem;
border-radius: 0.5rem; background: rgba(255, 43, 43, 0.09); color: rgb(125, 53, 59);">This link has more than
{LINK_MAX_FIELDS} parameters (or more than {LINK_MAX_CHARACTERS // 1024} KiB): Streamlit ignored all of them, so this
page shows the default settings, not the link's.</div>
<script>
for (const notice of document.querySelectorAll(".gmg-oversized-link")) {{
  const query = window.location.search.replace(/^\\?/, "");
  const over = query && (query.split("&").length > {LINK_MAX_FIELDS} || query.length > {LINK_MAX_CHARACTERS});
  notice.style.display = over ? "block" : "none";
  // hidden, its element takes no room either (the page's gap between elements)
  const element = notice.closest("[data-testid='stElementContainer']");
  if (element) element.style.display = notice.style.display;
}}
</script>"""


def oversized_link_notice() -> None:
    """A notice on the page when the link was too large for Streamlit, which then drops all of it.

    The server cannot tell: Streamlit empties the query string before the page runs, st.context.url
    has no query, and the browser sends no Referer with the WebSocket's handshake (measured with
    chromium). The browser still shows the link, so a small static script (nothing of the link is
    written into the page) counts its parameters as Streamlit does and reveals the notice.
    """
    st.html(OVERSIZED_LINK_HTML, unsafe_allow_javascript=True)


def page_link(path: str, label: str, icon: str, container=None, query: dict | None = None) -> None:
    """st.page_link (with link parameters `query`); a plain link when the page file runs alone (AppTest
    of one page) and cannot resolve it."""
    container = container or st
    try:
        container.page_link(path, label=label, icon=icon, query_params=query)
    except StreamlitPageNotFoundError:
        container.markdown(f"[{label}](/{Path(path).stem}{'?' + urlencode(query) if query else ''})")


def lecture_next(page: str) -> None:
    """The link to the next stop of the ten-minute lecture (LECTURE_NEXT), at the bottom of its page."""
    path, label, query = LECTURE_NEXT[page]
    st.divider()
    page_link(path, f"Next in the lecture: {label}", ":material/arrow_forward:", query=query)


def navigation_links() -> None:
    """The page menu, drawn by every page: identical whether app.py routed the visit or a cold deep
    link ran the page file alone (where Streamlit's own menu would list the raw files)."""
    for path, title, icon in PAGES:
        page_link(path, title, icon, st.sidebar)
    st.sidebar.divider()


def show_figure(fig: go.Figure, key: str, container=None, on_click: bool = False):
    """Figures keep their own styling (theme=None), so the app and the HTML downloads look alike. No
    plotly toolbar: it covered the titles; a drag still zooms, a double click resets, and each page's
    downloads hold the figures. `on_click`: a click on a point reruns the page and the chart's state
    (returned) holds the point."""
    select = {"on_select": "rerun", "selection_mode": "points"} if on_click else {}
    return (container or st).plotly_chart(fig, key=key, theme=None, **select,
                                          config={"displaylogo": False, "displayModeBar": False})


def checked(make):
    """`make()` (which builds Experiments) or None after showing the library's message as an error."""
    try:
        return make()
    except ParamError as exc:
        st.error(f"These settings cannot be trained: {exc}", icon=":material/error:")
        return None


def add_notice(page: str, kind: str, message: str) -> None:
    notices = st.session_state["notices"].setdefault(page, [])
    if (kind, message) not in notices:
        notices.append((kind, message))


def show_notices(page: str) -> None:
    for kind, message in st.session_state["notices"].get(page, []):
        {"error": st.error, "warning": st.warning, "info": st.info}[kind](message)


@st.cache_resource
def result_store() -> ResultStore:
    """Finished runs, shared by every session: the same settings replay instantly for anyone."""
    return ResultStore(RESULTS_KEPT)


def guide(env_name: str) -> EnvCard:
    """What the app says about an environment: its card (gmg.envs.card), kept in the environment's module."""
    return ENVS[env_name].card
