"""Conversations and conversation logs with their useful properties at hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ucwa_nb.protocol.representation import Resource

__all__ = ["Conversation", "ConversationLog", "Participant"]


@dataclass(frozen=True)
class Participant:
    """A person in a conversation or a conversation log: display name and SIP URI."""

    name: str
    uri: str

    def __str__(self) -> str:
        return f"{self.name} <{self.uri}>" if self.name else self.uri


def _text(resource: Resource, name: str) -> str:
    value = resource.get(name)
    return value if isinstance(value, str) else ""


def _time(resource: Resource, name: str) -> datetime | None:
    value = resource.get(name)
    return value if isinstance(value, datetime) else None


@dataclass
class Conversation:
    """An active conversation: where addPhoneAudio can add phone audio."""

    resource: Resource
    participants: list[Participant] = field(default_factory=list)

    @property
    def href(self) -> str:
        return self.resource.href or ""

    @property
    def subject(self) -> str:
        return _text(self.resource, "subject")

    @property
    def state(self) -> str:
        return _text(self.resource, "state")

    @property
    def thread_id(self) -> str:
        return _text(self.resource, "threadId")

    @property
    def created(self) -> datetime | None:
        return _time(self.resource, "created")

    @property
    def label(self) -> str:
        who = ", ".join(p.name or p.uri for p in self.participants) or "nobody"
        return f"{self.subject or '(no subject)'} with {who}"

    def __repr__(self) -> str:
        return f"<Conversation {self.label!r} {self.state}>"


@dataclass
class ConversationLog:
    """A past conversation: where continuePhoneAudio can call its recipients again."""

    resource: Resource

    @property
    def href(self) -> str:
        return self.resource.href or ""

    @property
    def subject(self) -> str:
        return _text(self.resource, "subject")

    @property
    def recipients(self) -> list[Participant]:
        return [
            Participant(_text(r, "displayName"), _text(r, "sipUri"))
            for r in self.resource.embedded.get("conversationLogRecipient", [])
        ]

    @property
    def created(self) -> datetime | None:
        return _time(self.resource, "creationTime")

    @property
    def type(self) -> str:
        return _text(self.resource, "type")

    @property
    def status(self) -> str:
        return _text(self.resource, "status")

    @property
    def direction(self) -> str:
        return _text(self.resource, "direction")

    @property
    def modalities(self) -> list[str]:
        value: Any = self.resource.get("modalities", [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    @property
    def thread_id(self) -> str:
        return _text(self.resource, "threadId")

    @property
    def label(self) -> str:
        who = ", ".join(p.name or p.uri for p in self.recipients) or "nobody"
        when = self.created.strftime("%Y-%m-%d %H:%M") if self.created else "?"
        return (f"{self.subject or '(no subject)'} with {who}, {when} "
                f"({'/'.join(self.modalities)}, {self.status})")

    def __repr__(self) -> str:
        return f"<ConversationLog {self.label!r}>"
