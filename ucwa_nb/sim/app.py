"""The simulator's Starlette application: one route per UCWA resource of the phone-audio slice.

``create_app`` builds the request helpers every handler shares (the error guard, the bearer
token and application lookups: ``http.Plumbing``) and the routes of applications,
communication, conversations, conversation logs and phoneAudioInvitations, whose rules are in
``world.py`` and ``phone_audio.py``. The other routes come from ``signin_routes.py``
(discovery, OAuth), ``event_routes.py`` (the event channel) and ``extras.py`` (where the
remaining links lead).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ucwa_nb.sim import event_routes, extras, phone_audio, render, signin_routes
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import (
    Handler,
    Plumbing,
    challenge,
    error_response,
    read_body,
    read_input,
    ucwa_response,
)
from ucwa_nb.sim.state import Application, Token
from ucwa_nb.sim.world import World

__all__ = ["create_app"]


def create_app(world: World) -> Starlette:
    settings = world.settings

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except SimError as error:
                return error_response(request, error)
            except _Challenge:
                return challenge(request, settings.server_fqdn)
            except asyncio.CancelledError:
                raise
            except Exception:  # never a stack trace in a response
                return error_response(request, SimError(500, "ServiceFailure"))

        return endpoint

    def token_of(request: Request) -> Token:
        token = world.authenticate(request.headers.get("authorization"))
        if token is None:
            raise _Challenge()
        return token

    def app_of(request: Request) -> tuple[Token, Application]:
        token = token_of(request)
        return token, world.application(token, request.path_params["app"])

    def found(value: Any) -> Any:
        if value is None:
            raise SimError(404, "NotFound", None)
        return value

    # ------------------------------------------------------------------ applications

    async def create_application(request: Request) -> Response:
        token = token_of(request)
        props = await read_input(request, settings.max_body_bytes)
        app, created = world.create_application(token, props)
        return ucwa_response(request, render.application(app), 201 if created else 200,
                             {"ETag": f'"{app.id}"'})

    async def application(request: Request) -> Response:
        _, app = app_of(request)
        if request.method == "DELETE":
            world.delete_application(app)
            return Response(status_code=204)
        return ucwa_response(request, render.application(app))

    async def me(request: Request) -> Response:
        _, app = app_of(request)
        return ucwa_response(request, render.me(app))

    async def communication(request: Request) -> Response:
        _, app = app_of(request)
        return ucwa_response(request, render.communication(app))

    # ------------------------------------------------------------------ conversations

    def conversation_of(request: Request) -> tuple[Token, Application, Any]:
        token, app = app_of(request)
        return token, app, found(app.user.conversations.get(request.path_params["conv"]))

    async def conversations(request: Request) -> Response:
        _, app = app_of(request)
        return ucwa_response(request, render.conversations(app))

    async def conversation(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        return ucwa_response(request, render.conversation(app, conv))

    async def participants(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        return ucwa_response(request, render.participants(app, conv, world.scenario))

    async def participant(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        uri = "sip:" + request.path_params["participant"]
        if request.path_params["participant"] == app.user.key:
            return ucwa_response(request, render.local_participant(app, conv))
        if uri not in conv.participants:
            raise SimError(404, "NotFound", None)
        return ucwa_response(request, render.participant(app, conv, uri, world.scenario))

    async def get_phone_audio(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        return ucwa_response(request, render.phone_audio(app, conv))

    async def add_phone_audio(request: Request) -> Response:
        token, app, conv = conversation_of(request)
        props = await read_input(request, settings.max_body_bytes)
        inv = phone_audio.add_phone_audio(world, token, app, conv, props)
        return _created(inv)

    async def stop_phone_audio(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        await read_body(request, settings.max_body_bytes)
        phone_audio.stop_phone_audio(world, app, conv)
        return Response(status_code=204)

    async def conversation_logs(request: Request) -> Response:
        _, app = app_of(request)
        limit = request.query_params.get("limit")
        # isdigit() alone let "²" and 5,000-digit numbers through to int(), which raised
        # (a 500): only ASCII digits count, and a number too long for int() means no limit.
        count = None
        if limit is not None and limit.isascii() and limit.isdigit():
            with contextlib.suppress(ValueError):
                count = int(limit)
        return ucwa_response(request, render.conversation_logs(app, count))

    async def conversation_log(request: Request) -> Response:
        _, app = app_of(request)
        log = found(app.user.logs.get(request.path_params["log"]))
        return ucwa_response(request, render.conversation_log(app, log, world.scenario))

    async def continue_phone_audio(request: Request) -> Response:
        token, app = app_of(request)
        log = found(app.user.logs.get(request.path_params["log"]))
        props = await read_input(request, settings.max_body_bytes)
        inv = phone_audio.continue_phone_audio(world, token, app, log, props)
        return _created(inv)

    def _created(inv: Any) -> Response:
        return Response(status_code=201, headers={
            "Location": render.invitation_path(inv), **_common()})

    async def invitation(request: Request) -> Response:
        _, app = app_of(request)
        inv = found(app.invitations.get(request.path_params["inv"]))
        return ucwa_response(request, render.invitation(inv, world.scenario))

    async def cancel(request: Request) -> Response:
        _, app = app_of(request)
        inv = found(app.invitations.get(request.path_params["inv"]))
        await read_body(request, settings.max_body_bytes)
        phone_audio.cancel(world, inv)
        return Response(status_code=204)

    async def person(request: Request) -> Response:
        _, app = app_of(request)
        uri = "sip:" + request.path_params["person"]
        contact = world.scenario.contact(uri)
        other = world.scenario.user(uri)
        if contact is None and other is None:
            raise SimError(404, "NotFound", None)
        name = contact.name if contact else other.name if other else ""
        from ucwa_nb.protocol.representation import Resource

        return ucwa_response(request, Resource(
            "contact", f"{render.app_path(app)}/people/{request.path_params['person']}",
            {"name": name, "uri": uri}, {}))

    async def activity(request: Request) -> Response:
        return JSONResponse(world.activity())

    plumbing = Plumbing(guarded=guarded, token_of=token_of, app_of=app_of,
                        conversation_of=conversation_of, created=_created,
                        max_body=settings.max_body_bytes)
    A = render.APPLICATIONS + "/{app}"
    C = A + "/communication"
    routes = [
        # autodiscover root, user, XFrame, the OAuth token endpoint
        *signin_routes.routes(world, plumbing),
        Route("/_simulator/activity", guarded(activity), methods=["GET"]),
        Route(render.APPLICATIONS, guarded(create_application), methods=["POST"]),
        Route(A, guarded(application), methods=["GET", "DELETE"]),
        *event_routes.routes(world, plumbing),  # the long-poll GET of A + "/events"
        Route(A + "/me", guarded(me), methods=["GET"]),
        Route(A + "/people/{person}", guarded(person), methods=["GET"]),
        Route(C, guarded(communication), methods=["GET"]),
        Route(C + "/conversations", guarded(conversations), methods=["GET"]),
        Route(C + "/conversations/{conv}", guarded(conversation), methods=["GET"]),
        Route(C + "/conversations/{conv}/participants", guarded(participants), methods=["GET"]),
        Route(C + "/conversations/{conv}/participants/{participant}", guarded(participant),
              methods=["GET"]),
        Route(C + "/conversations/{conv}/phoneAudio", guarded(get_phone_audio), methods=["GET"]),
        Route(C + "/conversations/{conv}/phoneAudio/addPhoneAudio", guarded(add_phone_audio),
              methods=["POST"]),
        Route(C + "/conversations/{conv}/phoneAudio/stopPhoneAudio",
              guarded(stop_phone_audio), methods=["POST"]),
        Route(C + "/conversationLogs", guarded(conversation_logs), methods=["GET"]),
        Route(C + "/conversationLogs/{log}", guarded(conversation_log), methods=["GET"]),
        Route(C + "/conversationLogs/{log}/continuePhoneAudio",
              guarded(continue_phone_audio), methods=["POST"]),
        Route(C + "/phoneAudioInvitations/{inv}", guarded(invitation), methods=["GET"]),
        Route(C + "/phoneAudioInvitations/{inv}/cancel", guarded(cancel), methods=["POST"]),
        # startPhoneAudio, hold/resume, makeMeAvailable, phones, policies, people, ...
        *extras.routes(world, plumbing),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return error_response(request, SimError(405, "MethodNotAllowed"))
        if status == 404:
            return error_response(request, SimError(404, "NotFound"))
        return error_response(request, SimError(500, "ServiceFailure"))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.get_running_loop().create_task(_sweep(world))
        world.closing = False  # serving (again, after a restart)
        try:
            yield
        finally:
            sweeper.cancel()
            world.shutdown()

    return Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: http_error,
            Exception: http_error,
        },
        lifespan=lifespan,
    )


class _Challenge(Exception):
    """No valid bearer token: answer 401 with the WWW-Authenticate challenge."""


def _common() -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


async def _sweep(world: World) -> None:
    """Delete applications nobody polls; check often enough for short test expiries."""
    interval = max(0.05, min(1.0, world.settings.application_expiry / 4))
    while True:
        await asyncio.sleep(interval)
        world.expire_idle()
