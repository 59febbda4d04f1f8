"""Plotly figures for the explorer: synced trajectory animation, policy fields, goal plots, learning curves, bars.

Pure functions of library objects (environments, rollouts, curve rows, metric dicts) returning
`go.Figure`s; no Streamlit here, so the CLI or a notebook can draw the same pictures.

Everything stays generic over environments through their drawing API: `env.sprites(state)`
(which must include an "agent" kind: its trail is drawn), `env.sprite_styles`, `env.status(state)`,
`env.goals` / `env.goal_rewards` and `env.after_goal_split_mask(rollout)`. An environment with
static cells (walls, lava) may add `env.background(state) -> {colour: (K, 2) array of (row, col)}`
for batch row 0, and name each colour for the legend in `env.background_labels`; they are drawn as
layout shapes, which survive `redraw: False` animation where a heatmap would vanish.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import goals, grid
from ..probe import CATEGORIES

# Browsers animate a few hundred client-side frames smoothly; longer episodes are subsampled.
MAX_FRAMES = 400
FRAME_MS = 120
POSTERIOR_WINDOW = 20
STATUS_ROWS = 2.2  # map rows of room below an animated map for its status lines (state, collected, marks)
STACKED_TOP_PX = 150  # a stacked posterior's room above its first subplot: title, a three-row legend, subtitle
ANIMATION_CHROME_PX = 230  # an animation's height not spent on the map: margins, titles, slider
ANIMATION_TOP_PX = 80  # an animation's top margin: a legend row, then the subplot titles
LEGEND_ROW_PX = 25  # a further row of a horizontal legend
SPRITE_CELLS = 0.6  # sprite marker size, in cells
EDIT_MARGIN_PX = 10  # a clickable map's top and bottom margins: it has no legend or title
EDIT_CHROME_PX = 2 * EDIT_MARGIN_PX
PICKED_COLOUR = "#d62728"  # the outline of the thing picked to move

ROLE_COLOURS = {"intended": "#2ca02c", "proxy": "#1f77b4"}
EVENT_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2")
RUN_COLOURS = ("#e45756", "#4c78a8", "#9d9d9d", "#f58518", "#72b7b2")
SPLIT_LINE = dict(color="#555555", width=1.5, dash="dot")
TIME_LINE = dict(color="#111111", width=2)  # the step the animation shows, on a posterior beside the maps
POSTERIOR_COLUMN = 0.9  # the posteriors' column width beside the maps, in maps' widths
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=13)


# ---------------------------------------------------------------- shared helpers
def goal_label(env, role: str) -> str:
    """'apples (intended goal)': the goal's name with the role that legends must explain."""
    return f"{env.goals[role]} ({role} goal)"


def metric_label(key: str) -> str:
    """'apples_per_100_after_clear' -> 'apples / 100 steps after clear' (fallback for unlabelled metrics)."""
    words = key.replace("_per_100_", " / 100 steps ").replace("_per_", " / ").replace("_", " ")
    return words[0].upper() + words[1:]


def format_metric(value, percent: bool) -> str:
    """A metric's value as a reader reads it: '13%' for a share, else three significant digits ('n/a' if undefined)."""
    if value is None:
        return "n/a"
    if percent:
        return f"{value:.0%}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def style(fig: go.Figure, title: str, height: int) -> go.Figure:
    # title, then legend, in pixels from the top, so neither collides with subplot titles
    fig.update_layout(
        template="plotly_white",
        title=dict(text=title, x=0.0, xanchor="left", yref="container", y=1 - 10 / height, yanchor="top",
                   font=dict(size=16)),
        font=FONT,
        height=height,
        margin=dict(l=10, r=10, t=100, b=10),
        legend=dict(orientation="h", x=0.0, xanchor="left", yref="container", y=1 - 40 / height, yanchor="top"),
    )
    return fig


def _grid_shape(env) -> tuple[int, int]:
    size = env.config.size
    return size, size


def goal_split_steps(env, rollout) -> np.ndarray:
    """Per episode, the first step begun after the goals came apart (-1 if they never did)."""
    mask = env.after_goal_split_mask(rollout) & rollout.active
    return np.where(mask.any(1), mask.argmax(1), -1)


def episode_end(rollout, episode: int) -> int:
    """The step at which recorded episode `episode` ended (its time limit, or earlier if it terminated):
    its last state is rollout.frames[end]."""
    return int(rollout.active[episode].sum())


def _split_note(env, rollout, episode, split_label, short: bool = False) -> tuple[float | None, str]:
    """Where to mark that the goals came apart (median over episodes when averaging) and a subtitle
    (`short`: without the share of episodes, for a narrow column)."""
    steps = goal_split_steps(env, rollout)
    if episode is not None:
        if steps[episode] < 0:
            return None, f"{split_label}: never in this episode"
        return int(steps[episode]), f"{split_label}: t={steps[episode]}"
    happened = steps[steps >= 0]
    if not len(happened):
        return None, f"{split_label}: never"
    x = float(np.median(happened))
    share = "" if short else f", in {len(happened) / len(steps):.0%} of episodes"
    return x, f"{split_label}: median t={x:g}{share}"


