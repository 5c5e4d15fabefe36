"""Accounts for JupyterHub users (``[classroom] hub_users = true``, or ``ucwa-nb serve
--jupyterhub`` with no scenario).

How an attendee signs in as themself with no password typed, and cannot sign in as anyone
else: the hub hands each user's server ``UCWA_NB_USERNAME = <hub name>@<domain>`` and
``UCWA_NB_PASSWORD = HMAC(seed, that account)`` through ``Spawner.environment``
(docs/jupyterhub_config.py), and ``connect()`` reads them (client/environment.py). The
simulator, given the same seed, recognises the password: the ordinary UCWA password grant,
so the notebooks show the sign-in a real server does. Without the seed (the hub's and the
simulator's secret) nobody can compute another user's password.

On a hub, the hub says who signs in to its domain: an account there opens only with the
password the hub derives for it, even an account the scenario lists with a password of its
own (the default scenario's passwords are in the README: on a shared hub anyone could use
them, and see what the hub user of that name does). A hub user the scenario does not list
gets an account on first sign-in, made like the scenario's demo user (its conversations,
logs, scopes and own phone), so that the notebooks written for the demo user run unchanged.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from urllib.parse import unquote

from ucwa_nb.sim.classroom import HubUsersSpec, attendee_password
from ucwa_nb.sim.scenario import UserSpec

__all__ = ["hub_account", "hub_name", "is_hub_password"]

# JupyterHub names are lower case. The hub's config writes a name as a SIP URI's user part:
# letters, digits, "._-" as they are, anything else %-escaped (the "@" of a name that is an
# e-mail address, as with an OAuth authenticator: ada%40example.org@contoso.com).
_NAME = re.compile(r"(?=[a-z0-9%])(?:[a-z0-9._-]|%[0-9a-f]{2}){1,64}")


def hub_name(spec: HubUsersSpec, username: str) -> str | None:
    """The hub user's name if ``username`` (``name@domain``, ``sip:`` optional) is in the
    hub's domain and a name a hub account can have; else None (not the hub's to decide)."""
    name, at, domain = username.lower().removeprefix("sip:").partition("@")
    if not at or domain != spec.domain.lower() or not _NAME.fullmatch(name):
        return None
    return name


def is_hub_password(spec: HubUsersSpec, name: str, password: str) -> bool:
    """Whether ``password`` is the one the hub derives for the hub user ``name``."""
    expected = attendee_password(spec.seed, _uri(spec, name))
    return secrets.compare_digest(expected.encode(),
                                  password.encode("utf-8", "surrogatepass"))


def hub_account(spec: HubUsersSpec, name: str, template: UserSpec, made: int) -> UserSpec:
    """The account made for hub user ``name`` on first sign-in, the ``made``-th so far:
    ``template``'s conversations, logs, scopes and own phone; a phone of its own."""
    uri = _uri(spec, name)
    return dataclasses.replace(template, uri=uri, password=attendee_password(spec.seed, uri),
                               name=unquote(name), phone=f"tel:+{spec.first_phone + made}")


def _uri(spec: HubUsersSpec, name: str) -> str:
    return f"sip:{name}@{spec.domain.lower()}"
