"""Training time of both learners per world: the world's linear agent (hand-made features) and the neural
agent (raw observations), each with the defaults, side by side.

    python benchmarks/bench_learners.py             # 3 seeds per world and agent (~15 min: the neural agent ~1 min a run)
    python benchmarks/bench_learners.py --quick     # 1 seed
    python benchmarks/bench_learners.py --worlds keys,coin --seeds 5

Per world and agent: the median training seconds (training only: no evaluation) and environment steps
per second with learning included (the default `train_steps` summed over the batch, divided by the
seconds). One process, one BLAS thread; the machine's load average is printed before and after,
since other processes slow every figure.
"""

from __future__ import annotations

from common import exit_with, machine_line, seeds_arguments  # noqa: I001  (sets BLAS threads first)

import os  # noqa: E402
import statistics  # noqa: E402

from gmg.agents import RAW_LEARNER  # noqa: E402
from gmg.envs import ENVS  # noqa: E402
from gmg.train import Experiment, train  # noqa: E402


def timed(world: str, agent: str, seed: int) -> tuple[float, int]:
    trained = train(Experiment.build(world, agent, seed, {}))
    return trained.seconds, trained.steps_done


def main(argv=None) -> int:
    worlds = [name for name, env in ENVS.items() if env.card.contrast is not None]

    def more(parser):
        parser.add_argument("--worlds", default=",".join(worlds), help="comma-separated worlds")

    args = seeds_arguments(__doc__, default=3, quick=1, quick_help="1 seed", argv=argv, more=more)
    print(machine_line("learners"))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("world   | agent      | steps   | train s (median, per seed)      | steps/s with learning")
    for world in args.worlds.split(","):
        for agent in (ENVS[world].card.agent, RAW_LEARNER):
            runs = [timed(world, agent, seed) for seed in range(args.seeds)]
            seconds = [s for s, _ in runs]
            steps = runs[0][1]
            per_seed = ", ".join(f"{s:.1f}" for s in seconds)
            print(f"{world:<7} | {agent:<10} | {steps:>7,} | {statistics.median(seconds):6.1f} ({per_seed})"
                  f"{'':<{max(0, 22 - len(per_seed))}} | {steps / statistics.median(seconds):,.0f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    exit_with(main)
