"""Tree gridworld: the agent learns while it acts, drives the trees to extinction, then (slowly) learns restraint."""

import streamlit as st

from gmg import ui
from gmg.render import tree as figures
from gmg.studies import tree

PAGE = "tree"
MOMENT_KEY = "tree_moment"

ui.init_state()
ui.navigation_links()
st.title("Tree gridworld: chopping to extinction, without a train/test split")
st.markdown(
    "The agent gets **+1 per tree it chops** (by walking onto it); trees regrow, more slowly the fewer stand. "
    "There are no episodes and no test maps: the agent acts and learns in one world that never resets. "
    "Early on, with a full forest, *chop the nearest tree now* is right, and the agent learns it fast. "
    "It carries that over to a nearly empty forest (the proxy goal) and chops the last trees, then spends a long "
    "barren stretch before it learns to leave a few standing (the intended goal: the harvest in the long run)."
)
st.caption(
    "One departure from the paper: trees regrow at 0 trees with probability r_min = 0.001 per step, not 1e-6. "
    "With 1e-6 a tree comes back after about a million steps, far beyond a run here: extinction is then "
    "permanent in practice (see the preset)."
)
ui.preset_buttons(PAGE, tree.NAME, tree.PRESETS)
run = ui.study_settings(PAGE, tree.NAME, page_keys=(MOMENT_KEY,))
moment = ui.moment_control(PAGE, MOMENT_KEY, tree.REPLAY_WINDOWS)
ui.training_controls(PAGE, [run] if run else [], label="Train (about 20-30 s)")

shown = ui.shown_runs(PAGE, [run] if run else [])
if shown is None:
    st.stop()
[(run, result)] = shown
report = ui.run_summary(run)

ui.phase_metric_row(report)
ui.show_figure(figures.population_figure(result), "tree_population")
st.markdown(tree.what_to_notice(report))
ui.show_figure(figures.affinity_figure(result), "tree_affinity")
st.markdown(
    "**Affinity.** Every few thousand steps the learning agent is frozen and put on fixed maps with 1, 2, ... trees "
    "and no regrowth: does it chop within reach? The greedy reference always does (1); the sustainable reference "
    f"never does when {run.config.sustainable_above} or fewer trees stand (0)."
)
left, right = st.columns([0.45, 0.55])
with left:
    window = min(moment, len(result.replay_steps)) - 1
    ui.show_figure(figures.replay_figure(result, window), "tree_replay")
with right:
    ui.show_figure(figures.reference_figure(report), "tree_reference")
ui.study_diagnosis(PAGE, run)
ui.study_downloads(PAGE, report, {f"gmg_{PAGE}_per_1000_steps.csv": tree.curve_table(result).to_csv(index=False)})
