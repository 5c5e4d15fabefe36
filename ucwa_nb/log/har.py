"""HAR 1.2 documents from log rows, and log rows from any HAR document.

This module converts and knows no ``ExchangeLog``: the log sits above it (``to_har``,
``load_har``, ``read_har``) and hands it rows to write or its ``record_http`` and
``record_row`` to replay into.

Export (``document``, ``write_har``): one entry per http row; headers, query string, bodies
(already redacted when recorded), ``redirectURL`` from Location, the whole duration in
``timings.wait``. Columns HAR has no place for travel in custom fields, as the spec allows
(leading underscore): ``entry._ucwa`` and ``log._ucwaEvents`` (the event rows, which are also
inside the polls' response bodies), whose members are the columns' ``har_entry`` and
``har_event`` names in ``ucwa_nb.log.columns``. A transport failure is written as Chrome
does: status 0 and ``response._error``.

Import (``replay``): the entries go through the log's ``record_http``, so the result has
exactly the log's shape, derivations and redaction. Our own files are restored from the
custom members (each read back by its column's dtype); a browser DevTools or Fiddler export
gets rel = None and event rows parsed from the event-channel responses it contains.

Hand-written rather than harfile: the mapping is a few dozen lines and the import side, which
harfile does not have, needs the same structures anyway.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any, Final, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pandas as pd

from ucwa_nb._version import __version__
from ucwa_nb.log.columns import SPEC, Column, LogRow
from ucwa_nb.log.derive import (
    absolute_location,
    event_fields,
    exchange_format,
    header_value,
    status_text,
)
from ucwa_nb.log.redaction import Headers
from ucwa_nb.protocol.representation import Events, ParseError, parse

__all__ = ["Record", "document", "read_document", "replay", "write_har"]


class NameValue(TypedDict):
    name: str
    value: str


class PostData(TypedDict):
    mimeType: str
    text: str


class Content(TypedDict):
    size: int
    mimeType: str
    text: NotRequired[str]


class Request(TypedDict):
    method: str
    url: str
    httpVersion: str
    cookies: list[NameValue]
    headers: list[NameValue]
    queryString: list[NameValue]
    headersSize: int
    bodySize: int
    postData: NotRequired[PostData]


class Response(TypedDict):
    status: int
    statusText: str
    httpVersion: str
    cookies: list[NameValue]
    headers: list[NameValue]
    content: Content
    redirectURL: str
    headersSize: int
    bodySize: int
    _error: NotRequired[str]


class Timings(TypedDict):
    send: float
    wait: float
    receive: float


class Entry(TypedDict):
    startedDateTime: str
    time: float
    request: Request
    response: Response
    cache: dict[str, Any]
    timings: Timings
    _ucwa: dict[str, Any]  # the columns that name a ``har_entry`` member (ucwa_nb.log.columns)


# The columns each custom object carries, as (member, column) in the columns' order.
_ENTRY_MEMBERS: Final = tuple((c.har_entry, c) for c in SPEC if c.har_entry)
_EVENT_MEMBERS: Final = tuple((c.har_event, c) for c in SPEC if c.har_event)
_TIME: Final = pd.DatetimeTZDtype("ns", "UTC")


# --------------------------------------------------------------------------- export


def _pairs(headers: Headers) -> list[NameValue]:
    return [{"name": name, "value": value} for name, value in headers]


def _size(text: str | None) -> int:
    return len(text.encode()) if text else 0


def _entry(row: LogRow) -> Entry:
    elapsed = row.elapsed_ms if row.elapsed_ms is not None and math.isfinite(row.elapsed_ms) else 0
    elapsed = max(elapsed, 0.0)
    url = row.url or ""
    version = row.http_version or "HTTP/1.1"
    request: Request = {
        "method": row.method or "GET",
        "url": url,
        "httpVersion": version,
        "cookies": [],  # Cookie headers are redacted whole; there is nothing to list
        "headers": _pairs(row.request_headers),
        "queryString": [
            {"name": k, "value": v}
            for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": _size(row.request_body),
    }
    if row.request_body is not None:
        mime = header_value(row.request_headers, "content-type") or ""
        request["postData"] = {"mimeType": mime, "text": row.request_body}
    content: Content = {
        "size": _size(row.response_body),
        "mimeType": header_value(row.response_headers, "content-type") or "x-unknown",
    }
    if row.response_body is not None:
        content["text"] = row.response_body
    response: Response = {
        "status": row.status or 0,
        "statusText": status_text(row.status),
        "httpVersion": version,
        "cookies": [],
        "headers": _pairs(row.response_headers),
        "content": content,
        "redirectURL": row.location or "",
        "headersSize": -1,
        "bodySize": _size(row.response_body),
    }
    if row.error is not None:
        response["_error"] = row.error
    return {
        "startedDateTime": row.time.isoformat(),
        "time": elapsed,
        "request": request,
        "response": response,
        "cache": {},
        # Only the total is measured: HAR says to put it in wait (time == sum of timings).
        "timings": {"send": 0, "wait": elapsed, "receive": 0},
        "_ucwa": _members(row, _ENTRY_MEMBERS),
    }


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _members(row: LogRow, members: tuple[tuple[str, Column], ...]) -> dict[str, Any]:
    return {member: _json(getattr(row, column.name)) for member, column in members}


def document(rows: Iterable[LogRow]) -> dict[str, Any]:
    """The rows as a HAR 1.2 document: http rows as entries, events as ``log._ucwaEvents``."""
    rows = list(rows)
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "ucwa-nb", "version": __version__},
            "entries": [_entry(row) for row in rows if row.kind == "http"],
            "_ucwaEvents": [_members(row, _EVENT_MEMBERS) for row in rows
                            if row.kind == "event"],
        }
    }


def write_har(rows: Iterable[LogRow], path: str | PathLike[str]) -> None:
    """Write the rows as a HAR 1.2 file (UTF-8), see ``document``."""
    text = json.dumps(document(rows), ensure_ascii=False, indent=1)
    Path(path).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- import


def _headers(items: Any) -> Headers:
    if not isinstance(items, list):
        return ()
    return tuple(
        (str(h.get("name", "")), str(h.get("value", ""))) for h in items if isinstance(h, dict)
    )


def _request_body(request: dict[str, Any]) -> str | None:
    post = request.get("postData")
    if not isinstance(post, dict):
        return None
    if isinstance(post.get("text"), str):
        return str(post["text"])
    params = post.get("params")
    if isinstance(params, list):  # a form sent as params only
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in params])
    return None


def _response_body(content: Any) -> str | bytes | None:
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return None
    text: str = content["text"]
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except ValueError:
            return text
    return text


def _elapsed(entry: dict[str, Any]) -> float:
    total = entry.get("time")
    if isinstance(total, int | float) and total >= 0:
        return float(total)
    timings = entry.get("timings")
    if isinstance(timings, dict):
        parts = [v for v in timings.values() if isinstance(v, int | float) and v > 0]
        return float(sum(parts))
    return 0.0


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _column_value(column: Column, value: Any) -> Any:
    """A custom member's value as its column holds it; None when it is not one (a foreign
    or damaged file), so that the log derives or defaults it instead."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return value if isinstance(value, str) and value in dtype.categories else None
    if dtype == _TIME:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    if isinstance(dtype, pd.StringDtype):
        return _optional_str(value)
    if isinstance(value, bool):
        return None
    if dtype == np.dtype(np.float64) or isinstance(dtype, pd.Int64Dtype | np.dtype):
        return value if isinstance(value, int | float) else None
    return value


