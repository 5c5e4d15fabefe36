"""HTTP plumbing of the simulator: content negotiation, bounded body reading, UCWA responses.

Kept apart from the routes so that every handler answers errors the same way: in the
documented shape, in the format the client accepts, never with a stack trace.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.representation import (
    Events,
    Format,
    ParseError,
    Reason,
    Resource,
    build_events,
    build_reason,
    build_resource,
    format_of,
    parse_input,
)
from ucwa_nb.sim.errors import SimError

__all__ = [
    "CHALLENGE_GRANTS",
    "challenge",
    "error_response",
    "negotiate",
    "read_body",
    "read_input",
    "ucwa_response",
]

CHALLENGE_GRANTS = "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def negotiate(request: Request) -> tuple[Format, str]:
    """The response format and media type: the first UCWA type in Accept, else the request's
    own Content-Type, else JSON. Vendor types are echoed back when the client used them."""
    for entry in request.headers.get("accept", "").split(","):
        media = entry.split(";", 1)[0].strip().lower()
        fmt = format_of(media)
        if fmt is not None:
            if media == "text/xml":
                media = "application/xml"
            return fmt, media
    fmt = format_of(request.headers.get("content-type"))
    if fmt == "xml":
        return "xml", "application/xml"
    return "json", "application/json"


def _finish(body: bytes, status: int, media: str, headers: dict[str, str] | None) -> Response:
    all_headers = dict(COMMON_HEADERS)
    all_headers.update(headers or {})
    return Response(body, status, all_headers, media_type=f"{media}; charset=utf-8")


def ucwa_response(request: Request, body: Resource | Events, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    fmt, media = negotiate(request)
    payload = build_events(body, fmt) if isinstance(body, Events) else build_resource(body, fmt)
    return _finish(payload, status, media, headers)


def error_response(request: Request, error: SimError) -> Response:
    fmt, media = negotiate(request)
    return _finish(build_reason(error.reason, fmt), error.status, media, error.headers)


def reason_response(request: Request, status: int, reason: Reason) -> Response:
    fmt, media = negotiate(request)
    return _finish(build_reason(reason, fmt), status, media, None)


def challenge(request: Request, fqdn: str) -> Response:
    """401 with the two WWW-Authenticate headers of a real server (ucwa-protocol.md 1.3)."""
    token_url = str(request.base_url).rstrip("/") + "/WebTicket/oauthtoken"
    body = b"<html><head><title>401 - Unauthorized</title></head><body>" \
           b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1>" \
           b"</body></html>"
    response = Response(body, 401, media_type="text/html")
    response.headers.append(
        "WWW-Authenticate",
        f'Bearer trusted_issuers="00000002-0000-0ff1-ce00-000000000000@{fqdn}", '
        'client_id="00000004-0000-0ff1-ce00-000000000000"',
    )
    response.headers.append(
        "WWW-Authenticate", f'MsRtcOAuth href="{token_url}",grant_type="{CHALLENGE_GRANTS}"'
    )
    return response


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes with 413 without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise SimError(400, "BadRequest", None, "Content-Length is not a number.") from None
        if size > limit:
            raise SimError(413, "EntityTooLarge", None,
                           f"The request body is larger than {limit} bytes.")
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise SimError(413, "EntityTooLarge", None,
                           f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_input(request: Request, limit: int) -> dict[str, Any]:
    """A POST's input properties: the body (JSON object or XML <input>) over the query string.

    UCWA also accepts operation input as query parameters (QueryParameters.md); the body wins.
    """
    body = await read_body(request, limit)
    props: dict[str, Any] = dict(parse_qsl(request.url.query))
    if not body.strip():
        return props
    content_type = request.headers.get("content-type")
    if format_of(content_type) is None:
        raise SimError(415, "UnsupportedMediaType", None,
                       f"The content type {content_type or '(none)'} is not supported; use "
                       "application/json or application/xml.")
    try:
        props.update(parse_input(body, content_type))
    except ParseError as exc:
        raise SimError(400, "BadRequest", None, f"The request body could not be read: {exc}") \
            from None
    return props
