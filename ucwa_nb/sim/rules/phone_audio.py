"""The rules of the phone-audio operations: add/continue/startPhoneAudio (their admission
and refusals), stopPhoneAudio, holdPhoneAudio and resumePhoneAudio, and leaving a
conversation.

Each rule is a function of the ``World``, the operation's ``Target`` and its input, judged
already from the operation's fields (``rules/operation_input.py``); the table of operations
(``sim/operations.py``) names them and one route handler calls them, synchronously on the
simulator's event loop. When an operation is possible is stated once, in ``offers.py``,
which also decides the links ``render.py`` shows; the invitations they start live on in
``calls.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ucwa_nb.protocol.operations import OperationSpec
from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.rules import callee_uri, dialled_number
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import calls, notify, offers
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
    Target,
)

__all__ = [
    "add_phone_audio",
    "admit_call",
    "admit_faults",
    "call_input",
    "continue_phone_audio",
    "hold_phone_audio",
    "leave_conversation",
    "resume_phone_audio",
    "start_phone_audio",
    "stop_phone_audio",
]

Input = Mapping[str, str]  # an operation's input, judged (rules/operation_input.py)


# ---------------------------------------------------------------------- before the input


def admit_call(world: World, spec: OperationSpec, target: Target[Any]) -> None:
    """Whether ``target``'s user may start a call now, before its input is judged: the
    token's scopes (403), a fault injected on the operation, the calls in progress (409)."""
    if not offers.may_place_calls(target.token.scopes):
        raise SimError(403, "Forbidden", None, "The token carries neither the "
                       + " nor the ".join(offers.CALL_SCOPES) + " scope.")
    world.check_fault(spec.rel, target.app.user)
    world.admit_call(target.app.user)


def admit_faults(world: World, spec: OperationSpec, target: Target[Any]) -> None:
    """A fault injected on the operation answers it before anything else is judged."""
    world.check_fault(spec.rel, target.app.user)


# ---------------------------------------------------------------------- starting a call


def call_input(world: World, app: ApplicationState, values: Input) -> dict[str, Any]:
    """An add/continue/startPhoneAudio input whose fields passed their checks, once the
    callback channel is known to be live: the number to ring first (the default filled in,
    then normalised: 400 NormalizationFailed) and the callee's URI, normalised (a number in
    it with the same dial plan: 400 NormalizationFailed too; the number as dialled is what
    the invitation's ``to`` shows)."""
    world.require_live_channel(app)
    lenient = world.settings.lenient_uri_spacing
    region = app.user.spec.region
    # [infer] ucwa-protocol.md 1.7: the default is the number makeMeAvailable gave, else
    # the user's own.
    number = values.get("phoneNumber") or app.phone_number or app.user.spec.phone
    try:
        dialled = dialled_number(number, region, lenient_spacing=lenient)
    except NormalizationError as exc:
        raise SimError(400, "BadRequest", "NormalizationFailed",
                       f"The phone normalization failed: {exc}") from None
    to = values.get("to")
    try:
        callee = callee_uri(to, region, lenient_spacing=lenient) if to is not None else None
    except NormalizationError as exc:
        raise SimError(400, "BadRequest", "NormalizationFailed",
                       f"The phone normalization failed for to: {exc}") from None
    return {**values, "operationId": values.get("operationId"), "phoneNumber": dialled,
            "to": callee}


def add_phone_audio(world: World, target: Target[ConversationState],
                    values: Input) -> InvitationState:
    """addPhoneAudio: call-via-work in the conversation, to ``to``."""
    app, conv = target.app, target.resource
    accepted = call_input(world, app, values)
    if "addPhoneAudio" not in offers.phone_audio_operations(conv):
        raise SimError(409, "Conflict", "AlreadyExists",
                       "Phone audio is already connecting or connected in this conversation.")
    return calls.place(world, app, "addPhoneAudio", conv, accepted["to"], accepted,
                       added=False)


def continue_phone_audio(world: World, target: Target[ConversationLogState],
                         values: Input) -> InvitationState:
    """continuePhoneAudio: call-via-work to the log's recipient, in a new conversation."""
    app, log = target.app, target.resource
    accepted = call_input(world, app, values)
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
    inv = calls.place(world, app, "continuePhoneAudio", conv, spec.recipients[0], accepted,
                      added=True)
    log.call = inv
    return inv


def start_phone_audio(world: World, target: Target[ApplicationState],
                      values: Input) -> InvitationState:
    """startPhoneAudio: call-via-work in a new peer-to-peer conversation with ``to``."""
    app = target.app
    accepted = call_input(world, app, values)
    if not offers.can_start_phone_audio(app):
        raise SimError(403, "Forbidden", None,
                       "Phone audio is not listed in the capabilities.")
    conv = world.add_conversation(app, values.get("subject") or "", [], _now_utc(),
                                  values.get("importance") or "Normal", [])
    if values.get("threadId"):
        conv.thread_id = values["threadId"]  # [infer] continues that thread
    conv.ends_with_call = True
    conv.state = "Connecting"
    return calls.place(world, app, "startPhoneAudio", conv, accepted["to"], accepted,
                       added=True)


# ---------------------------------------------------------------------- a call under way


def stop_phone_audio(world: World, target: Target[ConversationState], _: Input) -> None:
    """stopPhoneAudio: 204; a call still ringing is cancelled, a connected one hung up."""
    app, conv = target.app, target.resource
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


def hold_phone_audio(world: World, target: Target[ConversationState], _: Input) -> None:
    """holdPhoneAudio: 204, then phoneAudio updated (``_hold``)."""
    _hold(world, target.app, target.resource, hold=True)


def resume_phone_audio(world: World, target: Target[ConversationState], _: Input) -> None:
    """resumePhoneAudio: 204, then phoneAudio updated (``_hold``)."""
    _hold(world, target.app, target.resource, hold=False)


def _hold(world: World, app: ApplicationState, conv: ConversationState, hold: bool) -> None:
    """Hold or resume (the fault check is the operation's admission, ``admit_faults``).

    [infer] CallState (Connected, Connecting, Disconnected, Disconnecting, Transferring)
    has no held member, so ``state`` stays Connected; what changes are the capability
    links: resumePhoneAudio instead of holdPhoneAudio while held (phoneAudio_ref: "updated
    whenever the state and capabilities of the modality change")."""
    rel = "holdPhoneAudio" if hold else "resumePhoneAudio"
    if rel not in offers.phone_audio_operations(conv):
        if conv.phone_audio_state != "Connected":
            raise SimError(409, "Conflict", None, "There is no connected phone call.")
        raise SimError(409, "Conflict", None, "The phone call is already "
                       + ("on hold." if hold else "off hold."))
    conv.on_hold = hold
    notify.phone_audio_changed(world, app, conv)


def _now_utc() -> datetime:
    return datetime.now(UTC)
