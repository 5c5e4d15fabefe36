"""The simulator's Starlette application: the routes of ``routes/`` and those of the table of
operations, the world they act on
(``app.state.world``), the exception handlers that answer every error in the UCWA shape, and
the lifespan that expires idle applications.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucwa_nb.sim import paths
from ucwa_nb.sim.cross_domain import CrossDomainGate
from ucwa_nb.sim.errors import FrontEndFault, SimError, Unauthorized
from ucwa_nb.sim.front_end import front_end_answer
from ucwa_nb.sim.http import challenge, error_response
from ucwa_nb.sim.http_edges import HttpEdges
from ucwa_nb.sim.operations import OPERATIONS
from ucwa_nb.sim.routes import ROUTES, recorded
from ucwa_nb.sim.routes.common import world_of
from ucwa_nb.sim.routes.operations import SimOperation, operation_routes
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.trainer import BasicTrainerGate, TrainerGate

__all__ = ["UCWA_VERSION", "create_app"]

# Versioning.md: "All UCWA responses include the header named 'X-MS-UcwaVersion' that
# identifies the resource-revision that the server served for a given request." Its sample's
# value, the only one the pages show [infer].
UCWA_VERSION = "1.7"


class _VersionHeader:
    """Adds X-MS-UcwaVersion to every response, errors and the 401 challenge included
    (``UCWA_VERSION`` unless the scenario's ``[server] ucwa_version`` says otherwise)."""

    def __init__(self, app: ASGIApp, version: str = UCWA_VERSION) -> None:
        self.app = app
        self.version = version.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-ms-ucwaversion", self.version)]
            await send(message)

        await self.app(scope, receive, send_with_version)


def create_app(world: World, trainer_gate: TrainerGate | None = None,
               operations: Iterable[SimOperation[Any]] = OPERATIONS) -> Starlette:
    """The application serving ``world``; ``trainer_gate`` decides who sees the trainer's
    pages (default: the scenario's ``[trainer]`` account, by HTTP Basic); ``operations`` is
    the table of the operations served (default: the simulator's, ``sim/operations.py``)."""
    model = [*ROUTES, *operation_routes(operations)]
    app = Starlette(
        # A strict replay's recorded resources first (routes/recorded.py says why), then
        # the model's routes and its operations.
        routes=[*recorded.routes(world.scenario, model), *model],
        exception_handlers={
            SimError: _sim_error,
            Unauthorized: _challenge,
            FrontEndFault: _front_end,
            HTTPException: _http_error,
        },
        # Starlette gives a handler of Exception to its outermost middleware, which answers
        # and then re-raises (uvicorn logs a traceback and drops the connection). Handled
        # here instead, any other exception is a plain 500 ServiceFailure, never a stack
        # trace in a response.
        middleware=[Middleware(_VersionHeader, version=world.settings.ucwa_version),
                    Middleware(_Prefix, prefix=world.settings.root_path),
                    # Requests through the cross-domain frame from an origin not on the
                    # web application allow list are refused before any route.
                    Middleware(CrossDomainGate, allowed=world.settings.allowed_origins,
                               fqdn=world.settings.server_fqdn),
                    Middleware(HttpEdges, revision=world.settings.resource_revision),
                    Middleware(ExceptionMiddleware, handlers={Exception: _service_failure})],
        lifespan=_lifespan,
    )
    app.state.world = world
    app.state.trainer_gate = trainer_gate or BasicTrainerGate(world.scenario.trainer,
                                                              world.signin)
    return app


class _Prefix:
    """Serve under ``[server] root_path`` (paths.py): a request outside it is 404 NotFound;
    one inside it gets ASGI's ``root_path`` (Starlette routes what follows it, and
    ``request.base_url`` includes it) and the prefix for the hrefs written meanwhile."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.prefix:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            response = error_response(Request(scope), SimError(404, "NotFound"))
            await response(scope, receive, send)
            return
        with paths.prefixed(self.prefix):
            await self.app({**scope, "root_path": scope.get("root_path", "") + self.prefix},
                           receive, send)


async def _sim_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimError)
    return error_response(request, exc)


async def _challenge(request: Request, exc: Exception) -> Response:
    return challenge(request, world_of(request).settings)


async def _front_end(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FrontEndFault)
    return front_end_answer(exc.name, world_of(request).settings)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors: no route for the path, or not for the method."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return error_response(request, SimError(405, "MethodNotAllowed"))
    if status == 404:
        return error_response(request, SimError(404, "NotFound"))
    return await _service_failure(request, exc)


async def _service_failure(request: Request, exc: Exception) -> Response:
    return error_response(request, SimError(500, "ServiceFailure"))


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    world: World = app.state.world
    sweeper = asyncio.get_running_loop().create_task(_sweep(world))
    world.closing = False  # serving (again, after a restart)
    try:
        yield
    finally:
        sweeper.cancel()
        world.shutdown()


async def _sweep(world: World) -> None:
    """Delete applications nobody polls (check often enough for short test expiries), forget
    expired tokens and sign-in buckets that filled up again."""
    interval = max(0.05, min(1.0, world.settings.application_expiry / 4))
    while True:
        await asyncio.sleep(interval)
        world.expire_idle()
        world.purge_expired_tokens()
        world.signin.sweep()
        world.windows.sweep()