def _goal_subplots(env, panels, episode, split_label, stacked: bool = False) -> go.Figure:
    """One subplot per (title, rollout), side by side (or `stacked` one above the other, for a narrow
    column), subtitled and marked (dotted line) where the goals came apart."""
    notes = [_split_note(env, rollout, episode, split_label) for _, rollout in panels]
    titles = [f"<b>{title}</b><br><sup>{note}</sup>" for (title, _), (_, note) in zip(panels, notes)]
    shape = (len(panels), 1) if stacked else (1, len(panels))
    fig = make_subplots(*shape, subplot_titles=titles, horizontal_spacing=0.08, vertical_spacing=0.22)
    for p, (x, _) in enumerate(notes):
        if x is not None:
            fig.add_vline(x=x, line=SPLIT_LINE, **_subplot(p, stacked), exclude_empty_subplots=False)
    if any(x is not None for x, _ in notes):  # a legend entry that explains the dotted line
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=SPLIT_LINE, name=split_label,
                                 legendrank=1001), 1, 1)
    return fig


def _subplot(panel: int, stacked: bool) -> dict[str, int]:
    """The row and col of a panel's subplot."""
    return {"row": panel + 1, "col": 1} if stacked else {"row": 1, "col": panel + 1}


def _episode_view(values: np.ndarray, active: np.ndarray, episode: int | None) -> np.ndarray:
    """(E, T) -> (T,): one episode, or the mean over the episodes still running at each step."""
    if episode is not None:
        return np.where(active[episode], values[episode], np.nan)
    running = active.sum(0)
    return np.where(running > 0, (values * active).sum(0) / np.maximum(running, 1), np.nan)


