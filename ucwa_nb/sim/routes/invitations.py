"""The phoneAudioInvitation routes: an invitation and its cancel operation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.http import read_body, ucwa_response
from ucwa_nb.sim.routes.common import invitation_of, max_body, route, world_of
from ucwa_nb.sim.rules import calls

__all__ = ["ROUTES"]


async def invitation(request: Request) -> Response:
    _, inv = invitation_of(request)
    return ucwa_response(request, render.invitation(inv, world_of(request).scenario))


async def cancel(request: Request) -> Response:
    _, inv = invitation_of(request)
    await read_body(request, max_body(request))
    calls.cancel(world_of(request), inv)
    return Response(status_code=204)


ROUTES = [
    route("phoneAudioInvitation", invitation, "GET"),
    route("cancel", cancel, "POST"),
]
