"""The event channel's route: the long-poll GET of an application's ``events``.

Reads the poll's query (ack, timeout, priority, low, medium), parks it on the application's
``Channel`` (``channel.py``, which decides what a poll gets) until an outcome or the client
hangs up, and writes the outcome as an ``events`` resource or the matching error.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.protocol.representation import Events, Link, Sender
from ucwa_nb.sim import paths
from ucwa_nb.sim.channel import PollOutcome
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import disconnected, ucwa_response
from ucwa_nb.sim.routes.common import app_of, route, world_of
from ucwa_nb.sim.state import ApplicationState

__all__ = ["MAX_POLL_TIMEOUT", "ROUTES"]

MAX_POLL_TIMEOUT = 1800.0


# events_ref's defaults, used until the application names its own value.
DEFAULTS = {"low": 15.0, "medium": 5.0}


async def events(request: Request) -> Response:
    world = world_of(request)
    settings = world.settings
    _, app = app_of(request)
    query = dict(parse_qsl(request.url.query))
    try:
        ack = int(query.get("ack", "1"))
        priority = max(0, int(query.get("priority", "0")))
        given: dict[str, float] = {name: float(query[name])
                                   for name in ("timeout", "low", "medium") if name in query}
    except ValueError:
        raise SimError(400, "BadRequest", "ParameterValidationFailure",
                       parameters={"ack": "ack, timeout, priority, low and medium must "
                                          "be numbers."}) from None
    _check_bounds(given, settings.min_poll_timeout, settings.min_poll_aggregation)
    # EventChannelDetails: the parameters "are remembered by the server and will take effect
    # for the next P-GET until the client changes them again".
    remembered = app.channel.parameters
    remembered.update(given)
    timeout = remembered.get("timeout", settings.default_poll_timeout)
    low = remembered.get("low", DEFAULTS["low"])
    medium = remembered.get("medium", DEFAULTS["medium"])
    if world.closing:
        # Shutting down: a poll parked now would hold uvicorn's shutdown until its
        # graceful timeout. Answer it as the parked ones were.
        raise SimError(503, "ServiceUnavailable", None, "The server is shutting down.")
    world.progress.polled(app, ack)  # following a resync? (rules/progress.py)
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


def _events_response(request: Request, app: ApplicationState,
                     outcome: PollOutcome) -> Response:
    base = paths.path("events", app=app.id)
    if outcome.kind == "replaced":
        raise SimError(409, "Conflict", "PGetReplaced")
    if outcome.kind == "gone":
        raise SimError(404, "NotFound", "ApplicationNotFound")
    if outcome.kind == "shutdown":
        raise SimError(503, "ServiceUnavailable", None, "The server is shutting down.")
    if outcome.kind == "resync":
        world_of(request).progress.resync(app, outcome.ack)
        # EventsInUCWA: "the event response will contain nothing but a "resync" link,
        # pointing to the last event package that the client has not yet acknowledged".
        return ucwa_response(request, Events(
            {"resync": [Link("resync", f"{base}?ack={outcome.ack}")]}))
    links = {"self": [Link("self", f"{base}?ack={outcome.ack}")]}
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


async def _unless_hung_up(request: Request,
                          future: asyncio.Future[PollOutcome]) -> PollOutcome | None:
    """The poll's outcome, or None if the client disconnects first. uvicorn does not cancel a
    request whose client went away; it only answers ``receive()`` with http.disconnect."""
    if future.done():
        return future.result()

    watcher = asyncio.ensure_future(disconnected(request.receive))
    either: set[asyncio.Future[Any]] = {future, watcher}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    return future.result() if future.done() else None


def _check_bounds(given: dict[str, float], min_timeout: float,
                  min_aggregation: float) -> None:
    """events_ref: timeout "The minimum possible value is 180 seconds and the maximum possible
    value is 1800 seconds"; low and medium "The minimum possible value is 5 seconds and the
    maximum possible value is 1800 seconds" (the minimums are scenario settings).

    The page names no error for a value outside them. [infer] Refused with the generic
    400 ParameterValidationFailure rather than clamped: a client asking for 30 s and getting
    a 180 s hold would take its poll for lost; refusing shows the mistake on the simulator
    instead of on the first real server."""
    bad: dict[str, str] = {}
    for name, value in given.items():
        # float() reads "nan" and "inf": NaN, handed to call_later, breaks the ordering of
        # the event loop's timer heap. Refuse non-finite values like other bad numbers.
        if not math.isfinite(value):
            bad[name] = "This parameter must be a finite number."
            continue
        lowest = min_timeout if name == "timeout" else min_aggregation
        if not lowest <= value <= MAX_POLL_TIMEOUT:
            bad[name] = (f"{name} must be between {lowest:g} and {MAX_POLL_TIMEOUT:g} "
                         f"seconds.")
    if bad:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=bad)


ROUTES = [route("events", events, "GET")]
