"""What every route module needs: a named route from the route table, the world a request
acts on, and what its bearer token and path name (the signed-in token, the application, a
conversation, log or invitation), or the error that answers it.

Errors are raised, not returned: ``app.py``'s exception handlers write them (a ``SimError`` in
the UCWA shape, ``Unauthorized`` as the 401 challenge).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ucwa_nb.sim import paths, render
from ucwa_nb.sim.errors import SimError, Unauthorized
from ucwa_nb.sim.http import COMMON_HEADERS
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
    TokenState,
)

__all__ = [
    "Endpoint",
    "app_of",
    "conversation_of",
    "created",
    "found",
    "invitation_of",
    "log_of",
    "max_body",
    "route",
    "token_of",
    "world_of",
]

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


def route(name: str, endpoint: Endpoint, *methods: str) -> Route:
    """The route of ``name`` in the route table (``paths.TEMPLATES``), named after it."""
    return Route(paths.TEMPLATES[name], endpoint, methods=list(methods), name=name)


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


def max_body(request: Request) -> int:
    return world_of(request).settings.max_body_bytes


def found(value: T | None) -> T:
    if value is None:
        raise SimError(404, "NotFound", None)
    return value


def token_of(request: Request) -> TokenState:
    token = world_of(request).authenticate(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized()
    return token


def app_of(request: Request) -> tuple[TokenState, ApplicationState]:
    token = token_of(request)
    return token, world_of(request).application(token, request.path_params["app"])


def conversation_of(request: Request) -> tuple[TokenState, ApplicationState,
                                               ConversationState]:
    token, app = app_of(request)
    return token, app, found(app.conversations.get(request.path_params["conv"]))


def log_of(request: Request) -> tuple[TokenState, ApplicationState, ConversationLogState]:
    token, app = app_of(request)
    return token, app, found(app.user.logs.get(request.path_params["log"]))


def invitation_of(request: Request) -> tuple[ApplicationState, InvitationState]:
    _, app = app_of(request)
    return app, found(app.invitations.get(request.path_params["inv"]))


def created(inv: InvitationState) -> Response:
    """201 for an operation that started a call: the invitation is at ``Location``."""
    return Response(status_code=201, headers={
        "Location": render.invitation_path(inv), **COMMON_HEADERS})
