"""The simulator's routes, one module per resource family, each route named after the rel
it serves and placed at its path in the route table (``paths.py``).

Handlers read the ``World`` from ``request.app.state`` and raise errors for ``app.py``'s
exception handlers to answer.
"""

from __future__ import annotations

from starlette.routing import Route

from ucwa_nb.sim.routes import (
    applications,
    conversations,
    events,
    extras,
    invitations,
    logs,
    progress,
    signin,
    simulator,
)

__all__ = ["ROUTES"]

ROUTES: list[Route] = [
    *signin.ROUTES,
    *simulator.ROUTES,
    *progress.ROUTES,
    *applications.ROUTES,
    *events.ROUTES,
    *conversations.ROUTES,
    *logs.ROUTES,
    *invitations.ROUTES,
    *extras.ROUTES,
]
