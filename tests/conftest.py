"""The fixtures every test directory shares, built on ``support`` (tests/support/): the
``lab`` of a test, the ``sim`` (one meaning everywhere: a running simulator of the fast
scenario, in a thread of the test process), signed-in sessions; and the ``slow`` mark for
whole directories.

Everything a fixture starts is stopped at teardown by the test's ``lab``: sessions first
(closing one deletes its application, which releases its parked poll at once), then their
httpx clients, then the simulators (in the background; all are waited for at the end).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    ALICE,
    HookTransport,
    Lab,
    MakeSession,
    MakeSim,
    drain_stopping,
    fast_scenario,
)

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


SKIPPED_SECTION = "skipped on this machine, and why"


def _reason(report: pytest.TestReport) -> str:
    text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    # One line per cause: the absolute path in parentheses differs from machine to machine.
    return re.sub(r"\s*\(/[^)]*\)", "", text.removeprefix("Skipped: "))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Above the last line ("8 skipped"), which tests skipped and why, one line per cause:
    a plain clone (no ../shared), a machine without Chromium, curl or jq. ``-ra`` lists each
    test; this says it in a few lines, whatever options were given."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report, pytest.TestReport)]
    if not skipped:
        return
    causes: dict[str, list[str]] = {}
    for report in skipped:
        causes.setdefault(_reason(report), []).append(report.nodeid)
    terminalreporter.section(SKIPPED_SECTION, sep="-")
    for cause, tests in causes.items():
        terminalreporter.line(f"{len(tests)} skipped: {cause}")
        terminalreporter.line(f"    e.g. {tests[0]}" + (f" and {len(tests) - 1} more"
                                                          if len(tests) > 1 else ""))
    terminalreporter.line("(under CI=true each of these fails instead; the README's "
                          "\"Two commands\" says what they need)")


@pytest.fixture(scope="session", autouse=True)
def _stop_simulators_before_the_end() -> Iterator[None]:
    """The Lab stops simulators in the background: wait for the last ones (and fail if one
    would not stop) before pytest reports."""
    yield
    drain_stopping()


@pytest.fixture
def lab() -> Iterator[Lab]:
    """The simulators and sessions of one test, all torn down after it."""
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def sim(lab: Lab) -> Simulator:
    """A fresh simulator of the fast scenario for one test: ring delays of tens of ms,
    ring_timeout 0.3 s (support/scenarios.py)."""
    return lab.start()


@pytest.fixture
def make_sim(lab: Lab) -> MakeSim:
    """``make_sim(**server_settings)`` is ``lab.start``: a fresh fast simulator with
    overrides, e.g. ``make_sim(application_expiry=0.5)``."""
    return lab.start


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One fast simulator for a whole module of tests that change no state another test of
    the module reads (starting and stopping one per test is most of a short test's time)."""
    sim = Simulator(fast_scenario())
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def make_session(lab: Lab, request: pytest.FixtureRequest) -> MakeSession:
    """``make_session(sim=None, user=ALICE, transport=None, **connect_kwargs)``: a session
    signed in with the password grant on ``sim`` (the test's ``sim`` fixture if None),
    poll_timeout 5 s unless given; closed at teardown. With ``transport`` (e.g. a
    ``HookTransport``) the session's httpx client sends through it.
    """
    def make(target: Simulator | None = None, *, user: tuple[str, str] = ALICE,
             transport: httpx.BaseTransport | None = None, **kwargs: Any) -> Session:
        kwargs.setdefault("poll_timeout", 5.0)
        # The default simulator is started only for callers that do not bring their own.
        if target is None:
            target = request.getfixturevalue("sim")
        return lab.connect(user, sim=target, transport=transport, **kwargs)

    return make


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
