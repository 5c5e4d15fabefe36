"""A shared class's accounts: the trainer's (``[trainer]``), JupyterHub users'
(``[classroom] hub_users``) and the attendees' passwords, random or derived from the class's
seed.

Kept apart from the loader because the simulator's rules need it at run time: a hub user's
password is checked against the one derived here (rules/hub_users.py), and the trainer's
page checks ``TrainerSpec`` (trainer.py). The data model (scenario.py) holds these specs,
so this module imports nothing of the simulator (no import cycle). Reading ``[classroom]``
and ``[trainer]`` from a scenario file is in scenario_loader.py with the file's other
checks: they raise ``ScenarioError`` and build ``UserSpec``s, which live in the model.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

__all__ = ["MIN_SEED", "HubUsersSpec", "TrainerSpec", "attendee_password", "random_password"]


@dataclass(frozen=True)
class TrainerSpec:
    """The trainer's account for the simulator's own pages (``/_simulator/activity``),
    given as HTTP Basic credentials. Not a UCWA user: it cannot sign in to UCWA."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class HubUsersSpec:
    """``[classroom] hub_users = true``: a JupyterHub user ``name`` signs in as
    ``name@domain`` with the password the hub derives from the class's ``password_seed``
    (docs/jupyterhub_config.py hands it to each user's server), and gets an account on
    first sign-in if the scenario has none of that name (rules/hub_users.py)."""

    domain: str
    seed: str = field(repr=False)
    first_phone: int  # hub accounts' phones follow the attendees'
    limit: int = 500  # accounts made on first sign-in, at most


# Attendees' passwords: 16 characters from a 58-letter alphabet (about 94 bits), with no
# letters that look alike (I/l/1, O/0) for a trainer who prints the list.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_"

# The shortest seed a scenario may give: an attendee could try every short seed against
# their own password and then work out everyone else's.
MIN_SEED = 16


def attendee_password(seed: str, uri: str) -> str:
    """The password of account ``uri`` under the class's seed (what the hub hands out): an
    HMAC of the account, so the same list every run, and knowing one password tells nothing
    of another's without the seed."""
    number = int.from_bytes(hmac.digest(seed.encode(), uri.encode(), hashlib.sha256))
    letters = []
    for _ in range(16):
        number, digit = divmod(number, len(_PASSWORD_ALPHABET))
        letters.append(_PASSWORD_ALPHABET[digit])
    return "".join(letters)


def random_password() -> str:
    """A password from the system's random source, for a class with no seed."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