def _recorded(holder: Any, members: tuple[tuple[str, Column], ...]) -> dict[str, Any]:
    """The columns a custom object recorded, by column name; seq is left out (the log
    numbers its rows: the file's seq only puts them back in order)."""
    if not isinstance(holder, dict):
        return {}
    values = {c.name: _column_value(c, holder.get(member)) for member, c in members}
    return {name: value for name, value in values.items()
            if value is not None and name != "seq"}


def _mime_type(holder: Any) -> str | None:
    return _optional_str(holder.get("mimeType")) if isinstance(holder, dict) else None


# What import records into (an ExchangeLog's record_http and record_row): this module only
# converts, the log derives and redacts.
Record = Callable[..., LogRow]


def _replay_entry(entry: dict[str, Any], record_http: Record, record_row: Record,
                  derive_events: bool) -> None:
    request: dict[str, Any] = entry.get("request") or {}
    response: dict[str, Any] = entry.get("response") or {}
    started = datetime.fromisoformat(str(entry["startedDateTime"]))
    elapsed = _elapsed(entry)
    request_headers = _headers(request.get("headers"))
    response_headers = _headers(response.get("headers"))
    status = response.get("status")
    status = status if isinstance(status, int) and status > 0 else None  # 0: no response
    url = str(request.get("url", ""))
    standard: dict[str, Any] = {
        "method": str(request.get("method", "GET")),
        "url": url,
        "status": status,
        "request_headers": request_headers,
        "request_body": _request_body(request),
        "response_headers": response_headers,
        "response_body": _response_body(response.get("content")),
        "elapsed_ms": elapsed,
        # DevTools and Fiddler write the mimeTypes even where they leave a Content-Type
        # header out: they stand in for it.
        "format": exchange_format(
            request_headers, response_headers,
            request_type=_mime_type(request.get("postData")),
            response_type=_mime_type(response.get("content"))),
        # A browser may keep the redirect target in redirectURL only.
        "location": absolute_location(
            url,
            header_value(response_headers, "location")
            or _optional_str(response.get("redirectURL"))),
        "error": _optional_str(response.get("_error")),
        "time": started,
        "http_version": _optional_str(response.get("httpVersion") or request.get("httpVersion")),
    }
    # What our own file recorded wins over what the standard fields say.
    row = record_http(**(standard | _recorded(entry.get("_ucwa"), _ENTRY_MEMBERS)))
    body = row.response_body
    if derive_events and body and ("sender" in body or "<events" in body):
        try:
            parsed = parse(body, header_value(row.response_headers, "content-type")
                           or _mime_type(response.get("content")))
        except ParseError:
            return
        if isinstance(parsed, Events):
            delivered = started + timedelta(milliseconds=elapsed)
            for sender, event in parsed.all_events():
                record_row(kind="event", url=row.url, format=row.format, time=delivered,
                           **event_fields(row.url or "", sender, event, row.format))


