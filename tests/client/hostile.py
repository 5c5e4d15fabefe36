"""A hostile UCWA server for the client's safety tests: real sockets on loopback only.

``LoopbackServer`` runs any ASGI app under uvicorn on a free port of 127.0.0.1 or 127.0.0.2
(both loopback, so "another host" is testable), optionally over TLS with a ``trustme``
certificate, and notes every request it gets. ``fake_ucwa`` answers the sign-in flow as a UCWA
server does (root, 401 challenge, token, user, applications, application) with any step
replaceable, so each test changes one answer into an attacker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import trustme
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from support import wait_until

Handler = Callable[[Request], Awaitable[Response]]
JSON = "application/json"
TOKEN = "cwt=hostile-test-token-0123456789abcdef"


class LoopbackServer:
    """An ASGI app served on ``host`` (a loopback address) and a free port; ``seen`` lists
    (method, path, Authorization, body) of every request, ``stop()`` ends it."""

    def __init__(self, handlers: dict[str, Handler] | ASGIApp, host: str = "127.0.0.1",
                 cert: trustme.LeafCert | None = None, tmp: Path | None = None) -> None:
        assert host.startswith("127."), "test servers bind loopback only"
        self.handlers = handlers if isinstance(handlers, dict) else {}
        self.inner = None if isinstance(handlers, dict) else handlers
        self.seen: list[tuple[str, str, str | None, bytes]] = []
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
        sock.listen(16)
        self.scheme = "https" if cert is not None else "http"
        self.origin = f"{self.scheme}://{host}:{sock.getsockname()[1]}"
        tls: dict[str, Any] = {}
        if cert is not None:
            assert tmp is not None
            pem = tmp / f"{host}-{sock.getsockname()[1]}.pem"
            cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
            tls = {"ssl_certfile": str(pem), "ssl_keyfile": str(pem)}
        config = uvicorn.Config(self._app, log_level="critical", lifespan="off",
                                interface="asgi3", **tls)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 5.0, what="the hostile server to start")

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is not None:  # a whole app (the simulator's): served as it is
            await self.inner(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.seen.append((request.method, request.url.path,
                          request.headers.get("authorization"), body))
        handler = self.handlers.get(f"{request.method} {request.url.path}") or \
            self.handlers.get(request.url.path)
        response = await handler(request) if handler else Response(status_code=404)
        await response(scope, receive, send)

    def url(self, path: str) -> str:
        return self.origin + path

    def stop(self) -> None:
        # force_exit: no graceful wait for the connections a test left open (a parked event
        # poll, a drip), which would hold every teardown for seconds.
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(5)
        assert not self.thread.is_alive(), "the hostile server did not stop"


def answer(body: Any = None, status: int = 200, headers: dict[str, str] | None = None,
           media_type: str = JSON, raw: bytes | None = None) -> Handler:
    async def handle(request: Request) -> Response:
        if raw is not None:
            return Response(raw, status, headers, media_type)
        return JSONResponse(body, status, headers, media_type=media_type)
    return handle


def streamed(chunk: bytes, count: int, pause: float = 0.0, status: int = 200) -> Handler:
    """A body of ``count`` chunks, ``pause`` seconds apart (a drip, or a flood)."""
    async def handle(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(count):
                yield chunk
                if pause:
                    await asyncio.sleep(pause)
        return StreamingResponse(chunks(), status, media_type=JSON)
    return handle


def fake_ucwa(**overrides: Handler) -> dict[str, Handler]:
    """The sign-in flow of a UCWA server, every href relative; ``overrides`` replace steps by
    name: root, user, token, applications, events, conversations."""
    links = {
        "root": {"_links": {"self": {"href": "/root"}, "user": {"href": "/user"}}},
        "application": {
            "_links": {"self": {"href": "/app"}, "events": {"href": "/app/events?ack=1"}},
            "_embedded": {"communication": {
                "_links": {"self": {"href": "/app/communication"},
                           "conversations": {"href": "/app/conversations"}}}},
        },
    }

    async def user(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(status_code=401, headers={
                "WWW-Authenticate": 'MsRtcOAuth href="/token",grant_type="password"'})
        return JSONResponse({"_links": {"self": {"href": "/user"},
                                        "applications": {"href": "/applications"}}})

    deleted = asyncio.Event()  # set by DELETE /app, which releases the parked poll at once

    async def events(request: Request) -> Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deleted.wait(), 5)
        if deleted.is_set():
            return JSONResponse({"code": "NotFound", "subcode": "ApplicationNotFound"}, 404)
        return JSONResponse({"_links": {"next": {"href": "/app/events?ack=2"}}})

    async def delete(request: Request) -> Response:
        deleted.set()
        return Response(status_code=204)

    handlers: dict[str, Handler] = {
        "root": answer(links["root"]),
        "user": user,
        "token": answer({"access_token": TOKEN, "token_type": "Bearer"}),
        "applications": answer(links["application"], 201),
        "events": events,
        "conversations": answer({"_links": {"self": {"href": "/app/conversations"}}}),
        "delete": delete,
    }
    handlers.update(overrides)
    return {"/root": handlers["root"], "/user": handlers["user"], "/token": handlers["token"],
            "POST /applications": handlers["applications"], "/app/events": handlers["events"],
            "/app/conversations": handlers["conversations"], "DELETE /app": handlers["delete"]}
