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
from ucwa_nb.log.har_input import (
    HarError,
    Members,
    entries_of,
    finite_number,
    json_type,
    read_json,
)
from ucwa_nb.log.redaction import Headers
from ucwa_nb.protocol.representation import Events, ParseError, parse

__all__ = ["HarError", "Record", "document", "read_document", "replay", "write_har"]


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
# Every member is read through har_input.Members: a file of the wrong shape is a HarError
# that names the entry or event and the member, whoever wrote it.


def _headers(read: Members, holder: dict[str, Any], name: str) -> Headers:
    return tuple((str(h.get("name", "")), str(h.get("value", "")))
                 for h in read.objects(holder, "headers", f"{name}.headers"))


def _request_body(read: Members, request: dict[str, Any]) -> str | None:
    post = read.obj(request, "postData", "request.postData")
    if post is None:
        return None
    text = read.string(post, "text", "request.postData.text")
    if text is not None:
        return text
    params = read.objects(post, "params", "request.postData.params")
    if params:  # a form sent as params only
        return urlencode([(str(p.get("name", "")), str(p.get("value", ""))) for p in params])
    return None


def _response_body(read: Members, content: dict[str, Any] | None) -> str | bytes | None:
    text = None if content is None else read.string(content, "text", "response.content.text")
    if content is None or text is None:
        return None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except ValueError:
            return text
    return text


def _elapsed(read: Members, entry: dict[str, Any]) -> float:
    # A total or a timing that is no duration (negative: "not applicable" in HAR; 1e999 or
    # NaN, which Python's JSON reads) counts as not given.
    total = finite_number(entry.get("time"))
    if total is not None:
        return total
    timings = read.obj(entry, "timings") or {}
    parts = (finite_number(value) for value in timings.values())
    return float(sum(part for part in parts if part))


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _column_value(read: Members, column: Column, member: str, value: Any) -> Any:
    """A custom member's value as its column holds it; None when it is not one (a foreign
    or damaged file), so that the log derives or defaults it instead. A row's time or order
    that cannot be read is an error: no default would be true."""
    dtype = column.dtype
    if value is None:
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        return value if isinstance(value, str) and value in dtype.categories else None
    if dtype == _TIME:
        return read.time({member: value}, member, member)
    if isinstance(dtype, pd.StringDtype):
        return _optional_str(value)
    if isinstance(dtype, pd.Int64Dtype) or dtype == np.dtype(np.int64):
        return read.integer({member: value}, member, member)
    if dtype == np.dtype(np.float64):
        return finite_number(value, lowest=-math.inf, highest=math.inf)
    return value


def _recorded(read: Members, holder: dict[str, Any] | None, prefix: str,
              members: tuple[tuple[str, Column], ...]) -> dict[str, Any]:
    """The columns a custom object recorded, by column name; seq is left out (the log
    numbers its rows: the file's seq only puts them back in order)."""
    if holder is None:
        return {}
    values = {c.name: _column_value(read, c, prefix + member, holder.get(member))
              for member, c in members if c.name != "seq"}
    return {name: value for name, value in values.items() if value is not None}


def _mime_type(holder: Any) -> str | None:
    return _optional_str(holder.get("mimeType")) if isinstance(holder, dict) else None


# What import records into (an ExchangeLog's record_http and record_row): this module only
# converts, the log derives and redacts.
Record = Callable[..., LogRow]


