"""The phone-audio operations, each defined once: where its link is, what its body holds, how
its input is checked, and what it gives back.

The Session's methods, ``PreparedCall`` (preview, snippets, send) and the forms all build
their requests from these definitions, so adding an operation means adding a definition here
and, for the user, a method that picks where to start from.

Where a link is: an operation ``starts_from`` a resource the caller holds (a conversation, a
conversation log, communication, the call's invitation) and follows the rels of ``path`` from
there to the resource that offers the link (ucwa-protocol.md 3; the reference pages
addPhoneAudio_ref, continuePhoneAudio_ref, startPhoneAudio_ref, phoneAudio_ref, cancel_ref).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.protocol.representation import Format, build_input, media_type
from ucwa_nb.protocol.rules import LENIENT_URI_SPACING, check_phone_audio_input

if TYPE_CHECKING:
    from ucwa_nb.client.call import PhoneAudioCall

__all__ = [
    "ADD_PHONE_AUDIO",
    "CANCEL",
    "CONTINUE_PHONE_AUDIO",
    "HOLD_PHONE_AUDIO",
    "OPERATIONS",
    "RESUME_PHONE_AUDIO",
    "START_PHONE_AUDIO",
    "STOP_PHONE_AUDIO",
    "BodyField",
    "Operation",
    "PreparedCall",
    "PreparedCallSender",
    "draft",
]

Values = Mapping[str, str | None]  # an operation's input by argument name (phone_number=...)


@dataclass(frozen=True)
class BodyField:
    """One property of an operation's input body."""

    name: str  # as UCWA spells it: phoneNumber
    argument: str  # as the Python methods spell it: phone_number
    required: bool = False  # required fields are sent even when empty, for the server to judge


@dataclass(frozen=True)
class Operation:
    rel: str
    starts_from: str  # the rel of the resource the caller holds
    path: tuple[str, ...]  # rels followed from there to the resource that offers the link
    offered_by_name: str  # that resource, in words, for "not offered now (... is Connected)"
    fields: tuple[BodyField, ...] = ()
    # True: the POST creates a phoneAudioInvitation (201 + Location), followed as a
    # PhoneAudioCall; False: it acts on the call and returns nothing (204).
    creates_call: bool = False

    @property
    def offered_by(self) -> str:
        return self.path[-1] if self.path else self.starts_from

    def field(self, argument: str) -> BodyField | None:
        return next((f for f in self.fields if f.argument == argument), None)

    def properties(self, values: Values, operation_id: str) -> dict[str, str]:
        """The body's properties, in the order of ``fields``; optional ones only when set."""
        props: dict[str, str] = {}
        for body_field in self.fields:
            value = operation_id if body_field.name == "operationId" else \
                values.get(body_field.argument)
            if value is not None and (value or body_field.required
                                      or body_field.name == "operationId"):
                props[body_field.name] = value
        return props

    def check(self, values: Values, region: str,
              lenient_spacing: bool = LENIENT_URI_SPACING) -> dict[str, str]:
        """Local validation (protocol.rules, the simulator's own rule): problems by UCWA
        field name, {} when valid."""
        to = self.field("to")
        return check_phone_audio_input(
            needs_to=to is not None and to.required, to=values.get("to"),
            phone_number=values.get("phone_number") if self.field("phone_number") else None,
            operation_id=values.get("operation_id"),
            subject=values.get("subject") if self.field("subject") else None, region=region,
            lenient_spacing=lenient_spacing)


_OPERATION_ID = BodyField("operationId", "operation_id")
_PHONE_NUMBER = BodyField("phoneNumber", "phone_number")
_TO = BodyField("to", "to", required=True)

ADD_PHONE_AUDIO = Operation(
    "addPhoneAudio", "conversation", ("phoneAudio",), "phone audio",
    (_OPERATION_ID, _PHONE_NUMBER, _TO), creates_call=True)
CONTINUE_PHONE_AUDIO = Operation(
    "continuePhoneAudio", "conversationLog", (), "the conversation log",
    (_OPERATION_ID, _PHONE_NUMBER), creates_call=True)
