"""The JSON dialect of UCWA (ucwa-protocol.md section 4).

Properties are members, ``rel`` names the type, ``_links`` maps a rel to one
``{"href", "title"}`` object or to an array of them, ``_embedded`` maps a rel to a resource or
an array of resources, and dates are ASP.NET AJAX strings ``"\\/Date(ms)\\/"``. Which
of the two shapes a relation takes when building comes from ``cardinality`` (PayloadFormat:
always the same shape for a given rel); the parser accepts both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ucwa_nb.protocol.cardinality import Where, is_many
from ucwa_nb.protocol.model import Event, Events, Link, ParseError, Reason, Resource, Sender

# --------------------------------------------------------------------------- parsing

_JSON_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


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


def _json_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    ms = (value - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({ms})/"


def _load_json(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"malformed JSON: {exc}") from None


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


def _parse_json(body: bytes | str) -> Resource | Events | Reason:
    data = _load_json(body)
    if not isinstance(data, dict):
        raise ParseError("a UCWA JSON body must be an object")
    if "sender" in data or _is_empty_batch(data):
        return _json_events(data)
    if "code" in data and "_links" not in data and "rel" not in data:
        return _json_reason(data)
    return _json_resource(data)



def parse_input(body: bytes | str) -> dict[str, Any]:
    data = _load_json(body)
    if not isinstance(data, dict):
        raise ParseError("the JSON body must be an object of properties")
    return {k: _json_value(v) for k, v in data.items() if k not in ("_links", "_embedded")}


def parse(body: bytes | str) -> Resource | Events | Reason:
    return _parse_json(body)


# --------------------------------------------------------------------------- building

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


def _one_or_many(owner: str | None, where: Where, rel: str,
                 rendered: list[dict[str, Any]]) -> Any:
    """An array for a multi-valued relation (even with one item), an object otherwise.

    A relation outside the table that holds several items is a gap in the table; it is still
    written as an array, so that nothing is lost."""
    if is_many(owner, where, rel) or len(rendered) != 1:
        return rendered
    return rendered[0]


def _json_of_links(links: Mapping[str, Iterable[Link]],
                   owner: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel, items in links.items():
        rendered = []
        for link in items:
            entry = {"href": link.href}
            if link.title is not None:
                entry["title"] = link.title
            rendered.append(entry)
        if rendered:
            out[rel] = _one_or_many(owner, "_links", rel, rendered)
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
    data["_links"] = _json_of_links(links, resource.rel)
    if resource.embedded:
        data["_embedded"] = _json_of_embedded(resource.embedded, resource.rel)
    return data


def _json_of_embedded(embedded: Mapping[str, list[Resource]],
                      owner: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel, items in embedded.items():
        rendered = [_json_of_resource(r) for r in items]
        if rendered:
            out[rel] = _one_or_many(owner, "_embedded", rel, rendered)
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



def build_resource(resource: Resource) -> bytes:
    return _dumps(_json_of_resource(resource))


def build_events(events: Events) -> bytes:
    data: dict[str, Any] = {"_links": _json_of_links(events.links)}
    if events.senders:
        data["sender"] = [
            {"rel": s.rel, "href": s.href, "events": [_json_of_event(e) for e in s.events]}
            for s in events.senders
        ]
    return _dumps(data)


def build_reason(reason: Reason) -> bytes:
    return _dumps(_json_of_reason(reason))


def build_input(properties: Mapping[str, Any]) -> bytes:
    return _dumps({k: _json_scalar(v) for k, v in properties.items()})
