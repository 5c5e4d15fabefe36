"""What a log row says about an exchange or an event, derived from the plain data.

A row's format, operation_id, code/subcode and location are not told to the log: it derives
them from what went over the wire, with the functions below. Live logging
(``ExchangeLog.record_http`` and ``record_event``, fed by the client) and HAR import
(``ucwa_nb.log.har``) both go through them, so a row means the same however it arrived.
Error bodies are read by ``ucwa_nb.protocol.representation.reason_of``, the reading the
client's exceptions share.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from ucwa_nb.log.redaction import Headers
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Format,
    ParseError,
    Reason,
    Sender,
    build_events,
    format_of,
    parse_input,
    reason_of,
)

__all__ = [
    "LOCATION_NOT_A_URL",
    "EventColumns",
    "absolute_location",
    "error_reason",
    "event_fields",
    "exchange_format",
    "header_value",
    "request_operation_id",
    "resolve_location",
    "status_text",
]


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (any case), None when absent."""
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


def status_text(status: int | None) -> str:
    """The reason phrase of a status code, "" when unknown."""
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""


def _first_format(media_types: str | None) -> Format | None:
    # A header may list several types (Accept: application/json, */*): the first decides.
    return format_of(media_types.split(",", 1)[0]) if media_types else None


def exchange_format(
    request_headers: Headers,
    response_headers: Headers,
    *,
    request_type: str | None = None,
    response_type: str | None = None,
) -> Format | None:
    """json/xml of an exchange: the request's Content-Type, else the response's, else the
    request's Accept; None when none of them is a UCWA media type.

    Request first because a body the client sent is in the dialect it chose: an XML POST
    answered with a JSON error (or an HTML page) is still an attempt in XML, and a per-call
    ``format="xml"`` shows as xml. Without a request body (GET, DELETE, an event poll) the
    response's Content-Type names the dialect of the body in the row; a form-encoded token
    request is JSON because OAuth answers in JSON whatever Accept said. Accept comes last: it
    is a preference, not a body, and decides only when neither body is UCWA's (an HTML error
    page, a transport failure with no response).

    ``request_type``/``response_type`` stand in for a Content-Type header that was not
    captured (a HAR's ``postData.mimeType`` and ``content.mimeType``).
    """
    return (
        _first_format(header_value(request_headers, "content-type") or request_type)
        or _first_format(header_value(response_headers, "content-type") or response_type)
        or _first_format(header_value(request_headers, "accept"))
    )


def _text_value(value: Any) -> str | None:
    # operationId is a string in UCWA; a number sent or echoed by a lenient peer is kept as
    # its text, structures and booleans are not an identifier at all.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def request_operation_id(url: str, headers: Headers, body: str | None) -> str | None:
    """The operationId a request carries, in its body or its query (UCWA accepts both)."""
    if body and "operationid" in body.lower():
        try:
            properties = parse_input(body, header_value(headers, "content-type"))
        except ParseError:
            properties = {}
        found = next((v for k, v in properties.items() if k.lower() == "operationid"), None)
        if found:
            return _text_value(found)
    if "operationid" in url.lower():
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        return next((v for k, v in query if k.lower() == "operationid" and v), None)
    return None


def error_reason(status: int | None, headers: Headers, body: str | bytes | None) -> Reason | None:
    """The UCWA error structure of a failed response, if its body is one.

    Only UCWA's own error bodies: an OAuth error, an IIS page or a proxy's answer gives None
    (the status column already says what failed).
    """
    if status is None or status < 400:
        return None
    return reason_of(body, header_value(headers, "content-type"))


def absolute_location(url: str, location: str | None) -> str | None:
    """A Location (or an event's href) made absolute against the request's URL, as the
    client resolves it: so ``df.location == call.location`` finds the POST that created an
    invitation and every event about it. One that is no URL ("http://[oops/") is kept as
    sent: the row is written whatever the server sent."""
    return resolve_location(url, location)[0]


# The row's ``error`` when the Location header cannot be read as a URL.
LOCATION_NOT_A_URL = "the Location header is no URL"


def resolve_location(url: str, location: str | None) -> tuple[str | None, bool]:
    """``absolute_location``, and whether ``location`` could be read as a URL at all."""
    if not location:
        return None, True
    try:
        return urljoin(url, location), True
    except ValueError:
        return location, False


# An event row's columns that come from the event itself, by column name.
EventColumns = dict[str, str | bytes | None]


def event_fields(url: str, sender: Sender, event: Event, fmt: Format | None) -> EventColumns:
    """An event row's columns: ``url`` is the poll that carried it, ``fmt`` that poll's
    format (json when unknown); ``location`` is the event's href made absolute, and
    ``response_body`` the event alone in a one-event batch, which parses back to it."""
    resource = event.resource
    reason = event.reason
    alone = Events(senders=[Sender(sender.rel, sender.href, [event])])
    return {
        "event_type": event.type,
        "rel": event.link.rel,
        "location": absolute_location(url, event.link.href),
        "event_status": event.status,
        "operation_id": None if resource is None else _text_value(resource.get("operationId")),
        "code": reason.code if reason else None,
        "subcode": reason.subcode if reason else None,
        "response_body": build_events(alone, fmt or "json"),
    }
