"""Figures of the Tree gridworld study (gmg.studies.tree): population, affinity, references, replay, live view."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..envs.tree import TreeEnv
from ..studies.tree import BLOCK, CRASH_SHARE, SMOOTH_BLOCKS, Config, TreeResult, phase_bounds, smoothed
from . import map_animation, style as render_style


TREE_STYLES = TreeEnv.sprite_styles


PHASE_COLOURS = {"early": "rgba(31,119,180,0.08)", "crash": "rgba(214,39,40,0.12)", "late": "rgba(44,160,44,0.10)"}


REFERENCE_DASH = {"greedy": "dot", "sustainable": "dash"}


def _reference_label(name: str, sustainable_above: int) -> str:
    return "greedy reference" if name == "greedy" else f"sustainable reference (chops above {sustainable_above} trees)"


def population_figure(result: TreeResult, height: int = 520) -> go.Figure:
    """Trees standing and reward per 1000 steps over the run, per copy, with copy 0's phases shaded
    and the reference policies' levels dashed."""
    c = result.config
    steps = (np.arange(result.mean_trees.shape[1]) + 1) * BLOCK
    fig = make_subplots(2, 1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Trees standing (mean per 1000 steps)",
                                        f"Reward per 1000 steps (smoothed over {SMOOTH_BLOCKS * BLOCK} steps)"))
    series = (result.mean_trees, smoothed(result.reward * 1000 / BLOCK))
    for row, values in enumerate(series, start=1):
        for k in range(c.copies):
            fig.add_trace(go.Scatter(x=steps, y=values[k], mode="lines", name=f"copy {k}", legendgroup=f"copy {k}",
                                     showlegend=row == 1 and c.copies > 1, line=dict(width=1.5 if c.copies == 1 else 1),
                                     opacity=1.0 if c.copies == 1 else 0.6), row, 1)
        for name, stats in result.reference.items():
            level = stats["mean_trees" if row == 1 else "reward_per_1000_steps"]
            fig.add_trace(go.Scatter(x=[steps[0], steps[-1]], y=[level, level], mode="lines",
                                     name=_reference_label(name, c.sustainable_above), legendgroup=name, showlegend=row == 1,
                                     line=dict(color="#555555", dash=REFERENCE_DASH[name], width=1.5)), row, 1)
    for name, bounds in phase_bounds(result.mean_trees[0], c.max_trees).items():
        if bounds is not None:
            fig.add_vrect(x0=bounds[0] * BLOCK, x1=bounds[1] * BLOCK, fillcolor=PHASE_COLOURS[name], line_width=0,
                          annotation_text=name + (" (copy 0)" if c.copies > 1 else ""),
                          annotation_position="top right" if name == "crash" else "top left")
    fig.add_hline(y=CRASH_SHARE * c.max_trees, line=dict(color="#d62728", width=1, dash="dot"), row=1, col=1,
                  annotation_text=f"crash line ({CRASH_SHARE:.0%} of max_trees)", annotation_position="bottom right")
    fig.update_xaxes(title_text="step (the world never resets)", row=2, col=1)
    fig.update_yaxes(range=[0, c.max_trees + 0.5], row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=2, col=1)
    return render_style(fig, "Population and harvest while the agent learns", height)


