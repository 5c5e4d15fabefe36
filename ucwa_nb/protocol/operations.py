"""The phone-audio operations as data: the one definition the client, its forms and the
simulator all read.

An operation is named by its link's rel. Its definition says which resource offers the link
(``acts_on``), how a client holding some resource reaches that one (``reached_from`` and
``path``: rels to follow, Hypermedia.md: clients follow links, they never build URLs), what it
creates (a ``phoneAudioInvitation`` for the three that start a call; nothing, a 204, for
those that act on one), and its input fields, each with its own check and help text.

A field's checks are the server's rules: the simulator answers a failed ``check`` with 400
ParameterValidationFailure (the message under the field's name) and a failed
``normalization`` (the dial plan's, for a phone number) with 400 NormalizationFailed; the
client's local check and the forms show the same message as the user types, so a value
passes locally exactly when the simulator accepts it.

The reference pages: https://learn.microsoft.com/en-us/skype-sdk/ucwa/<rel lower case>_ref.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.rules import (
    LENIENT_URI_SPACING,
    MAX_OPERATION_ID,
    MAX_SUBJECT,
    callee_syntax,
    callee_uri,
    dialled_number,
)

__all__ = [
    "ADD_PHONE_AUDIO",
    "CANCEL",
    "CONTINUE_PHONE_AUDIO",
    "HOLD_PHONE_AUDIO",
    "OPERATIONS",
    "PARAMETER_VALIDATION_FAILED",
    "RESUME_PHONE_AUDIO",
    "START_PHONE_AUDIO",
    "STOP_PHONE_AUDIO",
    "CheckContext",
    "InputField",
    "OperationSpec",
    "reference_page",
]

PARAMETER_VALIDATION_FAILED = "ParameterValidationFailure"
_PAGES = "https://learn.microsoft.com/en-us/skype-sdk/ucwa/"


def reference_page(name: str) -> str:
    """The learn.microsoft.com address of a reference page: ``addPhoneAudio_ref`` ->
    ``https://learn.microsoft.com/en-us/skype-sdk/ucwa/addphoneaudio_ref``."""
    return _PAGES + name.removesuffix(".md").lower()


@dataclass(frozen=True)
class CheckContext:
    """What a check needs besides the value: the user's dial plan and whether spaces around
    a URI's colon are accepted (the simulator's ``lenient_uri_spacing``)."""

    region: str = "US"
    lenient_spacing: bool = LENIENT_URI_SPACING


Check = Callable[[str, CheckContext], str | None]  # a value's problem, None when valid


@dataclass(frozen=True)
class InputField:
    """One property of an operation's input body."""

    name: str  # as UCWA spells it in the body: phoneNumber
    argument: str  # as Python spells it: phone_number
    help: str  # one line for a form's label and the docs
    required: bool = False  # sent even when empty, for the server to judge
    check: Check | None = None  # applied to a value that is present (not None), even ""
    choices: tuple[str, ...] = ()  # the values allowed, when the page lists them
    # The dial plan's check of a phone number, once ``check`` passed: the server answers it
    # with 400 NormalizationFailed (addPhoneAudio_ref's error table), judged by the
    # operation after the live-channel check (phoneNumber's default filled in first).
    normalization: Check | None = None

    def problem(self, value: str | None, context: CheckContext, *,
                normalize: bool = True) -> str | None:
        """What is wrong with ``value`` for this field (None: nothing); without
        ``normalize``, what the dial plan would say is left out (the server's
        ParameterValidationFailure alone)."""
        if self.required and (value is None or not value.strip()):
            return f"required: {self.help}"
        if value is None:
            return None
        if self.choices and value and value not in self.choices:  # "": not chosen
            return "must be one of " + ", ".join(self.choices)
        # The checks see "" too: an empty operationId is a mistake, an empty phoneNumber
        # means the account's own number; each field's check says which.
        for check in (self.check, self.normalization if normalize else None):
            problem = check(value, context) if check is not None else None
            if problem is not None:
                return problem
        return None


@dataclass(frozen=True)
class OperationSpec:
    """One UCWA operation: where its link is, what it takes, what it creates."""

    rel: str
    summary: str  # what it does, in a sentence
    acts_on: str  # the rel of the resource that offers the link
    reached_from: str  # the rel of what a caller holds: conversation, communication, ...
    path: tuple[str, ...] = ()  # rels followed from there to ``acts_on``
    fields: tuple[InputField, ...] = ()
    creates: str | None = None  # the rel of what a 201's Location names; None: 204

    @property
    def page(self) -> str:
        """The reference page on learn.microsoft.com."""
        return reference_page(self.rel + "_ref")

    @property
    def creates_call(self) -> bool:
        return self.creates == "phoneAudioInvitation"

    def field(self, key: str) -> InputField | None:
        """The field named ``key`` in either spelling (``phoneNumber`` or ``phone_number``)."""
        return next((f for f in self.fields if key in (f.name, f.argument)), None)

    def problems(self, values: Mapping[str, str | None],
                 context: CheckContext = CheckContext()) -> dict[str, str]:
        """Each field's problem by its UCWA name, ``values`` by argument name; {} when all
        are valid. Values for names the operation does not take are ignored."""
        found: dict[str, str] = {}
        for input_field in self.fields:
            problem = input_field.problem(values.get(input_field.argument), context)
            if problem is not None:
                found[input_field.name] = problem
        return found

    def body(self, values: Mapping[str, str | None]) -> dict[str, str]:
        """The body's properties, in the order of ``fields``: optional ones when set and not
        empty, required ones and ``operationId`` whenever given (even empty, for the server
        to judge: the client follows its call by the operationId it sent)."""
        props: dict[str, str] = {}
        for input_field in self.fields:
            value = values.get(input_field.argument)
            if value is not None and (value or input_field.required
                                      or input_field is OPERATION_ID):
                props[input_field.name] = value
        return props