# ---------------------------------------------------------------- trajectory animation
def frame_times(horizon: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Time steps 0..horizon to draw, evenly subsampled to at most `max_frames`, always ending at horizon."""
    stride = max(1, math.ceil((horizon + 1) / max_frames))
    times = list(range(0, horizon + 1, stride))
    if times[-1] != horizon:
        times[-1] = horizon
    return times


def _panel_traces(env, rollout, episode: int, times: list[int], trail: int) -> list[list[dict]]:
    """For every drawn time, the panel's dynamic traces: one per sprite kind, the agent trail, the status.
    After the episode ended (`episode_end`) its last state is held; once the goals came apart, the
    status line says since when (the card's `split_label`)."""
    end = episode_end(rollout, episode)
    split = int(goal_split_steps(env, rollout)[episode])
    states = [frame.rows(slice(episode, episode + 1)) for frame in rollout.frames]
    sprites = [env.sprites(state) for state in states]
    agent_path = np.array([frame_sprites["agent"][0][0, 0] for frame_sprites in sprites])  # (T+1, 2)
    counts = goals.goal_counts(env, rollout.events)
    tallies = {role: np.cumsum(counts[goal][episode]) for role, goal in env.goals.items()}
    per_time = []
    for t in times:
        held = min(t, end)  # an episode that ended stays on its last state
        traces = []
        for kind in env.sprite_styles:
            positions, shown = sprites[held][kind]
            # None keeps the point count fixed: hidden sprites (dead monsters) are simply not drawn
            traces.append({"x": [float(c) if on else None for c, on in zip(positions[0, :, 1], shown[0])],
                           "y": [float(r) if on else None for r, on in zip(positions[0, :, 0], shown[0])]})
        path = agent_path[max(0, held - trail): held + 1]
        traces.append({"x": path[:, 1].tolist(), "y": path[:, 0].tolist()})
        collected = " · ".join(f"{env.goals[role]} {int(tally[held - 1]) if held else 0}"
                               for role, tally in tallies.items())
        status = f"{env.status(states[held])[0]}<br>collected: {collected}"
        if t > end:
            status += f"<br><b>episode over at t={end}</b>"
        elif 0 <= split <= held:
            status += f"<br><b>{env.card.split_label}</b> at t={split}"
        traces.append({"text": [status]})
        per_time.append(traces)
    return per_time


def trajectory_animation(
    env,
    panels: list[tuple[str, object]],
    episode: int = 0,
    max_frames: int = MAX_FRAMES,
    trail: int = 6,
    height: int = 600,
    legend_rows: int | None = None,
    posterior: dict | None = None,
    start: int = 0,
) -> go.Figure:
    """One figure, one map per (title, rollout) panel, all driven by one slider and Play/Pause.
    `legend_rows`: the rows the legend takes at the width it is shown (None: 2 with walls or lava, else 1).
    `posterior` ({"episode": None (mean over episodes) or an episode, "split_label": ...}): beside the maps,
    one above the other, each panel's goal posterior over time (as `posterior_figure`), with a line at
    the step the slider shows, which moves with the slider and the Play button.

    Frames are client-side (`redraw: False`): the grid is layout shapes, sprites are scatter traces
    whose points move. A panel whose episode is shorter than the longest holds its last frame
    and says so in its subtitle and status line. The figure opens at step `start` (the first drawn step
    from there; a click on a posterior's time asks for it).
    """
    rollouts = [rollout for _, rollout in panels]
    ends = [episode_end(r, episode) for r in rollouts]
    horizon = max(ends)  # the slider stops when the last of the shown episodes ended: no dead frames
    times = frame_times(horizon, max_frames)
    rows, cols = _grid_shape(env)
    titles = []
    for (title, rollout), end in zip(panels, ends):
        note = f" · last frame held after t={end}" if end < horizon else ""
        titles.append(f"<b>{title}</b><br><sup>{rollout.episode_length}-step episode{note}</sup>")
    n = len(panels)
    if posterior is None:
        fig = make_subplots(1, n, subplot_titles=titles, horizontal_spacing=0.04)
    else:  # the maps span every row of the last column, where the posteriors stand one above the other
        notes = [_split_note(env, rollout, posterior["episode"], posterior["split_label"], short=True)
                 for rollout in rollouts]
        fig = make_subplots(
            n, n + 1, specs=[[{"rowspan": n}] * n + [{}]] + [[None] * n + [{}] for _ in range(n - 1)],
            column_widths=[1.0] * n + [POSTERIOR_COLUMN], horizontal_spacing=0.04, vertical_spacing=0.2,
            subplot_titles=titles + [f"<b>{title}</b><br><sup>{note}</sup>" for (title, _), (_, note) in zip(panels, notes)])

    marker_px = SPRITE_CELLS * _cell_px(height, ANIMATION_CHROME_PX, rows + STATUS_ROWS)
    per_panel = [_panel_traces(env, r, episode, times, trail) for r in rollouts]
    n_dynamic = len(env.sprite_styles) + 2
    shapes = []
    for p, traces in enumerate(per_panel):
        axis = "" if p == 0 else str(p + 1)
        first = traces[0]
        for k, (kind, (symbol, colour, label)) in enumerate(env.sprite_styles.items()):
            fig.add_trace(
                go.Scatter(**first[k], mode="markers", name=label, legendgroup=kind, showlegend=p == 0,
                           marker=_sprite_marker(symbol, colour, marker_px), hoverinfo="skip"),
                1, p + 1,
            )
        fig.add_trace(
            go.Scatter(**first[-2], mode="lines", name=f"agent's last {trail} steps", legendgroup="trail",
                       showlegend=p == 0, line=dict(color="rgba(17,17,17,0.3)", width=3), hoverinfo="skip"),
            1, p + 1,
        )
        fig.add_trace(
            go.Scatter(x=[(cols - 1) / 2], y=[rows - 0.35], **first[-1], mode="text", textposition="bottom center",
                       showlegend=False, hoverinfo="skip", textfont=dict(size=12, color="#333333")),
            1, p + 1,
        )
        shapes += _grid_shapes(env.background(rollouts[p].frames[0].rows(slice(episode, episode + 1))), rows, cols, axis)
        _map_axes(fig, p, rows, cols, bottom=rows - 0.5 + STATUS_ROWS)

    markers, split_lines = [], []  # the posteriors' time lines (dynamic traces right after the maps') and split marks
    if posterior is not None:
        for p in range(n):
            fig.add_trace(go.Scatter(x=[0, 0], y=[0, 1], mode="lines", line=TIME_LINE, showlegend=False,
                                     hoverinfo="skip"), p + 1, n + 1)
        markers = [[{"x": [t, t], "y": [0, 1]}] * n for t in times]
        for p, (rollout, (x, _)) in enumerate(zip(rollouts, notes)):
            if x is not None:  # a shape of its own: the maps' grid shapes replace the layout's shapes below
                axis = n + 1 + p
                split_lines.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, xref=f"x{axis}", yref=f"y{axis} domain",
                                        line=SPLIT_LINE))
            # no axis titles: the slider's step label sits under the last one, the maps' legend names the areas
            _add_posterior(fig, env, rollout, posterior["episode"], POSTERIOR_WINDOW, p, {"row": p + 1, "col": n + 1},
                           axis_title=False)
            # click targets: an invisible point per step (a line or an area cannot be clicked), the maps go there
            steps = np.arange(1, rollout.episode_length + 1)
            fig.add_trace(go.Scatter(x=steps, y=np.full(len(steps), 0.5), mode="markers", showlegend=False,
                                     marker=dict(size=40, symbol="line-ns", opacity=0, line=dict(width=4)),
                                     selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
                                     hovertemplate="step %{x}: click to show it on the maps<extra></extra>"),
                          p + 1, n + 1)
        if any(x is not None for x, _ in notes):
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=SPLIT_LINE,
                                     name=posterior["split_label"]), 1, n + 1)
        fig.update_layout(clickmode="event+select")  # a click on a posterior's point reports its time
    static_kinds = _background_legend(fig, env, rollouts[0].frames[0].rows(slice(episode, episode + 1)))
    frames = [
        {"name": str(t), "data": [trace for traces in per_panel for trace in traces[i]] + (markers[i] if markers else []),
         "traces": list(range(n_dynamic * n + (n if markers else 0)))}
        for i, t in enumerate(times)
    ]
    fig.frames = frames
    shown = next((i for i, t in enumerate(times) if t >= start), len(times) - 1)
    if shown:  # the dynamic traces as that frame draws them
        for index, trace in zip(frames[shown]["traces"], frames[shown]["data"]):
            fig.data[index].update(trace)
    fig.update_layout(shapes=shapes + split_lines, **player_controls(frames, "step t = ", active=shown))
    style(fig, "", height)
    # walls and lava lengthen the legend: at 1280 px it wraps, and its second row needs room above the titles
    legend_rows = legend_rows or (2 if static_kinds else 1)
    top = ANIMATION_TOP_PX + LEGEND_ROW_PX * (legend_rows - 1)
    fig.update_layout(margin=dict(l=10, r=10, t=top, b=70), legend=dict(y=1 - 8 / height))
    return fig


