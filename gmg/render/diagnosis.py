"""Figures of a diagnosis (gmg.diagnose) and of a seed study (gmg.seeds)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..diagnose import CAPABILITY_FLOOR, VERDICT_LABELS
from ..seeds import study
from . import ROLE_COLOURS, style


OTHER_COLOUR = "#555555"  # the agent's own bar, and a goal that is neither the intended nor the proxy
VERDICT_COLOURS = {"generalizes": "#2ca02c", "partly_generalizes": "#98df8a", "goal_misgeneralization": "#1f77b4",
                   "specification_gaming": "#ff7f0e", "reward_indifferent": "#bcbd22", "capability_failure": "#7f7f7f"}


def evidence_figure(report: dict, height: int = 420) -> go.Figure:
    """Three panels: the verdict's probabilities; capability per goal (the agent's score, random 0,
    planner 1: one scale whatever each goal is measured in); the specified reward of the observed
    and the intended behaviour from the same situations."""
    e = report["evidence"]
    cf = e["counterfactual"]
    fig = make_subplots(1, 3, horizontal_spacing=0.1, subplot_titles=(
        "Verdict", "Capability per goal<br>(random 0, planner 1)",
        cf.get("measure", "Specified reward<br>from the split").replace(" from", "<br>from")))
    # goal names label the bars; a long one (a study's sentence) gives way to its role, in full on hover
    roles = {name: role for role, name in report["goals"].items()}

    def label(goal: str) -> str:
        return goal if len(goal) <= 24 else f"{roles.get(goal, 'a')} goal"

    probabilities = report["probabilities"]
    fig.add_trace(go.Bar(x=[VERDICT_LABELS[v] for v in probabilities], y=list(probabilities.values()),
                         marker_color=[VERDICT_COLOURS[v] for v in probabilities], showlegend=False,
                         hovertemplate="%{x}: %{y:.0%}<extra></extra>"), 1, 1)
    per_goal = e["capability"]["test"]["per_goal"]
    fig.add_trace(go.Bar(x=[label(goal) for goal in per_goal], y=[g["score"] for g in per_goal.values()],
                         marker_color=[ROLE_COLOURS.get(roles.get(goal), OTHER_COLOUR) for goal in per_goal],
                         showlegend=False, customdata=[[goal, g["agent"], g["random"], g["planner"]] for goal, g in per_goal.items()],
                         hovertemplate="%{customdata[0]}: score %{y:.2f}<br>agent %{customdata[1]:.3g}, random "
                                       "%{customdata[2]:.3g}, planner %{customdata[3]:.3g}<extra></extra>"), 1, 2)
    for level, name in ((0, "random"), (1, "planner"), (CAPABILITY_FLOOR, "floor")):
        fig.add_hline(y=level, line_dash="dot" if name == "floor" else "solid", line_color="#999999", row=1, col=2,
                      annotation_text=name, annotation_position="right", annotation_font_size=10)
    if cf["branches"]:
        fig.add_trace(go.Bar(x=["the agent (observed)", f"planner for {label(report['goals']['intended'])}"],
                             y=[cf["observed_return"], cf["intended_return"]], marker_color=[OTHER_COLOUR, ROLE_COLOURS["intended"]],
                             showlegend=False, hovertemplate="%{x}: %{y:.2f}<extra></extra>"), 1, 3)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=1, col=1)
    scores = [g["score"] for g in per_goal.values()]
    fig.update_yaxes(range=[min(0.0, *scores) - 0.1, max(1.0, *scores) + 0.15], row=1, col=2)
    return style(fig, f"Diagnosis: {VERDICT_LABELS[report['verdict']]}", height)


def scatter_figure(points: list[dict], intended: str, proxy: str, height: int = 460) -> go.Figure:
    """Preference against capability, one dot per seed, coloured by verdict; outliers ringed."""
    marked = study(points)["seeds"] if points else []
    fig = go.Figure()
    for verdict, colour in VERDICT_COLOURS.items():
        chosen = [p for p in marked if p["verdict"] == verdict]
        fig.add_trace(go.Scatter(
            x=[p["capability"] for p in chosen], y=[p["preference"] for p in chosen], mode="markers+text",
            name=verdict.replace("_", " "), text=[str(p["seed"]) for p in chosen], textposition="top center",
            marker=dict(color=colour, size=13, line=dict(width=[3 if p["outlier"] else 0 for p in chosen],
                                                           color="#d62728")),
            hovertemplate="seed %{text}<br>capability %{x:.2f}<br>P(intended) %{y:.2f}<extra></extra>"))
    fig.add_hline(y=0.5, line=dict(color="#999999", dash="dot"))
    fig.update_xaxes(title_text="capability on the test maps (0 random, 1 planner for its best goal)",
                     range=[-0.1, 1.15])
    fig.update_yaxes(title_text=f"P({intended}) where the goals differ (0: {proxy})", range=[-0.1, 1.1])
    return style(fig, f"{len(points)} seeds: preference against capability (ringed: outliers)", height)
