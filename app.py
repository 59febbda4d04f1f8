"""Entry point: `streamlit run app.py`. Routes to the pages; each page also runs on its own (deep links)."""

import streamlit as st

from gmg import ui

st.set_page_config(**ui.PAGE_CONFIG)
# The menu is drawn by the pages themselves (ui.navigation_links), so it is the same on a cold deep link.
pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(ui.PAGES)]
st.navigation(pages, position="hidden").run()
