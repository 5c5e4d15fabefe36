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
tested against the samples printed in Microsoft's reference pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

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
    "format_of",
    "media_type",
    "parse",
    "parse_input",
]

NAMESPACE = "http://schemas.microsoft.com/rtc/2012/03/ucwa"
JSON_MEDIA_TYPES = ("application/json", "application/vnd.microsoft.com.ucwa+json")
XML_MEDIA_TYPES = ("application/xml", "application/vnd.microsoft.com.ucwa+xml", "text/xml")
Format = Literal["json", "xml"]

# Scalar property values after parsing. Lists hold the items of a propertyList.
Value = str | int | float | bool | datetime | None | list[Any] | dict[str, Any]


class ParseError(ValueError):
    """A body that is not a UCWA representation (malformed, unsafe or of an unknown shape)."""


@dataclass(frozen=True)
class Link:
    rel: str
    href: str
    title: str | None = None


def _links_factory() -> dict[str, list[Link]]:
    return {}


@dataclass
class Resource:
    """A UCWA resource: ``rel`` and ``href`` come from its self link."""

    rel: str | None
    href: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    links: dict[str, list[Link]] = field(default_factory=_links_factory)
    embedded: dict[str, list[Resource]] = field(default_factory=dict)

    def link(self, rel: str) -> Link | None:
        """The first link with this rel, or None when the capability is not offered now."""
        found = self.links.get(rel)
        return found[0] if found else None

    def get(self, name: str, default: Any = None) -> Any:
        """A property by name, matched case-insensitively as UCWA servers do."""
        if name in self.properties:
            return self.properties[name]
        lowered = name.lower()
        for key, value in self.properties.items():
            if key.lower() == lowered:
                return value
        return default

    def embedded_one(self, rel: str) -> Resource | None:
        found = self.embedded.get(rel)
        return found[0] if found else None


@dataclass
class Reason:
    """The UCWA error structure: a synchronous error body or an event's failure reason."""

    code: str
    subcode: str | None = None
    message: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    debug_info: dict[str, Any] = field(default_factory=dict)
    link: str | None = None


@dataclass
class Event:
    type: str
    link: Link
    status: str | None = None
    reason: Reason | None = None
    in_: Link | None = None
    embedded: dict[str, list[Resource]] = field(default_factory=dict)

    @property
    def resource(self) -> Resource | None:
        """The embedded copy of the event's target, when the server sent one."""
        found = self.embedded.get(self.link.rel)
        return found[0] if found else None


@dataclass
class Sender:
    rel: str
    href: str
    events: list[Event] = field(default_factory=list)


@dataclass
class Events:
    """One batch from the event channel, with its self/next/resync/resume links."""

    links: dict[str, list[Link]] = field(default_factory=_links_factory)
    senders: list[Sender] = field(default_factory=list)

    def href(self, rel: str) -> str | None:
        found = self.links.get(rel)
        return found[0].href if found else None

    def all_events(self) -> list[tuple[Sender, Event]]:
        return [(sender, event) for sender in self.senders for event in sender.events]


# --------------------------------------------------------------------------- media types


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
    if fmt == "json":
        return JSON_MEDIA_TYPES[1] if vendor else JSON_MEDIA_TYPES[0]
    return XML_MEDIA_TYPES[1] if vendor else XML_MEDIA_TYPES[0]


# --------------------------------------------------------------------------- values

_JSON_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        match = _JSON_DATE.match(value)
        if match:
            # Integer milliseconds added to the epoch: exact, unlike fromtimestamp(ms / 1000),
            # whose float loses microseconds far from 1970. A date outside Python's range
            # stays the text it was sent as.
            try:
                return _EPOCH + timedelta(milliseconds=int(match.group(1)))
            except OverflowError:
                return value
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def _xml_value(text: str | None) -> Any:
    if text is None:
        return ""
    if text in ("True", "False", "true", "false"):
        return text in ("True", "true")
    if _ISO_DATE.match(text):
        try:
            return _parse_iso(text)
        except ValueError:  # shaped like a date but not one (month 13, ...): keep the text
            return text
    return text


def _parse_iso(text: str) -> datetime:
    # .NET writes 7 fractional digits; Python reads at most 6.
    main, _, rest = text.partition(".")
    if rest:
        digits = re.match(r"\d+", rest)
        assert digits is not None
        fraction = digits.group(0)
        text = f"{main}.{fraction[:6].ljust(6, '0')}{rest[len(fraction):]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _json_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    ms = (value - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({ms})/"


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime):
        aware: datetime = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.isoformat(timespec="microseconds")
    if value is None:
        return ""
    return str(value)


