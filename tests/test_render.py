"""Figure structure: the synced animation, goal plots, learning curve and bars."""

import numpy as np
import pytest

from gmg import render
from gmg.envs import ENVS
from gmg.rollout import Rollout


@pytest.fixture(scope="module")
def animation(fast_result):
    panels = [("Training distribution", fast_result.rollouts["train"]),
              ("Test distribution", fast_result.rollouts["test"])]
    return render.trajectory_animation(fast_result.env, panels, episode=1)


def test_animation_has_two_synced_maps_with_one_frame_per_step(animation, fast_result):
    test_length = fast_result.rollouts["test"].episode_length
    kinds = len(fast_result.env.sprite_styles)
    assert {trace.xaxis for trace in animation.data} == {"x", "x2"}
    assert len(animation.frames) == test_length + 1
    # every frame moves every dynamic trace of both maps: sprites, the agent's trail, the status line
    assert all(list(frame.traces) == list(range(2 * (kinds + 2))) for frame in animation.frames)
    steps = animation.layout.sliders[0].steps
    assert [step.args[0][0] for step in steps] == [frame.name for frame in animation.frames]
    play = animation.layout.updatemenus[0].buttons[0]
    assert play.label == "Play" and play.args[1]["frame"]["redraw"] is False


def test_the_posterior_beside_the_maps_has_a_time_line_that_follows_the_slider(fast_result):
    env, rollout = fast_result.env, fast_result.rollouts["test"]
    panels = [("A", rollout), ("B", rollout)]
    story = render.trajectory_animation(env, panels, episode=1, posterior={"episode": None, "split_label": "apart"})
    dynamic = 2 * (len(env.sprite_styles) + 2)
    lines = [story.data[dynamic + p] for p in range(2)]  # right after the maps' dynamic traces
    assert [line.xaxis for line in lines] == ["x3", "x4"]  # one per posterior, in the column beside the maps
    for frame in story.frames:
        assert list(frame.traces) == list(range(dynamic + 2))
        for line in frame.data[dynamic:]:
            assert list(line.x) == [int(frame.name)] * 2 and list(line.y) == [0, 1]
    areas = [trace for trace in story.data if trace.stackgroup]
    assert {trace.xaxis for trace in areas} == {"x3", "x4"} and len(areas) == 2 * len(env.goals)
    # the maps' grid stays whole beside the posteriors' split marks
    plain = render.trajectory_animation(env, panels, episode=1)
    assert len(story.layout.shapes) >= len(plain.layout.shapes)


def test_an_animation_opens_at_the_step_a_click_on_the_posterior_asked_for(fast_result):
    env, rollout = fast_result.env, fast_result.rollouts["test"]
    story = render.trajectory_animation(env, [("A", rollout)], episode=1, start=7,
                                        posterior={"episode": None, "split_label": "apart"})
    slider = story.layout.sliders[0]
    assert slider.steps[slider.active].label == "7"
    opened = story.frames[slider.active]
    for index, trace in zip(opened.traces, opened.data):  # the figure's traces are that frame's
        for part in ("x", "y", "text"):
            assert getattr(trace, part) is None or getattr(story.data[index], part) == getattr(trace, part)
    targets = [t for t in story.data if t.hovertemplate and "click" in t.hovertemplate]
    assert len(targets) == 1 and list(targets[0].x) == list(range(1, rollout.episode_length + 1))


def test_animation_is_drawn_with_shapes_fixed_axes_and_marker_symbols(animation, fast_result):
    size = fast_result.env.config.size
    assert not any(trace.type == "heatmap" for trace in animation.data)  # it would vanish under redraw=False
    assert len(animation.layout.shapes) == 2 * (1 + 2 * (size - 1))  # frame and grid lines per map
    for axis in (animation.layout.yaxis, animation.layout.yaxis2):
        assert axis.range[0] > axis.range[1]  # reversed: row 0 at the top
        assert axis.fixedrange
    assert animation.layout.xaxis.range == (-0.5, size - 0.5)
    symbols = {trace.marker.symbol for trace in animation.data if trace.mode == "markers"}
    assert symbols == {symbol for symbol, _, _ in fast_result.env.sprite_styles.values()}


def test_shorter_training_episode_holds_its_last_frame_and_says_so(animation, fast_result):
    train_length = fast_result.rollouts["train"].episode_length
    kinds = len(fast_result.env.sprite_styles)
    agent = kinds - 1  # the agent is drawn last, on top
    last_train = animation.frames[train_length].data[agent]
    later = animation.frames[-1].data[agent]
    assert (later.x, later.y) == (last_train.x, last_train.y)
    titles = [annotation.text for annotation in animation.layout.annotations]
    assert any(f"last frame held after t={train_length}" in text for text in titles)
    assert "episode over" in animation.frames[-1].data[kinds + 1].text[0]
    assert "episode over" not in animation.frames[train_length].data[kinds + 1].text[0]


