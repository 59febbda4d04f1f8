"""Displays of finished runs: metrics, figures (built once per server), policy fields, notices, downloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import diagnose, probe, render
from ..agents import AGENTS, RAW_LEARNER
from ..envs import ENVS
from ..experiment import RunResult, summary
from ..render.diagnosis import evidence_figure
from ..studies import STUDIES, StudyRun, diagnose_study
from ..train import Experiment
from .links import page_toggle
from .runs import shown_runs, training_controls
from .settings import POLICY_SETTLE_STEPS, moment_label, policy_moment_control, preset_buttons, view_controls
from .state import checked, guide, result_store, show_figure


@st.cache_data(max_entries=64, show_spinner=False)
def run_summary(experiment) -> dict:
    """The JSON summary of a stored run: an Experiment's (metrics, attribution, config), or what any
    other job (a study, a diagnosis, a seed study) says of its result."""
    result = result_store().get(experiment)
    summarize = getattr(experiment, "summarize", None)
    return summarize(result) if summarize is not None else summary(result)


Panel = tuple[str, Experiment, str]  # (title, run, split)


@st.cache_resource(max_entries=64, show_spinner=False)
def figure(kind: str, panels: tuple[Panel, ...], episode: int | None = None, height: int | None = None,
           legend_rows: int | None = None, stacked: bool = False, plots_episode: int | None = None,
           start: int = 0) -> go.Figure:
    """A figure over stored runs, built once per server and shared: treat it as read-only.

    kind: "animation" (synced maps; `episode` picks the recorded episode), "story" (the same maps with
    each panel's goal posterior beside them, `plots_episode` as for "posterior", and a time line that
    follows the slider; it opens at step `start`), "goal_counts" or "posterior" (`episode` None averages
    over every evaluated episode); `height` in px (None: the figure's own); `legend_rows`: the animation's legend rows at the
    width it is shown (gmg.render.trajectory_animation); `stacked`: the posterior's panels one above the
    other, for a narrow column.
    """
    store = result_store()
    env = store.get(panels[0][1]).env
    rollouts = [(title, store.get(experiment).rollouts[split]) for title, experiment, split in panels]
    split_label = guide(env.name).split_label
    size = {} if height is None else {"height": height}
    if kind in ("animation", "story"):
        posterior = {"episode": plots_episode, "split_label": split_label} if kind == "story" else None
        return render.trajectory_animation(env, rollouts, episode or 0, legend_rows=legend_rows, posterior=posterior,
                                           start=start, **size)
    if kind == "goal_counts":
        return render.goal_count_figure(env, rollouts, episode, split_label, **size)
    if kind == "posterior":
        return render.posterior_figure(env, rollouts, episode, split_label=split_label, stacked=stacked, **size)
    raise ValueError(f"unknown figure kind {kind!r}")


@dataclass(frozen=True)
class PolicyView:
    figure: go.Figure
    fields: dict  # title -> probe.PolicyField
    t: int  # the recorded step probed
    when: str  # which moment that is, for captions


@st.cache_resource(max_entries=64, show_spinner=False)
def policy_view(agents: tuple[tuple[str, Experiment], ...], episode: int, moment: str, step: int = 0) -> PolicyView:
    """Policy fields of each (title, run)'s agent on one recorded test state, and their figure.

    The state is the first run's test episode `episode` at `moment` (one of POLICY_MOMENTS:
    POLICY_SETTLE_STEPS after the goals came apart, or the last step if they never did; or t=0;
    or SHOWN_STEP: `step`, the step a click on the goal plot showed on the maps).
    Built once per server and shared: treat it as read-only.
    """
    store = result_store()
    source = store.get(agents[0][1])
    env, rollout = source.env, source.rollouts["test"]
    split_step = int(render.goal_split_steps(env, rollout)[episode])
    if moment == SHOWN_STEP:
        t, when = min(step, len(rollout.frames) - 1), "the step shown on the maps (a time clicked on the goal plot)"
    elif moment == "episode start":
        t, when = 0, moment_label(env.name, moment)
    elif split_step >= 0:
        t, when = min(split_step + POLICY_SETTLE_STEPS, len(rollout.frames) - 1), moment_label(env.name, moment)
    else:
        t, when = len(rollout.frames) - 1, f"the last step: the {guide(env.name).split_label} never happened"
    state = rollout.frames[t].rows(slice(episode, episode + 1))
    fields = {title: probe.policy_field(store.get(run).env, store.get(run).trained.agent, state)
              for title, run in agents}
    figure = render.policy_field_figure(env, [(title, state, field) for title, field in fields.items()])
    return PolicyView(figure, fields, t, when)


def _headline_metrics(report: dict) -> dict[str, tuple[str, str]]:
    labels = guide(report["env"]).metrics
    return labels or {key: (render.metric_label(key), "") for key in report["splits"]["test"]["metrics"]}


def metric_row(report: dict) -> None:
    """Top-row numbers on the test split, each with the training split's value beneath it."""
    test, train = report["splits"]["test"], report["splits"]["train"]
    labels = _headline_metrics(report)
    percent = guide(report["env"]).percent_metrics
    proxy = report["goals"]["proxy"]
    columns = st.columns(len(labels) + 1)
    for column, (key, (label, explanation)) in zip(columns, labels.items()):
        column.metric(label, render.format_metric(test["metrics"][key], key in percent),
                      delta=f"train {render.format_metric(train['metrics'][key], key in percent)}", delta_color="off",
                      delta_arrow="off",
                      border=True, help=f"On the test maps; the training maps' value beneath. {explanation}")
    attribution = test["attribution_where_goals_differ"]
    columns[-1].metric("P(proxy goal)", "n/a" if attribution is None else f"{attribution[proxy]:.0%}",
                       delta=f"{proxy}, test maps", delta_color="off", delta_arrow="off", border=True,
                       help="Goal attribution (inverse planning) over the test steps where the goals disagree: "
                            f"how likely the agent's actions there come from pursuing {proxy}.")


