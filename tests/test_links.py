"""A view's link reproduces its run: switching world or agent starts from that one's defaults, so a
setting never differs from its default without being in the link (which leaves defaults out)."""

import itertools

import pytest

from helpers import open_page, wait_for_training

from gmg import ui
from gmg.agents import AGENTS
from gmg.envs import ENVS

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")
# kept across worlds (the visitor's choice); tiny, so the first visit's training takes no time
KEPT = {"seed": 11, "train_steps": 0, "eval_episodes": 1}


def settings(at, env_name: str, agent_name: str) -> dict:
    """The sidebar's values of every setting of this world and agent, by name."""
    names = ui.defaults(env_name, agent_name)
    return {name: at.session_state[name] for name in names if name in at.session_state}


def check_reproduced_by_its_link(at, env_name: str) -> None:
    agent_name = at.session_state["agent"]
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not at.button(key="explore_train").disabled
    shown = settings(at, env_name, agent_name)
    expected = {**ui.defaults(env_name, agent_name), **KEPT}
    assert shown == expected  # so the link, which leaves defaults out, says everything
    fresh = open_page("pages/explore.py", env=env_name, agent=agent_name, **KEPT)
    assert settings(fresh, env_name, agent_name) == shown


@pytest.mark.parametrize("first", list(ENVS))
def test_switching_world_starts_from_its_defaults_and_its_link_reproduces_it(first):
    at = wait_for_training(open_page("pages/explore.py", env=first, **KEPT, size=7))  # size: shared, off its default
    for second in ENVS:
        if second == first:
            continue
        at.sidebar.selectbox(key="env").set_value(first).run()
        at.sidebar.selectbox(key="env").set_value(second).run()
        assert at.session_state["agent"] == ui.guide(second).agent
        check_reproduced_by_its_link(at, second)


def test_switching_agent_starts_from_its_defaults():
    at = wait_for_training(open_page("pages/explore.py", env="coin", **KEPT))
    for first, second in itertools.permutations(AGENTS, 2):
        at.sidebar.selectbox(key="agent").set_value(first).run()
        at.sidebar.selectbox(key="agent").set_value(second).run()
        check_reproduced_by_its_link(at, "coin")


def test_a_refused_link_value_is_explained_with_the_chosen_worlds_range():
    """`size` is a parameter of several worlds with different ranges: the message gives this world's."""
    at = open_page("pages/explore.py", env="maze", size=22, **KEPT)
    [message] = [e.value for e in at.error if "size=22" in e.value]
    assert "between 5 and 21" in message and "4" not in message.split("between")[1][:8]
