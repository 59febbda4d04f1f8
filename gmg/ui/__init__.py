"""Streamlit glue shared by the pages: the only part of gmg that imports streamlit.

Pages read widgets, call the library and display; what they share lives here, one module per
concern: `state` (pages, session state, notices, the shared result store), `links` (widgets bound
to link parameters), `settings` (the sidebar), `runs` (background runs through the server's
queue, progress, what a page shows), `views` (displays of finished runs), and `saved` (saved runs).
What the app says about each environment is that environment's card (gmg.envs.card). Pages use
the names below.
"""

from .links import bound_widget, defaults, page_toggle, report_unknown_link_keys
from .moves import move_things
from .runs import describe_run, history_picker, job_queue, shown_runs, training_controls
from .saved import open_saved, run_owner, run_store, save_run_control
from .settings import (Settings, experiment_presets, explore_presets, moment_control, policy_moment_control,
                       learner_title, preset_buttons, preset_experiments, preset_title,
                       representation_experiments, representation_note, seeds_control, sidebar_settings,
                       study_settings, view_controls)
from .state import (HISTORY_KEPT, LINK_MAX_CHARACTERS, LINK_MAX_FIELDS, OWNER_KEY, PAGE_CONFIG, PAGES,
                    RECORDED_EPISODES, RESULTS_KEPT, checked, guide, init_state, lecture_next, navigation_links,
                    page_link, result_store, show_figure)
from .views import (compare_notice, downloads, figure, learned_weights, metric_bars, metric_row, phase_metric_row,
                    policy_field_section, run_summary, side_by_side, side_by_side_page, story_figure, study_diagnosis, study_downloads, what_to_notice)

__all__ = [
    "guide", "bound_widget", "move_things", "defaults", "page_toggle", "report_unknown_link_keys",
    "describe_run", "history_picker", "job_queue", "shown_runs", "training_controls", "open_saved", "run_owner",
    "run_store", "save_run_control", "Settings", "experiment_presets", "explore_presets", "moment_control",
    "policy_moment_control", "learner_title", "representation_experiments", "representation_note", "preset_buttons", "preset_experiments", "preset_title", "seeds_control",
    "sidebar_settings", "study_settings", "view_controls", "HISTORY_KEPT", "LINK_MAX_CHARACTERS", "LINK_MAX_FIELDS",
    "OWNER_KEY", "PAGE_CONFIG", "PAGES", "RECORDED_EPISODES", "RESULTS_KEPT", "checked", "init_state", "lecture_next",
    "navigation_links", "page_link", "result_store", "show_figure", "compare_notice", "downloads", "figure",
    "learned_weights", "metric_bars", "metric_row", "phase_metric_row", "policy_field_section", "run_summary",
    "side_by_side", "side_by_side_page", "story_figure",
    "study_diagnosis", "study_downloads", "what_to_notice",
]
