"""Accounts for JupyterHub users, made on first sign-in (``[classroom] hub_users = true``).

How an attendee signs in as themself with no password typed, and cannot sign in as anyone
else: the hub hands each user's server ``UCWA_NB_USERNAME = <hub name>@<domain>`` and
``UCWA_NB_PASSWORD = HMAC(seed, that account)`` through ``Spawner.environment``
(docs/jupyterhub_config.py), and ``connect()`` reads them (client/environment.py). The
simulator, given the same seed, recognises the password: the ordinary UCWA password grant,
so the notebooks show the sign-in a real server does. Without the seed (the hub's and the
simulator's secret) nobody can compute another user's password.
"""

from __future__ import annotations

import re
import secrets

from ucwa_nb.sim.scenario import HubUsersSpec, UserSpec, attendee, attendee_password

__all__ = ["hub_account"]

# JupyterHub names are lower case; keep to what a SIP URI's user part takes unescaped.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def hub_account(spec: HubUsersSpec, username: str, password: str,
                made: int) -> UserSpec | None:
    """The account for ``username`` if ``password`` is the one the hub derives for it;
    ``made``: hub accounts made so far (at most ``spec.limit``)."""
    name, at, domain = username.lower().removeprefix("sip:").partition("@")
    if not at or domain != spec.domain.lower() or not _NAME.fullmatch(name):
        return None
    if made >= spec.limit:
        return None
    uri = f"sip:{name}@{domain}"
    expected = attendee_password(spec.seed, uri)
    if not secrets.compare_digest(expected.encode(), password.encode("utf-8", "surrogatepass")):
        return None
    return attendee(uri, expected, name, f"tel:+{spec.first_phone + made}")
