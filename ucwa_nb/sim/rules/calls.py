"""The call-via-work lifecycle of a phoneAudioInvitation: placed (``place``), rung as an
asyncio task (``run_call``), completed (``complete``) or cancelled (``cancel``).

Call via work rings the user's own phone first; once the user picks up, the server calls the
target and bridges the two legs (ucwa-protocol.md sections 2.6 and 7). On the event channel:

    started   state Connecting   (sent by place, before the 201)
    updated   state Connecting   the user's own phone is ringing
    updated   state Alerting     the user answered; the callee's phone is ringing
   [updated   state Forwarded    the callee did not answer in time: their forwarding sends
                                 the call to their mobile or voicemail (dialling.py)]
    completed Success, state Connected, acceptedByParticipant
           or Failure with a reason:
              LocalFailure/PstnCallFailed    the user's own phone was not answered
              RemoteFailure/Busy             the callee is busy
              RemoteFailure/Declined         the callee declined
              NotFound/DestinationNotFound   the callee does not exist
              Timeout                        the callee never answered

Before ``completed`` the conversation's own events (the real trace's order, SendAnIM): a
new conversation is added with the user's localParticipant, and on answer the callee joins
it (participant added) and its phoneAudio connects. A conversation made by the call ends
with it: conversation deleted after the failure's completed, or when its phone audio stops.

addPhoneAudio answered by someone who is not the conversation's remote participant creates
a derived conversation (phoneAudioInvitation_ref: "In the case of [addPhoneAudio], the
corresponding phoneAudioInvitation will cause the creation of a new, related conversation
([derivedConversation]) with the new remote [participant]s"); the original conversation's
phone audio goes back to Disconnected.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from ucwa_nb.protocol.representation import Reason
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import dialling, notify, offers
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import PhoneSpec
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationState,
    InvitationState,
)

__all__ = ["cancel", "complete", "end_conversation", "place", "run_call"]


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
    notify.conversation_changed(world, app, conv, added=added, local_joined=added)
    inv.task = asyncio.get_running_loop().create_task(run_call(world, inv))
    return inv


def complete(world: World, inv: InvitationState, status: str, state: str,
             reason: Reason | None = None, accepted_by: str | None = None) -> None:
    if not inv.in_progress:
        return
    inv.status, inv.state, inv.reason, inv.accepted_by = status, state, reason, accepted_by
    world.progress.outcome(inv)
    conv = inv.conversation
    app = inv.app
    if status == "Success" and accepted_by is not None:
        if inv.kind == "addPhoneAudio" and accepted_by not in conv.participants:
            _derive(world, inv, accepted_by)
        else:
            conv.phone_audio_state = "Connected"
            conv.state = "Connected"
            joined = None if accepted_by in conv.participants else accepted_by
            if joined is not None:
                conv.participants.append(joined)
            notify.conversation_changed(world, app, conv, joined=joined)
        notify.invitation_changed(world, inv, "completed")
        return
    conv.phone_audio_state = "Disconnected"
    if not conv.ends_with_call:
        notify.conversation_changed(world, app, conv)
        notify.invitation_changed(world, inv, "completed")
        return
    # [infer] The modality's update before completed (as SendAnIM orders them), the
    # conversation's end after it, so that the completed invitation still links to it.
    notify.phone_audio_changed(world, app, conv)
    notify.invitation_changed(world, inv, "completed")
    end_conversation(world, app, conv)


def _derive(world: World, inv: InvitationState, accepted_by: str) -> None:
    """The derived conversation of an addPhoneAudio answered by someone new (module doc)."""
    conv = inv.conversation
    app = inv.app
    # [infer] subject and importance carried over; a new thread.
    derived = world.add_conversation(app, conv.subject, [], datetime.now(UTC),
                                     conv.importance, [])
    derived.ends_with_call = True
    derived.call = inv
    derived.state = derived.phone_audio_state = "Connecting"
    inv.derived = derived
    notify.conversation_changed(world, app, derived, added=True, local_joined=True)
    derived.state = derived.phone_audio_state = "Connected"
    derived.participants.append(accepted_by)
    notify.conversation_changed(world, app, derived, joined=accepted_by)
    conv.phone_audio_state = "Disconnected"
    notify.phone_audio_changed(world, app, conv)


def end_conversation(world: World, app: ApplicationState, conv: ConversationState) -> None:
    """The user leaves ``conv`` (DELETE, or the end of the call that made it): its phone
    audio stops, the lifecycle events go out, and the resource no longer exists."""
    stopped = conv.phone_audio_state != "Disconnected"
    conv.phone_audio_state = "Disconnected"
    conv.on_hold = False
    conv.state = "Disconnected"
    notify.conversation_ended(world, app, conv, phone_audio_stopped=stopped)
    app.conversations.pop(conv.id, None)


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


async def _ring(world: World, phone: PhoneSpec) -> str:
    """Ring a phone; return what its owner did: answers, busy, declines or never_answers."""
    if phone.behaviour == "never_answers":
        await asyncio.sleep(world.settings.ring_timeout)
    else:
        await asyncio.sleep(phone.after)
    return phone.behaviour


async def _ring_callee(world: World, callee: dialling.Reached) -> str:
    """Ring the callee; "forwarded" when their forwarding takes the call first: it was not
    answered (nor refused) within the forwarding's delay. [infer] Forwarding applies to a
    call left unanswered (callForwardingSettings' "unanswered" calls), not to busy or
    declined ones; it takes the call before the ring timeout gives up."""
    forward = callee.forward
    phone = callee.phone
    if forward is not None and (phone.behaviour == "never_answers"
                                or phone.after >= forward.after):
        await asyncio.sleep(forward.after)
        return "forwarded"
    return await _ring(world, phone)


async def run_call(world: World, inv: InvitationState) -> None:
    await asyncio.sleep(0)
    notify.invitation_changed(world, inv, "updated")  # ringing the user's own phone
    if await _ring(world, _own_phone(world, inv)) != "answers":
        complete(world, inv, "Failure", "Failed", Reason(
            "LocalFailure", "PstnCallFailed",
            f"Your phone {inv.phone_number} was not answered, so the call was not placed."))
        return
    callee = dialling.reach(world.scenario, inv.to)
    if callee is None:
        complete(world, inv, "Failure", "Failed", Reason(
            "NotFound", "DestinationNotFound", f"{inv.to} could not be found."))
        return
    inv.state = "Alerting"
    notify.invitation_changed(world, inv, "updated")  # ringing the callee
    outcome = await _ring_callee(world, callee)
    if outcome == "forwarded":
        # InvitationState_ref's Forwarded; then the forwarding's target rings.
        inv.state = "Forwarded"
        notify.invitation_changed(world, inv, "updated")
        callee = dialling.forwarded(callee)
        outcome = await _ring(world, callee.phone)
    if outcome == "answers":
        complete(world, inv, "Success", "Connected", accepted_by=callee.answerer)
    elif outcome == "busy":
        complete(world, inv, "Failure", "Failed",
                 Reason("RemoteFailure", "Busy", f"{inv.to} is busy."))
    elif outcome == "declines":
        complete(world, inv, "Failure", "Declined",
                 Reason("RemoteFailure", "Declined", f"{inv.to} declined the call."))
    else:
        complete(world, inv, "Failure", "Failed",
                 Reason("Timeout", None, f"{inv.to} did not answer."))
