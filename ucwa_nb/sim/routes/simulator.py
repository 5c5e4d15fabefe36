"""The simulator's own route, outside UCWA: every call so far, as JSON, for a trainer watching
a ``ucwa-nb serve`` started elsewhere (``Simulator.activity`` from Python).

Only the trainer sees it (``trainer.py``). The list can be long (every attendee's calls), so
it is written in chunks, handing the event loop back between them: a trainer's refresh never
stalls the attendees' requests.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ucwa_nb.sim.http import COMMON_HEADERS
from ucwa_nb.sim.routes.common import route, world_of
from ucwa_nb.sim.rules.world import activity_row
from ucwa_nb.sim.state import InvitationState
from ucwa_nb.sim.trainer import TrainerGate

__all__ = ["ROUTES"]

CHUNK = 250  # rows encoded per turn of the event loop


async def activity(request: Request) -> Response:
    gate: TrainerGate = request.app.state.trainer_gate
    allowed, wait = gate.allows(request)
    if not allowed:
        headers = {"WWW-Authenticate": 'Basic realm="ucwa-nb trainer", charset="UTF-8"',
                   **COMMON_HEADERS}
        if wait:
            headers["Retry-After"] = str(max(1, math.ceil(min(wait, 86400.0))))
        return Response("The trainer's credentials are required.\n", 429 if wait else 401,
                        headers, media_type="text/plain")
    calls = world_of(request).calls()
    return StreamingResponse(_rows(calls), media_type="application/json",
                             headers={**COMMON_HEADERS, "Cache-Control": "no-store"})


async def _rows(calls: list[InvitationState]) -> AsyncIterator[bytes]:
    yield b"["
    for start in range(0, len(calls), CHUNK):
        rows = [json.dumps(activity_row(inv)) for inv in calls[start:start + CHUNK]]
        yield (b"," if start else b"") + ",".join(rows).encode()
        await asyncio.sleep(0)
    yield b"]"


ROUTES = [route("activity", activity, "GET")]
