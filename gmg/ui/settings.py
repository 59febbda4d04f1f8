"""The sidebar: an experiment's or a study's settings, presets, and the view controls."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import streamlit as st

from .. import caps
from ..agents import AGENTS, RAW_LEARNER
from ..envs import ENVS
from ..params import ParamError, describe
from ..studies import STUDIES, StudyRun
from ..train import MAX_SEED, Experiment, RunLimits, default_limits
from .state import guide
from .links import apply_values, bound_widget, defaults, report_unknown_link_keys
from .state import LIMIT_NAMES, RECORDED_EPISODES, checked


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices; `experiment()` turns them (plus changes) into a validated Experiment."""

    env_name: str
    agent_name: str
    seed: int
    env_values: dict
    agent_values: dict
    limit_values: dict

    def experiment(self, agent_name: str | None = None, **changes) -> Experiment:
        """Raises ParamError. Another agent than the sidebar's keeps env and limits, not agent params."""
        agent = agent_name or self.agent_name
        agent_values = self.agent_values if agent == self.agent_name else {}
        overrides = {**self.env_values, **agent_values, **self.limit_values, **changes}
        return Experiment.build(self.env_name, agent, self.seed, overrides)


def sidebar_settings(page: str, fix_contrast: bool = False, fix_agent: bool = False,
                     budget_agent: str | None = None) -> Settings:
    """Draw the settings in the sidebar; with `fix_contrast`, the environment's preset parameter
    (its guide's `contrast`) is set by the page and not shown; with `fix_agent`, the page chooses its
    agents (the card's agent, with its defaults, is the settings' agent) and no agent setting is shown.
    The run limits default to what `budget_agent` (default: the settings' agent) needs in the world
    (`default_limits`: the neural agent trains longer on some worlds).

    Every widget is bound to a query parameter named by its key. Streamlit silently drops a
    link value a widget cannot take; here the user is told why.
    """
    raw_link = st.query_params.to_dict()
    bar = st.sidebar
    bar.header("Settings")
    env_name = bound_widget(page, bar.selectbox, "Environment", "env", options=list(ENVS), raw_link=raw_link,
                      on_change=_environment_changed,
                      help="; ".join(f"{name}: {cls.title}" for name, cls in ENVS.items()) + ". Choosing one also "
                           "chooses the agent its presets are measured with.")
    # the world's card agent is the default, so a link without `agent` opens the agent its presets are measured with
    agent_name = ENVS[env_name].card.agent if fix_agent else bound_widget(
        page, bar.selectbox, "Agent", "agent", options=list(AGENTS), raw_link=raw_link,
        index=list(AGENTS).index(ENVS[env_name].card.agent), on_change=_agent_changed,
        help="; ".join(f"{name}: {cls.title}" for name, cls in AGENTS.items()) + ". The random "
             "agent is the floor every metric is read against.")
    seed = bound_widget(page, bar.number_input, "Seed", "seed", min_value=0, max_value=MAX_SEED, value=0, step=1,
                  raw_link=raw_link, help="Same seed and settings give the same run, replayed from the cache.")
    card = ENVS[env_name].card
    fixed = (card.contrast[0],) if fix_contrast and card.contrast else ()
    # each parameter with the config that owns it for this world and agent, so a refused link value is
    # explained with this world's range (`size` differs between worlds)
    limit_defaults = dataclasses.asdict(default_limits(env_name, budget_agent or agent_name))
    groups = {title: [({**row, "default": limit_defaults[row["name"]]} if cls is RunLimits else row, cls)
                      for row in describe(cls) if row["name"] not in fixed]
              for title, cls in (("Environment parameters", ENVS[env_name].Config),
                                 ("Agent parameters", AGENTS[agent_name].Config),
                                 ("Training and evaluation", RunLimits))
              if not (fix_agent and title == "Agent parameters")}
    # the knob that matters, the linear agents' representation choice, and the budget
    top = (card.contrast[0] if card.contrast else None, card.representation[0] if card.representation else None,
           "train_steps")
    values = {row["name"]: _param_widget(page, bar, row, raw_link, cls, choices=card.choices,
                                         labels=card.parameter_labels)
              for rows in groups.values() for row, cls in rows if row["name"] in top}
    for title, rows in groups.items():
        rows = [(row, cls) for row, cls in rows if row["name"] not in top]
        if rows:
            with bar.expander(title):
                values.update({row["name"]: _param_widget(page, st, row, raw_link, cls, choices=card.choices,
                                                          labels=card.parameter_labels)
                               for row, cls in rows})
    bar.button("Reset to defaults", key=f"{page}_reset", on_click=apply_values,
               args=(defaults(env_name, agent_name, budget_agent=budget_agent),),
               help="Every setting back to its default (the link follows).")
    report_unknown_link_keys(page, raw_link)

    def pick(title):
        return {row["name"]: values[row["name"]] for row, _ in groups[title]}

    return Settings(env_name, agent_name, int(seed), pick("Environment parameters"),
                    {} if fix_agent else pick("Agent parameters"), pick("Training and evaluation"))