class _Entry:
    """One entry of the file, its members checked (``Members``) before anything is read."""

    def __init__(self, index: int, value: Any) -> None:
        self.read = read = Members("entry", index)
        self.entry = entry = read.item(value, "request")
        request = entry.get("request")
        if not isinstance(request, dict):
            what = "absent" if request is None else json_type(request)
            raise read.error(f'no "request" object ("request" is {what})', "request")
        self.request = request
        self.response = read.obj(entry, "response") or {}
        self.ucwa = read.obj(entry, "_ucwa")
        if "startedDateTime" not in entry:
            raise read.error('no "startedDateTime"', "startedDateTime")
        started = read.time(entry, "startedDateTime", "startedDateTime")
        assert started is not None  # present, and read.time raises for anything else
        self.started = started
        seq = None if self.ucwa is None else read.integer(self.ucwa, "seq", "_ucwa.seq")
        self.seq = index if seq is None else seq

    def standard(self) -> dict[str, Any]:
        """record_http's arguments from the standard HAR members."""
        read, request, response = self.read, self.request, self.response
        request_headers = _headers(read, request, "request")
        response_headers = _headers(read, response, "response")
        content = read.obj(response, "content", "response.content")
        status = response.get("status")
        status = status if isinstance(status, int) and 0 < status < 1000 else None  # 0: none
        url = read.string(request, "url", "request.url") or ""
        return {
            "method": read.string(request, "method", "request.method") or "GET",
            "url": url,
            "status": status,
            "request_headers": request_headers,
            "request_body": _request_body(read, request),
            "response_headers": response_headers,
            "response_body": _response_body(read, content),
            "elapsed_ms": _elapsed(read, self.entry),
            # DevTools and Fiddler write the mimeTypes even where they leave a Content-Type
            # header out: they stand in for it.
            "format": exchange_format(
                request_headers, response_headers,
                request_type=_mime_type(request.get("postData")),
                response_type=_mime_type(content)),
            # A browser may keep the redirect target in redirectURL only.
            "location": absolute_location(
                url,
                header_value(response_headers, "location")
                or _optional_str(response.get("redirectURL"))),
            "error": _optional_str(response.get("_error")),
            "time": self.started,
            "http_version": _optional_str(response.get("httpVersion")
                                          or request.get("httpVersion")),
        }

    def replay(self, record_http: Record, record_row: Record, derive_events: bool) -> None:
        """Record the entry, and with ``derive_events`` the events its response carried."""
        # What our own file recorded wins over what the standard fields say.
        row = record_http(**(self.standard()
                             | _recorded(self.read, self.ucwa, "_ucwa.", _ENTRY_MEMBERS)))
        body = row.response_body
        if not (derive_events and body and ("sender" in body or "<events" in body)):
            return
        try:
            parsed = parse(body, header_value(row.response_headers, "content-type")
                           or _mime_type(self.response.get("content")))
        except ParseError:
            return
        if isinstance(parsed, Events):
            delivered = self.started + timedelta(milliseconds=row.elapsed_ms or 0.0)
            for sender, event in parsed.all_events():
                record_row(kind="event", url=row.url, format=row.format, time=delivered,
                           **event_fields(row.url or "", sender, event, row.format))


def read_document(path: str | PathLike[str]) -> dict[str, Any]:
    """The JSON of a HAR file: ``HarError`` (with the path) if it is no UTF-8 JSON, or
    no ``{"log": {"entries": [...]}}``; ``OSError`` if it cannot be read at all."""
    try:
        data = read_json(path)
        entries_of(data)
    except HarError as exc:
        exc.path = str(path)
        raise
    document: dict[str, Any] = data
    return document


def replay(document: dict[str, Any], record_http: Record, record_row: Record) -> None:
    """Record a HAR document's rows, in order: ``record_http`` (an ExchangeLog's) gets each
    entry, ``record_row`` each event row, column by column. Every entry and event is
    checked before the first row is recorded: ``HarError`` names the first that cannot be
    read.

    Our own files are restored from their custom members; a foreign file (DevTools,
    Fiddler) in file order, each poll followed by the events parsed from its body.
    """
    raw_entries, own_events = entries_of(document)
    entries = [_Entry(index, entry) for index, entry in enumerate(raw_entries)]
    if own_events is None:
        for entry in entries:
            entry.replay(record_http, record_row, derive_events=True)
        return
    # Our own file: put http rows and event rows back in their recorded order.
    events = []
    for index, value in enumerate(own_events):
        read = Members("event", index)
        item = read.item(value, "seq")
        seq = read.integer(item, "seq", "seq")
        events.append((0 if seq is None else seq, _recorded(read, item, "", _EVENT_MEMBERS)))
    items: list[tuple[int, _Entry | dict[str, Any]]] = [(e.seq, e) for e in entries]
    items += events
    for _, row in sorted(items, key=lambda t: t[0]):
        if isinstance(row, _Entry):
            row.replay(record_http, record_row, derive_events=False)
        else:
            record_row(kind="event", **row)
