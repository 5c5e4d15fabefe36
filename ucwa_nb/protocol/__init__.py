"""What the client and the simulator share: UCWA's resources, its two dialects and its rules.

``model`` (Resource, Events, Reason, ...), ``json_codec`` and ``xml_codec`` (one dialect
each), ``representation`` (media types; parse and build in either dialect), ``phone`` (SIP
and tel URIs, E.164 with a dial plan) ``rules`` (what the reference pages fix: limits,
names, the checks of an operation's input) and ``cardinality`` (which JSON relations are
always arrays). Nothing here imports the rest of ucwa_nb.
"""

from ucwa_nb.protocol.phone import NormalizationError, normalize_phone_number, parse_sip_uri
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Format,
    Link,
    ParseError,
    Reason,
    Resource,
    Sender,
    build_events,
    build_input,
    build_reason,
    build_resource,
    format_of,
    media_type,
    parse,
    parse_input,
    reason_of,
)

__all__ = [
    "Event",
    "Events",
    "Format",
    "Link",
    "NormalizationError",
    "ParseError",
    "Reason",
    "Resource",
    "Sender",
    "build_events",
    "build_input",
    "build_reason",
    "build_resource",
    "format_of",
    "media_type",
    "normalize_phone_number",
    "parse",
    "parse_input",
    "parse_sip_uri",
    "reason_of",
]
