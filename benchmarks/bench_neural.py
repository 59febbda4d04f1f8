"""Benchmark of the neural agent (raw observations, gmg/agents/neural.py): per world and seed, the
failure setting against its cure, with training seconds and environment steps per second.

    python benchmarks/bench_neural.py                       # 10 seeds, every world (~0.5-1.5 min per agent)
    python benchmarks/bench_neural.py --quick               # 2 seeds
    python benchmarks/bench_neural.py --worlds coin,maze --steps 300000
    python benchmarks/bench_neural.py --set memory=last_move   # the neural agent with other settings

Each run goes through gmg.experiment.run (the path of `python -m gmg experiment ENV --agent neural`),
one at a time, with the training budget the world's card gives the neural agent (`EnvCard.agent_limits`:
400k steps unless it says more) unless --steps says otherwise. The checks are issue 15's table ("The
effect, learned"); the random agent is the floor where a check needs it. It prints numbers and asserts nothing (docs/neural-learner.md records them).
"""

from __future__ import annotations

from common import exit_with, machine_line, seeds_arguments  # noqa: I001  (sets BLAS threads first)

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

from gmg.envs import maze  # noqa: E402
from gmg.experiment import run, summary  # noqa: E402
from gmg.params import ParamError  # noqa: E402
from gmg.train import Experiment, default_limits  # noqa: E402


def _monster(m):
    a, b, r = m["25-step"]["test"], m["200-step"]["test"], m["random"]["test"]
    shields = "shields_per_100_after_clear"
    return {
        "failure": a[shields] is not None and b[shields] is not None and a[shields] >= 1.5 * b[shields]
        and a["monster_hits_per_episode"] <= 0.5 * r["monster_hits_per_episode"],
        "cure": b["apples_per_100_after_clear"] is not None
        and b["apples_per_100_after_clear"] > (a["apples_per_100_after_clear"] or 0)
        and b["monster_hits_per_episode"] <= 0.5 * r["monster_hits_per_episode"],
    }


def _levels(intended, proxy):
    def checks(m):
        d = m["default"]
        return {
            "failure": d["train"][intended] >= 0.9 and d["test"][proxy] >= 0.5 and d["test"][proxy] > d["test"][intended],
            "cure": m["cure"]["test"][intended] >= 0.8,
        }
    return checks


def _keys(m):
    d, c = m["default"], m["cure"]
    return {
        "failure": d["test"]["surplus_keys_per_episode"] >= 2 and (d["train"]["chests_opened_share"] or 0) >= 0.9,
        "cure": c["test"]["surplus_keys_per_episode"] <= 0.5 * d["test"]["surplus_keys_per_episode"],
    }


def _maze(m):
    return {
        "failure": all(maze.headline_checks(m["default"]["train"], m["default"]["test"]).values()),
        "cure": m["cure"]["test"]["cheese_rate"] >= 0.8,
    }


def _follow(m):
    """Following judged where partner and rule disagree, as for the linear agent (gmg.envs.follow.headline_checks)."""
    d, c, r = m["default"]["test"], m["cure"]["test"], m["random"]["test"]
    return {
        "failure": d["return_per_episode"] < r["return_per_episode"] and (d["partner_over_rule"] or 0) >= 0.7,
        "cure": c["return_per_episode"] > r["return_per_episode"],
    }


RANDOM = ("random", {"train_steps": 0})
# world -> (variants: label -> (agent, overrides), columns: (label, split, metric) to print, checks)
WORLDS = {
    "monster": (
        {"25-step": ("neural", {}), "200-step": ("neural", {"train_episode_length": 200}), "random": RANDOM},
        [(v, "test", k) for k in ("shields_per_100_after_clear", "apples_per_100_after_clear", "monster_hits_per_episode")
         for v in ("25-step", "200-step", "random")],
        _monster,
    ),
    "coin": (
        {"default": ("neural", {}), "cure": ("neural", {"random_coin_share": 0.02})},
        [("default", "train", "coin_rate"), ("default", "test", "coin_rate"), ("default", "test", "end_rate"),
         ("cure", "train", "coin_rate"), ("cure", "test", "coin_rate"), ("cure", "test", "end_rate")],
        _levels("coin_rate", "end_rate"),
    ),
    "maze": (
        {"default": ("neural", {}), "cure": ("neural", {"cheese_region": 5})},
        [("default", "train", "cheese_rate"), ("default", "test", "cheese_rate"), ("default", "test", "corner_rate"),
         ("default", "test", "corner_rate_off_route"), ("cure", "train", "cheese_rate"), ("cure", "test", "cheese_rate"),
         ("cure", "test", "corner_rate")],
        _maze,
    ),
    "keys": (
        {"default": ("neural", {}), "cure": ("neural", {"test_like_share": 0.5})},
        [("default", "train", "chests_opened_share"), ("default", "test", "surplus_keys_per_episode"),
         ("default", "test", "chests_per_episode"), ("cure", "test", "surplus_keys_per_episode"),
         ("cure", "test", "chests_per_episode")],
        _keys,
    ),
    "follow": (
        {"default": ("neural", {}), "cure": ("neural", {"anti_expert_share": 0.3}), "random": RANDOM},
        [("default", "train", "return_per_episode"), ("default", "test", "return_per_episode"),
         ("default", "test", "partner_over_rule"), ("cure", "test", "return_per_episode"),
         ("cure", "test", "partner_over_rule"), ("random", "test", "return_per_episode")],
        _follow,
    ),
}


