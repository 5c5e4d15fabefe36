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
        """Where the conversation is (its resource's href)."""
        return self.resource.href or ""

    @property
    def subject(self) -> str:
        """The conversation's subject; empty when it has none."""
        return _text(self.resource, "subject")

    @property
    def state(self) -> str:
        """Connecting, Connected, Disconnected, ... as the server last said."""
        return _text(self.resource, "state")

    @property
    def thread_id(self) -> str:
        """The thread the conversation belongs to (kept across re-created applications)."""
        return _text(self.resource, "threadId")

    @property
    def created(self) -> datetime | None:
        """When the conversation was created (UTC), if the server said."""
        return _time(self.resource, "created")

    @property
    def label(self) -> str:
        """Subject and people, for a picker: ``Project sync with John Doe``."""
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
        """Where the conversation log is (its resource's href)."""
        return self.resource.href or ""

    @property
    def subject(self) -> str:
        """The past conversation's subject; empty when it had none."""
        return _text(self.resource, "subject")

    @property
    def recipients(self) -> list[Participant]:
        """The people of the past conversation; continuePhoneAudio calls the first."""
        return [
            Participant(_text(r, "displayName"), _text(r, "sipUri"))
            for r in self.resource.embedded.get("conversationLogRecipient", [])
        ]

    @property
    def created(self) -> datetime | None:
        """When the past conversation took place (its creationTime, UTC)."""
        return _time(self.resource, "creationTime")

    @property
    def type(self) -> str:
        """The log's type as the server names it (e.g. Conversation)."""
        return _text(self.resource, "type")

    @property
    def status(self) -> str:
        """How the past conversation ended, as the server names it (e.g. Success, Missed)."""
        return _text(self.resource, "status")

    @property
    def direction(self) -> str:
        """Incoming or Outgoing."""
        return _text(self.resource, "direction")

    @property
    def modalities(self) -> list[str]:
        """The modalities the past conversation used (e.g. PhoneAudio, Messaging)."""
        value: Any = self.resource.get("modalities", [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    @property
    def thread_id(self) -> str:
        """The thread the past conversation belongs to."""
        return _text(self.resource, "threadId")

    @property
    def label(self) -> str:
        """Subject, people, time, modalities and status, for a picker."""
        who = ", ".join(p.name or p.uri for p in self.recipients) or "nobody"
        when = self.created.strftime("%Y-%m-%d %H:%M") if self.created else "?"
        return (f"{self.subject or '(no subject)'} with {who}, {when} "
                f"({'/'.join(self.modalities)}, {self.status})")

    def __repr__(self) -> str:
        return f"<ConversationLog {self.label!r}>"
