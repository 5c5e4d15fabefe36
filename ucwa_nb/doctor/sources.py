"""Where a record comes from: an ExchangeLog, its DataFrame, a HAR file, a call's events.

The DataFrame is read by column name only (``ucwa_nb.log.columns`` documents them), so a
change of the log's internals does not reach the doctor. A HAR file is read by the log
(``ucwa_nb.log.exchange_log.load_har``), which checks every member: not JSON, truncated,
not a HAR, a HAR with entries of the wrong shape each give the log's ``HarError``, turned
into an ``ExplainError`` that says which, never a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ucwa_nb.doctor.core.record import Exchange, Headers, Record
from ucwa_nb.log.exchange_log import ExchangeLog, load_har
from ucwa_nb.log.har_input import HarError
from ucwa_nb.protocol.representation import Event

__all__ = ["CallLike", "ExplainError", "from_call", "from_frame", "from_har", "from_log"]

_MAX_HAR_BYTES = 512 * 1024 * 1024  # a HAR past this is no UCWA session worth reading


class ExplainError(ValueError):
    """Input the doctor cannot read; the message says what is wrong with it."""


class CallLike(Protocol):
    """What the doctor reads of a ``PhoneAudioCall`` (the client is not imported here)."""

    operation_id: str
    kind: str
    location: str | None

    @property
    def events(self) -> list[Any]: ...


def _value(value: Any) -> Any:
    """A cell as plain Python: NA/NaN/NaT become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text(value: Any) -> str | None:
    value = _value(value)
    return None if value is None else str(value)


def _headers(value: Any) -> Headers:
    if not isinstance(value, tuple | list):
        return ()
    return tuple((str(pair[0]), str(pair[1])) for pair in value
                 if isinstance(pair, tuple | list) and len(pair) == 2)


def _time(value: Any) -> datetime | None:
    value = _value(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value if isinstance(value, datetime) else None


def from_frame(df: pd.DataFrame) -> Record:
    """A record of a DataFrame in the shape of ``ExchangeLog.df`` (or ``read_har``)."""
    missing = {"seq", "kind"} - set(df.columns)
    if missing:
        raise ExplainError("not an exchange log's DataFrame: no column "
                           + ", ".join(sorted(missing)) + " (use session.log.df or "
                           "ucwa_nb.read_har)")
    exchanges = []
    for row in df.to_dict("records"):
        kind = row.get("kind")
        if kind not in ("http", "event"):
            continue
        status = _value(row.get("status"))
        elapsed = _value(row.get("elapsed_ms"))
        exchanges.append(Exchange(
            seq=int(row["seq"]), kind=kind, time=_time(row.get("time")),
            elapsed_ms=None if elapsed is None else float(elapsed),
            method=_text(row.get("method")), url=_text(row.get("url")),
            rel=_text(row.get("rel")), status=None if status is None else int(status),
            code=_text(row.get("code")), subcode=_text(row.get("subcode")),
            operation_id=_text(row.get("operation_id")), format=_text(row.get("format")),
            request_body=_text(row.get("request_body")),
            response_body=_text(row.get("response_body")),
            location=_text(row.get("location")), event_type=_text(row.get("event_type")),
            event_status=_text(row.get("event_status")), error=_text(row.get("error")),
            request_headers=_headers(row.get("request_headers")),
            response_headers=_headers(row.get("response_headers"))))
    return Record.of(exchanges)


def from_log(log: ExchangeLog) -> Record:
    """A record of an exchange log (through its DataFrame, by column name)."""
    return from_frame(log.df)


def from_har(path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> Record:
    """A record of a HAR file: ucwa-nb's own, or a browser's or Fiddler's export."""
    return from_log(load_har_checked(path, secrets=secrets))


def load_har_checked(path: str | PathLike[str], *, secrets: Iterable[str] = ()
                     ) -> ExchangeLog:
    """``load_har`` of a file of a reasonable size; ExplainError otherwise, with the log's
    ``HarError`` message (what is wrong, in which entry and member) for a file that is not
    a readable HAR."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > _MAX_HAR_BYTES:
            raise ExplainError(f"{file}: {size} bytes is too large for a HAR of a session")
        return load_har(file, secrets=secrets)
    except HarError as exc:
        raise ExplainError(f"{file}: {exc.detail}") from exc
    except FileNotFoundError:
        raise ExplainError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise ExplainError(f"{file}: a directory, not a HAR file") from None
    except OSError as exc:
        raise ExplainError(f"{file}: cannot be read ({exc.strerror or exc})") from None


def from_call(call: CallLike) -> Record:
    """A record of one call's own events (what a ``PhoneAudioCall`` received)."""
    exchanges = []
    for seq, item in enumerate(call.events):
        event: Event = item.event
        reason = event.reason
        exchanges.append(Exchange(
            seq=seq, kind="event", time=item.time, rel=event.link.rel,
            location=event.link.href, event_type=event.type,
            event_status=event.status or (("Failure" if reason else "Success")
                                          if event.type == "completed" else None),
            code=reason.code if reason else None, subcode=reason.subcode if reason else None,
            operation_id=call.operation_id))
    return Record.of(exchanges)