def study_settings(page: str, study_name: str, page_keys: tuple[str, ...] = ()) -> StudyRun | None:
    """Sidebar settings of a study (gmg.studies): seed and every Config field, bound to link parameters
    named `<study>_<field>` (so they never collide with Explore's). None, after an error, if invalid.

    Fields in the study's optional SIDEBAR_GROUPS ({title: names}) go into expanders; the rest on top.
    `page_keys`: the page's own link parameters (not settings), so they are not reported as unknown.
    """
    raw_link = st.query_params.to_dict()
    study = STUDIES[study_name]
    prefix = f"{study_name}_"
    bar = st.sidebar
    bar.header("Settings")
    seed = bound_widget(page, bar.number_input, "Seed", prefix + "seed", min_value=0, max_value=MAX_SEED, value=0, step=1,
                  raw_link=raw_link, help="Same seed and settings give the same run, replayed from the cache.")
    rows = describe(study.Config)
    groups = getattr(study, "SIDEBAR_GROUPS", {})
    grouped = {name for names in groups.values() for name in names}
    values = {row["name"]: _param_widget(page, bar, row, raw_link, study.Config, prefix)
              for row in rows if row["name"] not in grouped}
    for title, names in groups.items():
        with bar.expander(title):
            values.update({row["name"]: _param_widget(page, st, row, raw_link, study.Config, prefix)
                           for row in rows if row["name"] in names})
    bar.button("Reset to defaults", key=f"{page}_reset", on_click=apply_values,
               args=(study_values(study_name, {}),), help="Every setting back to its default (the link follows).")
    known = {prefix + "seed"} | {prefix + row["name"] for row in rows} | set(page_keys)
    report_unknown_link_keys(page, raw_link, known)
    return checked(lambda: StudyRun.build(study_name, int(seed), values))


def study_values(study_name: str, changes: dict) -> dict:
    """Widget values (keyed as study_settings keys them) for the defaults with `changes` applied."""
    defaults = {row["name"]: row["default"] for row in describe(STUDIES[study_name].Config)}
    return {f"{study_name}_{name}": value for name, value in {"seed": 0, **defaults, **changes}.items()}


def preset_buttons(page: str, study_name: str, presets: dict[str, dict], group: str = "preset") -> None:
    """One button per preset ({label: changes from the defaults}); a click sets the sidebar (and the link)."""
    row = st.container(horizontal=True)
    for i, (label, changes) in enumerate(presets.items()):
        row.button(label, key=f"{page}_{group}_{i}", on_click=apply_values, args=(study_values(study_name, changes),))


def _environment_changed() -> None:
    """Callback of the environment picker: the new environment's defaults, with the agent its presets
    are measured with and that agent's defaults. A parameter that two environments share (`size`)
    must not carry its old value over: the link leaves defaults out, so a carried value would be on
    screen but not in the link, and the link would no longer reproduce the run. The seed and the
    run's length are the visitor's, kept for every world (and written to the link when not default)."""
    env_name = st.session_state["env"]
    apply_values(defaults(env_name, guide(env_name).agent, keep=("seed", *LIMIT_NAMES)))


def _agent_changed() -> None:
    """Callback of the agent picker: the new agent's defaults (agents share names like `gamma`), and its
    training budget in this world if the run's length was a default one (a length the visitor chose stays)."""
    agent, env_name = AGENTS[st.session_state["agent"]], st.session_state["env"]
    budgets = {default_limits(env_name, name).train_steps for name in AGENTS}
    budget = ({"train_steps": default_limits(env_name, agent.name).train_steps}
              if st.session_state.get("train_steps") in budgets else {})
    apply_values({"agent": agent.name, **{row["name"]: row["default"] for row in describe(agent.Config)}, **budget})


