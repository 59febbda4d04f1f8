"""Resource caps for a shared server: the operator lowers built-in maxima with GMG_CAPS.

    GMG_CAPS="train_steps=1000000,size=12,eval_episodes=500,sweep_runs=60,seeds=100"

A cap names either a numeric parameter (any of `python -m gmg list`; a name shared by several
configs, like `size`, caps all of them) or a count that is not a parameter (`COUNTS`). It lowers
the maximum wherever that maximum is checked: `params.parse_value` (CLI `--set`, links, saved
runs), `params.describe` (the widgets' max_value, `list`), and the sweep and seed-study counts.

Rules: a cap may only lower a maximum: it must lie between the default (the largest default of the
configs sharing the name, so every default stays valid) and the built-in maximum (the largest
one); a config whose own maximum is below the cap keeps its own. A bad GMG_CAPS raises `CapsError`
(a `ParamError`): one line for the CLI, one message in the app.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os

from .params import ParamError, use_caps

ENV_VAR = "GMG_CAPS"

# counts that are not parameters: name -> (lowest cap: the default request, built-in maximum, what is counted)
COUNTS = {
    "seeds": (20, 500, "agents in one seed study (default 20; the Seed variance page offers at most 100)"),
    "sweep_values": (4, 12, "values in one sweep (the Sweep page's default grids have up to 4)"),
    "sweep_runs": (12, 120, "trainings in one sweep, values x seeds (the Sweep page's default: 4 x 3)"),
    "jobs": (1, 64, "runs training at once on the whole server, one process each; the rest wait in a queue "
                    "(default: one per core)"),
    # saved runs (gmg.storage): a run takes about 20-200 KB, mostly its training curve
    "saved_runs": (1, 100, "saved runs per visitor (or in the operator's shared folder)"),
    "saved_mb": (1, 100, "megabytes of saved runs per visitor (or in the shared folder)"),
    "saved_runs_total": (1, 5000, "saved runs of all visitors together"),
    "saved_mb_total": (1, 2000, "megabytes of saved runs of all visitors together"),
}


class CapsError(ParamError):
    """GMG_CAPS cannot be used; the message names the variable and the fix."""


def _config_classes() -> list[tuple[str, type]]:
    """(owner, Config) for every config whose parameters a cap can name (imported when first needed)."""
    from .agents import AGENTS
    from .envs import ENVS
    from .studies import STUDIES
    from .train import RunLimits

    return ([("run limits", RunLimits)] + [(name, cls.Config) for name, cls in ENVS.items()]
            + [(name, cls.Config) for name, cls in AGENTS.items()]
            + [(name, module.Config) for name, module in STUDIES.items()])


def cappable() -> dict[str, list[tuple[str, type, object, object]]]:
    """Numeric parameters with a built-in maximum: name -> [(owner, type, default, maximum)]."""
    out: dict[str, list] = {}
    for owner, cls in _config_classes():
        for f in dataclasses.fields(cls):
            kind, high = type(f.default), f.metadata.get("high")
            if kind in (int, float) and high is not None and not f.metadata.get("choices"):
                out.setdefault(f.name, []).append((owner, kind, f.default, high))
    return out


def _fail(message: str):
    raise CapsError(f"{ENV_VAR}: {message} (format NAME=VALUE,NAME=VALUE; see docs/deployment.md, "
                    "\"Caps for a shared server\")")


@functools.lru_cache(maxsize=8)
def parse(text: str) -> dict[str, float | int]:
    """{name: cap} from a GMG_CAPS value; raises CapsError with one clear line."""
    caps: dict[str, float | int] = {}
    if not text.strip():
        return caps
    known = cappable()
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, raw = (part.strip() for part in item.partition("="))
        shown = item.strip()[:60]
        if not sep or not name or not raw:
            _fail(f"expected NAME=VALUE, got {shown!r}")
        if name in caps:
            _fail(f"{name[:40]} is capped twice")
        if name not in known and name not in COUNTS:
            _fail(f"unknown name {name[:40]!r}: a cap names a numeric parameter (see `python -m gmg list`) "
                  f"or one of {', '.join(COUNTS)}")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            _fail(f"{name} must be a number, got {raw[:40]!r}")
        owners = [("count", int, *COUNTS[name][:2])] if name in COUNTS else known[name]
        if any(kind is int for _, kind, _, _ in owners):
            if not value.is_integer():
                _fail(f"{name} must be a whole number, got {raw[:40]!r}")
            value = int(value)
        default_owner, _, default, _ = max(owners, key=lambda o: o[2])
        ceiling = max(high for _, _, _, high in owners)
        if value > ceiling:
            _fail(f"{name}={value} is above its built-in maximum {ceiling}: a cap can only lower a maximum")
        if value < default:
            where = "" if name in COUNTS else f" ({default_owner})"
            _fail(f"{name}={value} is below its default {default}{where}: the defaults must stay valid")
        caps[name] = value
    return caps


def current() -> dict[str, float | int]:
    """The caps in force (read from the environment on every call, so a test can set it)."""
    return parse(os.environ.get(ENV_VAR, ""))


def high(name: str, builtin):
    """The effective maximum of parameter `name` whose built-in maximum is `builtin` (None: none)."""
    cap = current().get(name)
    if cap is None or builtin is None:
        return builtin
    return min(builtin, cap)


use_caps(high)  # every range check (gmg.params) now applies the caps in force


def count(name: str) -> int:
    """The effective maximum of a count in COUNTS."""
    return current().get(name, COUNTS[name][1])


def job_limit() -> int:
    """Runs training at once on the server: the `jobs` cap, else one per core (more would only take
    turns on the cores and make every visitor wait longer for a first frame)."""
    return current().get("jobs", min(os.cpu_count() or 1, COUNTS["jobs"][1]))

