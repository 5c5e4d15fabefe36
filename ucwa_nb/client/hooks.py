"""The logging hooks: every exchange and every delivered event becomes a row of the log.

All the client's calls of ``ExchangeLog.record_http`` and ``record_event`` are here. The
request and response hooks are installed on the session's ``httpx.Client``, so raw calls of
the user's own are logged like the session's; a request the session sends carries its rel and
operationId in ``request.extensions`` (``tag``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from ucwa_nb.client.errors import UcwaError
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import Event, Events, Sender, build_events, format_of

__all__ = ["ExchangeHooks", "absolute", "tag"]

_KEY = "ucwa_nb"


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
        response.read()
        request = response.request
        meta = request.extensions.get(_KEY) or {}
        elapsed = (time.perf_counter() - meta.get("t0", time.perf_counter())) * 1000
        code = subcode = None
        if response.status_code >= 400:
            error = UcwaError.from_response(response)
            code, subcode = error.code, error.subcode
        fmt = format_of(request.headers.get("content-type")) or \
            format_of(response.headers.get("content-type"))
        # Absolute, like call.location and the event rows' location (the event's href), so
        # that df.location == call.location finds the POST and every event about it.
        location = response.headers.get("location")
        if location:
            location = meta["location"] = absolute(location, response)
        self.log.record_http(
            method=request.method, url=str(request.url), status=response.status_code,
            request_headers=request.headers, request_body=request.content,
            response_headers=response.headers, response_body=response.content,
            elapsed_ms=elapsed, rel=meta.get("rel"), operation_id=meta.get("operation_id"),
            format=fmt, code=code, subcode=subcode,
            location=location, time=meta.get("time"),
            http_version=response.http_version)

    def record_failure(self, request: httpx.Request, error: httpx.HTTPError,
                       elapsed_ms: float, content_type: str | None) -> None:
        """A request that got no response (refused, reset, timed out)."""
        meta: Mapping[str, Any] = request.extensions.get(_KEY) or {}
        self.log.record_http(
            method=request.method, url=str(request.url), status=None,
            request_headers=request.headers, request_body=request.content,
            response_headers={}, response_body=b"", elapsed_ms=elapsed_ms,
            rel=meta.get("rel"), operation_id=meta.get("operation_id"),
            format=format_of(content_type), error=f"{type(error).__name__}: {error}")

    def record_event(self, response: httpx.Response, sender: Sender, event: Event,
                     href: str, operation_id: str | None) -> None:
        fmt = format_of(response.headers.get("content-type"))
        self.log.record_event(
            url=str(response.url), event_type=event.type, rel=event.link.rel, href=href,
            event_status=event.status, operation_id=operation_id,
            code=event.reason.code if event.reason else None,
            subcode=event.reason.subcode if event.reason else None, format=fmt,
            body=build_events(Events(senders=[Sender(sender.rel, sender.href, [event])]),
                              fmt or "json"))

    @staticmethod
    def location_of(response: httpx.Response) -> str | None:
        """The response's Location, absolute (as the response hook already logged it)."""
        meta = response.request.extensions.get(_KEY) or {}
        location = meta.get("location")
        if location is None and response.headers.get("location"):
            location = absolute(response.headers["location"], response)
        return location if isinstance(location, str) else None
