"""The logging hooks: every exchange and every delivered event becomes a row of the log.

All the client's calls of ``ExchangeLog.record_http`` and ``record_event`` are here. The
request and response hooks are installed on the session's ``httpx.Client``, so raw calls of
the user's own are logged like the session's; a request the session sends carries its rel and
operationId in ``request.extensions`` (``tag``).

The response hook never raises and never loses an exchange: whatever the server sends (a
body nested too deeply to parse, a Location that is no URL, a redirect httpx followed), the
row is written, with an ``error`` saying what could not be read. It also bounds the call: the
body is read at most ``READ_LIMIT`` bytes, and no later than the request's timeout after the
request started (httpx's own timeout is per read: a server sending a byte a second never trips
it). A call cut short is marked in the request's extensions (``outcome``) for the navigator to
raise; a raw call of the user's gets the part that was read. A row keeps at most
``LOG_BODY_LIMIT`` bytes of a body and says how big it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from ucwa_nb.log.derive import LOCATION_NOT_A_URL
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import Event, Sender, format_of

__all__ = ["LOG_BODY_LIMIT", "READ_LIMIT", "CutShort", "ExchangeHooks", "absolute",
           "outcome_of", "tag"]

_KEY = "ucwa_nb"
# UCWA answers are kilobytes (an event batch of a busy application some tens of them): a
# response past 4 MiB is not UCWA, and reading on would only fill memory.
READ_LIMIT = 4 * 1024 * 1024
# What a log row keeps of a body: enough for any UCWA answer, bounded for everything else.
LOG_BODY_LIMIT = 256 * 1024


@dataclass(frozen=True)
class CutShort:
    """Why a response's body was not read to its end: ``too_large`` (past READ_LIMIT),
    ``too_slow`` (past the call's deadline) or ``failed`` (the connection broke)."""

    why: str
    read: int
    error: httpx.TransportError | None = None


def outcome_of(request: httpx.Request) -> CutShort | None:
    meta = request.extensions.get(_KEY)
    value = meta.get("outcome") if isinstance(meta, dict) else None
    return value if isinstance(value, CutShort) else None


def _deadline(request: httpx.Request, started: float) -> float | None:
    """The whole call's deadline: the longest of its timeouts after it started."""
    timeout = request.extensions.get("timeout")
    values = [v for v in (timeout or {}).values() if isinstance(v, int | float)]
    return started + max(values) if values else None


def _read_bounded(response: httpx.Response, deadline: float | None) -> CutShort | None:
    """Read the body up to READ_LIMIT and the deadline; what was read becomes its content."""
    try:
        response.content  # noqa: B018  (already read: an auth flow or a stream=False retry)
        return None
    except httpx.ResponseNotRead:
        pass
    chunks: list[bytes] = []
    size = 0
    outcome: CutShort | None = None
    try:
        for chunk in response.iter_bytes():  # decoded: a gzip bomb counts at its real size
            size += len(chunk)
            chunks.append(chunk)
            if size > READ_LIMIT:
                outcome = CutShort("too_large", size)
                break
            if deadline is not None and time.perf_counter() > deadline:
                outcome = CutShort("too_slow", size)
                break
    except httpx.TransportError as exc:
        outcome = CutShort("failed", size, exc)
    body = b"".join(chunks)[:READ_LIMIT]
    if outcome is not None:
        response.close()
    # httpx keeps a read body in _content; set it so .content is what was read, and a cut
    # response is not read again.
    response._content = body
    return outcome


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:  # a redirect httpx built from a streamed request
        try:
            return request.read()
        except (httpx.StreamError, RuntimeError):
            return b""


def _kept(body: bytes, what: str, notes: list[str]) -> bytes:
    if len(body) <= LOG_BODY_LIMIT:
        return body
    notes.append(f"{what} body cut: {LOG_BODY_LIMIT} of {len(body)} bytes kept")
    return body[:LOG_BODY_LIMIT]


def absolute(href: str, base: httpx.Response | str) -> str:
    """``href`` resolved against a response's URL or a URL."""
    # urljoin (RFC 3986) rather than httpx.URL.join: the same result for UCWA's hrefs at a
    # tenth of the cost (~8 us against ~70 us), and it runs several times per call.
    return urljoin(str(base.url) if isinstance(base, httpx.Response) else base, href)


def tag(rel: str | None, operation_id: str | None = None) -> dict[str, Any]:
    """The request extensions that name a request's rel and operationId in the log."""
    return {_KEY: {"rel": rel, "operation_id": operation_id}}


class ExchangeHooks:
    def __init__(self, log: ExchangeLog, clock: Callable[[], datetime]) -> None:
        self.log = log
        self._clock = clock

    def install(self, http_client: httpx.Client) -> None:
        http_client.event_hooks = {
            "request": [*http_client.event_hooks.get("request", []), self.on_request],
            "response": [*http_client.event_hooks.get("response", []), self.on_response],
        }

    def on_request(self, request: httpx.Request) -> None:
        meta = request.extensions.get(_KEY)
        if not isinstance(meta, dict):
            meta = tag(None)[_KEY]
            request.extensions[_KEY] = meta
        meta["t0"] = time.perf_counter()
        meta["time"] = self._clock()

    def on_response(self, response: httpx.Response) -> None:
        """Read the body (bounded) and log the exchange; never raises."""
        request = response.request
        meta = request.extensions.get(_KEY)
        if not isinstance(meta, dict):  # a request that did not pass on_request
            meta = request.extensions[_KEY] = {**tag(None)[_KEY], "t0": time.perf_counter()}
        started = meta.get("t0", time.perf_counter())
        notes: list[str] = []
        try:
            outcome = _read_bounded(response, _deadline(request, started))
        except Exception as exc:  # the exchange is logged whatever happened
            outcome = CutShort("failed", 0, httpx.ReadError(str(exc), request=request))
        if outcome is not None:
            meta["outcome"] = outcome
            notes.append({"too_large": f"response body past {READ_LIMIT} bytes: not read on",
                          "too_slow": "response body not complete within the timeout "
                                      f"({outcome.read} bytes read)",
                          "failed": f"response body unreadable: {outcome.error}"}[outcome.why])
        elapsed = (time.perf_counter() - started) * 1000
        try:
            self._record(response, meta, elapsed, notes)
        except Exception as exc:  # a row, even a poor one, rather than none
            self.log.record_http(
                method=request.method, url=str(request.url), status=response.status_code,
                request_headers=request.headers, request_body=None, response_headers={},
                response_body=None, elapsed_ms=elapsed, rel=meta.get("rel"),
                operation_id=meta.get("operation_id"), code=f"HTTP{response.status_code}",
                error=f"this exchange could not be logged in full: {type(exc).__name__}: "
                      f"{exc}")

    def _record(self, response: httpx.Response, meta: dict[str, Any], elapsed: float,
                notes: list[str]) -> None:
        request = response.request
        # The log derives the row's location (absolute), format, code and subcode itself
        # (ucwa_nb.log.derive); the call takes its Location from the row, so that
        # df.location == call.location finds the POST and every event about it.
        row = self.log.record_http(
            method=request.method, url=str(request.url), status=response.status_code,
            request_headers=request.headers,
            request_body=_kept(_request_body(request), "request", notes),
            response_headers=response.headers,
            response_body=_kept(response.content, "response", notes),
            elapsed_ms=elapsed, rel=meta.get("rel"), operation_id=meta.get("operation_id"),
            time=meta.get("time"), http_version=response.http_version,
            error="; ".join(notes) or None)
        if row.location is not None and LOCATION_NOT_A_URL not in (row.error or ""):
            meta["location"] = row.location

    def record_failure(self, request: httpx.Request, error: Exception,
                       elapsed_ms: float, content_type: str | None) -> None:
        """A request that got no response (refused, reset, timed out)."""
        meta: Mapping[str, Any] = request.extensions.get(_KEY) or {}
        self.log.record_http(
            method=request.method, url=str(request.url), status=None,
            request_headers=request.headers,
            request_body=_kept(_request_body(request), "request", []),
            response_headers={}, response_body=b"", elapsed_ms=elapsed_ms,
            rel=meta.get("rel"), operation_id=meta.get("operation_id"),
            format=format_of(content_type), error=f"{type(error).__name__}: {error}")

    def record_event(self, response: httpx.Response, sender: Sender, event: Event,
                     ) -> None:
        self.log.record_event(url=str(response.url), sender=sender, event=event,
                              format=format_of(response.headers.get("content-type")))

    @staticmethod
    def location_of(response: httpx.Response) -> str | None:
        """The response's Location, absolute (as the response hook already logged it)."""
        meta = response.request.extensions.get(_KEY) or {}
        location = meta.get("location")
        if location is None and response.headers.get("location"):
            try:
                location = absolute(response.headers["location"], response)
            except ValueError:
                return None
        return location if isinstance(location, str) else None
