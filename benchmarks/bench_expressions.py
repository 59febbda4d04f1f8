"""Benchmark of the expressions study: the headline per seed with the defaults, and the cure sweep.

    python benchmarks/bench_expressions.py             # 10 seeds: headline table and cure sweep (~4 min)
    python benchmarks/bench_expressions.py --seeds 3   # fewer seeds
    python benchmarks/bench_expressions.py --quick     # 2 seeds, 200 evaluation dialogues

Every run goes through `gmg.studies.expressions.run` (the path of `python -m gmg experiment
expressions`). Training seconds are the fit's wall time (time.perf_counter), with one BLAS thread.
This prints numbers; it asserts nothing (the learning result is asserted, on a reduced run, by the
test suite).
"""

from __future__ import annotations

import dataclasses
import statistics

from common import exit_with, machine_line, seeds_arguments

from gmg.studies import expressions as study

# "Done when" of issue 4, per seed
HEADLINE = {
    "train answer_accuracy >= 0.95": lambda train, test: train["answer_accuracy"] >= 0.95,
    "train missing_question_rate <= 0.05": lambda train, test: train["missing_question_rate"] <= 0.05,
    "test redundant_question_rate >= 0.8": lambda train, test: test["redundant_question_rate"] >= 0.8,
    "test answer_accuracy >= 0.95": lambda train, test: test["answer_accuracy"] >= 0.95,
}


def run(config: study.Config, seed: int) -> dict:
    return study.summary(study.run(config, seed))


def headline(config: study.Config, seeds: int) -> list[dict]:
    print(f"Headline with the defaults ({config.train_dialogues} expert dialogues with {config.unknowns_min}-"
          f"{config.unknowns_max} unknowns, {config.eval_dialogues} evaluation dialogues per split)")
    print(f"  {'seed':>4} | {'train kind: acc  missing  redundant  q/dlg':^42} | "
          f"{'no unknowns: redundant  about a constant  acc  q/dlg':^52} | {'train s':>7} | holds")
    summaries, holds = [], 0
    for seed in range(seeds):
        s = run(config, seed)
        summaries.append(s)
        train, test = s["splits"]["train"]["metrics"], s["splits"]["test"]["metrics"]
        ok = all(check(train, test) for check in HEADLINE.values())
        holds += ok
        print(f"  {seed:>4} | {train['answer_accuracy']:>17.3f} {train['missing_question_rate']:>8.3f} "
              f"{train['redundant_question_rate']:>10.3f} {train['questions_per_dialogue']:>6.2f} | "
              f"{test['redundant_question_rate']:>23.3f} {test['constant_question_rate']:>17.3f} "
              f"{test['answer_accuracy']:>4.3f} {test['questions_per_dialogue']:>6.2f} | "
              f"{s['train_seconds']:>7.2f} | {'yes' if ok else 'NO'}", flush=True)
    seconds = [s["train_seconds"] for s in summaries]
    print(f"  holds on {holds} of {seeds} seeds ({'; '.join(HEADLINE)})")
    print(f"  training seconds: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}")
    print("  a test dialogue of seed 0:")
    for line in summaries[0]["splits"]["test"]["samples"][0]:
        print(f"    {line}")
    print()
    return summaries


def sweep(config: study.Config, seeds: int, share_zero: list[dict]) -> None:
    print(f"Cure sweep: zero-unknown test dialogues, {seeds} seeds per variant; cured = redundant rate <= "
          f"{study.CURED_BELOW}")
    print(f"  {'variant':<14} {'mean redundant':>14} {'min':>6} {'max':>6} {'seeds cured':>12} "
          f"{'min train acc':>14}  per seed")
    rows = []
    for variant, share, variant_config in study.sweep_variants(config):
        for seed in range(seeds):
            s = share_zero[seed] if variant_config == config else run(variant_config, seed)
            rows.append({"variant": variant, "zero_unknown_share": share, "seed": seed,
                         "test_redundant_question_rate": s["splits"]["test"]["metrics"]["redundant_question_rate"],
                         "train_answer_accuracy": s["splits"]["train"]["metrics"]["answer_accuracy"]})
        row = study.sweep_table([r for r in rows if r["variant"] == variant])[0]
        per_seed = " ".join(f"{r['test_redundant_question_rate']:.2f}" for r in rows if r["variant"] == variant)
        print(f"  {variant:<14} {row['mean_redundant_rate']:>14.3f} {row['min_redundant_rate']:>6.2f} "
              f"{row['max_redundant_rate']:>6.2f} {row['seeds_cured']:>7} of {row['seeds']:<2} "
              f"{row['min_train_answer_accuracy']:>14.3f}  {per_seed}", flush=True)


def main(argv=None) -> int:
    args = seeds_arguments(__doc__, 10, 2, "2 seeds and 200 evaluation dialogues per split", argv)
    config = study.Config()
    if args.quick:
        config = dataclasses.replace(config, eval_dialogues=200)
    print(machine_line("expressions"))
    print()
    share_zero = headline(config, args.seeds)
    sweep(config, args.seeds, share_zero)
    return 0


if __name__ == "__main__":
    exit_with(main)
