"""Explore: train one agent with the sidebar's settings and watch it on training and test maps."""

import streamlit as st

from gmg import render, ui

PAGE = "explore"
STORY_HEIGHT = 560  # the training and test maps on one slider, their goal posteriors beside them

ui.init_state()
ui.navigation_links()
st.title("Explore one agent")
st.caption(
    "Train an agent with the settings in the sidebar, then watch the same policy on a training map and "
    "on a test map in sync, beside plots of which goal — intended or proxy — its actions serve."
)
settings = ui.sidebar_settings(PAGE)
ui.explore_presets(PAGE, settings.env_name)
episode, plots_episode = ui.view_controls(PAGE)
policy_at = ui.policy_moment_control(PAGE, settings.env_name)
ui.history_picker()
experiment = ui.checked(settings.experiment)
ui.training_controls(PAGE, [experiment] if experiment else [])

shown = ui.shown_runs(PAGE, [experiment] if experiment else [])
if shown is None:
    st.stop()
[(run, result)] = shown
report = ui.run_summary(run)

ui.metric_row(report)
maps = (("Training distribution", run, "train"), ("Test distribution", run, "test"))
animation = ui.story_figure(PAGE, maps, episode, plots_episode, height=STORY_HEIGHT)
st.markdown(ui.what_to_notice(report))
ui.representation_note(settings)
ui.policy_field_section(PAGE, (("Test distribution", run),), episode, policy_at)
ui.show_figure(ui.figure("goal_counts", maps, plots_episode), "explore_goal_counts")
ui.show_figure(render.learning_curve_figure(result.env, result.trained.curve, run.limits.train_steps),
               "explore_learning_curve")
if run.limits.curriculum == "plr" and result.trained.curve:  # which levels it chose, and learned from
    ui.show_figure(render.replay_share_figure(result.trained.curve, run.limits.train_steps), "explore_replay_share")
if result.trained.replayed_levels is not None:
    ui.show_figure(render.replayed_levels_figure(result.env, *result.trained.replayed_levels),
                   "explore_replayed_levels")
ui.learned_weights(result)
ui.downloads(PAGE, {ui.describe_run(run): report}, animation)
ui.save_run_control(PAGE, run)
