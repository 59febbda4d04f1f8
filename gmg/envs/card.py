"""An environment's card: everything the rest of the program says about it, kept beside its rules.

The app, the sweep, the CLI and the benchmarks read a world's card (`EnvCls.card`) and never name
one world's parameter themselves: adding an environment is its module (rules, docstring, card)
plus one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EnvCard:
    """What the library's numbers mean to a reader of one environment, and the settings that show it."""

    split_label: str = "goals come apart"  # marks the step from which the goals disagree
    # headline metric -> (short label, help) for the top row; empty: every metric, generic labels
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)
    bar_metrics: tuple[str, ...] = ()  # metrics in the same unit, compared as bars (empty: all)
    percent_metrics: tuple[str, ...] = ()  # metrics that are shares, shown as percentages (13%, not 0.13)
    bar_unit: str = ""
    contrast: tuple[str, tuple] | None = None  # preset: (parameter, (GMG value, cure value))
    contrast_label: str = "{} = {}"  # run title from (parameter, value)
    # the second "what to notice" line on Explore: the failure's story when the contrast parameter has its
    # failing value (or when there is no contrast), the cure's story for any other value
    notice: str = ""
    cure_notice: str = ""
    compare_notice: str = ""  # the second "what to notice" line on the preset
    weights_hint: str = ""  # where to look in a linear agent's weight table
    # the agent its presets are measured with: chosen with the environment in the app, the CLI's default
    agent: str = "linear_q"
    preset_title: str = "The failure beside its cure"  # the title of the preset page
    # Explore's preset buttons, {label: changes from the defaults}; empty: the contrast's two values
    presets: dict[str, dict] = field(default_factory=dict)
    # parameter -> its label in the sidebar, in plain words (the others read as their names)
    parameter_labels: dict[str, str] = field(default_factory=dict)
    # parameter -> (the values its widget offers, what they mean): a choice of a few instead of a number field
    choices: dict[str, tuple[tuple, str]] = field(default_factory=dict)
    sweep: tuple[str, str] | None = None  # the Sweep page's knob: (parameter, default values "a,b,c")
    # the value of a parameter that cured the published agents, marked on its sweep: (parameter, value, label)
    published_cure: tuple[str, float, str] | None = None
    # the test metrics a sweep plots for {"intended": ..., "proxy": ...}; empty: "<goal>_rate"
    goal_metrics: dict[str, str] = field(default_factory=dict)
    # "Move the object": (parameter, {training label: value}) for worlds whose object can be put anywhere
    object_probe: tuple[str, dict] | None = None
    # the judge's discount: part of the world's stated specification, the same for every agent (whatever its
    # learner's gamma): the diagnosis's counterfactual values the specified reward k steps ahead at this**k.
    # None: the world cannot be diagnosed (gmg.diagnose.check_diagnosable)
    judge_discount: float | None = None
    # the linear agents' representation choice that decides much of the goal they learn, for the ablation
    # "same training, different representation": (parameter, (as designed, ablated), what changes, in two lines)
    representation: tuple[str, tuple, str] | None = None
    # run limits an agent needs in this world where they differ from RunLimits' defaults, {agent: {limit: value}}:
    # the neural agent learns some worlds' effect only with a longer training (docs/neural-learner.md); its
    # runs with the defaults ship trained (gmg.bundle), so a visitor does not wait for them
    agent_limits: dict[str, dict] = field(default_factory=dict)
    # said beside the neural agent's runs where its default run does not show the world's effect cleanly
    neural_caveat: str = ""