def test_status_line_reports_the_step_and_what_was_collected(animation):
    status = animation.frames[3].data[-1].text[0]
    assert "t=3" in status and "shields held" in status and "monsters alive" in status
    assert "apples" in status and "collected" in status


def test_long_episodes_are_subsampled_to_the_frame_budget():
    times = render.frame_times(1000, max_frames=400)
    assert len(times) <= 400 and times[0] == 0 and times[-1] == 1000
    assert render.frame_times(200) == list(range(201))


def _rollout_cleared_at(clear_step: int, length: int = 10) -> Rollout:
    """Two episodes: the last monster dies before `clear_step` in the first, never in the second."""
    alive = np.ones((2, length), dtype=np.int64)
    alive[0, clear_step:] = 0
    shields = np.zeros((2, length), dtype=np.int64)
    shields[:, ::2] = 1
    events = {"apple": np.ones((2, length), dtype=np.int64), "shield": shields, "hit": np.zeros_like(shields),
              "kill": np.zeros_like(shields), "monsters_alive": alive}
    loglik = {"apples": np.full((2, length), -0.1), "shields": np.full((2, length), -2.0)}
    return Rollout("test", length, events, np.zeros((2, length)), np.ones((2, length), bool), loglik, [])


def test_goal_counts_are_cumulative_per_goal_and_mark_where_the_last_monster_died():
    env = ENVS["monster"]()
    fig = render.goal_count_figure(env, [("test", _rollout_cleared_at(4))], episode=0, split_label="last monster died")
    apples, shields = (trace for trace in fig.data if trace.y is not None and len(trace.y) > 1)
    assert apples.name == "apples (intended goal)" and shields.name == "shields (proxy goal)"
    assert list(apples.y) == list(range(1, 11)) and shields.y[-1] == 5
    assert [shape.x0 for shape in fig.layout.shapes] == [4]
    assert "last monster died: t=4" in fig.layout.annotations[0].text
    averaged = render.goal_count_figure(env, [("test", _rollout_cleared_at(4))], split_label="last monster died")
    assert "in 50% of episodes" in averaged.layout.annotations[0].text


def test_goal_plots_say_when_the_goals_never_came_apart():
    env = ENVS["monster"]()
    fig = render.posterior_figure(env, [("test", _rollout_cleared_at(4))], episode=1, split_label="last monster died")
    assert not fig.layout.shapes
    assert "never" in fig.layout.annotations[0].text


def test_posterior_is_a_stacked_probability_per_goal():
    env = ENVS["monster"]()
    fig = render.posterior_figure(env, [("test", _rollout_cleared_at(4))], window=3)
    stacked = [trace for trace in fig.data if trace.stackgroup]
    assert [trace.name for trace in stacked] == ["apples (intended goal)", "shields (proxy goal)"]
    total = np.array(stacked[0].y) + np.array(stacked[1].y)
    assert np.allclose(total, 1.0) and stacked[0].y[-1] > 0.9  # the actions fit apples far better
    assert tuple(fig.layout.yaxis.range) == (0, 1)


def test_learning_curve_keeps_its_x_range_while_rows_arrive(fast_result):
    env = fast_result.env
    rows = fast_result.trained.curve
    fig = render.learning_curve_figure(env, rows[:3], total_steps=20000)
    assert tuple(fig.layout.xaxis.range) == (0, 20000)
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["apples (intended goal)", "shields (proxy goal)"]
    assert "hit events" in names and "reward (what it learns from)" in names
    assert list(fig.data[0].y) == [row["apple_per_100_steps"] for row in rows[:3]]


def test_metric_bars_group_runs_and_mark_missing_values():
    runs = {"25-step": {"a": 1.0, "b": None}, "200-step": {"a": 2.0, "b": 3.0}}
    fig = render.metric_bars(runs, {"a": "Apples", "b": "Shields"}, "Test maps")
    assert [trace.name for trace in fig.data] == ["25-step", "200-step"]
    assert list(fig.data[0].x) == ["Apples", "Shields"]
    assert list(fig.data[0].text) == ["1", "n/a"]


