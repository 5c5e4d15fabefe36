"""Throughput of the UCWA simulator for addPhoneAudio, against a bare Starlette baseline.

Run:  python tests/perf/bench_simulator.py [--users 50] [--calls-per-user N] [--seconds S]

What is measured: N concurrent users (``sip:user01@contoso.com``...) each sign in the way a
real client does (autodiscover root, 401 challenge, password token, user, application), keep
their own event-channel poller parked, and then loop: POST addPhoneAudio on their one
conversation, wait for that invitation's ``completed`` event on their channel, POST
stopPhoneAudio (addPhoneAudio answers 409 AlreadyExists while phone audio is connected),
next call. Every phone rings for 0 s, so the figure is the cost of the simulator itself.

The baseline is a bare Starlette app under the same uvicorn configuration and process
arrangement, answering the same round trips (201 + Location, a long poll released by an
asyncio.Event, 204 for the stop) with no UCWA logic. Baseline and simulator run alternately
for a few rounds; the table shows medians.

Process arrangement: each server runs in its own child process (multiprocessing, ``spawn``),
the load generator in this one. With both in one process the client's parsing and httpx
work would compete for the server's GIL and the figure would measure the sum of the two.
The load generator is a single asyncio loop with one httpx client per user (two
connections: the parked poll and the POSTs). Measured on the 2-vCPU machine this was written
on, httpx's async transport cost ~0.8 ms of client CPU per request against ~1.4 ms for sync
clients in 20 threads (GIL hand-offs), while uvicorn answered the bare app in ~0.4 ms: a
Python client costs more per request than the server it loads, so the bare baseline can be
client-bound. Hence the table also reports each server's own CPU time per call (read from
/proc) and "capacity" = calls per server-CPU-second, the calls/s the server would sustain
if it were the limit. That ratio does not depend on the client's speed nor much on other
load on the machine; the calls/s ratio does.

Importing this module has no side effects; everything starts from ``main()`` or ``run()``
(``tests/perf/report.py`` calls ``run()`` and ``summarize()``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import itertools
import math
import multiprocessing
import os
import pstats
import re
import signal
import socket
import ssl
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ucwa_nb import Simulator, parse
from ucwa_nb.protocol import Events, Resource
from ucwa_nb.sim.scenario_loader import scenario_from_dict

HOST = "127.0.0.1"
CALLEE = "sip:john@contoso.com"
JSON = "application/json"
# A completed event later than this means the run is broken, not slow: fail loudly.
CALL_TIMEOUT = 5.0
# Discarded at the start of each round: connections warm up and the closed loop settles.
WARMUP = 0.5
# Each round ends when every user's last call is done (one call cycle, ~1 s at worst here);
# bounded so that a stuck call cannot stretch the run past the ~90 s budget.
DRAIN_TIMEOUT = 5.0
SERVER_START_TIMEOUT = 20.0

ServerKind = Literal["baseline", "simulator"]


class BenchError(RuntimeError):
    """The benchmark could not run as designed (server down, unexpected answer, lost event)."""


# --------------------------------------------------------------------------- scenario


def scenario_dict(users: int) -> dict[str, Any]:
    """The benchmark world: ``users`` accounts, each with one conversation with John, and
    every phone answering at once so that only the simulator's own work is timed."""
    return {
        "users": [
            {
                "uri": f"sip:user{n:02d}@contoso.com",
                "password": f"bench-{n:02d}",
                "phone": f"tel:+1425555{1000 + n:04d}",
                "own_phone": {"behaviour": "answers", "after": 0},
                "conversations": [{"subject": "Bench call", "participants": [CALLEE]}],
            }
            for n in range(1, users + 1)
        ],
        "contacts": [{"uri": CALLEE, "name": "John Doe", "behaviour": "answers", "after": 0}],
    }


# --------------------------------------------------------------------------- server processes
#
# Both children follow one protocol over a Pipe: they send ("ready", port, entry URL) once
# listening, then a watchdog thread blocks on the pipe. When the parent closes its end, or
# dies without closing it, the read fails and the child stops itself with SIGINT, which
# uvicorn handles as a graceful shutdown. So no server outlives the benchmark. The children
# leave the terminal's process group: a Ctrl-C reaches only the parent, which then closes
# its clients while the servers still answer, and stops the servers itself.


