"""Named scenarios, for notebooks, classes and demos: ``default()`` (``default.toml``, the
scenario of ``connect()`` and ``ucwa-nb serve``), ``for_jupyterhub()`` and ``fast()``.

``fast()`` is the default world with phones that answer in a blink, so that a notebook that
places a dozen calls runs in seconds instead of minutes. It also opts in, by name, to event
polls shorter than real servers allow (their ``timeout`` is 180..1800 s): a departure from
faithfulness that a scenario has to ask for (``server.min_poll_timeout``).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources
from typing import Any

from ucwa_nb.sim.scenario import PhoneSpec, Scenario, ScenarioError, ServerSettings
from ucwa_nb.sim.scenario_loader import scenario_from_dict

__all__ = ["FAST_SERVER", "default", "fast", "for_jupyterhub"]

# What fast() changes in [server]: rings give up sooner and polls may be short. Real Skype
# servers refuse a poll timeout under 180 s; here 1 s is allowed so a notebook can show a poll
# time out without waiting three minutes.
FAST_SERVER: dict[str, Any] = {"ring_timeout": 0.6, "min_poll_timeout": 1.0}
_OWN_PHONE_AFTER = 0.05    # the user picks up their own phone at once
_CONTACT_AFTER = 0.1       # callees react quickly...
_SLOW_CONTACT = ("sip:john@contoso.com", 0.4)  # ...but John takes a moment (cancel can race it)
_FORWARD_AFTER = 0.3       # an unanswered call is forwarded soon (before ring_timeout)


def default() -> Scenario:
    """The shipped scenario, ``default.toml``, named "default"."""
    return scenario_from_dict(_default_data(), name="default")


def for_jupyterhub(domain: str = "contoso.com", seed_env: str = "UCWA_NB_SEED") -> Scenario:
    """The default scenario for a class on JupyterHub (``ucwa-nb serve --jupyterhub`` with
    no scenario): every hub user signs in to ``domain`` with the password the hub derives
    from the seed in ``$seed_env``, to an account made like the demo user."""
    data = _default_data()
    data["classroom"] = {"domain": domain, "hub_users": True, "password_seed_env": seed_env}
    return scenario_from_dict(data, name="default")


def _default_data() -> dict[str, Any]:
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def fast(**server: Any) -> Scenario:
    """The default scenario with short rings and short polls allowed, named "fast".

    Keyword arguments override ``[server]`` settings (``application_expiry=2.0``, say).
    """
    base = default()
    unknown = sorted(set(server) - set(ServerSettings.__dataclass_fields__))
    if unknown:
        raise ScenarioError(f"server: unknown key(s) {', '.join(unknown)}")
    settings = replace(base.server, **{**FAST_SERVER, **server})
    users = tuple(replace(user, own_phone=PhoneSpec(user.own_phone.behaviour, _OWN_PHONE_AFTER))
                  for user in base.users)
    slow_uri, slow_after = _SLOW_CONTACT
    contacts = tuple(replace(
        contact, after=slow_after if contact.uri == slow_uri else _CONTACT_AFTER,
        mobile_phone=replace(contact.mobile_phone, after=_CONTACT_AFTER),
        forward=replace(contact.forward, after=_FORWARD_AFTER) if contact.forward else None)
        for contact in base.contacts)
    phones = {number: replace(phone, after=_CONTACT_AFTER)
              for number, phone in base.phones.items()}
    return replace(base, users=users, contacts=contacts, phones=phones, server=settings,
                   name="fast")