def test_shares_read_as_percentages_on_the_bars_and_their_axis():
    runs = {"end": {"coin_rate": 0.134, "end_rate": 0.8}, "cure": {"coin_rate": 0.97, "end_rate": 0.01}}
    fig = render.metric_bars(runs, {"coin_rate": "Coin", "end_rate": "End"}, "Test maps", percent=("coin_rate", "end_rate"))
    assert list(fig.data[0].text) == ["13%", "80%"]
    assert fig.layout.yaxis.tickformat == ".0%"
    mixed = render.metric_bars(runs, {"coin_rate": "Coin", "end_rate": "End"}, "Test maps", percent=("coin_rate",))
    assert list(mixed.data[1].text) == ["97%", "0.01"] and mixed.layout.yaxis.tickformat is None
    assert render.format_metric(None, True) == "n/a" and render.format_metric(1234.5, False) == "1,234"


def test_the_coin_legend_names_every_kind_of_cell_drawn():
    from gmg.experiment import run
    from gmg.train import Experiment

    result = run(Experiment.build("coin", "explore_q", 0, {"train_steps": "2048", "eval_episodes": "4"}), record=1)
    env, rollout = result.env, result.rollouts["test"]
    fig = render.trajectory_animation(env, [("test", rollout)])
    named = {trace.name for trace in fig.data if trace.showlegend is not False}
    drawn = {env.background_labels[colour] for colour, cells in env.background(rollout.frames[0].rows(slice(0, 1))).items()
             if len(cells)}
    assert "wall" in drawn and drawn <= named
    assert {label for _, _, label in env.sprite_styles.values()} <= named


def test_metric_label_reads_like_english():
    assert render.metric_label("apples_per_100_after_clear") == "Apples / 100 steps after clear"
    assert render.metric_label("monster_hits_per_episode") == "Monster hits / episode"


def test_policy_field_draws_one_arrow_per_free_cell_coloured_by_goal_without_the_agent(fast_result):
    from gmg.probe import policy_field

    env, rollout = fast_result.env, fast_result.rollouts["test"]
    state = rollout.frames[10].rows(slice(0, 1))
    field = policy_field(env, fast_result.trained.agent, state)
    fig = render.policy_field_figure(env, [("25-step", state, field), ("again", state, field)])
    size = env.config.size
    assert not any(trace.type == "heatmap" for trace in fig.data)
    assert len(fig.layout.shapes) == 2 * (1 + 2 * (size - 1))  # the animation's grid on both maps
    assert {trace.xaxis for trace in fig.data} == {"x", "x2"}
    categories = ("intended", "proxy", "both", "neither")
    arrows = [trace for trace in fig.data if trace.legendgroup in categories and trace.showlegend is False]
    assert len(arrows) == 2 * 4 and sum(len(trace.x) for trace in arrows) == 2 * len(field.cells)
    legend = [trace for trace in fig.data if trace.legendgroup in categories and trace.showlegend is not False]
    assert [trace.name for trace in legend] == ["serves apples (intended goal)", "serves shields (proxy goal)",
                                                "serves both goals", "serves neither goal"]
    assert {trace.marker.symbol for trace in legend} == {"arrow"}  # every category listed, even an empty one
    colours = [trace.marker.color for trace in arrows[:2]]
    assert colours == [render.ROLE_COLOURS["intended"], render.ROLE_COLOURS["proxy"]]
    symbols = {trace.marker.symbol for trace in fig.data if trace.legendgroup in env.sprite_styles}
    assert env.sprite_styles["agent"][0] not in symbols  # the field puts the agent everywhere
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]


def test_policy_arrows_point_where_the_move_goes_and_stay_is_a_dot():
    from gmg.probe import PolicyField

    env = ENVS["monster"]()
    state = env.from_ascii("\n".join(["@" + "." * 9] + ["." * 10] * 9))
    # one cell, once per action (up, down, left, right, stay), all serving the intended goal
    field = PolicyField(cells=np.array([[5, 5]] * 5), actions=np.arange(5), serves=np.array(["intended"] * 5),
                        tied=np.zeros(5, bool))
    fig = render.policy_field_figure(env, [("probe", state, field)])
    [arrows] = [trace for trace in fig.data if trace.legendgroup == "intended" and trace.showlegend is False]
    assert list(arrows.marker.symbol) == ["arrow"] * 4 + ["circle"]
    # degrees clockwise from screen-up (plotly wraps them to [-180, 180)); rows grow downwards
    assert [angle % 360 for angle in arrows.marker.angle] == [0, 180, 270, 90, 0]
    shift = render.ARROW_SHIFT
    assert list(arrows.y[:2]) == [5 - shift, 5 + shift] and list(arrows.x[2:4]) == [5 - shift, 5 + shift]
    assert (arrows.x[4], arrows.y[4]) == (5, 5)
    assert "row 5, col 5: stay" in arrows.text[4]