def _bind() -> socket.socket:
    # As ucwa_nb.Simulator._bind does. proto IPPROTO_TCP matters: asyncio sets TCP_NODELAY
    # only on accepted connections whose proto says TCP, and with the default proto 0 every
    # response uvicorn writes as headers + body can wait ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def _watch_parent(conn: Connection) -> None:
    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            conn.recv()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5.0)  # graceful shutdown normally finishes well before this
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _run_child(conn: Connection, serve: Callable[[Callable[[int, str], None]], None],
               profile_path: str | None) -> None:
    def ready(port: int, url: str) -> None:
        conn.send(("ready", port, url))
        _watch_parent(conn)

    os.setsid()
    profiler = cProfile.Profile() if profile_path else None
    try:
        if profiler is not None:
            profiler.enable()
        serve(ready)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled once it has shut down
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", 0, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if profiler is not None and profile_path:
            profiler.disable()
            profiler.dump_stats(profile_path)


def simulator_child(conn: Connection, data: dict[str, Any], profile_path: str | None) -> None:
    """A child process's simulator of scenario ``data``, serving until its parent goes."""
    sim = Simulator(scenario_from_dict(data, name="bench"), host=HOST, port=0, start=False)
    # serve_forever binds before calling on_ready, so the port is known there.
    _run_child(conn, lambda ready: sim.serve_forever(on_ready=lambda: ready(sim.port, sim.url)),
               profile_path)


def _uvicorn_config(app: Starlette) -> uvicorn.Config:
    # The same options as ucwa_nb.sim.server.Simulator._config, so that the baseline differs
    # from the simulator only by the application.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                          timeout_graceful_shutdown=1, timeout_keep_alive=30)


def _baseline_child(conn: Connection, users: int, profile_path: str | None) -> None:
    app = baseline_app(users)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Answer the parked polls first, as the simulator does, or uvicorn waits for them
            # for its whole grace period and then logs each one as cancelled.
            app.state.release_all()
            super().handle_exit(sig, frame)

    def serve(ready: Callable[[int, str], None]) -> None:
        sock = _bind()
        server = Server(_uvicorn_config(app))
        ready(sock.getsockname()[1], f"http://{HOST}:{sock.getsockname()[1]}")
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    _run_child(conn, serve, profile_path)