def metric_bars(reports: dict[str, dict], height: int = 380) -> go.Figure:
    """The preset's bar chart: each run's test metrics in one unit, side by side."""
    first = next(iter(reports.values()))
    env_guide = guide(first["env"])
    keys = env_guide.bar_metrics or tuple(first["splits"]["test"]["metrics"])
    labels = {key: env_guide.metrics.get(key, (render.metric_label(key),))[0] for key in keys}
    title = f"On the test maps{f' ({env_guide.bar_unit})' if env_guide.bar_unit else ''}"
    return render.metric_bars({name: report["splits"]["test"]["metrics"] for name, report in reports.items()},
                              labels, title, env_guide.percent_metrics, height)


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
    return f"**What to notice.** {first}  \n{_story(report)}"


def _story(report: dict) -> str:
    """The card's failure story for a run with the contrast's failing value, else its cure story."""
    card = guide(report["env"])
    if card.contrast is None:
        return card.notice
    parameter, (failure, _) = card.contrast
    return card.notice if report["config"][parameter] == failure else card.cure_notice


def compare_notice(reports: dict[str, dict], story: str | None = None) -> str:
    """Two lines for side-by-side runs: their proxy-goal attribution, and what to look for (`story`,
    by default the card's `compare_notice`), with the card's `neural_caveat` when a neural agent is shown."""
    first_report = next(iter(reports.values()))
    card = guide(first_report["env"])
    shares = "; ".join(f"{title}: **{_proxy_share(report)}**" for title, report in reports.items())
    neural_shown = any(report["agent"] == RAW_LEARNER for report in reports.values())
    caveat = f" **{card.neural_caveat}**" if neural_shown and card.neural_caveat else ""
    return (
        f"**What to notice.** P(proxy goal: {first_report['goals']['proxy']}) where the goals come apart "
        f"on the test maps — {shares}.  \n{story or card.compare_notice}{caveat}"
    )


SHOWN_STEP = "step shown"  # the policy field's moment once a visitor clicked a time on the goal plot


def shown_step_key(page: str) -> str:
    """Session key of the step a click on the page's goal plot opened the maps at (0 or missing: none)."""
    return f"{page}_start"


