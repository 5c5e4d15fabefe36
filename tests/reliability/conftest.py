"""Fixtures for the reliability tests: rooms that are always torn down, a check that no test
leaves a thread behind, and the figures each run measured (printed in pytest's summary)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from support import wait_until

from .classroom import Classroom, MakeRoom, Room

FIGURES: list[str] = []


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every thread a test starts (sessions' event channels, simulators, pools) has ended
    once its fixtures are torn down. Autouse, so it is set up first and torn down last."""
    before = set(threading.enumerate())

    def extra() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before and t.is_alive()]

    yield
    wait_until(lambda: not extra(), 5.0,
               what=lambda: f"the test's threads to end; still running: {extra()}")


@pytest.fixture
def make_room() -> Iterator[MakeRoom]:
    """``make_room(classroom, separate_process=False)``: its simulator, started; sessions
    and simulator are closed at teardown even when the test failed."""
    rooms: list[Room] = []

    def make(classroom: Classroom, *, separate_process: bool = False) -> Room:
        room = Room(classroom, separate_process=separate_process)
        rooms.append(room)
        return room

    yield make
    for room in rooms:
        room.close()


@pytest.fixture
def figures() -> Callable[[str], None]:
    """Note a measured figure; all of them are printed at the end of the pytest run."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
