"""The bounds of what a scenario may say: every number finite and bounded, every string and
list bounded, each error naming the key (``ScenarioError``).

A scenario file may come from anyone (a recording turned into a scenario, a trainer's edit,
a file passed around a class), and Python's TOML and dict inputs accept values no world
needs: ``after = nan`` (NaN compares false with everything, so a ring with no end), ``inf``,
a 1 MB subject sent in every conversation resource, a million modalities. ``check_values``
walks the whole input once before the loader reads it; the loader then applies the bounds
of particular keys (``seconds``, ``count``). The reference pages fix none of these limits:
they are [infer] choices, far above any real use, listed in the README's scenario format.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from ucwa_nb.sim.scenario import ScenarioError

__all__ = ["MAX_BODY", "MAX_DEPTH", "MAX_ITEMS", "MAX_KEY", "MAX_RING_SECONDS",
           "MAX_SETTING_INT", "MAX_SETTING_SECONDS", "MAX_TEXT", "check_values", "count",
           "seconds"]

MAX_TEXT: Final = 1024  # characters of any string: a subject, a name, a URI, a password
MAX_BODY: Final = 1024 * 1024  # characters of a recorded body ([[strict.resources]] body)
MAX_KEY: Final = 64  # characters of a key (an unknown one is named in the error)
MAX_ITEMS: Final = 10_000  # items of any list
MAX_DEPTH: Final = 16  # tables and lists inside each other
MAX_RING_SECONDS: Final = 3600.0  # a phone's or contact's `after`; poll_faults.hold_for
MAX_SETTING_SECONDS: Final = 365 * 86400.0  # any [server] number that is a float
MAX_SETTING_INT: Final = 2**31 - 1  # any [server] number that is an integer
_INT64: Final = 2**63 - 1
# Keys whose strings are recorded bodies, not names.
_BODIES: Final = re.compile(r"strict\.resources\[\d+\]\.body")


def check_values(data: Any, where: str = "") -> None:
    """Refuse a value of ``data`` (at any depth) that no scenario needs, naming its key."""
    _check(data, where, 0)


def _check(value: Any, where: str, depth: int) -> None:
    name = where or "the scenario"
    if depth > MAX_DEPTH:
        raise ScenarioError(f"{name}: nested more than {MAX_DEPTH} tables or lists deep")
    if isinstance(value, str):
        limit = MAX_BODY if _BODIES.fullmatch(where) else MAX_TEXT
        if len(value) > limit:
            raise ScenarioError(f"{name} is {len(value)} characters long; the limit is "
                                f"{limit}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ScenarioError(f"{name} must be a finite number (not {value})")
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > _INT64:
            raise ScenarioError(f"{name} is too large a number")
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ScenarioError(f"{name} has {len(value)} items; the limit is {MAX_ITEMS}")
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > MAX_KEY:
                raise ScenarioError(f"{name}: a key of {len(str(key))} characters or not a "
                                    f"string; keys are names of up to {MAX_KEY}")
            _check(item, f"{where}.{key}" if where else key, depth + 1)


def seconds(value: Any, where: str, highest: float) -> float:
    """``value`` as a number of seconds from 0 to ``highest``; ScenarioError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not (math.isfinite(value) and 0 <= value <= highest):
        raise ScenarioError(f"{where} must be a number of seconds from 0 to {highest:g}")
    return float(value)


def count(value: Any, where: str, highest: int, note: str = "") -> int:
    """``value`` as an integer from 0 to ``highest``; ScenarioError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise ScenarioError(f"{where} must be an integer from 0 to {highest}{note}")
    return value
