"""Benchmark of keys-and-chests and follow-the-expert: per-seed headline tables and training times.

    python benchmarks/bench_keys_follow.py            # 10 seeds (~6 min)
    python benchmarks/bench_keys_follow.py --quick    # 2 seeds
    python benchmarks/bench_keys_follow.py --world follow --seeds 30

Per seed and environment: the default linear_q agent, the cure (keys: half the training levels
test-like; follow: an anti-expert partner in 30% of the training episodes) and the random agent (keys
also: the contrast learner, chest_pull_needs_key, whose chest-seeking is conditioned on its keys;
follow also: the partner absent in half the training episodes, which lessens the harm only), each
trained and evaluated through gmg.experiment.run (the path of `python -m gmg experiment`). It prints
numbers and asserts nothing (the learning tests assert the result on fixed seeds).
"""

from __future__ import annotations

import statistics
import time

from common import exit_with, machine_line, seeds_arguments

from gmg.envs import follow, keys
from gmg.experiment import metrics_with, run, summary
from gmg.train import Experiment

VARIANTS = {
    "keys": {"default": ("linear_q", {}), "cure": ("linear_q", {"test_like_share": 0.5}),
             "random": ("random", {"train_steps": 0}), "contrast": ("linear_q", {"chest_pull_needs_key": True})},
    "follow": {"default": ("linear_q", {}), "dropout": ("linear_q", {"expert_dropout": 0.5}),
               "cure": ("linear_q", {"anti_expert_share": 0.3}), "random": ("random", {"train_steps": 0})},
}


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def measure(env_name: str, seed: int) -> dict:
    out = {}
    for name, (agent, overrides) in VARIANTS[env_name].items():
        result = run(Experiment.build(env_name, agent, seed, overrides), record=0)
        s = summary(result)
        out[name] = {split: part["metrics"] for split, part in s["splits"].items()}
        out[name]["seconds"] = s["train_seconds"]
        if env_name == "follow":  # competence is measured with the expert partner, whatever the training mix
            out[name]["with expert"] = metrics_with(result, "train", anti_expert_share=0.0)
    return out


def bench_keys(seeds: int) -> None:
    print("Keys and chests: test levels (10 keys, 3 chests); train = training levels (3 keys, 10 chests)")
    print(f"  {'seed':>4} | {'surplus keys (test)':^22} | {'chests (test)':^20} | {'steps to last (test)':^20} |"
          f" {'train chest share':^17} | {'contrast':^15} | {'train s':>7} | holds")
    print(f"  {'':>4} | {'default':>7}{'cure':>7}{'random':>8} | {'default':>7}{'cure':>6}{'random':>7} |"
          f" {'default':>7}{'cure':>6}{'random':>7} | {'default':>8}{'cure':>9} | {'surplus':>7}{'chests':>8} |"
          f" {'':>7} |")
    held, seconds = 0, []
    for seed in range(seeds):
        m = measure("keys", seed)
        t = {name: m[name]["test"] for name in m}
        checks = keys.headline_checks(t["default"], t["cure"], t["random"], m["default"]["train"])
        held += all(checks.values())
        seconds.append(m["default"]["seconds"])
        print(f"  {seed:>4} | {fmt(t['default']['surplus_keys_per_episode']):>7}{fmt(t['cure']['surplus_keys_per_episode']):>7}"
              f"{fmt(t['random']['surplus_keys_per_episode']):>8} | {fmt(t['default']['chests_per_episode']):>7}"
              f"{fmt(t['cure']['chests_per_episode']):>6}{fmt(t['random']['chests_per_episode']):>7} |"
              f" {fmt(t['default']['steps_to_last_chest']):>7}{fmt(t['cure']['steps_to_last_chest']):>6}"
              f"{fmt(t['random']['steps_to_last_chest']):>7} | {fmt(m['default']['train']['chests_opened_share']):>8}"
              f"{fmt(m['cure']['train']['chests_opened_share']):>9} | {fmt(t['contrast']['surplus_keys_per_episode']):>7}"
              f"{fmt(t['contrast']['chests_per_episode']):>8} | {m['default']['seconds']:>7.1f} |"
              f" {verdict(checks)}",
              flush=True)
    print(f"  holds on {held} of {seeds} seeds (gmg.envs.keys.headline_checks); default training: median "
          f"{statistics.median(seconds):.1f} s, max {max(seconds):.1f} s")


def bench_follow(seeds: int) -> None:
    print("Follow the expert: test = anti-expert partner; train = the training partners (expert; cure: 30% anti-expert)")
    names = ("default", "dropout", "cure", "random")
    heads = "".join(f"{name:>8}" for name in names)
    print(f"  {'seed':>4} | {'return (test)':^32} | {'partner over rule (test)':^32} | {'partner following (test)':^32} |"
          f" {'correct visits (test)':^32} | {'return (train; cure, exp: with the expert only)':^34} | {'train s':>7} | holds | cure holds")
    print(f"  {'':>4} | {heads} | {heads} | {heads} | {heads} | {'default':>8}{'cure':>8}{'random':>8}{'cure, exp':>10} |"
          f" {'':>7} |")
    held, cured, seconds = 0, 0, []
    for seed in range(seeds):
        m = measure("follow", seed)
        t = {name: m[name]["test"] for name in m}
        tr = {name: m[name]["train"] for name in m}
        checks = follow.headline_checks(t["default"], t["random"], tr["default"], tr["random"])
        cure = follow.cure_checks(t["cure"], t["random"], m["cure"]["with expert"], tr["random"])
        held += all(checks.values())
        cured += all(cure.values())
        seconds.append(m["default"]["seconds"])
        row = " | ".join("".join(f"{fmt(t[name][metric]):>8}" for name in names) for metric in (
            "return_per_episode", "partner_over_rule", "partner_following", "correct_visits_per_episode"))
        with_expert = m["cure"]["with expert"]["return_per_episode"]
        print(f"  {seed:>4} | {row} | " + "".join(f"{fmt(tr[name]['return_per_episode']):>8}" for name in ("default", "cure", "random"))
              + f"{fmt(with_expert):>10}"
              + f" | {m['default']['seconds']:>7.1f} | {verdict(checks)} | {verdict(cure)}", flush=True)
    print(f"  holds on {held} of {seeds} seeds (gmg.envs.follow.headline_checks), the cure on {cured} of {seeds} "
          f"(gmg.envs.follow.cure_checks); default training: median {statistics.median(seconds):.1f} s, "
          f"max {max(seconds):.1f} s")


def verdict(checks: dict) -> str:
    return "yes" if all(checks.values()) else "NO: " + "; ".join(name for name, ok in checks.items() if not ok)


WORLDS = {"keys": bench_keys, "follow": bench_follow}


def more_arguments(parser) -> None:
    parser.add_argument("--world", choices=tuple(WORLDS), default=None, help="only this world (default: both)")


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, 10, 2, "two seeds", argv, more=more_arguments)
    print(machine_line("keys/follow"))
    start = time.perf_counter()
    for name, bench in WORLDS.items():
        if args.world in (None, name):
            bench(args.seeds)
            print()
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    exit_with(main)