def map_animation(rows: int, cols: int, styles: dict, frames: list[dict], statuses: list[str], names: list[str],
                  title: str = "", height: int = 520, trail: int = 6) -> go.Figure:
    """One animated map from plain positions: frames[i][kind] is an (N, 2) array of (row, col), NaN
    rows hidden (N fixed per kind); styles[kind] = (symbol, colour, label); "agent" gets a trail.

    For worlds without rollouts (a continual run's recorded moments); same look as trajectory_animation.
    """
    marker_px = SPRITE_CELLS * _cell_px(height, ANIMATION_CHROME_PX, rows + STATUS_ROWS)
    agent_path = np.array([frame["agent"][0] for frame in frames])

    def traces(i: int) -> list[dict]:
        out = [{"x": frames[i][kind][:, 1].tolist(), "y": frames[i][kind][:, 0].tolist()} for kind in styles]
        path = agent_path[max(0, i - trail): i + 1]
        return out + [{"x": path[:, 1].tolist(), "y": path[:, 0].tolist()}, {"text": [statuses[i]]}]

    fig = make_subplots(1, 1)
    first = traces(0)
    for k, (kind, (symbol, colour, label)) in enumerate(styles.items()):
        fig.add_trace(go.Scatter(**first[k], mode="markers", name=label, marker=_sprite_marker(symbol, colour, marker_px),
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(**first[-2], mode="lines", name=f"agent's last {trail} steps",
                             line=dict(color="rgba(17,17,17,0.3)", width=3), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[(cols - 1) / 2], y=[rows - 0.35], **first[-1], mode="text",
                             textposition="bottom center", showlegend=False, hoverinfo="skip",
                             textfont=dict(size=12, color="#333333")))
    _map_axes(fig, 0, rows, cols, bottom=rows - 0.5 + STATUS_ROWS)
    animation = [{"name": name, "data": traces(i), "traces": list(range(len(styles) + 2))}
                 for i, name in enumerate(names)]
    fig.frames = animation
    fig.update_layout(shapes=_grid_shapes({}, rows, cols, ""), **player_controls(animation, "step "))
    style(fig, title, height)
    fig.update_layout(margin=dict(l=10, r=10, t=80, b=70), legend=dict(y=1 - 40 / height))
    return fig


def player_controls(frames: list[dict], prefix: str, active: int = 0) -> dict:
    """Layout for Play / Pause / Restart buttons and a slider over client-side `frames` (named by their step),
    its handle on frame `active`."""
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top", pad=dict(t=8, r=8),
            showactive=False,
            buttons=[
                dict(label="Play", method="animate",
                     args=[None, {"frame": {"duration": FRAME_MS, "redraw": False}, "fromcurrent": True,
                                  "transition": {"duration": 0}, "mode": "immediate"}]),
                dict(label="Pause", method="animate", args=[[None], still]),
                dict(label="Restart", method="animate", args=[[frames[0]["name"]], still]),
            ],
        )],
        sliders=[dict(
            active=active, x=0.2, len=0.8, y=0.0, yanchor="top", pad=dict(t=8),
            # the current step at the slider's right end: at its left the buttons covered it at 1280 px
            currentvalue=dict(prefix=prefix, xanchor="right", font=dict(size=14, color="#333333")),
            # one tick per frame: hide their labels, the current value says where we are
            font=dict(color="rgba(0,0,0,0)"), ticklen=2, minorticklen=0,
            steps=[dict(label=f["name"], method="animate", args=[[f["name"]], still]) for f in frames],
        )],
    )


def _cell_px(height: int, chrome_px: int, cells_tall: float) -> float:
    """A map cell's size in px: the map gets the figure's height minus its chrome (margins, titles, slider)."""
    return max(8.0, (height - chrome_px) / cells_tall)


def _sprite_marker(symbol: str, colour: str, size: float) -> dict:
    # line-only symbols (x, cross) need a stroke to show at all
    return dict(symbol=symbol, color=colour, size=size,
                line=dict(width=2 if symbol in ("x", "cross") else 0, color=colour))


def _map_axes(fig: go.Figure, panel: int, rows: int, cols: int, bottom: float) -> None:
    """Fixed square cells, row 0 at the top; `bottom` leaves room under the map (a status line)."""
    fig.update_xaxes(range=[-0.5, cols - 0.5], visible=False, fixedrange=True, row=1, col=panel + 1)
    fig.update_yaxes(range=[bottom, -0.5], visible=False, fixedrange=True,
                     scaleanchor=f"x{'' if panel == 0 else panel + 1}", scaleratio=1, row=1, col=panel + 1)


def _background_legend(fig: go.Figure, env, state) -> int:
    """A legend entry (a square of its colour) for each kind of static cell on this map (walls, lava);
    returns how many. Legend-only traces, added after the animated ones, so the frames' trace indices
    stay as they are."""
    kinds = [colour for colour, cells in env.background(state).items() if len(cells) and colour in env.background_labels]
    for colour in kinds:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=env.background_labels[colour], hoverinfo="skip",
                                 marker=dict(symbol="square", color=colour, size=12)))
    return len(kinds)


