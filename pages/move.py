"""Move things on a test map: click a thing (the agent, a coin, a shield, a key...), then an empty cell; the
preset's two agents (the failure and the cure) play the edited level at once, their policy fields beside."""

import streamlit as st

from gmg import ui

PAGE = "move"

ui.init_state()
ui.navigation_links()
settings = ui.sidebar_settings(PAGE, fix_contrast=True)
st.title("Move things on the map")
experiments = ui.checked(lambda: ui.preset_experiments(settings, include_random=False)) or []
ui.training_controls(PAGE, experiments, label="Train both agents")
shown = ui.shown_runs(PAGE, experiments)
if shown is None:
    st.stop()
ui.move_things(PAGE, [(ui.preset_title(run), run) for run, _ in shown])
