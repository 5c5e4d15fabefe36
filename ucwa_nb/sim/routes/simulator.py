"""The simulator's own route, outside UCWA: every call so far, as JSON, for a trainer watching
a ``ucwa-nb serve`` started elsewhere (``Simulator.activity`` from Python).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ucwa_nb.sim.routes.common import route, world_of

__all__ = ["ROUTES"]


async def activity(request: Request) -> Response:
    return JSONResponse(world_of(request).activity())


ROUTES = [route("activity", activity, "GET")]
