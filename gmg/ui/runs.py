"""Background runs: Train and Stop, the server's queue, live progress, and which runs a page shows."""

from __future__ import annotations

import dataclasses

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import caps
from ..agents import AGENTS
from ..bundle import bundled_folders, bundled_run
from ..experiment import RunResult
from ..jobs import JobQueue, TrainJob
from ..render.live import live_figure
from ..storage import SavedExperiment
from ..studies import StudyRun
from ..train import Experiment, StoppedExperiment
from .links import apply_values, experiment_values
from .state import guide, HISTORY_KEPT, POLL_SECONDS, WAIT_POLL_SECONDS, RECORDED_EPISODES, add_notice, result_store, show_figure, show_notices


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
    shipped = _load_bundled(experiments)
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
    elif shipped and not running:
        row.caption("Shipped with the app, trained ahead with these very settings: change the seed or a "
                    "setting and press the button to train another.")
    if (clicked or first_visit) and missing and not running:
        ss["jobs"][page] = job_queue().submit([_job(e) for e in missing])
        ss["last_started"][page] = tuple(missing)
        st.rerun()  # redraw with the job running: Stop enabled, progress polling
    show_notices(page)
    _progress(page)


def _load_bundled(experiments: list) -> bool:
    """Put the runs among these that ship with the app (gmg.bundle) into the server's store, each read
    back with its evaluation (hundredths of a second) instead of trained; whether any of them ships."""
    shipped = [experiment for experiment in experiments if experiment in bundled_folders()]
    store = result_store()
    for experiment in shipped:
        if experiment not in store:
            store.put(experiment, bundled_run(experiment))
    return bool(shipped)


def _job(run) -> TrainJob:
    """A job owned by this browser session: when the session ends (the tab closed), the queue ends the job."""
    ctx = get_script_run_ctx()
    return TrainJob(run, RECORDED_EPISODES, owner=ctx.session_id if ctx else None)


@st.cache_resource
def job_queue() -> JobQueue:
    """The server's one queue of runs: at most `caps.job_limit()` train at once, whoever started them."""
    return JobQueue(caps.job_limit, owner_alive=_session_alive)


def _session_alive(session_id: str) -> bool:
    """Is this browser session still connected? (Runtime.is_active_session is safe from any thread.)
    Only a clear "no" ends its runs: without a real runtime (tests, bare mode) a session counts as there."""
    try:
        return runtime.get_instance().is_active_session(session_id) is not False
    except Exception:  # no runtime: nobody to lose
        return True


def _live_figures(page: str, jobs: list[TrainJob]) -> None:
    """What each started job shows while it runs (a learning curve, or its own live view), side by side."""
    views = (live_figure(job.experiment, job.curve, f"Learning live: {describe_run(job.experiment)}")
             for job in jobs if job.started_at is not None)
    figures = [fig for fig in views if fig is not None]
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

    unfinished = [job for job in jobs if not job.finished]
    every = (WAIT_POLL_SECONDS if all(job.queued for job in unfinished) else POLL_SECONDS) if unfinished else None

    @st.fragment(run_every=every)
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
            add_notice(page, "error", f"{what}: {job.error}")
            continue
        if job.stopped:
            steps = getattr(getattr(result, "trained", None), "steps_done", 0)
            if not isinstance(key, Experiment) or not getattr(result, "rollouts", None) or not steps:
                add_notice(page, "warning", f"Stopped at {job.progress:.0%}; nothing was kept.")
                continue
            if result.trained.stopped:
                key = StoppedExperiment.of(key, steps)
                add_notice(page, "warning", f"Stopped after {steps:,} of {key.limits.train_steps:,} training "
                                             "steps: the partly trained agent is shown.")
        result_store().put(key, result)
        _remember(key)
        shown.append(key)
    if len(shown) == len(jobs):
        ss["shown"][page] = tuple(shown)


def shown_runs(page: str, experiments: list[Experiment], button: str = "Train") -> list[tuple[Experiment, RunResult]] | None:
    """The runs to display: the current settings if trained, else the page's last runs under a
    warning that they are not the current settings (kept, so no input loses what was shown).

    None (after saying why, naming the page's `button`) when there is nothing to show.
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
            st.info(f"Nothing trained yet with these settings: press \"{button}\" above.")
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
    bar.button("Restore these settings", on_click=apply_values, args=(experiment_values(history[choice]),),
               key="history_restore", help="Cached: the run shows again at once.")
