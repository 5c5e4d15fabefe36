"""Strict replay of a recorded server: the part of a scenario that keeps what the model does
not cover, as the recording showed it (``ucwa-nb scenario-from-har --strict``).

Two kinds of things: resources the simulator has no route for, answered with the recorded
body (``RecordedResourceSpec``), and links the recording showed on a resource the model
does render but whose rel the model never writes (``RecordedLinkSpec``). Paths, hrefs and
bodies hold ``{app}`` where the recorded application's id was; the serving side
(``verbatim.py``) puts the serving application's path there. A module of its own, like
``classroom.py``: the model (``scenario.py``) and the loader both import it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APP_MARK", "RecordedLinkSpec", "RecordedResourceSpec", "StrictSpec"]

# Where a recorded path, href or body named its application: the recording's application
# path (whatever its server's prefix) is written as this, and served as the serving
# application's own path.
APP_MARK = "/ucwa/oauth/v1/applications/{app}"


@dataclass(frozen=True)
class RecordedResourceSpec:
    """A resource served verbatim: ``path`` starts with ``APP_MARK``; ``body`` as recorded,
    with ``APP_MARK`` where the recorded application's path was."""

    path: str
    body: str
    method: str = "GET"
    status: int = 200
    media_type: str = "application/json"
    rel: str = ""


@dataclass(frozen=True)
class RecordedLinkSpec:
    """A link with ``rel`` seen on resources of type ``resource``, to add where missing."""

    resource: str
    rel: str
    href: str


@dataclass(frozen=True)
class StrictSpec:
    """What a strict replay keeps beyond the model."""

    resources: tuple[RecordedResourceSpec, ...] = ()
    links: tuple[RecordedLinkSpec, ...] = ()
