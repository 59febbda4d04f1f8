"""Curricula benchmark: domain randomisation against robust PLR at a low share of distinguishing levels.

    python benchmarks/bench_curriculum.py [--seeds N] [--first-seed S] [--quick] [--agent NAME] [--steps N] [--share S]

For coin (`random_coin_share`) and maze (`random_cheese_share`) at each share given: one row per seed with
the test intended-goal rate under `curriculum=dr` and `curriculum=plr` (the same seed, settings and
training budget), the training seconds of each and their ratio, then per curriculum how many seeds pass
the issue's bar (intended-goal rate >= 0.8) and the median time ratio PLR / DR. Runs one after
another in this process, so the times compare on the same load (print `uptime` beside them).
"""

from __future__ import annotations

from common import exit_with, machine_line, seeds_arguments  # noqa: I001  (sets BLAS threads first)

import statistics  # noqa: E402

from gmg import sweep as sweeps  # noqa: E402
from gmg.train import Experiment  # noqa: E402

CASES = (("coin", "random_coin_share", "0.02"), ("maze", "random_cheese_share", "0.02"))
CURED = 0.8  # the bar for the intended goal's test rate


def more_arguments(parser) -> None:
    parser.add_argument("--agent", default="explore_q", help="the learner (default explore_q, the worlds' card agent)")
    parser.add_argument("--steps", default=None, help="train_steps (default: the run default)")
    parser.add_argument("--share", default=None, help="the share of distinguishing levels (default 0.02)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0): unseen seeds")


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, default=10, quick=2, quick_help="2 seeds, for a smoke run", argv=argv,
                           more=more_arguments)
    print(machine_line("curriculum"))
    for env_name, knob, share in CASES:
        share = args.share or share
        intended = f"test_{sweeps.goal_metrics(env_name)['intended']}"
        budget = {"train_steps": args.steps} if args.steps else {}
        print(f"\n== {env_name} / {args.agent}: {knob}={share}, test {intended[5:]} ==")
        print(f"{'seed':>4} {'DR':>7} {'PLR':>7} {'DR s':>7} {'PLR s':>7} {'PLR/DR':>7}")
        rates = {"dr": [], "plr": []}
        ratios = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            cells = {curriculum: sweeps.run_cell(Experiment.build(
                env_name, args.agent, seed, {knob: share, "curriculum": curriculum, **budget}))[1]
                for curriculum in rates}
            for curriculum, cell in cells.items():
                rates[curriculum].append(cell[intended])
            ratios.append(cells["plr"]["train_seconds"] / cells["dr"]["train_seconds"])
            print(f"{seed:>4} {cells['dr'][intended]:>7.3f} {cells['plr'][intended]:>7.3f} "
                  f"{cells['dr']['train_seconds']:>7.1f} {cells['plr']['train_seconds']:>7.1f} {ratios[-1]:>7.2f}",
                  flush=True)
        for curriculum, values in rates.items():
            print(f"{curriculum}: {intended[5:]} {min(values):.3f}-{max(values):.3f}, "
                  f">= {CURED} on {sum(v >= CURED for v in values)}/{len(values)} seeds")
        print(f"training time PLR / DR: median {statistics.median(ratios):.2f} "
              f"(range {min(ratios):.2f}-{max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    exit_with(main)
