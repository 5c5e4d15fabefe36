"""Everything the simulator uses of uvicorn beyond ``uvicorn.Config`` and ``Server.serve``,
in one place: written for the versions in ``UVICORN_VERSIONS`` (the range pyproject.toml
allows; ``tests/sim/test_uvicorn_adapter.py`` fails, saying so, on any other).

uvicorn documents running an app, not extending its server, and ucwa-nb needs three things
it has no public API for:

* **Connections as they come and go** (the connection guard, ``guard.py``): a subclass of
  uvicorn's h11 protocol, handed to ``uvicorn.Config(http=...)``, that tells a
  ``ConnectionObserver`` about each connection opened, each byte of a request, each response
  completed and each connection lost; and reading a connection's state from its
  ``RequestResponseCycle`` (``protocol.cycle``): waiting for a request, a request still
  arriving, a response started.
* **The socket under a request** (poll faults, ``faults.py``): the transport of the live
  connection whose cycle serves an ASGI scope, found among ``server_state.connections``
  (ASGI does not expose it, and resetting a connection needs it).
* **Moments of the server's life** (``server.py``): after startup, before shutdown and on
  Ctrl-C, as overrides of ``Server.startup``, ``shutdown`` and ``handle_exit``; and
  ``started``/``should_exit``, read and set. While a server runs, asyncio's record of each
  accept() that failed for want of a file (its loop's, under uvicorn's listening socket) is
  summarised once per burst (``accept_errors.py``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from types import FrameType
from typing import Any, ClassVar, Protocol

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ucwa_nb.sim import accept_errors

__all__ = ["UVICORN_VERSIONS", "Connection", "ConnectionObserver", "HookedServer",
           "client_address", "close", "observed_protocol", "reading_request",
           "response_started", "transport_serving", "waiting_for_request"]

# The versions this module was written for, as pyproject.toml states them (the test checks
# that both agree and that the installed uvicorn is among them).
UVICORN_VERSIONS = ">=0.30,<0.56"

Connection = H11Protocol
"""One client connection: uvicorn's h11 protocol object."""


class ConnectionObserver(Protocol):
    """Told about each connection by ``observed_protocol``; all on the server's loop."""

    def admit(self, connection: Connection) -> None:
        """A connection was opened (``close`` it to refuse it)."""

    def data(self, connection: Connection) -> None:
        """Bytes arrived, before uvicorn parses them."""

    def response_complete(self, connection: Connection) -> None:
        """A response was sent whole."""

    def forget(self, connection: Connection) -> None:
        """The connection is gone."""


def observed_protocol(observer: ConnectionObserver) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol reporting to ``observer``, for ``uvicorn.Config(http=...)``."""

    class ObservedH11Protocol(_ObservedH11Protocol):
        owner: ClassVar[ConnectionObserver] = observer

    return ObservedH11Protocol


class _ObservedH11Protocol(H11Protocol):
    owner: ClassVar[ConnectionObserver]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.owner.admit(self)

    def data_received(self, data: bytes) -> None:
        self.owner.data(self)
        super().data_received(data)

    def on_response_complete(self) -> None:
        self.owner.response_complete(self)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.forget(self)
        super().connection_lost(exc)


def client_address(connection: Connection) -> str:
    """The client's IP address ("" if unknown)."""
    return connection.client[0] if connection.client else ""


def close(connection: Connection, last_words: bytes = b"") -> None:
    """Write ``last_words`` (a whole HTTP response, or nothing) and close the connection."""
    if last_words:
        connection.transport.write(last_words)
    connection.transport.close()


def waiting_for_request(connection: Connection) -> bool:
    """No request yet on this connection, or the last one answered."""
    cycle = connection.cycle
    return cycle is None or cycle.response_complete


def reading_request(connection: Connection) -> bool:
    """A request's headers or body are still on their way."""
    cycle = connection.cycle
    return waiting_for_request(connection) or (cycle is not None and cycle.more_body)


def response_started(connection: Connection) -> bool:
    """The current request's response has begun (its status line is out)."""
    cycle = connection.cycle
    return cycle is not None and cycle.response_started


def transport_serving(connections: Iterable[Any], scope: object) -> asyncio.Transport | None:
    """The transport of the connection whose current request is ``scope`` (None: gone)."""
    for connection in list(connections):
        cycle = getattr(connection, "cycle", None)
        # The scope object itself identifies the request (uvicorn's proxy-headers
        # middleware may have rewritten scope["client"]).
        if cycle is not None and getattr(cycle, "scope", None) is scope:
            transport: asyncio.Transport | None = getattr(connection, "transport", None)
            return transport
    return None


class HookedServer(uvicorn.Server):
    """uvicorn's server with the moments a subclass may act on: ``after_startup``,
    ``before_shutdown`` (both on the server's loop) and ``on_exit_signal`` (Ctrl-C)."""

    async def after_startup(self) -> None:
        """Listening: the server's loop is running."""

    async def before_shutdown(self) -> None:
        """About to stop listening and close connections."""

    def on_exit_signal(self) -> None:
        """SIGINT or SIGTERM arrived (``serve_forever``); uvicorn then stops."""

    @property
    def connections(self) -> Iterable[Any]:
        """The live connections (uvicorn's own set: it changes as they come and go)."""
        return self.server_state.connections

    @property
    def is_started(self) -> bool:
        return self.started

    @property
    def is_exiting(self) -> bool:
        return self.should_exit

    def ask_to_exit(self) -> None:
        """Stop serving once the current loop turn ends (any thread)."""
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        accept_errors.install()  # one line per burst of EMFILE accepts (accept_errors.py)
        await super().startup(sockets=sockets)
        await self.after_startup()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.before_shutdown()
        await super().shutdown(sockets=sockets)
        accept_errors.uninstall()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_exit_signal()
        super().handle_exit(sig, frame)
