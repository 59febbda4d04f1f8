"""Streamlit glue shared by the pages: the only module of gmg that imports streamlit.

Pages read widgets, call the library and display; what they share lives here: session state,
the sidebar settings (every widget bound to a URL query parameter, so any view is a link),
background training with a live progress fragment, the server-wide cache of finished runs and
their figures, and the small presentation choices per environment (`GUIDES`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit import runtime
from streamlit.errors import StreamlitPageNotFoundError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from . import caps, diagnose, probe, render
from .agents import AGENTS
from .envs import ENVS
from .experiment import RunResult, summary
from .jobs import JobQueue, ResultStore, TrainJob
from .params import ParamError, clip, describe, parse_value, plain
from .storage import OWNER, SHARED, RunExists, RunStore, SavedExperiment, StorageError, new_owner, shared
from .studies import STUDIES, StudyRun
from .train import MAX_SEED, Experiment, RunLimits, StoppedExperiment

RESULTS_KEPT = 16  # finished runs kept for the whole server (about 3 MB each)
HISTORY_KEPT = 8  # recent runs a session can go back to
APPLIED, APPLIED_NOW = "_applied_keys", "_applied_keys_now"  # session keys of _apply_values's hand-over
RECORDED_EPISODES = 4  # episodes per split whose frames are kept for the animation
POLL_SECONDS = 0.5
EPISODE_LENGTH_CHOICES = (25, 50, 100, 200)
LIMIT_NAMES = tuple(f.name for f in dataclasses.fields(RunLimits))
# link parameters of page widgets that are not settings of the run
PAGE_LINK_KEYS = ("episode", "plots", "random", "policy_at", "seeds")
# the policy field's moment: where the goals come apart, or t=0. Streamlit writes a bound widget's
# formatted label into the link, so these options are shown as they are, with a caption each
POLICY_MOMENTS = ("goals apart", "episode start")
# The policy field is drawn this many steps after the goals came apart: at the very first step
# the agent may hold nothing (Monster: every shield used on the last monsters), a state both
# agents rarely met in training, where they act alike; a few steps on, the recorded agent holds
# what it usually holds and the agents' goals show (measured on seeds 0-1, 8 of 8 episodes).
POLICY_SETTLE_STEPS = 10


# ---------------------------------------------------------------- per-environment presentation
@dataclass(frozen=True)
class EnvGuide:
    """How the UI talks about one environment: what the library's numbers mean to a reader."""

    split_label: str = "goals come apart"  # marks the step from which the goals disagree
    # headline metric -> (short label, help) for the top row; empty: every metric, generic labels
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)
    bar_metrics: tuple[str, ...] = ()  # metrics in the same unit, compared as bars (empty: all)
    bar_unit: str = ""
    contrast: tuple[str, tuple] | None = None  # preset: (parameter, (GMG value, cure value))
    contrast_label: str = "{} = {}"  # run title from (parameter, value)
    notice: str = ""  # the second "what to notice" line on Explore
    compare_notice: str = ""  # the second "what to notice" line on the preset
    weights_hint: str = ""  # where to look in a linear agent's weight table
    agent: str = "linear_q"  # the agent chosen with the environment: the one its presets are measured with
    preset_title: str = "The failure beside its cure"  # the title of the preset page
    # Explore's preset buttons, {label: changes from the defaults}; empty: the contrast's two values
    presets: dict[str, dict] = field(default_factory=dict)


GUIDES = {
    "monster": EnvGuide(
        split_label="last monster died",
        metrics={
            "apples_per_100_after_clear": (
                "Apples after clear", "Apples (intended goal) per 100 steps taken after the last monster died."),
            "shields_per_100_after_clear": (
                "Shields after clear",
                "Shields (proxy goal) per 100 steps taken after the last monster died, when they are worthless."),
            "hits_per_100_while_monsters_alive": (
                "Monster hits", "Hits taken without a shield, per 100 steps while monsters live: competence."),
            "cleared_share": ("Episodes cleared", "Share of episodes in which every monster died."),
        },
        bar_metrics=("apples_per_100_after_clear", "shields_per_100_after_clear", "hits_per_100_while_monsters_alive"),
        bar_unit="per 100 steps",
        contrast=("train_episode_length", (25, 200)),
        preset_title="Shields vs apples: short vs long training episodes",
        contrast_label="Trained on {1}-step episodes",
        notice=(
            "Once the last monster is dead (dotted line) a shield is worthless: every step spent on shields is "
            "a misgeneralised goal. Agents trained on 25-step episodes saw a monster-free world only in the last "
            "few steps of some episodes."
        ),
        weights_hint=(
            "After the last monster died, with a shield held, all three columns apply: add them up for "
            "\"closer to shield\" and for \"closer to apple\". An agent trained on 200-step episodes ends "
            "with apples ahead; one trained on 25-step episodes keeps shields ahead (seed 0: 0.38 vs 0.26)."
        ),
        compare_notice=(
            "Both agents learned from the same reward and see the same test maps; only the length of their "
            "training episodes differs. Watch what each does after the last monster dies."
        ),
    ),
    "keys": EnvGuide(
        split_label="keys held suffice",
        metrics={
            "surplus_keys_per_episode": (
                "Surplus keys", "Keys (proxy goal) picked up while the keys held already sufficed for every chest left."),
            "chests_per_episode": ("Chests opened", "Chests (intended goal) opened per episode: the reward."),
            "steps_to_last_chest": ("Steps to last chest", "Steps until the last chest was opened: what hoarding costs."),
            "chests_opened_share": ("Chests opened share", "Chests opened out of those the level's keys could open."),
        },
        bar_metrics=("chests_per_episode", "keys_per_episode", "surplus_keys_per_episode"),
        bar_unit="per episode",
        contrast=("test_like_share", (0.0, 0.5)),
        contrast_label="Test-like training levels: {1}",
        notice=(
            "On test levels keys are plentiful: once the agent holds as many keys as there are chests left "
            "(dotted line), every further key is worthless. In training keys were scarce, so every key held "
            "became a chest soon after."
        ),
        weights_hint=(
            "With enough keys held, add the \"always\" and \"keys held >= chests left\" columns: a default agent "
            "never met that context in training, so its weights there are 0 and \"closer to key\" stays ahead. "
            "With chest_pull_needs_key (environment parameters) \"closer to chest\" counts only with a key in hand: "
            "that learner stops hoarding on the same training levels."
        ),
        compare_notice=(
            "Both agents learned from the same reward; the cured one saw test-like levels (plentiful keys) in half "
            "of its training. Watch who heads for the chests once the keys held suffice."
        ),
    ),
    "follow": EnvGuide(
        split_label="rule and partner disagree",
        metrics={
            "return_per_episode": ("Return", "Correct visits minus wrong ones, per episode."),
            "partner_following": (
                "Partner following", "Share of the agent's visits to the tile the partner visited last (proxy goal)."),
            "wrong_visits_per_episode": ("Wrong visits", "Visits out of the hidden cyclic order, per episode."),
            "mean_distance_to_partner": ("Distance to partner", "Mean steps between the agent and the partner."),
        },
        bar_metrics=("correct_visits_per_episode", "wrong_visits_per_episode", "return_per_episode"),
        bar_unit="per episode",
        contrast=("anti_expert_share", (0.0, 0.3)),
        contrast_label="Anti-expert partner in {1:.0%} of training episodes",
        notice=(
            "On test episodes the partner is an anti-expert: it tours the tiles in the reverse order, so every "
            "tile it leads to is a wrong visit. In training the partner was always an expert, and following it "
            "was the cheapest way to the reward."
        ),
        weights_hint=(
            "Compare the weights of \"enters the partner's next after my last\" and \"enters the verified "
            "successor\": the first is what an agent trained with the expert always present relies on. Its "
            "\"partner disproved\" column stays 0: it never met a partner that was wrong. Trained with anti-experts, "
            "that column turns it toward \"the disproved partner's tile before my last\": the rule's next."
        ),
        compare_notice=(
            "Both agents learned from the same reward; the second trained with an anti-expert partner in 30% of "
            "its episodes. Watch which tiles each enters once the anti-expert has led it to a wrong visit, and what "
            "each earns."
        ),
    ),
    "coin": EnvGuide(
        split_label="coin away from the end",
        metrics={
            "coin_rate": ("Coin", "Share of episodes that got the coin (intended goal)."),
            "end_rate": ("End without coin", "Share of episodes that reached the end of the level without the coin (proxy goal)."),
            "death_rate": ("Deaths", "Share of episodes ended by lava or the enemy: competence."),
            "steps_per_episode": ("Steps", "Steps per episode."),
        },
        bar_metrics=("coin_rate", "end_rate", "death_rate"),
        bar_unit="share of episodes",
        contrast=("random_coin_share", (0.0, 0.3)),
        preset_title="The coin: always at the end vs randomised in 30% of training levels",
        agent="explore_q",
        presets={"Coin always at the end": {}, "2% randomised (the published cure)": {"random_coin_share": 0.02},
                 "15% randomised (this agent's cure)": {"random_coin_share": 0.15}},
        contrast_label="Coin randomised in {1:.0%} of training levels",
        notice=(
            "In training the coin lies at the end of the level; on the test maps it lies anywhere. The published "
            "deep agents were cured by 2% of levels with the coin elsewhere; this linear agent needs more: 2% "
            "barely moves it, 10% cures some seeds, 15% cures every seed measured (README). The agent is "
            "explore_q, which explores what it has rarely seen: with linear_q, which rarely leaves its route, the "
            "randomised coins are never collected and no share cures it."
        ),
        weights_hint=(
            "Each \"closer to coin\" weight belongs to one region of the coin's position: with the coin always at "
            "the end, only the bottom-right region's weight ever moves; \"closer to end\" is valid everywhere."
        ),
        compare_notice="Both agents learned from the same reward; only the share of levels with the coin elsewhere differs.",
    ),
    "maze": EnvGuide(
        split_label="cheese away from the corner",
        metrics={
            "cheese_rate": ("Cheese", "Share of episodes that got the cheese (intended goal)."),
            "corner_rate": ("Corner without cheese", "Share of episodes that reached the top-right corner without the cheese (proxy goal)."),
            "decision_cheese_rate": ("Turns to cheese", "At the decision square, the share of moves toward the cheese."),
            "steps_per_episode": ("Steps", "Steps per episode."),
        },
        bar_metrics=("cheese_rate", "corner_rate", "decision_cheese_rate"),
        bar_unit="share",
        contrast=("cheese_region", (1, 9)),
        preset_title="The cheese: in the corner vs anywhere in training",
        agent="explore_q",
        presets={"Cheese in the corner": {}, "Cheese in a 5x5 region": {"cheese_region": 5},
                 "Cheese in a 7x7 region (this agent's cure)": {"cheese_region": 7}},
        contrast_label="Cheese in the top-right {1}x{1} region",
        notice=(
            "In training the cheese lies in the top-right corner, or in a larger top-right region; on the test "
            "maps it lies anywhere in the 9x9 maze. Watch the decision square. Measured over 10 seeds (README): a "
            "5x5 region moves the cheese rate from about 0.4 to 0.6 only; a 7x7 region cures every seed. The "
            "agent is explore_q: linear_q rarely leaves its route to find the cheese, so no region cures it."
        ),
        weights_hint="Each \"closer to cheese\" weight belongs to one region of the cheese's position.",
        compare_notice="Both agents learned from the same reward; only the training region of the cheese differs.",
    ),
}


