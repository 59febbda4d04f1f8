"""Hand-made features vs raw observations: the world's linear agent and the neural agent, trained on the same
levels, seed and steps, side by side on the same test maps: does a learner told nothing about the objects
pursue the same proxy?"""

import streamlit as st

from gmg import ui

PAGE = "raw"
MAP_HEIGHT = 520  # the maps with their slider, and the goal plot beside them
NOTICE = (
    "Same reward, same training levels, same number of steps. Left: a linear agent on features that name the "
    "objects; right: a neural network that sees only the grid and was told nothing about goals."
)

ui.init_state()
ui.navigation_links()
settings = ui.sidebar_settings(PAGE, fix_agent=True)
st.title("Hand-made features vs raw observations")
story = st.container()
include_random = ui.page_toggle(PAGE, "Add the random agent", "random",
                                help="An agent that acts at random: the floor every metric is read against.")
episode, plots_episode = ui.view_controls(PAGE)
policy_at = ui.policy_moment_control(PAGE, settings.env_name)
experiments = ui.checked(lambda: ui.representation_experiments(settings, include_random)) or []
ui.training_controls(PAGE, experiments, label="Train both agents")

shown = ui.shown_runs(PAGE, experiments)
if shown is None:
    st.stop()
ui.side_by_side(PAGE, story, [(ui.learner_title(run), run) for run, _ in shown], episode, plots_episode, policy_at,
                MAP_HEIGHT, notice=NOTICE)
