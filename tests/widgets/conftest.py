"""Fixtures and helpers for the widget tests: a fast simulator, signed-in sessions, and ways
to read what a widget shows.

Headless ipywidgets (notebook-tooling.md section 2): ``button.click()`` runs the handlers but
never raises (ipywidgets swallows callback exceptions), so tests check effects; progress comes
from the event thread, so tests wait for it with a bounded polling loop (``wait_until``).

A call changes the server's state (a connected conversation answers a second addPhoneAudio
with 409; continuePhoneAudio adds a conversation), so a test that places a call uses
``session`` on its own simulator (``sim``); a test that places none may use
``readonly_session``, on a simulator shared by the module (starting and stopping one per test
is most of a test's time).
"""

from __future__ import annotations

import html
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from copy import deepcopy
from importlib import resources
from typing import Any

import ipywidgets as w
import pytest

import ucwa_nb
from ucwa_nb.client.session import Session
from ucwa_nb.sim import Scenario, Simulator
from ucwa_nb.sim.scenario_loader import scenario_from_dict

ALICE = ("alice@contoso.com", "ucwa-demo")
GUEST = ("guest@contoso.com", "ucwa-demo-guest")
# Added to the default scenario: a user with no conversations and no conversation logs.
NOBODY = ("nobody@contoso.com", "ucwa-demo-nobody")


def fast_scenario_data(**server: Any) -> dict[str, Any]:
    """The default scenario (default.toml) as a dict, with short delays for tests."""
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    data = deepcopy(tomllib.loads(text))
    # min_poll_timeout: the widget tests poll for 1 s, below the 180 s real servers allow.
    data["server"].update({"ring_timeout": 0.3, "min_poll_timeout": 0.2, **server})
    for contact in data["contacts"]:
        if "after" in contact:
            contact["after"] = 0.05
    for user in data["users"]:
        if "own_phone" in user:
            user["own_phone"]["after"] = 0.05
    data["users"].append({"uri": "sip:" + NOBODY[0], "password": NOBODY[1],
                          "name": "No Body", "phone": "tel:+14255554444"})
    return data


def fast_scenario(**server: Any) -> Scenario:
    return scenario_from_dict(fast_scenario_data(**server), name="widgets-fast")


class Lab:
    """Simulators and sessions made for one test, torn down in the right order: sessions
    first (deleting the application releases its parked poll), then simulators (stopping one
    under a parked poll makes uvicorn wait out its grace period)."""

    def __init__(self) -> None:
        self.simulators: list[Simulator] = []
        self.sessions: list[Session] = []

    def simulator(self, **server: Any) -> Simulator:
        """A fresh fast simulator; ``server`` overrides [server] settings."""
        simulator = Simulator(fast_scenario(**server))
        self.simulators.append(simulator)
        return simulator

    def connect(self, user: tuple[str, str] = ALICE, *, sim: Simulator,
                **kwargs: Any) -> Session:
        # A short poll keeps the event thread responsive to stop() (see the 500 test).
        kwargs.setdefault("poll_timeout", 1.0)
        session = ucwa_nb.connect(sim.url, username=user[0], password=user[1], **kwargs)
        self.sessions.append(session)
        return session

    def close(self) -> None:
        for session in reversed(self.sessions):
            session.close()
        for simulator in reversed(self.simulators):
            simulator.stop()  # safe on one a test stopped already


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
    return lab.simulator()


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One fast simulator for the tests of a module that place no call."""
    simulator = Simulator(fast_scenario())
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def session(lab: Lab, sim: Simulator) -> Session:
    """Alice on her own simulator, signed in with JSON, her event channel running."""
    return lab.connect(sim=sim)


@pytest.fixture
def readonly_session(lab: Lab, shared_sim: Simulator) -> Session:
    """Alice (a new application) on the module's simulator: for tests that place no call."""
    return lab.connect(sim=shared_sim)


# --------------------------------------------------------------------------- helpers


def wait_until(predicate: Callable[[], object], timeout: float = 5.0,
               what: str | Callable[[], str] = "condition") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds.

    ``what`` names the wait in the failure message; a callable is evaluated on failure, so
    it can say what the widget showed last."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            pytest.fail(f"timed out after {timeout} s waiting for {described}")
        time.sleep(0.02)


def text_of(markup: str) -> str:
    """The text a person reads in an HTML widget's value: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def all_widgets(root: w.Widget) -> list[w.Widget]:
    """``root`` and every widget reachable from its traits (children, accordions, ...)."""
    found: list[w.Widget] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        found.append(widget)
        for name in widget.trait_names():
            value = getattr(widget, name, None)
            items = value if isinstance(value, list | tuple) else [value]
            stack.extend(item for item in items if isinstance(item, w.Widget))
    return found


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a trait value (nested tuples, lists and dicts included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)


def widget_strings(root: w.Widget) -> list[str]:
    """Every string held by any trait of ``root`` or its descendants."""
    return [text for widget in all_widgets(root) for name in widget.trait_names()
            for text in strings_in(getattr(widget, name, None))]
