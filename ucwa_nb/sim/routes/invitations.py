"""The phoneAudioInvitation routes: an invitation, and the derived conversation and phoneAudio
of an addPhoneAudio answered by someone new. Its cancel operation is served from the table of
operations (``routes/operations.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import ucwa_response
from ucwa_nb.sim.routes.common import invitation_of, route, world_of
from ucwa_nb.sim.rules import offers
from ucwa_nb.sim.state import ApplicationState, ConversationState, InvitationState

__all__ = ["ROUTES"]


async def invitation(request: Request) -> Response:
    _, inv = invitation_of(request)
    return ucwa_response(request, render.invitation(inv, world_of(request).scenario))


def _derived(app: ApplicationState, inv: InvitationState) -> ConversationState:
    derived = inv.derived
    if derived is None or not offers.exists(app, derived):
        raise SimError(404, "NotFound", None)
    return derived


async def derived_conversation(request: Request) -> Response:
    """derivedConversation_ref: GET answers the related conversation (rel conversation)."""
    app, inv = invitation_of(request)
    return ucwa_response(request, render.conversation(app, _derived(app, inv)))


async def derived_phone_audio(request: Request) -> Response:
    """derivedPhoneAudio_ref: GET answers the phoneAudio of the derived conversation."""
    app, inv = invitation_of(request)
    return ucwa_response(request, render.phone_audio(app, _derived(app, inv)))


ROUTES = [
    route("phoneAudioInvitation", invitation, "GET"),
    route("derivedConversation", derived_conversation, "GET"),
    route("derivedPhoneAudio", derived_phone_audio, "GET"),
]
