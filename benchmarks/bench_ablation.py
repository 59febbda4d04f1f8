"""The representation ablation: the same training, a representation that cannot tell contexts apart.

For each world with a preset, its card's agent is trained per seed on exactly the same levels and
steps in its failure and its cure setting (the card's `contrast`), each with the representation as
designed and ablated (the card's `representation`): one weight per feature and context against one
shared weight per feature (`context_weights`), or the coin's (cheese's) pull per 3x3 region of the
level against one pull everywhere (`object_tiles`). It prints the test metrics of the intended goal
and of the proxy per seed, so a reader sees which part of each effect the representation decides.

    python benchmarks/bench_ablation.py                  # 10 seeds, every world
    python benchmarks/bench_ablation.py --quick          # 2 seeds
    python benchmarks/bench_ablation.py --worlds coin,maze

It prints numbers and asserts nothing (docs/ablations.md records them).
"""

from __future__ import annotations

from common import exit_with, machine_line, seeds_arguments  # noqa: I001  (sets BLAS threads first)

import statistics  # noqa: E402

from gmg.envs import ENVS  # noqa: E402
from gmg.experiment import run, summary  # noqa: E402
from gmg.sweep import goal_metrics  # noqa: E402
from gmg.train import Experiment  # noqa: E402


def test_metrics(world: str, seed: int, changes: dict) -> dict:
    experiment = Experiment.build(world, ENVS[world].card.agent, seed, changes)
    return summary(run(experiment, record=0))["splits"]["test"]["metrics"]


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def bench_world(world: str, seeds: list[int]) -> None:
    card, roles = ENVS[world].card, goal_metrics(world)
    (knob, knob_values), (rep, rep_values, _) = card.contrast, card.representation
    variants = {f"{rep}={r}, {knob}={k}": {rep: r, knob: k} for r in rep_values for k in knob_values}
    print(f"\n== {world}: {card.agent}; test {roles['intended']} (intended), {roles['proxy']} (proxy)")
    print("  seed | " + " | ".join(f"{label}: intended, proxy" for label in variants))
    columns = {label: {"intended": [], "proxy": []} for label in variants}
    for seed in seeds:
        cells = []
        for label, changes in variants.items():
            test = test_metrics(world, seed, changes)
            for role in ("intended", "proxy"):
                columns[label][role].append(test[roles[role]])
            cells.append(f"{fmt(test[roles['intended']])}, {fmt(test[roles['proxy']])}")
        print(f"  {seed:>4} | " + " | ".join(cells), flush=True)

    def median(values):
        values = [v for v in values if v is not None]
        return fmt(statistics.median(values)) if values else "-"

    print("  median | " + " | ".join(f"{median(columns[label]['intended'])}, {median(columns[label]['proxy'])}"
                                     for label in variants))


def main(argv=None) -> int:
    worlds = [name for name, env in ENVS.items() if env.card.representation is not None]

    def more(parser):
        parser.add_argument("--worlds", default=",".join(worlds), help="comma-separated worlds")

    args = seeds_arguments(__doc__, default=10, quick=2, quick_help="2 seeds", argv=argv, more=more)
    print(machine_line("ablation"))
    for world in args.worlds.split(","):
        bench_world(world, list(range(args.seeds)))
    return 0


if __name__ == "__main__":
    exit_with(main)
