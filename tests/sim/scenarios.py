"""Short-timed scenarios built from the default one, and the Lab that runs simulators in tests."""

from __future__ import annotations

import copy
import threading
import time
import tomllib
import uuid
from importlib import resources
from typing import Any

from ucwa_nb import Scenario, Simulator
from ucwa_nb.sim.scenario_loader import scenario_from_dict

from .ucwa_http import Format, Session, sign_in

# Short timings so that a whole call takes well under a second. Application expiry and the
# callback grace are generous here; the tests about them start simulators of their own.
FAST_SERVER: dict[str, Any] = {
    "application_expiry": 30.0,
    "callback_grace": 10.0,
    "ring_timeout": 0.3,
    "min_poll_timeout": 0.2,
}


def default_scenario_dict() -> dict[str, Any]:
    """The default scenario (ucwa_nb/sim/default.toml) as a plain dict, to modify."""
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def fast_scenario_dict(server: dict[str, Any] | None = None, *, own_after: float = 0.02,
                       callee_after: float = 0.05) -> dict[str, Any]:
    """The default scenario with short ring delays and the given server overrides."""
    data = copy.deepcopy(default_scenario_dict())
    data["server"] = {**data.get("server", {}), **FAST_SERVER, **(server or {})}
    for user in data["users"]:
        own = user.setdefault("own_phone", {})
        own["after"] = own_after
    for contact in data["contacts"]:
        contact["after"] = callee_after
    return data


def fast_scenario(server: dict[str, Any] | None = None, **kwargs: Any) -> Scenario:
    return scenario_from_dict(fast_scenario_dict(server, **kwargs), name="fast")


class Lab:
    """Starts simulators and signs users in; cleans everything up at the end of the test.

    Sessions are closed at once. Simulators are stopped in the background (uvicorn needs
    about 0.2 s to shut down, mostly fixed sleeps), overlapping with the next test;
    ``drain_stopping()`` waits for all of them, and the test session does at its end.
    """

    def __init__(self) -> None:
        self.sims: list[Simulator] = []
        self.sessions: list[Session] = []

    def start(self, scenario: Scenario | None = None, **server: Any) -> Simulator:
        sim = Simulator(scenario if scenario is not None else fast_scenario(server))
        self.sims.append(sim)
        return sim

    def sign_in(self, sim: Simulator, user: str = "alice@contoso.com", fmt: Format = "json",
                *, collect: bool = True, password: str | None = None) -> Session:
        session = sign_in(sim, user, password, fmt, endpoint_id=f"test-{uuid.uuid4().hex}")
        self.sessions.append(session)
        if collect:
            session.collect(sim)
        return session

    def close(self) -> None:
        for session in self.sessions:
            session.close()
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
            sim.stop()
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
