"""The logging hooks: every exchange and every delivered event becomes a row of the log.

All the client's calls of ``ExchangeLog.record_http`` and ``record_event`` are here. The
request and response hooks are the event hooks of the session's own ``httpx.Client``
(``client/transport.py``), so raw calls through ``session.http_client`` are logged like the
session's; a request the session sends carries its rel and operationId in
``request.extensions`` (``tag``).

The response hook never raises and never loses an exchange: whatever the server sends (a
body nested too deeply to parse, a Location that is no URL, a redirect httpx followed), the
row is written, with an ``error`` saying what could not be read. The body it logs was read
already, bounded in size and time, by the client's transport (``transport.BoundedRead``);
a call cut short there is noted in the row for the navigator to raise, and a raw call of the
user's gets the part that was read. A row keeps at most ``LOG_BODY_LIMIT`` bytes of a body
and says how big it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

# READ_LIMIT, CutShort and outcome_of are transport.py's, named here too: the README calls
# the limit client.hooks.READ_LIMIT.
from ucwa_nb.client.transport import READ_LIMIT, CutShort, note_outcome, outcome_of
from ucwa_nb.log.derive import LOCATION_NOT_A_URL
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import Event, Sender, format_of

__all__ = ["LOG_BODY_LIMIT", "READ_LIMIT", "CutShort", "ExchangeHooks", "absolute",
           "outcome_of", "tag"]

_KEY = "ucwa_nb"
# What a log row keeps of a body: enough for any UCWA answer, bounded for everything else.
LOG_BODY_LIMIT = 256 * 1024


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

    @property
    def event_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """The hooks, as ``httpx.Client(event_hooks=...)`` takes them."""
        return {"request": [self.on_request], "response": [self.on_response]}

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
            response.read()  # what BoundedRead kept: within READ_LIMIT
            outcome = outcome_of(request)
        except Exception as exc:  # the exchange is logged whatever happened
            outcome = CutShort("failed", 0, httpx.ReadError(str(exc), request=request))
            note_outcome(request, outcome)
        if outcome is not None:
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
