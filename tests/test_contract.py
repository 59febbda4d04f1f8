"""The environment contract (gmg.envs.base) holds for every registered world, and a new world written
against it alone (tests/toy_env.py) gets the CLI, the sweep, Explore and the preset page unchanged."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from helpers import open_page, wait_for_training

from gmg import cli, sweep
from gmg.agents import AGENTS
from gmg.envs import ENVS
from gmg.envs.base import EpisodicEnv, Step

TINY = {"train_steps": "3000", "n_envs": "32", "eval_episodes": "8"}


@pytest.fixture
def toy():
    """The toy world registered for one test (a run's child process registers it by importing it)."""
    import toy_env

    toy_env.ENVS.setdefault(toy_env.ToyEnv.name, toy_env.ToyEnv)
    yield toy_env.ToyEnv
    toy_env.unregister()


def required_members() -> set[str]:
    """The members a world must provide: the contract's methods whose default raises NotImplementedError."""
    return {name for name, member in vars(EpisodicEnv).items()
            if inspect.isfunction(member) and "raise NotImplementedError" in inspect.getsource(member)}


def check_contract(cls) -> None:
    required = required_members() - ({"with_object_at"} if cls.card.object_probe is None else set())
    missing = {name for name in required if getattr(cls, name) is getattr(EpisodicEnv, name)}
    assert not missing, f"{cls.name} does not implement {sorted(missing)}"
    assert cls.name and cls.title and cls.Config is not None and cls.card.agent in AGENTS
    assert cls.card.judge_discount is not None and 0 < cls.card.judge_discount <= 1  # part of the specification
    assert set(cls.goals) == {"intended", "proxy"} and set(cls.goals.values()) == set(cls.goal_rewards)
    assert {event for weights in cls.goal_rewards.values() for event in weights} <= set(cls.events)
    assert cls.raw_channels[0] == "agent" and "agent" in cls.sprite_styles
    env = cls()
    state = env.reset(np.random.default_rng(0), 16, "test")
    assert (state.t == 0).all() and (state.limit == env.episode_length("test")).all()
    assert {"grid", "scalars"} == set(env.raw_observation(state))
    assert env.context_names[0] == "always" and (env.observe(state)["context"][:, 0] == 1).all()  # what "shared" keeps
    if cls.card.representation is not None:  # the ablation names a setting the world's agent or the world has
        name, values, meaning = cls.card.representation
        fields = set(cls.Config.__dataclass_fields__) | set(AGENTS[cls.card.agent].Config.__dataclass_fields__)
        assert name in fields and len(values) == 2 and meaning
    assert set(env.sprites(state)) <= set(cls.sprite_styles)
    assert set(env.reward_weights()) <= set(cls.events + cls.step_counts)


@pytest.mark.parametrize("name", sorted(ENVS))
def test_every_world_fulfils_the_contract(name):
    check_contract(ENVS[name])


def test_concat_joins_state_batches():
    """gmg.batch.Batch.concat, as the diagnosis joins the states where the goals came apart."""
    env = ENVS["monster"]()
    a = env.reset(np.random.default_rng(0), 2, "test")
    b = env.reset(np.random.default_rng(1), 3, "test")
    both = a.concat([a, b])
    assert len(both.t) == 5 and np.array_equal(both.agent[2:], b.agent) and both.size == a.size


@pytest.mark.parametrize("name", sorted(ENVS))
def test_the_time_limit_is_the_worlds_own(name):
    """`step` reports truncation exactly when a running episode reaches its split's limit, never with termination."""
    env = ENVS[name]()
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        state = env.reset(rng, 32, split)
        limit = env.episode_length(split)
        running = np.ones(32, dtype=bool)
        for t in range(1, limit + 1):
            step = env.step(state, rng.integers(0, env.n_actions, 32))
            assert isinstance(step, Step)
            assert not (step.terminated & step.truncated).any()
            assert (step.truncated[running] == (~step.terminated[running] & (t == limit))).all(), (split, t)
            running &= ~step.terminated
            state = step.state


def test_a_toy_world_passes_the_contract_and_runs_from_the_cli(toy, capsys):
    check_contract(toy)
    args = [f"--set={k}={v}" for k, v in TINY.items()]
    assert cli.main(["experiment", "toy", *args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["env"] == "toy" and report["agent"] == toy.card.agent
    assert {"gem_rate", "door_rate"} <= set(report["splits"]["test"]["metrics"])


def test_a_toy_world_sweeps_over_its_cards_knob(toy):
    param, values = toy.card.sweep
    table = sweep.run_sweep(sweep.Sweep("toy", param, tuple(values.split(",")), 1, overrides=tuple(TINY.items())),
                            workers=1)
    assert list(table[param]) == [0.0, 0.5]
    assert table[["intended", "proxy"]].apply(lambda column: column.between(0, 1)).all().all()


@pytest.mark.usefixtures("clear_streamlit_caches")
@pytest.mark.parametrize("page", ["pages/explore.py", "pages/compare.py"])
def test_a_toy_world_gets_explore_and_the_preset_page(toy, page):
    at = wait_for_training(open_page(page, env="toy", **TINY), timeout=60)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [box.value for box in at.selectbox if box.label == "Environment"] == ["toy"]
    assert any(json.loads(chart.proto.spec).get("frames") for chart in at.get("plotly_chart"))
