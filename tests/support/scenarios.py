"""The fast scenario: the default world (``ucwa_nb/sim/default.toml``) with short delays, and
the default scenario's people, named once for every test directory.

One builder, ``fast_scenario_dict`` (``fast_scenario`` makes the ``Scenario``), with its
timings named below. A test that needs other timings says so in its call
(``fast_scenario(own_after=5.0)``: the call stays Connecting); a directory that needs more
than timings has a named preset here (``with_nobody``).

This is not ``ucwa_nb.sim.scenarios.fast()``, the notebooks' fast world: that one keeps the
rings long enough to watch (John takes 0.4 s, so a notebook can cancel him) and polls of at
least 1 s; the tests want every call over in a fraction of a second and polls of 0.2 s.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from ucwa_nb import Scenario
from ucwa_nb.sim.scenario_loader import scenario_from_dict

# Users of the default scenario, as (username, password).
ALICE = ("alice@contoso.com", "ucwa-demo")
GUEST = ("guest@contoso.com", "ucwa-demo-guest")  # no call scope: no call link is offered
# Contacts of the default scenario, and what each does when rung.
JOHN = "sip:john@contoso.com"  # answers
MARIA = "sip:maria@contoso.com"  # busy
PIERRE = "sip:pierre@contoso.com"  # declines
NORA = "sip:nora@contoso.com"  # never answers: gives up after ring_timeout
NOBODY = "sip:nobody@contoso.com"  # no such user or contact in the fast scenario
DESK_PHONE_NEVER_ANSWERED = "tel:+14255550199"
# A successful call's events and the states they carry.
SUCCESS_TYPES = ["started", "updated", "updated", "completed"]
SUCCESS_STATES = ["Connecting", "Connecting", "Alerting", "Connected"]

# ------------------------------------------------------------------- the fast timings, in s

# The user's own phone (the first leg of call-via-work) answers after OWN_AFTER; every contact
# reacts (answers, is busy, declines) after CALLEE_AFTER: a whole call takes ~0.1 s.
OWN_AFTER = 0.02
CALLEE_AFTER = 0.05
# [server] settings. ring_timeout: a phone that is never answered (Nora's) gives up after
# 0.3 s. min_poll_timeout: the tests poll for 0.2 to 5 s, below the 180 s real servers allow.
# application_expiry and callback_grace keep default.toml's 900 s and 60 s: no test outlives
# them, and the tests about them start simulators with their own (make_sim(callback_grace=..)).
FAST_SERVER: dict[str, Any] = {"ring_timeout": 0.3, "min_poll_timeout": 0.2}


def default_scenario_dict() -> dict[str, Any]:
    """The shipped default scenario, as the dict ``scenario_from_dict`` takes."""
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def fast_scenario_dict(server: Mapping[str, Any] | None = None, /, *,
                       own_after: float = OWN_AFTER, callee_after: float = CALLEE_AFTER,
                       extra_users: Iterable[Mapping[str, Any]] = (),
                       **settings: Any) -> dict[str, Any]:
    """The default scenario with the fast timings, as a dict a test may change further.

    ``server`` and ``settings`` override ``[server]`` settings (a mapping or keywords:
    ``fast_scenario_dict(application_expiry=0.5)``); ``own_after`` and ``callee_after`` set
    the phones' delays; ``extra_users`` are appended to ``[[users]]``.
    """
    data = copy.deepcopy(default_scenario_dict())
    data["server"] = {**data.get("server", {}), **FAST_SERVER, **(server or {}), **settings}
    for user in data["users"]:
        # Every user's, not only Alice's: Bob's and the guest's own phones answer at once too.
        user["own_phone"] = {**user.get("own_phone", {}), "after": own_after}
    for contact in data["contacts"]:
        contact["after"] = callee_after
        if "mobile" in contact:
            contact["mobile"] = {**contact["mobile"], "after": callee_after}
        if "forward" in contact:  # forwarded after two of the callee's delays
            contact["forward"] = {**contact["forward"], "after": 2 * callee_after}
    for phone in data.get("phones", []):
        if phone.get("behaviour", "answers") != "never_answers":
            phone["after"] = callee_after
    data["users"].extend(dict(user) for user in extra_users)
    return data


def fast_scenario(server: Mapping[str, Any] | None = None, /, *,
                  own_after: float = OWN_AFTER, callee_after: float = CALLEE_AFTER,
                  extra_users: Iterable[Mapping[str, Any]] = (),
                  **settings: Any) -> Scenario:
    """``fast_scenario_dict(...)`` as a Scenario named "fast"."""
    return scenario_from_dict(
        fast_scenario_dict(server, own_after=own_after, callee_after=callee_after,
                           extra_users=extra_users, **settings), name="fast")


# ------------------------------------------------------------------- presets

# A user with no conversations and no conversation logs, for the widget tests of empty
# pickers. Only in with_nobody(): in the fast scenario "nobody" is the URI no one has (the
# client's and simulator's tests call it and sign in as it to get 404s and 400s).
NOBODY_USER = ("nobody@contoso.com", "ucwa-demo-nobody")


def with_nobody(**server: Any) -> Scenario:
    """The fast scenario plus ``NOBODY_USER``."""
    return fast_scenario(server, extra_users=[{
        "uri": "sip:" + NOBODY_USER[0], "password": NOBODY_USER[1], "name": "No Body",
        "phone": "tel:+14255554444"}])