def _grid_shapes(background: dict, rows: int, cols: int, axis: str) -> list[dict]:
    """Cells as layout shapes (they stay put while frames animate), with `background` {colour: cells} painted."""
    ref = dict(xref=f"x{axis}", yref=f"y{axis}", layer="below")
    thin = dict(color="#dddddd", width=1)
    shapes = [dict(type="rect", x0=-0.5, x1=cols - 0.5, y0=-0.5, y1=rows - 0.5,
                   fillcolor="#f4f4f0", line=dict(color="#999999", width=1.5), **ref)]
    shapes += [dict(type="line", x0=c - 0.5, x1=c - 0.5, y0=-0.5, y1=rows - 0.5, line=thin, **ref)
               for c in range(1, cols)]
    shapes += [dict(type="line", x0=-0.5, x1=cols - 0.5, y0=r - 0.5, y1=r - 0.5, line=thin, **ref)
               for r in range(1, rows)]
    for colour, cells in background.items():
        shapes += [dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                        fillcolor=colour, line=dict(width=0), **ref) for r, c in np.asarray(cells).reshape(-1, 2)]
    return shapes


# ---------------------------------------------------------------- policy field
SERVES_COLOURS = {**ROLE_COLOURS, "both": "#b3b3b3", "neither": "#6e6e6e"}
POLICY_TOP_PX = 140  # room above the maps for a legend of up to two rows, then the subplot titles
POLICY_CHROME_PX = POLICY_TOP_PX + 50  # a policy field's height not spent on the map
MOVE_NAMES = ("up", "down", "left", "right", "stay")  # in grid.MOVES order
ARROW_CELLS = 0.6  # arrow marker size, in cells
# plotly's "arrow" symbol has its tip on the point and its body 0.95 marker sizes behind it (plotly.js
# symbol_defs: height 2 r sin 72 degrees, r = size / 2); shifting the point half that length along the
# move centres the arrow in its cell
ARROW_SHIFT = 0.95 * ARROW_CELLS / 2
STAY_CELLS = 0.25


def serves_label(env, category: str) -> str:
    """Legend text for a PolicyField category: 'serves apples (intended goal)', 'serves both goals'."""
    if category in env.goals:
        return f"serves {goal_label(env, category)}"
    return {"both": "serves both goals", "neither": "serves neither goal"}[category]


def _policy_arrows(env, field, selected: np.ndarray, cell_px: float, category: str) -> go.Scatter:
    """The greedy moves of the selected cells as one trace: arrows rotated to the move, dots for staying."""
    moves = grid.MOVES[field.actions[selected]]  # (K, 2) row, col steps
    stay = (moves == 0).all(1)
    cells = field.cells[selected] + ARROW_SHIFT * moves
    # marker.angle is clockwise from screen-up, and row numbers grow downwards
    angles = np.degrees(np.arctan2(moves[:, 1], -moves[:, 0]))
    hover = [
        f"row {r}, col {c}: {MOVE_NAMES[a]} · {serves_label(env, category)}"
        + (" (a tie between equally valued moves, one drawn at random)" if tied else "")
        for (r, c), a, tied in zip(field.cells[selected], field.actions[selected], field.tied[selected])
    ]
    return go.Scatter(
        x=cells[:, 1], y=cells[:, 0], mode="markers", name=serves_label(env, category), legendgroup=category,
        showlegend=False, text=hover, hovertemplate="%{text}<extra></extra>",
        marker=dict(symbol=np.where(stay, "circle", "arrow"), angle=angles, color=SERVES_COLOURS[category],
                    size=np.where(stay, STAY_CELLS, ARROW_CELLS) * cell_px, line=dict(width=0)),
    )


def policy_field_figure(env, panels: list[tuple[str, object, object]], height: int = 560) -> go.Figure:
    """Where would the agent go from every free cell? One map per (title, state, PolicyField) panel.

    `state` is the one-row state the field was probed on (gmg.probe): its objects are drawn as in
    the animation, but not the agent, whom the field puts on every free cell. Each free cell shows
    the agent's greedy move, an arrow (a dot to stay put) coloured by the candidate goal it serves.
    """
    rows, cols = _grid_shape(env)
    titles = [f"<b>{title}</b><br><sup>{env.status(state)[0]}</sup>" for title, state, _ in panels]
    fig = make_subplots(1, len(panels), subplot_titles=titles, horizontal_spacing=0.04)
    cell_px = _cell_px(height, POLICY_CHROME_PX, rows)
    shapes = []
    for p, (_, state, field) in enumerate(panels):
        sprites = env.sprites(state)
        for kind, (symbol, colour, label) in env.sprite_styles.items():
            if kind == "agent":  # the field puts the agent on every free cell
                continue
            positions, shown = sprites[kind]
            on = positions[0, shown[0]]
            fig.add_trace(go.Scatter(x=on[:, 1], y=on[:, 0], mode="markers", name=label, legendgroup=kind,
                                     showlegend=p == 0, marker=_sprite_marker(symbol, colour, SPRITE_CELLS * cell_px),
                                     hoverinfo="skip"), 1, p + 1)
        for category in CATEGORIES:
            fig.add_trace(_policy_arrows(env, field, field.serves == category, cell_px, category), 1, p + 1)
        shapes += _grid_shapes(env.background(state), rows, cols, "" if p == 0 else str(p + 1))
        _map_axes(fig, p, rows, cols, bottom=rows - 0.5)
    # legend entries of their own: every category listed, each with the same right-pointing arrow (a data
    # trace's entry would show its first point, whatever its direction, and none for an empty category)
    for category in CATEGORIES:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=serves_label(env, category),
                                 legendgroup=category, marker=dict(symbol="arrow", angle=90, size=14,
                                                                   color=SERVES_COLOURS[category])), 1, 1)
    _background_legend(fig, env, panels[0][1])
    fig.update_layout(shapes=shapes)
    style(fig, "Where would the agent go from each cell? (arrow: its best move; dot: stay put)", height)
    fig.update_layout(margin=dict(t=POLICY_TOP_PX))
    return fig