def guide(env_name: str) -> EnvGuide:
    return GUIDES.get(env_name, EnvGuide())


# ---------------------------------------------------------------- pages, session state and caches
PAGE_CONFIG = dict(page_title="Goal misgeneralization explorer", page_icon=":material/explore:", layout="wide")
# (file, title, icon): app.py routes them; every page links to them from its sidebar
PAGES = (
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/explore.py", "Explore", ":material/science:"),
    ("pages/compare.py", "Preset: failure vs cure", ":material/compare_arrows:"),
    ("pages/tree.py", "Tree gridworld", ":material/park:"),
    ("pages/expressions.py", "Expressions (not RL)", ":material/calculate:"),
    ("pages/diagnose.py", "Diagnose: GMG or gaming?", ":material/troubleshoot:"),
    ("pages/seeds.py", "Seed variance", ":material/scatter_plot:"),
    ("pages/sweep.py", "Sweep: diversity vs GMG", ":material/ssid_chart:"),
    ("pages/maze_probe.py", "Move the cheese (or coin)", ":material/grid_on:"),
    ("pages/runs.py", "Saved runs", ":material/folder_open:"),
)


def init_state() -> None:
    """Idempotent; every page calls it first, because a deep link can run a page without app.py."""
    st.set_page_config(**PAGE_CONFIG)
    try:
        caps.current()
    except caps.CapsError as exc:  # the operator's mistake: say so on every page, and nothing else
        st.error(f"This server's resource caps are misconfigured: {exc}", icon=":material/error:")
        st.stop()
    ss = st.session_state
    ss[APPLIED_NOW] = ss.pop(APPLIED, set())  # the keys a callback set just before this run (_apply_values)
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


def page_link(path: str, label: str, icon: str, container=None) -> None:
    """st.page_link; a plain link when the page file runs alone (AppTest of one page) and cannot resolve it."""
    container = container or st
    try:
        container.page_link(path, label=label, icon=icon)
    except StreamlitPageNotFoundError:
        container.markdown(f"[{label}](/{Path(path).stem})")


def navigation_links() -> None:
    """The page menu, drawn by every page: identical whether app.py routed the visit or a cold deep
    link ran the page file alone (where Streamlit's own menu would list the raw files)."""
    for path, title, icon in PAGES:
        page_link(path, title, icon, st.sidebar)
    st.sidebar.divider()


def show_figure(fig: go.Figure, key: str, container=None) -> None:
    """Figures keep their own styling (theme=None), so the app and the HTML downloads look alike."""
    (container or st).plotly_chart(fig, key=key, theme=None, config={"displaylogo": False})


@st.cache_resource
def result_store() -> ResultStore:
    """Finished runs, shared by every session: the same settings replay instantly for anyone."""
    return ResultStore(RESULTS_KEPT)


@st.cache_data(max_entries=64, show_spinner=False)
def run_summary(experiment) -> dict:
    """The JSON summary of a stored run: an Experiment's (metrics, attribution, config), or what any
    other job (a study, a diagnosis, a seed study) says of its result."""
    result = result_store().get(experiment)
    summarize = getattr(experiment, "summarize", None)
    return summarize(result) if summarize is not None else summary(result)


Panel = tuple[str, Experiment, str]  # (title, run, split)


