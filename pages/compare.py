"""Preset: the same agent trained in the failing setting and in the cure, side by side on the same test maps."""

import streamlit as st

from gmg import ui

PAGE = "compare"

ui.init_state()
ui.navigation_links()
settings = ui.sidebar_settings(PAGE, fix_contrast=True)
card = ui.guide(settings.env_name)
if card.contrast is None:
    st.info("This environment has no preset yet: use Explore.")
    st.stop()
st.title(card.preset_title)
ui.side_by_side_page(PAGE, settings.env_name, lambda include_random: ui.preset_experiments(settings, include_random),
                     ui.preset_title)
ui.lecture_next(PAGE)
