"""What a background run shows while it trains: a learning curve, or its own kind's live view."""

from __future__ import annotations

import plotly.graph_objects as go

from ..agents import AGENTS
from ..diagnose import DiagnosisRun
from ..seeds import SeedStudy
from ..storage import SavedExperiment
from ..studies import StudyRun
from ..sweep import Sweep
from . import learning_curve_figure
from .diagnosis import scatter_figure
from .tree import live_figure as tree_live_figure

STUDY_VIEWS = {"tree": tree_live_figure}  # studies without an entry show their progress bar only


def live_figure(run, rows: list[dict], title: str = "Learning live") -> go.Figure | None:
    """The live view of `run` (any kind gmg.jobs runs) from its progress rows so far; None: none to draw."""
    if isinstance(run, StudyRun):
        view = STUDY_VIEWS.get(run.study)
        return None if view is None else view(rows, run.config)
    if isinstance(run, SeedStudy):
        env = run.experiment.make_env()
        return scatter_figure([row["point"] for row in rows], env.goals["intended"], env.goals["proxy"], height=380)
    if isinstance(run, (Sweep, SavedExperiment)):  # the progress bar counts cells; a reopened run only evaluates
        return None
    experiment = run.experiment if isinstance(run, DiagnosisRun) else run
    if not AGENTS[experiment.agent_name].learns:
        return None
    return learning_curve_figure(experiment.make_env(), rows, experiment.limits.train_steps, height=320, title=title)