@st.cache_resource(max_entries=64, show_spinner=False)
def figure(kind: str, panels: tuple[Panel, ...], episode: int | None = None) -> go.Figure:
    """A figure over stored runs, built once per server and shared: treat it as read-only.

    kind: "animation" (synced maps; `episode` picks the recorded episode), "goal_counts" or
    "posterior" (`episode` None averages over every evaluated episode).
    """
    store = result_store()
    env = store.get(panels[0][1]).env
    rollouts = [(title, store.get(experiment).rollouts[split]) for title, experiment, split in panels]
    split_label = guide(env.name).split_label
    if kind == "animation":
        return render.trajectory_animation(env, rollouts, episode or 0)
    if kind == "goal_counts":
        return render.goal_count_figure(env, rollouts, episode, split_label)
    if kind == "posterior":
        return render.posterior_figure(env, rollouts, episode, split_label=split_label)
    raise ValueError(f"unknown figure kind {kind!r}")


@dataclass(frozen=True)
class PolicyView:
    figure: go.Figure
    fields: dict  # title -> probe.PolicyField
    t: int  # the recorded step probed
    when: str  # which moment that is, for captions


@st.cache_resource(max_entries=64, show_spinner=False)
def policy_view(agents: tuple[tuple[str, Experiment], ...], episode: int, moment: str) -> PolicyView:
    """Policy fields of each (title, run)'s agent on one recorded test state, and their figure.

    The state is the first run's test episode `episode` at `moment` (one of POLICY_MOMENTS:
    POLICY_SETTLE_STEPS after the goals came apart, or the last step if they never did; or t=0).
    Built once per server and shared: treat it as read-only.
    """
    store = result_store()
    source = store.get(agents[0][1])
    env, rollout = source.env, source.rollouts["test"]
    split_step = int(render.goal_split_steps(env, rollout)[episode])
    if moment == "episode start":
        t, when = 0, _moment_label(env.name, moment)
    elif split_step >= 0:
        t, when = min(split_step + POLICY_SETTLE_STEPS, len(rollout.frames) - 1), _moment_label(env.name, moment)
    else:
        t, when = len(rollout.frames) - 1, f"the last step: the {guide(env.name).split_label} never happened"
    state = rollout.frames[t].rows(slice(episode, episode + 1))
    fields = {title: probe.policy_field(store.get(run).env, store.get(run).trained.agent, state)
              for title, run in agents}
    figure = render.policy_field_figure(env, [(title, state, field) for title, field in fields.items()])
    return PolicyView(figure, fields, t, when)


# ---------------------------------------------------------------- settings (sidebar)
@dataclass(frozen=True)
class Settings:
    """The sidebar's choices; `experiment()` turns them (plus changes) into a validated Experiment."""

    env_name: str
    agent_name: str
    seed: int
    env_values: dict
    agent_values: dict
    limit_values: dict

    def experiment(self, agent_name: str | None = None, **changes) -> Experiment:
        """Raises ParamError. Another agent than the sidebar's keeps env and limits, not agent params."""
        agent = agent_name or self.agent_name
        agent_values = self.agent_values if agent == self.agent_name else {}
        overrides = {**self.env_values, **agent_values, **self.limit_values, **changes}
        return Experiment.build(self.env_name, agent, self.seed, overrides)


def sidebar_settings(page: str, fix_contrast: bool = False) -> Settings:
    """Draw the settings in the sidebar; with `fix_contrast`, the environment's preset parameter
    (its guide's `contrast`) is set by the page and not shown.

    Every widget is bound to a query parameter named by its key. Streamlit silently drops a
    link value a widget cannot take; here the user is told why.
    """
    raw_link = st.query_params.to_dict()
    bar = st.sidebar
    bar.header("Settings")
    env_name = bound_widget(page, bar.selectbox, "Environment", "env", options=list(ENVS), raw_link=raw_link,
                      on_change=_environment_changed,
                      help="; ".join(f"{name}: {cls.title}" for name, cls in ENVS.items()) + ". Choosing one also "
                           "chooses the agent its presets are measured with.")
    agent_name = bound_widget(page, bar.selectbox, "Agent", "agent", options=list(AGENTS), raw_link=raw_link,
                        on_change=_agent_changed,
                        help="; ".join(f"{name}: {cls.title}" for name, cls in AGENTS.items()) + ". The random "
                             "agent is the floor every metric is read against.")
    seed = bound_widget(page, bar.number_input, "Seed", "seed", min_value=0, max_value=MAX_SEED, value=0, step=1,
                  raw_link=raw_link, help="Same seed and settings give the same run, replayed from the cache.")
    contrast = guide(env_name).contrast
    fixed = (contrast[0],) if fix_contrast and contrast else ()
    env_rows = [row for row in describe(ENVS[env_name].Config) if row["name"] not in fixed]
    limit_rows = [row for row in describe(RunLimits) if row["name"] not in fixed]
    agent_rows = describe(AGENTS[agent_name].Config)
    top = ("train_episode_length", "train_steps")
    values = {row["name"]: _param_widget(page, bar, row, raw_link)
              for row in env_rows + limit_rows if row["name"] in top}
    for title, rows in (("Environment parameters", env_rows), ("Agent parameters", agent_rows),
                        ("Training and evaluation", limit_rows)):
        rows = [row for row in rows if row["name"] not in top]
        if rows:
            with bar.expander(title):
                values.update({row["name"]: _param_widget(page, st, row, raw_link) for row in rows})
    bar.button("Reset to defaults", key=f"{page}_reset", on_click=_apply_values,
               args=(_defaults(env_name, agent_name),),
               help="Every setting back to its default (the link follows).")
    report_unknown_link_keys(page, raw_link)

    def pick(rows):
        return {row["name"]: values[row["name"]] for row in rows}

    return Settings(env_name, agent_name, int(seed), pick(env_rows), pick(agent_rows), pick(limit_rows))


def study_settings(page: str, study_name: str, page_keys: tuple[str, ...] = ()) -> StudyRun | None:
    """Sidebar settings of a study (gmg.studies): seed and every Config field, bound to link parameters
    named `<study>_<field>` (so they never collide with Explore's). None, after an error, if invalid.

    Fields in the study's optional SIDEBAR_GROUPS ({title: names}) go into expanders; the rest on top.
    `page_keys`: the page's own link parameters (not settings), so they are not reported as unknown.
    """
    raw_link = st.query_params.to_dict()
    study = STUDIES[study_name]
    prefix = f"{study_name}_"
    bar = st.sidebar
    bar.header("Settings")
    seed = bound_widget(page, bar.number_input, "Seed", prefix + "seed", min_value=0, max_value=MAX_SEED, value=0, step=1,
                  raw_link=raw_link, help="Same seed and settings give the same run, replayed from the cache.")
    rows = describe(study.Config)
    groups = getattr(study, "SIDEBAR_GROUPS", {})
    grouped = {name for names in groups.values() for name in names}
    values = {row["name"]: _param_widget(page, bar, row, raw_link, study.Config, prefix)
              for row in rows if row["name"] not in grouped}
    for title, names in groups.items():
        with bar.expander(title):
            values.update({row["name"]: _param_widget(page, st, row, raw_link, study.Config, prefix)
                           for row in rows if row["name"] in names})
    bar.button("Reset to defaults", key=f"{page}_reset", on_click=_apply_values,
               args=(study_values(study_name, {}),), help="Every setting back to its default (the link follows).")
    known = {prefix + "seed"} | {prefix + row["name"] for row in rows} | set(page_keys)
    report_unknown_link_keys(page, raw_link, known)
    return checked(lambda: StudyRun.build(study_name, int(seed), values))


