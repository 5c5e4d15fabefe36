"""Fixtures for the simulator tests: short-timed scenarios, simulators and signed-in sessions.

Every simulator and session a test makes through the ``lab`` fixture is torn down after it,
sessions first (deleting an application releases its parked poll at once), then simulators.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ucwa_nb import Simulator

from .scenarios import Lab, drain_stopping, fast_scenario


@pytest.fixture(scope="session", autouse=True)
def _stop_simulators_before_the_end() -> Iterator[None]:
    yield
    drain_stopping()


@pytest.fixture
def lab() -> Iterator[Lab]:
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def sim(lab: Lab) -> Simulator:
    """A fresh fast simulator for one test."""
    return lab.start()


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One fast simulator for a whole module of tests that change no shared state."""
    sim = Simulator(fast_scenario())
    try:
        yield sim
    finally:
        sim.stop()