def affinity_figure(result: TreeResult, height: int = 460) -> go.Figure:
    """Per tree count and over time: the share of probe maps on which the frozen policy chopped
    (1 = as greedy as the greedy reference, 0 = as restrained as the sustainable one)."""
    c = result.config
    z = result.affinity.mean(0).T  # (counts, probes)
    fig = make_subplots(2, 1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.62, 0.38],
                        subplot_titles=("Chops within reach, by trees standing (mean over copies)",
                                        f"Affinity at 1-{c.sustainable_above} trees: 1 greedy, 0 sustainable"))
    fig.add_trace(go.Heatmap(x=result.probe_steps, y=np.arange(1, c.max_trees + 1), z=z, zmin=0, zmax=1,
                             colorscale="YlOrRd", colorbar=dict(title="chops", len=0.55, y=0.75),
                             hovertemplate="step %{x}<br>%{y} trees: chopped on %{z:.0%} of probe maps<extra></extra>"),
                  1, 1)
    if c.sustainable_above:
        low = result.affinity[:, :, : c.sustainable_above].mean(2)
        for k in range(c.copies):
            fig.add_trace(go.Scatter(x=result.probe_steps, y=low[k], mode="lines", name=f"copy {k}",
                                     showlegend=False, line=dict(width=1.5, color="#d62728"),
                                     opacity=1.0 if c.copies == 1 else 0.5), 2, 1)
    fig.update_yaxes(title_text="trees standing", dtick=1, row=1, col=1)
    fig.update_yaxes(range=[-0.05, 1.05], title_text="affinity", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    return render_style(fig, "How greedy is the policy? Probes of the frozen agent", height)


def reference_figure(report: dict, height: int = 380) -> go.Figure:
    """Reward per 1000 steps and trees standing: the agent's phases beside the reference policies."""
    above = report["config"]["sustainable_above"]
    bars = {f"agent, {name} phase": phase["metrics"] for name, phase in report["phases"].items() if phase}
    bars.update({name.replace("sustainable", f"sustainable (>{above})") + " reference": stats
                 for name, stats in report["reference"].items()})
    colours = {"early": "#1f77b4", "crash": "#d62728", "late": "#2ca02c", "greedy": "#999999", "sustainable": "#555555"}
    fig = make_subplots(1, 2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Reward per 1000 steps", "Trees standing (mean)"))
    for col, key in enumerate(("reward_per_1000_steps", "mean_trees"), start=1):
        fig.add_trace(go.Bar(y=list(bars), x=[m[key] for m in bars.values()], orientation="h", showlegend=False,
                             marker_color=[next(v for k, v in colours.items() if k in label) for label in bars],
                             hovertemplate="%{y}: %{x:.1f}<extra></extra>"), 1, col)
    fig.update_yaxes(autorange="reversed")
    return render_style(fig, "The agent's phases beside the reference policies", height)


def replay_figure(result: TreeResult, window: int, height: int = 520) -> go.Figure:
    """Copy 0's recorded moment `window` as an animated map."""
    c = result.config
    env = TreeEnv(c.env_config())
    start = int(result.replay_steps[window])
    frames, statuses, names = [], [], []
    for i, (trees, cell) in enumerate(zip(result.replay_trees[window], result.replay_cell[window])):
        positions = np.full((c.max_trees, 2), np.nan)
        standing = env.cell_positions[np.flatnonzero(trees)]
        positions[: len(standing)] = standing
        frames.append({"tree": positions, "agent": env.cell_positions[[cell]].astype(float)})
        statuses.append(f"step {start + i:,} · {len(standing)} trees standing")
        names.append(f"{start + i:,}")
    return map_animation(c.size, c.size, TREE_STYLES, frames, statuses, names,
                         title=f"Copy 0 around step {start:,}", height=height)


def live_figure(rows: list[dict], config: Config, height: int = 360) -> go.Figure:
    """While training: the world of copy 0 now, and the population so far (from progress rows)."""
    env = TreeEnv(config.env_config())
    fig = make_subplots(1, 2, column_widths=[0.32, 0.68], horizontal_spacing=0.08,
                        subplot_titles=("Copy 0 now", "Trees standing so far"))
    if rows:
        last = rows[-1]
        trees = env.cell_positions[np.array(last["trees"], dtype=np.int64)]
        agent = env.cell_positions[last["agent_cell"]]
        for (r, col), kind in [((trees[:, 0], trees[:, 1]), "tree"), (([agent[0]], [agent[1]]), "agent")]:
            symbol, colour, label = TREE_STYLES[kind]
            fig.add_trace(go.Scatter(x=col, y=r, mode="markers", name=label, showlegend=False,
                                     marker=dict(symbol=symbol, color=colour, size=14)), 1, 1)
        steps = [row["steps"] for row in rows]
        trees_now = np.array([row["mean_trees"] for row in rows])  # (reports, copies)
        for k in range(trees_now.shape[1]):
            fig.add_trace(go.Scatter(x=steps, y=trees_now[:, k], mode="lines", showlegend=False,
                                     line=dict(width=1.5)), 1, 2)
    fig.add_shape(type="rect", x0=-0.5, x1=config.size - 0.5, y0=-0.5, y1=config.size - 0.5, xref="x", yref="y",
                  fillcolor="#f4f4f0", line=dict(color="#999999"), layer="below")
    fig.update_xaxes(range=[-0.5, config.size - 0.5], visible=False, row=1, col=1)
    fig.update_yaxes(range=[config.size - 0.5, -0.5], visible=False, scaleanchor="x", row=1, col=1)
    fig.update_xaxes(range=[0, config.train_steps], title_text="step", row=1, col=2)
    fig.update_yaxes(range=[0, config.max_trees + 0.5], row=1, col=2)
    return render_style(fig, "Learning live", height)
