"""Figures of the expressions study (gmg.studies.expressions): rates on train vs test, the cure sweep."""

from __future__ import annotations

import plotly.graph_objects as go

from ..studies.expressions import COLOURS, CONTRAST, CURED_BELOW, RATE_LABELS, SEED_HOVER, split_label


def rates_figure(summary_: dict) -> go.Figure:
    """Share of dialogues with a redundant question, a missing one, a correct answer: train vs test."""
    fig = go.Figure()
    for split, part in summary_["splits"].items():
        metrics = part["metrics"]
        fig.add_bar(x=list(RATE_LABELS.values()), y=[metrics[m] for m in RATE_LABELS],
                    name=split_label(summary_, split), marker_color=COLOURS[split],
                    text=[f"{metrics[m]:.0%}" for m in RATE_LABELS], textposition="outside")
    fig.update_layout(title="Share of dialogues", barmode="group", yaxis=dict(range=[0, 1.15], tickformat=".0%"),
                      height=360, margin=dict(t=50, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.15))
    return fig


def sweep_figure(summary_: dict) -> go.Figure:
    """Test redundant rate against the share of zero-unknown examples: one dot per seed, the mean as a line."""
    rows = summary_["sweep"]["runs"]
    table = summary_["sweep"]["table"]
    fig = go.Figure()
    shares = [t for t in table if t["variant"] != CONTRAST]
    fig.add_scatter(x=[t["variant"] for t in shares], y=[t["mean_redundant_rate"] for t in shares],
                    mode="lines+markers", name="mean over seeds", line=dict(color=COLOURS["test"]),
                    marker=dict(size=10, symbol="diamond"))
    dots = [row for row in rows if row["variant"] != CONTRAST]
    fig.add_scatter(x=[row["variant"] for row in dots], y=[row["test_redundant_question_rate"] for row in dots],
                    mode="markers", name="one seed", marker=dict(color=COLOURS["test"], opacity=0.35, size=7),
                    customdata=[row["seed"] for row in dots], hovertemplate=SEED_HOVER)
    contrast = [row for row in rows if row["variant"] == CONTRAST]
    fig.add_scatter(x=[CONTRAST] * len(contrast), y=[row["test_redundant_question_rate"] for row in contrast],
                    mode="markers", name=f"{CONTRAST}, no zero-unknown examples",
                    marker=dict(color=COLOURS["contrast"], size=9, symbol="square"),
                    customdata=[row["seed"] for row in contrast], hovertemplate=SEED_HOVER)
    fig.add_hline(y=CURED_BELOW, line_dash="dot", line_color="grey",
                  annotation_text=f"cured: at most {CURED_BELOW:.0%}", annotation_position="top right")
    fig.update_layout(
        title="Cure sweep: redundant questions on zero-unknown expressions",
        xaxis=dict(title="share of zero-unknown examples in training", type="category"),
        yaxis=dict(title="dialogues with a redundant question", range=[-0.05, 1.05], tickformat=".0%"),
        height=380, margin=dict(t=50, b=40, l=60, r=20), legend=dict(orientation="h", y=-0.25),
    )
    return fig
