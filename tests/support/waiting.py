"""Bounded waits: a test waits on a condition, never for a fixed time it hopes is enough.

Progress in these tests comes from other threads (a session's event channel, the simulator's
loop, a widget's handlers), so a test polls for the state it expects and fails, saying what it
waited for, if the state does not come in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ucwa_nb import Simulator

WAIT = 5.0  # s: the longest a single wait in the fast tests may take
_POLL_INTERVAL = 0.01  # s between two looks: short next to the ~0.1 s a fast call takes


def wait_until(predicate: Callable[[], object], timeout: float = WAIT,
               what: str | Callable[[], str] = "condition") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds.

    ``what`` names the wait in the failure message; a callable is evaluated only on failure,
    so that it can say what was there instead (what a widget showed last, say).
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {described}")
        time.sleep(_POLL_INTERVAL)


def wait_for_parked_poll(sim: Simulator) -> None:
    """Until every application of ``sim`` has an event poll parked: connect() returns once
    its event thread has started, and a POST that beats the first poll gets 500
    CallbackChannelError, as a real server would answer."""
    def parked() -> bool:
        return sim.call(lambda: all(app.channel.parked is not None
                                    for app in sim.world.apps.values()))
    wait_until(parked, what="an event poll parked on the simulator")
