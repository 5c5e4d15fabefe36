"""The XML dialect of UCWA (ucwa-protocol.md section 4), parsed through defusedxml.

In the namespace ``http://schemas.microsoft.com/rtc/2012/03/ucwa``: ``<resource rel href>``
with ``<link>``, ``<property name>``, ``<propertyList name><item/></propertyList>`` and nested
``<resource>`` children; booleans are ``True``/``False`` and dates ISO 8601 with an offset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ucwa_nb.protocol.model import (
    NAMESPACE,
    Event,
    Events,
    Link,
    ParseError,
    Reason,
    Resource,
    Sender,
)

# --------------------------------------------------------------------------- parsing

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


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


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime):
        aware: datetime = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        # As the samples write them (PayloadFormat: ISO 8601): seven fractional digits and
        # a numeric offset, "2016-09-26T16:20:24.8356669-07:00". Python has six.
        text = aware.isoformat(timespec="microseconds")
        return text[:26] + "0" + text[26:]
    if value is None:
        return ""
    return str(value)


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



def parse_input(body: bytes | str) -> dict[str, Any]:
    root = _load_xml(body)
    if _local(root.tag) not in ("input", "resource"):
        raise ParseError(f"an XML input must be <input> or <resource>, not <{_local(root.tag)}>")
    return _xml_properties(root)


def parse(body: bytes | str) -> Resource | Events | Reason:
    return _parse_xml(body)


# --------------------------------------------------------------------------- building

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


def _xml_of_resource(resource: Resource, embedded_as: str | None = None,
                     in_event: bool = False) -> ET.Element:
    root = ET.Element("resource")
    rel = embedded_as or resource.rel
    if rel is not None:
        root.set("rel", rel)
    if resource.href is not None:
        root.set("href", resource.href)
    for links in resource.links.values():
        for link in links:
            _xml_add_link(root, link)
    # Every GET sample repeats the resource's own rel as a property after the links, top level
    # and embedded alike (conversations_ref: <property name="rel">conversations</property>;
    # phoneAudioInvitation_ref: <resource rel="acceptedByParticipant" ...> <property
    # name="rel">participant</property>). The event-channel sample (EventChannelDetails) has
    # none in its embedded resource: there it is written only to carry a rel that differs.
    if resource.rel and (not in_event or resource.rel != embedded_as):
        ET.SubElement(root, "property", name="rel").text = resource.rel
    _xml_add_properties(root, resource.properties)
    for key, items in resource.embedded.items():
        for item in items:
            root.append(_xml_of_resource(item, key, in_event))
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
            node.append(_xml_of_resource(item, key, in_event=True))
    if event.reason is not None:
        node.append(_xml_of_reason(event.reason))
    return node



def build_resource(resource: Resource) -> bytes:
    root = _xml_of_resource(resource)
    root.set("xmlns", NAMESPACE)
    return _xml_bytes(root)


def build_events(events: Events) -> bytes:
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


def build_reason(reason: Reason) -> bytes:
    root = _xml_of_reason(reason)
    root.set("xmlns", NAMESPACE)
    return _xml_bytes(root)


def build_input(properties: Mapping[str, Any]) -> bytes:
    root = ET.Element("input", xmlns=NAMESPACE)
    _xml_add_properties(root, properties)
    return _xml_bytes(root)
