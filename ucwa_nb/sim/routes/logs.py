"""The conversation-log routes: the logs, a log (GET, DELETE) and its recipients. A log's
operations (continuePhoneAudio, markAsRead) are served from the table of operations
(``routes/operations.py``).
"""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim import render
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import read_body, ucwa_response
from ucwa_nb.sim.routes.common import app_of, log_of, max_body, route, world_of

__all__ = ["ROUTES"]


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
    _, app, log = log_of(request)
    return ucwa_response(request, render.conversation_log(app, log, world_of(request).scenario))


async def delete_conversation_log(request: Request) -> Response:
    """conversationLog_ref, DELETE: "Removes the past conversation instance." 204; no event
    is documented for logs. A call continuing it goes on in its own conversation."""
    _, app, log = log_of(request)
    await read_body(request, max_body(request))
    app.user.logs.pop(log.id, None)
    return Response(status_code=204)


async def recipient(request: Request) -> Response:
    _, app, log = log_of(request)
    uri = "sip:" + request.path_params["recipient"]
    if uri not in log.spec.recipients:
        raise SimError(404, "NotFound", None)
    return ucwa_response(request, render.log_recipient(app, log, uri, world_of(request).scenario))


ROUTES = [
    route("conversationLogs", conversation_logs, "GET"),
    route("conversationLog", conversation_log, "GET"),
    route("conversationLog", delete_conversation_log, "DELETE"),
    route("conversationLogRecipient", recipient, "GET"),
]
