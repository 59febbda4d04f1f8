"""Benchmark of the Monster gridworld: environment throughput, training throughput, and the time to
reproduce the headline result (25-step vs 200-step training, tested on 200-step episodes).

    python benchmarks/bench_monster.py            # 3 seeds
    python benchmarks/bench_monster.py --seeds 10 # the full headline check
    python benchmarks/bench_monster.py --quick    # short timings, 1 seed

Timings use time.perf_counter; every rate is the median over repetitions. This prints numbers; it
asserts nothing (the learning result is asserted, on a reduced run, by the test suite).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from common import exit_with, machine_line, seeds_arguments

from gmg.envs.monster import MonsterEnv, headline_checks
from gmg.experiment import run, summary
from gmg.train import Experiment

BATCHES = (1, 64, 256, 1024)


def bench_env(episode_steps: int, repeats: int) -> None:
    """Each repetition: a fresh reset (not timed), then `episode_steps` timed steps of random actions."""
    env = MonsterEnv()
    rng = np.random.default_rng(0)
    print(
        f"Environment steps per second (default Monster config, random actions; each repetition times "
        f"{episode_steps} steps from a fresh reset; median of {repeats})"
    )
    print(f"  {'batch B':<14}{'step only':>14}{'us/call':>10}{'step+observe':>16}{'us/call':>10}")
    for batch in BATCHES:
        actions = rng.integers(0, env.n_actions, (episode_steps, batch))
        row = []
        for observe in (False, True):
            per_call = []
            for _ in range(repeats):
                state = env.reset(rng, batch)
                start = time.perf_counter()
                for t in range(episode_steps):
                    state, *_ = env.step(state, actions[t])
                    if observe:
                        env.observe(state)
                per_call.append((time.perf_counter() - start) / episode_steps)
            seconds = statistics.median(per_call)
            row += [batch / seconds, seconds * 1e6]
        label = f"{batch}" + (" (single)" if batch == 1 else "")
        print(f"  {label:<14}{row[0]:>14,.0f}{row[1]:>10.1f}{row[2]:>16,.0f}{row[3]:>10.1f}", flush=True)
    print()


def fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def bench_headline(seeds: int) -> None:
    variants = {
        "25-step": ("linear_q", {}),
        "200-step": ("linear_q", {"train_episode_length": 200}),
        "random": ("random", {"train_steps": 0}),
    }
    base = Experiment.build()
    print(
        f"Headline: train with defaults ({base.limits.train_steps:,} steps, {base.limits.n_envs} envs) on "
        f"{base.env_config.train_episode_length}- and 200-step episodes, evaluate {base.limits.eval_episodes} "
        f"test episodes of {base.env_config.test_episode_length} steps; random agent as the floor."
    )
    print("  after clear = steps begun with no monster alive; hits/100 = while monsters are alive")
    header = (
        f"  {'seed':>4} | {'shields/100 after clear':^23} | {'apples/100 after clear':^23} | {'apples/episode':^20} |"
        f" {'hits/100 alive':^20} | {'hits/episode':^20} | {'train s':^11} | {'run s':>5} | holds"
    )
    sub = f"  {'':>4} | {'25':>7}{'200':>8}{'rand':>8} | {'25':>7}{'200':>8}{'rand':>8} | {'25':>6}{'200':>7}{'rand':>7} |" \
          f" {'25':>6}{'200':>7}{'rand':>7} | {'25':>6}{'200':>7}{'rand':>7} | {'25':>5}{'200':>6} | {'':>5} |"
    print(header)
    print(sub)
    train_rates, run_seconds, holds_count = [], [], 0
    for seed in range(seeds):
        start = time.perf_counter()
        m, train_s = {}, {}
        for name, (agent, overrides) in variants.items():
            s = summary(run(Experiment.build("monster", agent, seed, overrides)))
            m[name] = s["splits"]["test"]["metrics"]
            train_s[name] = s["train_seconds"]
            if agent == "linear_q":
                train_rates.append(s["train_steps_done"] / s["train_seconds"])
        elapsed = time.perf_counter() - start
        run_seconds.append(elapsed)
        a, b, r = m["25-step"], m["200-step"], m["random"]
        sh = [x["shields_per_100_after_clear"] for x in (a, b, r)]
        ap = [x["apples_per_100_after_clear"] for x in (a, b, r)]
        ape = [x["apples_per_episode"] for x in (a, b, r)]
        hits = [x["hits_per_100_while_monsters_alive"] for x in (a, b, r)]
        hits_ep = [x["monster_hits_per_episode"] for x in (a, b, r)]
        holds = all(headline_checks(a, b, r).values())
        holds_count += bool(holds)
        print(
            f"  {seed:>4} | {fmt(sh[0]):>7}{fmt(sh[1]):>8}{fmt(sh[2]):>8} | {fmt(ap[0]):>7}{fmt(ap[1]):>8}{fmt(ap[2]):>8} |"
            f" {fmt(ape[0]):>6}{fmt(ape[1]):>7}{fmt(ape[2]):>7} | {fmt(hits[0]):>6}{fmt(hits[1]):>7}{fmt(hits[2]):>7} |"
            f" {fmt(hits_ep[0]):>6}{fmt(hits_ep[1]):>7}{fmt(hits_ep[2]):>7} |"
            f" {train_s['25-step']:>5.1f}{train_s['200-step']:>6.1f} | {elapsed:>5.1f} | {'yes' if holds else 'NO'}",
            flush=True,
        )
    print(
        f"  holds on {holds_count} of {seeds} seeds  (holds = every check of gmg.envs.monster.headline_checks:"
        " shields after clear 25 >= 1.5x 200, apples after clear 200 >= 1.15x 25, apples/episode of both >= 3x"
        " random, hits/episode of both <= 0.5x random; hits/100 alive is printed, not checked)"
    )
    print(
        f"  training throughput (linear_q, defaults): median {statistics.median(train_rates):,.0f} steps/s over "
        f"{len(train_rates)} runs"
    )
    print(
        f"  time to reproduce: median {statistics.median(run_seconds):.1f} s per seed (train and evaluate 2 agents "
        f"+ random), total {sum(run_seconds):.1f} s for {seeds} seed(s)"
    )


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, 3, 1, "short timings and one seed", argv, minimum=0)
    episode_steps, repeats = (50, 3) if args.quick else (200, 5)
    print(machine_line("monster"))
    print()
    bench_env(episode_steps, repeats)
    if args.seeds:
        bench_headline(args.seeds)
    return 0


if __name__ == "__main__":
    exit_with(main)
