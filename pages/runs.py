"""Saved runs: reopen, compare side by side, delete. They live on the server and outlive the app."""

import streamlit as st

from gmg import ui
from gmg.storage import SHARED, StorageError

PAGE = "runs"

ui.init_state()
ui.navigation_links()
st.title("Saved runs")
store = ui.run_store()
if store.owner == SHARED:
    whose = "Runs saved from Explore by every visitor of this server (its operator chose one shared folder)"
else:
    st.query_params[ui.OWNER_KEY] = store.owner  # this page's link is the way back to these runs
    whose = ("Your runs saved from Explore. This page's link is the key to them: bookmark it to come back "
             "(after a restart too), and share it only with someone who may open and delete them")
st.caption(f"{whose}. Each is kept on the server as the agent's parameters (.npz) and everything else (JSON). "
           "Opening one evaluates the saved agent again; evaluation is a function of the seed, so it is the "
           "run that was saved.")
try:
    saved = store.list()
except StorageError as exc:
    st.error(f"The saved runs cannot be listed: {exc}", icon=":material/error:")
    st.stop()
if not saved:
    st.info("No saved runs yet: train one on Explore, then use *Save this run* below its plots.")
    st.stop()
st.dataframe([{"name": run.name, "environment": run.env, "agent": run.agent, "seed": run.seed,
               "saved (UTC)": run.saved_at, "cannot be opened": run.problem} for run in saved], hide_index=True)
names = [run.name for run in saved if not run.refused]  # a link or a foreign folder is only listed
chosen = st.multiselect("Open (two side by side to compare)", names, max_selections=2, key=f"{PAGE}_open")
row = st.container(horizontal=True)
if row.button("Delete the chosen runs", disabled=not chosen, icon=":material/delete:", key=f"{PAGE}_delete"):
    failed = False  # the errors stay on screen (a rerun would clear them)
    for name in chosen:
        try:
            store.delete(name)
        except StorageError as exc:
            st.error(f"Cannot delete \"{name}\": {exc}", icon=":material/error:")
            failed = True
    if failed:
        st.stop()
    st.session_state.pop(f"{PAGE}_open", None)
    st.rerun()
opened = ui.open_saved(PAGE, chosen)
if not opened:
    st.stop()
envs = {e.env_name for e in opened.values()}
if len(envs) > 1:
    st.warning("These runs are of different environments: each is shown on its own.")
for env_name in sorted(envs):
    group = {name: e for name, e in opened.items() if e.env_name == env_name}
    reports = {name: ui.run_summary(e) for name, e in group.items()}
    ui.show_figure(ui.metric_bars(reports), f"{PAGE}_bars_{env_name}")
    panels = tuple((f"{name}: {ui.describe_run(e)}", e, "test") for name, e in group.items())
    ui.show_figure(ui.figure("animation", panels, 0), f"{PAGE}_animation_{env_name}")
