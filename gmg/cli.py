"""Command line: headless runs over the same library calls the UI makes.

    python -m gmg list [--json]
    python -m gmg experiment monster [--agent NAME] [--seed S] [--train-steps N]
                                     [--eval-episodes K] [--set NAME=VALUE ...] [--json]
    python -m gmg experiment tree|expressions [--seed S] [--set NAME=VALUE ...] [--json]
    python -m gmg diagnose ENV [same options as experiment]   (also tree and expressions)
    python -m gmg seeds ENV [--seeds N] [--first-seed S] [--workers W] [--dask-scheduler ADDRESS]
                            [--agent NAME] [--set NAME=VALUE ...] [--json]
    python -m gmg sweep ENV --param NAME --values V1,V2 [--seeds K] [--curricula dr,plr] [--workers W]
                            [--dask-scheduler ADDRESS]
    python -m gmg bundle [--out FOLDER] [--workers W] [--set NAME=VALUE ...]

`experiment --json` prints exactly one JSON object: `gmg.experiment.summary(result)`, or for a
study (gmg.studies: tree, expressions) the study's own `summary`; metrics that are undefined
print as null. Bad input prints one line `gmg: error: ...` on stderr and exits with
code 2; Ctrl-C exits with code 130; an internal error (a bug) prints one line and exits with
code 1 (GMG_DEBUG=1 shows its traceback). None of them prints a traceback by default.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import bundle as bundles
from . import caps, compiled
from . import diagnose as diagnosis
from . import experiment as experiments
from . import params
from . import seeds as seed_study
from . import sweep as sweeps
from .agents import AGENTS
from .envs import ENVS
from .jobs import SCHEDULER_ENV
from .params import ParamError, ascii_number, clip
from .studies import STUDIES, StudyRun, diagnose_study, run_study
from .curriculum import CURRICULA
from .train import MAX_SEED, Experiment, RunLimits

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 1
MAX_NAME = 64  # longest environment, agent or parameter name accepted from the command line
MAX_LINE = 600  # an error line is cut to this many characters


class UsageError(Exception):
    """Bad command-line input; the message is one line for the user."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so every error is one line."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `python -m {self.prog} --help`)")  # prog: "gmg experiment"


def _name(kind: str, raw: str, known) -> str:
    """Check a registry name (environment or agent) before it reaches any message verbatim."""
    if raw not in known:
        raise UsageError(f"unknown {kind} {clip(raw)!r}; known: {', '.join(known)}")
    return raw


def _seed(raw: str) -> int:
    try:
        value = ascii_number(raw.strip(), int)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise UsageError(f"--seed must be an integer between 0 and {MAX_SEED}, got {clip(raw)!r}")
    return value


def _overrides(args) -> dict[str, str]:
    """--set NAME=VALUE pairs plus the --train-steps / --eval-episodes shortcuts, as raw strings."""
    overrides: dict[str, str] = {}

    def put(name: str, value: str, source: str) -> None:
        if name in overrides:
            raise UsageError(f"parameter {name} is given twice ({source})")
        overrides[name] = value

    for item in args.set or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set expects NAME=VALUE, got {clip(item)!r}")
        if len(name) > MAX_NAME:
            raise UsageError(f"unknown parameter {clip(name)!r} (name too long); see `python -m gmg list`")
        put(name, value, f"--set {name}=...")
    if args.train_steps is not None:
        put("train_steps", args.train_steps, "--train-steps and --set train_steps")
    if args.eval_episodes is not None:
        put("eval_episodes", args.eval_episodes, "--eval-episodes and --set eval_episodes")
    return overrides


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays unwrapped, NaN and infinities as None (null)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dump(obj: Any, out) -> None:
    out.write(json.dumps(jsonable(obj), allow_nan=False, indent=2) + "\n")