def study_values(study_name: str, changes: dict) -> dict:
    """Widget values (keyed as study_settings keys them) for the defaults with `changes` applied."""
    defaults = {row["name"]: row["default"] for row in describe(STUDIES[study_name].Config)}
    return {f"{study_name}_{name}": value for name, value in {"seed": 0, **defaults, **changes}.items()}


def preset_buttons(page: str, study_name: str, presets: dict[str, dict], group: str = "preset") -> None:
    """One button per preset ({label: changes from the defaults}); a click sets the sidebar (and the link)."""
    row = st.container(horizontal=True)
    for i, (label, changes) in enumerate(presets.items()):
        row.button(label, key=f"{page}_{group}_{i}", on_click=_apply_values, args=(study_values(study_name, changes),))


def _environment_changed() -> None:
    """Callback of the environment picker: the new environment's defaults, with the agent its presets
    are measured with and that agent's defaults. A parameter that two environments share (`size`)
    must not carry its old value over: the link leaves defaults out, so a carried value would be on
    screen but not in the link, and the link would no longer reproduce the run. The seed and the
    run's length are the visitor's, kept for every world (and written to the link when not default)."""
    env_name = st.session_state["env"]
    _apply_values(_defaults(env_name, guide(env_name).agent, keep=("seed", *LIMIT_NAMES)))


def _agent_changed() -> None:
    """Callback of the agent picker: the new agent's defaults (agents share names like `gamma`)."""
    agent = AGENTS[st.session_state["agent"]]
    _apply_values({"agent": agent.name, **{row["name"]: row["default"] for row in describe(agent.Config)}})


def checked(make):
    """`make()` (which builds Experiments) or None after showing the library's message as an error."""
    try:
        return make()
    except ParamError as exc:
        st.error(f"These settings cannot be trained: {exc}", icon=":material/error:")
        return None


def _param_widget(page: str, container, row: dict, raw_link: dict, config_cls=None, prefix: str = ""):
    """The widget for one parameter, bound to the link parameter `prefix + name`."""
    name, default, low, high = row["name"], row["default"], row["low"], row["high"]
    label = name.replace("_", " ").capitalize()
    common = dict(help=row["help"], raw_link=raw_link, config_cls=config_cls or _owner_config(name), param=name)
    if name == "train_episode_length":
        options = sorted(set(EPISODE_LENGTH_CHOICES) | {default})
        return bound_widget(page, container.segmented_control, "Training episode length (steps)", name, options=options,
                      default=default, required=True,
                      **{**common, "help": row["help"] + ". 25 is the goal-misgeneralisation setting, 200 the cure."})
    if row["choices"]:
        return bound_widget(page, container.selectbox, label, prefix + name, options=list(row["choices"]),
                      index=list(row["choices"]).index(default), **common)
    if isinstance(default, bool):
        return bound_widget(page, container.toggle, label, prefix + name, value=default, **common)
    if isinstance(default, int):
        step = 50_000 if name == "train_steps" else (1000 if default >= 1000 else 1)
        return bound_widget(page, container.number_input, label, prefix + name, min_value=low, max_value=high, value=default,
                      step=step, **common)
    if isinstance(default, float):
        # about a tenth of the default's order of magnitude, so the +/- buttons make useful moves
        step = 10.0 ** (math.floor(math.log10(abs(default) or 1.0)) - 1)
        return bound_widget(page, container.number_input, label, prefix + name, min_value=float(low) if low is not None else None,
                      max_value=float(high) if high is not None else None, value=float(default), step=step,
                      format="%g", **common)
    return bound_widget(page, container.text_input, label, prefix + name, value=str(default), **common)


def bound_widget(page: str, widget, label: str, key: str, raw_link: dict, config_cls=None, param: str | None = None,
           **kwargs):
    """A widget bound to the query parameter `key` (of `param` in `config_cls`, if it is a setting); a
    link value it refused becomes an error message.

    No `format_func`: Streamlit writes the displayed label into the link, so a formatted option
    would make links carry labels that the same widget then refuses. Options read as they are.
    """
    if "format_func" in kwargs:
        raise TypeError("bound widgets take no format_func (see bound_widget's docstring)")
    raw = raw_link.get(key)
    bind = "query-params"
    if raw is not None and _unreadable_number(raw, kwargs.get("value")):
        # for this run, the widget is not bound and the value leaves the link; reported below
        bind = None
        del st.query_params[key]
    value = widget(label, key=key, bind=bind, persist_state="session", **kwargs)
    if raw is not None and not _same(value, raw) and key not in st.session_state.get(APPLIED_NOW, ()):
        _add_notice(page, "error", f"Link parameter `{clip(key)}={clip(raw)}` was ignored{_why(param or key, raw, config_cls, kwargs)}. "
                                   f"Using {clip(value)}.")
    return value


def _why(key: str, raw: str, config_cls, widget_kwargs: dict) -> str:
    """The most specific reason a widget refused a link value: the library's check, else the widget's."""
    if config_cls is not None:
        try:
            parse_value(config_cls, key, raw)
        except ParamError as exc:
            return f": {exc}"
    if "options" in widget_kwargs:
        return f": choose one of {', '.join(map(str, widget_kwargs['options']))}"
    if "min_value" in widget_kwargs:
        return f": {key} must be a number between {widget_kwargs['min_value']} and {widget_kwargs['max_value']}"
    return ""


def _unreadable_number(raw: str, value) -> bool:
    """A link value a number field (of default `value`) must not take, though Streamlit 1.67 would: it
    reads the link with float(), so '١٢' is 12 (params.plain), and on inf (`inf`, `1e999`, 400 digits)
    an integer field (number input, slider) raises OverflowError, uncaught: the page would fail."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    if not plain(raw):
        return True
    try:
        return isinstance(value, int) and not math.isfinite(float(raw))
    except ValueError:
        return False  # not a number: Streamlit refuses it itself


def _same(value, raw: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == raw.lower()
    try:
        return float(raw) == float(value)
    except (TypeError, ValueError):
        return str(value) == raw


def _owner_config(name: str):
    for cls in [RunLimits] + [env.Config for env in ENVS.values()] + [agent.Config for agent in AGENTS.values()]:
        if name in {f.name for f in dataclasses.fields(cls)}:
            return cls
    return None


def _known_link_keys() -> set[str]:
    keys = {"env", "agent", "seed", *PAGE_LINK_KEYS, *LIMIT_NAMES}
    for cls in [env.Config for env in ENVS.values()] + [agent.Config for agent in AGENTS.values()]:
        keys |= {f.name for f in dataclasses.fields(cls)}
    return keys


def report_unknown_link_keys(page: str, raw_link: dict, known: set[str] | None = None) -> None:
    # Streamlit's own parameters (embed, embed_options) are not ours to judge; the key to the
    # visitor's saved runs (run_owner) is no setting either
    unknown = sorted(set(raw_link) - (known or _known_link_keys()) - {"embed", "embed_options", OWNER_KEY})
    for key in unknown:
        _add_notice(page, "error", f"Link parameter `{clip(key)}` is not a setting of this explorer and was ignored.")


def _defaults(env_name: str, agent_name: str, keep: tuple[str, ...] = ()) -> dict:
    """Widget values for every default of this environment and agent; the names in `keep` are left as they are."""
    values = {"env": env_name, "agent": agent_name, "seed": 0}
    for cls in (ENVS[env_name].Config, AGENTS[agent_name].Config, RunLimits):
        values.update({row["name"]: row["default"] for row in describe(cls)})
    return {key: value for key, value in values.items() if key not in keep or key not in st.session_state}


def _experiment_values(experiment: Experiment) -> dict:
    return {"env": experiment.env_name, "agent": experiment.agent_name, "seed": experiment.seed,
            **experiment.config_dict()}


def _apply_values(values: dict) -> None:
    """Callback (runs before the widgets are drawn): set widgets, and so the link, to `values`.

    The page reads the link before its widgets write these values into it: for this one run, a
    link value that differs from them is the visitor's change (see `bound_widget`), not a value refused."""
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state[APPLIED] = set(values)


