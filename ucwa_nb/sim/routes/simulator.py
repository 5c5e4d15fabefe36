"""The simulator's own route, outside UCWA: every call so far, as JSON, for a trainer watching
a ``ucwa-nb serve`` started elsewhere (``Simulator.activity`` from Python).

Only the trainer sees it (``trainer.py``). The list can be long (every attendee's calls), so
it is written in chunks, handing the event loop back between them: a trainer's refresh never
stalls the attendees' requests.
"""

from __future__ import annotations

import asyncio
import json
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
    refusal = await gate.admit(request)
    if refusal is not None:
        return refusal
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


async def oauth_callback(request: Request) -> Response:
    """Where the hub's login comes back to (a JupyterHub service's ``oauth_callback``)."""
    gate: TrainerGate = request.app.state.trainer_gate
    return await gate.callback(request)


ROUTES = [route("activity", activity, "GET"), route("oauth_callback", oauth_callback, "GET")]