def story_figure(page: str, panels: tuple[Panel, ...], episode: int, plots_episode: int | None, height: int,
                 container=None) -> go.Figure:
    """The maps on one slider and, beside them, each panel's goal posterior with a line at the step shown
    (one figure); a click on a posterior's time reruns the page with the maps opened at that step."""
    start_key = shown_step_key(page)
    animation = figure("story", panels, episode, height=height, legend_rows=2, plots_episode=plots_episode,
                       start=st.session_state.get(start_key, 0))
    clicked = show_figure(animation, f"{page}_animation", container, on_click=True)
    # the maps' dynamic traces come first: per panel its sprites, trail and status, then each posterior's line
    dynamic_traces = len(panels) * (len(result_store().get(panels[0][1]).env.sprite_styles) + 3)
    step = _clicked_step(clicked, first_posterior_trace=dynamic_traces)
    if step is not None and step != st.session_state.get(start_key, 0):
        st.session_state[start_key] = step
        st.rerun()
    return animation


def _clicked_step(chart_state, first_posterior_trace: int) -> int | None:
    """The step of the posterior point a click selected (points of the maps' traces do not count)."""
    points = chart_state.get("selection", {}).get("points", []) if chart_state else []
    steps = [int(round(p["x"])) for p in points if p.get("curve_number", -1) >= first_posterior_trace]
    return steps[-1] if steps else None


def side_by_side_page(page: str, env_name: str, make_experiments, title_of, notice: str | None = None) -> None:
    """The body of a page that plays runs side by side on the same test maps: `make_experiments(include_random)`
    (raises ParamError) names them, `title_of(experiment)` titles each. The story comes first, on one screen at
    1280x800 (what to notice, the maps on one slider and beside them which goal explains the actions); the
    controls and everything else below (or first, while nothing is shown)."""
    story = st.container()
    include_random = page_toggle(page, "Add the random agent", "random",
                                 help="An agent that acts at random: the floor every metric is read against.")
    episode, plots_episode = view_controls(page)
    policy_at = policy_moment_control(page, env_name)
    experiments = checked(lambda: make_experiments(include_random)) or []
    training_controls(page, experiments, label=TRAIN_BOTH)
    shown = shown_runs(page, experiments, button=TRAIN_BOTH)
    if shown is None:
        st.stop()
    side_by_side(page, story, [(title_of(run), run) for run, _ in shown], episode, plots_episode, policy_at,
                 SIDE_BY_SIDE_HEIGHT, notice)


TRAIN_BOTH = "Train both agents"
SIDE_BY_SIDE_HEIGHT = 520  # the maps with their slider, and the goal plots beside them


def side_by_side(page: str, story, runs: list[tuple[str, Experiment]], episode: int, plots_episode: int | None,
                 policy_at: str, map_height: int, notice: str | None = None) -> None:
    """Runs ({title, experiment}) on the same test maps: `story` (a container at the top of the page) gets
    what to notice, the maps on one slider and beside them which goal explains the actions; below
    follow the metric bars, the policy field, the goal counts and the downloads."""
    reports = {title: run_summary(run) for title, run in runs}
    test_maps = tuple((title, run, "test") for title, run in runs)
    story.markdown(compare_notice(reports, notice))
    animation = story_figure(page, test_maps, episode, plots_episode, map_height, story)
    show_figure(metric_bars(reports), f"{page}_bars")
    policy_field_section(page, tuple(runs), episode, policy_at)
    show_figure(figure("goal_counts", test_maps, plots_episode), f"{page}_goal_counts")
    downloads(page, reports, animation)


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
    shown = st.session_state.get(shown_step_key(page), 0)  # a time clicked on the goal plot wins over the sidebar
    view = policy_view(agents, episode, SHOWN_STEP if shown else moment, shown)
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


MIME = {".csv": "text/csv", ".json": "application/json", ".html": "text/html", ".txt": "text/plain"}


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


def study_diagnosis(page: str, run: StudyRun) -> None:
    """The shown study run's diagnosis (gmg.studies.diagnose_study): the presets to contrast, the
    verdict with its evidence, and the numbers that decided it."""
    st.subheader("Diagnosis: goal misgeneralization, specification gaming, or neither?")
    st.caption("Each preset below sets the sidebar; train it to see how the same evidence gives another verdict.")
    preset_buttons(page, run.study, STUDIES[run.study].DIAGNOSIS_PRESETS, group="diagnosis")
    report = _study_diagnosis(run)
    show_figure(evidence_figure(report), f"{page}_diagnosis")
    st.markdown(diagnose.explanation(report))


@st.cache_data(max_entries=16, show_spinner="Diagnosing the run ...")
def _study_diagnosis(run: StudyRun) -> dict:
    return diagnose_study(run, result=result_store().get(run))
