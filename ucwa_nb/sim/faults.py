"""Faults on the event channel's long polls: connections reset, answers held back.

What a flaky network, a proxy or a busy front end does to a P-GET, so that trainers can show
and tests can prove that a client loses no event (ack semantics, ucwa-protocol.md 2.1):

* **drop**: the simulator answers the poll as usual (a batch is formed from the pending
  events and kept), then resets the TCP connection (``SO_LINGER`` 0, so the client gets a
  real RST: ``ConnectionResetError``, ``httpx.ReadError``) instead of sending the answer.
  Only a client that asks for the same ``ack`` again gets those events.
* **hold**: the answer is held back for ``hold_for`` seconds (``None``: until the client
  hangs up), longer than the client's read timeout, then sent if the client is still there.

Which polls are hit is seeded: the fate of a poll is a function of ``(seed, user, ack,
attempt)`` (``attempt`` counts the polls of that user for that ack), so a rerun hits the same
polls whatever order concurrent clients' polls arrive in.

Use ``Simulator.inject_poll_faults(drop_rate=0.05, hold_rate=0.02, hold_for=5.0, seed=1)``
or a ``[poll_faults]`` table in a scenario; ``Simulator.poll_fault_stats()`` counts what was
done, by user. ``PollFaultLayer`` is the ASGI middleware that applies them; everything here
runs on the simulator's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Literal

from starlette.routing import compile_path

from ucwa_nb.sim import paths
from ucwa_nb.sim.http import disconnected
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import PollFaultSpec
from ucwa_nb.sim.uvicorn_adapter import transport_serving

__all__ = ["PollFaultLayer", "PollFaults"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Fate = Literal["pass", "drop", "hold"]

_EVENTS_PATH = compile_path(paths.TEMPLATES["events"])[0]
# After resetting a connection, how long to wait for uvicorn to notice (one loop turn).
_DISCONNECT_WAIT = 1.0


class PollFaults:
    """The poll faults in force and what they did. Lives as long as its Simulator, across
    restarts, so that counts and attempts carry on."""

    def __init__(self, spec: PollFaultSpec | None = None) -> None:
        self.spec = spec or PollFaultSpec()
        self.polls = 0
        self.dropped: Counter[str] = Counter()
        self.held: Counter[str] = Counter()
        self.hung_up: Counter[str] = Counter()  # held polls whose client gave up first
        self._attempts: Counter[tuple[str, int]] = Counter()

    @property
    def active(self) -> bool:
        return self.spec.drop_rate > 0 or self.spec.hold_rate > 0

    def fate(self, user: str, ack: int) -> Fate:
        """Decide what happens to this poll (a pure function of seed, user, ack, attempt)."""
        self.polls += 1
        attempt = self._attempts[(user, ack)]
        self._attempts[(user, ack)] += 1
        # random.Random seeds a str through SHA-512: the same draw in every process.
        draw = random.Random(f"{self.spec.seed}/{user}/{ack}/{attempt}").random()
        if draw < self.spec.drop_rate:
            self.dropped[user] += 1
            return "drop"
        if draw < self.spec.drop_rate + self.spec.hold_rate:
            self.held[user] += 1
            return "hold"
        return "pass"

    def stats(self) -> dict[str, Any]:
        users = sorted(set(self.dropped) | set(self.held))
        return {
            "polls": self.polls,
            "dropped": sum(self.dropped.values()),
            "held": sum(self.held.values()),
            "hung_up": sum(self.hung_up.values()),
            "by_user": {user: {"dropped": self.dropped[user], "held": self.held[user],
                               "hung_up": self.hung_up[user]} for user in users},
        }


class PollFaultLayer:
    """ASGI middleware in front of the simulator's app: applies ``PollFaults`` to event polls.

    ``connections`` is the server's live connections (``HookedServer.connections``), set
    once the server exists; dropping a poll needs its transport, which ASGI does not expose
    (``uvicorn_adapter.transport_serving`` finds it).
    """

    def __init__(self, app: ASGIApp, world: World, faults: PollFaults) -> None:
        self.app = app
        self.world = world
        self.faults = faults
        self.connections: Iterable[Any] = ()
        self._holds: set[asyncio.Future[None]] = set()
        self._released = False  # the server is stopping: hold nothing any more

    def _route_path(self, scope: Scope) -> str:
        """The path without the server's prefix (``[server] root_path``), as routed."""
        path: str = scope["path"]
        prefix = self.world.settings.root_path
        return path[len(prefix):] if prefix and path.startswith(prefix + "/") else path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (not self.faults.active or scope["type"] != "http" or scope["method"] != "GET"
                or (match := _EVENTS_PATH.match(self._route_path(scope))) is None):
            await self.app(scope, receive, send)
            return
        user = self._user_of(match["app"])
        fate = self.faults.fate(user, _ack_of(scope))
        if fate == "pass":
            await self.app(scope, receive, send)
            return
        # Let the simulator answer (so a batch is formed and kept, as on a real server),
        # but keep the answer instead of sending it.
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        if fate == "drop":
            if await self._reset(scope, receive):
                return
            self.faults.dropped[user] -= 1  # no connection to reset: answer after all
        elif await self._hold(receive):
            self.faults.hung_up[user] += 1
            return
        for message in answer:
            await send(message)

    def release_all(self) -> None:
        """The server is stopping: send every held answer now (uvicorn waits for them), and
        hold no answer from now on (a parked poll answered 503 by the shutdown)."""
        self._released = True
        for hold in list(self._holds):
            if not hold.done():
                hold.set_result(None)

    # ------------------------------------------------------------------ helpers

    def _user_of(self, app_id: str) -> str:
        app = self.world.apps.get(app_id)
        return app.user.key if app is not None else f"application {app_id}"

    async def _reset(self, scope: Scope, receive: Receive) -> bool:
        """Reset the poll's connection; False if it cannot be found (then nothing done)."""
        transport = transport_serving(self.connections, scope)
        if transport is None:
            return False
        if not transport.is_closing():  # else the client is gone already
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # Linger on, timeout 0: close() sends RST instead of FIN, a real "connection
                # reset by peer" rather than an orderly end of stream.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            transport.abort()
        # Returning before uvicorn has seen the disconnect would make it log "returned
        # without starting response" and try to write a 500.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(disconnected(receive), _DISCONNECT_WAIT)
        return True

    async def _hold(self, receive: Receive) -> bool:
        """Hold the answer; True if the client hung up meanwhile."""
        if self._released:
            return False
        release: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._holds.add(release)
        hang_up = asyncio.ensure_future(disconnected(receive))
        try:
            done, _ = await asyncio.wait({hang_up, release}, timeout=self.faults.spec.hold_for,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._holds.discard(release)
            hang_up.cancel()
        return hang_up in done


def _ack_of(scope: Scope) -> int:
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name == "ack" and value.isdigit():
            return int(value)
    return 1  # the simulator's own default, like a first poll without ack

