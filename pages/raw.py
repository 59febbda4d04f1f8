"""Hand-made features vs raw observations: the world's linear agent and the neural agent, trained on the same
levels, seed and steps, side by side on the same test maps: does a learner told nothing about the objects
pursue the same proxy?"""

import streamlit as st

from gmg import ui
from gmg.agents import RAW_LEARNER

PAGE = "raw"
NOTICE = (
    "Same reward, same training levels, same number of steps. Left: a linear agent on features that name the "
    "objects; right: a neural network that sees only the grid and was told nothing about goals."
)

ui.init_state()
ui.navigation_links()
settings = ui.sidebar_settings(PAGE, fix_agent=True, budget_agent=RAW_LEARNER)
st.title("Hand-made features vs raw observations")
ui.side_by_side_page(PAGE, settings.env_name,
                     lambda include_random: ui.representation_experiments(settings, include_random),
                     ui.learner_title, notice=NOTICE)
