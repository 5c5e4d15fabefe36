"""The phone-audio operations: add/continue/startPhoneAudio (their input and refusals),
stopPhoneAudio, holdPhoneAudio and resumePhoneAudio.

Functions of the ``World`` they act on, as ``me.make_me_available`` is: the route handlers
call them synchronously on the simulator's event loop. When an operation is possible is
stated once, in ``offers.py``, which also decides the links ``render.py`` shows; the
invitations they start live on in ``calls.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.rules import MAX_OPERATION_ID, MAX_SUBJECT, callee_uri, dialled_number
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import calls, notify, offers
from ucwa_nb.sim.rules.world import World, case_insensitive
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
    TokenState,
)

__all__ = [
    "add_phone_audio",
    "continue_phone_audio",
    "hold_phone_audio",
    "leave_conversation",
    "phone_audio_input",
    "start_phone_audio",
    "stop_phone_audio",
]

IMPORTANCE = ("Normal", "Urgent", "Emergency")
START_FIELDS = ("importance", "subject", "threadId")  # startPhoneAudio's own input


# ---------------------------------------------------------------------- starting a call


def phone_audio_input(world: World, token: TokenState, app: ApplicationState, rel: str,
                      props: dict[str, Any], needs_to: bool) -> dict[str, Any]:
    """Validate an add/continue/startPhoneAudio body; return normalised values."""
    if not offers.may_place_calls(token.scopes):
        raise SimError(403, "Forbidden", None, "The token carries neither the "
                       + " nor the ".join(offers.CALL_SCOPES) + " scope.")
    world.check_fault(rel, app.user)
    world.admit_call(app.user)
    settings = world.settings
    extra = START_FIELDS if rel == "startPhoneAudio" else ()
    values = case_insensitive(props, ("operationId", "phoneNumber", "to", *extra))
    problems: dict[str, str] = {}
    for name in ("operationId", "phoneNumber", "to", *extra):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            problems[name] = "This parameter must be a string."
    op = values.get("operationId")
    if isinstance(op, str) and len(op) > MAX_OPERATION_ID:
        problems["operationId"] = f"The maximum length is {MAX_OPERATION_ID} characters."
    subject = values.get("subject")
    if isinstance(subject, str) and len(subject) > MAX_SUBJECT:
        problems["subject"] = f"The maximum length is {MAX_SUBJECT} characters."
    importance = values.get("importance")
    if isinstance(importance, str) and importance not in IMPORTANCE:
        problems["importance"] = "This parameter must be one of " + ", ".join(IMPORTANCE) + "."
    to = values.get("to")
    if needs_to:
        if to is None or (isinstance(to, str) and not to.strip()):
            problems["to"] = "This parameter is required."
        elif isinstance(to, str):
            try:
                to = callee_uri(to, lenient_spacing=settings.lenient_uri_spacing)
            except ValueError as exc:
                problems["to"] = str(exc)
    if problems:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=problems)
    world.require_live_channel(app)
    # [infer] ucwa-protocol.md 1.7: the default is the number makeMeAvailable gave, else
    # the user's own.
    number = values.get("phoneNumber") or app.phone_number or app.user.spec.phone
    try:
        dialled = dialled_number(number, app.user.spec.region,
                                 lenient_spacing=settings.lenient_uri_spacing)
    except NormalizationError as exc:
        raise SimError(400, "BadRequest", "NormalizationFailed",
                       f"The phone normalization failed: {exc}") from None
    return {**values, "operationId": op, "phoneNumber": dialled, "to": to}


def add_phone_audio(world: World, token: TokenState, app: ApplicationState,
                    conv: ConversationState, props: dict[str, Any]) -> InvitationState:
    values = phone_audio_input(world, token, app, "addPhoneAudio", props, needs_to=True)
    if "addPhoneAudio" not in offers.phone_audio_operations(conv):
        raise SimError(409, "Conflict", "AlreadyExists",
                       "Phone audio is already connecting or connected in this conversation.")
    return calls.place(world, app, "addPhoneAudio", conv, values["to"], values, added=False)


def continue_phone_audio(world: World, token: TokenState, app: ApplicationState,
                         log: ConversationLogState, props: dict[str, Any]) -> InvitationState:
    values = phone_audio_input(world, token, app, "continuePhoneAudio", props, needs_to=False)
    if "continuePhoneAudio" not in offers.conversation_log_operations(log):
        raise SimError(409, "Conflict", "AlreadyExists",
                       "Phone audio is already being continued from this conversation log.")
    # [infer] The callee comes from the log: its first recipient, in a new conversation
    # that carries the log's subject and threadId.
    # The callee joins when the call connects (participant added); the conversation is
    # created now (conversation_ref: created "Creation time stamp in UTC").
    spec = log.spec
    conv = world.add_conversation(app, spec.subject, [], _now_utc(), spec.importance, [])
    conv.thread_id = log.thread_id
    conv.ends_with_call = True
    conv.state = "Connecting"
    inv = calls.place(world, app, "continuePhoneAudio", conv, spec.recipients[0], values,
                      added=True)
    log.call = inv
    return inv


def start_phone_audio(world: World, token: TokenState, app: ApplicationState,
                      props: dict[str, Any]) -> InvitationState:
    """startPhoneAudio: call-via-work in a new peer-to-peer conversation with ``to``."""
    values = phone_audio_input(world, token, app, "startPhoneAudio", props, needs_to=True)
    if not offers.can_start_phone_audio(app):
        raise SimError(403, "Forbidden", None,
                       "Phone audio is not listed in the capabilities.")
    conv = world.add_conversation(app, values.get("subject") or "", [], _now_utc(),
                                  values.get("importance") or "Normal", [])
    if values.get("threadId"):
        conv.thread_id = values["threadId"]  # [infer] continues that thread
    conv.ends_with_call = True
    conv.state = "Connecting"
    return calls.place(world, app, "startPhoneAudio", conv, values["to"], values, added=True)


# ---------------------------------------------------------------------- a call under way


def stop_phone_audio(world: World, app: ApplicationState, conv: ConversationState) -> None:
    """stopPhoneAudio: 204; a call still ringing is cancelled, a connected one hung up."""
    if "stopPhoneAudio" not in offers.phone_audio_operations(conv):
        raise SimError(409, "Conflict", None, "There is no phone audio to stop.")
    inv = conv.call
    if inv is not None and inv.in_progress:
        calls.cancel(world, inv)
        return
    if conv.ends_with_call:
        calls.end_conversation(world, app, conv)
        return
    conv.phone_audio_state = "Disconnected"
    conv.on_hold = False
    notify.conversation_changed(world, app, conv)


def leave_conversation(world: World, app: ApplicationState, conv: ConversationState) -> None:
    """DELETE conversation (conversation_ref: "Removes the user from the communication, which
    ends the conversation. This operation tears down all active modalities."): 204.
    [infer] A call still ringing is cancelled first (its completed: LocalFailure/Canceled)."""
    inv = conv.call
    if inv is not None and inv.in_progress:
        calls.cancel(world, inv)
    if app.conversations.get(conv.id) is conv:
        calls.end_conversation(world, app, conv)


def hold_phone_audio(world: World, app: ApplicationState, conv: ConversationState,
                     hold: bool) -> None:
    """holdPhoneAudio / resumePhoneAudio: 204, then phoneAudio updated.

    [infer] CallState (Connected, Connecting, Disconnected, Disconnecting, Transferring)
    has no held member, so ``state`` stays Connected; what changes are the capability
    links: resumePhoneAudio instead of holdPhoneAudio while held (phoneAudio_ref: "updated
    whenever the state and capabilities of the modality change")."""
    rel = "holdPhoneAudio" if hold else "resumePhoneAudio"
    world.check_fault(rel, app.user)
    if rel not in offers.phone_audio_operations(conv):
        if conv.phone_audio_state != "Connected":
            raise SimError(409, "Conflict", None, "There is no connected phone call.")
        raise SimError(409, "Conflict", None, "The phone call is already "
                       + ("on hold." if hold else "off hold."))
    conv.on_hold = hold
    notify.phone_audio_changed(world, app, conv)


def _now_utc() -> datetime:
    return datetime.now(UTC)
