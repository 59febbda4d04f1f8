"""Widgets bound to link parameters: a view is a link, and a link value a widget refused is explained."""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from ..agents import AGENTS
from ..envs import ENVS
from ..params import ParamError, clip, describe, parse_value, plain
from ..train import Experiment, default_limits
from .state import APPLIED, APPLIED_NOW, LIMIT_NAMES, OWNER_KEY, PAGE_LINK_KEYS, add_notice


def bound_widget(page: str, widget, label: str, key: str, raw_link: dict, config_cls=None, param: str | None = None,
           **kwargs):
    """A widget bound to the query parameter `key` (of `param` in `config_cls`, if it is a setting); a
    link value it refused becomes an error message.

    No `format_func`: Streamlit writes the displayed label into the link, so a formatted option
    would make links carry labels that the same widget then refuses. Options read as they are.
    """
    if "format_func" in kwargs:
        raise TypeError("bound widgets take no format_func (see bound_widget's docstring)")
    raw = raw_link.get(key)
    bind = "query-params"
    if raw is not None and _unreadable_number(raw, kwargs.get("value")):
        # for this run, the widget is not bound and the value leaves the link; reported below
        bind = None
        del st.query_params[key]
    value = widget(label, key=key, bind=bind, persist_state="session", **kwargs)
    if raw is not None and not _same(value, raw) and key not in st.session_state.get(APPLIED_NOW, ()):
        add_notice(page, "error", f"Link parameter `{clip(key)}={clip(raw)}` was ignored{_why(param or key, raw, config_cls, kwargs)}. "
                                   f"Using {clip(value)}.")
    return value


def _why(key: str, raw: str, config_cls, widget_kwargs: dict) -> str:
    """The most specific reason a widget refused a link value: the library's check, else the widget's."""
    if config_cls is not None:
        try:
            parse_value(config_cls, key, raw)
        except ParamError as exc:
            return f": {exc}"
    if "options" in widget_kwargs:
        return f": choose one of {', '.join(map(str, widget_kwargs['options']))}"
    if "min_value" in widget_kwargs:
        return f": {key} must be a number between {widget_kwargs['min_value']} and {widget_kwargs['max_value']}"
    return ""


def _unreadable_number(raw: str, value) -> bool:
    """A link value a number field (of default `value`) must not take, though Streamlit 1.67 would: it
    reads the link with float(), so '١٢' is 12 (params.plain), and on inf (`inf`, `1e999`, 400 digits)
    an integer field (number input, slider) raises OverflowError, uncaught: the page would fail."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    if not plain(raw):
        return True
    try:
        return isinstance(value, int) and not math.isfinite(float(raw))
    except ValueError:
        return False  # not a number: Streamlit refuses it itself


def _same(value, raw: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == raw.lower()
    try:
        return float(raw) == float(value)
    except (TypeError, ValueError):
        return str(value) == raw


def _known_link_keys() -> set[str]:
    keys = {"env", "agent", "seed", *PAGE_LINK_KEYS, *LIMIT_NAMES}
    for cls in [env.Config for env in ENVS.values()] + [agent.Config for agent in AGENTS.values()]:
        keys |= {f.name for f in dataclasses.fields(cls)}
    return keys


def report_unknown_link_keys(page: str, raw_link: dict, known: set[str] | None = None) -> None:
    # Streamlit's own parameters (embed, embed_options) are not ours to judge; the key to the
    # visitor's saved runs (run_owner) is no setting either
    unknown = sorted(set(raw_link) - (known or _known_link_keys()) - {"embed", "embed_options", OWNER_KEY})
    for key in unknown:
        add_notice(page, "error", f"Link parameter `{clip(key)}` is not a setting of this explorer and was ignored.")


def defaults(env_name: str, agent_name: str, keep: tuple[str, ...] = (), budget_agent: str | None = None) -> dict:
    """Widget values for every default of this environment and agent, the run limits those `budget_agent`
    (default: the agent) needs in this world (`default_limits`); the names in `keep` are left as they are."""
    values = {"env": env_name, "agent": agent_name, "seed": 0}
    for cls in (ENVS[env_name].Config, AGENTS[agent_name].Config):
        values.update({row["name"]: row["default"] for row in describe(cls)})
    values.update(dataclasses.asdict(default_limits(env_name, budget_agent or agent_name)))
    return {key: value for key, value in values.items() if key not in keep or key not in st.session_state}


def experiment_values(experiment: Experiment) -> dict:
    return {"env": experiment.env_name, "agent": experiment.agent_name, "seed": experiment.seed,
            **experiment.config_dict()}


def apply_values(values: dict) -> None:
    """Callback (runs before the widgets are drawn): set widgets, and so the link, to `values`.

    The page reads the link before its widgets write these values into it: for this one run, a
    link value that differs from them is the visitor's change (see `bound_widget`), not a value refused."""
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state[APPLIED] = set(values)


def page_toggle(page: str, label: str, key: str, help: str) -> bool:
    """A page-level switch in the sidebar, bound to the link like the settings."""
    return bound_widget(page, st.sidebar.toggle, label, key, raw_link=st.query_params.to_dict(), value=False, help=help)
