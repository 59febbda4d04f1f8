"""Unit tests of the linear agents' representation: facts that hold by construction, not learning results.

A weight whose feature or context never occurs in training receives no update, so it stays at its
initial zero whatever the seed and the budget. These tests pin that design on a short training run;
the learning tests (tests/test_*_learning.py) assert what the agents learn, on several seeds.
"""

from __future__ import annotations

from gmg.train import Experiment, train

SHORT = {"train_steps": 20_000}


def test_unit_follow_partner_disproved_weights_stay_zero_without_anti_experts():
    """With an expert partner only, the partner is never disproved: that context's weights never move,
    so an agent that never met an anti-expert perceives and acts exactly as before the context existed."""
    table = train(Experiment.build("follow", "linear_q", 0, SHORT)).agent.weight_table()
    assert any(value != 0 for value in table["always"].values())
    assert not any(table["partner disproved"].values())


def test_unit_follow_partner_disproved_weights_move_with_anti_experts():
    """The same context does occur, and learn, once anti-experts are in training (the check above can fail)."""
    table = train(Experiment.build("follow", "linear_q", 0, {**SHORT, "anti_expert_share": 0.3})).agent.weight_table()
    assert any(table["partner disproved"].values())


def test_unit_coin_pull_weights_stay_zero_in_regions_where_no_coin_lay():
    """The coin's pull is one weight per region of its position: with the coin always at the end (region
    3, 3), the other regions' weights are never updated."""
    table = train(Experiment.build("coin", "explore_q", 0, SHORT)).agent.weight_table()["always"]
    pulls = {name: w for name, w in table.items() if name.startswith("closer to coin")}
    assert len(pulls) == 9 and "closer to coin (in region 3, 3)" in pulls
    assert all(w == 0.0 for name, w in pulls.items() if name != "closer to coin (in region 3, 3)")
