"""Typed, documented, range-checked parameters for environment and agent configs.

Every config is a frozen dataclass whose fields are declared with `param(...)`. The CLI, the URL
query parameters and the widgets all go through `parse_value` / `with_overrides`, so a bad value
gets the same clear message everywhere. A field's maximum is its built-in `high`, lowered by the
server's caps (GMG_CAPS, gmg.caps): `describe` and `parse_value` both report the capped maximum.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable


QUOTED = 40  # characters of a user's value a message quotes: enough to recognise it, never a flood


class ParamError(ValueError):
    """A parameter name or value that cannot be used; the message is meant for the user."""


def clip(text, limit: int = QUOTED) -> str:
    """`text` (any value, as a string) cut to `limit` characters, for quoting user input in a message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def plain(text: str) -> bool:
    """Whether `text` has nothing that Python's int() and float() read as part of a number and a reader
    of a link, a command or a run.json does not: other scripts' digits ('١٢' is 12), '_' separators."""
    return text.isascii() and "_" not in text


def ascii_number(text: str, kind=float):
    """`kind(text)` for a number written in plain ASCII (see `plain`); raises ValueError."""
    if not plain(text):
        raise ValueError("not an ASCII number")
    return kind(text)


def param(default, help: str, low=None, high=None, choices=None):
    """A dataclass field carrying its help text and allowed range (inclusive) or choices."""
    return dataclasses.field(
        default=default, metadata={"help": help, "low": low, "high": high, "choices": choices}
    )


def param_like(config_cls, name: str):
    """The field `name` of another config, for a config that gathers several (same default, help, range)."""
    f = fields(config_cls)[name]
    meta = f.metadata
    return param(f.default, meta["help"], meta["low"], meta["high"], meta["choices"])


def fields(config_cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(config_cls)}


def _builtin_high(name: str, builtin: Any) -> Any:
    return builtin


# (name, built-in maximum) -> the maximum in force. gmg.caps installs its GMG_CAPS lookup here when
# imported (gmg/__init__.py imports it first): this lowest layer imports nothing of the registries.
_high_in_force: Callable[[str, Any], Any] = _builtin_high


def use_caps(high_in_force: Callable[[str, Any], Any]) -> None:
    """Install the lookup of the maximum in force (gmg.caps.high)."""
    global _high_in_force
    _high_in_force = high_in_force


def _high(name: str, meta) -> Any:
    """The field's maximum in force: its built-in `high`, lowered by GMG_CAPS (raises CapsError if that is bad)."""
    return _high_in_force(name, meta.get("high"))


def describe(config_cls) -> list[dict[str, Any]]:
    """One row per parameter: name, type, default, range and help (for `list` and the UI).

    "high" is the maximum in force (GMG_CAPS may lower it; gmg.caps).
    """
    rows = []
    for f in dataclasses.fields(config_cls):
        meta = f.metadata
        rows.append(
            {
                "name": f.name,
                "type": type(f.default).__name__,
                "default": f.default,
                "low": meta.get("low"),
                "high": _high(f.name, meta),
                "choices": meta.get("choices"),
                "help": meta.get("help", ""),
            }
        )
    return rows


def parse_value(config_cls, name: str, raw: Any):
    """Convert `raw` (a string from the CLI/URL, or a value from a widget) and check its range."""
    known = fields(config_cls)
    if name not in known:
        raise ParamError(f"unknown parameter {clip(name)!r}; known: {', '.join(known)}")
    f = known[name]
    kind = type(f.default)
    meta = f.metadata
    text = str(raw).strip()
    if len(text) > 64:
        raise ParamError(f"value for {name} is too long ({len(text)} characters)")
    try:
        if kind is bool:
            if isinstance(raw, bool):
                value = raw
            elif text.lower() in ("1", "true", "yes", "on"):
                value = True
            elif text.lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError
        elif kind is int:
            as_float = ascii_number(text)
            if not as_float.is_integer():
                raise ValueError
            value = int(as_float)
        elif kind is float:
            value = ascii_number(text)
        else:
            value = text
    except (ValueError, OverflowError):
        raise ParamError(f"{name} must be of type {kind.__name__}, got {clip(text)!r}") from None
    if kind is float and not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, got {clip(text)!r}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ParamError(f"{name} must be one of {list(meta['choices'])}, got {clip(value)!r}")
    low, high = meta.get("low"), _high(name, meta)
    if (low is not None and value < low) or (high is not None and value > high):
        capped = " (capped on this server)" if high != meta.get("high") else ""
        raise ParamError(f"{name} must be between {low} and {high}{capped}, got {clip(text)}")
    return value


def with_overrides(config, overrides: dict[str, Any]):
    """A copy of `config` with validated overrides; then the config's own `check()` if it has one."""
    values = {name: parse_value(type(config), name, raw) for name, raw in overrides.items()}
    new = dataclasses.replace(config, **values)
    check = getattr(new, "check", None)
    if check is not None:
        check()
    return new
