"""UCWA representations: parse and build resources, event batches and errors, in JSON and XML.

UCWA speaks two dialects of one model (ucwa-protocol.md section 4):

* JSON: properties are members, ``rel`` names the type, ``_links`` maps a rel to one
  ``{"href", "title"}`` object or to an array of them, ``_embedded`` maps a rel to a resource
  or an array of resources, dates are ASP.NET AJAX strings ``"\\/Date(ms)\\/"``.
* XML (namespace ``http://schemas.microsoft.com/rtc/2012/03/ucwa``): ``<resource rel href>``
  with ``<link>``, ``<property name>``, ``<propertyList name><item/></propertyList>`` and nested
  ``<resource>`` children; booleans are ``True``/``False`` and dates ISO 8601 with an offset.

Both sides of the project (the client and the simulator) go through this module, so what the
simulator writes is exactly what the client must be able to read, and the parser is also
tested against the samples printed in Microsoft's reference pages. The model lives in
``model``, each dialect in its own codec (``json_codec``, ``xml_codec``); this module picks
the codec from the media type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucwa_nb.protocol import json_codec, xml_codec
from ucwa_nb.protocol.model import (
    JSON_MEDIA_TYPES,
    NAMESPACE,
    XML_MEDIA_TYPES,
    Event,
    Events,
    Format,
    Link,
    ParseError,
    Reason,
    Resource,
    Sender,
)

__all__ = [
    "JSON_MEDIA_TYPES",
    "NAMESPACE",
    "XML_MEDIA_TYPES",
    "Event",
    "Events",
    "Format",
    "Link",
    "ParseError",
    "Reason",
    "Resource",
    "Sender",
    "build_events",
    "build_input",
    "build_reason",
    "build_resource",
    "checked_format",
    "format_of",
    "media_type",
    "parse",
    "parse_input",
    "reason_of",
]


# --------------------------------------------------------------------------- media types


def checked_format(value: object) -> Format:
    """``value`` if it is "json" or "xml"; ValueError otherwise (a request is never sent in
    a format that was not asked for)."""
    if value == "json" or value == "xml":
        return value
    raise ValueError(f"format must be 'json' or 'xml', not {value!r}")


def format_of(content_type: str | None) -> Format | None:
    """'json' or 'xml' for a Content-Type or Accept entry, None for anything else."""
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    if base in JSON_MEDIA_TYPES or base.endswith("+json"):
        return "json"
    if base in XML_MEDIA_TYPES or base.endswith("+xml"):
        return "xml"
    return None


def media_type(fmt: Format, vendor: bool = False) -> str:
    """The media type of ``fmt``: application/json or application/xml; ``vendor``: the
    application/vnd.microsoft.com.ucwa+ form."""
    if fmt == "json":
        return JSON_MEDIA_TYPES[1] if vendor else JSON_MEDIA_TYPES[0]
    return XML_MEDIA_TYPES[1] if vendor else XML_MEDIA_TYPES[0]


# --------------------------------------------------------------------------- parsing


def parse(body: bytes | str, content_type: str | None) -> Resource | Events | Reason:
    """Parse a UCWA body into a Resource, an Events batch or a Reason (an error)."""
    fmt = format_of(content_type)
    if fmt is None:
        raise ParseError(f"not a UCWA media type: {content_type!r}")
    try:
        return json_codec.parse(body) if fmt == "json" else xml_codec.parse(body)
    except RecursionError:  # hostile nesting of _embedded / <resource>
        raise ParseError("the body is nested too deeply") from None


def parse_input(body: bytes | str, content_type: str | None) -> dict[str, Any]:
    """Parse a POST/PUT body (a JSON object or an XML ``<input>``) into a property dict.

    ``_links`` and ``_embedded`` in input are ignored, as the docs say.
    """
    fmt = format_of(content_type)
    if fmt is None:
        raise ParseError(f"not a UCWA media type: {content_type!r}")
    try:
        return json_codec.parse_input(body) if fmt == "json" else xml_codec.parse_input(body)
    except RecursionError:  # hostile nesting of JSON arrays
        raise ParseError("the body is nested too deeply") from None


def reason_of(body: bytes | str | None, content_type: str | None) -> Reason | None:
    """The UCWA error (``<reason>`` / ``{"code": ...}``) a body holds, else None.

    Total, whatever the bytes: a body that is empty, not UCWA's media type, malformed,
    hostile (nested too deeply, entity bombs) or another kind of representation gives None.
    The one reading of an error body: the client's exceptions, its event channel and the
    exchange log all go through it.
    """
    if not body or format_of(content_type) is None:
        return None
    try:
        parsed = parse(body, content_type)
    except ParseError:  # parse turns every failure, RecursionError included, into this
        return None
    return parsed if isinstance(parsed, Reason) else None


# --------------------------------------------------------------------------- building


def build_resource(resource: Resource, fmt: Format) -> bytes:
    """A resource as a body in ``fmt`` (what the simulator answers)."""
    if fmt == "json":
        return json_codec.build_resource(resource)
    return xml_codec.build_resource(resource)


def build_events(events: Events, fmt: Format) -> bytes:
    """An event batch as a body in ``fmt``."""
    if fmt == "json":
        return json_codec.build_events(events)
    return xml_codec.build_events(events)


def build_reason(reason: Reason, fmt: Format) -> bytes:
    """An error body in ``fmt``, in the shape the reference pages give."""
    if fmt == "json":
        return json_codec.build_reason(reason)
    return xml_codec.build_reason(reason)


def build_input(properties: Mapping[str, Any], fmt: Format) -> bytes:
    """A POST body in the shape of the seed pages: a JSON object or an XML ``<input>``."""
    if fmt == "json":
        return json_codec.build_input(properties)
    return xml_codec.build_input(properties)
