"""The representation ablation: the same training, a representation that cannot tell contexts apart.

For each world with a preset, its card's agent is trained per seed on exactly the same levels and
steps in its failure and its cure setting (the card's `contrast`), each with the representation as
designed and ablated (the card's `representation`): one weight per feature and context against one
shared weight per feature (`context_weights`), or the coin's (cheese's) pull per 3x3 region of the
level against one pull everywhere (`object_tiles`). With `--agent neural`, the neural agent with its
own representation choice (`Agent.representation`: the grid cropped around the agent against the
grid as it is, `view`), at its training budget in each world. It prints the test metrics of the
intended goal and of the proxy per seed, so a reader sees which part of each effect the
representation decides.

    python benchmarks/bench_ablation.py                  # 10 seeds, every world
    python benchmarks/bench_ablation.py --quick          # 2 seeds
    python benchmarks/bench_ablation.py --worlds coin,maze
    python benchmarks/bench_ablation.py --agent neural --seeds 3 --failure-only   # ~25 min on one core

It prints numbers and asserts nothing (docs/ablations.md records them).
"""

from __future__ import annotations

from common import exit_with, machine_line, seeds_arguments  # noqa: I001  (sets BLAS threads first)

import statistics  # noqa: E402

from gmg.agents import AGENTS  # noqa: E402
from gmg.envs import ENVS  # noqa: E402
from gmg.experiment import run, summary  # noqa: E402
from gmg.sweep import goal_metrics  # noqa: E402
from gmg.train import Experiment  # noqa: E402


def test_metrics(world: str, agent: str, seed: int, changes: dict) -> dict:
    return summary(run(Experiment.build(world, agent, seed, changes), record=0))["splits"]["test"]["metrics"]


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def bench_world(world: str, agent: str | None, seeds: list[int], failure_only: bool) -> None:
    card, roles = ENVS[world].card, goal_metrics(world)
    agent = agent or card.agent
    (knob, knob_values), (rep, rep_values) = card.contrast, (AGENTS[agent].representation or card.representation)[:2]
    knob_values = knob_values[:1] if failure_only else knob_values
    variants = {f"{rep}={r}, {knob}={k}": {rep: r, knob: k} for r in rep_values for k in knob_values}
    print(f"\n== {world}: {agent}; test {roles['intended']} (intended), {roles['proxy']} (proxy)")
    print("  seed | " + " | ".join(f"{label}: intended, proxy" for label in variants))
    columns = {label: {"intended": [], "proxy": []} for label in variants}
    for seed in seeds:
        cells = []
        for label, changes in variants.items():
            test = test_metrics(world, agent, seed, changes)
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
        parser.add_argument("--agent", choices=[name for name, cls in AGENTS.items() if cls.representation],
                            help="an agent with a representation choice of its own (default: each world's card agent)")
        parser.add_argument("--failure-only", action="store_true", help="only the failure setting (not the cure)")

    args = seeds_arguments(__doc__, default=10, quick=2, quick_help="2 seeds", argv=argv, more=more)
    print(machine_line("ablation"))
    for world in args.worlds.split(","):
        bench_world(world, args.agent, list(range(args.seeds)), args.failure_only)
    return 0


if __name__ == "__main__":
    exit_with(main)
