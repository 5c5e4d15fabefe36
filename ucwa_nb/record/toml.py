"""A scenario dict written as TOML, for the subset a scenario uses.

The standard library reads TOML (``tomllib``) but does not write it, and a scenario needs
little: strings, numbers, booleans, date-times, lists of those, tables and arrays of tables.
Written by hand rather than adding a dependency for it; ``tomllib`` reading the output back
is the test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["dumps"]


def _key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no {value}")
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        # JSON's escapes are TOML basic-string escapes, except \/ which json never writes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(data: Mapping[str, Any], prefix: str, lines: list[str]) -> None:
    for name, value in data.items():
        if not isinstance(value, Mapping) and not _is_tables(value):
            lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in data.items():
        path = f"{prefix}.{_key(name)}" if prefix else _key(name)
        if isinstance(value, Mapping):
            lines.extend(["", f"[{path}]"])
            _table(value, path, lines)
        elif _is_tables(value):
            for item in value:
                lines.extend(["", f"[[{path}]]"])
                _table(item, path, lines)


def dumps(data: Mapping[str, Any], header: str = "") -> str:
    """``data`` as TOML text, after ``header`` written as comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(data, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n"
