"""Where ``connect()`` signs in when it is given no URL: the environment, else the embedded
simulator.

The same notebooks run on a laptop (no variables: the embedded simulator), on Binder and on
a JupyterHub, where the hub hands each attendee's server its settings (docs/classroom.md):

    UCWA_NB_URL        the autodiscover root or a domain, as ``connect``'s first argument
    UCWA_NB_USERNAME   with UCWA_NB_PASSWORD: the password grant
    UCWA_NB_PASSWORD
    UCWA_NB_TOKEN      instead of a username and password: a token from elsewhere

Arguments win. Credentials come whole from one place: the environment's are used only with
the environment's URL and only when no credential was given as an argument, so a password
set for the class server is never sent to a URL typed in a notebook, nor paired with a
username given by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ENV_PASSWORD", "ENV_TOKEN", "ENV_URL", "ENV_USERNAME", "Target", "target"]

ENV_URL = "UCWA_NB_URL"
ENV_USERNAME = "UCWA_NB_USERNAME"
ENV_PASSWORD = "UCWA_NB_PASSWORD"
ENV_TOKEN = "UCWA_NB_TOKEN"


@dataclass(frozen=True)
class Target:
    """Where to sign in and with what; ``source`` says where the URL came from: "argument",
    "environment" (UCWA_NB_URL) or "embedded" (the simulator ``connect()`` starts)."""

    url: str | None
    username: str | None
    password: str | None = field(repr=False)
    token: str | None = field(repr=False)
    source: str


def target(url: str | None, username: str | None, password: str | None, token: str | None,
           environ: Mapping[str, str] | None = None) -> Target:
    """What ``connect(url, username=..., password=..., token=...)`` signs in to."""
    env = os.environ if environ is None else environ
    if url is not None:
        return Target(url, username, password, token, "argument")
    env_url = env.get(ENV_URL, "").strip()
    if not env_url:
        return Target(None, username, password, token, "embedded")
    if username is None and password is None and token is None:
        username = env.get(ENV_USERNAME) or None
        password = env.get(ENV_PASSWORD) or None
        token = env.get(ENV_TOKEN) or None
    return Target(env_url, username, password, token, "environment")