def _param_widget(page: str, container, row: dict, raw_link: dict, config_cls, prefix: str = "",
                  choices: dict | None = None, labels: dict | None = None):
    """The widget for parameter `row` of `config_cls`, bound to the link parameter `prefix + name`;
    `choices` (a card's) offers a few values instead of a number field, `labels` (a card's) plain words."""
    name, default, low, high = row["name"], row["default"], row["low"], row["high"]
    label = (labels or {}).get(name) or name.replace("_", " ").capitalize()
    common = dict(help=row["help"], raw_link=raw_link, config_cls=config_cls, param=name)
    if name in (choices or {}):
        offered, meaning = choices[name]
        return bound_widget(page, container.segmented_control, label, prefix + name,
                            options=sorted(set(offered) | {default}), default=default, required=True,
                            **{**common, "help": f"{row['help']}. {meaning}."})
    if row["choices"]:
        return bound_widget(page, container.selectbox, label, prefix + name, options=list(row["choices"]),
                      index=list(row["choices"]).index(default), **common)
    if isinstance(default, bool):
        return bound_widget(page, container.toggle, label, prefix + name, value=default, **common)
    if isinstance(default, int):
        step = 50_000 if name == "train_steps" else (1000 if default >= 1000 else 1)
        return bound_widget(page, container.number_input, label, prefix + name, min_value=low, max_value=high, value=default,
                      step=step, **common)
    if isinstance(default, float):
        # about a tenth of the default's order of magnitude, so the +/- buttons make useful moves
        step = 10.0 ** (math.floor(math.log10(abs(default) or 1.0)) - 1)
        return bound_widget(page, container.number_input, label, prefix + name, min_value=float(low) if low is not None else None,
                      max_value=float(high) if high is not None else None, value=float(default), step=step,
                      format="%g", **common)
    return bound_widget(page, container.text_input, label, prefix + name, value=str(default), **common)


def view_controls(page: str) -> tuple[int, int | None]:
    """Sidebar 'View': the recorded episode to animate; goal plots follow it or average all episodes.

    Returns (animated episode, episode for the goal plots or None for the mean), 0-based.
    """
    raw_link = st.query_params.to_dict()
    bar = st.sidebar
    bar.header("View")
    shown = bound_widget(page, bar.segmented_control, "Episode to animate", "episode",
                   options=list(range(1, RECORDED_EPISODES + 1)), default=1, required=True, raw_link=raw_link,
                   help="The first evaluation episodes of each split are recorded frame by frame.")
    scope = bound_widget(page, bar.radio, "Goal plots show", "plots", options=["all", "episode"], raw_link=raw_link,
                   captions=["the mean over all evaluated episodes", "the animated episode only"])
    shown = shown or 1  # required, yet a client can still send no choice: the first episode
    return shown - 1, (shown - 1 if scope == "episode" else None)


# the policy field's moment: where the goals come apart, or t=0. Streamlit writes a bound widget's
# formatted label into the link, so these options are shown as they are, with a caption each
POLICY_MOMENTS = ("goals apart", "episode start")
# The policy field is drawn this many steps after the goals came apart: at the very first step
# the agent may hold nothing (Monster: every shield used on the last monsters), a state both
# agents rarely met in training, where they act alike; a few steps on, the recorded agent holds
# what it usually holds and the agents' goals show (measured on seeds 0-1, 8 of 8 episodes).
POLICY_SETTLE_STEPS = 10


def policy_moment_control(page: str, env_name: str) -> str:
    """Sidebar 'View', continued: the moment of the animated test episode the policy field shows.

    In the sidebar, drawn on every run, so the link keeps the choice while a run trains.
    """
    return bound_widget(page, st.sidebar.radio, "Policy field at", "policy_at", options=list(POLICY_MOMENTS),
                  captions=[moment_label(env_name, moment) for moment in POLICY_MOMENTS],
                  raw_link=st.query_params.to_dict(),
                  help="The moment of the animated test episode at which the agent is put on every free cell.")


def moment_label(env_name: str, moment: str) -> str:
    if moment == "episode start":
        return "the start of the episode"
    return f"{POLICY_SETTLE_STEPS} steps after the {guide(env_name).split_label}"


