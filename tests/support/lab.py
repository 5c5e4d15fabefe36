"""The Lab: the simulators and sessions one test makes, all torn down at its end.

The ``lab`` fixture (tests/conftest.py) gives each test one; ``sim``, ``make_sim``,
``make_session`` and ``session`` are made through it. Teardown order matters: sessions first
(closing one deletes its application, which releases its parked poll at once), then the HTTP
clients a test handed in, then the simulators (stopping one under a parked poll would make
uvicorn wait out its grace period).

Simulators are stopped in the background (uvicorn needs about 0.2 s to shut down, mostly
fixed sleeps), overlapping with the next test; ``drain_stopping()`` waits for all of them and
reports any that failed to stop; the root conftest calls it at the end of the test session.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

import ucwa_nb
from ucwa_nb import Scenario, Session, Simulator

from . import ucwa_http
from .scenarios import ALICE, fast_scenario

MakeSim = Callable[..., Simulator]
MakeSession = Callable[..., Session]

# Lab.connect's event poll: short, so that a session's event thread answers stop() within
# a second (tests/widgets stop a channel and then send). make_session asks for 5 s.
CONNECT_POLL_TIMEOUT = 1.0


class Lab:
    """Starts simulators and signs users in, with the client (``connect``) or with the raw
    test client of ``ucwa_http`` (``sign_in``); cleans everything up in ``close``."""

    def __init__(self) -> None:
        self.sims: list[Simulator] = []
        self.sessions: list[Session] = []
        self.raw_sessions: list[ucwa_http.Session] = []
        self.clients: list[httpx.Client] = []

    def start(self, scenario: Scenario | None = None, **server: Any) -> Simulator:
        """A fresh simulator of ``scenario``, else of the fast scenario with ``server``
        overrides (``lab.start(application_expiry=0.5)``)."""
        sim = Simulator(scenario if scenario is not None else fast_scenario(**server))
        self.sims.append(sim)
        return sim

    def connect(self, user: tuple[str, str] = ALICE, *, sim: Simulator,
                transport: httpx.BaseTransport | None = None, **kwargs: Any) -> Session:
        """``user`` signed in to ``sim`` with ``ucwa_nb.connect`` (the password grant, JSON,
        event channel running unless ``kwargs`` say otherwise). With ``transport`` (a
        ``HookTransport``, say) the session's httpx client sends through it."""
        if transport is not None:
            client = httpx.Client(transport=transport, timeout=10.0)
            self.clients.append(client)  # the session does not close a client it was given
            kwargs["http_client"] = client
        kwargs.setdefault("poll_timeout", CONNECT_POLL_TIMEOUT)
        session = ucwa_nb.connect(sim.url, username=user[0], password=user[1], **kwargs)
        self.sessions.append(session)
        return session

    def sign_in(self, sim: Simulator, user: str = "alice@contoso.com",
                fmt: ucwa_http.Format = "json", *, collect: bool = True,
                password: str | None = None) -> ucwa_http.Session:
        """``user`` signed in with the raw test client (the simulator's tests); with
        ``collect`` an event collector polls for it in a thread."""
        session = ucwa_http.sign_in(sim, user, password, fmt,
                                    endpoint_id=f"test-{uuid.uuid4().hex}")
        self.raw_sessions.append(session)
        if collect:
            session.collect(sim)
        return session

    def close(self) -> None:
        for session in reversed(self.sessions):
            session.close()
        for raw in self.raw_sessions:
            raw.close()
        for client in self.clients:
            client.close()
        sims, self.sims = self.sims, []
        if sims:
            stopper = threading.Thread(target=_stop_all, args=(sims,), daemon=True,
                                       name="ucwa-test-stopper")
            _STOPPING.append(stopper)
            stopper.start()


_STOPPING: list[threading.Thread] = []
_STOP_FAILURES: list[str] = []


def _stop_all(sims: list[Simulator]) -> None:
    for sim in sims:
        try:
            sim.stop()  # safe on one a test stopped already
            if sim.running:
                _STOP_FAILURES.append(f"{sim!r} still running after stop()")
        except Exception as exc:  # reported by drain_stopping(), in the test's thread
            _STOP_FAILURES.append(f"{sim!r}: {exc!r}")


def drain_stopping(timeout: float = 30.0) -> None:
    """Wait until every simulator handed to the background stopper has stopped."""
    deadline = time.monotonic() + timeout
    while _STOPPING:
        stopper = _STOPPING.pop()
        stopper.join(max(0.0, deadline - time.monotonic()))
        if stopper.is_alive():
            raise AssertionError("a simulator did not stop in time")
    if _STOP_FAILURES:
        failures = list(_STOP_FAILURES)
        _STOP_FAILURES.clear()
        raise AssertionError("simulators failed to stop: " + "; ".join(failures))
