"""Issue 7's results, learned from reward alone on real runs with the default budget (fixed seeds, margins).

Keys: the default agent (keys scarce in training) against one trained with half its levels test-like
(the cure) and the random agent, all on test levels. Follow: the default agent (expert partner always
there in training) against one trained without the partner in half its episodes, one trained with an
anti-expert partner in 30% of its episodes (the cure) and the random agent, all with the anti-expert
partner at test.
"""

import pytest

from gmg.envs.follow import headline_checks as follow_checks
from gmg.envs.keys import headline_checks as keys_checks
from gmg.experiment import run
from gmg.train import Experiment

EVAL = {"eval_episodes": 100}


def measure(env_name: str, agent_name: str, seed: int, **overrides):
    experiment = Experiment.build(env_name, agent_name, seed, {**EVAL, **overrides})
    result = run(experiment, record=0)
    metrics = {split: result.env.metrics(rollout) for split, rollout in result.rollouts.items()}
    return metrics, result.trained.agent


@pytest.fixture(scope="module")
def keys_outcomes():
    return {
        "default": measure("keys", "linear_q", 4),
        "cured": measure("keys", "linear_q", 4, test_like_share=0.5),
        "random": measure("keys", "random", 4, train_steps=0),
        "contrast": measure("keys", "linear_q", 4, chest_pull_needs_key=True),
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


def test_keys_contrast_learner_generalizes_correctly(keys_outcomes):
    """Chest-seeking conditioned on a key in hand: same training levels, no hoarding, just as competent."""
    contrast, default = keys_outcomes["contrast"][0], keys_outcomes["default"][0]
    assert contrast["train"]["chests_opened_share"] >= 0.8 and contrast["test"]["chests_opened_share"] >= 0.8
    assert contrast["test"]["surplus_keys_per_episode"] < 0.5 * default["test"]["surplus_keys_per_episode"]
    assert contrast["test"]["steps_to_last_chest"] < default["test"]["steps_to_last_chest"] - 4


def test_keys_weights_show_why(keys_outcomes):
    """With enough keys held, the default agent's weights still value approaching keys; the cured agent's do not."""

    def surplus_value(agent, feature):
        table = agent.weight_table()
        return table["always"][feature] + table["keys held >= chests left"][feature]

    default, cured = keys_outcomes["default"][1], keys_outcomes["cured"][1]
    assert surplus_value(default, "closer to key") > surplus_value(default, "closer to chest")
    assert surplus_value(cured, "closer to key") < surplus_value(cured, "closer to chest")


@pytest.fixture(scope="module")
def follow_outcomes():
    return {
        "default": measure("follow", "linear_q", 3),
        "dropout": measure("follow", "linear_q", 3, expert_dropout=0.5),
        "cured": measure("follow", "linear_q", 3, anti_expert_share=0.3),
        "random": measure("follow", "random", 3, train_steps=0),
    }


def test_follow_agent_follows_the_anti_expert_below_random_while_competent(follow_outcomes):
    default, random = follow_outcomes["default"][0], follow_outcomes["random"][0]
    checks = follow_checks(default["test"], random["test"], default["train"], random["train"])
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]
    assert default["test"]["wrong_visits_per_episode"] > random["test"]["wrong_visits_per_episode"] + 0.5


def test_expert_dropout_lessens_the_harm(follow_outcomes):
    default, dropout, random = (follow_outcomes[name][0] for name in ("default", "dropout", "random"))
    assert dropout["test"]["return_per_episode"] > default["test"]["return_per_episode"] + 0.5
    checks = follow_checks(dropout["test"], random["test"], dropout["train"], random["train"])
    assert not checks["agent's test return is below the random agent's"]


def test_anti_experts_in_training_cure_the_following(follow_outcomes):
    """Trained with an anti-expert in 30% of its episodes, the agent stops following it once disproved and
    earns more than the random agent; the default agent earns less."""
    default, cured, random = (follow_outcomes[name][0] for name in ("default", "cured", "random"))
    assert cured["test"]["return_per_episode"] > random["test"]["return_per_episode"] + 0.5
    assert cured["test"]["return_per_episode"] > default["test"]["return_per_episode"] + 1.5
    assert cured["test"]["correct_visits_per_episode"] > default["test"]["correct_visits_per_episode"] + 1
    assert cured["test"]["partner_following"] < default["test"]["partner_following"] - 0.2
    assert cured["train"]["return_per_episode"] > random["train"]["return_per_episode"] + 2  # still competent


def test_follow_weights_show_why(follow_outcomes):
    """With the partner there, entering the tile it visited after the agent's last one is worth the most.
    Once the partner is disproved, the cured agent values the tile it visited before the agent's last one
    above it; the default agent never met a disproved partner, so its weights there are all zero."""
    table = follow_outcomes["default"][1].weight_table()
    value = {feature: table["always"][feature] + table["partner present"][feature] for feature in table["always"]}
    assert value["enters the partner's next after my last"] > 0
    assert value["enters the partner's next after my last"] > value["enters another tile"] + 0.05
    assert not any(table["partner disproved"].values())
    cured = follow_outcomes["cured"][1].weight_table()
    disproved = {feature: sum(cured[c][feature] for c in ("always", "partner present", "partner disproved"))
                 for feature in cured["always"]}
    for kind in ("enters", "closer to"):
        assert disproved[f"{kind} the disproved partner's tile before my last"] > \
            disproved[f"{kind} the partner's next after my last"] + 0.1
