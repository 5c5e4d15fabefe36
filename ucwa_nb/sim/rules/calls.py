"""The call-via-work lifecycle of a phoneAudioInvitation: placed (``place``), rung as an
asyncio task (``run_call``), completed (``complete``) or cancelled (``cancel``).

Call via work rings the user's own phone first; once the user picks up, the server calls the
target and bridges the two legs (ucwa-protocol.md sections 2.6 and 7). On the event channel:

    started   state Connecting   (sent by place, before the 201)
    updated   state Connecting   the user's own phone is ringing
    updated   state Alerting     the user answered; the callee's phone is ringing
    completed Success, state Connected, acceptedByParticipant
           or Failure with a reason:
              LocalFailure/PstnCallFailed    the user's own phone was not answered
              RemoteFailure/Busy             the callee is busy
              RemoteFailure/Declined         the callee declined
              NotFound/DestinationNotFound   the callee does not exist
              Timeout                        the callee never answered
"""

from __future__ import annotations

import asyncio
from typing import Any

from ucwa_nb.protocol.representation import Reason
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import notify, offers
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import PhoneSpec
from ucwa_nb.sim.state import ApplicationState, ConversationState, InvitationState

__all__ = ["cancel", "complete", "place", "run_call"]


def place(world: World, app: ApplicationState, kind: str, conv: ConversationState, to: str,
          values: dict[str, Any], added: bool) -> InvitationState:
    """Start the invitation of an add/continue/startPhoneAudio whose input was accepted."""
    inv_id = str(world.next_invitation)
    world.next_invitation += 1
    inv = InvitationState(inv_id, app, kind, conv, to, values["phoneNumber"],
                          values["operationId"])
    app.invitations[inv_id] = inv
    world.prune_call_history(app.user)
    conv.call = inv
    conv.phone_audio_state = "Connecting"
    conv.on_hold = False
    # started goes out before the 201 is written: clients must correlate by operationId.
    notify.invitation_changed(world, inv, "started")
    notify.conversation_changed(world, app.user, conv, added=added)
    inv.task = asyncio.get_running_loop().create_task(run_call(world, inv))
    return inv


def complete(world: World, inv: InvitationState, status: str, state: str,
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
    notify.invitation_changed(world, inv, "completed")
    notify.conversation_changed(world, inv.app.user, conv)


def cancel(world: World, inv: InvitationState) -> None:
    if "cancel" not in offers.invitation_operations(inv):
        raise SimError(409, "Conflict", None, "The invitation has already completed.")
    if inv.task is not None:
        inv.task.cancel()
    complete(world, inv, "Failure", "Cancelled",
             Reason("LocalFailure", "Canceled", "The invitation was cancelled."))


def _own_phone(world: World, inv: InvitationState) -> PhoneSpec:
    number = inv.phone_number.removeprefix("tel:")
    special = world.scenario.phones.get(number)
    return special if special is not None else inv.app.user.spec.own_phone


def _callee(world: World, uri: str) -> PhoneSpec | None:
    contact = world.scenario.contact(uri)
    if contact is not None:
        return PhoneSpec(contact.behaviour, contact.after)
    if world.scenario.user(uri) is not None:
        return PhoneSpec("answers", 0.5)  # other users of the scenario pick up
    return None


async def _ring(world: World, phone: PhoneSpec) -> str:
    """Ring a phone; return what its owner did: answers, busy, declines or never_answers."""
    if phone.behaviour == "never_answers":
        await asyncio.sleep(world.settings.ring_timeout)
    else:
        await asyncio.sleep(phone.after)
    return phone.behaviour


async def run_call(world: World, inv: InvitationState) -> None:
    await asyncio.sleep(0)
    notify.invitation_changed(world, inv, "updated")  # ringing the user's own phone
    if await _ring(world, _own_phone(world, inv)) != "answers":
        complete(world, inv, "Failure", "Failed", Reason(
            "LocalFailure", "PstnCallFailed",
            f"Your phone {inv.phone_number} was not answered, so the call was not placed."))
        return
    callee = _callee(world, inv.to)
    if callee is None:
        complete(world, inv, "Failure", "Failed", Reason(
            "NotFound", "DestinationNotFound", f"{inv.to} could not be found."))
        return
    inv.state = "Alerting"
    notify.invitation_changed(world, inv, "updated")  # ringing the callee
    outcome = await _ring(world, callee)
    if outcome == "answers":
        complete(world, inv, "Success", "Connected", accepted_by=inv.to)
    elif outcome == "busy":
        complete(world, inv, "Failure", "Failed",
                 Reason("RemoteFailure", "Busy", f"{inv.to} is busy."))
    elif outcome == "declines":
        complete(world, inv, "Failure", "Declined",
                 Reason("RemoteFailure", "Declined", f"{inv.to} declined the call."))
    else:
        complete(world, inv, "Failure", "Failed",
                 Reason("Timeout", None, f"{inv.to} did not answer."))
