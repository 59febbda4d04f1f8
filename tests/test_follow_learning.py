"""Follow the expert (issue 7), learned from reward alone on real runs with the default budget (three seeds, margins).

The default agent (expert partner always there in training) against one trained with an anti-expert
partner in 30% of its episodes (the cure) and the random agent, all with the anti-expert partner at
test. benchmarks/bench_keys_follow.py has the 30-seed table (docs/robustness.md), with partner dropout
(`expert_dropout=0.5`) beside them: it lessens the harm on 18 of 30 seeds only, so no test pins it.
"""

import pytest

from gmg.envs.follow import cure_checks
from gmg.envs.follow import headline_checks as follow_checks
from gmg.experiment import metrics_with, run
from gmg.train import Experiment

EVAL = {"eval_episodes": 100}


def measure(agent_name: str, seed: int, **overrides):
    experiment = Experiment.build("follow", agent_name, seed, {**EVAL, **overrides})
    result = run(experiment, record=0)
    metrics = {split: result.env.metrics(rollout) for split, rollout in result.rollouts.items()}
    metrics["with expert"] = metrics_with(result, "train", anti_expert_share=0.0)
    return metrics, result.trained.agent


# three ordinary seeds, so no lucky seed carries the result; measured on seeds 0-29 (200 test episodes,
# docs/robustness.md): the failure holds on 29 of 30, the cure on 30 of 30. On these three: partner over rule
# 0.75-0.81 (>= 0.7), test return 0.39-0.63 below random's (< 0); the cure's partner over rule 0.34-0.39
# (< 0.5), its test return 1.01-1.29 above random's (>= 0.5), 2.34-3.71 above random's with the expert (>= 2)
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module", params=SEEDS)
def follow_outcomes(request):
    return {
        "default": measure("linear_q", request.param),
        "cured": measure("linear_q", request.param, anti_expert_share=0.3),
        "random": measure("random", request.param, train_steps=0),
    }


def test_follow_agent_follows_the_anti_expert_below_random_while_competent(follow_outcomes):
    default, random = follow_outcomes["default"][0], follow_outcomes["random"][0]
    checks = follow_checks(default["test"], random["test"], default["train"], random["train"])
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]
    assert default["test"]["wrong_visits_per_episode"] > random["test"]["wrong_visits_per_episode"] + 0.5


def test_anti_experts_in_training_cure_the_following(follow_outcomes):
    """Trained with an anti-expert in 30% of its episodes, the agent stops following it once disproved and
    earns more than the random agent; the default agent earns less."""
    default, cured, random = (follow_outcomes[name][0] for name in ("default", "cured", "random"))
    checks = cure_checks(cured["test"], random["test"], cured["with expert"], random["train"])
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]
    assert cured["test"]["return_per_episode"] > default["test"]["return_per_episode"] + 0.5
    assert cured["test"]["partner_over_rule"] < default["test"]["partner_over_rule"] - 0.2


def test_follow_weights_show_why(follow_outcomes):
    """With the partner there, entering the tile it visited after the agent's last one is worth the most.
    Once the partner is disproved, the cured agent values the tile it visited before the agent's last one
    above it. (That the default agent's weights there stay zero is a fact of the representation:
    tests/test_representation.py.)"""
    table = follow_outcomes["default"][1].weight_table()
    value = {feature: table["always"][feature] + table["partner present"][feature] for feature in table["always"]}
    assert value["enters the partner's next after my last"] > 0
    assert value["enters the partner's next after my last"] > value["enters another tile"] + 0.05
    cured = follow_outcomes["cured"][1].weight_table()
    disproved = {feature: sum(cured[c][feature] for c in ("always", "partner present", "partner disproved"))
                 for feature in cured["always"]}
    # measured on seeds 0-9: "closer to" the tile before leads "closer to" the partner's next by 0.084-0.162 of
    # weight; "enters" alone leads on 9 of 10 (seed 0: 0.220 against 0.246), the two together on 10 of 10
    before, after = "the disproved partner's tile before my last", "the partner's next after my last"
    assert disproved[f"closer to {before}"] > disproved[f"closer to {after}"] + 0.05
    assert disproved[f"enters {before}"] + disproved[f"closer to {before}"] > \
        disproved[f"enters {after}"] + disproved[f"closer to {after}"]