def moment_control(page: str, key: str, moments: int) -> int:
    """Sidebar 'View': which recorded moment of a continual run to replay (1-based), bound to the link."""
    st.sidebar.header("View")
    return bound_widget(page, st.sidebar.slider, "Moment to replay", key, min_value=1, max_value=moments, value=moments,
                  raw_link=st.query_params.to_dict(),
                  help=f"{moments} moments are recorded, evenly spread over the run: 1 is the start, "
                       f"{moments} the end.")


def seeds_control(page: str, key: str, default: int, high: int) -> int:
    """How many seeds a study trains, in the sidebar, bound to the link (at most `high`, or the server's cap)."""
    high = min(high, caps.count("seeds"))
    return bound_widget(page, st.sidebar.number_input, "Seeds", key, min_value=1, max_value=high, value=default, step=1,
                  raw_link=st.query_params.to_dict(),
                  help=f"Agents that differ only in their seed (at most {high} here; the command line takes more).")


def experiment_presets(page: str, env_name: str) -> None:
    """Buttons for the environment's `diagnosis_presets` ({label: (agent, changes)}): a click sets the sidebar."""
    _preset_row(page, env_name, ENVS[env_name].diagnosis_presets)


def representation_note(settings: Settings) -> None:
    """For an agent on hand-made features: what its representation choice (the card's `representation`, at the
    top of the sidebar) decides of its goal, in two lines under the presets."""
    card, agent = guide(settings.env_name), AGENTS[settings.agent_name]
    if card.representation is None or not agent.learns or agent.observation != "features":
        return
    st.caption(f"**Same training, different representation** (top of the sidebar). {card.representation[2]}")


def explore_presets(page: str, env_name: str) -> None:
    """Explore's buttons: the guide's `presets`, or the two values of its contrast, with its agent."""
    g = guide(env_name)
    presets = g.presets
    if not presets and g.contrast:
        name, values = g.contrast
        presets = {g.contrast_label.format(name, value): {name: value} for value in values}
    _preset_row(page, env_name, {label: (g.agent, changes) for label, changes in presets.items()})


def _preset_row(page: str, env_name: str, presets: dict[str, tuple[str, dict]]) -> None:
    """One button per preset ({label: (agent, changes from the defaults)}); a click sets the sidebar."""
    if not presets:
        return
    row = st.container(horizontal=True)
    for i, (label, (agent, changes)) in enumerate(presets.items()):
        row.button(label, key=f"{page}_preset_{i}", on_click=apply_values,
                   args=({**defaults(env_name, agent), **changes},))


def preset_experiments(settings: Settings, include_random: bool) -> list[Experiment]:
    """The environment's contrast (e.g. 25- vs 200-step training episodes), optionally with the random floor.

    Raises ParamError, like `Settings.experiment`.
    """
    if guide(settings.env_name).contrast is None:
        raise ParamError(f"there is no preset for the {ENVS[settings.env_name].title} yet")
    name, values = guide(settings.env_name).contrast
    runs = [settings.experiment(**{name: value}) for value in values]
    if include_random:  # it does not learn: no training steps, the same test maps
        runs.append(settings.experiment(agent_name="random", train_steps=0, **{name: values[0]}))
    return runs


def representation_experiments(settings: Settings, include_random: bool) -> list[Experiment]:
    """The world's own (linear) agent on hand-made features and the neural agent on raw observations:
    the same world, seed, settings and training steps; optionally the random floor. Raises ParamError."""
    runs = [settings.experiment(), settings.experiment(agent_name=RAW_LEARNER)]
    if include_random:
        runs.append(settings.experiment(agent_name="random", train_steps=0))
    return runs


LEARNER_TITLES = {"features": "Hand-made features (linear)", "raw": "Raw grid only (neural network)"}


def learner_title(experiment: Experiment) -> str:
    """What a learning agent reads, in a few words (short enough for a map's title); the random agent: its title."""
    agent = AGENTS[experiment.agent_name]
    return LEARNER_TITLES[agent.observation] if agent.learns else agent.title


def preset_title(experiment: Experiment) -> str:
    if not AGENTS[experiment.agent_name].learns:
        return AGENTS[experiment.agent_name].title
    name, _ = guide(experiment.env_name).contrast
    return guide(experiment.env_name).contrast_label.format(name, experiment.config_dict()[name])
