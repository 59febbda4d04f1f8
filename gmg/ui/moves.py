"""The map under the hand: move things on a test map (click a thing, then an empty cell) and watch the
trained agents play the edited level at once, with their policy fields on it.

The moves live in the link (`moves=2.3-5.5,0.1-4.4`: the row.column of a thing, then of the empty cell
it moves to, in order), so a teacher can prepare a map and share it; a click adds one move.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import probe, render
from ..params import clip
from ..rollout import play
from ..train import Experiment
from .state import MOVES_KEY, add_notice, result_store, show_figure

MAX_MOVES = 50  # a link's list of moves is cut here: enough to rebuild any map, not a way to burn the server
EDIT_HEIGHT = 300  # the map to click on: square, in a column of about 300 px at 1280 px
REPLAY_HEIGHT = 520  # the agents' replay beside it: legend, titles, maps, status lines and slider


def parse_moves(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """'2.3-5.5,0.1-4.4' -> [((2, 3), (5, 5)), ((0, 1), (4, 4))]; raises ValueError with a readable reason."""
    moves = []
    for part in filter(None, text.split(",")):
        try:
            source, target = ((int(r), int(c)) for r, c in (cell.split(".") for cell in part.split("-")))
        except ValueError:
            raise ValueError(f"`{clip(part)}` is not a move: write row.column-row.column, e.g. 2.3-5.5") from None
        moves.append((source, target))
    if len(moves) > MAX_MOVES:
        raise ValueError(f"at most {MAX_MOVES} moves")
    return moves


def format_moves(moves: list) -> str:
    return ",".join(f"{s[0]}.{s[1]}-{t[0]}.{t[1]}" for s, t in moves)


def edited_state(env, base, moves: list):
    """`base` (a one-row state) after each move in turn; raises ValueError naming the move that failed."""
    state = base
    for i, (source, target) in enumerate(moves):
        try:
            state = env.with_moved(state, 0, source, target)
        except ValueError as exc:
            raise ValueError(f"move {i + 1} ({format_moves([(source, target)])}): {exc}") from None
    return state


def _set_moves(moves: list) -> None:
    if moves:
        st.query_params[MOVES_KEY] = format_moves(moves)
    else:
        st.query_params.pop(MOVES_KEY, None)


def move_things(page: str, runs: list[tuple[str, Experiment]]) -> None:
    """The first run's first test level at its start, to edit by clicks, beside every run's agent playing the
    edited level; their policy fields on it below."""
    ss = st.session_state
    # each run's agent plays in its own world's instance (its settings may differ in training, not at test)
    results = [(title, run, result_store().get(run)) for title, run in runs]
    env = results[0][2].env
    base = results[0][2].rollouts["test"].frames[0].rows(slice(0, 1))
    raw = st.query_params.get(MOVES_KEY, "")
    try:
        moves = parse_moves(raw)
        state = edited_state(env, base, moves)
    except ValueError as exc:
        st.error(f"Link parameter `{MOVES_KEY}={clip(raw)}` was ignored: {exc}. The level is shown as it was.")
        moves, state = [], base
    picked = ss.get(f"{page}_picked")
    clicks = ss.setdefault(f"{page}_clicks", 0)

    st.markdown("**Click a thing** on the map (the agent, an object), **then an empty cell**: it moves there and "
                "both agents play the new level at once." + (" Picked: row {}, column {} (outlined).".format(*picked)
                                                              if picked else ""))
    left, right = st.columns([4, 7], vertical_alignment="center")
    with left:
        event = st.plotly_chart(render.editable_map_figure(env, state, picked, EDIT_HEIGHT), key=f"{page}_map_{clicks}",
                                on_select="rerun", selection_mode="points", theme=None,
                                config={"displayModeBar": False})
        row = st.container(horizontal=True)
        if row.button("Undo the last move", key=f"{page}_undo", disabled=not moves, icon=":material/undo:"):
            _set_moves(moves[:-1])
            st.rerun()
        if row.button("The level as it was", key=f"{page}_reset_moves", disabled=not moves, icon=":material/restart_alt:"):
            _set_moves([])
            st.rerun()
    cell = _clicked_cell(event)
    if cell is not None:
        ss[f"{page}_clicks"] = clicks + 1  # a fresh chart: its selection is spent
        if picked is None:
            if env.thing_at(state, 0, cell) is None:
                add_notice(page, "info", f"Nothing to move at row {cell[0]}, column {cell[1]}: click a thing first.")
            else:
                ss[f"{page}_picked"] = cell
        else:
            ss[f"{page}_picked"] = None
            try:
                edited_state(env, state, [(picked, cell)])
                _set_moves(moves + [(picked, cell)])
            except ValueError as exc:
                add_notice(page, "warning", f"That move was not made: {exc}.")
        st.rerun()

    replays = [(title, play(result.env, result.trained.agent, state.copy(), "test", np.random.default_rng(run.seed),
                            record=1)) for title, run, result in results]
    show_figure(render.trajectory_animation(env, replays, 0, height=REPLAY_HEIGHT, legend_rows=2),
                f"{page}_replay", right)
    fields = [(title, state, probe.policy_field(result.env, result.trained.agent, state)) for title, _, result in results]
    show_figure(render.policy_field_figure(env, fields), f"{page}_policy")


def _clicked_cell(event) -> tuple[int, int] | None:
    """The map cell of the chart's selected point, if a click selected one."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        return None
    point = points[-1]
    return int(round(point["y"])), int(round(point["x"]))
