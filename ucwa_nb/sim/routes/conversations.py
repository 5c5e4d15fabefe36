"""The conversation routes: the active conversations, a conversation, its participants and
its phoneAudio with the phone-audio operations (add, stop, hold, resume).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import read_body, read_input, ucwa_response
from ucwa_nb.sim.routes.common import (
    app_of,
    conversation_of,
    created,
    max_body,
    route,
    world_of,
)
from ucwa_nb.sim.rules import phone_audio as rules
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState, ConversationState

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
    uri = "sip:" + key
    if uri not in conv.participants:
        raise SimError(404, "NotFound", None)
    return ucwa_response(request, render.participant(app, conv, uri, world_of(request).scenario))


async def phone_audio(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    return ucwa_response(request, render.phone_audio(app, conv))


async def add_phone_audio(request: Request) -> Response:
    token, app, conv = conversation_of(request)
    props = await read_input(request, max_body(request))
    return created(rules.add_phone_audio(world_of(request), token, app, conv, props))


def _acting_on(action: Callable[[World, ApplicationState, ConversationState], None]
               ) -> Callable[[Request], Awaitable[Response]]:
    """The route of an operation on a conversation that takes no input (DELETE
    conversation, stop/hold/resumePhoneAudio): any body is read (bounded) and ignored, the
    rule acts, and the answer is 204."""
    async def handler(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        await read_body(request, max_body(request))
        action(world_of(request), app, conv)
        return Response(status_code=204)
    return handler


leave_conversation = _acting_on(rules.leave_conversation)
stop_phone_audio = _acting_on(rules.stop_phone_audio)
hold_phone_audio = _acting_on(functools.partial(rules.hold_phone_audio, hold=True))
resume_phone_audio = _acting_on(functools.partial(rules.hold_phone_audio, hold=False))


ROUTES = [
    route("conversations", conversations, "GET"),
    route("conversation", conversation, "GET"),
    route("conversation", leave_conversation, "DELETE"),
    route("participants", participants, "GET"),
    route("participant", participant, "GET"),
    route("phoneAudio", phone_audio, "GET"),
    route("addPhoneAudio", add_phone_audio, "POST"),
    route("stopPhoneAudio", stop_phone_audio, "POST"),
    route("holdPhoneAudio", hold_phone_audio, "POST"),
    route("resumePhoneAudio", resume_phone_audio, "POST"),
]
