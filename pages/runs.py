"""Saved runs: reopen, compare side by side, delete. They live in a folder and outlive the app."""

import streamlit as st

from gmg import ui

PAGE = "runs"

ui.init_state()
ui.navigation_links()
st.title("Saved runs")
store = ui.run_store()
st.caption(f"Runs saved from Explore, kept in `{store.folder}` (set GMG_RUN_STORE to use another folder): the "
           "agent's parameters as .npz, everything else as JSON. Opening one evaluates the saved agent again; "
           "evaluation is a function of the seed, so it is the run that was saved.")
saved = store.list()
if not saved:
    st.info("No saved runs yet: train one on Explore, then use *Save this run* below its plots.")
    st.stop()
st.dataframe([{"name": run.name, "environment": run.env, "agent": run.agent, "seed": run.seed,
               "saved (UTC)": run.saved_at} for run in saved], hide_index=True)
names = [run.name for run in saved]
chosen = st.multiselect("Open (two side by side to compare)", names, max_selections=2, key=f"{PAGE}_open")
row = st.container(horizontal=True)
if row.button("Delete the chosen runs", disabled=not chosen, icon=":material/delete:", key=f"{PAGE}_delete"):
    for name in chosen:
        store.delete(name)
    st.session_state.pop(f"{PAGE}_open", None)
    st.rerun()
opened = ui.open_saved(chosen)
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
