"""Fixtures the client's tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from starlette.types import ASGIApp

from ucwa_nb.client.session import Session

from .hostile import Handler, LoopbackServer

Serve = Callable[..., LoopbackServer]


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """Sessions a test opened by hand (not through ``connect``'s embedded simulator): each
    is closed at teardown, its HTTP client too."""
    opened: list[Session] = []
    yield opened
    for session in opened:
        session.close()
        session.http_client.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(handlers, host="127.0.0.1", tls=False)``: a loopback server, stopped after."""
    started: list[LoopbackServer] = []

    def make(handlers: dict[str, Handler] | ASGIApp, host: str = "127.0.0.1",
             cert: trustme.LeafCert | None = None) -> LoopbackServer:
        server = LoopbackServer(handlers, host, cert, tmp_path)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
