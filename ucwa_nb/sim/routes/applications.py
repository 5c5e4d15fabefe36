"""The application routes: creating and deleting an application, its ``me`` (and
makeMeAvailable) and its ``communication``; startPhoneAudio, on communication, is served
from the table of operations (``routes/operations.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.http import read_input, ucwa_response
from ucwa_nb.sim.routes.common import app_of, max_body, route, token_of, world_of
from ucwa_nb.sim.rules import communication as communication_rules
from ucwa_nb.sim.rules import me as me_rules

__all__ = ["ROUTES"]


async def create_application(request: Request) -> Response:
    token = token_of(request)
    world_of(request).check_fault("applications", token.user)
    props = await read_input(request, max_body(request))
    app, is_new = world_of(request).create_application(token, props)
    return ucwa_response(request, render.application(app), 201 if is_new else 200,
                         {"ETag": f'"{app.id}"'})


async def application(request: Request) -> Response:
    _, app = app_of(request)
    if request.method == "DELETE":
        world_of(request).delete_application(app)
        return Response(status_code=204)
    return ucwa_response(request, render.application(app))


async def me(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.me(app))


async def make_me_available(request: Request) -> Response:
    _, app = app_of(request)
    props = await read_input(request, max_body(request))
    me_rules.make_me_available(world_of(request), app, props)
    return Response(status_code=204)


async def communication(request: Request) -> Response:
    """GET, with the ETag a PUT must match (communication_ref's sample: an Etag header);
    PUT, conditional (rules/communication.py): 200 with no body and the new ETag."""
    _, app = app_of(request)
    if request.method == "PUT":
        props = await read_input(request, max_body(request))
        communication_rules.put_communication(world_of(request), app,
                                              request.headers.get("if-match"), props)
        return Response(status_code=200, headers={"ETag": communication_rules.etag(app)})
    return ucwa_response(request, render.communication(app),
                         headers={"ETag": communication_rules.etag(app)})


ROUTES = [
    route("applications", create_application, "POST"),
    route("application", application, "GET", "DELETE"),
    route("me", me, "GET"),
    route("makeMeAvailable", make_me_available, "POST"),
    route("communication", communication, "GET", "PUT"),
]
