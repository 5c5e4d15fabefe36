"""Reading a class's accounts from a scenario: ``[classroom]`` (attendees made from a count,
their passwords random or derived from the class's seed; hub users), and ``[trainer]``."""

from __future__ import annotations

import os
from typing import Any

from ucwa_nb.sim.classroom import (
    MIN_SEED,
    HubUsersSpec,
    TrainerSpec,
    attendee_password,
    random_password,
)
from ucwa_nb.sim.scenario import (
    ConversationLogSpec,
    ConversationSpec,
    ScenarioError,
    UserSpec,
)
from ucwa_nb.sim.scenario_reading import only, phone_number, required

__all__ = ["class_accounts", "hub_users", "trainer_account"]


def class_accounts(raw: Any) -> list[UserSpec]:
    """``[classroom] attendees = N`` makes N accounts attendee01..N, for a shared class.

    Each password is random (16 URL-safe characters): one attendee cannot work out
    another's. ``password_seed`` (a secret string) makes them reproducible, for a
    trainer who prints the list before class."""
    if raw is None:
        return []
    only(raw, "classroom", {"attendees", "domain", "password_seed", "password_seed_env",
                             "first_phone", "hub_users"},
          hint="password_prefix made guessable passwords and is gone; "
               "see password_seed" if "password_prefix" in raw else "")
    count = raw.get("attendees", 0)
    if not isinstance(count, int) or not 0 <= count <= 500:
        raise ScenarioError("classroom.attendees must be an integer from 0 to 500")
    domain = str(raw.get("domain", "contoso.com"))
    seed = _seed(raw)
    # A bad first_phone used to escape as a bare ValueError from int().
    first_phone = phone_number(raw.get("first_phone", "+14255550300"), "US",
                              "classroom.first_phone")
    first = int(first_phone.lstrip("+"))
    uris = [f"sip:attendee{n:02d}@{domain}" for n in range(1, count + 1)]
    return [_attendee(uri, random_password() if seed is None else attendee_password(seed, uri),
                     f"Attendee {n:02d}", f"tel:+{first + n}")
            for n, uri in enumerate(uris, start=1)]

def hub_users(raw: Any) -> HubUsersSpec | None:
    """``[classroom] hub_users = true``: JupyterHub users sign in with the password the hub
    derives from the class's seed (``rules/hub_users.py``); None when it is off."""
    if raw is None or not raw.get("hub_users", False):
        return None
    if raw["hub_users"] is not True:
        raise ScenarioError("classroom.hub_users must be true or false")
    seed = _seed(raw)
    if seed is None:
        raise ScenarioError("classroom.hub_users needs password_seed or password_seed_env: "
                            "the hub derives each user's password from it")
    first = int(phone_number(raw.get("first_phone", "+14255550300"), "US",
                             "classroom.first_phone").lstrip("+"))
    return HubUsersSpec(str(raw.get("domain", "contoso.com")), seed,
                        first + int(raw.get("attendees", 0)) + 1)

def _seed(raw: dict[str, Any]) -> str | None:
    """``password_seed``, or the environment variable ``password_seed_env`` names (a
    JupyterHub service gets it from the hub's config, never from a file)."""
    seed = raw.get("password_seed")
    if "password_seed_env" in raw:
        if seed is not None:
            raise ScenarioError("classroom: password_seed or password_seed_env, not both")
        name = raw["password_seed_env"]
        seed = os.environ.get(name) if isinstance(name, str) else None
        if not seed:
            raise ScenarioError(f"classroom.password_seed_env: the environment variable "
                                f"{name!r} is not set")
    if seed is not None and (not isinstance(seed, str) or len(seed) < MIN_SEED):
        # An attendee could try every short seed against their own password.
        raise ScenarioError(f"classroom.password_seed must be a string of {MIN_SEED} "
                            "characters or more, as secret as the passwords it makes")
    return seed

def trainer_account(raw: Any) -> TrainerSpec:
    """``[trainer]``: who sees the trainer's page (HTTP Basic)."""
    only(raw, "trainer", {"username", "password"})
    username, password = required(raw, "username", "trainer"), required(raw, "password", "trainer")
    if not isinstance(username, str) or not username or ":" in username:
        raise ScenarioError("trainer.username must be a non-empty string without ':'")
    if not isinstance(password, str) or len(password) < 8:
        raise ScenarioError("trainer.password must be a string of 8 characters or more")
    return TrainerSpec(username, password)


def _attendee(uri: str, password: str, name: str, phone: str) -> UserSpec:
    """A class account: a conversation to call John in, and a past call with him."""
    return UserSpec(
        uri=uri, password=password, name=name, phone=phone,
        conversations=(ConversationSpec("Class exercise", ("sip:john@contoso.com",)),),
        conversation_logs=(
            ConversationLogSpec("Earlier call with John", ("sip:john@contoso.com",)),
        ),
    )
