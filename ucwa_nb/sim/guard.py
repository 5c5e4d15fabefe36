"""Connection limits for the simulator's listening socket: caps per client address and in
all, and deadlines for a request's headers and body.

uvicorn has a keep-alive timeout between requests, but none for a connection that sends
nothing, half a header or a body one byte at a time, and no cap on connections (its
``limit_concurrency`` answers 503 only once a request has arrived, with the socket already
held). ``ConnectionGuard`` adds them where uvicorn's h11 protocol sees connections come and
go: ``protocol_class()`` is a subclass of uvicorn's ``H11Protocol`` handed to
``uvicorn.Config(http=...)``, and ``reap()`` (a task on the server's loop) closes the
connections that are too slow. Everything runs on that loop: no locking.

Why here rather than another server: hypercorn and granian have similar knobs but not per
client address, and the simulator relies on uvicorn's h11 protocol for its poll faults
(``faults.py``). A front proxy does this better for a server on the internet (README).
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

from ucwa_nb.sim.scenario import ServerSettings

__all__ = ["ConnectionGuard"]

_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain"
            b"\r\nContent-Length: 24\r\nConnection: close\r\n\r\nToo many connections.\r\n\r\n")
_TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
              b"Content-Length: 26\r\nConnection: close\r\n\r\nThe request was too slow.\n")


@dataclass
class _Watch:
    address: str
    opened: float
    request_started: float | None = None  # first byte of a request not yet read whole
    served: int = 0


def default_max_connections() -> int:
    """Half the open-file limit: the other half for the process's own files and sockets."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, soft // 2) if soft != resource.RLIM_INFINITY else 32768


class ConnectionGuard:
    def __init__(self, settings: ServerSettings, now: Callable[[], float] = time.monotonic
                 ) -> None:
        self.header_timeout = settings.header_timeout
        self.request_timeout = settings.request_timeout
        self.per_address = settings.max_connections_per_address
        self.total = settings.max_connections or default_max_connections()
        self.now = now
        self.watched: dict[H11Protocol, _Watch] = {}
        self.by_address: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()  # refused, idle, slow: what the guard did

    # ------------------------------------------------------------------ the protocol

    def protocol_class(self) -> type[H11Protocol]:
        guard = self

        class GuardedH11Protocol(_GuardedH11Protocol):
            owner: ClassVar[ConnectionGuard] = guard

        return GuardedH11Protocol

    def admit(self, protocol: H11Protocol) -> None:
        address = protocol.client[0] if protocol.client else ""
        if (self.per_address and self.by_address[address] >= self.per_address) or \
                len(self.watched) >= self.total:
            self.counts["refused"] += 1
            protocol.transport.write(_REFUSED)
            protocol.transport.close()
            return
        self.watched[protocol] = _Watch(address, self.now())
        self.by_address[address] += 1

    def forget(self, protocol: H11Protocol) -> None:
        watch = self.watched.pop(protocol, None)
        if watch is not None:
            self.by_address[watch.address] -= 1
            if self.by_address[watch.address] <= 0:
                del self.by_address[watch.address]

    def data(self, protocol: H11Protocol) -> None:
        watch = self.watched.get(protocol)
        if watch is not None and watch.request_started is None and _reading(protocol):
            watch.request_started = self.now()

    def response_complete(self, protocol: H11Protocol) -> None:
        watch = self.watched.get(protocol)
        if watch is not None:
            watch.request_started = None
            watch.served += 1

    # ------------------------------------------------------------------ the deadlines

    def reap_once(self) -> None:
        now = self.now()
        for protocol, watch in list(self.watched.items()):
            if watch.request_started is not None and _reading(protocol):
                if now - watch.request_started > self.request_timeout:
                    self._close(protocol, "slow")
            elif watch.served == 0 and _idle(protocol) and \
                    now - watch.opened > self.header_timeout:
                self._close(protocol, "idle")

    async def reap(self) -> None:
        interval = max(0.05, min(1.0, self.header_timeout / 4, self.request_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            self.reap_once()

    def _close(self, protocol: H11Protocol, why: str) -> None:
        self.counts[why] += 1
        self.forget(protocol)
        cycle = protocol.cycle
        if cycle is None or not cycle.response_started:
            protocol.transport.write(_TIMED_OUT)
        protocol.transport.close()

    def stats(self) -> dict[str, Any]:
        return {"open": len(self.watched), "by_address": dict(self.by_address),
                **{k: self.counts[k] for k in ("refused", "idle", "slow")}}


def _idle(protocol: H11Protocol) -> bool:
    """Waiting for a request (none yet, or the last one answered)."""
    cycle = protocol.cycle
    return cycle is None or cycle.response_complete


def _reading(protocol: H11Protocol) -> bool:
    """A request's headers or body are still on their way."""
    cycle = protocol.cycle
    return _idle(protocol) or (cycle is not None and cycle.more_body)


class _GuardedH11Protocol(H11Protocol):
    owner: ClassVar[ConnectionGuard]

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