# --------------------------------------------------------------------------- parsing


def parse(body: bytes | str, content_type: str | None) -> Resource | Events | Reason:
    """Parse a UCWA body into a Resource, an Events batch or a Reason (an error)."""
    fmt = format_of(content_type)
    if fmt is None:
        raise ParseError(f"not a UCWA media type: {content_type!r}")
    try:
        return _parse_json(body) if fmt == "json" else _parse_xml(body)
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
        return _parse_input(body, fmt)
    except RecursionError:  # hostile nesting of JSON arrays
        raise ParseError("the body is nested too deeply") from None


def _parse_input(body: bytes | str, fmt: Format) -> dict[str, Any]:
    if fmt == "json":
        data = _load_json(body)
        if not isinstance(data, dict):
            raise ParseError("the JSON body must be an object of properties")
        return {k: _json_value(v) for k, v in data.items() if k not in ("_links", "_embedded")}
    root = _load_xml(body)
    if _local(root.tag) not in ("input", "resource"):
        raise ParseError(f"an XML input must be <input> or <resource>, not <{_local(root.tag)}>")
    return _xml_properties(root)


def _load_json(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"malformed JSON: {exc}") from None


def _load_xml(body: bytes | str) -> ET.Element:
    # UCWA bodies never carry a DTD, so any DTD is refused (forbid_dtd), not only entity
    # declarations: a DOCTYPE with an external SYSTEM id would otherwise pass silently.
    try:
        root: ET.Element = SafeET.fromstring(body.strip(), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ParseError(f"unsafe XML refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ParseError(f"malformed XML: {exc}") from None
    except (LookupError, ValueError) as exc:  # unknown encoding= / lone surrogates in a str
        raise ParseError(f"malformed XML: {exc}") from None
    return root


def _parse_json(body: bytes | str) -> Resource | Events | Reason:
    data = _load_json(body)
    if not isinstance(data, dict):
        raise ParseError("a UCWA JSON body must be an object")
    if "sender" in data or _is_empty_batch(data):
        return _json_events(data)
    if "code" in data and "_links" not in data and "rel" not in data:
        return _json_reason(data)
    return _json_resource(data)


def _is_empty_batch(data: dict[str, Any]) -> bool:
    """An event batch without senders, e.g. the P-GET timeout answer (protocol 2.2, 2.4):
    only ``_links`` with ``next`` (or ``resync``/``resume``), no ``sender`` member."""
    links = data.get("_links")
    return (
        "rel" not in data
        and isinstance(links, dict)
        and any(rel in links for rel in ("next", "resync", "resume"))
        and set(data) <= {"_links"}
    )


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _json_link(rel: str, value: Any) -> list[Link]:
    items = value if isinstance(value, list) else [value]
    links = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("href"), str):
            title = item.get("title")
            links.append(Link(rel, item["href"], title if isinstance(title, str) else None))
    return links


def _json_links(data: Any) -> dict[str, list[Link]]:
    if not isinstance(data, dict):
        return {}
    links = {rel: _json_link(rel, value) for rel, value in data.items()}
    return {rel: found for rel, found in links.items() if found}


def _json_embedded(data: Any) -> dict[str, list[Resource]]:
    if not isinstance(data, dict):
        return {}
    embedded: dict[str, list[Resource]] = {}
    for rel, value in data.items():
        items = value if isinstance(value, list) else [value]
        resources = [_json_resource(item, rel) for item in items if isinstance(item, dict)]
        if resources:
            embedded[rel] = resources
    return embedded


def _json_resource(data: dict[str, Any], default_rel: str | None = None) -> Resource:
    links = _json_links(data.get("_links"))
    self_link = links.pop("self", None)
    rel = data.get("rel", default_rel)
    properties = {
        key: _json_value(value)
        for key, value in data.items()
        if key not in ("rel", "_links", "_embedded")
    }
    return Resource(
        rel=rel if isinstance(rel, str) else default_rel,
        href=self_link[0].href if self_link else None,
        properties=properties,
        links=links,
        embedded=_json_embedded(data.get("_embedded")),
    )


def _json_reason(data: dict[str, Any]) -> Reason:
    def bag(value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if isinstance(value, list):  # some servers send [{"name":..,"value":..}]
            return {str(i.get("name")): i.get("value") for i in value if isinstance(i, dict)}
        return {}

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return Reason(
        code=str(data.get("code", "")),
        subcode=text(data.get("subcode")),
        message=text(data.get("message")),
        parameters=bag(data.get("parameters")),
        debug_info=bag(data.get("debugInfo")),
        link=text(data.get("link")) if not isinstance(data.get("link"), dict) else None,
    )


def _json_event(data: dict[str, Any]) -> Event:
    links = _json_link("", data.get("link"))
    link = links[0] if links else Link("", "")
    link_rel = link.rel
    raw = data.get("link")
    if isinstance(raw, dict) and isinstance(raw.get("rel"), str):
        link_rel = raw["rel"]
    link = Link(link_rel, link.href, link.title)
    in_raw = data.get("in")
    in_link = None
    if isinstance(in_raw, dict) and isinstance(in_raw.get("href"), str):
        title = in_raw.get("title")
        in_link = Link(
            _text(in_raw.get("rel")), in_raw["href"], title if isinstance(title, str) else None
        )
    reason = data.get("reason")
    return Event(
        type=_text(data.get("type")),
        link=link,
        status=data.get("status") if isinstance(data.get("status"), str) else None,
        reason=_json_reason(reason) if isinstance(reason, dict) else None,
        in_=in_link,
        embedded=_json_embedded(data.get("_embedded")),
    )


def _json_events(data: dict[str, Any]) -> Events:
    senders = []
    raw_senders = data.get("sender") or []
    for raw in raw_senders if isinstance(raw_senders, list) else [raw_senders]:
        if not isinstance(raw, dict):
            continue
        events = raw.get("events")
        if not isinstance(events, list):
            events = [events] if isinstance(events, dict) else []
        senders.append(
            Sender(
                rel=_text(raw.get("rel")),
                href=_text(raw.get("href")),
                events=[_json_event(e) for e in events if isinstance(e, dict)],
            )
        )
    return Events(links=_json_links(data.get("_links")), senders=senders)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_properties(element: ET.Element) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for child in element:
        name = child.get("name")
        if name is None:
            continue
        if _local(child.tag) == "property":
            properties[name] = _xml_value(child.text)
        elif _local(child.tag) == "propertyList":
            properties[name] = [_xml_value(item.text) for item in child]
    return properties


def _xml_link(element: ET.Element) -> Link:
    return Link(element.get("rel") or "", element.get("href") or "", element.get("title"))


def _xml_resource(element: ET.Element) -> Resource:
    links: dict[str, list[Link]] = {}
    embedded: dict[str, list[Resource]] = {}
    for child in element:
        tag = _local(child.tag)
        if tag == "link":
            link = _xml_link(child)
            links.setdefault(link.rel, []).append(link)
        elif tag == "resource":
            # Keyed by the relation it is embedded under (the element's rel attribute), as
            # JSON keys _embedded: <resource rel="acceptedByParticipant"> holds a participant.
            embedded.setdefault(child.get("rel") or "", []).append(_xml_resource(child))
    properties = _xml_properties(element)
    rel = element.get("rel")
    # The reference samples repeat the rel as <property name="rel">; it is not a property.
    # Where it differs from the attribute, the element is embedded under another relation
    # and the property holds the resource's own rel (phoneAudioInvitation_ref).
    own_rel = properties.pop("rel", None)
    if isinstance(own_rel, str) and own_rel:
        rel = own_rel
    links.pop("self", None)
    return Resource(rel, element.get("href"), properties, links, embedded)


def _xml_reason(element: ET.Element) -> Reason:
    values: dict[str, str | None] = {}
    bags: dict[str, dict[str, Any]] = {"parameters": {}, "debugInfo": {}}
    for child in element:
        tag = _local(child.tag)
        if tag in bags:
            for item in child:
                key = item.get("name") or _local(item.tag)
                bags[tag][key] = item.get("value", item.text or "")
        else:
            # A present but empty element (<subcode />) is "", an absent one None.
            values[tag] = child.text or ""
    return Reason(
        code=values.get("code") or "",
        subcode=values.get("subcode"),
        message=values.get("message"),
        parameters=bags["parameters"],
        debug_info=bags["debugInfo"],
        link=values.get("link"),
    )


def _xml_events(element: ET.Element) -> Events:
    links: dict[str, list[Link]] = {}
    if element.get("href"):
        links["self"] = [Link("self", element.get("href", ""))]
    senders = []
    for child in element:
        tag = _local(child.tag)
        if tag == "link":
            link = _xml_link(child)
            links.setdefault(link.rel, []).append(link)
        elif tag == "sender":
            sender = Sender(child.get("rel", ""), child.get("href", ""))
            for raw in child:
                sender.events.append(_xml_event(raw))
            senders.append(sender)
    return Events(links, senders)


def _xml_event(element: ET.Element) -> Event:
    embedded: dict[str, list[Resource]] = {}
    reason = None
    in_link = None
    for child in element:
        tag = _local(child.tag)
        if tag == "resource":
            embedded.setdefault(child.get("rel") or "", []).append(_xml_resource(child))
        elif tag == "reason":
            reason = _xml_reason(child)
        elif tag == "in":
            in_link = _xml_link(child)
    return Event(
        type=_local(element.tag),
        link=_xml_link(element),
        status=element.get("status"),
        reason=reason,
        in_=in_link,
        embedded=embedded,
    )


def _parse_xml(body: bytes | str) -> Resource | Events | Reason:
    root = _load_xml(body)
    tag = _local(root.tag)
    if tag == "events":
        return _xml_events(root)
    if tag == "reason":
        return _xml_reason(root)
    if tag == "resource":
        return _xml_resource(root)
    raise ParseError(f"unknown UCWA XML root element <{tag}>")


# --------------------------------------------------------------------------- building


def build_resource(resource: Resource, fmt: Format) -> bytes:
    if fmt == "json":
        return _dumps(_json_of_resource(resource))
    root = _xml_of_resource(resource)
    root.set("xmlns", NAMESPACE)
    return _xml_bytes(root)


def build_events(events: Events, fmt: Format) -> bytes:
    if fmt == "json":
        data: dict[str, Any] = {"_links": _json_of_links(events.links)}
        if events.senders:
            data["sender"] = [
                {
                    "rel": s.rel,
                    "href": s.href,
                    "events": [_json_of_event(e) for e in s.events],
                }
                for s in events.senders
            ]
        return _dumps(data)
    root = ET.Element("events")
    self_href = events.href("self")
    if self_href is not None:
        root.set("href", self_href)
    root.set("xmlns", NAMESPACE)
    for rel, links in events.links.items():
        if rel != "self":
            for link in links:
                _xml_add_link(root, link)
    for sender in events.senders:
        node = ET.SubElement(root, "sender", rel=sender.rel, href=sender.href)
        for event in sender.events:
            node.append(_xml_of_event(event))
    return _xml_bytes(root)


def build_reason(reason: Reason, fmt: Format) -> bytes:
    if fmt == "json":
        return _dumps(_json_of_reason(reason))
    root = _xml_of_reason(reason)
    root.set("xmlns", NAMESPACE)
    return _xml_bytes(root)


def build_input(properties: Mapping[str, Any], fmt: Format) -> bytes:
    """A POST body in the shape of the seed pages: a JSON object or an XML ``<input>``."""
    if fmt == "json":
        return _dumps({k: _json_scalar(v) for k, v in properties.items()})
    root = ET.Element("input", xmlns=NAMESPACE)
    _xml_add_properties(root, properties)
    return _xml_bytes(root)


def _dumps(data: Any) -> bytes:
    # Real servers escape the slash in "\/Date(...)\/" and nowhere else matters.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"/Date(', '"\\/Date(').replace(')/"', ')\\/"').encode()


def _json_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return _json_date(value)
    if isinstance(value, list | tuple):
        return [_json_scalar(v) for v in value]
    return value


def _json_of_links(links: Mapping[str, Iterable[Link]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel, items in links.items():
        rendered = []
        for link in items:
            entry = {"href": link.href}
            if link.title is not None:
                entry["title"] = link.title
            rendered.append(entry)
        if rendered:
            # A rel that repeats is always an array; a single link is an object.
            out[rel] = rendered[0] if len(rendered) == 1 else rendered
    return out


def _json_of_resource(resource: Resource) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if resource.rel is not None:
        data["rel"] = resource.rel
    data.update({k: _json_scalar(v) for k, v in resource.properties.items()})
    links: dict[str, list[Link]] = {}
    if resource.href is not None:
        links["self"] = [Link("self", resource.href)]
    links.update(resource.links)
    data["_links"] = _json_of_links(links)
    if resource.embedded:
        data["_embedded"] = _json_of_embedded(resource.embedded)
    return data


def _json_of_embedded(embedded: Mapping[str, list[Resource]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel, items in embedded.items():
        rendered = [_json_of_resource(r) for r in items]
        out[rel] = rendered[0] if len(rendered) == 1 else rendered
    return out


def _json_of_reason(reason: Reason) -> dict[str, Any]:
    data: dict[str, Any] = {"code": reason.code}
    if reason.subcode is not None:
        data["subcode"] = reason.subcode
    if reason.message is not None:
        data["message"] = reason.message
    if reason.link is not None:
        data["link"] = reason.link
    if reason.parameters:
        data["parameters"] = reason.parameters
    if reason.debug_info:
        data["debugInfo"] = reason.debug_info
    return data


def _json_of_event(event: Event) -> dict[str, Any]:
    link: dict[str, Any] = {"rel": event.link.rel, "href": event.link.href}
    if event.link.title is not None:
        link["title"] = event.link.title
    data: dict[str, Any] = {"link": link}
    if event.in_ is not None:
        in_link = {"rel": event.in_.rel, "href": event.in_.href}
        if event.in_.title is not None:
            in_link["title"] = event.in_.title
        data["in"] = in_link
    if event.embedded:
        data["_embedded"] = _json_of_embedded(event.embedded)
    if event.status is not None:
        data["status"] = event.status
    if event.reason is not None:
        data["reason"] = _json_of_reason(event.reason)
    data["type"] = event.type
    return data


def _xml_bytes(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _xml_add_link(parent: ET.Element, link: Link) -> None:
    attrs = {"rel": link.rel, "href": link.href}
    if link.title is not None:
        attrs["title"] = link.title
    ET.SubElement(parent, "link", attrs)


def _xml_add_properties(parent: ET.Element, properties: Mapping[str, Any]) -> None:
    for name, value in properties.items():
        if isinstance(value, list | tuple):
            node = ET.SubElement(parent, "propertyList", name=name)
            for item in value:
                ET.SubElement(node, "item").text = _xml_text(item)
        else:
            ET.SubElement(parent, "property", name=name).text = _xml_text(value)


def _xml_of_resource(resource: Resource, embedded_as: str | None = None) -> ET.Element:
    root = ET.Element("resource")
    rel = embedded_as or resource.rel
    if rel is not None:
        root.set("rel", rel)
    if resource.href is not None:
        root.set("href", resource.href)
    for links in resource.links.values():
        for link in links:
            _xml_add_link(root, link)
    if embedded_as and resource.rel and resource.rel != embedded_as:
        # As the phoneAudioInvitation sample does for acceptedByParticipant: the element's
        # rel names the relation, a rel property keeps the resource's own rel.
        ET.SubElement(root, "property", name="rel").text = resource.rel
    _xml_add_properties(root, resource.properties)
    for key, items in resource.embedded.items():
        for item in items:
            root.append(_xml_of_resource(item, key))
    return root


def _xml_of_reason(reason: Reason) -> ET.Element:
    root = ET.Element("reason")
    ET.SubElement(root, "code").text = reason.code
    if reason.subcode is not None:
        ET.SubElement(root, "subcode").text = reason.subcode
    if reason.message is not None:
        ET.SubElement(root, "message").text = reason.message
    if reason.link is not None:
        ET.SubElement(root, "link").text = reason.link
    for tag, bag in (("debugInfo", reason.debug_info), ("parameters", reason.parameters)):
        node = ET.SubElement(root, tag)
        for key, value in bag.items():
            ET.SubElement(node, "property", name=key).text = _xml_text(value)
    return root


def _xml_of_event(event: Event) -> ET.Element:
    node = ET.Element(event.type, rel=event.link.rel, href=event.link.href)
    if event.link.title is not None:
        node.set("title", event.link.title)
    # [infer] The docs never show status/reason/in in XML (ucwa-protocol.md 2.3): status is an
    # attribute, reason a child <reason> shaped like the error body, in a child <in> link.
    if event.status is not None:
        node.set("status", event.status)
    if event.in_ is not None:
        in_attrs = {"rel": event.in_.rel, "href": event.in_.href}
        if event.in_.title is not None:
            in_attrs["title"] = event.in_.title
        ET.SubElement(node, "in", in_attrs)
    for key, items in event.embedded.items():
        for item in items:
            node.append(_xml_of_resource(item, key))
    if event.reason is not None:
        node.append(_xml_of_reason(event.reason))
    return node

