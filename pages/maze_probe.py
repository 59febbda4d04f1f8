"""Move the object: one test level, the coin or cheese put on every free cell in turn; where does the agent end up?"""

import streamlit as st

from gmg import probe, ui
from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.experiment import run
from gmg.render import object_outcomes_figure
from gmg.train import Experiment

PAGE = "maze_probe"
# per environment: the diversity knob, and its values for "the failure" and "the cure" (benchmarks/README.md)
KNOBS = {"maze": ("cheese_region", {"cheese in the corner": 1, "cheese anywhere (region 9)": 9}),
         "coin": ("random_coin_share", {"coin always at the end": 0.0, "coin randomised in 30%": 0.3})}
AGENT = "explore_q"


@st.cache_resource(max_entries=8, show_spinner=False)
def trained_run(env_name: str, agent_name: str, seed: int, knob: str, value: float):
    return run(Experiment.build(env_name, agent_name, seed, {knob: value, "eval_episodes": 20}), record=1)


ui.init_state()
ui.navigation_links()
st.title("Move the object: where does the agent end up?")
st.caption("Takes the first test level of a trained agent and replays it once per free cell, with the coin or "
           "cheese moved there: green cells are where the agent got it, blue where it went to the end or corner "
           "without it. An agent that learned the location proxy paints most of the level blue.")
bar = st.sidebar
env_name = bar.selectbox("Environment", list(KNOBS), key="probe_env")
knob, presets = KNOBS[env_name]
preset = bar.radio("Training", list(presets), key=f"probe_preset_{env_name}")
agent_name = bar.selectbox("Agent", [name for name, cls in AGENTS.items() if cls.learns],
                           index=[name for name, cls in AGENTS.items() if cls.learns].index(AGENT), key="probe_agent")
seed = int(bar.number_input("Seed", 0, 1000, 0, key="probe_seed"))
with st.spinner(f"Training on {ENVS[env_name].title} ({knob} = {presets[preset]})…"):
    result = trained_run(env_name, agent_name, seed, knob, presets[preset])
state = result.rollouts["test"].frames[0]
outcomes = probe.object_outcomes(result.env, result.trained.agent, state)
ui.show_figure(object_outcomes_figure(result.env, state, outcomes), "probe_map")
