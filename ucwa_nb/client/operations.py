"""The client's side of the operations of ``ucwa_nb.protocol.operations``: the exact request
an operation makes (``PreparedCall``: preview, snippets, send) drafted from its one
definition, the ``OperationSpec`` that the simulator and the forms read too.

Where a link is: an operation is ``reached_from`` a resource the caller holds (a
conversation, a conversation log, communication, the call's invitation) and follows the rels
of ``path`` from there to the resource that offers the link (ucwa-protocol.md 3; the
reference pages addPhoneAudio_ref, continuePhoneAudio_ref, startPhoneAudio_ref,
phoneAudio_ref, cancel_ref).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.protocol.operations import (
    ADD_PHONE_AUDIO,
    CANCEL,
    CONTINUE_PHONE_AUDIO,
    HOLD_PHONE_AUDIO,
    OPERATIONS,
    RESUME_PHONE_AUDIO,
    START_PHONE_AUDIO,
    STOP_PHONE_AUDIO,
    CheckContext,
    InputField,
    OperationSpec,
)
from ucwa_nb.protocol.representation import Format, build_input, media_type
from ucwa_nb.protocol.rules import LENIENT_URI_SPACING

# The definitions are re-exported: callers of the client need not know they live in protocol.
__all__ = [
    "ADD_PHONE_AUDIO",
    "CANCEL",
    "CONTINUE_PHONE_AUDIO",
    "HOLD_PHONE_AUDIO",
    "OPERATIONS",
    "RESUME_PHONE_AUDIO",
    "START_PHONE_AUDIO",
    "STOP_PHONE_AUDIO",
    "InputField",
    "OperationSpec",
    "PreparedCall",
    "PreparedCallSender",
    "Values",
    "draft",
    "operation_named",
]

Values = Mapping[str, str | None]  # an operation's input by argument name (phone_number=...)

# How a learner gets the token the snippets read (it is never shown in them).
_CURL_TOKEN_HELP = (
    "# $UCWA_TOKEN: in the notebook, ucwa_nb.client.export_token(session) sets it for !curl;\n"
    "# in a terminal, ask the token endpoint (README, UCWA with curl, step 1)")
_PYTHON_TOKEN_HELP = ("UCWA_TOKEN is not set: run ucwa_nb.client.export_token(session) in "
                      "the notebook first (or export a token you asked the token endpoint for)")


def operation_named(operation: OperationSpec | str) -> OperationSpec:
    """``operation`` itself, or the phone-audio operation whose rel it is."""
    if isinstance(operation, OperationSpec):
        return operation
    found = OPERATIONS.get(operation)
    if found is None:
        raise ValueError(f"no operation {operation!r}; the phone-audio operations are "
                         + ", ".join(OPERATIONS))
    return found


class PreparedCallSender(Protocol):
    """Who sends a prepared call (the session's runner)."""

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
        return (f"{_CURL_TOKEN_HELP}\n"
                f"curl -i -X {self.method} {shlex.quote(self.url)} \\\n"
                '  -H "Authorization: Bearer $UCWA_TOKEN" \\\n'
                f"  -H {shlex.quote('Content-Type: ' + media)} \\\n"
                f"  -H {shlex.quote('Accept: ' + media)} \\\n"
                f"  --data-binary {shlex.quote(self.body.decode())}")

    def python(self) -> str:
        """The request as a Python script (httpx); the token is read from ``UCWA_TOKEN``,
        and a missing one is said so (how to set it), not a ``KeyError``."""
        return (
            "import os, httpx\n"
            "token = os.environ.get(\"UCWA_TOKEN\")\n"
            "if not token:  # in the notebook: ucwa_nb.client.export_token(session)\n"
            f"    raise SystemExit({_PYTHON_TOKEN_HELP!r})\n"
            f"response = httpx.post(\n    {self.url!r},\n"
            "    headers={\"Authorization\": \"Bearer \" + token,\n"
            f"             \"Content-Type\": {media_type(self.format)!r},\n"
            f"             \"Accept\": {media_type(self.format)!r}}},\n"
            f"    content={self.body.decode()!r},\n)\n"
            "print(response.status_code, response.headers.get(\"location\"))")

    def send(self) -> PhoneAudioCall:
        """POST the request; the call it creates, followed on the event channel."""
        return self.sender.send(self)


def draft(operation: OperationSpec, sender: PreparedCallSender, *, url: str, format: Format,
          values: Values, operation_id: str, region: str,
          target: str | None = None,
          lenient_spacing: bool = LENIENT_URI_SPACING) -> PreparedCall:
    """The request ``operation`` makes to ``url`` with ``values``, and what is wrong with
    them (the definition's own checks); no network."""
    values = {**values, "operation_id": operation_id}
    problems = operation.problems(values, CheckContext(region, lenient_spacing))
    body = build_input(operation.body(values), format)
    return PreparedCall(sender, operation.rel, url, body, format, operation_id,
                        target if target is not None else values.get("to"), problems)
