"""Run the simulator on a real socket: in a background thread (``Simulator``) or in the
foreground (``serve_forever``, used by ``ucwa-nb serve``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from ucwa_nb.sim import paths, scenarios
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.fault_controls import FaultControls
from ucwa_nb.sim.faults import PollFaultLayer, PollFaults
from ucwa_nb.sim.forwarded import ForwardedFor, TrustedProxies
from ucwa_nb.sim.guard import ConnectionGuard
from ucwa_nb.sim.progress_grid import grid_rows
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import Scenario
from ucwa_nb.sim.scenario_loader import scenario_from_toml
from ucwa_nb.sim.trainer import TrainerGate
from ucwa_nb.sim.uvicorn_adapter import HookedServer

__all__ = ["Simulator", "SimulatorError"]

T = TypeVar("T")


class SimulatorError(RuntimeError):
    """The simulator could not start, or was used after it stopped."""


def _load(scenario: Scenario | str | Path | None) -> Scenario:
    if scenario is None:
        return scenarios.default()
    if isinstance(scenario, Scenario):
        return scenario
    return scenario_from_toml(scenario)


class Simulator(FaultControls):
    """A UCWA server for the phone-audio slice, on 127.0.0.1 and a free port by default.

    >>> with Simulator() as sim:          # doctest: +SKIP
    ...     print(sim.url)
    http://127.0.0.1:54321/autodiscover/autodiscoverservice.svc/root
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, start: bool = True, root_path: str | None = None,
                 trainer_gate: TrainerGate | None = None,
                 forwarded_allow_ips: str | Iterable[str] | None = None) -> None:
        """``root_path``: serve under this path prefix, as behind a reverse proxy that
        forwards it (``/services/ucwa-nb/`` on JupyterHub); default: the scenario's
        ``[server] root_path``. ``trainer_gate``: who sees ``/_simulator/activity``
        (default: the scenario's ``[trainer]`` by HTTP Basic; trainer.py).
        ``forwarded_allow_ips``: the proxies (addresses or networks, comma-separated)
        whose ``X-Forwarded-For`` names the client the limits count; default none: every
        client is its TCP peer (forwarded.py)."""
        self.scenario = _load(scenario)
        if root_path is not None:
            self.scenario = dataclasses.replace(self.scenario, server=dataclasses.replace(
                self.scenario.server, root_path=paths.normal_prefix(root_path)))
        self.trainer_gate = trainer_gate
        self.trusted_proxies = TrustedProxies(forwarded_allow_ips)
        self.host = host
        self.world = World(self.scenario)
        self.poll_faults = PollFaults(self.scenario.poll_faults)
        self.restarts = 0
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._socket: socket.socket | None = None
        self._restart: _Restart | None = None
        self._stopping = False
        self.port = 0
        if start:
            self.start()

    # ------------------------------------------------------------------ lifecycle

    def _make_server(self) -> _Server:
        layer = PollFaultLayer(create_app(self.world, self.trainer_gate), self.world,
                               self.poll_faults)
        guard = ConnectionGuard(self.scenario.server,
                                accounts_at=self.world.signin.accounts_via)
        server = _Server(self._config(ForwardedFor(layer, self.trusted_proxies), guard),
                         self.world, layer, guard)
        layer.connections = server.connections
        return server

    def _config(self, app: ForwardedFor, guard: ConnectionGuard) -> uvicorn.Config:
        # The h11 protocol, guarded (guard.py): idle and slow connections closed,
        # connections capped per client address and in all. uvicorn's own proxy headers
        # are off (its default believes X-Forwarded-For from 127.0.0.1, and it reads
        # FORWARDED_ALLOW_IPS from the environment): ForwardedFor believes only the
        # proxies the operator named.
        return uvicorn.Config(app, log_level="warning", access_log=False,
                              lifespan="on", timeout_graceful_shutdown=1,
                              timeout_keep_alive=30, http=guard.protocol_class(),
                              proxy_headers=False, forwarded_allow_ips="")

    def _bind(self, port: int | None = None) -> socket.socket:
        port = self._requested_port if port is None else port
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto must be IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on
        # accepted sockets whose proto is IPPROTO_TCP. Without it, every response after the
        # first on a keep-alive connection waited ~40 ms (Nagle against delayed ACK, as
        # uvicorn writes headers and body separately).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            raise SimulatorError(f"cannot listen on {self.host}:{port}: "
                                 f"{exc.strerror}") from None
        sock.listen(128)
        sock.set_inheritable(False)
        self.port = sock.getsockname()[1]
        return sock

    def start(self) -> Simulator:
        """Serve on the bound port in a thread of this process (the constructor does it
        unless told not to); returns the simulator. A second call does nothing."""
        if self._thread is not None:
            return self
        self._stopping = False
        self._socket = self._bind()
        self._server = self._make_server()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            # Every task of this loop (calls ringing, the sweeper) writes hrefs under it.
            paths.set_prefix(self.root_path)
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = self._server
            assert server is not None
            assert self._socket is not None
            try:
                task = loop.create_task(self._serve(server, self._socket))
                loop.call_soon(_notify_when_started, server, started, loop)
                loop.run_until_complete(task)
            except BaseException as exc:  # reported to start(); the thread must not die silently
                failure.append(exc)
            finally:
                started.set()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"ucwa-sim-{self.port}", daemon=True)
        self._thread.start()
        if not started.wait(10) or failure or not self._server.is_started:
            self.stop()
            raise SimulatorError(f"the simulator did not start: {failure[0] if failure else ''}")
        return self

    async def _serve(self, server: _Server, sock: socket.socket) -> None:
        """Serve until stopped; after a ``restart()``, serve again on the same loop, so the
        world's calls (asyncio tasks on this loop) ring on through the restart."""
        while True:
            await server.serve(sockets=[sock])
            restart, self._restart = self._restart, None
            if restart is None:
                return
            if not self._stopping:
                await asyncio.sleep(restart.downtime)  # the port refuses connections meanwhile
            self.world.restarting = False
            try:
                if self._stopping:
                    raise SimulatorError("stop() was called during the restart")
                sock = self._bind(self.port)
            except SimulatorError as exc:
                restart.failure = exc
                restart.started.set()
                self.world.shutdown()  # not restarting any more: stop the calls too
                return
            server = self._make_server()
            self._server, self._socket = server, sock
            self.restarts += 1
            _notify_when_started(server, restart.started, asyncio.get_running_loop())

    def restart(self, downtime: float = 0.0, timeout: float = 10.0) -> None:
        """Stop serving and serve again on the same port after ``downtime`` seconds.

        As when a front end of a pool restarts and another takes over, the state survives:
        users, tokens, applications, event channels (batches not yet acknowledged and
        events still pending) and calls in progress, which go on ringing and completing
        meanwhile. Connections do not: parked polls are answered 503, keep-alive
        connections are closed, and the port refuses connections during ``downtime``.
        Clients that follow ack semantics lose no event. Returns once serving again.
        """
        server, loop = self._server, self._loop
        if server is None or loop is None or not self.running:
            raise SimulatorError("the simulator is not running")
        restart = _Restart(downtime)
        self._restart = restart

        def begin() -> None:
            self.world.restarting = True
            server.begin_exit()

        loop.call_soon_threadsafe(begin)
        if not restart.started.wait(timeout + downtime) or restart.failure is not None:
            raise SimulatorError(f"the simulator did not restart: {restart.failure or ''}")

    def stop(self) -> None:
        """Stop serving and release the socket and the thread. Safe to call twice."""
        self._stopping = True
        server, thread, loop = self._server, self._thread, self._loop
        if server is not None and loop is not None and not loop.is_closed():
            # Answer parked polls first, or uvicorn waits for them until its grace runs out.
            # The server is looked up on the loop: a restart may have replaced it meanwhile.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._begin_exit)
        elif server is not None:
            server.ask_to_exit()
        if thread is not None:
            thread.join(10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._loop = self._socket = None

    def _begin_exit(self) -> None:
        if self._server is not None:
            self._server.begin_exit()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server's thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """``http://host:port``, the server's origin (``url`` is the autodiscover root)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def root_path(self) -> str:
        """The path prefix everything is served under ("" for none)."""
        return self.scenario.server.root_path

    @property
    def url(self) -> str:
        """The autodiscover root, to give to ``ucwa_nb.connect``."""
        return self.base_url + self.root_path + paths.ROOT

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Simulator {self.scenario.name!r} {state} at {self.url}>"

    # ------------------------------------------------------------------ control from any thread

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn`` on the simulator's loop (where its state lives) and return its result."""
        loop = self._loop
        if loop is None or not self.running:
            raise SimulatorError("the simulator is not running")

        async def wrapper() -> T:
            with paths.prefixed(self.root_path):  # the caller's thread has its own context
                return fn()

        future = asyncio.run_coroutine_threadsafe(wrapper(), loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise SimulatorError("the simulator did not answer in time") from None

    def connection_stats(self) -> dict[str, Any]:
        """What the connection guard sees and did: connections open (in all and by client
        address), and those refused over a cap or closed as idle or slow."""
        def stats() -> dict[str, Any]:
            server = self._server
            return server.guard.stats() if server is not None else {}

        return self.call(stats)

    def activity(self) -> list[dict[str, Any]]:
        """Every call placed on this simulator so far, by every user, with no token or
        password: what the trainer's page (``/_simulator/activity``) shows."""
        return self.call(self.world.activity)

    def exercises(self) -> list[dict[str, Any]]:
        """The exercises grid: per attendee, each exercise passed or not and its tries, as
        judged from what the server saw (``/_simulator/grid``, ``grid.csv``, the page)."""
        return self.call(lambda: grid_rows(self.world))

    # ------------------------------------------------------------------ foreground

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until Ctrl-C (uvicorn handles the signals)."""
        sock = self._bind()
        self._socket = sock
        paths.set_prefix(self.root_path)  # for the loop uvicorn runs in this thread
        server = self._make_server()
        if on_ready is not None:
            on_ready()
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
            self._socket = None


class _Restart:
    """A restart asked for by ``Simulator.restart`` and its outcome."""

    def __init__(self, downtime: float) -> None:
        self.downtime = downtime
        self.started = threading.Event()
        self.failure: BaseException | None = None


class _Server(HookedServer):
    """uvicorn's server, releasing the simulator's parked and held polls before it shuts
    down (or uvicorn waits for them until its grace runs out)."""

    def __init__(self, config: uvicorn.Config, world: World, layer: PollFaultLayer,
                 guard: ConnectionGuard) -> None:
        super().__init__(config)
        self.world = world
        self.layer = layer
        self.guard = guard
        self._reaper: asyncio.Task[None] | None = None

    async def after_startup(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self.guard.reap())

    async def before_shutdown(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()

    def begin_exit(self) -> None:
        self.world.shutdown()
        self.layer.release_all()
        self.ask_to_exit()

    def on_exit_signal(self) -> None:
        # Ctrl-C under `ucwa-nb serve`: runs on the server's own loop thread.
        self.world.shutdown()
        self.layer.release_all()


def _notify_when_started(server: HookedServer, started: threading.Event,
                         loop: asyncio.AbstractEventLoop) -> None:
    if server.is_started:
        started.set()
    elif not server.is_exiting:
        loop.call_later(0.01, _notify_when_started, server, started, loop)