def baseline_app(users: int) -> Starlette:
    """A bare Starlette app with the simulator's round trips and none of its logic.

    POST addPhoneAudio answers 201 + Location and queues a ``started`` batch, then (one loop
    turn later, as the simulator's call task does) a ``completed`` batch; POST stopPhoneAudio
    answers 204 and queues a ``phoneAudio updated`` batch, because the simulator also
    announces the stop on the channel and the client has to poll for it. A GET events long
    poll waits on one asyncio.Event per user and takes one queued batch. Keeping the three
    batches apart fixes the baseline at 5 requests per call; the simulator, whose events are
    released a loop turn after they are emitted, measures about the same (req/call column).
    The batches are minimal UCWA JSON so that the very same client code (ucwa_nb.parse, link
    rels, operationId correlation) drives both.
    """
    @dataclass
    class Box:
        batches: list[list[dict[str, Any]]] = field(default_factory=list)
        ready: asyncio.Event = field(default_factory=asyncio.Event)
        calls: int = 0

    boxes: dict[str, Box] = {f"{n:02d}": Box() for n in range(1, users + 1)}

    def release_all() -> None:
        for box in boxes.values():
            box.ready.set()

    def push(box: Box, *events: dict[str, Any]) -> None:
        box.batches.append(list(events))
        box.ready.set()

    def phone_audio_event(user: str, state: str) -> dict[str, Any]:
        base = f"/u/{user}/phoneAudio"
        rel = "stopPhoneAudio" if state == "Connected" else "addPhoneAudio"
        return {"link": {"rel": "phoneAudio", "href": base}, "type": "updated",
                "_embedded": {"phoneAudio": {"rel": "phoneAudio", "state": state, "_links": {
                    "self": {"href": base}, rel: {"href": f"{base}/{rel}"}}}}}

    def invitation_event(kind: str, href: str, op: str | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "link": {"rel": "phoneAudioInvitation", "href": href}, "type": kind,
            "_embedded": {"phoneAudioInvitation": {
                "rel": "phoneAudioInvitation", "operationId": op,
                "_links": {"self": {"href": href}}}}}
        if kind == "completed":
            event["status"] = "Success"
        return event

    def complete(box: Box, user: str, href: str, op: str | None) -> None:
        push(box, invitation_event("completed", href, op), phone_audio_event(user, "Connected"))

    async def add(request: Request) -> Response:
        user = request.path_params["user"]
        box = boxes[user]
        op = (await request.json()).get("operationId")
        box.calls += 1
        href = f"/u/{user}/invitations/{box.calls}"
        push(box, invitation_event("started", href, op))
        asyncio.get_running_loop().call_soon(complete, box, user, href, op)
        return Response(status_code=201, headers={"Location": href})

    async def stop(request: Request) -> Response:
        user = request.path_params["user"]
        await request.body()
        push(boxes[user], phone_audio_event(user, "Disconnected"))
        return Response(status_code=204)

    async def events(request: Request) -> Response:
        user = request.path_params["user"]
        box = boxes[user]
        ack = int(request.query_params.get("ack", "1"))
        # No poll timeout: the clients poll without one, and shutdown releases every poll.
        await box.ready.wait()
        batch = box.batches.pop(0) if box.batches else []
        if not box.batches:
            box.ready.clear()
        body: dict[str, Any] = {"_links": {
            "self": {"href": f"/u/{user}/events?ack={ack}"},
            "next": {"href": f"/u/{user}/events?ack={ack + 1}"}}}
        if batch:
            body["sender"] = [{"rel": "communication", "href": f"/u/{user}/communication",
                               "events": batch}]
        return JSONResponse(body)

    app = Starlette(routes=[
        Route("/u/{user}/phoneAudio/addPhoneAudio", add, methods=["POST"]),
        Route("/u/{user}/phoneAudio/stopPhoneAudio", stop, methods=["POST"]),
        Route("/u/{user}/events", events, methods=["GET"]),
    ])
    app.state.release_all = release_all
    return app


