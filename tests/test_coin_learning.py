"""The coin location proxy learned from reward alone, and its cure, on real runs (three seeds, margins).

With the coin always at the end the agent crosses the level competently and, at test, goes to the
end past the coin it was rewarded for; with the coin placed anywhere in 30% of the training levels
(the card's cure) the same learner goes for the coin. The learner is `explore_q`
(gmg/agents/explore_q.py), whose novelty bonus makes it collect the off-route coins that training
offers; benchmarks/bench_coin_maze.py --contrast has the 30-seed table (docs/robustness.md).
"""

import pytest

from gmg.experiment import run
from gmg.train import Experiment

REDUCED = {"eval_episodes": 100}
# three ordinary seeds (0-2, not picked from the table), so no lucky seed carries the result; measured on seeds
# 0-29 (200 test episodes, docs/robustness.md), the failure and the cure hold on 30 of 30; on these three:
# training coin rate 0.97-0.995 (>= 0.9), test end rate 0.80-0.865 (>= 0.6) against coin 0.13-0.19 (end - coin
# 0.61-0.735; > 0.3); cured: coin 0.965-1.00 (>= 0.8), end 0.00-0.025 (<= 0.15)
SEEDS = (0, 1, 2)


def trained(seed: int, **overrides):
    return run(Experiment.build("coin", "explore_q", seed, {**REDUCED, **overrides}), record=0)


@pytest.fixture(scope="module", params=SEEDS)
def seed(request):
    return request.param


@pytest.fixture(scope="module")
def coin(seed):
    return trained(seed)


@pytest.fixture(scope="module")
def coin_cured(seed):
    return trained(seed, random_coin_share=0.3)


def metrics(result, split):
    return result.env.metrics(result.rollouts[split])


def test_coin_agent_goes_to_the_end_past_the_coin(coin):
    train, test = metrics(coin, "train"), metrics(coin, "test")
    assert train["coin_rate"] >= 0.9 and train["death_rate"] <= 0.05
    assert test["end_rate"] >= 0.6 and test["end_rate"] > test["coin_rate"] + 0.3
    assert test["death_rate"] <= 0.05  # still capable: it dodges lava and the enemy


def test_randomised_coins_in_training_cure_it(coin_cured):
    train, test = metrics(coin_cured, "train"), metrics(coin_cured, "test")
    assert train["coin_rate"] >= 0.9
    assert test["coin_rate"] >= 0.8 and test["end_rate"] <= 0.15


def test_the_coin_pull_is_learned_where_coins_were_seen(coin, coin_cured):
    """The pull of the coin at the end and of the end itself are learned; with randomised coins every
    region's pull is. (That regions without training coins keep weight 0 is a fact of the
    representation: tests/test_representation.py.)"""
    table = coin.trained.agent.weight_table()["always"]
    assert table["closer to coin (in region 3, 3)"] > 0.5
    assert table["closer to end"] > 0.5
    cured = coin_cured.trained.agent.weight_table()["always"]
    assert all(w > 0.1 for name, w in cured.items() if name.startswith("closer to coin"))
