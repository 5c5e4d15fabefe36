"""Reading a scenario's TOML shape: each helper reads one key or value and raises a
``ScenarioError`` that names it (``users[0].conversations[1].subject``), so the loaders
(``scenario_loader.py``, ``classroom_loader.py``) say exactly what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ucwa_nb.protocol.phone import NormalizationError, normalize_phone_number, parse_sip_uri
from ucwa_nb.sim.scenario import ScenarioError

__all__ = ["date_time", "only", "phone_number", "required", "required_list", "sip_uri",
           "string", "strings", "table_list", "text"]


def only(raw: Any, where: str, allowed: set[str], hint: str = "") -> None:
    """``raw`` is a table with no key outside ``allowed``."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a table")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(allowed))}"
                            + (f" ({hint})" if hint else ""))


def text(value: Any, where: str) -> str:
    """``value``, which must be a string."""
    if not isinstance(value, str):
        raise ScenarioError(f"{where} must be a string")
    return value


def string(raw: dict[str, Any], key: str, where: str, default: str) -> str:
    """``raw[key]``, a string (its length is bounded by ``check_values``), or ``default``."""
    return text(raw[key], f"{where}.{key}") if key in raw else default


def strings(raw: dict[str, Any], key: str, where: str, default: tuple[str, ...]
             ) -> tuple[str, ...]:
    """``raw[key]``, a list of strings, or ``default``."""
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ScenarioError(f"{where}.{key} must be a list of strings")
    return tuple(value)


def required(raw: dict[str, Any], key: str, where: str) -> Any:
    """``raw[key]``, which must be there."""
    if key not in raw:
        raise ScenarioError(f"{where}.{key} is required")
    return raw[key]


def table_list(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``raw[key]``, an array of tables (``[[key]]``), or none."""
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be an array of tables ([[{key}]])")
    return value


def required_list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    """``raw[key]``, a non-empty list."""
    value = required(raw, key, where)
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{where}.{key} must be a non-empty list")
    return value


def date_time(value: Any, where: str, default: datetime) -> datetime:
    """A TOML date-time (UTC when it names no zone), or ``default``."""
    if value is None:
        return default
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raise ScenarioError(f"{where}.created must be a TOML date-time such as 2026-01-05T09:00:00Z")


def phone_number(value: Any, region: str, where: str) -> str:
    """``value`` as E.164 with the dial plan of ``region``."""
    try:
        return normalize_phone_number(str(value), region)
    except NormalizationError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def sip_uri(value: Any, where: str) -> str:
    """``value`` as a SIP URI, ``sip:user@host``."""
    try:
        return str(parse_sip_uri(str(value)))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
