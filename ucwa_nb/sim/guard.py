"""Connection limits for the simulator's listening socket: caps per client address and in
all, and deadlines for a request's headers and body.

uvicorn has a keep-alive timeout between requests, but none for a connection that sends
nothing, half a header or a body one byte at a time, and no cap on connections (its
``limit_concurrency`` answers 503 only once a request has arrived, with the socket already
held). ``ConnectionGuard`` adds them where uvicorn's h11 protocol sees connections come and
go: it is the ``ConnectionObserver`` of the protocol class ``protocol_class()`` hands to
``uvicorn.Config(http=...)`` (``uvicorn_adapter.py``, where every use of uvicorn's internals
is), and ``reap()`` (a task on the server's loop) closes the connections that are too slow.
Everything runs on that loop: no locking.

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
from typing import Any

from ucwa_nb.sim.scenario import ServerSettings
from ucwa_nb.sim.uvicorn_adapter import (
    Connection,
    client_address,
    close,
    observed_protocol,
    reading_request,
    response_started,
    waiting_for_request,
)

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
    """Connections by client address (the TCP peer), capped and watched for deadlines.

    An address's cap is ``max_connections_per_address``, or ``max_connections_per_account``
    for each account signed in through it lately (``accounts_at``, from the sign-in limits)
    if that is more: a class behind one hub address holds a parked poll and a request per
    attendee (issue 25: 200 attendees needed more than 256), while an attendee alone, who
    knows one password, cannot raise their address's cap.
    """

    def __init__(self, settings: ServerSettings, now: Callable[[], float] = time.monotonic,
                 accounts_at: Callable[[str], int] | None = None) -> None:
        self.header_timeout = settings.header_timeout
        self.request_timeout = settings.request_timeout
        self.per_address = settings.max_connections_per_address
        self.per_account = settings.max_connections_per_account
        self.accounts_at = accounts_at or (lambda address: 0)
        self.total = settings.max_connections or default_max_connections()
        self.now = now
        self.watched: dict[Connection, _Watch] = {}
        self.by_address: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()  # refused, idle, slow: what the guard did

    # ------------------------------------------------------------------ the protocol

    def protocol_class(self) -> type[asyncio.Protocol]:
        """uvicorn's h11 protocol, reporting to this guard."""
        return observed_protocol(self)

    def cap(self, address: str) -> int:
        """The most connections ``address`` may hold (0: no cap but the total)."""
        if not self.per_address:
            return 0
        return max(self.per_address, self.per_account * self.accounts_at(address))

    def admit(self, protocol: Connection) -> None:
        address = client_address(protocol)
        cap = self.cap(address)
        if (cap and self.by_address[address] >= cap) or len(self.watched) >= self.total:
            self.counts["refused"] += 1
            close(protocol, _REFUSED)
            return
        self.watched[protocol] = _Watch(address, self.now())
        self.by_address[address] += 1

    def forget(self, protocol: Connection) -> None:
        watch = self.watched.pop(protocol, None)
        if watch is not None:
            self.by_address[watch.address] -= 1
            if self.by_address[watch.address] <= 0:
                del self.by_address[watch.address]

    def data(self, protocol: Connection) -> None:
        watch = self.watched.get(protocol)
        if watch is not None and watch.request_started is None and reading_request(protocol):
            watch.request_started = self.now()

    def response_complete(self, protocol: Connection) -> None:
        watch = self.watched.get(protocol)
        if watch is not None:
            watch.request_started = None
            watch.served += 1

    # ------------------------------------------------------------------ the deadlines

    def reap_once(self) -> None:
        now = self.now()
        for protocol, watch in list(self.watched.items()):
            if watch.request_started is not None and reading_request(protocol):
                if now - watch.request_started > self.request_timeout:
                    self._close(protocol, "slow")
            elif watch.served == 0 and waiting_for_request(protocol) and \
                    now - watch.opened > self.header_timeout:
                self._close(protocol, "idle")

    async def reap(self) -> None:
        interval = max(0.05, min(1.0, self.header_timeout / 4, self.request_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            self.reap_once()

    def _close(self, protocol: Connection, why: str) -> None:
        self.counts[why] += 1
        self.forget(protocol)
        close(protocol, b"" if response_started(protocol) else _TIMED_OUT)

    def stats(self) -> dict[str, Any]:
        return {"open": len(self.watched), "by_address": dict(self.by_address),
                **{k: self.counts[k] for k in ("refused", "idle", "slow")}}

