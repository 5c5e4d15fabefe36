"""The widget tests' one fixture of their own: ``readonly_session``, and the simulator of the
module it runs on.

A call changes the server's state (a connected conversation answers a second addPhoneAudio
with 409; continuePhoneAudio adds a conversation), so a test that places a call uses
``session`` on its own simulator (``sim``, tests/conftest.py); a test that places none may
use ``readonly_session``, on a simulator shared by the module (starting and stopping one per
test is most of a test's time). Reading what a widget shows: ``support.widgets``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import Lab, with_nobody

from ucwa_nb.client.session import Session
from ucwa_nb.sim import Simulator


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """The module's simulator, of the fast scenario plus ``NOBODY_USER`` (a user with no
    conversations and no logs, for the forms' empty pickers): the tests of a module that
    place no call share it. Overrides tests/conftest.py's, whose scenario has no such user."""
    simulator = Simulator(with_nobody())
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def readonly_session(lab: Lab, shared_sim: Simulator) -> Session:
    """Alice (a new application) on the module's simulator: for tests that place no call."""
    return lab.connect(sim=shared_sim)
