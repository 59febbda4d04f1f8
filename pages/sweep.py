"""Sweep: train over values of one knob x seeds; test intended- and proxy-goal rates against the knob."""

import streamlit as st

from gmg import render, sweep, ui
from gmg.agents import AGENTS
from gmg.envs import ENVS

PAGE = "sweep"
# the worlds with a knob to sweep (their cards' `sweep`), each with the agent its presets are measured with
KNOBS = {name: (*cls.card.sweep, cls.card.agent) for name, cls in ENVS.items() if cls.card.sweep}
LEARNERS = [name for name, cls in AGENTS.items() if cls.learns]
LINK_KEYS = ("sweep_env", "sweep_agent", "sweep_param", "sweep_values", "sweep_seeds", "sweep_curricula")
# the curves: domain randomisation alone, or beside robust prioritised level replay (gmg/curriculum.py)
CURRICULA = {"dr": ("dr",), "dr,plr": ("dr", "plr"), "plr": ("plr",)}


def knob_defaults() -> None:
    """Callback of the environment picker: that environment's knob, values and learner."""
    knob, values, agent = KNOBS[st.session_state["sweep_env"]]
    st.session_state.update(sweep_param=knob, sweep_values=values, sweep_agent=agent)


ui.init_state()
ui.navigation_links()
st.title("Sweep: how much diversity cures it")
st.caption("Trains one agent per value of a parameter and seed (a background job, one run after another), then "
           "plots the test rates of the intended and the proxy goal against the parameter, with the spread over "
           "seeds. Every setting is in the link.")
bar = st.sidebar
link = st.query_params.to_dict()
env_name = ui.bound_widget(PAGE, bar.selectbox, "Environment", "sweep_env", options=list(KNOBS), raw_link=link,
                           on_change=knob_defaults)
knob, default_values, default_agent = KNOBS[env_name]
agent_name = ui.bound_widget(PAGE, bar.selectbox, "Agent", "sweep_agent", options=LEARNERS,
                             index=LEARNERS.index(default_agent), raw_link=link)
param = ui.bound_widget(PAGE, bar.text_input, "Parameter", "sweep_param", value=knob, raw_link=link, max_chars=40)
values = ui.bound_widget(PAGE, bar.text_input, "Values (comma-separated)", "sweep_values", value=default_values,
                         raw_link=link, max_chars=200)
seeds = ui.bound_widget(PAGE, bar.number_input, "Seeds", "sweep_seeds", min_value=1, max_value=sweep.MAX_SEEDS,
                        value=3, step=1, raw_link=link)
curricula = ui.bound_widget(PAGE, bar.selectbox, "Curricula", "sweep_curricula", options=list(CURRICULA),
                            raw_link=link, help="One curve per curriculum: dr draws a fresh training level every "
                            "episode; plr (robust prioritised level replay) learns on replays of the levels where "
                            "the agent's values were most wrong, drawn from the same distribution.")
ui.report_unknown_link_keys(PAGE, link, set(LINK_KEYS))
grid = ui.checked(lambda: sweep.Sweep(env_name, param.strip(), tuple(v.strip() for v in values.split(",")),
                                      int(seeds), agent_name, curricula=CURRICULA[curricula]))
runs = [grid] if grid else []
if grid:
    st.caption(f"{ENVS[env_name].title}: {len(grid.experiments())} agents to train (finished sweeps are kept).")
RUN_LABEL = "Run the sweep"
ui.training_controls(PAGE, runs, label=RUN_LABEL, auto_start=False)
shown = ui.shown_runs(PAGE, runs, button=RUN_LABEL)
if shown is None:
    st.stop()
[(grid, table)] = shown
summary = sweep.summarise(table, grid.param)
title = f"{ENVS[grid.env_name].title}: test goal rates against {grid.param.replace('_', ' ')}"
published = ENVS[grid.env_name].card.published_cure
marked = published[1:] if published is not None and published[0] == grid.param else None
ui.show_figure(render.sweep_figure(summary, grid.param, ENVS[grid.env_name].goals, sweep.goal_metrics(grid.env_name),
                                   title, marked=marked), "sweep_plot")
st.dataframe(summary.round(3), hide_index=True)
st.download_button("Runs (CSV)", table.to_csv(index=False), f"gmg_sweep_{grid.env_name}_{grid.param}.csv", "text/csv",
                   on_click="ignore", icon=":material/download:")
