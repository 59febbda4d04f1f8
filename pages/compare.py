"""Preset: the same agent trained in the failing setting and in the cure, side by side on the same test maps."""

import streamlit as st

from gmg import ui

PAGE = "compare"
MAP_HEIGHT = 520  # the maps with their slider, and the goal plot beside them

ui.init_state()
ui.navigation_links()
settings = ui.sidebar_settings(PAGE, fix_contrast=True)
card = ui.guide(settings.env_name)
if card.contrast is None:
    st.info("This environment has no preset yet: use Explore.")
    st.stop()
st.title(card.preset_title)
# the story first, on one screen at 1280x800: what to notice, the maps on one slider and beside them
# which goal explains the actions; the controls and everything else below (or first, while nothing is shown)
story = st.container()
include_random = ui.page_toggle(PAGE, "Add the random agent", "random",
                                help="An agent that acts at random: the floor every metric is read against.")
episode, plots_episode = ui.view_controls(PAGE)
policy_at = ui.policy_moment_control(PAGE, settings.env_name)
experiments = ui.checked(lambda: ui.preset_experiments(settings, include_random)) or []
ui.training_controls(PAGE, experiments, label="Train both agents")

shown = ui.shown_runs(PAGE, experiments)
if shown is None:
    st.stop()
ui.side_by_side(PAGE, story, [(ui.preset_title(run), run) for run, _ in shown], episode, plots_episode, policy_at,
                MAP_HEIGHT)
ui.lecture_next(PAGE)
