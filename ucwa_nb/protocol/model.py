"""The UCWA data model both formats share: resources, links, event batches and errors.

``representation`` parses and builds them in JSON (``json_codec``) and XML (``xml_codec``);
the client, the log and the simulator all work on these objects, never on raw bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NAMESPACE = "http://schemas.microsoft.com/rtc/2012/03/ucwa"
JSON_MEDIA_TYPES = ("application/json", "application/vnd.microsoft.com.ucwa+json")
XML_MEDIA_TYPES = ("application/xml", "application/vnd.microsoft.com.ucwa+xml", "text/xml")
Format = Literal["json", "xml"]

class ParseError(ValueError):
    """A body that is not a UCWA representation (malformed, unsafe or of an unknown shape)."""


@dataclass(frozen=True)
class Link:
    """A hypermedia link: where ``rel`` can be done or found right now (``href``)."""

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
        """The first embedded resource of ``rel`` (``me``, ``communication``), None if absent."""
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
    """One event of a batch: ``type`` (added, updated, deleted, started, completed) about
    the resource ``link`` names, with the resource embedded when the server sent it and, on
    ``completed``, its ``status`` and failure ``reason``."""

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

    def __repr__(self) -> str:
        # Short: the dataclass repr printed every embedded resource in full.
        words = [self.type, self.link.rel]
        resource = self.resource
        state = resource.get("state") if resource is not None else None
        if isinstance(state, str):
            words.append(state)
        if self.status:
            words.append(self.status)
        if self.reason is not None:
            words.append(self.reason.code + (f"/{self.reason.subcode}"
                                             if self.reason.subcode else ""))
        return f"<Event {' '.join(words)}>"


@dataclass
class Sender:
    """The resource whose events a batch groups together (communication, a conversation)."""

    rel: str
    href: str
    events: list[Event] = field(default_factory=list)


@dataclass
class Events:
    """One batch from the event channel, with its self/next/resync/resume links."""

    links: dict[str, list[Link]] = field(default_factory=_links_factory)
    senders: list[Sender] = field(default_factory=list)

    def href(self, rel: str) -> str | None:
        """The batch's link of ``rel`` (``next``, ``resync``, ...), None if absent."""
        found = self.links.get(rel)
        return found[0].href if found else None

    def all_events(self) -> list[tuple[Sender, Event]]:
        """Every event of the batch with its sender, in the order sent."""
        return [(sender, event) for sender in self.senders for event in sender.events]
