"""Benchmark of keys-and-chests and follow-the-expert: per-seed headline tables and training times.

    python benchmarks/bench_keys_follow.py            # 10 seeds (~6 min)
    python benchmarks/bench_keys_follow.py --quick    # 2 seeds

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
from gmg.experiment import run, summary
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
        s = summary(run(Experiment.build(env_name, agent, seed, overrides), record=0))
        out[name] = {split: part["metrics"] for split, part in s["splits"].items()}
        out[name]["seconds"] = s["train_seconds"]
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
              f" {'yes' if all(checks.values()) else 'NO: ' + '; '.join(k for k, ok in checks.items() if not ok)}",
              flush=True)
    print(f"  holds on {held} of {seeds} seeds (gmg.envs.keys.headline_checks); default training: median "
          f"{statistics.median(seconds):.1f} s, max {max(seconds):.1f} s")


def bench_follow(seeds: int) -> None:
    print("Follow the expert: test = anti-expert partner; train = the training partners (expert; cure: 30% anti-expert)")
    names = ("default", "dropout", "cure", "random")
    heads = "".join(f"{name:>8}" for name in names)
    print(f"  {'seed':>4} | {'return (test)':^32} | {'partner following (test)':^32} | {'correct visits (test)':^32} |"
          f" {'return (train)':^24} | {'train s':>7} | holds")
    print(f"  {'':>4} | {heads} | {heads} | {heads} | {'default':>8}{'cure':>8}{'random':>8} | {'':>7} |")
    held, seconds = 0, []
    for seed in range(seeds):
        m = measure("follow", seed)
        t = {name: m[name]["test"] for name in m}
        tr = {name: m[name]["train"] for name in m}
        checks = follow.headline_checks(t["default"], t["random"], tr["default"], tr["random"])
        held += all(checks.values())
        seconds.append(m["default"]["seconds"])
        row = " | ".join("".join(f"{fmt(t[name][metric]):>8}" for name in names)
                         for metric in ("return_per_episode", "partner_following", "correct_visits_per_episode"))
        print(f"  {seed:>4} | {row} | " + "".join(f"{fmt(tr[name]['return_per_episode']):>8}" for name in ("default", "cure", "random"))
              + f" | {m['default']['seconds']:>7.1f} |"
              f" {'yes' if all(checks.values()) else 'NO: ' + '; '.join(k for k, ok in checks.items() if not ok)}",
              flush=True)
    print(f"  holds on {held} of {seeds} seeds (gmg.envs.follow.headline_checks); default training: median "
          f"{statistics.median(seconds):.1f} s, max {max(seconds):.1f} s")


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, 10, 2, "two seeds", argv)
    print(machine_line("keys/follow"))
    start = time.perf_counter()
    bench_keys(args.seeds)
    print()
    bench_follow(args.seeds)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    exit_with(main)
