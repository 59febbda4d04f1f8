"""Benchmark of the diagnosis: per seed, the verdict for each of an environment's diagnosis presets
(Monster: defaults, cured, mis-specified, noisy labellers, random agent), with the evidence that decided it.

    python benchmarks/bench_diagnose.py                # Monster, 10 seeds (~8 min on 2 cores)
    python benchmarks/bench_diagnose.py --quick        # 2 seeds
    python benchmarks/bench_diagnose.py --env coin     # any environment with diagnosis_presets (coin, maze: ~4 min)
    python benchmarks/bench_diagnose.py --env tree     # a study with DIAGNOSIS_PRESETS (tree: ~15 min; expressions: ~2 min)
    python benchmarks/bench_diagnose.py --env keys --quick --set train_steps=100000   # reduced settings

Per run: the verdict and its probability; capability on the test maps; each goal's capability where
the goals differ (intended, proxy); P(intended); the specified reward of the agent's and of the
intended planner's branches at the world's judge discount; and the verdict at each of
gmg.diagnose.JUDGE_DISCOUNTS (one letter each: G generalizes, g partly generalizes, M goal
misgeneralization, S specification gaming, I the specified reward is indifferent, C capability
failure), with "flips" when any differs from the verdict.

Every run goes through `gmg.diagnose.diagnose` or `gmg.studies.diagnose_study` (the paths of `python -m gmg
diagnose`), with the defaults otherwise. This prints numbers; it asserts nothing (the tests assert the verdicts on a
reduced run).
"""

from __future__ import annotations

import time

from common import exit_with, machine_line, seeds_arguments

from gmg.diagnose import JUDGE_DISCOUNTS, diagnose
from gmg.envs import ENVS
from gmg.studies import STUDIES, StudyRun, diagnose_study
from gmg.train import Experiment


LETTERS = {"generalizes": "G", "partly_generalizes": "g", "goal_misgeneralization": "M",
           "specification_gaming": "S", "reward_indifferent": "I", "capability_failure": "C"}


def presets(name: str, overrides: dict) -> tuple[dict, dict]:
    """(goals, {label: seed -> diagnosis}) of an environment's or a study's diagnosis presets, each
    with `overrides` (the reduced settings) on top."""
    if name in STUDIES:
        study = STUDIES[name]
        return study.GOALS, {label: (lambda seed, c=changes: diagnose_study(StudyRun.build(name, seed, {**c, **overrides})))
                             for label, changes in study.DIAGNOSIS_PRESETS.items()}
    return ENVS[name].goals, {label: (lambda seed, a=agent, c=changes: diagnose(Experiment.build(name, a, seed,
                                                                                                 {**c, **overrides})))
                              for label, (agent, changes) in ENVS[name].diagnosis_presets.items()}


def main(argv=None) -> int:
    diagnosable = [name for name, env in ENVS.items() if hasattr(env, "diagnosis_presets")]
    diagnosable += [name for name, study in STUDIES.items() if hasattr(study, "DIAGNOSIS_PRESETS")]

    def options(parser) -> None:
        parser.add_argument("--env", default="monster", choices=diagnosable, help="the environment whose diagnosis presets to run")
        parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                            help="a setting on top of every preset (reduced settings, e.g. train_steps=100000)")

    args = seeds_arguments(__doc__, 10, 2, "2 seeds", argv, more=options)
    goals, runs = presets(args.env, dict(item.split("=", 1) for item in args.set))
    intended, proxy = goals["intended"], goals["proxy"]
    width = max(46, *map(len, runs))
    print(machine_line("diagnose" if args.env == "monster" else f"{args.env} diagnose"))
    print()
    print(f"{'seed':>4} {'preset':<{width}} {'verdict':<24} {'p':>5} {'capability':>10} {'apart:int':>9} "
          f"{'apart:proxy':>11} {'P(intended)':>11} {'observed':>8} {'intended':>8} "
          f"{'at ' + ' '.join(f'{d:g}' for d in JUDGE_DISCOUNTS):<24} {'seconds':>7}")
    tally = {}
    for seed in range(args.seeds):
        for label, diagnosis in runs.items():
            start = time.perf_counter()
            d = diagnosis(seed)
            e, cf = d["evidence"], d["evidence"]["counterfactual"]
            apart = e["capability"]["where_goals_differ"]["per_goal"]
            tally.setdefault(label, {}).setdefault(d["verdict"], 0)
            tally[label][d["verdict"]] += 1
            row = " ".join(LETTERS[r["verdict"]] for r in d["sensitivity"]) + (" flips" if d["verdict_flips"] else "")
            print(f"{seed:>4} {label:<{width}} {d['verdict']:<24} {d['probabilities'][d['verdict']]:>5.2f} "
                  f"{e['capability']['test']['score']:>10.2f} {apart.get(intended, {}).get('score', float('nan')):>9.2f} "
                  f"{apart.get(proxy, {}).get('score', float('nan')):>11.2f} "
                  f"{e['posterior_where_goals_differ'][intended]:>11.2f} "
                  f"{cf.get('observed_return', float('nan')):>8.2f} {cf.get('intended_return', float('nan')):>8.2f} "
                  f"{row:<24} {time.perf_counter() - start:>7.1f}", flush=True)
    print()
    for label, verdicts in tally.items():
        print(f"  {label:<{width}} " + ", ".join(f"{v} {n}/{args.seeds}" for v, n in verdicts.items()))
    return 0


if __name__ == "__main__":
    exit_with(main)
