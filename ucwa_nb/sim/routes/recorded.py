"""Strict replay, the resources half: resources a recording showed that the model has no
route for, answered with the recorded body (``[strict] resources`` of a scenario).

Only for an authenticated request to the caller's own application, like every resource
under it (another user's application answers 404, as ``app_of`` does). A recorded path
that one of the model's routes serves under the same rel is left to the model: the model
keeps its state, ids and links right where the recording could only repeat itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from ucwa_nb.sim import paths
from ucwa_nb.sim.http import COMMON_HEADERS
from ucwa_nb.sim.routes.common import app_of
from ucwa_nb.sim.scenario import Scenario
from ucwa_nb.sim.strict import APP_MARK, RecordedResourceSpec
from ucwa_nb.sim.verbatim import application_href

__all__ = ["routes"]


def _served_by_model(spec: RecordedResourceSpec, model: list[Route]) -> bool:
    scope = {"type": "http", "method": spec.method,
             "path": spec.path.replace(APP_MARK, paths.TEMPLATES["application"]
                                       .format(app="0"))}
    # With no rel recorded, any model route at that path and method keeps it.
    return any(route.matches(scope)[0] is Match.FULL and (not spec.rel or route.name == spec.rel)
               for route in model)


def _endpoint(spec: RecordedResourceSpec) -> Callable[[Request], Awaitable[Response]]:
    async def recorded(request: Request) -> Response:
        _, app = app_of(request)
        return Response(application_href(spec.body, app.id), spec.status,
                        dict(COMMON_HEADERS), media_type=spec.media_type)

    return recorded


def routes(scenario: Scenario, model: list[Route]) -> list[Route]:
    """The routes of ``scenario``'s recorded resources that ``model`` does not serve, to be
    matched before the model's (a recorded ``people/search`` would otherwise reach
    ``people/{person}``)."""
    if scenario.strict is None:
        return []
    template = paths.TEMPLATES["application"]
    return [Route(spec.path.replace(APP_MARK, template), _endpoint(spec),
                  methods=[spec.method])
            for spec in scenario.strict.resources if not _served_by_model(spec, model)]