# ------------------------------------------------------------------------------------- list
def catalogue() -> dict:
    """Environments, agents and run limits with every parameter (the `list --json` payload)."""

    # an environment's (or study's) module docstring is its documentation
    def first_line(module) -> str:
        return ((module.__doc__ or "").strip().splitlines() or [""])[0]

    return {
        "environments": {
            **{name: {"title": cls.title, "description": first_line(sys.modules[cls.__module__]),
                      "goals": dict(cls.goals), "parameters": params.describe(cls.Config)}
               for name, cls in ENVS.items()},
            # studies bring their own learner: its parameters are among theirs
            **{name: {"title": study.TITLE, "description": first_line(study), "goals": dict(study.GOALS),
                      "learner": study.LEARNER, "parameters": params.describe(study.Config)}
               for name, study in STUDIES.items()},
        },
        "agents": {
            name: {"title": cls.title, "learns": cls.learns, "default": name == Experiment.agent_name,
                   "parameters": params.describe(cls.Config)}
            for name, cls in AGENTS.items()
        },
        "limits": {"parameters": params.describe(RunLimits)},
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _param_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return ["    (no parameters)"]
    width = max(len(r["name"]) for r in rows)
    lines = []
    for r in rows:
        if r["choices"]:
            allowed = "one of " + ", ".join(map(str, r["choices"]))
        elif r["low"] is not None or r["high"] is not None:
            allowed = f"{_fmt(r['low'])}..{_fmt(r['high'])}"
        else:
            allowed = ""
        lines.append(f"    {r['name']:<{width}}  {r['type']:<5} default {_fmt(r['default']):<8} {allowed:<14} {r['help']}")
    return lines


def _print_list(cat: dict, out) -> None:
    lines = ["Environments (python -m gmg experiment NAME):"]
    for name, e in cat["environments"].items():
        lines += [f"  {name}: {e['description'] or e['title']}",
                  f"    goals: intended = {e['goals']['intended']}, proxy = {e['goals']['proxy']}"]
        if "learner" in e:
            lines.append(f"    learner: {e['learner']} (its own; --agent does not apply)")
        lines += _param_lines(e["parameters"])
    lines.append("")
    lines.append("Agents (--agent NAME):")
    for name, a in cat["agents"].items():
        lines.append(f"  {name}: {a['title']}" + (" (default)" if a["default"] else ""))
        lines += _param_lines(a["parameters"])
    lines.append("")
    lines.append("Run limits:")
    lines += _param_lines(cat["limits"]["parameters"])
    lines.append("")
    lines.append("Set any parameter with --set NAME=VALUE (repeatable), e.g. --set train_episode_length=200.")
    out.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------- experiment
def _print_summary(s: dict, out) -> None:
    cfg = ", ".join(f"{k}={_fmt(v)}" for k, v in s["config"].items())
    lines = [
        f"{s['env']} / {s['agent']} / seed {s['seed']}: trained"
        + (f" {s['train_steps_done']} steps" if "train_steps_done" in s else "")  # a study may count none
        + f" in {s['train_seconds']:.2f} s",
        f"config: {cfg}",
        f"goals: intended = {s['goals']['intended']}, proxy = {s['goals']['proxy']}",
        "",
    ]
    # columns: the splits, or a continual study's phases (a phase a run never reached is left out)
    columns = s.get("splits") or {name: phase for name, phase in s.get("phases", {}).items() if phase}
    names = list(dict.fromkeys(k for sp in columns.values() for k in sp["metrics"]))
    width = max(len(n) for n in names + ["metric"]) if names else 6
    lines.append(f"{'metric':<{width}}  " + "  ".join(f"{sp:>10}" for sp in columns))
    for n in names:
        lines.append(f"{n:<{width}}  " + "  ".join(f"{_fmt(columns[sp]['metrics'].get(n)):>10}" for sp in columns))
    for key in ("attribution", "attribution_where_goals_differ"):
        goals = list(dict.fromkeys(g for sp in columns.values() for g in (sp.get(key) or {})))
        for g in goals:
            label = f"P({g}) {'' if key == 'attribution' else 'goals differ'}".strip()
            lines.append(f"{label:<{width}}  " + "  ".join(
                f"{_fmt((columns[sp].get(key) or {}).get(g)):>10}" for sp in columns))
    out.write("\n".join(lines) + "\n")


def _progress_printer(err):
    def show(row: dict) -> None:
        done = "".join(f"  {row[key]:{fmt}}{unit}" for key, fmt, unit in (("steps", "", " steps"), ("seconds", ".1f", " s"))
                       if key in row)
        err.write(f"\rtraining {100 * row['fraction']:5.1f}%{done}")
        if row["fraction"] >= 1:
            err.write("\n")
        err.flush()

    return show


def _study_run(args, env_name: str) -> StudyRun:
    if args.agent is not None:
        raise UsageError(f"{env_name} trains its own learner ({STUDIES[env_name].LEARNER}); --agent does not apply")
    return StudyRun.build(env_name, _seed(args.seed), _overrides(args))


def _experiment(args, out, err) -> int:
    env_name = _name("environment", args.env, {**ENVS, **STUDIES})
    progress = _progress_printer(err) if not args.json and getattr(err, "isatty", lambda: False)() else None
    if env_name in STUDIES:
        run = _study_run(args, env_name)
        result = run.module.summary(run_study(run, on_progress=progress))
    else:
        agent_name = _name("agent", args.agent or ENVS[env_name].card.agent, AGENTS)
        experiment = Experiment.build(env_name, agent_name, _seed(args.seed), _overrides(args))
        result = experiments.summary(experiments.run(experiment, on_progress=progress))
    if args.json:
        _dump(result, out)
    else:
        _print_summary(jsonable(result), out)
    return 0


# ------------------------------------------------------------------------- diagnose, seeds
def _episodic(args) -> Experiment:
    """An Experiment of an episodic environment (diagnosis and seed studies need test maps and planners)."""
    env_name = _name("environment", args.env, {**ENVS, **STUDIES})
    if env_name in STUDIES:
        raise UsageError(f"{args.command} needs an episodic environment ({', '.join(ENVS)}); {env_name} is a study")
    agent_name = _name("agent", args.agent or ENVS[env_name].card.agent, AGENTS)
    return Experiment.build(env_name, agent_name, _seed(args.seed), _overrides(args))


def _diagnose(args, out, err) -> int:
    progress = _progress_printer(err) if not args.json and getattr(err, "isatty", lambda: False)() else None
    env_name = _name("environment", args.env, {**ENVS, **STUDIES})
    if env_name in STUDIES:
        report = diagnose_study(_study_run(args, env_name), on_progress=progress)
    else:
        report = diagnosis.diagnose(_episodic(args), on_progress=progress)
    if args.json:
        _dump(report, out)
        return 0
    e = jsonable(report["evidence"])
    cf = e["counterfactual"]
    lines = [f"{report['env']} / {report['agent']} / seed {report['seed']}: {report['verdict'].replace('_', ' ')}",
             "probabilities: " + ", ".join(f"{v} {_fmt(p)}" for v, p in report["probabilities"].items() if p),
             "capability (0 random, 1 planner): " + ", ".join(f"{split} {_fmt(e['capability'][split]['score'])}"
                                                             for split in ("test", "train") if split in e["capability"]),
             "P(goal) where the goals differ: " + ", ".join(f"{g} {_fmt(p)}" for g, p in
                                                            e["posterior_where_goals_differ"].items()),
             "capability where the goals differ: " + ", ".join(
                 f"{g} {_fmt(score['score'])}" for g, score in e["capability"]["where_goals_differ"]["per_goal"].items()),
             f"counterfactual over {cf['branches']} branches of {cf['steps']} steps, judged at {cf['judge_discount']}: "
             f"specified reward {_fmt(cf.get('observed_return'))} for the agent, {_fmt(cf.get('intended_return'))} for "
             "the intended goal"]
    if report["sensitivity"]:
        lines.append("judge's discount " + diagnosis.sensitivity_line(report))
    if cf.get("note"):
        lines.append(f"note: {cf['note']}")
    if "copies" in report:
        lines.append("per copy: " + ", ".join(c["verdict"].replace("_", " ") for c in report["copies"]))
    out.write("\n".join(lines) + "\n")
    return 0


def _seeds(args, out, err) -> int:
    base = _episodic(args)
    count = _count("--seeds", args.seeds, 1, seed_study.MAX_SEEDS)
    first = _seed(args.first_seed)
    if first + count - 1 > MAX_SEED:
        raise UsageError(f"--first-seed + --seeds must stay below {MAX_SEED}")
    workers = None if args.workers is None else _count("--workers", args.workers, 1, 64)
    show = None
    if not args.json and getattr(err, "isatty", lambda: False)():
        def show(point):
            err.write(f"seed {point['seed']}: {point['verdict']}\n")
    points = seed_study.run_seeds(seed_study.experiments_for(base, count, first), workers=workers,
                                  scheduler=args.dask_scheduler, on_point=show)
    result = {"env": base.env_name, "agent": base.agent_name, "config": base.config_dict(),
              "goals": dict(ENVS[base.env_name].goals), **seed_study.study(points)}
    if args.json:
        _dump(result, out)
        return 0
    lines = [f"{'seed':>6} {'verdict':<24} {'P(intended)':>11} {'capability':>10}  outlier"]
    lines += [f"{p['seed']:>6} {p['verdict']:<24} {p['preference']:>11.2f} {p['capability']:>10.2f}  "
              f"{'yes' if p['outlier'] else ''}" for p in result["seeds"]]
    lines.append("verdicts: " + ", ".join(f"{v} {n}" for v, n in result["verdict_counts"].items() if n))
    out.write("\n".join(lines) + "\n")
    return 0


def _sweep(args, out, err) -> int:
    base = _episodic(args)
    if args.param is None or args.values is None:
        raise UsageError("sweep needs --param NAME and --values V1,V2,...")
    values = tuple(v.strip() for v in args.values.split(","))
    if len(values) > sweeps.MAX_VALUES or not all(values):
        raise UsageError(f"--values takes 1 to {sweeps.MAX_VALUES} comma-separated values, got {clip(args.values)!r}")
    overrides = tuple((k, v) for k, v in _overrides(args).items())
    curricula = tuple(c.strip() for c in args.curricula.split(","))
    if len(curricula) > len(CURRICULA) or not set(curricula) <= set(CURRICULA):
        raise UsageError(f"--curricula takes some of {','.join(CURRICULA)}, got {clip(args.curricula)!r}")
    sweep = sweeps.Sweep(base.env_name, clip(args.param, MAX_NAME), values,
                         _count("--seeds", args.seeds, 1, sweeps.MAX_SEEDS), base.agent_name, overrides, curricula)
    workers = None if args.workers is None else _count("--workers", args.workers, 1, 64)
    show = None
    if not args.json and getattr(err, "isatty", lambda: False)():
        def show(done, total):
            err.write(f"\rsweep: {done}/{total} runs" + ("\n" if done == total else ""))
            err.flush()
    table = sweeps.run_sweep(sweep, on_progress=show, workers=workers, scheduler=args.dask_scheduler)
    if args.json:
        _dump(sweeps.summary(sweep, table), out)
    else:
        out.write(sweeps.summarise(table, sweep.param).to_string(index=False) + "\n")
    return 0


def _bundle(args, out, err) -> int:
    """Train every world's preset pair and write them where the app finds them (or to --out)."""
    experiments = bundles.preset_experiments(_overrides(args))
    workers = _count("--workers", args.workers, 1, 64)
    folder = bundles.BUNDLE_FOLDER if args.out is None else Path(args.out)
    err.write(f"bundle: training {len(experiments)} runs, {workers} at a time\n")
    folders = bundles.write_bundle(folder, experiments, workers,
                                   on_saved=lambda e: err.write(f"bundle: trained {bundles.run_folder_name(e)}\n"))
    for run_folder in folders:
        size = sum(path.stat().st_size for path in run_folder.iterdir())
        out.write(f"{run_folder}  {size / 1000:.1f} kB\n")
    return 0


def _count(flag: str, raw: str, low: int, high: int) -> int:
    try:
        value = ascii_number(raw.strip(), int)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise UsageError(f"{flag} must be an integer between {low} and {high}, got {clip(raw)!r}")
    return value


# ------------------------------------------------------------------------------------- main
def _add_run_options(parser: argparse.ArgumentParser, env_help: str) -> None:
    """ENV, --agent, --seed, --train-steps, --eval-episodes, --set and --json (experiment, diagnose, seeds)."""
    parser.add_argument("env", metavar="ENV", help=env_help)
    parser.add_argument("--agent", metavar="NAME",
                        help=f"agent: {', '.join(AGENTS)} (default: the one the world's presets are measured with, "
                             f"{', '.join(f'{name} {cls.card.agent}' for name, cls in ENVS.items())}; "
                             f"not for {', '.join(STUDIES)})")
    parser.add_argument("--seed", default="0", metavar="S", help="random seed (default 0)")
    parser.add_argument("--train-steps", metavar="N", help="shortcut for --set train_steps=N")
    parser.add_argument("--eval-episodes", metavar="K", help="shortcut for --set eval_episodes=K")
    parser.add_argument(
        "--set", action="append", metavar="NAME=VALUE",
        help="override any environment, agent or run-limit parameter (repeatable; see `list`)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def _add_scheduler_option(parser) -> None:
    parser.add_argument("--dask-scheduler", metavar="ADDRESS",
                        help=f"run on this Dask cluster instead (or set {SCHEDULER_ENV})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gmg", description="Goal misgeneralization explorer: headless runs.", allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p_list = sub.add_parser("list", help="environments, agents and their parameters", allow_abbrev=False)
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p_exp = sub.add_parser(
        "experiment", help="train an agent, evaluate it on the train and test distributions", allow_abbrev=False
    )
    _add_run_options(p_exp, f"environment: {', '.join([*ENVS, *STUDIES])}")

    p_diag = sub.add_parser(
        "diagnose", allow_abbrev=False,
        help="train, then classify the test behaviour: generalizes, goal misgeneralization, specification gaming "
             "or capability failure, with the evidence",
    )
    _add_run_options(p_diag, f"environment: {', '.join([*ENVS, *STUDIES])}")

    p_seeds = sub.add_parser("seeds", allow_abbrev=False,
                             help="diagnose one agent per seed, in parallel (or on a Dask cluster): preference "
                                  "against capability, outliers flagged")
    _add_run_options(p_seeds, f"episodic environment: {', '.join(ENVS)}")
    p_seeds.add_argument("--seeds", default=str(seed_study.DEFAULT_SEEDS), metavar="N",
                         help=f"how many seeds (default {seed_study.DEFAULT_SEEDS}, at most {seed_study.MAX_SEEDS})")
    p_seeds.add_argument("--first-seed", default="0", metavar="S", help="the first seed (default 0)")
    p_seeds.add_argument("--workers", metavar="W", help="local processes (default: one per core)")
    _add_scheduler_option(p_seeds)

    p_sweep = sub.add_parser("sweep", allow_abbrev=False,
                             help="train over values of one parameter x seeds, in parallel: test intended- and "
                                  "proxy-goal rates against the parameter")
    _add_run_options(p_sweep, f"episodic environment: {', '.join(ENVS)}")
    p_sweep.add_argument("--param", metavar="NAME", help="the parameter to sweep (see `list`)")
    p_sweep.add_argument("--values", metavar="V1,V2,...", help=f"its values (at most {sweeps.MAX_VALUES})")
    p_sweep.add_argument("--seeds", default="3", metavar="K",
                         help=f"seeds 0..K-1 per value (default 3, at most {sweeps.MAX_SEEDS})")
    p_sweep.add_argument("--curricula", default="dr", metavar="C1,C2",
                         help="one curve per curriculum: dr, plr or dr,plr (default dr; gmg/curriculum.py)")
    p_sweep.add_argument("--workers", metavar="W", help="local processes (default: one per core, at most 2)")
    _add_scheduler_option(p_sweep)

    p_bundle = sub.add_parser("bundle", allow_abbrev=False,
                              help="train every world's preset (failure and cure, seed 0) and save the runs the "
                                   "app ships with, so its preset pages open without training")
    p_bundle.add_argument("--out", metavar="FOLDER",
                          help=f"where to write the bundle, replacing it (default: the app's, {bundles.BUNDLE_FOLDER})")
    p_bundle.add_argument("--workers", default="2", metavar="W", help="runs trained at once (default 2)")
    p_bundle.add_argument("--set", action="append", metavar="NAME=VALUE",
                          help="override a parameter for every run, e.g. a shorter training for a test "
                               "(the app uses a bundled run only when its settings are the page's)")
    p_bundle.set_defaults(train_steps=None, eval_episodes=None)
    return parser


def main(argv: Sequence[str] | None = None, out=None, err=None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        caps.current()  # a bad GMG_CAPS is one line here, whatever the command
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            raise UsageError("choose a command: list, experiment, diagnose, seeds, sweep or bundle "
                             "(see `python -m gmg --help`)")
        if args.command == "list":
            if args.json:
                _dump(catalogue(), out)
            else:
                _print_list(catalogue(), out)
            return 0
        commands = {"experiment": _experiment, "diagnose": _diagnose, "seeds": _seeds, "sweep": _sweep,
                    "bundle": _bundle}
        return commands[args.command](args, out, err)
    except (UsageError, ParamError) as e:
        line = " ".join(str(e).split())
        err.write(f"gmg: error: {clip(line, MAX_LINE)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("gmg: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as e:  # a bug, not bad input: one line, or the traceback with GMG_DEBUG=1
        if compiled.interrupted(e):  # Ctrl-C while a compiled kernel ran
            err.write("gmg: interrupted\n")
            return EXIT_INTERRUPTED
        if os.environ.get("GMG_DEBUG"):
            raise
        line = " ".join(f"{type(e).__name__}: {e}".split())
        err.write(f"gmg: internal error: {clip(line, MAX_LINE)} (set GMG_DEBUG=1 for the traceback)\n")
        return EXIT_INTERNAL