def page_toggle(page: str, label: str, key: str, help: str) -> bool:
    """A page-level switch in the sidebar, bound to the link like the settings."""
    return bound_widget(page, st.sidebar.toggle, label, key, raw_link=st.query_params.to_dict(), value=False, help=help)


def view_controls(page: str) -> tuple[int, int | None]:
    """Sidebar 'View': the recorded episode to animate; goal plots follow it or average all episodes.

    Returns (animated episode, episode for the goal plots or None for the mean), 0-based.
    """
    raw_link = st.query_params.to_dict()
    bar = st.sidebar
    bar.header("View")
    shown = bound_widget(page, bar.segmented_control, "Episode to animate", "episode",
                   options=list(range(1, RECORDED_EPISODES + 1)), default=1, required=True, raw_link=raw_link,
                   help="The first evaluation episodes of each split are recorded frame by frame.")
    scope = bound_widget(page, bar.radio, "Goal plots show", "plots", options=["all", "episode"], raw_link=raw_link,
                   captions=["the mean over all evaluated episodes", "the animated episode only"])
    shown = shown or 1  # required, yet a client can still send no choice: the first episode
    return shown - 1, (shown - 1 if scope == "episode" else None)


def policy_moment_control(page: str, env_name: str) -> str:
    """Sidebar 'View', continued: the moment of the animated test episode the policy field shows.

    In the sidebar, drawn on every run, so the link keeps the choice while a run trains.
    """
    return bound_widget(page, st.sidebar.radio, "Policy field at", "policy_at", options=list(POLICY_MOMENTS),
                  captions=[_moment_label(env_name, moment) for moment in POLICY_MOMENTS],
                  raw_link=st.query_params.to_dict(),
                  help="The moment of the animated test episode at which the agent is put on every free cell.")


def _moment_label(env_name: str, moment: str) -> str:
    if moment == "episode start":
        return "the start of the episode"
    return f"{POLICY_SETTLE_STEPS} steps after the {guide(env_name).split_label}"


# ---------------------------------------------------------------- training
def _add_notice(page: str, kind: str, message: str) -> None:
    notices = st.session_state["notices"].setdefault(page, [])
    if (kind, message) not in notices:
        notices.append((kind, message))


def _show_notices(page: str) -> None:
    for kind, message in st.session_state["notices"].get(page, []):
        {"error": st.error, "warning": st.warning, "info": st.info}[kind](message)


def training_controls(page: str, experiments: list, label: str = "Train", auto_start: bool = True,
                      start: str = "first visit") -> None:
    """Train and Stop buttons, training on a page's first visit (unless `auto_start` is off: a heavy
    job waits for the click; with `start="whenever missing"`, on any visit that lacks a result), and
    the live progress panel.

    Every run goes through the server's job queue (gmg.jobs): a child process each, at most
    `caps.job_limit()` at once, the rest waiting with their place shown. This page stays responsive
    and polls its jobs from a fragment. Settings that were trained before (by anyone on this
    server) replay from the cache.
    """
    ss = st.session_state
    jobs = ss["jobs"].get(page, [])
    running = any(not job.finished for job in jobs)
    store = result_store()
    missing = [e for e in experiments if e not in store]
    row = st.container(horizontal=True, vertical_alignment="center")
    clicked = row.button(label, type="primary", key=f"{page}_train", disabled=running or not experiments,
                         icon=":material/play_arrow:")
    if row.button("Stop", key=f"{page}_stop", disabled=not running, icon=":material/stop:",
                  help="Stops training; a partly trained agent is kept and shown, labelled with its steps."):
        for job in jobs:
            job.request_stop()
    # "whenever missing": each new set of missing runs starts once (a run that failed is not retried by itself)
    first_visit = auto_start and (ss["last_started"].get(page) != tuple(missing) if start == "whenever missing"
                                  else page not in ss["auto_started"] and not ss["shown"].get(page))
    if experiments:
        ss["auto_started"].add(page)
    if clicked:
        ss["notices"].pop(page, None)
        if not missing:
            row.caption("Loaded from the cache: these settings were trained before.")
    if (clicked or first_visit) and missing and not running:
        ss["jobs"][page] = job_queue().submit([_job(e) for e in missing])
        ss["last_started"][page] = tuple(missing)
        st.rerun()  # redraw with the job running: Stop enabled, progress polling
    _show_notices(page)
    _progress(page)


def _job(run) -> TrainJob:
    """A job owned by this browser session: when the session ends (the tab closed), the queue ends the job."""
    ctx = get_script_run_ctx()
    return TrainJob(run, RECORDED_EPISODES, owner=ctx.session_id if ctx else None)


@st.cache_resource
def job_queue() -> JobQueue:
    """The server's one queue of runs: at most `caps.job_limit()` train at once, whoever started them."""
    return JobQueue(caps.job_limit, owner_alive=_session_alive)


def _session_alive(session_id: str) -> bool:
    """Is this browser session still connected? (Runtime.is_active_session is safe from any thread.)"""
    if not runtime.exists():
        return True
    return bool(runtime.get_instance().is_active_session(session_id))


def _live_figure(run, rows: list[dict]) -> go.Figure | None:
    live = getattr(run, "live_figure", None)
    if live is not None:  # a study, a diagnosis or a seed study draws its own
        return live(rows)
    if not AGENTS[run.agent_name].learns:
        return None
    return render.learning_curve_figure(run.make_env(), rows, run.limits.train_steps, height=320,
                                        title=f"Learning live: {describe_run(run)}")


def _live_figures(page: str, jobs: list[TrainJob]) -> None:
    """What each started job shows while it runs (a learning curve, or its own live view), side by side."""
    figures = [fig for fig in (_live_figure(job.experiment, job.curve) for job in jobs if job.started_at is not None)
               if fig is not None]
    for i, (column, fig) in enumerate(zip(st.columns(len(figures) or 1), figures)):
        show_figure(fig, f"{page}_live_curve_{i}", column)


def queue_message(jobs: list[TrainJob]) -> str | None:
    """'Waiting: 2 runs ahead of yours ...' while any of these jobs waits for a place, else None."""
    places = [ahead for ahead in (job_queue().ahead(job) for job in jobs) if ahead is not None]
    if not places:
        return None
    ahead = min(places)
    runs = "1 run" if ahead == 1 else f"{ahead} runs"
    first = "yours starts next" if ahead == 0 else f"{runs} ahead of yours"
    return (f"Waiting for a free place: this server trains {caps.job_limit()} at once; {first}. "
            "It starts by itself; Stop leaves the queue.")


