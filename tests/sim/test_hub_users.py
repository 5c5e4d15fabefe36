"""Accounts for JupyterHub users ([classroom] hub_users, rules/hub_users.py): a hub user signs
in with the password the hub derives from the class's seed, gets an account on first sign-in,
and cannot sign in as anyone else."""

from __future__ import annotations

from typing import Any

import pytest
from support import JOHN, fast_scenario_dict, wait_for_parked_poll

import ucwa_nb
from ucwa_nb import Scenario, Simulator
from ucwa_nb.sim.classroom import attendee_password
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import ScenarioError
from ucwa_nb.sim.scenario_loader import scenario_from_dict
from ucwa_nb.sim.scenarios import for_jupyterhub

SEED = "a class secret of 32 characters!"


def _scenario(**classroom: Any) -> Scenario:
    data = fast_scenario_dict()
    data["classroom"] = {"attendees": 2, "domain": "class.example", "hub_users": True,
                         "password_seed": SEED, **classroom}
    return scenario_from_dict(data)


def _password(name: str, domain: str = "class.example") -> str:
    return attendee_password(SEED, f"sip:{name}@{domain}")


def test_a_hub_user_gets_an_account_on_first_sign_in() -> None:
    world = World(_scenario())
    token = world.issue_token("maria@class.example", _password("maria"))
    assert token is not None
    assert token.user.spec.uri == "sip:maria@class.example"
    again = world.issue_token("sip:Maria@class.example", _password("maria"))
    assert again is not None
    assert again.user is token.user
    assert world.hub_accounts == 1


def test_a_hub_user_named_like_an_attendee_is_that_attendee() -> None:
    world = World(_scenario())
    token = world.issue_token("attendee01@class.example", _password("attendee01"))
    assert token is not None
    assert token.user.spec.name == "Attendee 01"
    assert world.hub_accounts == 0


@pytest.mark.parametrize(("username", "password"), [
    ("maria@class.example", "guessed-password"),
    ("maria@class.example", _password("pierre")),          # another user's password
    ("maria@elsewhere.example", _password("maria", "elsewhere.example")),  # other domain
    ("ma ria@class.example", _password("ma ria")),          # not a name a SIP URI takes
    ("maria", _password("maria")),                           # no domain
])
def test_nobody_signs_in_as_someone_else(username: str, password: str) -> None:
    world = World(_scenario())
    assert world.issue_token(username, password) is None
    assert world.hub_accounts == 0


def test_a_new_hub_account_is_made_like_the_demo_user(monkeypatch: pytest.MonkeyPatch) -> None:
    # So that the notebooks, written for the demo user, run unchanged for every hub user.
    monkeypatch.setenv("UCWA_NB_SEED", SEED)
    world = World(for_jupyterhub("contoso.com"))
    token = world.issue_token("ada@contoso.com", _password("ada", "contoso.com"))
    assert token is not None
    ada, demo = token.user.spec, world.scenario.demo_user
    assert (ada.uri, ada.name) == ("sip:ada@contoso.com", "ada")
    assert ada.conversations == demo.conversations
    assert ada.conversation_logs == demo.conversation_logs
    assert (ada.scopes, ada.own_phone) == (demo.scopes, demo.own_phone)
    assert ada.phone != demo.phone


def test_on_a_hub_the_hub_says_who_signs_in_to_its_domain(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The default scenario's passwords are in the README: on a shared hub, anyone could use
    # them and see what the hub user "alice" does. Only the hub's password opens alice.
    monkeypatch.setenv("UCWA_NB_SEED", SEED)
    world = World(for_jupyterhub("contoso.com"))
    assert world.issue_token("alice@contoso.com", "ucwa-demo") is None
    token = world.issue_token("alice@contoso.com", _password("alice", "contoso.com"))
    assert token is not None
    assert token.user.spec is world.scenario.demo_user  # the listed account, not a new one
    assert world.hub_accounts == 0


def test_accounts_outside_the_hubs_domain_keep_their_passwords() -> None:
    data = fast_scenario_dict()  # alice@contoso.com, password ucwa-demo
    data["classroom"] = {"domain": "class.example", "hub_users": True, "password_seed": SEED}
    world = World(scenario_from_dict(data))
    assert world.issue_token("alice@contoso.com", "ucwa-demo") is not None


def test_without_hub_users_an_unknown_user_gets_nothing() -> None:
    data = fast_scenario_dict()
    data["classroom"] = {"attendees": 1, "domain": "class.example", "password_seed": SEED}
    world = World(scenario_from_dict(data))
    assert world.issue_token("maria@class.example", _password("maria")) is None


def test_hub_accounts_are_bounded() -> None:
    world = World(_scenario())
    limit = world.scenario.hub_users.limit if world.scenario.hub_users else 0
    world.accounts.hub_accounts = limit
    assert world.issue_token("maria@class.example", _password("maria")) is None


def test_the_seed_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLASS_SEED", SEED)
    data = fast_scenario_dict()
    data["classroom"] = {"domain": "class.example", "hub_users": True,
                         "password_seed_env": "CLASS_SEED"}
    world = World(scenario_from_dict(data))
    assert world.issue_token("maria@class.example", _password("maria")) is not None
    assert SEED not in repr(world.scenario)


@pytest.mark.parametrize(("classroom", "message"), [
    ({"hub_users": True}, "needs password_seed"),
    ({"hub_users": "yes", "password_seed": SEED}, "true or false"),
    ({"hub_users": True, "password_seed_env": "UCWA_NB_TEST_UNSET_VARIABLE"}, "is not set"),
    ({"hub_users": True, "password_seed": SEED, "password_seed_env": "X"}, "not both"),
])
def test_bad_hub_settings_are_scenario_errors(classroom: dict[str, Any], message: str) -> None:
    data = fast_scenario_dict()
    data["classroom"] = classroom
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_a_hub_user_calls_through_connect_configured_by_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Simulator(_scenario()) as sim:
        monkeypatch.setenv("UCWA_NB_URL", sim.url)
        monkeypatch.setenv("UCWA_NB_USERNAME", "maria@class.example")
        monkeypatch.setenv("UCWA_NB_PASSWORD", _password("maria"))
        with ucwa_nb.connect(poll_timeout=2) as session:
            wait_for_parked_poll(sim)
            call = session.add_phone_audio(session.conversations()[0], to=JOHN).wait(10)
            assert call.status == "Success"
            assert session.where.startswith("sip:maria@class.example at ")
            assert [row["user"] for row in sim.activity()] == ["sip:maria@class.example"]
