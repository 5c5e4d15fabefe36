"""The doctor's view of a log: a plain, immutable record of exchanges and events.

The rules read this record, never an ``ExchangeLog`` or a DataFrame, so that the doctor's
core imports nothing of ucwa_nb but the protocol layer: the simulator's trainer view can
use it, and a log, a DataFrame or a HAR file each become a ``Record`` in
``ucwa_nb.doctor.sources``. One ``Exchange`` is one row of the log, with the log's column
names; fields that a source does not know are None.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from ucwa_nb.protocol.representation import (
    Events,
    ParseError,
    Reason,
    Resource,
    format_of,
    parse,
    parse_input,
    reason_of,
)

__all__ = ["Exchange", "Headers", "Record"]

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange (``kind`` "http") or one delivered event (``kind`` "event"),
    with the exchange log's column names; ``status`` None on an http row means no answer
    (``error`` says why)."""

    seq: int
    kind: Literal["http", "event"]
    time: datetime | None = None
    elapsed_ms: float | None = None
    method: str | None = None
    url: str | None = None
    rel: str | None = None
    status: int | None = None
    code: str | None = None
    subcode: str | None = None
    operation_id: str | None = None
    format: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    location: str | None = None
    event_type: str | None = None
    event_status: str | None = None
    error: str | None = None
    request_headers: Headers = ()
    response_headers: Headers = ()

    # ------------------------------------------------------------------ headers

    def request_header(self, name: str) -> str | None:
        """The first value of a request header (any case), None when absent."""
        return _first(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """The first value of a response header (any case), None when absent."""
        return _first(self.response_headers, name)

    def response_headers_named(self, name: str) -> list[str]:
        """Every value of a response header (WWW-Authenticate repeats)."""
        lowered = name.lower()
        return [value for key, value in self.response_headers if key.lower() == lowered]

    @property
    def content_type(self) -> str:
        """The response's media type, lower case, without parameters ("" when none)."""
        value = self.response_header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    # ------------------------------------------------------------------ the URL

    @property
    def path(self) -> str:
        """The URL's path, lower case ("" for no URL)."""
        try:
            return urlsplit(self.url or "").path.lower()
        except ValueError:
            return ""

    def query(self, name: str) -> str | None:
        """A query parameter of the URL (name in any case), None when absent."""
        try:
            pairs = parse_qsl(urlsplit(self.url or "").query, keep_blank_values=True)
        except ValueError:
            return None
        lowered = name.lower()
        return next((value for key, value in pairs if key.lower() == lowered), None)

    @property
    def is_poll(self) -> bool:
        """An event-channel GET (a P-GET)."""
        return self.kind == "http" and self.method == "GET" and self.path.endswith("/events")

    @property
    def is_token_request(self) -> bool:
        """A POST to the OAuth token endpoint (its body is a form with a grant_type)."""
        body = (self.request_body or "").lower()
        return self.kind == "http" and self.method == "POST" and (
            "grant_type=" in body or self.path.endswith("/oauthtoken"))

    @property
    def has_bearer(self) -> bool:
        """Whether the request carried a Bearer token (the log keeps the scheme only)."""
        value = self.request_header("authorization") or ""
        return value.lower().startswith("bearer")

    # ------------------------------------------------------------------ the bodies

    @functools.cached_property
    def reason(self) -> Reason | None:
        """The UCWA error body of a failed response, None when it is not one."""
        if self.kind != "http" or self.status is None or self.status < 400:
            return None
        return reason_of(self.response_body, self.response_header("content-type"))

    @functools.cached_property
    def oauth_error(self) -> str | None:
        """The OAuth ``error`` of a token endpoint's refusal, None when it is not one."""
        if self.kind != "http" or self.status is None or self.status < 400:
            return None
        import json  # local: only token errors need it

        try:
            data = json.loads(self.response_body or "")
        except (ValueError, RecursionError):
            return None
        value = data.get("error") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    @functools.cached_property
    def parsed(self) -> Resource | Events | Reason | None:
        """The response body (or an event row's one-event batch) as UCWA, None if not."""
        body = self.response_body
        media = self.response_header("content-type")
        if self.kind == "event":
            media = "application/xml" if self.format == "xml" else "application/json"
        if not body or format_of(media) is None:
            return None
        try:
            return parse(body, media)
        except ParseError:
            return None

    @functools.cached_property
    def request_input(self) -> dict[str, object]:
        """The request body as UCWA input (property names as sent), {} when it is none."""
        media = self.request_header("content-type")
        if not self.request_body or format_of(media) is None:
            return {}
        try:
            return parse_input(self.request_body, media)
        except ParseError:
            return {}

    def input_value(self, name: str) -> object:
        """An input property of the request, by name in any case (UCWA ignores case)."""
        lowered = name.lower()
        return next((v for k, v in self.request_input.items() if k.lower() == lowered), None)

    @property
    def message(self) -> str | None:
        """The error message the server wrote, if any."""
        reason = self.reason
        return reason.message if reason is not None else None

    @property
    def what(self) -> str:
        """A short name of the row for evidence: ``POST addPhoneAudio -> 409``."""
        if self.kind == "event":
            return f"event {self.event_type} {self.rel or ''}".rstrip()
        target = self.rel or self.path.rsplit("/", 1)[-1] or self.url or "?"
        answer = "no answer" if self.status is None else str(self.status)
        if self.code:
            answer += f" {self.code}" + (f"/{self.subcode}" if self.subcode else "")
        return f"{self.method} {target} -> {answer}"


def _first(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


@dataclass(frozen=True)
class Record:
    """The exchanges of one log, in ``seq`` order; what every rule reads."""

    exchanges: tuple[Exchange, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, exchanges: Sequence[Exchange]) -> Record:
        """A record of these exchanges, sorted by ``seq``."""
        return cls(tuple(sorted(exchanges, key=lambda e: e.seq)))

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.exchanges)

    def __len__(self) -> int:
        return len(self.exchanges)

    @property
    def http(self) -> list[Exchange]:
        """The HTTP exchanges."""
        return [e for e in self.exchanges if e.kind == "http"]

    @property
    def events(self) -> list[Exchange]:
        """The delivered events."""
        return [e for e in self.exchanges if e.kind == "event"]

    def after(self, exchange: Exchange) -> list[Exchange]:
        """The exchanges recorded after ``exchange``."""
        return [e for e in self.exchanges if e.seq > exchange.seq]

    def before(self, exchange: Exchange) -> list[Exchange]:
        """The exchanges recorded before ``exchange``."""
        return [e for e in self.exchanges if e.seq < exchange.seq]

    @property
    def looks_like_ucwa(self) -> bool:
        """Whether anything here is UCWA traffic: a UCWA path, media type, challenge or
        event. A HAR of some other site gives False (the doctor then says so)."""
        for e in self.exchanges:
            if e.kind == "event":
                return True
            path = e.path
            if any(part in path for part in ("/ucwa/", "/autodiscover", "/webticket")):
                return True
            if "vnd.microsoft.com.ucwa" in e.content_type:
                return True
            if any("msrtcoauth" in v.lower()
                   for v in e.response_headers_named("www-authenticate")):
                return True
        return False
