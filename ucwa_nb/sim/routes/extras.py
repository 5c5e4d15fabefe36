"""Where the simulator's other links lead: read-only resources with no operation of their own.

Every link a client is shown must work (Hypermedia.md: clients follow hrefs, a missing link
means "not possible now"), so each link ``render.py`` puts out either leads to a route or is
not rendered at all. These are: me's ``phones`` (phones_ref); the application's ``policies``
(policies_ref) and its embedded ``people`` and ``onlineMeetings``; the contacts that
participants, recipients and invitations link to (``people/<uri>``); a conversation's
``messaging`` (state only: the simulator sends no messages).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import ucwa_response
from ucwa_nb.sim.routes.common import app_of, conversation_of, found, route, world_of
from ucwa_nb.sim.rules.world import known_person_name

__all__ = ["ROUTES"]


async def phones(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.phones(app))


async def phone(request: Request) -> Response:
    _, app = app_of(request)
    if request.path_params["phone"] != "work" or not app.user.spec.phone:
        raise SimError(404, "NotFound", None)
    return ucwa_response(request, render.phone(app))


async def policies(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.policies(app))


async def people(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.application(app).embedded["people"][0])


async def online_meetings(request: Request) -> Response:
    _, app = app_of(request)
    return ucwa_response(request, render.application(app).embedded["onlineMeetings"][0])


async def contact(request: Request) -> Response:
    _, app = app_of(request)
    uri = "sip:" + request.path_params["person"]
    name = found(known_person_name(world_of(request).scenario, uri))
    return ucwa_response(request, render.contact(app, uri, name))


async def messaging(request: Request) -> Response:
    _, app, conv = conversation_of(request)
    return ucwa_response(request, render.messaging(app, conv))


ROUTES = [
    route("phones", phones, "GET"),
    route("phone", phone, "GET"),
    route("policies", policies, "GET"),
    route("people", people, "GET"),
    route("onlineMeetings", online_meetings, "GET"),
    route("contact", contact, "GET"),
    route("messaging", messaging, "GET"),
]
