"""The routes of the operations, all built from the table of operations (``sim/operations.py``)
by one handler: find the target from the path, read the input, admit, judge the input from
the operation's fields, apply the rule, answer.

Each operation is a ``SimOperation``: its definition (the protocol's ``OperationSpec``, with
its fields), when it is offered (``rules/offers.py``), how its target is found from its path,
what is checked before its input is judged, and its rule. Its route is ``paths.TEMPLATES``'
entry of its rel, POST, named after the rel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ucwa_nb.protocol.operations import CheckContext, OperationSpec
from ucwa_nb.protocol.representation import format_of
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import read_body, read_input
from ucwa_nb.sim.routes.common import (
    Endpoint,
    app_of,
    conversation_of,
    created,
    found,
    log_of,
    max_body,
    route,
    world_of,
)
from ucwa_nb.sim.rules.offers import Offer
from ucwa_nb.sim.rules.operation_input import judge_input
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
    Target,
)

__all__ = [
    "SimOperation",
    "on_communication",
    "on_conversation",
    "on_conversation_log",
    "on_invitation",
    "operation_routes",
]

R = TypeVar("R")
# Checked before the input is judged (scopes, faults, admission): raises a SimError.
Admission = Callable[[World, OperationSpec, Target[Any]], None]
# The operation itself, given its judged input: the invitation it starts (a 201), or None.
Rule = Callable[[World, Target[R], Mapping[str, str]], InvitationState | None]


@dataclass(frozen=True)
class SimOperation(Generic[R]):
    """One operation as the simulator serves it."""

    offer: Offer[R]  # its definition and when its resource offers it
    target: Callable[[Request], Target[R]]  # what it acts on, from its path (or 404)
    rule: Rule[R]
    admit: Admission | None = None

    @property
    def spec(self) -> OperationSpec:
        """The operation's definition: rel, fields, what it creates."""
        return self.offer.spec


# ---------------------------------------------------------------------- targets


def on_conversation(request: Request) -> Target[ConversationState]:
    """The conversation of the path (the operations of its phoneAudio)."""
    token, app, conv = conversation_of(request)
    return Target(token, app, conv)


def on_conversation_log(request: Request) -> Target[ConversationLogState]:
    """The conversation log of the path."""
    token, app, log = log_of(request)
    return Target(token, app, log)


def on_invitation(request: Request) -> Target[InvitationState]:
    """The phoneAudioInvitation of the path."""
    token, app = app_of(request)
    return Target(token, app, found(app.invitations.get(request.path_params["inv"])))


def on_communication(request: Request) -> Target[ApplicationState]:
    """The application of the path (the operations of its communication resource)."""
    token, app = app_of(request)
    return Target(token, app, app)


# ---------------------------------------------------------------------- the one handler


def _handler(operation: SimOperation[Any]) -> Endpoint:
    """The endpoint of ``operation``; the order of its checks is every operation's."""
    spec = operation.spec

    async def handler(request: Request) -> Response:
        world = world_of(request)
        target = operation.target(request)
        # What the server saw, for the exercises (rules/progress.py): the request's format,
        # its answer, and the callee as it was sent.
        fmt = format_of(request.headers.get("content-type")) if spec.fields else None
        props: Mapping[str, Any] = {}
        try:
            if spec.fields:
                props = await read_input(request, max_body(request))
            else:  # no input: any body is read (bounded) and ignored
                await read_body(request, max_body(request))
            if operation.admit is not None:
                operation.admit(world, spec, target)
            context = CheckContext(region=target.app.user.spec.region,
                                   lenient_spacing=world.settings.lenient_uri_spacing)
            made = operation.rule(world, target, judge_input(spec, props, context))
        except SimError as error:
            world.progress.operation(target.app.user, spec.rel, format=fmt,
                                     status=error.status, code=error.reason.code,
                                     subcode=error.reason.subcode, to=_sent_to(props))
            raise
        world.progress.operation(target.app.user, spec.rel, format=fmt,
                                 status=204 if spec.creates is None else 201,
                                 to=_sent_to(props), invitation=made.id if made else None)
        if spec.creates is None:
            return Response(status_code=204)
        assert made is not None, f"{spec.rel} creates a {spec.creates}"
        return created(made)

    return handler


def _sent_to(props: Mapping[str, Any]) -> str | None:
    to = props.get("to")
    return to if isinstance(to, str) else None


def operation_routes(operations: Iterable[SimOperation[Any]]) -> list[Route]:
    """The POST route of each operation, at its path in ``paths.TEMPLATES``."""
    return [route(op.spec.rel, _handler(op), "POST") for op in operations]
