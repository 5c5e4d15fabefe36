"""The calls of a recording: each phoneAudioInvitation's operation (the POST that placed it)
and its event sequence, from the event rows the log derived from the event channel.

A call is keyed by the operationId the client chose (every event about the invitation
carries it, OperationResource.md), so a recording of several calls in parallel still gives
each its own sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ucwa_nb.protocol.representation import Events, ParseError, parse, parse_input
from ucwa_nb.record.recording import Exchange, Recording, header_values, text_of

__all__ = ["Call", "CallEvent", "calls_of"]

_OPERATIONS = ("addPhoneAudio", "continuePhoneAudio", "startPhoneAudio")


@dataclass(frozen=True)
class CallEvent:
    """One event about a call: type, the invitation's state, status and reason."""

    type: str
    state: str | None
    status: str | None
    code: str | None
    subcode: str | None
    time: pd.Timestamp


@dataclass
class Call:
    """One phone-audio call: what was asked and what the channel said about it."""

    operation_id: str
    operation: str | None = None         # addPhoneAudio, continuePhoneAudio, startPhoneAudio
    post: Exchange | None = None
    sent: dict[str, Any] = field(default_factory=dict)  # the POST's input properties
    to: str | None = None
    phone_number: str | None = None      # as the server normalised it
    events: list[CallEvent] = field(default_factory=list)

    @property
    def outcome(self) -> CallEvent | None:
        """The completed event, if the recording reached it."""
        return next((e for e in self.events if e.type == "completed"), None)

    def time_of(self, state: str) -> pd.Timestamp | None:
        """When the channel first told of the invitation in ``state``."""
        return next((e.time for e in self.events if e.state == state), None)


def _event_details(body: str | None, media_type: str | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        parsed = parse(body, media_type or "application/json")
    except (ParseError, ValueError):
        return {}
    if not isinstance(parsed, Events) or not parsed.all_events():
        return {}
    resource = parsed.all_events()[0][1].resource
    return dict(resource.properties) if resource is not None else {}


def _input(exchange: Exchange) -> dict[str, Any]:
    if not exchange.request_body:
        return {}
    content_type = next(iter(header_values(exchange.request_headers, "content-type")), None)
    try:
        return parse_input(exchange.request_body, content_type)
    except (ParseError, ValueError):
        return {}


def calls_of(recording: Recording) -> list[Call]:
    """Every call of the recording, in the order they were placed."""
    calls: dict[str, Call] = {}
    for exchange in recording.exchanges:
        operation = exchange.path.rsplit("/", 1)[-1]
        if exchange.method == "POST" and operation in _OPERATIONS and exchange.operation_id:
            call = calls.setdefault(exchange.operation_id, Call(exchange.operation_id))
            call.operation, call.post, call.sent = operation, exchange, _input(exchange)
    events = recording.events
    rows = events[events.rel == "phoneAudioInvitation"]
    for row in rows.to_dict("records"):
        operation_id = text_of(row["operation_id"])
        if operation_id is None:
            continue
        call = calls.setdefault(operation_id, Call(operation_id))
        details = _event_details(text_of(row["response_body"]),
                                 "application/xml" if row["format"] == "xml"
                                 else "application/json")
        call.to = call.to or details.get("to")
        call.phone_number = call.phone_number or details.get("phoneNumber")
        call.events.append(CallEvent(
            str(row["event_type"]), details.get("state"), text_of(row["event_status"]),
            text_of(row["code"]), text_of(row["subcode"]), row["time"]))
    for call in calls.values():
        call.to = call.to or call.sent.get("to")
    return list(calls.values())
