"""HTTP plumbing of the simulator: content negotiation, bounded body reading, UCWA responses,
error responses and the 401 challenge.

Kept apart from the routes so that every handler answers errors the same way: in the
documented shape, in the format the client accepts, never with a stack trace.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ucwa_nb.protocol.representation import (
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
from ucwa_nb.sim import paths, verbatim
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.scenario import ServerSettings

__all__ = [
    "CHALLENGE_GRANTS",
    "COMMON_HEADERS",
    "challenge",
    "challenge_grants",
    "disconnected",
    "error_response",
    "negotiate",
    "read_body",
    "read_input",
    "ucwa_response",
]

CHALLENGE_GRANTS = "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
# Characters outside XML 1.0's Char production (C0 controls but tab, CR and LF; U+FFFE,
# U+FFFF) and lone surrogates, which UTF-8 cannot encode: neither format can carry them.
_UNREPRESENTABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_UTF8_NAMES = ("utf-8", "utf8")

def negotiate(request: Request) -> tuple[Format, str]:
    """The response format and media type: the UCWA type that Accept prefers (the highest
    ``q``; the first listed among equals; ``q=0`` is "not acceptable"), else the request's
    own Content-Type, else JSON. Vendor types are echoed back when the client used them.

    HTTP.md defers to the HTTP specification for Accept: RFC 9110 12.5.1 weighs each type by
    its ``q`` (1 when absent). A wildcard (``*/*``, ``application/*``) stands for the
    server's default, the format of the request's Content-Type or JSON."""
    default = _default_format(request)
    best: tuple[float, Format, str] | None = None
    for entry in request.headers.get("accept", "").split(","):
        media, _, params = entry.partition(";")
        media = media.strip().lower()
        weight = _quality(params)
        if weight <= 0.0:
            continue
        fmt = format_of(media)
        if fmt is None and media in ("*/*", "application/*"):
            fmt, media = default
        if fmt is None:
            continue
        if media == "text/xml":
            media = "application/xml"
        if best is None or weight > best[0]:
            best = (weight, fmt, media)
    return (best[1], best[2]) if best is not None else default


def _default_format(request: Request) -> tuple[Format, str]:
    if format_of(request.headers.get("content-type")) == "xml":
        return "xml", "application/xml"
    return "json", "application/json"


def _quality(params: str) -> float:
    """An Accept entry's ``q`` (RFC 9110 12.4.2: 0 to 1, three decimals at most); 1 when
    absent; a malformed one counts as absent (the entry is not thrown away)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            if re.fullmatch(r"\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*", value):
                return float(value)
            return 1.0
    return 1.0


def _finish(body: bytes, status: int, media: str, headers: dict[str, str] | None) -> Response:
    all_headers = dict(COMMON_HEADERS)
    all_headers.update(headers or {})
    return Response(body, status, all_headers, media_type=f"{media}; charset=utf-8")


def ucwa_response(request: Request, body: Resource | Events, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    fmt, media = negotiate(request)
    if isinstance(body, Resource):
        body = verbatim.with_recorded_links(request, body)  # strict replay only
    payload = build_events(body, fmt) if isinstance(body, Events) else build_resource(body, fmt)
    return _finish(payload, status, media, headers)


def _representable(value: Any) -> Any:
    return _UNREPRESENTABLE.sub("\ufffd", value) if isinstance(value, str) else value


def _safe_reason(reason: Reason) -> Reason:
    """An error may quote what the client sent (a Content-Type, a property name): replace
    what JSON and XML cannot carry, or the error body itself would be unreadable (raw
    control characters make malformed XML) or fail to encode (a 500 for a lone surrogate)."""
    return dataclasses.replace(
        reason, message=_representable(reason.message),
        parameters={_representable(k): _representable(v) for k, v in reason.parameters.items()})


def error_response(request: Request, error: SimError) -> Response:
    fmt, media = negotiate(request)
    return _finish(build_reason(_safe_reason(error.reason), fmt), error.status, media,
                   error.headers)


def challenge_grants(settings: ServerSettings) -> str:
    """The grant types the MsRtcOAuth challenge offers: the scenario's list (a real server's,
    or the one a recording showed), less the ones the scenario turned off.

    [infer] The pages show one list, with every grant; a grant a deployment turned off is
    left out of it (a client that sends it anyway gets unsupported_grant_type).
    """
    grants = [g for g in settings.grant_types.split(",") if g]
    if settings.windows_auth == "off":
        grants = [g for g in grants if g != "urn:microsoft.rtc:windows"]
    if not settings.password_grant:
        grants = [g for g in grants if g != "password"]
    return ",".join(grants)


def challenge(request: Request, settings: ServerSettings) -> Response:
    """401 with the two WWW-Authenticate headers of a real server (ucwa-protocol.md 1.3)."""
    fqdn = settings.server_fqdn
    # base_url carries ASGI's root_path: the token URL is under the prefix too.
    token_url = str(request.base_url).rstrip("/") + paths.TEMPLATES["token"]
    body = b"<html><head><title>401 - Unauthorized</title></head><body>" \
           b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1>" \
           b"</body></html>"
    response = Response(body, 401, media_type="text/html")
    response.headers.append(
        "WWW-Authenticate",
        f'Bearer trusted_issuers="00000002-0000-0ff1-ce00-000000000000@{fqdn}", '
        'client_id="00000004-0000-0ff1-ce00-000000000000"',
    )
    grants = challenge_grants(settings)
    response.headers.append(
        "WWW-Authenticate", f'MsRtcOAuth href="{token_url}",grant_type="{grants}"'
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
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise SimError(413, "EntityTooLarge", None,
                               f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client closed before sending the body it announced. Over uvicorn nobody is
        # left to read the answer, but it must be a client error, not a 500 ServiceFailure.
        raise SimError(400, "BadRequest", None,
                       "The request body ended before its announced length.") from None
    return b"".join(chunks)


def _check_encoding(body: bytes, content_type: str) -> None:
    """Request bodies are UTF-8, as every UCWA sample sends them and RFC 8259 requires of
    JSON: another charset is 415; bytes that are not UTF-8 (invalid sequences, UTF-16 or
    UTF-32 with or without a BOM, which json.loads and expat would otherwise guess) or an XML
    declaration naming another encoding are 400. A UTF-8 BOM is allowed."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and \
                value.strip().strip('"').strip().lower() not in _UTF8_NAMES:
            raise SimError(415, "UnsupportedMediaType", None,
                           "Only UTF-8 request bodies are supported (charset=utf-8).")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SimError(400, "BadRequest", None, "The request body is not UTF-8 text.") \
            from None
    if "\x00" in text:  # what UTF-16 and UTF-32 text looks like when read as UTF-8
        raise SimError(400, "BadRequest", None, "The request body is not UTF-8 text.")
    declared = _XML_DECLARED_ENCODING.match(body.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8_NAMES:
        raise SimError(400, "BadRequest", None,
                       "The XML declaration names an encoding other than UTF-8.")


def _unrepresentable(props: dict[str, Any]) -> dict[str, str]:
    """Input values holding text that no UCWA body could carry back (see _UNREPRESENTABLE):
    accepted, they would break every later JSON or XML rendering of the resource."""
    def bad(value: Any) -> bool:
        # Iterative: a JSON object nested 950 deep parses, and recursing into it here
        # would raise RecursionError (a 500).
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _UNREPRESENTABLE.search(item) is not None:
                    return True
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item)
                stack.extend(item.values())
        return False

    return {name: "This parameter contains characters that cannot be represented "
                  "(control characters or unpaired surrogates)."
            for name, value in props.items() if bad(name) or bad(value)}


async def read_input(request: Request, limit: int) -> dict[str, Any]:
    """A POST's input properties: the body (JSON object or XML <input>) over the query string.

    UCWA also accepts operation input as query parameters (QueryParameters.md); the body wins.
    """
    body = await read_body(request, limit)
    props: dict[str, Any] = dict(parse_qsl(request.url.query))
    if body.strip():
        content_type = request.headers.get("content-type")
        if content_type is None or format_of(content_type) is None:
            raise SimError(415, "UnsupportedMediaType", None,
                           f"The content type {content_type or '(none)'} is not supported; "
                           "use application/json or application/xml.")
        _check_encoding(body, content_type)
        try:
            props.update(parse_input(body, content_type))
        except ParseError as exc:
            raise SimError(400, "BadRequest", None,
                           f"The request body could not be read: {exc}") from None
    bad = _unrepresentable(props)
    if bad:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=bad)
    return props


async def disconnected(receive: Callable[[], Awaitable[MutableMapping[str, Any]]]) -> None:
    """Until the client hangs up. uvicorn does not cancel a request whose client went away;
    it only answers ``receive()`` with http.disconnect."""
    while (await receive())["type"] != "http.disconnect":
        pass
