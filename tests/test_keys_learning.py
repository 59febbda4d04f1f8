"""Keys and chests (issue 7), learned from reward alone on real runs with the default budget (three seeds, margins).

The default agent (keys scarce in training) against one trained with half its levels test-like (the
cure) and the random agent, all on test levels; the contrast learner (chest-seeking conditioned on a
key in hand) beside them. benchmarks/bench_keys_follow.py has the 30-seed table (docs/robustness.md).
"""

import functools

import pytest

from gmg.envs.keys import headline_checks as keys_checks
from gmg.experiment import run
from gmg.train import Experiment

EVAL = {"eval_episodes": 100}


@functools.cache  # the contrast test reuses the fixture's default run
def measure(agent_name: str, seed: int, **overrides):
    experiment = Experiment.build("keys", agent_name, seed, {**EVAL, **overrides})
    result = run(experiment, record=0)
    metrics = {split: result.env.metrics(rollout) for split, rollout in result.rollouts.items()}
    return metrics, result.trained.agent


# three ordinary seeds (0-2, not picked from the table), so no lucky seed carries the result; measured on seeds
# 0-29 (200 test episodes, docs/robustness.md), the headline holds on 29 of 30 (seed 9 opens 0.63 of the training
# chests); on these three: surplus keys 4.29-4.59 per test episode (the check asks >= 2), training chests
# 0.99-1.00 (>= 0.8), test chests 2.98 of 3, the cure's surplus 0.18-0.20x the default's (<= 0.5x), test chests
# 3.8-4.2x random's (>= 1.5x)
@pytest.fixture(scope="module", params=[0, 1, 2])
def keys_outcomes(request):
    return {
        "default": measure("linear_q", request.param),
        "cured": measure("linear_q", request.param, test_like_share=0.5),
        "random": measure("random", request.param, train_steps=0),
    }


def test_keys_agent_hoards_keys_at_test_while_competent(keys_outcomes):
    default, cured, random = (keys_outcomes[name][0] for name in ("default", "cured", "random"))
    checks = keys_checks(default["test"], cured["test"], random["test"], default["train"])
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]
    assert default["test"]["steps_to_last_chest"] > default["train"]["steps_to_last_chest"] + 4  # hoarding costs time


def test_keys_checks_can_fail(keys_outcomes):
    """Swap the agents: the cured agent must not pass as the hoarder."""
    default, cured, random = (keys_outcomes[name][0] for name in ("default", "cured", "random"))
    checks = keys_checks(cured["test"], default["test"], random["test"], cured["train"])
    assert not checks["default agent picks up >= 2 surplus keys per test episode"]


def test_keys_weights_show_why(keys_outcomes):
    """With enough keys held, the default agent's weights still value approaching keys; the cured agent's do not."""

    def surplus_value(agent, feature):
        table = agent.weight_table()
        return table["always"][feature] + table["keys held >= chests left"][feature]

    default, cured = keys_outcomes["default"][1], keys_outcomes["cured"][1]
    assert surplus_value(default, "closer to key") > surplus_value(default, "closer to chest")
    assert surplus_value(cured, "closer to key") < surplus_value(cured, "closer to chest")


# one seed: a side result beside the headline, within the file's time budget; the 30-seed table has the
# contrast learner at 1.14-1.50 surplus keys and 3.00 chests on every seed (the default: 4.05-4.59)
def test_keys_contrast_learner_generalizes_correctly():
    """Chest-seeking conditioned on a key in hand: same training levels, no hoarding, just as competent."""
    contrast, default = measure("linear_q", 0, chest_pull_needs_key=True)[0], measure("linear_q", 0)[0]
    assert contrast["train"]["chests_opened_share"] >= 0.8 and contrast["test"]["chests_opened_share"] >= 0.8
    assert contrast["test"]["surplus_keys_per_episode"] < 0.5 * default["test"]["surplus_keys_per_episode"]
    assert contrast["test"]["steps_to_last_chest"] < default["test"]["steps_to_last_chest"] - 4
