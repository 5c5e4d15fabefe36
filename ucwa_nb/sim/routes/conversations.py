"""The conversation routes: the active conversations, a conversation (GET, and DELETE to
leave it), its participants and its phoneAudio. The phone-audio operations (add, stop, hold,
resume) are served from the table of operations (``routes/operations.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import read_body, ucwa_response
from ucwa_nb.sim.routes.common import (
    app_of,
    conversation_of,
    max_body,
    route,
    world_of,
)
from ucwa_nb.sim.rules import phone_audio as rules

__all__ = ["ROUTES"]


async def conversations(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.conversations(app))


async def conversation(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    return ucwa_response(request, render.conversation(app, conv))


async def participants(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    return ucwa_response(request, render.participants(app, conv, world_of(request).scenario))


async def participant(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    key = request.path_params["participant"]
    if key == app.user.key:
        return ucwa_response(request, render.local_participant(app, conv, "localParticipant"))
    uri = render.participant_uri(key)
    if uri not in conv.participants:
        raise SimError(404, "NotFound", None)
    return ucwa_response(request, render.participant(app, conv, uri, world_of(request).scenario))


async def phone_audio(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    return ucwa_response(request, render.phone_audio(app, conv))


async def leave_conversation(request: Request) -> Response:
    """DELETE conversation (rules/phone_audio.leave_conversation): any body is read
    (bounded) and ignored; 204."""
    _, app, conv = conversation_of(request)
    await read_body(request, max_body(request))
    rules.leave_conversation(world_of(request), app, conv)
    return Response(status_code=204)


ROUTES = [
    route("conversations", conversations, "GET"),
    route("conversation", conversation, "GET"),
    route("conversation", leave_conversation, "DELETE"),
    route("participants", participants, "GET"),
    route("participant", participant, "GET"),
    route("phoneAudio", phone_audio, "GET"),
]