# ---------------------------------------------------------------------- the checks


def _callee(value: str, context: CheckContext) -> str | None:
    try:
        callee_syntax(value, lenient_spacing=context.lenient_spacing)
    except ValueError as exc:
        return str(exc)
    return None


def _callee_number(value: str, context: CheckContext) -> str | None:
    try:
        callee_uri(value, context.region, lenient_spacing=context.lenient_spacing)
    except NormalizationError as exc:
        return str(exc)
    return None


def _phone_number(value: str, context: CheckContext) -> str | None:
    if not value:  # the number the account has (addPhoneAudio_ref: phoneNumber optional)
        return None
    try:
        dialled_number(value, context.region, lenient_spacing=context.lenient_spacing)
    except NormalizationError as exc:
        return str(exc)
    return None


def _at_most(limit: int) -> Check:
    def check(value: str, _: CheckContext) -> str | None:
        if len(value) > limit:
            return f"{len(value)} characters; the maximum is {limit}"
        return None
    return check


def _operation_id(value: str, context: CheckContext) -> str | None:
    if not value.strip():
        return "must not be empty (leave it out to have one generated)"
    return _at_most(MAX_OPERATION_ID)(value, context)


# ---------------------------------------------------------------------- the fields

OPERATION_ID = InputField(
    "operationId", "operation_id",
    "the client's id for this call, sent back in its events (at most 50 characters)",
    check=_operation_id)
PHONE_NUMBER = InputField(
    "phoneNumber", "phone_number",
    "your own phone, rung first; empty: the number your account has",
    normalization=_phone_number)
TO = InputField(
    "to", "to", "who to call: a SIP URI (sip:john@contoso.com) or a phone number "
    "(tel:+14255550100, or sip:+14255550100@contoso.com;user=phone)",
    required=True, check=_callee, normalization=_callee_number)
SUBJECT = InputField("subject", "subject",
                     "the new conversation's subject (at most 250 characters)",
                     check=_at_most(MAX_SUBJECT))
IMPORTANCE = InputField("importance", "importance", "the conversation's importance",
                        choices=("Normal", "Urgent", "Emergency"))
THREAD_ID = InputField("threadId", "thread_id",
                       "the thread the new conversation continues, if any")


# ---------------------------------------------------------------------- the operations

ADD_PHONE_AUDIO = OperationSpec(
    "addPhoneAudio", "Add phone audio to a conversation by call-via-work: ring your phone, "
    "then the person called.", acts_on="phoneAudio", reached_from="conversation",
    path=("phoneAudio",), fields=(OPERATION_ID, PHONE_NUMBER, TO),
    creates="phoneAudioInvitation")
CONTINUE_PHONE_AUDIO = OperationSpec(
    "continuePhoneAudio", "Continue a past conversation on the phone: ring your phone, then "
    "its recipient.", acts_on="conversationLog", reached_from="conversationLog",
    fields=(OPERATION_ID, PHONE_NUMBER), creates="phoneAudioInvitation")
START_PHONE_AUDIO = OperationSpec(
    "startPhoneAudio", "Call someone in a new conversation by call-via-work: ring your "
    "phone, then the person called.", acts_on="communication", reached_from="communication",
    fields=(OPERATION_ID, PHONE_NUMBER, SUBJECT, TO, IMPORTANCE, THREAD_ID),
    creates="phoneAudioInvitation")
# On the phoneAudio of the call's conversation, reached from its invitation; the links come
# and go with the modality's state (stop while connecting or connected, hold while
# connected, resume while held).
STOP_PHONE_AUDIO = OperationSpec(
    "stopPhoneAudio", "Hang up: end the phone audio of the call's conversation.",
    acts_on="phoneAudio", reached_from="phoneAudioInvitation", path=("phoneAudio",))
HOLD_PHONE_AUDIO = OperationSpec(
    "holdPhoneAudio", "Put the connected call on hold.",
    acts_on="phoneAudio", reached_from="phoneAudioInvitation", path=("phoneAudio",))
RESUME_PHONE_AUDIO = OperationSpec(
    "resumePhoneAudio", "Take the call off hold.",
    acts_on="phoneAudio", reached_from="phoneAudioInvitation", path=("phoneAudio",))
CANCEL = OperationSpec(
    "cancel", "Cancel a call that is still ringing.",
    acts_on="phoneAudioInvitation", reached_from="phoneAudioInvitation")


def _by_rel(operations: Iterable[OperationSpec]) -> dict[str, OperationSpec]:
    return {op.rel: op for op in operations}


OPERATIONS: Mapping[str, OperationSpec] = _by_rel((
    ADD_PHONE_AUDIO, CONTINUE_PHONE_AUDIO, START_PHONE_AUDIO, STOP_PHONE_AUDIO,
    HOLD_PHONE_AUDIO, RESUME_PHONE_AUDIO, CANCEL))