def editable_map_figure(env, state, picked: tuple[int, int] | None, height: int = 340) -> go.Figure:
    """The one-row `state` as a still map to click on, without a legend (shown beside it by the animation):
    every cell is an invisible point, so a click anywhere on the map selects its cell; the `picked` cell
    (a thing chosen to move) is outlined."""
    rows, cols = _grid_shape(env)
    fig = make_subplots(1, 1)
    cell_px = _cell_px(height, EDIT_CHROME_PX, rows)
    sprites = env.sprites(state)
    for kind, (symbol, colour, label) in env.sprite_styles.items():
        positions, shown = sprites[kind]
        on = positions[0, shown[0]]
        fig.add_trace(go.Scatter(x=on[:, 1], y=on[:, 0], mode="markers", name=label, showlegend=False,
                                 marker=_sprite_marker(symbol, colour, SPRITE_CELLS * cell_px), hoverinfo="skip"))
    cells = np.array([(r, c) for r in range(rows) for c in range(cols)])
    # the click targets: one square point per cell, drawn last (on top), invisible
    fig.add_trace(go.Scatter(x=cells[:, 1], y=cells[:, 0], mode="markers", showlegend=False, name="cell",
                             marker=dict(symbol="square", size=cell_px * 0.9, color="#000000", opacity=0),
                             selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
                             hovertemplate="row %{y}, column %{x}<extra></extra>"))
    shapes = _grid_shapes(env.background(state), rows, cols, "")
    if picked is not None:
        r, c = picked
        shapes.append(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, xref="x", yref="y",
                           line=dict(color=PICKED_COLOUR, width=4)))
    _map_axes(fig, 0, rows, cols, bottom=rows - 0.5)
    fig.update_layout(shapes=shapes, clickmode="event+select", dragmode=False, showlegend=False)
    style(fig, "", height)
    fig.update_layout(margin=dict(l=5, r=5, t=EDIT_MARGIN_PX, b=EDIT_MARGIN_PX))
    return fig


# ---------------------------------------------------------------- goal plots
def goal_count_figure(env, panels, episode: int | None = None, split_label: str = "goals come apart",
                      height: int = 380) -> go.Figure:
    """Cumulative intended vs proxy goal counts over the episode, one subplot per (title, rollout)."""
    fig = _goal_subplots(env, panels, episode, split_label)
    for p, (_, rollout) in enumerate(panels):
        counts = goals.goal_counts(env, rollout.events)
        steps = np.arange(1, rollout.episode_length + 1)
        for role, goal in env.goals.items():
            cumulative = np.cumsum(counts[goal], 1)
            fig.add_trace(
                # a total holds after its episode ended: average over every episode, not the running ones
                go.Scatter(x=steps, y=_episode_view(cumulative, np.ones_like(rollout.active), episode), mode="lines",
                           name=goal_label(env, role), legendgroup=role, showlegend=p == 0,
                           line=dict(color=ROLE_COLOURS[role], width=2.5,
                                     dash="solid" if role == "intended" else "dash")),
                1, p + 1,
            )
        fig.update_xaxes(title_text="step in episode", range=[0, rollout.episode_length], row=1, col=p + 1)
    fig.update_yaxes(title_text="collected so far", rangemode="tozero", col=1)
    scope = "mean over all episodes" if episode is None else f"episode {episode + 1}"
    return style(fig, f"What did the agent collect? ({scope})", height)


def posterior_figure(env, panels, episode: int | None = None, window: int = POSTERIOR_WINDOW,
                     split_label: str = "goals come apart", height: int = 380, stacked: bool = False) -> go.Figure:
    """P(goal | the last `window` actions) over the episode as stacked areas, one subplot per panel
    (side by side, or `stacked` for a narrow column)."""
    fig = _goal_subplots(env, panels, episode, split_label, stacked)
    for p, (_, rollout) in enumerate(panels):
        _add_posterior(fig, env, rollout, episode, window, p, _subplot(p, stacked),
                       axis_title=p == len(panels) - 1 or not stacked)
    fig.update_yaxes(title_text=f"P(goal | last {window} actions)", col=1, row=None if stacked else 1)
    scope = "mean over all episodes" if episode is None else f"episode {episode + 1}"
    if not stacked:
        return style(fig, f"Which goal explains the agent's recent actions? ({scope})", height)
    style(fig, f"Which goal? ({scope})", height)
    # in a narrow column the legend wraps to three rows: the subplots start below them
    return fig.update_layout(margin=dict(t=STACKED_TOP_PX))