def _progress(page: str) -> None:
    jobs = st.session_state["jobs"].get(page, [])
    if not jobs:
        return

    @st.fragment(run_every=POLL_SECONDS if any(not job.finished for job in jobs) else None)
    def panel():
        if all(job.finished for job in jobs):
            _collect(page, jobs)
            st.rerun()
        waiting = queue_message(jobs)
        if waiting:
            st.info(waiting, icon=":material/hourglass_top:")
        started = [job for job in jobs if job.started_at is not None]
        if not started:
            return
        done = sum(1.0 if job.finished else job.progress for job in jobs) / len(jobs)
        seconds = max(job.elapsed for job in started)
        state = "stopping" if any(job.stopped for job in jobs) else "training"
        evaluating = ""
        if done >= 1:
            evaluating = " (evaluating on train and test maps)" if isinstance(jobs[0].experiment, Experiment) else \
                " (finishing)"
        st.progress(min(done, 1.0), text=f"{state.capitalize()}… {done:.0%} after {seconds:.1f} s{evaluating}")
        _live_figures(page, started)

    panel()


def _collect(page: str, jobs: list[TrainJob]) -> None:
    """Move finished jobs' results into the shared store and put them on display.

    A stopped experiment that got under way is kept under its own key (StoppedExperiment), so its
    partly trained agent can be shown without ever standing in for the full run."""
    ss = st.session_state
    ss["jobs"][page] = []
    shown = []
    for job in jobs:
        key, result = job.experiment, job.result
        if job.error:
            what = "Cannot open the saved run" if isinstance(key, SavedExperiment) else "Training failed"
            _add_notice(page, "error", f"{what}: {job.error}")
            continue
        if job.stopped:
            steps = getattr(getattr(result, "trained", None), "steps_done", 0)
            if not isinstance(key, Experiment) or not getattr(result, "rollouts", None) or not steps:
                _add_notice(page, "warning", f"Stopped at {job.progress:.0%}; nothing was kept.")
                continue
            if result.trained.stopped:
                key = StoppedExperiment.of(key, steps)
                _add_notice(page, "warning", f"Stopped after {steps:,} of {key.limits.train_steps:,} training "
                                             "steps: the partly trained agent is shown.")
        result_store().put(key, result)
        _remember(key)
        shown.append(key)
    if len(shown) == len(jobs):
        ss["shown"][page] = tuple(shown)


def shown_runs(page: str, experiments: list[Experiment]) -> list[tuple[Experiment, RunResult]] | None:
    """The runs to display: the current settings if trained, else the page's last runs under a
    warning that they are not the current settings (kept, so no input loses what was shown).

    None (after saying why) when there is nothing to show.
    """
    ss = st.session_state
    store = result_store()
    if experiments and all(e in store for e in experiments):
        ss["shown"][page] = tuple(experiments)
    shown = ss["shown"].get(page, ())
    results = [store.get(e) for e in shown]
    stale = tuple(experiments) != tuple(e.full if isinstance(e, StoppedExperiment) else e for e in shown)
    busy = any(not job.finished for job in ss["jobs"].get(page, []))
    if not shown or any(r is None for r in results):
        if busy:
            st.info("Training in the background: the maps and plots appear here when it finishes.")
        else:
            st.info("Nothing trained yet with these settings: press the Train button above.")
        return None
    for experiment in shown:
        _remember(experiment)
    if stale:
        st.warning(f"**The settings changed.** Below is the previous run ({describe_run(shown[0])}), not the "
                   "current settings: " + ("the new run is training." if busy else "press Train to run them."),
                   icon=":material/history:")
    return list(zip(shown, results))


def _remember(experiment) -> None:
    if not isinstance(experiment, Experiment):  # the history picker restores Explore's kind of settings
        return
    history = st.session_state["history"]
    if experiment in history:
        history.remove(experiment)
    history.insert(0, experiment)
    del history[HISTORY_KEPT:]


def describe_run(experiment) -> str:
    """'Linear Q-learning, trained on 25-step episodes, seed 0, gamma 0.9': the preset's parameter, then
    the settings that differ from the defaults. A job around an Experiment (diagnosis, seed study) is
    described by it."""
    inner = getattr(experiment, "experiment", None)
    if inner is not None:
        return describe_run(inner)
    if isinstance(experiment, StoppedExperiment):
        return f"{describe_run(experiment.full)}, stopped after {experiment.stopped_at:,} training steps"
    if isinstance(experiment, StudyRun):
        config, defaults = dataclasses.asdict(experiment.config), dataclasses.asdict(type(experiment.config)())
        return ", ".join([f"seed {experiment.seed}"] + [f"{k.replace('_', ' ')} {v}" for k, v in config.items()
                                                        if defaults[k] != v])
    contrast = guide(experiment.env_name).contrast
    values = experiment.config_dict()
    defaults = Experiment(experiment.env_name, experiment.agent_name).config_dict()
    parts = [AGENTS[experiment.agent_name].title]
    if contrast:
        parts.append(guide(experiment.env_name).contrast_label.format(contrast[0], values[contrast[0]]).lower())
    parts.append(f"seed {experiment.seed}")
    parts += [f"{k.replace('_', ' ')} {v}" for k, v in values.items()
              if defaults[k] != v and not (contrast and k == contrast[0])]
    return ", ".join(parts)


def history_picker() -> None:
    """Sidebar list of this session's recent runs; choosing one restores its settings (and link)."""
    history = st.session_state["history"]
    if len(history) < 2:
        return
    bar = st.sidebar
    bar.divider()
    choice = bar.selectbox("Recent runs", range(len(history)), format_func=lambda i: describe_run(history[i]),
                           key="history_choice")
    bar.button("Restore these settings", on_click=_apply_values, args=(_experiment_values(history[choice]),),
               key="history_restore", help="Cached: the run shows again at once.")


