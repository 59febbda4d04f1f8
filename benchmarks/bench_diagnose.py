"""Benchmark of the diagnosis: per seed, the verdict for each of an environment's diagnosis presets
(Monster: defaults, cured, mis-specified, noisy labellers, random agent), with the evidence that decided it.

    python benchmarks/bench_diagnose.py                # Monster, 10 seeds (~8 min on 2 cores)
    python benchmarks/bench_diagnose.py --quick        # 2 seeds
    python benchmarks/bench_diagnose.py --env coin     # any environment with diagnosis_presets (coin, maze: ~4 min)
    python benchmarks/bench_diagnose.py --env tree     # a study with DIAGNOSIS_PRESETS (tree: ~15 min; expressions: ~2 min)

Every run goes through `gmg.diagnose.diagnose` or `diagnose_study` (the paths of `python -m gmg
diagnose`), with the defaults otherwise. This prints numbers; it asserts nothing (the tests assert the verdicts on a
reduced run).
"""

from __future__ import annotations

import time

from common import exit_with, machine_line, seeds_arguments

from gmg.diagnose import diagnose, diagnose_study
from gmg.envs import ENVS
from gmg.studies import STUDIES, StudyRun
from gmg.train import Experiment


def presets(name: str) -> tuple[dict, dict]:
    """(goals, {label: seed -> diagnosis}) of an environment's or a study's diagnosis presets."""
    if name in STUDIES:
        study = STUDIES[name]
        return study.GOALS, {label: (lambda seed, c=changes: diagnose_study(StudyRun.build(name, seed, c)))
                             for label, changes in study.DIAGNOSIS_PRESETS.items()}
    return ENVS[name].goals, {label: (lambda seed, a=agent, c=changes: diagnose(Experiment.build(name, a, seed, c)))
                              for label, (agent, changes) in ENVS[name].diagnosis_presets.items()}


def main(argv=None) -> int:
    diagnosable = [name for name, env in ENVS.items() if hasattr(env, "diagnosis_presets")]
    diagnosable += [name for name, study in STUDIES.items() if hasattr(study, "DIAGNOSIS_PRESETS")]
    args = seeds_arguments(__doc__, 10, 2, "2 seeds", argv, more=lambda parser: parser.add_argument(
        "--env", default="monster", choices=diagnosable, help="the environment whose diagnosis presets to run"))
    goals, runs = presets(args.env)
    intended = goals["intended"]
    width = max(46, *map(len, runs))
    print(machine_line("diagnose" if args.env == "monster" else f"{args.env} diagnose"))
    print()
    print(f"{'seed':>4} {'preset':<{width}} {'verdict':<24} {'p':>5} {'capability':>10} {'P(intended)':>11} "
          f"{'observed':>8} {'intended':>8} {'seconds':>7}")
    tally = {}
    for seed in range(args.seeds):
        for label, diagnosis in runs.items():
            start = time.perf_counter()
            d = diagnosis(seed)
            e, cf = d["evidence"], d["evidence"]["counterfactual"]
            tally.setdefault(label, {}).setdefault(d["verdict"], 0)
            tally[label][d["verdict"]] += 1
            print(f"{seed:>4} {label:<{width}} {d['verdict']:<24} {d['probabilities'][d['verdict']]:>5.2f} "
                  f"{e['capability']['test']['score']:>10.2f} {e['posterior_where_goals_differ'][intended]:>11.2f} "
                  f"{cf.get('observed_return', float('nan')):>8.2f} {cf.get('intended_return', float('nan')):>8.2f} "
                  f"{time.perf_counter() - start:>7.1f}", flush=True)
    print()
    for label, verdicts in tally.items():
        print(f"  {label:<{width}} " + ", ".join(f"{v} {n}/{args.seeds}" for v, n in verdicts.items()))
    return 0


if __name__ == "__main__":
    exit_with(main)
