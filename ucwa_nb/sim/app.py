"""The simulator's Starlette application: one route per UCWA resource of the phone-audio slice."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ucwa_nb.representation import Events, Link, Sender
from ucwa_nb.sim import extras, render
from ucwa_nb.sim.channel import PollOutcome
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import challenge, error_response, read_body, read_input, ucwa_response
from ucwa_nb.sim.state import Application, Token
from ucwa_nb.sim.world import World

__all__ = ["create_app"]

Handler = Callable[[Request], Awaitable[Response]]
MAX_POLL_TIMEOUT = 1800.0


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

    # ------------------------------------------------------------------ discovery and sign-in

    async def root(request: Request) -> Response:
        return ucwa_response(request, render.root())

    async def user(request: Request) -> Response:
        token_of(request)
        return ucwa_response(request, render.user())

    async def xframe(request: Request) -> Response:
        return Response("<html><body>XFrame</body></html>", media_type="text/html")

    async def oauth_token(request: Request) -> Response:
        fqdn = settings.server_fqdn

        def oauth_error(error: str, diagnostic: str) -> Response:
            return JSONResponse({"error": error}, 400, headers={
                "Cache-Control": "no-store", "Pragma": "no-cache",
                "X-Ms-diagnostics": f'{diagnostic};source="{fqdn}"'})

        try:
            body = await read_body(request, settings.max_body_bytes)
        except SimError as error:
            if error.status != 400:  # 413: the limit every endpoint shares, in its UCWA shape
                raise
            # A body that cannot be read (a bad Content-Length, a truncated body) is, at the
            # token endpoint, an OAuth invalid_request like every other 400 there.
            return oauth_error("invalid_request",
                               '28032;reason="The request body could not be read."')
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return oauth_error("invalid_request",
                               '28032;reason="The request must be form-url-encoded."')
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        grant = form.get("grant_type")
        if not grant:
            # RFC 6749 5.2: a missing required parameter is invalid_request;
            # unsupported_grant_type is for a grant that was named but is not offered.
            return oauth_error("invalid_request", '28033;reason="grant_type is required."')
        if form.get("scope", "all") != "all":
            return oauth_error("invalid_scope", '28031;reason="Only the scope all is valid."')
        if grant == "password":
            if not form.get("username") or not form.get("password"):
                return oauth_error("invalid_request",
                                   '28033;reason="username and password are required."')
            token = world.issue_token(form["username"], form["password"])
            if token is None:
                return oauth_error("invalid_grant", '28020;reason="No valid security token."')
            return JSONResponse(
                {"access_token": token.value, "expires_in": settings.token_lifetime,
                 "ms_rtc_identityscope": "local", "token_type": "Bearer"},
                headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        if grant in ("urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting"):
            # Offered in the challenge as real servers do, but Windows authentication and
            # anonymous meeting join have nothing to authenticate against here.
            return oauth_error("invalid_grant", '28020;reason="No valid security token."')
        return oauth_error("unsupported_grant_type",
                           '28029;reason="Authentication type not allowed."')

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

    async def events(request: Request) -> Response:
        _, app = app_of(request)
        query = dict(parse_qsl(request.url.query))
        try:
            ack = int(query.get("ack", "1"))
            timeout = float(query.get("timeout", settings.default_poll_timeout))
            priority = max(0, int(query.get("priority", "0")))
            low = float(query.get("low", "15"))
            medium = float(query.get("medium", "5"))
        except ValueError:
            raise SimError(400, "BadRequest", "ParameterValidationFailure",
                           parameters={"ack": "ack, timeout, priority, low and medium must "
                                              "be numbers."}) from None
        # float() reads "nan" and "inf": NaN survives the clamp below and, handed to
        # call_later, breaks the ordering of the event loop's timer heap (the poll and other
        # timers fire late or at once). Refuse non-finite values like other bad numbers.
        bad = [name for name, value in (("timeout", timeout), ("low", low), ("medium", medium))
               if not math.isfinite(value)]
        if bad:
            raise SimError(400, "BadRequest", "ParameterValidationFailure",
                           parameters={name: "This parameter must be a finite number."
                                       for name in bad})
        timeout = min(max(timeout, settings.min_poll_timeout), MAX_POLL_TIMEOUT)
        if world.closing:
            # Shutting down: a poll parked now would hold uvicorn's shutdown until its
            # graceful timeout. Answer it as the parked ones were.
            raise SimError(503, "ServiceUnavailable", None, "The server is shutting down.")
        future = app.channel.poll(ack, timeout=timeout, priority=priority, low=low,
                                  medium=medium)
        try:
            outcome = await _unless_hung_up(request, future)
        except asyncio.CancelledError:
            app.channel.abandon(future)
            raise
        if outcome is None:
            # The client hung up while its poll was parked: let the poll go, so that the
            # application no longer looks polled (it expires, its channel stops being live).
            # Nobody is left to read an answer; uvicorn drops it.
            app.channel.abandon(future)
            return Response(status_code=204)
        return _events_response(request, app, outcome)

    def _events_response(request: Request, app: Application, outcome: PollOutcome) -> Response:
        base = f"{render.app_path(app)}/events"
        if outcome.kind == "replaced":
            raise SimError(409, "Conflict", "PGetReplaced")
        if outcome.kind == "gone":
            raise SimError(404, "NotFound", "ApplicationNotFound")
        if outcome.kind == "shutdown":
            raise SimError(503, "ServiceUnavailable", None, "The server is shutting down.")
        links = {"self": [Link("self", f"{base}?ack={outcome.ack}")]}
        if outcome.kind == "resync":
            links["resync"] = [Link("resync", f"{base}?ack={outcome.ack}")]
            return ucwa_response(request, Events(links))
        links["next"] = [Link("next", f"{base}?ack={outcome.ack + 1}")]
        senders: list[Sender] = []
        for pending in outcome.events:
            last = senders[-1] if senders else None
            if last is None or (last.rel, last.href) != (pending.sender_rel,
                                                         pending.sender_href):
                last = Sender(pending.sender_rel, pending.sender_href)
                senders.append(last)
            last.events.append(pending.event)
        return ucwa_response(request, Events(links, senders))

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

    async def phone_audio(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        return ucwa_response(request, render.phone_audio(app, conv))

    async def add_phone_audio(request: Request) -> Response:
        token, app, conv = conversation_of(request)
        props = await read_input(request, settings.max_body_bytes)
        inv = world.add_phone_audio(token, app, conv, props)
        return _created(inv)

    async def stop_phone_audio(request: Request) -> Response:
        _, app, conv = conversation_of(request)
        await read_body(request, settings.max_body_bytes)
        world.stop_phone_audio(app, conv)
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
        inv = world.continue_phone_audio(token, app, log, props)
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
        world.cancel(inv)
        return Response(status_code=204)

    async def person(request: Request) -> Response:
        _, app = app_of(request)
        uri = "sip:" + request.path_params["person"]
        contact = world.scenario.contact(uri)
        other = world.scenario.user(uri)
        if contact is None and other is None:
            raise SimError(404, "NotFound", None)
        name = contact.name if contact else other.name if other else ""
        from ucwa_nb.representation import Resource

        return ucwa_response(request, Resource(
            "contact", f"{render.app_path(app)}/people/{request.path_params['person']}",
            {"name": name, "uri": uri}, {}))

    async def activity(request: Request) -> Response:
        return JSONResponse(world.activity())

    A = render.APPLICATIONS + "/{app}"
    C = A + "/communication"
    routes = [
        Route(render.ROOT, guarded(root), methods=["GET"]),
        Route("/_simulator/activity", guarded(activity), methods=["GET"]),
        Route(render.USER, guarded(user), methods=["GET"]),
        Route(render.XFRAME, xframe, methods=["GET"]),
        Route(render.TOKEN, guarded(oauth_token), methods=["POST"]),
        Route(render.APPLICATIONS, guarded(create_application), methods=["POST"]),
        Route(A, guarded(application), methods=["GET", "DELETE"]),
        Route(A + "/events", guarded(events), methods=["GET"]),
        Route(A + "/me", guarded(me), methods=["GET"]),
        Route(A + "/people/{person}", guarded(person), methods=["GET"]),
        Route(C, guarded(communication), methods=["GET"]),
        Route(C + "/conversations", guarded(conversations), methods=["GET"]),
        Route(C + "/conversations/{conv}", guarded(conversation), methods=["GET"]),
        Route(C + "/conversations/{conv}/participants", guarded(participants), methods=["GET"]),
        Route(C + "/conversations/{conv}/participants/{participant}", guarded(participant),
              methods=["GET"]),
        Route(C + "/conversations/{conv}/phoneAudio", guarded(phone_audio), methods=["GET"]),
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
        *extras.routes(world, extras.Plumbing(guarded, app_of, conversation_of, _created,
                                              settings.max_body_bytes)),
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


async def _unless_hung_up(request: Request,
                          future: asyncio.Future[PollOutcome]) -> PollOutcome | None:
    """The poll's outcome, or None if the client disconnects first. uvicorn does not cancel a
    request whose client went away; it only answers ``receive()`` with http.disconnect."""
    if future.done():
        return future.result()

    async def hung_up() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(hung_up())
    either: set[asyncio.Future[Any]] = {future, watcher}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    return future.result() if future.done() else None


async def _sweep(world: World) -> None:
    """Delete applications nobody polls; check often enough for short test expiries."""
    interval = max(0.05, min(1.0, world.settings.application_expiry / 4))
    while True:
        await asyncio.sleep(interval)
        world.expire_idle()