# ---------------------------------------------------------------- result displays
def _format_metric(key: str, value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if key.endswith("share") else f"{value:.1f}"


def _headline_metrics(report: dict) -> dict[str, tuple[str, str]]:
    labels = guide(report["env"]).metrics
    return labels or {key: (render.metric_label(key), "") for key in report["splits"]["test"]["metrics"]}


def metric_row(report: dict) -> None:
    """Top-row numbers on the test split, each with the training split's value beneath it."""
    test, train = report["splits"]["test"], report["splits"]["train"]
    labels = _headline_metrics(report)
    proxy = report["goals"]["proxy"]
    columns = st.columns(len(labels) + 1)
    for column, (key, (label, explanation)) in zip(columns, labels.items()):
        column.metric(label, _format_metric(key, test["metrics"][key]),
                      delta=f"train {_format_metric(key, train['metrics'][key])}", delta_color="off", delta_arrow="off",
                      border=True, help=f"On the test maps; the training maps' value beneath. {explanation}")
    attribution = test["attribution_where_goals_differ"]
    columns[-1].metric("P(proxy goal)", "n/a" if attribution is None else f"{attribution[proxy]:.0%}",
                       delta=f"{proxy}, test maps", delta_color="off", delta_arrow="off", border=True,
                       help="Goal attribution (inverse planning) over the test steps where the goals disagree: "
                            f"how likely the agent's actions there come from pursuing {proxy}.")


def metric_bars(reports: dict[str, dict]) -> go.Figure:
    """The preset's bar chart: each run's test metrics in one unit, side by side."""
    first = next(iter(reports.values()))
    env_guide = guide(first["env"])
    keys = env_guide.bar_metrics or tuple(first["splits"]["test"]["metrics"])
    labels = {key: env_guide.metrics.get(key, (render.metric_label(key),))[0] for key in keys}
    title = f"On the test maps{f' ({env_guide.bar_unit})' if env_guide.bar_unit else ''}"
    return render.metric_bars({name: report["splits"]["test"]["metrics"] for name, report in reports.items()},
                              labels, title)


def _proxy_share(report: dict) -> str:
    attribution = report["splits"]["test"]["attribution_where_goals_differ"]
    return "n/a (the goals never came apart)" if attribution is None else f"{attribution[report['goals']['proxy']]:.0%}"


def what_to_notice(report: dict) -> str:
    """Two lines: what the numbers say about this run, and what to look for in this environment."""
    goals = report["goals"]
    first = (
        f"Where the goals come apart on the test maps, goal attribution gives the proxy goal "
        f"(**{goals['proxy']}**) P = {_proxy_share(report)}; the rest goes to the intended goal "
        f"(**{goals['intended']}**)."
    )
    return f"**What to notice.** {first}  \n{guide(report['env']).notice}"


def compare_notice(reports: dict[str, dict]) -> str:
    """Two lines for side-by-side runs: their proxy-goal attribution, and what to look for."""
    first_report = next(iter(reports.values()))
    shares = "; ".join(f"{title}: **{_proxy_share(report)}**" for title, report in reports.items())
    return (
        f"**What to notice.** P(proxy goal: {first_report['goals']['proxy']}) where the goals come apart "
        f"on the test maps — {shares}.  \n{guide(first_report['env']).compare_notice}"
    )


def preset_experiments(settings: Settings, include_random: bool) -> list[Experiment]:
    """The environment's contrast (e.g. 25- vs 200-step training episodes), optionally with the random floor.

    Raises ParamError, like `Settings.experiment`.
    """
    if guide(settings.env_name).contrast is None:
        raise ParamError(f"there is no preset for the {ENVS[settings.env_name].title} yet")
    name, values = guide(settings.env_name).contrast
    runs = [settings.experiment(**{name: value}) for value in values]
    if include_random:  # it does not learn: no training steps, the same test maps
        runs.append(settings.experiment(agent_name="random", train_steps=0, **{name: values[0]}))
    return runs


def preset_title(experiment: Experiment) -> str:
    if not AGENTS[experiment.agent_name].learns:
        return AGENTS[experiment.agent_name].title
    name, _ = guide(experiment.env_name).contrast
    return guide(experiment.env_name).contrast_label.format(name, experiment.config_dict()[name])


def _metrics_csv(reports: dict[str, dict]) -> str:
    """One row per (run, split, metric) for download."""
    rows = [
        {"run": name, "split": split, "metric": key, "value": value}
        for name, report in reports.items()
        for split, part in report["splits"].items()
        for key, value in part["metrics"].items()
    ]
    return pd.DataFrame(rows).to_csv(index=False)


def learned_weights(result: RunResult) -> None:
    """For agents with readable weights: what each observed feature is worth, per context."""
    table = getattr(result.trained.agent, "weight_table", None)
    if table is None:
        return
    with st.expander("What the agent learned (its weights)"):
        st.caption(
            "An action's value is the sum of feature x weight over the features of the cell it leads to. "
            "Each column is a context; when a context holds, its weights add to those of the \"always\" "
            "column. " + guide(result.env.name).weights_hint
        )
        st.dataframe(pd.DataFrame(table()).round(3))


def policy_field_section(page: str, runs: tuple[tuple[str, Experiment], ...], episode: int, moment: str) -> None:
    """'Where would it go?': the learning agents of (title, run) side by side on the first run's test state."""
    st.subheader("Where would it go? (policy from every cell)")
    agents = tuple((title, run) for title, run in runs if AGENTS[run.agent_name].learns)
    if not agents:
        st.caption("An agent that does not learn has no preferences to draw.")
        return
    view = policy_view(agents, episode, moment)
    place = f"test episode {episode + 1} at t={view.t}, {view.when}"
    if len(agents) == 1:
        scene = f"{place[0].upper()}{place[1:]}."
    else:
        scene = (f"{'Both' if len(agents) == 2 else 'All'} agents on one state: {place}, as played in the run "
                 f"“{agents[0][0]}”. Their test maps start the same (same seed), but their episodes diverge, so "
                 "one recorded state serves all.")
    st.caption(f"{scene} The agent is put on every free cell in turn; everything else (monsters, items, what it "
               "holds) stays as recorded. Equally valued moves are drawn at random with a fixed seed; hover an "
               "arrow for its cell.")
    show_figure(view.figure, f"{page}_policy_field")
    st.markdown(policy_notice(agents[0][1].env_name, view.fields))


def policy_notice(env_name: str, fields: dict) -> str:
    """One line: from which share of the free cells each agent heads for only one goal."""
    goals = ENVS[env_name].goals

    def shares(field):
        return (f"{goals['proxy']} only (proxy goal) from **{field.shares['proxy']:.0%}** of the free cells, "
                f"{goals['intended']} only (intended goal) from **{field.shares['intended']:.0%}**")

    if len(fields) == 1:
        per_agent = f"The agent heads for {shares(next(iter(fields.values())))}"
    else:
        per_agent = "; ".join(f"{title}: {shares(field)}" for title, field in fields.items())
    return f"**What to notice.** {per_agent}; grey arrows serve both goals or neither."


def downloads(page: str, reports: dict[str, dict], animation: go.Figure) -> None:
    """Summary JSON, metrics CSV, config JSON and the animation as a standalone HTML file."""
    with st.expander("Full summary and downloads"):
        columns = st.columns(3)
        columns[0].download_button("Metrics (CSV)", _metrics_csv(reports), f"gmg_{page}_metrics.csv", "text/csv",
                                   on_click="ignore", icon=":material/download:")
        configs = {name: {k: report[k] for k in ("env", "agent", "seed", "config")} for name, report in reports.items()}
        columns[1].download_button("Config (JSON)", json.dumps(configs, indent=2), f"gmg_{page}_config.json",
                                   "application/json", on_click="ignore", icon=":material/download:")
        columns[2].download_button("Animation (HTML)", lambda: animation.to_html(include_plotlyjs=True),
                                   f"gmg_{page}_animation.html", "text/html", on_click="ignore",
                                   icon=":material/download:")
        st.json(reports if len(reports) > 1 else next(iter(reports.values())), expanded=1)


# ---------------------------------------------------------------- study pages (gmg.studies)
MIME = {".csv": "text/csv", ".json": "application/json", ".html": "text/html", ".txt": "text/plain"}


def moment_control(page: str, key: str, moments: int) -> int:
    """Sidebar 'View': which recorded moment of a continual run to replay (1-based), bound to the link."""
    st.sidebar.header("View")
    return bound_widget(page, st.sidebar.slider, "Moment to replay", key, min_value=1, max_value=moments, value=moments,
                  raw_link=st.query_params.to_dict(),
                  help=f"{moments} moments are recorded, evenly spread over the run: 1 is the start, "
                       f"{moments} the end.")


def phase_metric_row(report: dict) -> None:
    """A continual run's phases side by side: reward per 1000 steps and trees standing, then how many copies
    went extinct and came back."""
    phases = report["phases"]
    columns = st.columns(len(phases) + 1)
    for column, (name, phase) in zip(columns, phases.items()):
        if phase is None:
            column.metric(f"{name.capitalize()} phase", "none", border=True,
                          help="This run never reached this phase (see the population plot).")
            continue
        m = phase["metrics"]
        column.metric(f"{name.capitalize()}: reward / 1000 steps", f"{m['reward_per_1000_steps']:.0f}",
                      delta=f"{m['mean_trees']:.1f} trees standing on average", delta_color="off", delta_arrow="off",
                      border=True, help="Trees chopped per 1000 steps in this phase; beneath, the mean trees standing.")
    copies = len(report["copies"])
    columns[-1].metric("Went extinct / came back", f"{report['extinct_runs']} / {report['recovered_runs']}",
                       delta=f"of {copies} {'copy' if copies == 1 else 'copies'}", delta_color="off",
                       delta_arrow="off", border=True,
                       help="Copies whose forest hit 0 trees, and copies that crashed and grew back.")


def study_downloads(page: str, report: dict, files: dict[str, str]) -> None:
    """The run's JSON summary (shown and downloadable) and the study's other files ({file name: text})."""
    with st.expander("Full summary and downloads"):
        files = {f"gmg_{page}_summary.json": json.dumps(report, indent=2), **files}
        for column, (name, text) in zip(st.columns(len(files)), files.items()):
            column.download_button(name, text, name, MIME.get(Path(name).suffix, "text/plain"), on_click="ignore",
                                   icon=":material/download:")
        st.json(report, expanded=1)


# ---------------------------------------------------------------- diagnosis and seed pages
def experiment_presets(page: str, env_name: str) -> None:
    """Buttons for the environment's `diagnosis_presets` ({label: (agent, changes)}): a click sets the sidebar."""
    _preset_row(page, env_name, getattr(ENVS[env_name], "diagnosis_presets", {}))


def explore_presets(page: str, env_name: str) -> None:
    """Explore's buttons: the guide's `presets`, or the two values of its contrast, with its agent."""
    g = guide(env_name)
    presets = g.presets
    if not presets and g.contrast:
        name, values = g.contrast
        presets = {g.contrast_label.format(name, value): {name: value} for value in values}
    _preset_row(page, env_name, {label: (g.agent, changes) for label, changes in presets.items()})


def _preset_row(page: str, env_name: str, presets: dict[str, tuple[str, dict]]) -> None:
    """One button per preset ({label: (agent, changes from the defaults)}); a click sets the sidebar."""
    if not presets:
        return
    row = st.container(horizontal=True)
    for i, (label, (agent, changes)) in enumerate(presets.items()):
        row.button(label, key=f"{page}_preset_{i}", on_click=_apply_values,
                   args=({**_defaults(env_name, agent), **changes},))


def study_diagnosis(page: str, run: StudyRun) -> None:
    """The shown study run's diagnosis (gmg.diagnose.diagnose_study): the presets to contrast, the
    verdict with its evidence, and the numbers that decided it."""
    st.subheader("Diagnosis: goal misgeneralization, specification gaming, or neither?")
    st.caption("Each preset below sets the sidebar; train it to see how the same evidence gives another verdict.")
    preset_buttons(page, run.study, STUDIES[run.study].DIAGNOSIS_PRESETS, group="diagnosis")
    report = _study_diagnosis(run)
    show_figure(diagnose.evidence_figure(report), f"{page}_diagnosis")
    st.markdown(diagnose.explanation(report))


@st.cache_data(max_entries=16, show_spinner="Diagnosing the run ...")
def _study_diagnosis(run: StudyRun) -> dict:
    return diagnose.diagnose_study(run, result=result_store().get(run))


def seeds_control(page: str, key: str, default: int, high: int) -> int:
    """How many seeds a study trains, in the sidebar, bound to the link (at most `high`, or the server's cap)."""
    high = min(high, caps.count("seeds"))
    return bound_widget(page, st.sidebar.number_input, "Seeds", key, min_value=1, max_value=high, value=default, step=1,
                  raw_link=st.query_params.to_dict(),
                  help=f"Agents that differ only in their seed (at most {high} here; the command line takes more).")


# ---------------------------------------------------------------- saved runs (gmg.storage)
OWNER_KEY = "owner"  # link parameter: the visitor's key to their saved runs (run_owner)


def run_owner() -> str:
    """The visitor's key to their saved runs: from the link's `owner`, else the session's, else a new one.

    The Saved runs page writes it into its own link, and a visitor comes back to their runs by that
    link (a bookmark): a link, not a cookie, because Streamlit reads cookies (st.context.cookies) but
    cannot set one without JavaScript on the page (st.html with unsafe_allow_javascript), a cookie is
    not sent when the app is embedded in another site (third-party), and AppTest cannot seed cookies,
    so the behaviour could not be tested. Streamlit drops a parameter no widget is bound to when the
    visitor moves to another page, so no other page's link carries the key: sharing a view of Explore
    does not share one's runs; sharing the Saved runs page's link does, and that page says so.
    """
    linked = st.query_params.get(OWNER_KEY)
    if linked is not None:
        if OWNER.match(linked):
            st.session_state["run_owner"] = linked
        else:  # said once: the parameter leaves the link
            st.error(f"Link parameter `{OWNER_KEY}={clip(linked)}` is not a key to saved runs: ignored.",
                     icon=":material/error:")
            del st.query_params[OWNER_KEY]
    return st.session_state.setdefault("run_owner", new_owner())


def run_store() -> RunStore:
    """This visitor's saved runs (GMG_RUN_STORE), or the one shared folder if the operator opted in
    (GMG_RUN_STORE_SHARED=1)."""
    return RunStore(SHARED if shared() else run_owner())


def save_run_control(page: str, experiment: Experiment) -> None:
    """A name and a Save button: the shown run goes to the visitor's saved runs, to reopen after a restart.

    A name already used is not replaced at once: the page asks, and Replace (a second click) replaces it.
    """
    with st.expander("Save this run"):
        row = st.container(horizontal=True, vertical_alignment="bottom")
        name = row.text_input("Name", max_chars=64, key=f"{page}_save_name",
                              placeholder=f"{experiment.env_name} seed {experiment.seed}")
        name = name.strip() or f"{experiment.env_name} seed {experiment.seed}"
        asked = f"{page}_save_asked"  # the name whose replacement the page asks to confirm
        if row.button("Save", key=f"{page}_save", icon=":material/save:"):
            st.session_state[asked] = _save(name, experiment, replace=False)
        if st.session_state.get(asked) == name:
            question = st.empty()
            if st.button("Replace", key=f"{page}_save_replace", icon=":material/swap_horiz:"):
                st.session_state[asked] = None
                _save(name, experiment, replace=True)
            else:
                question.warning(f"A saved run is already named \"{name}\". Replace it with this run?",
                                 icon=":material/warning:")


def _save(name: str, experiment: Experiment, replace: bool) -> str | None:
    """Save the shown run and say how it went; the name, if it is taken and `replace` is off."""
    store = run_store()
    try:
        saved = store.save(name, result_store().get(experiment), replace=replace)
    except RunExists:
        return name
    except StorageError as exc:
        st.error(f"Not saved: {exc}", icon=":material/error:")
        return None
    where = ("the Saved runs page" if store.owner == SHARED else
             f"the [Saved runs](runs?{OWNER_KEY}={store.owner}) page (that link is the key to your runs: keep it)")
    st.success(f"Saved as \"{saved.name}\": open it on {where}, now or after a restart.")
    return None


def open_saved(page: str, names: list[str]) -> dict[str, Experiment] | None:
    """Reopen saved runs as background jobs (cached like any run: opening one again is instant) and
    show their progress; {name: its key} once every one is evaluated, else None. A run that cannot be
    read is reported and skipped."""
    keys = {}
    for name in names:
        try:
            keys[name] = run_store().key(name)
        except StorageError as exc:
            st.error(f"Cannot open \"{name}\": {exc}", icon=":material/error:")
    if not keys:
        return None
    training_controls(page, list(keys.values()), label="Evaluate again", start="whenever missing")
    return keys if all(key in result_store() for key in keys.values()) else None
