"""Reading a HAR file that anyone may have written: ``HarError`` and checked member access.

A HAR comes from ucwa-nb, a browser's DevTools, Fiddler, or someone who wants the reader to
fail: ``{"log": [...]}``, a top-level list, ``_ucwa`` as a list, ``request`` as a string,
JSON nested 100,000 deep. ``ucwa_nb.log.har`` reads every member through ``Members`` here,
so such a file is refused with a ``HarError`` (a ``ValueError``) that says what is wrong and
where (which entry or event, which member), never an ``AttributeError``, ``TypeError`` or
``RecursionError`` from deep inside. Readers above the log (the doctor's ``ExplainError``,
``record``'s ``RecordingError``) build their own messages on its parts.

Members a HAR lets be absent may be absent or null; a member present with the wrong JSON
type is an error. Values that cannot be what they stand for (a duration of 1e999 ms, a status
of NaN: Python's JSON reader accepts both) are read as not given, as before.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any, Final, Literal

__all__ = ["HarError", "HarProblem", "Members", "entries_of", "finite_number", "json_type",
           "read_json"]

HarProblem = Literal["text", "json", "document", "entry", "event"]

# The rows' times are pandas datetime64[ns]: what lies outside cannot be a row's time.
# (pandas' range is 1677-09-21 to 2262-04-11; whole years inside it.)
_EARLIEST: Final = datetime(1678, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(2262, 1, 1, tzinfo=UTC)
_INT64: Final = (-(2**63), 2**63 - 1)


class HarError(ValueError):
    """A HAR file that cannot be read; ``str()`` is ``"<path>: <where>: <problem>"``.

    ``kind`` says which part failed: "text" (not UTF-8), "json" (not JSON, truncated,
    nested too deeply), "document" (no ``log`` object with an ``entries`` list), "entry" or
    "event" (one of them, named by ``where``: "entry 3", "_ucwaEvents[2]"); ``member`` is
    the member that is wrong ("request", "_ucwa.seq", "request.headers[0]") or None.
    """

    def __init__(self, problem: str, *, kind: HarProblem, where: str = "",
                 member: str | None = None, path: str = "") -> None:
        super().__init__(problem)
        self.problem, self.kind, self.where, self.member, self.path = (
            problem, kind, where, member, path)

    @property
    def detail(self) -> str:
        """The message without the file's path: ``"<where>: <problem>"``."""
        return f"{self.where}: {self.problem}" if self.where else self.problem

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}" if self.path else self.detail


def json_type(value: Any) -> str:
    """What a JSON value is, in words, for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def read_json(path: str | PathLike[str]) -> Any:
    """A file's JSON; ``HarError`` when it is not UTF-8 or not JSON (``OSError`` when it
    cannot be read at all: no such file, a directory)."""
    try:
        # utf-8-sig: Fiddler and some Windows tools start the file with a byte-order mark.
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise HarError("not a HAR file (not UTF-8 text)", kind="text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # A string still open at the end is a cut too ("Unterminated string starting at").
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        where = "it ends early: truncated?" if cut else \
            f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        # The JSON reader's error stays as the cause: a reader above may quote it.
        raise HarError(f"not a HAR file (not valid JSON; {where})", kind="json") from exc
    except RecursionError:
        raise HarError("not a HAR file (JSON nested too deeply)", kind="json") from None


def entries_of(document: Any) -> tuple[list[Any], list[Any] | None]:
    """A HAR document's ``log.entries`` and ``log._ucwaEvents`` (None: a foreign file)."""
    har = document.get("log") if isinstance(document, dict) else None
    if not isinstance(har, dict):
        if not isinstance(document, dict):
            what = ": the document is " + json_type(document)
        else:
            what = ': "log" is ' + json_type(har) if "log" in document else ""
        raise HarError(f'not a HAR file (no top-level "log" object{what})', kind="document",
                       member="log")
    entries = har.get("entries")
    if not isinstance(entries, list):
        what = "" if entries is None else ': "entries" is ' + json_type(entries)
        raise HarError(f'not a HAR file ("log" has no "entries" list{what})', kind="document",
                       member="log.entries")
    events = har.get("_ucwaEvents")
    if events is not None and not isinstance(events, list):
        raise HarError(f'"log._ucwaEvents" is {json_type(events)}, not a list',
                       kind="document", member="log._ucwaEvents")
    return entries, events


class Members:
    """Reads the members of one entry or event, each checked; a ``HarError`` names it."""

    def __init__(self, kind: Literal["entry", "event"], index: int) -> None:
        self.kind: Literal["entry", "event"] = kind
        self.where = f"entry {index}" if kind == "entry" else f"_ucwaEvents[{index}]"

    def error(self, problem: str, member: str | None) -> HarError:
        """The error about ``member`` of this entry or event."""
        return HarError(problem, kind=self.kind, where=self.where, member=member)

    def _wrong(self, name: str, value: Any, expected: str) -> HarError:
        return self.error(f'"{name}" is {json_type(value)}, not {expected}', name)

    def item(self, value: Any, required: str) -> dict[str, Any]:
        """The entry or event itself: an object holding ``required``."""
        if not isinstance(value, dict):
            raise self.error(f'no "{required}" object (the {self.kind} is '
                             f"{json_type(value)})" if self.kind == "entry" else
                             f"the event is {json_type(value)}, not an object", None)
        return value

    def obj(self, holder: dict[str, Any], key: str, name: str | None = None
            ) -> dict[str, Any] | None:
        """``holder[key]``, an object, or None when absent or null."""
        value = holder.get(key)
        if value is None or isinstance(value, dict):
            return value
        raise self._wrong(name or key, value, "an object")

    def objects(self, holder: dict[str, Any], key: str, name: str) -> list[dict[str, Any]]:
        """``holder[key]``, a list of objects ([] when absent or null)."""
        value = holder.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(name, value, "a list")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self._wrong(f"{name}[{index}]", item, "an object")
        return value

    def string(self, holder: dict[str, Any], key: str, name: str) -> str | None:
        """``holder[key]``, a string, or None when absent or null."""
        value = holder.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._wrong(name, value, "a string")

    def time(self, holder: dict[str, Any], key: str, name: str) -> datetime | None:
        """``holder[key]``, an ISO 8601 date-time a row can hold, or None when absent."""
        value = holder.get(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise self.error(f'"{name}" is not a date-time ({str(value)[:40]!r})', name)
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if not _EARLIEST <= aware < _LATEST:
            raise self.error(f'"{name}" is outside the years {_EARLIEST.year} to '
                             f"{_LATEST.year - 1}", name)
        return parsed

    def integer(self, holder: dict[str, Any], key: str, name: str) -> int | None:
        """``holder[key]``, an integer a row can hold (1.0 counts), or None when absent."""
        value = holder.get(key)
        if value is None:
            return None
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) \
                or not _INT64[0] <= value <= _INT64[1]:
            raise self.error(f'"{name}" is not an integer ({str(value)[:40]})', name)
        return value


def finite_number(value: Any, *, lowest: float = 0.0, highest: float = 1e12) -> float | None:
    """A JSON number from ``lowest`` to ``highest`` as a float, else None (not given)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and lowest <= number <= highest else None
