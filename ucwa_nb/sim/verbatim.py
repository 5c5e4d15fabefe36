"""Strict replay, the links half: links a recording showed that the model never writes are
added to the resources the simulator renders (the resources half is ``routes/recorded.py``).

A recorded link is added to a rendered resource of its type only where the resource has no
link of that rel and the rel is not one of the simulator's own routes (``paths.TEMPLATES``):
a rel the model serves is the model's to offer or not (``rules/offers.py`` decides when an
operation is possible), so a recording taken in another state cannot force it in.
"""

from __future__ import annotations

import dataclasses

from starlette.requests import Request

from ucwa_nb.protocol.representation import Link, Resource
from ucwa_nb.sim import paths
from ucwa_nb.sim.strict import APP_MARK, RecordedLinkSpec

__all__ = ["application_href", "with_recorded_links"]


def application_href(text: str, app_id: str) -> str:
    """``text`` with the recording's application path made the serving application's."""
    return text.replace(APP_MARK, paths.path("application", app=app_id))


def with_recorded_links(request: Request, resource: Resource) -> Resource:
    """``resource`` (and what it embeds) with the scenario's recorded links it lacks."""
    strict = request.app.state.world.scenario.strict
    if strict is None or not strict.links:
        return resource
    app_id = request.path_params.get("app")
    if not isinstance(app_id, str):
        app_id = _application_of(resource.href)  # POST applications: the new one's
    return _add(resource, strict.links, app_id)


def _application_of(href: str | None) -> str | None:
    start = paths.path("applications") + "/"
    if href is None or not href.startswith(start):
        return None
    return href[len(start):].split("/", 1)[0].split("?", 1)[0] or None


def _add(resource: Resource, specs: tuple[RecordedLinkSpec, ...], app_id: str | None) \
        -> Resource:
    links = dict(resource.links)
    for spec in specs:
        if spec.resource != resource.rel or spec.rel in links or spec.rel in paths.TEMPLATES:
            continue
        if APP_MARK in spec.href and app_id is None:
            continue  # outside an application (discovery): nowhere to point it
        links[spec.rel] = [Link(spec.rel, application_href(spec.href, app_id or ""))]
    embedded = {rel: [_add(item, specs, app_id) for item in items]
                for rel, items in resource.embedded.items()}
    return dataclasses.replace(resource, links=links, embedded=embedded)