@dataclass
class ServerProcess:
    kind: ServerKind
    process: multiprocessing.process.BaseProcess
    conn: Connection
    port: int
    url: str

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process, from /proc (Linux only)."""
        pid = self.process.pid
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # Fields 14 and 15 of stat(5) (utime, stime), counted after the ") " of the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.conn.close()  # the child's watchdog sees EOF and shuts uvicorn down
        self.process.join(5.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)


def start_child(kind: ServerKind, target: Callable[..., None], *args: Any) -> ServerProcess:
    """Run ``target(conn, *args)`` in a child process and wait until it says it serves (the
    other benchmarks start their simulators this way too)."""
    # spawn, not fork: the child must not inherit this process's threads or event loop.
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(child, *args), name=f"bench-{kind}",
                          daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(SERVER_START_TIMEOUT):
            raise BenchError(f"the {kind} server did not start in {SERVER_START_TIMEOUT} s")
        status, port, url = parent.recv()
    except BaseException:
        parent.close()
        process.kill()
        process.join(2.0)
        raise
    if status != "ready":
        parent.close()
        process.join(2.0)
        raise BenchError(f"the {kind} server failed to start: {url}")
    return ServerProcess(kind, process, parent, port, url)


def start_server(kind: ServerKind, users: int, profile_path: str | None = None) -> ServerProcess:
    if kind == "simulator":
        return start_child(kind, simulator_child, scenario_dict(users), profile_path)
    return start_child(kind, _baseline_child, users, profile_path)


# --------------------------------------------------------------------------- client


@dataclass
class Window:
    """The measured part of a round, in time.perf_counter() seconds."""

    start: float
    end: float

    def holds(self, t: float) -> bool:
        return self.start <= t <= self.end


@dataclass
class RoundResult:
    kind: ServerKind
    seconds: float
    calls: int = 0
    requests: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float | None = None  # CPU seconds the server used during the window
    client_cpu: float = 0.0  # CPU seconds this process used during the window

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def requests_per_call(self) -> float:
        return self.requests / self.calls if self.calls else float("nan")

    @property
    def server_ms_per_call(self) -> float | None:
        if self.server_cpu is None or not self.calls:
            return None
        return self.server_cpu * 1000 / self.calls


@dataclass
class Counter:
    """HTTP requests sent by the load generator (one event loop, so no lock)."""

    requests: int = 0


@dataclass
class Completion:
    arrived: float
    status: str | None
    href: str


class Session:
    """One signed-in user: an application, its event-channel poller, its conversation.

    Sign-in goes through ``httpx.AsyncClient``. The call loop and the poller send through
    the same client's transport (``AsyncHTTPTransport.handle_async_request``, httpx's public
    transport API, same connections): the client layer above it (URL and header merging,
    auth and redirect flows, hooks) measured ~0.3 ms of CPU per request here, close to the
    ~0.4 ms the bare server needs to answer one, and the benchmark is about the server.
    """

    def __init__(self, base_url: str, counter: Counter, user: int,
                 tls: ssl.SSLContext) -> None:
        self.user = user
        self.uri = f"sip:user{user:02d}@contoso.com"
        self.password = f"bench-{user:02d}"
        self.phone = f"tel:+1425555{1000 + user:04d}"
        self.counter = counter
        self.base = httpx.URL(base_url)
        self.headers = {"Accept": JSON}
        # Two connections: the parked poll and the POSTs never wait for each other.
        self.transport = httpx.AsyncHTTPTransport(
            verify=tls, limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
        self.http = httpx.AsyncClient(base_url=base_url, transport=self.transport,
                                      headers=self.headers, timeout=CALL_TIMEOUT)
        self._urls: dict[str, httpx.URL] = {}
        self.events_href = ""
        self.add_href = ""
        # Capability links (addPhoneAudio, stopPhoneAudio) as last announced by phoneAudio
        # events: a hypermedia client takes stopPhoneAudio from there, not from a template.
        self.links: dict[str, str] = {}
        self.waiting: dict[str, asyncio.Future[Completion]] = {}
        self.poller: asyncio.Task[None] | None = None
        self.poll_error: BaseException | None = None
        self._ops = itertools.count(1)

    async def aclose(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.poller
        await self.http.aclose()

    async def send(self, method: str, href: str, body: dict[str, Any] | None = None,
                   timeout: float | None = CALL_TIMEOUT) -> httpx.Response:
        # Links may be relative or absolute and may carry a query (?ack=N): URL.join keeps
        # both as a URL builder should. add/stop hrefs repeat, so their joins are cached.
        url = self._urls.get(href)
        if url is None:
            url = self.base.join(href)
            if "?" not in href:  # not the ever-changing events?ack=N
                self._urls[href] = url
        request = httpx.Request(method, url, headers=self.headers, json=body,
                                extensions={"timeout": httpx.Timeout(timeout).as_dict()})
        self.counter.requests += 1
        response = await self.transport.handle_async_request(request)
        await response.aread()  # reads to the end and hands the connection back
        return response

    # ------------------------------------------------------------------ navigation

    async def get(self, href: str) -> Resource:
        response = await self.http.get(href)
        if response.status_code != 200:
            raise BenchError(f"GET {href}: {response.status_code} {response.text[:200]}")
        resource = parse(response.content, response.headers.get("content-type"))
        if not isinstance(resource, Resource):
            raise BenchError(f"GET {href}: not a resource")
        return resource

    @staticmethod
    def href(resource: Resource, rel: str) -> str:
        link = resource.link(rel)
        if link is None:
            raise BenchError(f"{resource.rel} offers no {rel} link")
        return str(link.href)

    async def sign_in_simulator(self, root_url: str) -> None:
        """Autodiscover -> 401 challenge -> token -> user -> application -> phoneAudio."""
        root = await self.get(root_url)
        user_href = self.href(root, "user")
        challenge = await self.http.get(user_href)
        token_url = _token_endpoint(challenge.headers.get_list("www-authenticate"))
        if challenge.status_code != 401 or token_url is None:
            raise BenchError(f"GET user without a token: {challenge.status_code}, no MsRtcOAuth")
        token = await self.http.post(token_url, data={
            "grant_type": "password", "username": self.uri.removeprefix("sip:"),
            "password": self.password})
        if token.status_code != 200:
            raise BenchError(f"token: {token.status_code} {token.text[:200]}")
        self.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.http.headers["Authorization"] = self.headers["Authorization"]
        user = await self.get(user_href)
        created = await self.http.post(self.href(user, "applications"), json={
            "userAgent": "ucwa-nb bench", "endpointId": f"bench-{self.user:02d}",
            "culture": "en-US"})
        if created.status_code not in (200, 201):
            raise BenchError(f"applications: {created.status_code} {created.text[:200]}")
        app = parse(created.content, created.headers.get("content-type"))
        assert isinstance(app, Resource)
        self.events_href = self.href(app, "events")
        communication = app.embedded_one("communication")
        if communication is None:
            raise BenchError("the application embeds no communication")
        # The poller must be parked before the first addPhoneAudio, or the simulator rightly
        # answers 500 CallbackChannelError; starting it here leaves it the navigation below.
        self.poller = asyncio.get_running_loop().create_task(self.poll())
        conversations = await self.get(self.href(communication, "conversations"))
        conversation = await self.get(self.href(conversations, "conversation"))
        phone_audio = await self.get(self.href(conversation, "phoneAudio"))
        self.add_href = self.href(phone_audio, "addPhoneAudio")

    async def sign_in_baseline(self) -> None:
        # The baseline has no discovery: its two entry points are fixed.
        self.events_href = f"/u/{self.user:02d}/events?ack=1"
        self.add_href = f"/u/{self.user:02d}/phoneAudio/addPhoneAudio"
        self.poller = asyncio.get_running_loop().create_task(self.poll())

    # ------------------------------------------------------------------ event channel

    async def poll(self) -> None:
        href = self.events_href
        try:
            while True:
                response = await self.send("GET", href, timeout=None)
                if response.status_code != 200:
                    raise BenchError(f"GET events: {response.status_code} {response.text[:200]}")
                batch = parse(response.content, response.headers.get("content-type"))
                arrived = time.perf_counter()
                if not isinstance(batch, Events):
                    raise BenchError("GET events: not an event batch")
                completed: list[tuple[str, Completion]] = []
                for _, event in batch.all_events():
                    resource = event.resource
                    if event.link.rel == "phoneAudio" and resource is not None:
                        for rel in ("addPhoneAudio", "stopPhoneAudio"):
                            link = resource.link(rel)
                            if link is not None:
                                self.links[rel] = link.href
                    elif (event.type == "completed" and event.link.rel == "phoneAudioInvitation"
                          and resource is not None):
                        # Correlate by operationId: events may overtake the 201 that names
                        # the invitation.
                        op = resource.get("operationId")
                        if isinstance(op, str):
                            completed.append((op, Completion(arrived, event.status,
                                                             event.link.href)))
                # Resolve after the whole batch, so the phoneAudio update that follows the
                # completed event (with the stopPhoneAudio link) has been taken in.
                for op, done in completed:
                    future = self.waiting.pop(op, None)
                    if future is not None and not future.done():
                        future.set_result(done)
                follow = batch.href("next") or batch.href("resync") or batch.href("resume")
                if follow is None:
                    raise BenchError("event batch without next/resync/resume link")
                href = follow
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.poll_error = exc
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(BenchError(f"user{self.user:02d} poller: {exc}"))
                    # Mark it retrieved: if its caller is already gone, asyncio would log
                    # "exception was never retrieved" on top of the error being reported.
                    future.exception()
            raise

    # ------------------------------------------------------------------ calls

    async def run_calls(self, window: Window, max_calls: int, result: RoundResult) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(max_calls):
            if time.perf_counter() >= window.end:
                return
            op = f"u{self.user:02d}-{next(self._ops)}"
            future: asyncio.Future[Completion] = loop.create_future()
            self.waiting[op] = future
            sent = time.perf_counter()
            response = await self.send("POST", self.add_href, {
                "operationId": op, "phoneNumber": self.phone, "to": CALLEE})
            if response.status_code != 201:
                self.waiting.pop(op, None)
                raise BenchError(f"addPhoneAudio: {response.status_code} {response.text[:200]}")
            try:
                done = await asyncio.wait_for(future, CALL_TIMEOUT)
            except TimeoutError:
                raise BenchError(f"user{self.user:02d}: no completed event for {op} within "
                                 f"{CALL_TIMEOUT} s") from None
            location = response.headers.get("location")
            if done.href != location:
                raise BenchError(f"completed event for {done.href}, the 201 said {location}")
            if done.status != "Success":
                result.failures += 1
            if window.holds(done.arrived):
                result.calls += 1
                if sent >= window.start:
                    result.latencies.append(done.arrived - sent)
            stop = self.links.get("stopPhoneAudio")
            if stop is None:
                raise BenchError("no stopPhoneAudio link announced with the completed event")
            stopped = await self.send("POST", stop)
            if stopped.status_code != 204:
                raise BenchError(f"stopPhoneAudio: {stopped.status_code} {stopped.text[:200]}")


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from nested task groups: a BenchError if there is one."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return next((e for e in leaves if isinstance(e, BenchError)), leaves[0])


def _token_endpoint(challenges: Sequence[str]) -> str | None:
    for value in challenges:
        if value.lower().startswith("msrtcoauth"):
            match = re.search(r'href="?([^",]+)"?', value)
            if match:
                return match.group(1)
    return None


@dataclass
class Target:
    server: ServerProcess
    sessions: list[Session]


async def sign_in(server: ServerProcess, users: int, counter: Counter) -> Target:
    # One TLS context for all: each new one loads the CA bundle (~0.1 s of CPU here), and
    # every client gets one even for plain http. Everything here is http on 127.0.0.1.
    tls = ssl.create_default_context()
    sessions = [Session(server.base_url, counter, n, tls) for n in range(1, users + 1)]
    target = Target(server, sessions)
    try:
        if server.kind == "simulator":
            await asyncio.gather(*(s.sign_in_simulator(server.url) for s in sessions))
        else:
            await asyncio.gather(*(s.sign_in_baseline() for s in sessions))
    except BaseException:
        await close(target)
        raise
    return target


async def close(target: Target) -> None:
    await asyncio.gather(*(s.aclose() for s in target.sessions), return_exceptions=True)


async def run_round(target: Target, seconds: float, max_calls: int,
                    counter: Counter) -> RoundResult:
    now = time.perf_counter()
    window = Window(now + WARMUP, now + WARMUP + seconds)
    result = RoundResult(target.server.kind, seconds)
    marks: dict[str, tuple[int, float | None, float]] = {}
    finished: list[float] = []

    async def mark(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        marks[name] = (counter.requests, target.server.cpu_seconds(), time.process_time())

    async def calls() -> None:
        async with asyncio.TaskGroup() as group:  # one failed user cancels the others
            for session in target.sessions:
                group.create_task(session.run_calls(window, max_calls, result))
        finished.append(time.perf_counter())

    try:
        async with asyncio.timeout(WARMUP + seconds + DRAIN_TIMEOUT), asyncio.TaskGroup() as tg:
            tg.create_task(calls())
            tg.create_task(mark("start", window.start))
            tg.create_task(mark("end", window.end))
    except TimeoutError:
        raise BenchError("a round did not finish in time") from None
    except BaseExceptionGroup as group:
        raise _first_error(group) from None
    (req0, srv0, cli0), (req1, srv1, cli1) = marks["start"], marks["end"]
    result.requests = req1 - req0
    result.server_cpu = srv1 - srv0 if srv0 is not None and srv1 is not None else None
    result.client_cpu = cli1 - cli0
    # --calls-per-user may have stopped every user before the window closed.
    if finished[0] < window.end:
        result.seconds = max(1e-3, finished[0] - window.start)
    return result


# --------------------------------------------------------------------------- report


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 is a latency some call really had)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


@dataclass
class KindSummary:
    """One server's rounds, summarized: medians over rounds, percentiles over all calls."""

    kind: ServerKind
    rate: float  # calls/s, median over rounds
    round_rates: list[float]
    requests_per_call: float
    server_ms: float | None  # server CPU ms per call (median over rounds)
    client_ms: float | None  # load generator CPU ms per call (median over rounds)
    calls: int
    failures: int
    latencies_ms: list[float]  # POST addPhoneAudio -> completed delivered, every call

    @property
    def capacity(self) -> float | None:
        """Calls per server-CPU-second."""
        return 1000 / self.server_ms if self.server_ms else None

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def summarize(results: Sequence[RoundResult]) -> dict[ServerKind, KindSummary]:
    """Per server kind: the figures ``report`` prints (and ``tests/perf/report.py`` uses)."""
    out: dict[ServerKind, KindSummary] = {}
    for kind in ("baseline", "simulator"):
        group = [r for r in results if r.kind == kind]
        if not group:
            raise BenchError(f"no {kind} round")
        out[kind] = KindSummary(
            kind=kind,
            rate=statistics.median(r.rate for r in group),
            round_rates=[r.rate for r in group],
            requests_per_call=statistics.median(r.requests_per_call for r in group),
            server_ms=_median([r.server_ms_per_call for r in group]),
            client_ms=_median([r.client_cpu * 1000 / r.calls for r in group if r.calls]),
            calls=sum(r.calls for r in group),
            failures=sum(r.failures for r in group),
            latencies_ms=[lat * 1000 for r in group for lat in r.latencies],
        )
    return out