def measure(world: str, seed: int, steps: int | None, neural_settings: dict) -> dict:
    out = {}
    for label, (agent, overrides) in WORLDS[world][0].items():
        extra = {**neural_settings, **({"train_steps": steps} if steps else {})} if agent == "neural" else {}
        result = run(Experiment.build(world, agent, seed, {**overrides, **extra}), record=0)
        s = summary(result)
        out[label] = {split: part["metrics"] for split, part in s["splits"].items()}
        out[label]["seconds"] = s["train_seconds"]
        out[label]["steps_per_second"] = s["train_steps_done"] / max(s["train_seconds"], 1e-9)
    return out


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def bench_world(world: str, seeds: list[int], steps: int | None, neural_settings: dict) -> None:
    variants, columns, checks = WORLDS[world]
    learned = [label for label, (agent, _) in variants.items() if agent == "neural"]
    budget = steps or default_limits(world, "neural").train_steps
    print(f"\n== {world}: neural agent, {budget:,} training steps; " + ", ".join(
        f"{label} = {overrides or 'defaults'}" for label, (agent, overrides) in variants.items() if agent == "neural")
        + (f"; every neural agent with {neural_settings}" if neural_settings else ""))
    names = [f"{label} {split} {metric}" for label, split, metric in columns]
    print("  seed | " + " | ".join(names) + " | train s (" + ", ".join(learned) + ") | steps/s | failure | cure")
    seconds, rates, passed = [], [], {"failure": 0, "cure": 0}
    for seed in seeds:
        m = measure(world, seed, steps, neural_settings)
        ok = checks(m)
        for kind in passed:
            passed[kind] += ok[kind]
        seconds += [m[label]["seconds"] for label in learned]
        rates += [m[label]["steps_per_second"] for label in learned]
        cells = " | ".join(fmt(m[label][split][metric]) for label, split, metric in columns)
        times = ", ".join(f"{m[label]['seconds']:.0f}" for label in learned)
        speed = statistics.median(m[label]["steps_per_second"] for label in learned)
        print(f"  {seed:>4} | {cells} | {times} | {speed:,.0f} | {'yes' if ok['failure'] else 'NO'} |"
              f" {'yes' if ok['cure'] else 'NO'}", flush=True)
    print(f"  {world}: failure shown on {passed['failure']}/{len(seeds)} seeds, cure on {passed['cure']}/{len(seeds)};"
          f" training median {statistics.median(seconds):.0f} s (max {max(seconds):.0f} s),"
          f" median {statistics.median(rates):,.0f} environment steps/s with learning")


def name_value(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text[:40]!r}")
    return name, value


def main(argv=None) -> int:
    def more(parser):
        parser.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated worlds")
        parser.add_argument("--steps", type=int, default=None,
                            help="training steps per neural agent (default: the world's budget for it, its card's)")
        parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
        parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=name_value,
                            help="a setting of every neural agent (repeatable), e.g. memory=last_move")

    args = seeds_arguments(__doc__, default=10, quick=2, quick_help="2 seeds", argv=argv, more=more)
    settings = dict(args.set)
    worlds = args.worlds.split(",")
    try:  # every world and setting checked before hours of training start
        for world in worlds:
            Experiment.build(world, "neural", args.first_seed, settings)
    except ParamError as error:
        print(f"bench_neural.py: error: {error}", file=sys.stderr)
        return 2
    print(machine_line("neural"))
    for world in worlds:
        bench_world(world, list(range(args.first_seed, args.first_seed + args.seeds)), args.steps, settings)
    return 0


if __name__ == "__main__":
    exit_with(main)
