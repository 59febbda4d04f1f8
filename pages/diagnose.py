"""Diagnose: is a trained agent's test behaviour goal misgeneralization, specification gaming, or neither?"""

import streamlit as st

from gmg import diagnose, ui

PAGE = "diagnose"

ui.init_state()
ui.navigation_links()
st.title("Goal misgeneralization or specification gaming?")
st.markdown(
    "Both look alike: the agent does something we did not intend. The difference is the **specified reward**. "
    "In the situations where the goals come apart, would the reward it was trained on have preferred the intended "
    "behaviour? If yes, the agent learned the wrong goal from a right reward: **goal misgeneralization**. If the "
    "reward itself pays as much or more for what it did: **specification gaming**. An agent that pursues nothing "
    "competently is a **capability failure**, and one that pursues the intended goal **generalizes**. "
    "When labellers disagree about the reward, the answer is a probability."
)
settings = ui.sidebar_settings(PAGE)
ui.experiment_presets(PAGE, settings.env_name)
job = ui.checked(lambda: diagnose.DiagnosisRun(settings.experiment()))
jobs = [job] if job else []
ui.training_controls(PAGE, jobs, label="Train and diagnose")

shown = ui.shown_runs(PAGE, jobs)
if shown is None:
    st.stop()
[(job, report)] = shown
ui.show_figure(diagnose.evidence_figure(report), "diagnose_evidence")
st.markdown(diagnose.explanation(report))
ui.study_downloads(PAGE, report, {})