def report(results: list[RoundResult], users: int, seconds: float) -> str:
    summary = summarize(results)
    bare, sim = summary["baseline"], summary["simulator"]

    def num(value: float | None, fmt: str) -> str:
        return "n/a" if value is None else format(value, fmt)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"addPhoneAudio -> completed, {users} users, ring delays 0 s, {len(sim.round_rates)} "
        f"interleaved rounds x {seconds:g} s per server, medians ({os.cpu_count()} CPUs, "
        f"load {load:.1f})",
        "",
        f"{'':<15}{'calls/s':>8}  {'rounds':<14}{'req/call':>9}{'srv ms/call':>12}"
        f"{'cli ms/call':>12}{'capacity':>10}{'calls':>7}{'failed':>7}",
    ]
    for name, s in (("bare Starlette", bare), ("simulator", sim)):
        lines.append(
            f"{name:<15}{s.rate:>8.1f}  {' '.join(f'{r:.0f}' for r in s.round_rates):<14}"
            f"{s.requests_per_call:>9.2f}"
            f"{num(s.server_ms, '.2f'):>12}{num(s.client_ms, '.2f'):>12}"
            f"{num(s.capacity, '.0f'):>10}"
            f"{s.calls:>7}{s.failures:>7}")
    ratio = sim.rate / bare.rate if bare.rate else float("nan")
    cap_b, cap_s = bare.capacity, sim.capacity
    cap_ratio = cap_s / cap_b if cap_b and cap_s else None
    p50, p95, p99 = (sim.percentile(q) for q in (50, 95, 99))
    b50, b95, b99 = (bare.percentile(q) for q in (50, 95, 99))
    lines += [
        f"{'sim / bare':<15}{ratio * 100:>7.1f}%  {'':<14}{'':>9}{'':>12}{'':>12}"
        f"{num(None if cap_ratio is None else cap_ratio * 100, '.1f'):>9}%",
        f"{'sim latency':<15}p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms  "
        f"(POST addPhoneAudio -> completed delivered; {len(sim.latencies_ms)} calls)",
        f"{'bare latency':<15}p50 {b50:.1f} ms  p95 {b95:.1f} ms  p99 {b99:.1f} ms  "
        f"({len(bare.latencies_ms)} calls)",
        "",
        f"aims: sim/bare >= 50%: calls/s {'met' if ratio >= 0.5 else 'MISSED'}, capacity "
        f"{'n/a' if cap_ratio is None else 'met' if cap_ratio >= 0.5 else 'MISSED'};  "
        f"p99 < 50 ms: {'met' if p99 < 50 else 'MISSED'}",
        "srv/cli ms/call: CPU time of the server process / of this load generator per call. "
        "capacity:",
        "calls per server-CPU-second, the calls/s the server would sustain if it were the "
        "limit.",
    ]
    # Client and server each run on one thread: the one needing more CPU per call limits.
    if bare.client_ms is not None and bare.server_ms is not None \
            and bare.client_ms > bare.server_ms:
        lines.append("The load generator needs more CPU per call than the bare server, so it "
                     "limited the baseline's")
        lines.append("calls/s: that ratio overstates the simulator. Judge by the capacity "
                     "ratio.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


async def bench(servers: dict[ServerKind, ServerProcess], users: int, seconds: float,
                rounds: int, max_calls: int, progress: bool = True) -> list[RoundResult]:
    counter = Counter()
    targets: list[Target] = []
    try:
        for kind in ("baseline", "simulator"):
            targets.append(await sign_in(servers[kind], users, counter))
        await asyncio.sleep(0.2)  # let every first poll park before the first call
        results: list[RoundResult] = []
        for n in range(rounds):
            # Alternate which server goes first, so neither always runs on a warmer machine.
            order = targets if n % 2 == 0 else targets[::-1]
            for target in order:
                result = await run_round(target, seconds, max_calls, counter)
                results.append(result)
                if progress:
                    print(f"  round {n + 1} {target.server.kind:<9} {result.rate:8.1f} "
                          "calls/s", file=sys.stderr, flush=True)
        return results
    finally:
        await asyncio.gather(*(close(t) for t in targets), return_exceptions=True)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--calls-per-user", type=int, default=10_000,
                        help="at most this many calls per user per round (default 10000)")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="measured seconds per round and server (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server (default 3)")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the simulator process into FILE and print its top "
                             "functions (slows the simulator: figures are not comparable)")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 500:
        parser.error("--users must be 1..500")
    if args.calls_per_user < 1 or not 0.5 <= args.seconds <= 30 or not 1 <= args.rounds <= 9:
        parser.error("need --calls-per-user >= 1, --seconds 0.5..30 and --rounds 1..9")
    return args


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Make ``kill <pid>`` clean up the servers like Ctrl-C does."""
    def interrupt(sig: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _skip_sniffio_probe() -> None:
    """httpcore runs ``import sniffio`` for every lock it creates (several per request) and
    falls back to asyncio when that fails. Without sniffio installed, each attempt is a full
    search of sys.path: a third of the time httpx took in a first profile. A None
    entry in sys.modules makes the import fail at once, with the same asyncio fallback."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def run(users: int = 50, seconds: float = 5.0, rounds: int = 3, max_calls: int = 10_000,
        profile: str | None = None, progress: bool = True) -> list[RoundResult]:
    """Start both servers, sign the users in, run the interleaved rounds, stop the servers.

    Raises BenchError (or an httpx error) when the benchmark cannot run as designed. With
    ``profile`` (an absolute path) the simulator process writes its cProfile there when it
    stops, i.e. before this returns.
    """
    _skip_sniffio_probe()
    servers: dict[ServerKind, ServerProcess] = {}
    try:
        servers["baseline"] = start_server("baseline", users)
        servers["simulator"] = start_server("simulator", users, profile)
        return asyncio.run(bench(servers, users, seconds, rounds, max_calls, progress))
    finally:
        for server in servers.values():
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    profile = str(Path(args.profile).resolve()) if args.profile else None
    try:
        with _sigterm_as_interrupt():
            results = run(args.users, args.seconds, args.rounds, args.calls_per_user, profile)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (BenchError, httpx.HTTPError) as exc:
        print(f"bench_simulator: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(report(results, args.users, args.seconds))
    if profile is not None and Path(profile).exists():
        print(f"\nsimulator process profile (its whole life; pstats file {profile}):")
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"ucwa_nb|phonenumbers", 30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
