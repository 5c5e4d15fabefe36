"""The call-via-work lifecycle of one phoneAudioInvitation, as an asyncio task.

Call via work rings the user's own phone first; once the user picks up, the server calls the
target and bridges the two legs (ucwa-protocol.md sections 2.6 and 7). On the event channel:

    started   state Connecting   (sent by phone_audio._start, before the 201)
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
from typing import TYPE_CHECKING

from ucwa_nb.protocol.representation import Reason
from ucwa_nb.sim.phone_audio import complete, emit_invitation
from ucwa_nb.sim.scenario import PhoneSpec

if TYPE_CHECKING:
    from ucwa_nb.sim.state import Invitation
    from ucwa_nb.sim.world import World

__all__ = ["run_call"]


def _own_phone(world: World, inv: Invitation) -> PhoneSpec:
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


async def run_call(world: World, inv: Invitation) -> None:
    await asyncio.sleep(0)
    emit_invitation(world, inv, "updated")  # ringing the user's own phone
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
    emit_invitation(world, inv, "updated")  # ringing the callee
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
