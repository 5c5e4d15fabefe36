"""HAR 1.2 export of the exchange log, and import of any HAR into the same DataFrame.

Export (``write_har``, behind ``ExchangeLog.to_har``): one entry per http row; headers,
query string, bodies (already redacted when recorded), ``redirectURL`` from Location, the
whole duration in ``timings.wait``. Fields HAR has no place for travel in custom fields, as
the spec allows (leading underscore): ``entry._ucwa`` (seq, rel, operationId, format, code,
subcode, error) and ``log._ucwaEvents`` (the event rows, which are also inside the polls'
response bodies). A transport failure is written as Chrome does: status 0 and
``response._error``.

Import (``read_har``/``load_har``): replays the entries into a fresh ``ExchangeLog``, so the
result has exactly the log's shape, derivations and redaction. Our own files are restored from
the custom fields; a browser DevTools or Fiddler export gets rel = None and event rows parsed
from the event-channel responses it contains.

Hand-written rather than harfile: the mapping is a few dozen lines and the import side, which
harfile does not have, needs the same structures anyway.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd

from ucwa_nb._version import __version__
from ucwa_nb.log.derive import absolute_location, exchange_format, header_value, status_text
from ucwa_nb.log.exchange_log import ExchangeLog, LogRow
from ucwa_nb.log.redaction import Headers, Redactor
from ucwa_nb.protocol.representation import Events, Format, ParseError, parse

__all__ = ["load_har", "read_har", "write_har"]


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


class UcwaFields(TypedDict):
    seq: int
    rel: str | None
    operationId: str | None
    format: str | None
    code: str | None
    subcode: str | None
    error: str | None


class Entry(TypedDict):
    startedDateTime: str
    time: float
    request: Request
    response: Response
    cache: dict[str, Any]
    timings: Timings
    _ucwa: UcwaFields


class EventFields(TypedDict):
    seq: int
    time: str
    url: str | None
    type: str | None
    rel: str | None
    href: str | None
    status: str | None
    operationId: str | None
    code: str | None
    subcode: str | None
    format: str | None
    body: str | None


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
        "_ucwa": {
            "seq": row.seq,
            "rel": row.rel,
            "operationId": row.operation_id,
            "format": row.format,
            "code": row.code,
            "subcode": row.subcode,
            "error": row.error,
        },
    }


def _event(row: LogRow) -> EventFields:
    return {
        "seq": row.seq,
        "time": row.time.isoformat(),
        "url": row.url,
        "type": row.event_type,
        "rel": row.rel,
        "href": row.location,
        "status": row.event_status,
        "operationId": row.operation_id,
        "code": row.code,
        "subcode": row.subcode,
        "format": row.format,
        "body": row.response_body,
    }


def write_har(rows: Iterable[LogRow], path: str | PathLike[str]) -> None:
    """Write the rows as a HAR 1.2 file (UTF-8): http rows as entries, events as
    ``log._ucwaEvents``."""
    rows = list(rows)
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "ucwa-nb", "version": __version__},
            "entries": [_entry(row) for row in rows if row.kind == "http"],
            "_ucwaEvents": [_event(row) for row in rows if row.kind == "event"],
        }
    }
    text = json.dumps(har, ensure_ascii=False, indent=1)
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


def _recorded_format(ours: dict[str, Any]) -> Format | None:
    """The format our own file recorded, None in a foreign file (then it is derived)."""
    value = ours.get("format")
    return value if value in ("json", "xml") else None


def _mime_type(holder: Any) -> str | None:
    return _optional_str(holder.get("mimeType")) if isinstance(holder, dict) else None


def _replay_entry(log: ExchangeLog, entry: dict[str, Any], derive_events: bool) -> None:
    request: dict[str, Any] = entry.get("request") or {}
    response: dict[str, Any] = entry.get("response") or {}
    ours: dict[str, Any] = entry.get("_ucwa") or {}
    started = datetime.fromisoformat(str(entry["startedDateTime"]))
    elapsed = _elapsed(entry)
    request_headers = _headers(request.get("headers"))
    response_headers = _headers(response.get("headers"))
    status = response.get("status")
    status = status if isinstance(status, int) and status > 0 else None  # 0: no response
    url = str(request.get("url", ""))
    row = log.record_http(
        method=str(request.get("method", "GET")),
        url=url,
        status=status,
        request_headers=request_headers,
        request_body=_request_body(request),
        response_headers=response_headers,
        response_body=_response_body(response.get("content")),
        elapsed_ms=elapsed,
        rel=_optional_str(ours.get("rel")),
        operation_id=_optional_str(ours.get("operationId")),
        # DevTools and Fiddler write the mimeTypes even where they leave a Content-Type
        # header out: they stand in for it.
        format=_recorded_format(ours) or exchange_format(
            request_headers, response_headers,
            request_type=_mime_type(request.get("postData")),
            response_type=_mime_type(response.get("content"))),
        code=_optional_str(ours.get("code")),
        subcode=_optional_str(ours.get("subcode")),
        # A browser may keep the redirect target in redirectURL only.
        location=absolute_location(
            url,
            header_value(response_headers, "location")
            or _optional_str(response.get("redirectURL"))),
        error=_optional_str(ours.get("error")) or _optional_str(response.get("_error")),
        time=started,
        http_version=_optional_str(response.get("httpVersion") or request.get("httpVersion")),
    )
    body = row.response_body
    if derive_events and body and ("sender" in body or "<events" in body):
        try:
            parsed = parse(body, header_value(row.response_headers, "content-type")
                           or _mime_type(response.get("content")))
        except ParseError:
            return
        if isinstance(parsed, Events):
            log.record_events(
                url=row.url or "", events=parsed, format=row.format,
                time=started + timedelta(milliseconds=elapsed),
            )  # fmt: skip


def _replay_event(log: ExchangeLog, event: dict[str, Any]) -> None:
    log.record_event(
        url=str(event.get("url") or ""),
        event_type=str(event.get("type") or ""),
        rel=_optional_str(event.get("rel")),
        href=_optional_str(event.get("href")),
        event_status=_optional_str(event.get("status")),
        operation_id=_optional_str(event.get("operationId")),
        code=_optional_str(event.get("code")),
        subcode=_optional_str(event.get("subcode")),
        format=_recorded_format(event),
        body=_optional_str(event.get("body")),
        time=datetime.fromisoformat(str(event["time"])),
    )


def load_har(path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> ExchangeLog:
    """Replay a HAR file (ours, or a DevTools/Fiddler export) into a new ExchangeLog.

    Everything is redacted on the way in, with the usual rules plus ``secrets``.
    """
    # utf-8-sig: Fiddler and some Windows tools start the file with a byte-order mark.
    data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    har: dict[str, Any] = data["log"]
    log = ExchangeLog(redactor=Redactor(secrets))
    entries: list[dict[str, Any]] = [e for e in har.get("entries", []) if isinstance(e, dict)]
    own_events = har.get("_ucwaEvents")
    if not isinstance(own_events, list):
        # A foreign file: file order, each poll followed by the events parsed from it.
        for entry in entries:
            _replay_entry(log, entry, derive_events=True)
        return log
    # Our own file: put http rows and event rows back in their recorded order.
    items: list[tuple[int, bool, dict[str, Any]]] = [
        (int((e.get("_ucwa") or {}).get("seq", i)), True, e) for i, e in enumerate(entries)
    ]
    items += [(int(e.get("seq", 0)), False, e) for e in own_events if isinstance(e, dict)]
    for _, is_entry, item in sorted(items, key=lambda t: t[0]):
        if is_entry:
            _replay_entry(log, item, derive_events=False)
        else:
            _replay_event(log, item)
    return log


def read_har(path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> pd.DataFrame:
    """A HAR file as a DataFrame in the shape of ``ExchangeLog.df``."""
    return load_har(path, secrets=secrets).df
