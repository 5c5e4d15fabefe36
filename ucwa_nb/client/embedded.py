"""The simulator that ``connect()`` with no URL starts: the one edge from client to simulator.

The client knows it only through ``EmbeddedServer``; ``ucwa_nb.sim`` (starlette, uvicorn) is
imported on first use, so pointing the client at a real server never loads it.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["DemoUser", "EmbeddedServer", "embedded_simulator"]


class DemoUser(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...


class EmbeddedScenario(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def demo_user(self) -> DemoUser: ...


class EmbeddedServer(Protocol):
    """What the client uses of a running simulator."""

    @property
    def url(self) -> str: ...

    @property
    def running(self) -> bool: ...

    @property
    def scenario(self) -> EmbeddedScenario: ...

    def stop(self) -> None: ...


_lock = threading.Lock()
_embedded: EmbeddedServer | None = None  # started by connect() with no URL, then reused


def embedded_simulator() -> EmbeddedServer:
    """The simulator that ``connect()`` uses when given no URL (started on first use)."""
    global _embedded
    from ucwa_nb.sim import Simulator

    with _lock:
        if _embedded is None or not _embedded.running:
            _embedded = Simulator()
        return _embedded
