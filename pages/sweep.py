"""Sweep: train over values of one knob x seeds; test intended- and proxy-goal rates against the knob."""

import plotly.graph_objects as go
import streamlit as st

from gmg import sweep, ui
from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.render import ROLE_COLOURS, style

PAGE = "sweep"
# per environment: the knob, its default values and the learner (explore_q collects the objects that
# training places off its route; linear_q rarely does, so its coin and maze sweeps stay flat)
KNOBS = {"coin": ("random_coin_share", "0,0.1,0.3", "explore_q"),
         "maze": ("cheese_region", "1,3,5,9", "explore_q"),
         "monster": ("train_episode_length", "25,50,100,200", "linear_q")}
LEARNERS = [name for name, cls in AGENTS.items() if cls.learns]

ui.init_state()
ui.navigation_links()
st.title("Sweep: how much diversity cures it")
st.caption("Trains one agent per value of a parameter and seed (in parallel processes), then plots the test "
           "rates of the intended and the proxy goal against the parameter, with the spread over seeds.")
bar = st.sidebar
env_name = bar.selectbox("Environment", list(KNOBS), key="sweep_env")
knob, default_values, default_agent = KNOBS[env_name]
agent_name = bar.selectbox("Agent", LEARNERS, LEARNERS.index(default_agent), key=f"sweep_agent_{env_name}")
param = bar.text_input("Parameter", knob, key=f"sweep_param_{env_name}")
values = bar.text_input("Values (comma-separated)", default_values, key=f"sweep_values_{env_name}")
seeds = bar.number_input("Seeds", 1, sweep.MAX_SEEDS, 3, key="sweep_seeds")
grid = ui.checked(lambda: sweep.Sweep(env_name, param.strip(), tuple(v.strip() for v in values.split(",")),
                                      int(seeds), agent_name))
if grid is None or not st.button("Run the sweep", type="primary", icon=":material/play_arrow:"):
    st.info(f"{ENVS[env_name].title}: press the button to train {0 if grid is None else len(grid.experiments())} "
            "agents (finished runs are cached).")
    st.stop()

progress = st.progress(0.0, text="Starting…")
table = sweep.run_sweep(grid, on_progress=lambda done, total: progress.progress(
    done / total, text=f"{done} of {total} runs done"))
metrics = sweep.goal_metrics(env_name)
summary = sweep.summarise(table, grid.param)
fig = go.Figure()
for role in ("intended", "proxy"):
    colour, goal = ROLE_COLOURS[role], ENVS[env_name].goals[role]
    x = summary[grid.param].tolist()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=summary[f"{role}_max"].tolist() + summary[f"{role}_min"].tolist()[::-1],
                             fill="toself", fillcolor=colour, opacity=0.2, line=dict(width=0), hoverinfo="skip",
                             name=f"{goal}: min-max over seeds"))
    fig.add_trace(go.Scatter(x=x, y=summary[f"{role}_mean"], mode="lines+markers", line=dict(color=colour),
                             name=f"{goal} ({role} goal), mean: test {metrics[role]}"))
fig.update_xaxes(title=grid.param)
fig.update_yaxes(title="test rate")
ui.show_figure(style(fig, f"{ENVS[env_name].title}: test goal rates against {grid.param}", 460), "sweep_plot")
st.dataframe(summary.round(3))
st.download_button("Runs (CSV)", table.to_csv(index=False), f"gmg_sweep_{env_name}_{grid.param}.csv", "text/csv",
                   on_click="ignore", icon=":material/download:")
