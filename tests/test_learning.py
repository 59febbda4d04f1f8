"""The headline result, learned from reward alone on reduced but real runs (three seeds, margins).

A = trained on 25-step episodes, B = trained on 200-step episodes; both tested on 200 steps.
"""

import pytest

from gmg.envs.monster import headline_checks
from gmg.experiment import run
from gmg.train import Experiment, train

REDUCED = {"train_steps": 300_000, "eval_episodes": 100}


def measure(agent_name: str, train_length: int, seed: int):
    experiment = Experiment.build("monster", agent_name, seed, {**REDUCED, "train_episode_length": train_length})
    result = run(experiment, record=0)
    return result.env.metrics(result.rollouts["test"]), result.trained.agent


# three seeds, so no lucky seed carries the result; measured on seeds 0-9 at this budget, every seed
# holds with the short agent at 2.2-3.8x the long one's shields after the clear (the check asks 1.5x)
# and the long agent at 1.89-2.0x the short one's apples (the check asks 1.15x); seed 9 is the thinnest
@pytest.fixture(scope="module", params=[1, 5, 9])
def outcomes(request):
    return {
        "A": measure("linear_q", 25, seed=request.param),
        "B": measure("linear_q", 200, seed=request.param),
        "random": measure("random", 25, seed=request.param),
    }


def after_clear_value(agent, feature: str) -> float:
    """The weight of a feature once every monster is dead and a shield is held: all contexts apply."""
    return sum(column[feature] for column in agent.weight_table().values())


def test_short_episodes_agent_keeps_collecting_shields_while_both_stay_competent(outcomes):
    checks = headline_checks(outcomes["A"][0], outcomes["B"][0], outcomes["random"][0])
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]


def test_the_headline_checks_can_fail(outcomes):
    """Swap the agents: the same checks must reject a 200-step agent posing as the 25-step one."""
    checks = headline_checks(outcomes["B"][0], outcomes["A"][0], outcomes["random"][0])
    assert not checks["short agent collects >= 1.5x the shields after the clear"]


def test_the_weights_show_why(outcomes):
    """After the clear, the short-episode agent still values approaching shields above apples."""
    short, long = outcomes["A"][1], outcomes["B"][1]
    assert after_clear_value(short, "closer to shield") > after_clear_value(short, "closer to apple")
    assert after_clear_value(long, "closer to shield") < after_clear_value(long, "closer to apple")


def test_training_reward_improves_from_the_first_reports_to_the_last():
    experiment = Experiment.build("monster", "linear_q", 1, {"train_steps": 150_000, "train_episode_length": 200})
    rewards = [row["reward_per_100_steps"] for row in train(experiment).curve]
    assert rewards[-1] > sum(rewards[:5]) / 5 + 15


def test_shared_context_weights_are_a_representation_with_one_weight_per_feature():
    """Unit test of the ablation's design (not a learning result): trained with `context_weights=shared`,
    only the "always" column of the crossed weights ever moves, whatever the contexts of the states."""
    trained = train(Experiment.build("keys", "linear_q", 0, {"context_weights": "shared", "train_steps": 20_000}))
    table = trained.agent.weight_table()
    assert any(value != 0 for value in table["always"].values())
    assert all(value == 0 for context, weights in table.items() if context != "always" for value in weights.values())