def _add_posterior(fig: go.Figure, env, rollout, episode: int | None, window: int, p: int, cell: dict,
                   axis_title: bool) -> None:
    """Panel `p`'s P(goal | last `window` actions) as stacked areas in subplot `cell` ({row, col})."""
    posterior = goals.windowed_posterior(rollout.goal_loglik, window)
    steps = np.arange(1, rollout.episode_length + 1)
    for role, goal in env.goals.items():
        fig.add_trace(
            go.Scatter(x=steps, y=_episode_view(posterior[goal], rollout.active, episode), mode="lines",
                       stackgroup=f"posterior{p}", name=goal_label(env, role), legendgroup=role,
                       showlegend=p == 0, line=dict(color=ROLE_COLOURS[role], width=1)),
            **cell,
        )
    # up to the step the longest episode ran (episodes that end early leave no empty tail)
    fig.update_xaxes(title_text="step in episode" if axis_title else None,
                     range=[1, max(2, int(rollout.active.any(0).sum()))], **cell)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", **cell)


# ---------------------------------------------------------------- training and comparison
def learning_curve_figure(env, rows: list[dict], total_steps: int | None = None, height: int = 340,
                          title: str = "Learning curve on the training distribution") -> go.Figure:
    """Rates per 100 training steps: each goal's events, the other events, and the reward learned from."""
    fig = go.Figure()
    steps = [row["steps"] for row in rows]
    goal_events = set()
    for role, goal in env.goals.items():
        weights = env.goal_rewards[goal]
        goal_events |= set(weights)
        rate = [sum(w * row[f"{event}_per_100_steps"] for event, w in weights.items()) for row in rows]
        fig.add_trace(go.Scatter(x=steps, y=rate, mode="lines", name=goal_label(env, role),
                                 line=dict(color=ROLE_COLOURS[role], width=2.5,
                                           dash="solid" if role == "intended" else "dash")))
    others = [event for event in env.events if event not in goal_events]
    for event, colour in zip(others, EVENT_COLOURS):
        fig.add_trace(go.Scatter(x=steps, y=[row[f"{event}_per_100_steps"] for row in rows], mode="lines",
                                 name=f"{event} events", line=dict(color=colour, width=1.5, dash="dot")))
    fig.add_trace(go.Scatter(x=steps, y=[row["reward_per_100_steps"] for row in rows], mode="lines",
                             name="reward (what it learns from)", line=dict(color="#222222", width=1.5)))
    fig.update_xaxes(title_text="training steps", range=[0, total_steps or max(steps, default=1)])
    fig.update_yaxes(title_text="per 100 steps", zeroline=True, zerolinecolor="#bbbbbb")
    return style(fig, title, height)


def replayed_levels_figure(env, levels, counts: np.ndarray, height: int = 260) -> go.Figure:
    """The training levels a curriculum replayed most (`levels`, a state, most replayed first), one still map
    each at its start, titled with its replay count and whether the goals differ on it."""
    rows, cols = _grid_shape(env)
    apart = env.goals_apart(levels)
    # two short lines: six panels side by side leave each title a sixth of the width
    titles = [f"{n} replays<br>goals {'apart' if a else 'agree'}" for n, a in zip(counts, apart)]
    fig = make_subplots(1, len(counts), subplot_titles=titles, horizontal_spacing=0.02)
    fig.update_annotations(font_size=12)
    cell_px = _cell_px(height, 90, rows)
    shapes = []
    for panel in range(len(counts)):
        one = levels.rows([panel])
        sprites = env.sprites(one)
        for kind, (symbol, colour, label) in env.sprite_styles.items():
            positions, shown = sprites[kind]
            on = positions[0, shown[0]]
            fig.add_trace(go.Scatter(x=on[:, 1], y=on[:, 0], mode="markers", name=label, showlegend=panel == 0,
                                     legendgroup=kind, hoverinfo="skip",
                                     marker=_sprite_marker(symbol, colour, SPRITE_CELLS * cell_px)), row=1, col=panel + 1)
        shapes += _grid_shapes(env.background(one), rows, cols, "" if panel == 0 else str(panel + 1))
        _map_axes(fig, panel, rows, cols, bottom=rows - 0.5)
    fig.update_layout(shapes=shapes)
    return style(fig, "The training levels replayed most", height)


def replay_share_figure(rows: list[dict], total_steps: int | None = None, height: int = 300) -> go.Figure:
    """Over training, the share of levels on which the goals differ: among the levels replayed (what the agent
    learned from), among the new levels (the training distribution), and in the replay buffer."""
    fig = go.Figure()
    steps = [row["steps"] for row in rows]
    for key, name, colour in (("replayed_apart_share", "replayed levels (learned from)", ROLE_COLOURS["intended"]),
                              ("buffer_apart_share", "levels in the replay buffer", "#7f7f7f"),
                              ("new_apart_share", "new levels (the training distribution)", ROLE_COLOURS["proxy"])):
        fig.add_trace(go.Scatter(x=steps, y=[row.get(key) for row in rows], mode="lines+markers", name=name,
                                 line=dict(color=colour, width=2), connectgaps=False))
    fig.update_xaxes(title_text="training steps", range=[0, total_steps or max(steps, default=1)])
    fig.update_yaxes(title_text="share with the goals apart", range=[0, 1], tickformat=".0%")
    return style(fig, "Which levels the curriculum chose", height)


