"""Fixtures for the client tests: a fresh fast simulator per test and signed-in sessions;
and the ``slow`` mark for whole directories.

Everything a fixture starts is stopped at teardown: sessions first (closing one deletes its
application, which releases its parked poll at once), then their httpx clients, then the
simulators. ``tests/sim/conftest.py`` defines its own ``sim``; these are for the client tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import ALICE, HookTransport, MakeSession, MakeSim, fast_scenario

import ucwa_nb
from ucwa_nb import Conversation, ConversationLog, Session, Simulator

# Whole directories of long runs, so that ``pytest -m "not slow"`` is a fast inner loop
# (under two minutes on two cores): the browser tests (JupyterLab in Chromium), the
# reliability tests (load, faults, restarts), the Binder replay (a fresh virtual environment),
# the plain-clone check (the whole suite collected three times in a copy of the repository)
# and the notebooks under nbval (a kernel each, ~40 s in all, replaying flows that the
# client and widget tests cover). Single slow tests elsewhere carry @pytest.mark.slow.
_TESTS = Path(__file__).parent
SLOW_PATHS = (_TESTS / "browser", _TESTS / "reliability", _TESTS / "test_binder.py",
              _TESTS / "test_plain_clone.py", _TESTS.parent / "notebooks")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.path == slow or slow in item.path.parents for slow in SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    """``make_sim(**server_settings)``: a fast default-scenario simulator with overrides,
    e.g. ``make_sim(application_expiry=0.5)``; stopped at teardown."""
    started: list[Simulator] = []

    def make(**server: float) -> Simulator:
        sim = Simulator(fast_scenario(**server))
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: MakeSim) -> Simulator:
    """A fresh fast simulator: ring delays of tens of ms, ring_timeout 0.3 s."""
    return make_sim()


@pytest.fixture
def make_session(request: pytest.FixtureRequest) -> Iterator[MakeSession]:
    """``make_session(sim=None, user=ALICE, transport=None, **connect_kwargs)``: a session
    signed in with the password grant (poll_timeout 5 s unless given); closed at teardown.
    With ``transport`` (e.g. a ``HookTransport``) the session's httpx client sends through it.
    """
    opened: list[Session] = []
    clients: list[httpx.Client] = []

    def make(target: Simulator | None = None, *, user: tuple[str, str] = ALICE,
             transport: httpx.BaseTransport | None = None, **kwargs: Any) -> Session:
        if transport is not None:
            kwargs["http_client"] = httpx.Client(transport=transport, timeout=10.0)
        kwargs.setdefault("poll_timeout", 5.0)
        # The default simulator is started only for callers that do not bring their own.
        if target is None:
            target = request.getfixturevalue("sim")
        session = ucwa_nb.connect(target.url, username=user[0], password=user[1], **kwargs)
        opened.append(session)
        # The session's own client, and the one made here for ``transport`` (a session
        # leaves a client it was given open).
        clients.append(session.http_client)
        if transport is not None:
            clients.append(kwargs["http_client"])
        return session

    yield make
    for session in opened:
        session.close()
    for client in clients:
        client.close()


@pytest.fixture
def session(make_session: MakeSession) -> Session:
    """Alice signed in to the fast simulator, JSON, event channel running."""
    return make_session()


@pytest.fixture
def transport() -> HookTransport:
    return HookTransport()


@pytest.fixture
def hooked_session(make_session: MakeSession, transport: HookTransport) -> Session:
    """Alice signed in through ``transport``, whose hooks a test can set."""
    return make_session(transport=transport)


@pytest.fixture
def conversations(session: Session) -> list[Conversation]:
    """Alice's conversations, in the default scenario's order: John (answers), Maria and
    Pierre (busy, declines), Nora (never answers)."""
    found = session.conversations()
    assert [c.subject for c in found] == ["Project sync", "Budget review", "Quick question"]
    return found


@pytest.fixture
def conversation_logs(session: Session) -> list[ConversationLog]:
    return session.conversation_logs()
