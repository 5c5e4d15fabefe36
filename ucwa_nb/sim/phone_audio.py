"""The phone-audio rules: add/continue/startPhoneAudio, their invitations, cancel, stop, hold
and resume, and the events each change sends.

Functions of the ``World`` they act on, in the way ``extras.make_me_available`` is: the HTTP
handlers (``app.py``, ``extras.py``) call them synchronously on the simulator's event loop, and
the call-via-work lifecycle of each invitation (``calls.py``) runs as an asyncio task beside
them, reporting back through ``emit_invitation`` and ``complete``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.representation import Event, Link, Reason
from ucwa_nb.protocol.rules import MAX_OPERATION_ID, MAX_SUBJECT, callee_uri, dialled_number
from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.state import (
    Application,
    Conversation,
    ConversationLog,
    Invitation,
    Token,
    UserState,
)
from ucwa_nb.sim.world import World, case_insensitive

__all__ = [
    "add_phone_audio",
    "cancel",
    "complete",
    "continue_phone_audio",
    "emit_conversation_change",
    "emit_invitation",
    "emit_phone_audio_change",
    "hold_phone_audio",
    "phone_audio_input",
    "start_phone_audio",
    "stop_phone_audio",
]

INITIATE_SCOPE = "Conversations.Initiate"
IMPORTANCE = ("Normal", "Urgent", "Emergency")
START_FIELDS = ("importance", "subject", "threadId")  # startPhoneAudio's own input


# ---------------------------------------------------------------------- events


def emit_conversation_change(world: World, user: UserState, conv: Conversation,
                             added: bool = False) -> None:
    """phoneAudio updated (sender conversation) and conversation added/updated, to every
    application of the user, each with its own hrefs."""
    for app in list(user.apps.values()):
        comm = f"{render.app_path(app)}/communication"
        conv_res = render.conversation(app, conv)
        assert conv_res.href is not None
        world.emit(app, "communication", comm, Event(
            "added" if added else "updated", Link("conversation", conv_res.href),
            embedded={"conversation": [conv_res]}))
        pa = render.phone_audio(app, conv)
        assert pa.href is not None
        world.emit(app, "conversation", conv_res.href,
                   Event("updated", Link("phoneAudio", pa.href), embedded={"phoneAudio": [pa]}))


def emit_phone_audio_change(world: World, user: UserState, conv: Conversation) -> None:
    """phoneAudio updated (sender conversation) alone, to every application of the user."""
    for app in list(user.apps.values()):
        pa = render.phone_audio(app, conv)
        assert pa.href is not None
        world.emit(app, "conversation", render.conversation_path(app, conv),
                   Event("updated", Link("phoneAudio", pa.href), embedded={"phoneAudio": [pa]}))


def emit_invitation(world: World, inv: Invitation, event_type: str) -> None:
    res = render.invitation(inv, world.scenario)
    assert res.href is not None
    comm = f"{render.app_path(inv.app)}/communication"
    world.emit(inv.app, "communication", comm, Event(
        event_type, Link("phoneAudioInvitation", res.href),
        status=inv.status if event_type == "completed" else None,
        reason=inv.reason if event_type == "completed" else None,
        embedded={"phoneAudioInvitation": [res]}))


# ---------------------------------------------------------------------- starting a call


def phone_audio_input(world: World, token: Token, app: Application, rel: str,
                      props: dict[str, Any], needs_to: bool) -> dict[str, Any]:
    """Validate an add/continue/startPhoneAudio body; return normalised values."""
    if INITIATE_SCOPE not in token.scopes:
        raise SimError(403, "Forbidden", None,
                       f"The token does not carry the {INITIATE_SCOPE} scope.")
    world.check_fault(rel, app.user)
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
    if not app.channel.live(settings.callback_grace):
        raise SimError(500, "ServiceFailure", "CallbackChannelError")
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


def add_phone_audio(world: World, token: Token, app: Application, conv: Conversation,
                    props: dict[str, Any]) -> Invitation:
    values = phone_audio_input(world, token, app, "addPhoneAudio", props, needs_to=True)
    if conv.phone_audio_state != "Disconnected":
        raise SimError(409, "Conflict", "AlreadyExists",
                       "Phone audio is already connecting or connected in this conversation.")
    return _start(world, app, "addPhoneAudio", conv, values["to"], values, added=False)


def continue_phone_audio(world: World, token: Token, app: Application, log: ConversationLog,
                         props: dict[str, Any]) -> Invitation:
    values = phone_audio_input(world, token, app, "continuePhoneAudio", props, needs_to=False)
    if log.call is not None and log.call.in_progress:
        raise SimError(409, "Conflict", "AlreadyExists",
                       "Phone audio is already being continued from this conversation log.")
    # [infer] The callee comes from the log: its first recipient, in a new conversation
    # that carries the log's subject and threadId.
    spec = log.spec
    conv = world.add_conversation(app.user, spec.subject, list(spec.recipients),
                                  spec.created, spec.importance, [])
    conv.thread_id = log.thread_id
    conv.from_log = log.id
    conv.ends_with_call = True
    conv.state = "Connecting"
    inv = _start(world, app, "continuePhoneAudio", conv, spec.recipients[0], values,
                 added=True)
    log.call = inv
    return inv


def start_phone_audio(world: World, token: Token, app: Application,
                      props: dict[str, Any]) -> Invitation:
    """startPhoneAudio: call-via-work in a new peer-to-peer conversation with ``to``."""
    values = phone_audio_input(world, token, app, "startPhoneAudio", props, needs_to=True)
    if app.available_modalities is not None and \
            "PhoneAudio" not in app.available_modalities:
        # startPhoneAudio_ref: 403 "Phone audio is not listed in the capabilities";
        # [infer] the capabilities are the supportedModalities of makeMeAvailable.
        raise SimError(403, "Forbidden", None,
                       "Phone audio is not listed in the capabilities.")
    conv = world.add_conversation(app.user, values.get("subject") or "",
                                  [values["to"]], _now_utc(),
                                  values.get("importance") or "Normal", [])
    if values.get("threadId"):
        conv.thread_id = values["threadId"]  # [infer] continues that thread
    conv.ends_with_call = True
    conv.state = "Connecting"
    return _start(world, app, "startPhoneAudio", conv, values["to"], values, added=True)


def _start(world: World, app: Application, kind: str, conv: Conversation, to: str,
           values: dict[str, Any], added: bool) -> Invitation:
    from ucwa_nb.sim.calls import run_call  # calls imports this module

    inv_id = str(world.next_invitation)
    world.next_invitation += 1
    inv = Invitation(inv_id, app, kind, conv, to, values["phoneNumber"],
                     values["operationId"])
    app.invitations[inv_id] = inv
    conv.call = inv
    conv.phone_audio_state = "Connecting"
    conv.on_hold = False
    # started goes out before the 201 is written: clients must correlate by operationId.
    emit_invitation(world, inv, "started")
    emit_conversation_change(world, app.user, conv, added=added)
    inv.task = asyncio.get_running_loop().create_task(run_call(world, inv))
    return inv


# ---------------------------------------------------------------------- a call's later life


def complete(world: World, inv: Invitation, status: str, state: str,
             reason: Reason | None = None, accepted_by: str | None = None) -> None:
    if not inv.in_progress:
        return
    inv.status, inv.state, inv.reason, inv.accepted_by = status, state, reason, accepted_by
    conv = inv.conversation
    conv.phone_audio_state = "Connected" if status == "Success" else "Disconnected"
    if status == "Success":
        conv.state = "Connected"
        if accepted_by is not None and accepted_by not in conv.participants:
            # [infer] who answered is now a participant of the conversation, so the
            # acceptedByParticipant resource can be fetched from its participants.
            conv.participants.append(accepted_by)
    elif conv.ends_with_call:
        conv.state = "Disconnected"
    emit_invitation(world, inv, "completed")
    emit_conversation_change(world, inv.app.user, conv)


def cancel(world: World, inv: Invitation) -> None:
    if not inv.in_progress:
        raise SimError(409, "Conflict", None, "The invitation has already completed.")
    if inv.task is not None:
        inv.task.cancel()
    complete(world, inv, "Failure", "Cancelled",
             Reason("LocalFailure", "Canceled", "The invitation was cancelled."))


def stop_phone_audio(world: World, app: Application, conv: Conversation) -> None:
    if conv.phone_audio_state == "Disconnected":
        raise SimError(409, "Conflict", None, "There is no phone audio to stop.")
    inv = conv.call
    if inv is not None and inv.in_progress:
        cancel(world, inv)
        return
    conv.phone_audio_state = "Disconnected"
    conv.on_hold = False
    if conv.ends_with_call:
        conv.state = "Disconnected"
    emit_conversation_change(world, app.user, conv)


def hold_phone_audio(world: World, app: Application, conv: Conversation, hold: bool) -> None:
    """holdPhoneAudio / resumePhoneAudio: 204, then phoneAudio updated.

    [infer] CallState (Connected, Connecting, Disconnected, Disconnecting, Transferring)
    has no held member, so ``state`` stays Connected; what changes are the capability
    links: resumePhoneAudio instead of holdPhoneAudio while held (phoneAudio_ref: "updated
    whenever the state and capabilities of the modality change")."""
    rel = "holdPhoneAudio" if hold else "resumePhoneAudio"
    world.check_fault(rel, app.user)
    if conv.phone_audio_state != "Connected":
        raise SimError(409, "Conflict", None, "There is no connected phone call.")
    if conv.on_hold == hold:
        raise SimError(409, "Conflict", None, "The phone call is already "
                       + ("on hold." if hold else "off hold."))
    conv.on_hold = hold
    emit_phone_audio_change(world, app.user, conv)


def _now_utc() -> datetime:
    return datetime.now(UTC)
