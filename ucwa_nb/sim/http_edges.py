"""What the simulator refuses before any route sees a request: the HTTP methods UCWA does not
support and a resource revision it does not have.

HTTP.md: "UCWA 2.0 does not support HTTP verbs such as OPTIONS, HEAD, or TRACE". OPTIONS and
TRACE reach no route and get Starlette's 405, answered in the UCWA shape by ``app.py``; HEAD
would be served by every GET route (Starlette adds it), so it is refused here with the same
405 MethodNotAllowed.

Versioning.md: a client may send ``X-MS-RequiresMinResourceVersion``; "If the server can't
honor the client's requested version of the resource, the server will reject the request with
404: {Code=NotFound & SubCode=APIVersionNotSupported}". The versions compare as numbers
("The client should use float ... to compare revision-versions").
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ucwa_nb.sim import paths
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import error_response

__all__ = ["HttpEdges", "required_revision"]

MIN_VERSION_HEADER = "x-ms-requiresminresourceversion"


def required_revision(value: str) -> float:
    """The revision a ``X-MS-RequiresMinResourceVersion`` value asks for ("2", "4.0").

    [infer] A value that is no finite number is a malformed request (400 BadRequest): the
    pages show only numbers."""
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise SimError(400, "BadRequest", None,
                       "X-MS-RequiresMinResourceVersion must be a number, such as 2.")
    return number


class HttpEdges:
    """ASGI middleware: HEAD is 405 MethodNotAllowed; a minimum resource version above
    ``revision`` is 404 NotFound/APIVersionNotSupported; anything else passes through."""

    def __init__(self, app: ASGIApp, revision: float) -> None:
        self.app = app
        self.revision = revision

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(Request(scope))
            if refusal is not None:
                await error_response(Request(scope), refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> SimError | None:
        if request.method == "HEAD":
            return SimError(405, "MethodNotAllowed", None,
                            "UCWA does not support the HEAD method.")
        wanted = request.headers.get(MIN_VERSION_HEADER)
        # [infer] The token endpoint is the OAuth web ticket service, not a UCWA resource:
        # resource revisions do not apply to it (and its answers keep OAuth's no-store).
        if wanted is None or paths.TOKEN in request.url.path:
            return None
        try:
            revision = required_revision(wanted)
        except SimError as exc:
            return exc
        if revision > self.revision:
            return SimError(404, "NotFound", "APIVersionNotSupported",
                            f"This server serves resource revision {self.revision:g} at "
                            f"most; the request requires {revision:g}.")
        return None