START_PHONE_AUDIO = Operation(
    "startPhoneAudio", "communication", (), "communication",
    (_OPERATION_ID, _PHONE_NUMBER, BodyField("subject", "subject"), _TO), creates_call=True)
# On the phoneAudio modality of the call's conversation, reached from its invitation; the
# links come and go with the modality's state (stop while connecting or connected, hold while
# connected, resume while held).
STOP_PHONE_AUDIO = Operation("stopPhoneAudio", "phoneAudioInvitation", ("phoneAudio",),
                             "phone audio")
HOLD_PHONE_AUDIO = Operation("holdPhoneAudio", "phoneAudioInvitation", ("phoneAudio",),
                             "phone audio")
RESUME_PHONE_AUDIO = Operation("resumePhoneAudio", "phoneAudioInvitation", ("phoneAudio",),
                               "phone audio")
CANCEL = Operation("cancel", "phoneAudioInvitation", (), "the invitation")

OPERATIONS = {op.rel: op for op in (ADD_PHONE_AUDIO, CONTINUE_PHONE_AUDIO, START_PHONE_AUDIO,
                                    STOP_PHONE_AUDIO, HOLD_PHONE_AUDIO, RESUME_PHONE_AUDIO,
                                    CANCEL)}


class PreparedCallSender(Protocol):
    def send(self, prepared: PreparedCall) -> PhoneAudioCall: ...


@dataclass
class PreparedCall:
    """The exact request that ``send()`` will make: for previews, snippets and sending."""

    sender: PreparedCallSender
    kind: str  # the operation's rel: addPhoneAudio, continuePhoneAudio, startPhoneAudio
    url: str
    body: bytes
    format: Format
    operation_id: str
    target: str | None
    problems: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def headers(self) -> dict[str, str]:
        """Headers as sent, with the token redacted."""
        return {
            "Authorization": f"Bearer {REDACTED}",
            "Content-Type": media_type(self.format),
            "Accept": media_type(self.format),
        }

    def preview(self) -> str:
        """The request as text: request line, headers (token redacted), blank line, body."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        return f"{self.method} {self.url}\n{headers}\n\n{self.body.decode()}"

    def curl(self) -> str:
        """The request as a curl command for a POSIX shell; the token is read from
        ``$UCWA_TOKEN``, inside double quotes so that the shell expands it (single quotes
        would send the text "$UCWA_TOKEN"). Everything else is quoted by shlex."""
        media = media_type(self.format)
        return (f"curl -i -X {self.method} {shlex.quote(self.url)} \\\n"
                '  -H "Authorization: Bearer $UCWA_TOKEN" \\\n'
                f"  -H {shlex.quote('Content-Type: ' + media)} \\\n"
                f"  -H {shlex.quote('Accept: ' + media)} \\\n"
                f"  --data-binary {shlex.quote(self.body.decode())}")

    def python(self) -> str:
        """The request as a Python script (httpx); the token is read from ``UCWA_TOKEN``."""
        return (
            "import os, httpx\n"
            f"response = httpx.post(\n    {self.url!r},\n"
            "    headers={\"Authorization\": \"Bearer \" + os.environ[\"UCWA_TOKEN\"],\n"
            f"             \"Content-Type\": {media_type(self.format)!r},\n"
            f"             \"Accept\": {media_type(self.format)!r}}},\n"
            f"    content={self.body.decode()!r},\n)\n"
            "print(response.status_code, response.headers.get(\"location\"))")

    def send(self) -> PhoneAudioCall:
        return self.sender.send(self)


def draft(operation: Operation, sender: PreparedCallSender, *, url: str, format: Format,
          values: Values, operation_id: str, region: str,
          target: str | None = None,
          lenient_spacing: bool = LENIENT_URI_SPACING) -> PreparedCall:
    """The request ``operation`` makes to ``url`` with ``values``, and what is wrong with
    them; no network."""
    problems = operation.check({**values, "operation_id": operation_id}, region,
                               lenient_spacing)
    body = build_input(operation.properties(values, operation_id), format)
    return PreparedCall(sender, operation.rel, url, body, format, operation_id,
                        target if target is not None else values.get("to"), problems)
