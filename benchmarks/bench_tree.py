"""Benchmark of the Tree gridworld study: the crash-then-recovery headline per seed, its timing, and
the variants that should not recover (or not crash).

    python benchmarks/bench_tree.py            # 10 seeds with the defaults (~4 min), then the variants
    python benchmarks/bench_tree.py --seeds 3  # fewer seeds
    python benchmarks/bench_tree.py --quick    # 2 seeds

Every run goes through `gmg.studies.tree.run` (the path of `python -m gmg experiment tree`); the
seconds are its wall time (time.perf_counter), the reference policies included. This prints
numbers; it asserts nothing (the learning result is asserted, on a reduced run, by the tests).
"""

from __future__ import annotations

import dataclasses

from common import exit_with, machine_line, seeds_arguments

from gmg.studies import tree

VARIANTS = {  # name -> changes; each runs 10 copies in one batch (a copy costs little beside the others)
    "no values shared across counts": {"shared_rate": 0.0, "count_rate": 0.1},
    "published r_min = 1e-6": {"r_min": 1e-6, "train_steps": 100_000},
    "permanent extinction": {"permanent_extinction": True, "train_steps": 100_000},
}


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def headline(seeds: int) -> None:
    config = tree.Config()
    print(f"Headline, defaults ({config.train_steps:,} steps, 1 copy per seed). Phases: crash = from the first time "
          f"the population (smoothed) falls below {tree.CRASH_SHARE:.0%} of max_trees until it is back above "
          f"{tree.RECOVERED_SHARE:.0%}; late = the last {tree.LATE_SHARE:.0%} of the run. Rewards per 1000 steps; "
          "affinity at 1-3 trees (1 greedy, 0 sustainable).")
    print(f"{'seed':>4} {'crash (k steps)':>16} {'crash min':>9} {'crash rew':>9} {'crash trees':>11} {'crash aff':>9} "
          f"{'late rew':>8} {'late trees':>10} {'late aff':>8} {'holds':>5} {'seconds':>7}", flush=True)
    held, seconds = 0, []
    for seed in range(seeds):
        result = tree.run(config, seed)
        phases = tree.copy_phases(result, 0)
        ok = all(tree.headline_checks(phases, config.max_trees).values())
        held += ok
        seconds.append(result.seconds)
        crash, late = phases["crash"], phases["late"]["metrics"]
        span = "none" if crash is None else f"{crash['steps'][0] // 1000}-{crash['steps'][1] // 1000}"
        c = crash["metrics"] if crash else {}
        print(f"{seed:>4} {span:>16} {_fmt(c.get('min_trees'), 'd'):>9} {_fmt(c.get('reward_per_1000_steps'), '.0f'):>9} "
              f"{_fmt(c.get('mean_trees'), '.2f'):>11} {_fmt(c.get('affinity'), '.2f'):>9} "
              f"{late['reward_per_1000_steps']:>8.0f} {late['mean_trees']:>10.2f} {_fmt(late['affinity'], '.2f'):>8} "
              f"{'yes' if ok else 'NO':>5} {result.seconds:>7.1f}", flush=True)
    print(f"holds on {held} of {seeds} seeds; run time median {sorted(seconds)[len(seconds) // 2]:.1f} s, "
          f"max {max(seconds):.1f} s")
    print(f"references: {tree.summary(result)['reference']}")


def variants() -> None:
    print()
    print("Variants, 10 copies each (one run, seed 0): copies that crashed / went extinct / recovered")
    for name, changes in VARIANTS.items():
        config = dataclasses.replace(tree.Config(), copies=10, **changes)
        result = tree.run(config, 0)
        crashed = sum(tree.phase_bounds(result.mean_trees[k], config.max_trees)["crash"] is not None
                      for k in range(config.copies))
        s = tree.summary(result)
        print(f"  {name:<32} {crashed:>2} / {s['extinct_runs']:>2} / {s['recovered_runs']:>2}   "
              f"({config.train_steps:,} steps, {result.seconds:.1f} s)", flush=True)


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, 10, 2, "2 seeds", argv)
    print(machine_line("tree"))
    print()
    headline(args.seeds)
    variants()
    return 0


if __name__ == "__main__":
    exit_with(main)
