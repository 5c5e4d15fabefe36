"""What the tests share, in one place: ``from support import ...``.

* ``scenarios``: the fast scenario (one builder, its timings named) and its presets; the
  default scenario's users and contacts (ALICE, JOHN, NORA, ...).
* ``waiting``: ``wait_until`` (a bounded wait on a condition) and ``wait_for_parked_poll``.
* ``lab``: ``Lab``, the simulators and sessions of one test (the ``lab`` fixture), and
  ``drain_stopping``.
* ``transports``: httpx transport wrappers that lose, refuse, hold or reroute requests.

Imported by module, not re-exported here: ``support.ucwa_http`` (the raw UCWA test client
the simulator's tests sign in with) and ``support.widgets`` (what a widget shows; imports
ipywidgets). The fixtures built on these are in tests/conftest.py.
"""

from .lab import Lab, MakeSession, MakeSim, drain_stopping
from .scenarios import (
    ALICE,
    DESK_PHONE_NEVER_ANSWERED,
    FAST_SERVER,
    GUEST,
    JOHN,
    MARIA,
    NOBODY,
    NOBODY_USER,
    NORA,
    PIERRE,
    SUCCESS_STATES,
    SUCCESS_TYPES,
    default_scenario_dict,
    fast_scenario,
    fast_scenario_dict,
    with_nobody,
)
from .transports import (
    FaultyPolls,
    HookTransport,
    Route,
    Router,
    bearer_token,
    client_from,
    is_event_poll,
    operation_id_of,
    password_form,
    redirect_to,
)
from .waiting import WAIT, wait_for_parked_poll, wait_until

__all__ = [
    "ALICE", "DESK_PHONE_NEVER_ANSWERED", "FAST_SERVER", "GUEST", "JOHN", "MARIA", "NOBODY",
    "NOBODY_USER", "NORA", "PIERRE", "SUCCESS_STATES", "SUCCESS_TYPES", "WAIT", "FaultyPolls",
    "HookTransport", "Lab", "MakeSession", "MakeSim", "Route", "Router", "bearer_token",
    "client_from", "default_scenario_dict", "drain_stopping", "fast_scenario",
    "fast_scenario_dict", "is_event_poll", "operation_id_of", "password_form", "redirect_to",
    "wait_for_parked_poll", "wait_until", "with_nobody",
]
