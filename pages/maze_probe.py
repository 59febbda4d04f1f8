"""Move the object: one test level, the coin or cheese put on every free cell in turn; where does the agent end up?"""

import streamlit as st

from gmg import probe, ui
from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.render import object_outcomes_figure
from gmg.train import MAX_SEED, Experiment

PAGE = "maze_probe"
# the worlds whose object can be put anywhere: the diversity knob and its failure and cure values (their cards)
KNOBS = {name: cls.card.object_probe for name, cls in ENVS.items() if cls.card.object_probe}
LEARNERS = [name for name, cls in AGENTS.items() if cls.learns]
LINK_KEYS = ("probe_env", "probe_training", "probe_agent", "probe_seed")


def training_default() -> None:
    """Callback of the environment picker: that environment's failure setting."""
    st.session_state["probe_training"] = next(iter(KNOBS[st.session_state["probe_env"]][1]))


ui.init_state()
ui.navigation_links()
st.title("Move the object: where does the agent end up?")
st.caption("Takes the first test level of a trained agent and replays it once per free cell, with the coin or "
           "cheese moved there: green cells are where the agent got it, blue where it went to the end or corner "
           "without it. An agent that learned the location proxy paints most of the level blue.")
bar = st.sidebar
link = st.query_params.to_dict()
env_name = ui.bound_widget(PAGE, bar.selectbox, "Environment", "probe_env", options=list(KNOBS), raw_link=link,
                           on_change=training_default)
knob, presets = KNOBS[env_name]
preset = ui.bound_widget(PAGE, bar.radio, "Training", "probe_training", options=list(presets), raw_link=link)
agent_name = ui.bound_widget(PAGE, bar.selectbox, "Agent", "probe_agent", options=LEARNERS,
                             index=LEARNERS.index(ENVS[env_name].card.agent), raw_link=link)
seed = ui.bound_widget(PAGE, bar.number_input, "Seed", "probe_seed", min_value=0, max_value=MAX_SEED, value=0,
                       step=1, raw_link=link)
ui.report_unknown_link_keys(PAGE, link, set(LINK_KEYS))
experiment = ui.checked(lambda: Experiment.build(env_name, agent_name, int(seed),
                                                 {knob: presets[preset], "eval_episodes": 20}))
runs = [experiment] if experiment else []
ui.training_controls(PAGE, runs)
shown = ui.shown_runs(PAGE, runs)
if shown is None:
    st.stop()
[(_, result)] = shown
state = result.rollouts["test"].frames[0]
outcomes = probe.object_outcomes(result.env, result.trained.agent, state)
ui.show_figure(object_outcomes_figure(result.env, state, outcomes), "probe_map")
ui.lecture_next(PAGE)
