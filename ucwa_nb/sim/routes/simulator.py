"""The simulator's own routes, outside UCWA: every call so far, for a trainer watching a
``ucwa-nb serve`` started elsewhere (``Simulator.activity`` from Python): a JSON array, or,
for a browser (``Accept: text/html`` without ``application/json``), a page that refreshes
itself every few seconds, with the exercises grid above the calls; the grid alone as JSON
(``grid``) and as a CSV download (``grid.csv``).

Only the trainer sees it (``trainer.py``), and no other site may frame it or the hub's login
steps around it: every answer of these routes, refusals and redirects included, says so in
both headers browsers read (CSP ``frame-ancestors 'none'``, and ``X-Frame-Options: DENY``
for older ones), so that a page cannot overlay the trainer's view and trick clicks on it.

The list can be long (every attendee's calls), so it is written in chunks, handing the event
loop back between them: a trainer's refresh never stalls the attendees' requests. Every
cell of the table is escaped: attendees choose what some of them say (an operationId, a
number), and must not be able to write into the trainer's page.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ucwa_nb.protocol.exercises import EXERCISES
from ucwa_nb.sim.failures import latest_failures_html
from ucwa_nb.sim.http import COMMON_HEADERS
from ucwa_nb.sim.progress_grid import grid_csv, grid_html, grid_rows
from ucwa_nb.sim.routes.common import route, world_of
from ucwa_nb.sim.rules.world import activity_row
from ucwa_nb.sim.state import InvitationState
from ucwa_nb.sim.trainer import TrainerGate

__all__ = ["ROUTES"]

CHUNK = 250  # rows encoded per turn of the event loop
NO_FRAMING = "frame-ancestors 'none'"


def _unframeable(response: Response) -> Response:
    """``response`` with the headers that forbid framing it, kept with any policy it has."""
    policy = response.headers.get("content-security-policy")
    response.headers["Content-Security-Policy"] = \
        f"{policy}; {NO_FRAMING}" if policy else NO_FRAMING
    response.headers["X-Frame-Options"] = "DENY"
    return response


async def activity(request: Request) -> Response:
    """The class's calls (JSON or a table) for the trainer; never framed by another site."""
    return _unframeable(await _activity(request))


async def _activity(request: Request) -> Response:
    gate: TrainerGate = request.app.state.trainer_gate
    refusal = await gate.admit(request)
    if refusal is not None:
        return refusal
    calls = world_of(request).calls()
    headers = {**COMMON_HEADERS, "Cache-Control": "no-store", "Vary": "Accept"}
    if _wants_html(request.headers.get("accept", "")):
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        count = f"{len(calls)} call" + ("" if len(calls) == 1 else "s")
        # Above the calls: the exercises grid (sim/progress_grid.py); below them, each
        # attendee's latest failure, explained (sim/failures.py).
        head = _HTML_HEAD.format(count=count, grid=grid_html(grid_rows(world_of(request))))
        failures = latest_failures_html(calls, world_of(request).progress)
        tail = _HTML_TAIL.replace("</body>", failures + "</body>", 1)
        page = _chunks(calls, head, _table_row, "", tail)
        return StreamingResponse(page, media_type="text/html; charset=utf-8",
                                 headers=headers)
    return StreamingResponse(_chunks(calls, "[", json.dumps, ",", "]"),
                             media_type="application/json", headers=headers)


def _wants_html(accept: str) -> bool:
    # A browser asks for text/html first; curl (*/*), httpx and scripts get JSON.
    return "text/html" in accept and "application/json" not in accept


async def _chunks(calls: list[InvitationState], head: str,
                  encode: Callable[[dict[str, Any]], str], separator: str,
                  tail: str) -> AsyncIterator[bytes]:
    yield head.encode()
    for start in range(0, len(calls), CHUNK):
        rows = [encode(activity_row(inv)) for inv in calls[start:start + CHUNK]]
        yield ((separator if start else "") + separator.join(rows)).encode()
        await asyncio.sleep(0)
    yield tail.encode()


_COLUMNS = ("user", "operation", "operation_id", "to", "phone_number", "state", "status",
            "reason", "application", "invitation")
_HTML_HEAD = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta http-equiv="refresh" content="5"><title>ucwa-nb: the class\'s calls</title>'
    "<style>body{{font:14px system-ui,sans-serif;margin:1.5em}}"
    "table{{border-collapse:collapse}}th,td{{border:1px solid #999;padding:.25em .5em;"
    "text-align:left}}th{{background:#eee}}"
    "td.passed{{background:#c8e6c9;color:#1b5e20}}td.tried{{background:#ffe0b2;color:#6d3b00}}"
    "</style></head><body>"
    "<h1>The class</h1>{grid}"
    "<h2>Every call so far</h2><p>{count}; this page refreshes every 5 seconds "
    "(JSON: ask for <code>application/json</code>).</p><table id=\"calls\"><thead><tr>"
    + "".join(f"<th>{html.escape(column.replace('_', ' '))}</th>" for column in _COLUMNS)
    + "</tr></thead><tbody>")
_HTML_TAIL = "</tbody></table></body></html>\n"


def _table_row(row: dict[str, Any]) -> str:
    cells = ("" if row[column] is None else str(row[column]) for column in _COLUMNS)
    return "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"


async def grid(request: Request) -> Response:
    """The exercises grid as JSON (``progress_grid.py``), for the trainer only."""
    refusal = await _trainer_only(request)
    if refusal is not None:
        return refusal
    return JSONResponse({"exercises": [spec.id for spec in EXERCISES],
                         "attendees": grid_rows(world_of(request))},
                        headers={**COMMON_HEADERS, "Cache-Control": "no-store"})


async def grid_download(request: Request) -> Response:
    """The exercises grid as a CSV download, for the trainer only."""
    refusal = await _trainer_only(request)
    if refusal is not None:
        return refusal
    return Response(grid_csv(grid_rows(world_of(request))), media_type="text/csv",
                    headers={**COMMON_HEADERS, "Cache-Control": "no-store",
                             "Content-Disposition": 'attachment; filename="exercises.csv"'})


async def _trainer_only(request: Request) -> Response | None:
    gate: TrainerGate = request.app.state.trainer_gate
    return await gate.admit(request)


async def oauth_callback(request: Request) -> Response:
    """Where the hub's login comes back to (a JupyterHub service's ``oauth_callback``)."""
    gate: TrainerGate = request.app.state.trainer_gate
    return _unframeable(await gate.callback(request))


ROUTES = [route("activity", activity, "GET"), route("grid", grid, "GET"),
          route("gridCsv", grid_download, "GET"), route("oauth_callback", oauth_callback, "GET")]