def metric_bars(runs: dict[str, dict], labels: dict[str, str], title: str, percent: tuple[str, ...] = (),
                height: int = 380) -> go.Figure:
    """Grouped bars: one group per metric (`labels` maps key -> axis label), one colour per run; the
    metrics in `percent` are shares, labelled as percentages (the axis too, if every metric is one)."""
    fig = go.Figure()
    keys = list(labels)
    for (name, metrics), colour in zip(runs.items(), RUN_COLOURS):
        values = [metrics.get(key) for key in keys]
        fig.add_trace(go.Bar(
            x=[labels[key] for key in keys], y=[0 if v is None else v for v in values], name=name,
            marker_color=colour, text=[format_metric(v, key in percent) for key, v in zip(keys, values)],
            textposition="outside", cliponaxis=False,
        ))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(rangemode="tozero", tickformat=".0%" if set(keys) <= set(percent) else None)
    return style(fig, title, height)


# ---------------------------------------------------------------- counterfactual object map
OUTCOME_COLOURS = {**ROLE_COLOURS, "neither": "#9d9d9d"}
OUTCOME_CHROME_PX = 150  # an outcome map's height not spent on the map: margins, title, legend


def object_outcomes_figure(env, state, outcomes, height: int = 520) -> go.Figure:
    """Where the agent ends up, for every cell the object could lie on (gmg.probe.object_outcomes).

    One map of the probed level (`state` row 0): each free cell is coloured by what the agent did
    when the object was put there: got it (intended goal), reached the target first (proxy goal),
    or neither; the target and the start are drawn as sprites.
    """
    rows, cols = _grid_shape(env)
    fig = make_subplots(1, 1)
    cell_px = _cell_px(height, OUTCOME_CHROME_PX, rows)
    names = {"intended": f"got the {goal_label(env, 'intended')}",
             "proxy": f"reached the {goal_label(env, 'proxy')} without it", "neither": "neither"}
    for kind, name in names.items():
        cells = outcomes.cells[outcomes.outcome == kind]
        fig.add_trace(go.Scatter(
            x=cells[:, 1], y=cells[:, 0], mode="markers", name=f"{env.object_name} here: agent {name}",
            marker=dict(symbol="square", color=OUTCOME_COLOURS[kind], size=0.8 * cell_px, line=dict(width=0)),
            text=[f"row {r}, col {c}" for r, c in cells], hovertemplate=f"%{{text}}: {name}<extra></extra>"))
    target, start = env.target, env.start_cell(state.size)
    fig.add_trace(go.Scatter(x=[target[1]], y=[target[0]], mode="markers", name=env.target_name, hoverinfo="skip",
                             marker=_sprite_marker(*env.sprite_styles[env.target_name][:2], SPRITE_CELLS * cell_px)))
    fig.add_trace(go.Scatter(x=[start[1]], y=[start[0]], mode="markers", name="start", hoverinfo="skip",
                             marker=_sprite_marker(*env.sprite_styles["agent"][:2], SPRITE_CELLS * cell_px)))
    fig.update_layout(shapes=_grid_shapes(env.background(state), rows, cols, ""))
    _map_axes(fig, 0, rows, cols, bottom=rows - 0.5)
    shares = ", ".join(f"{share:.0%} {kind}" for kind, share in outcomes.shares.items())
    return style(fig, f"If the {env.object_name} lay here, where would the agent end up? ({shares})", height)


def sweep_figure(summary, param: str, goals: dict[str, str], metrics: dict[str, str], title: str,
                 height: int = 460, marked: tuple[float, str] | None = None) -> go.Figure:
    """A sweep's test rates of the intended and the proxy goal against the swept parameter: the mean
    over seeds as a line, the min-max band around it (`summary` from gmg.sweep.summarise), one line per
    curriculum (domain randomisation solid, the others dotted); `marked`: (value, label) drawn as a
    vertical line (the published cure)."""
    fig = go.Figure()
    for curriculum, rows in summary.groupby("curriculum", sort=False):
        x = rows[param].tolist()
        for role in ("intended", "proxy"):
            colour, goal = ROLE_COLOURS[role], goals[role]
            fig.add_trace(go.Scatter(x=x + x[::-1], y=rows[f"{role}_max"].tolist() + rows[f"{role}_min"].tolist()[::-1],
                                     fill="toself", fillcolor=colour, opacity=0.2 if curriculum == "dr" else 0.1,
                                     line=dict(width=0), hoverinfo="skip",
                                     name=f"{goal}, {curriculum}: range over seeds"))
            fig.add_trace(go.Scatter(x=x, y=rows[f"{role}_mean"], mode="lines+markers",
                                     line=dict(color=colour, dash="solid" if curriculum == "dr" else "dot"),
                                     name=f"{goal} ({role} goal), {curriculum}: "
                                          f"{metric_label(metrics[role]).lower()}, mean"))
    if marked is not None:
        fig.add_vline(x=marked[0], line=dict(color="#888888", dash="dash", width=1),
                      annotation_text=marked[1], annotation_position="top")
    fig.update_xaxes(title=param.replace("_", " "))
    fig.update_yaxes(title="on the test maps")
    return style(fig, title, height)