def read_document(path: str | PathLike[str]) -> dict[str, Any]:
    """The JSON of a HAR file."""
    # utf-8-sig: Fiddler and some Windows tools start the file with a byte-order mark.
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    return data


def replay(document: dict[str, Any], record_http: Record, record_row: Record) -> None:
    """Record a HAR document's rows, in order: ``record_http`` (an ExchangeLog's) gets each
    entry, ``record_row`` each event row, column by column.

    Our own files are restored from their custom members; a foreign file (DevTools,
    Fiddler) in file order, each poll followed by the events parsed from its body.
    """
    har: dict[str, Any] = document["log"]
    entries: list[dict[str, Any]] = [e for e in har.get("entries", []) if isinstance(e, dict)]
    own_events = har.get("_ucwaEvents")
    if not isinstance(own_events, list):
        for entry in entries:
            _replay_entry(entry, record_http, record_row, derive_events=True)
        return
    # Our own file: put http rows and event rows back in their recorded order.
    items: list[tuple[int, bool, dict[str, Any]]] = [
        (int((e.get("_ucwa") or {}).get("seq", i)), True, e) for i, e in enumerate(entries)
    ]
    items += [(int(e.get("seq", 0)), False, e) for e in own_events if isinstance(e, dict)]
    for _, is_entry, item in sorted(items, key=lambda t: t[0]):
        if is_entry:
            _replay_entry(item, record_http, record_row, derive_events=False)
        else:
            record_row(kind="event", **_recorded(item, _EVENT_MEMBERS))
