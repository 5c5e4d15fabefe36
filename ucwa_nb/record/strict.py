"""Strict replay: what a recording showed beyond the model, kept for ``[strict]``.

Every resource the recording read under its application, with its body, and every link it
saw on a resource, with ids rewritten (``ids.py``). The recording cannot tell what the
simulator models, and must not import it to ask: the simulator decides when it loads the
scenario, serving a recorded resource only where no model route serves that rel at that path
(``sim/routes/recorded.py``) and adding a recorded link only where the rendered resource
lacks it and its rel is none of the simulator's own (``sim/verbatim.py``).
"""

from __future__ import annotations

from typing import Any

from ucwa_nb.protocol.representation import Resource
from ucwa_nb.record.ids import APP_MARK, IdMap
from ucwa_nb.record.recording import Recording

__all__ = ["strict_of"]


def _links(resource: Resource, ids: IdMap, server: str,
           found: dict[tuple[str, str], dict[str, Any]]) -> None:
    for rel, links in resource.links.items():
        if rel == "self" or not links or resource.rel is None:
            continue
        found.setdefault((resource.rel, rel), {
            "resource": resource.rel, "rel": rel, "href": ids.rewrite(links[0].href, server)})
    for items in resource.embedded.values():
        for item in items:
            _links(item, ids, server, found)


def strict_of(recording: Recording, ids: IdMap) -> dict[str, Any]:
    """The ``[strict]`` table of ``recording``: its resources and links, ids rewritten."""
    resources: dict[tuple[str, str], dict[str, Any]] = {}
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for exchange, resource in recording.resources():
        _links(resource, ids, recording.server, links)
        if exchange.method != "GET" or not exchange.response_body:
            continue
        path = ids.rewrite(exchange.path, recording.server)
        if not path.startswith(APP_MARK + "/"):
            continue  # discovery, or the application itself: the model's
        resources.setdefault((exchange.method, path), {
            "path": path, "method": exchange.method, "status": exchange.status or 200,
            "media_type": exchange.media_type or "application/json",
            "rel": resource.rel or "",
            "body": ids.rewrite(exchange.response_body, recording.server)})
    return {"resources": list(resources.values()), "links": list(links.values())}
