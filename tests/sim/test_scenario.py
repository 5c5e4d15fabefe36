"""Scenarios: the default world, loading from TOML and dicts, and errors that name the bad key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from support import default_scenario_dict, fast_scenario

from ucwa_nb import Simulator
from ucwa_nb.sim import FaultSpec, PhoneSpec, ScenarioError, ServerSettings
from ucwa_nb.sim.scenario_loader import scenario_from_dict, scenario_from_toml
from ucwa_nb.sim.scenarios import default as default_scenario

MINIMAL_USER = {"uri": "sip:a@contoso.com", "password": "pw"}


def _minimal(**extra: Any) -> dict[str, Any]:
    return {"users": [dict(MINIMAL_USER)], **extra}


def test_default_scenario_holds_the_documented_world() -> None:
    scenario = default_scenario()
    assert scenario.name == "default"
    alice = scenario.user("alice@contoso.com")
    assert alice is not None
    assert alice.password == "ucwa-demo"
    assert alice.phone == "tel:+14255551234"
    assert alice.region == "US"
    assert "Conversations.Initiate" in alice.scopes
    assert alice.own_phone == PhoneSpec("answers", 0.2)
    assert [c.subject for c in alice.conversations] == [
        "Project sync", "Budget review", "Quick question"]
    assert len(alice.conversation_logs) == 3
    bob = scenario.user("sip:BOB@contoso.com")  # case-insensitive, with or without sip:
    assert bob is not None
    assert bob.password == "ucwa-demo-bob"
    guest = scenario.user("guest@contoso.com")
    assert guest is not None
    assert "Conversations.Initiate" not in guest.scopes
    assert scenario.demo_user is alice
    behaviours = {c.uri: c.behaviour for c in scenario.contacts}
    assert behaviours == {
        "sip:john@contoso.com": "answers",
        "sip:maria@contoso.com": "busy",
        "sip:pierre@contoso.com": "declines",
        "sip:nora@contoso.com": "never_answers",
        # They do not answer their desks; their forwarding takes the call.
        "sip:david@contoso.com": "never_answers",
        "sip:emma@contoso.com": "never_answers",
    }
    assert scenario.phones["+14255550199"].behaviour == "never_answers"
    assert scenario.contact("SIP:John@Contoso.com") is not None
    assert scenario.contact("sip:nobody@contoso.com") is None
    assert scenario.user("nobody@contoso.com") is None


def test_from_toml_reads_the_packaged_default_file(tmp_path: Path) -> None:
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    path = tmp_path / "classroom.toml"
    path.write_text(text, "utf-8")
    loaded = scenario_from_toml(path)
    assert loaded.users == default_scenario().users
    assert loaded.contacts == default_scenario().contacts
    # The file's own `name` wins over the file name.
    assert loaded.name == "default"


def test_from_toml_uses_the_file_stem_as_name_and_applies_everything(tmp_path: Path) -> None:
    path = tmp_path / "training.toml"
    path.write_text(
        '[server]\n'
        'ring_timeout = 2\n'                 # an integer is accepted for a float setting
        'lenient_uri_spacing = false\n'
        '[[users]]\n'
        'uri = "sip:Carol@Fabrikam.com"\n'
        'password = "pw"\n'
        'phone = "4255550100"\n'             # normalised with the US dial plan
        'own_phone = { behaviour = "busy", after = 1 }\n'
        '  [[users.conversations]]\n'
        '  subject = "Hello"\n'
        '  participants = ["sip:dan@fabrikam.com"]\n'
        '[[contacts]]\n'
        'uri = "sip:dan@fabrikam.com"\n'
        'behaviour = "declines"\n'
        '[[faults]]\n'
        'rel = "addPhoneAudio"\n'
        'error = "TooManyGroups"\n'
        'count = 0\n', "utf-8")
    scenario = scenario_from_toml(path)
    assert scenario.name == "training"
    assert scenario.server.ring_timeout == 2.0
    assert scenario.server.lenient_uri_spacing is False
    carol = scenario.users[0]
    assert carol.uri == "sip:Carol@fabrikam.com"
    assert carol.phone == "tel:+14255550100"
    assert carol.own_phone == PhoneSpec("busy", 1.0)
    assert carol.conversations[0].participants == ("sip:dan@fabrikam.com",)
    assert scenario.contacts[0].behaviour == "declines"
    assert scenario.faults == (FaultSpec("addPhoneAudio", "TooManyGroups", None, 0),)


def test_simulator_accepts_a_scenario_path(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text('[[users]]\nuri = "sip:solo@contoso.com"\npassword = "pw"\n', "utf-8")
    with Simulator(str(path)) as sim:
        assert sim.scenario.name == "one"
        assert [u.uri for u in sim.scenario.users] == ["sip:solo@contoso.com"]


def test_classroom_makes_numbered_accounts() -> None:
    scenario = scenario_from_dict(_minimal(classroom={"attendees": 3, "domain": "school.org"}))
    uris = [u.uri for u in scenario.users]
    assert uris == ["sip:a@contoso.com", "sip:attendee01@school.org", "sip:attendee02@school.org",
                    "sip:attendee03@school.org"]
    assert scenario.users[1].phone == "tel:+14255550301"


def test_fast_scenario_used_by_these_tests_is_valid() -> None:
    scenario = fast_scenario({"application_expiry": 1.0})
    assert scenario.server.application_expiry == 1.0
    assert scenario.server.ring_timeout < 1
    assert all(c.after < 0.5 for c in scenario.contacts)
    assert default_scenario_dict()["server"]["application_expiry"] == 900.0


# Each bad scenario and a fragment the error message must contain (the key at fault).
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top-level key", _minimal(bogus=1), "bogus"),
    ("unknown server key", _minimal(server={"ring_timout": 1.0}), "ring_timout"),
    ("unknown user key", {"users": [{**MINIMAL_USER, "pasword": "x"}]}, "pasword"),
    ("unknown own_phone key", {"users": [{**MINIMAL_USER, "own_phone": {"delay": 1}}]},
     "delay"),
    ("unknown contact key", _minimal(contacts=[{"uri": "sip:c@contoso.com", "mood": "x"}]),
     "mood"),
    ("unknown conversation key",
     {"users": [{**MINIMAL_USER, "conversations": [{"participants": ["sip:x@y.com"],
                                                    "topic": "t"}]}]}, "topic"),
    ("unknown log key",
     {"users": [{**MINIMAL_USER, "conversation_logs": [{"recipients": ["sip:x@y.com"],
                                                        "length": 3}]}]}, "length"),
    ("unknown fault key", _minimal(faults=[{"rel": "x", "error": "Conflict", "times": 2}]),
     "times"),
    ("bad contact behaviour",
     _minimal(contacts=[{"uri": "sip:c@contoso.com", "behaviour": "sings"}]),
     "contacts[0].behaviour"),
    ("bad own phone behaviour",
     {"users": [{**MINIMAL_USER, "own_phone": {"behaviour": "ringing"}}]},
     "users[0].own_phone.behaviour"),
    ("bad phones behaviour", _minimal(phones=[{"number": "+14255550100", "behaviour": "x"}]),
     "phones[0].behaviour"),
    ("negative ring delay", _minimal(contacts=[{"uri": "sip:c@contoso.com", "after": -1}]),
     "contacts[0].after"),
    ("bad user phone", {"users": [{**MINIMAL_USER, "phone": "555"}]}, "users[0].phone"),
    ("letters as user phone", {"users": [{**MINIMAL_USER, "phone": "call me"}]},
     "users[0].phone"),
    ("bad phones number", _minimal(phones=[{"number": "abc"}]), "phones[0]"),
    ("bad contact phone", _minimal(contacts=[{"uri": "sip:c@contoso.com", "phone": "abc"}]),
     "contacts[0].phone"),
    ("bad classroom first phone", _minimal(classroom={"attendees": 2, "first_phone": "abc"}),
     "classroom.first_phone"),
    ("too many attendees", _minimal(classroom={"attendees": 501}), "classroom.attendees"),
    ("user uri without scheme", {"users": [{"uri": "a@contoso.com", "password": "pw"}]},
     "users[0].uri"),
    ("missing password", {"users": [{"uri": "sip:a@contoso.com"}]}, "users[0].password"),
    ("missing contact uri", _minimal(contacts=[{"name": "x"}]), "contacts[0].uri"),
    ("scopes not a list", {"users": [{**MINIMAL_USER, "scopes": "all"}]}, "users[0].scopes"),
    ("conversation without participants",
     {"users": [{**MINIMAL_USER, "conversations": [{"subject": "x"}]}]},
     "users[0].conversations[0].participants"),
    ("bad created", {"users": [{**MINIMAL_USER, "conversations": [
        {"participants": ["sip:x@y.com"], "created": "yesterday"}]}]},
     "users[0].conversations[0].created"),
    ("server type", _minimal(server={"ring_timeout": "soon"}), "server.ring_timeout"),
    ("server bool for float", _minimal(server={"callback_grace": True}),
     "server.callback_grace"),
    ("negative body limit", _minimal(server={"max_body_bytes": -1}), "server.max_body_bytes"),
    ("NaN setting", _minimal(server={"min_poll_timeout": float("nan")}),
     "server.min_poll_timeout"),
    ("unknown fault", _minimal(faults=[{"rel": "addPhoneAudio", "error": "Teapot"}]),
     "faults[0].error"),
    ("negative fault count",
     _minimal(faults=[{"rel": "addPhoneAudio", "error": "Conflict", "count": -1}]),
     "faults[0].count"),
    ("fault without rel", _minimal(faults=[{"error": "Conflict"}]), "faults[0].rel"),
    ("users not an array", {"users": {"uri": "sip:a@contoso.com"}}, "users"),
    ("no users", {"contacts": []}, "[[users]]"),
    ("duplicate user", {"users": [dict(MINIMAL_USER), {"uri": "sip:A@contoso.com",
                                                       "password": "x"}]}, "listed twice"),
]


@pytest.mark.parametrize(("data", "fragment"), [(d, f) for _, d, f in BAD],
                         ids=[name for name, _, _ in BAD])
def test_bad_scenarios_raise_scenario_error_naming_the_key(data: dict[str, Any],
                                                           fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert fragment in str(info.value)


def test_scenario_error_is_a_value_error() -> None:
    assert issubclass(ScenarioError, ValueError)


def test_invalid_toml_raises_scenario_error_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[users]\nuri = ", "utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.toml"):
        scenario_from_toml(path)


def test_bad_scenario_file_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('[[users]]\nuri = "sip:a@contoso.com"\npassword = "pw"\nphon = "x"\n',
                    "utf-8")
    with pytest.raises(ScenarioError, match="phon"):
        Simulator(path)


def test_server_settings_defaults_match_the_protocol_brief() -> None:
    settings = ServerSettings()
    assert settings.application_expiry == 900.0  # 15 minutes without a poll
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.lenient_uri_spacing is True


def test_the_named_fast_scenario_is_the_default_world_with_short_rings() -> None:
    from ucwa_nb.sim import scenarios

    fast, default = scenarios.fast(), default_scenario()
    assert fast.name == "fast"
    assert [u.uri for u in fast.users] == [u.uri for u in default.users]
    assert [(c.uri, c.behaviour) for c in fast.contacts] == \
        [(c.uri, c.behaviour) for c in default.contacts]
    assert fast.server.ring_timeout < default.server.ring_timeout
    assert all(u.own_phone.after <= 0.05 for u in fast.users)
    assert max(c.after for c in fast.contacts) < min(c.after for c in default.contacts
                                                     if c.behaviour == "answers")
    # Forwarding happens before a ring gives up; mobiles and outside numbers answer soon.
    assert all(c.forward.after < fast.server.ring_timeout for c in fast.contacts if c.forward)
    assert all(c.mobile_phone.after <= 0.1 for c in fast.contacts)
    assert all(p.after <= 0.1 for p in fast.phones.values())
    assert set(fast.phones) == set(default.phones)
    # Short polls are a departure from real servers (180..1800 s) that fast() asks for by name.
    assert fast.server.min_poll_timeout == scenarios.FAST_SERVER["min_poll_timeout"] == 1.0
    assert scenarios.fast(application_expiry=2.0).server.application_expiry == 2.0
    with pytest.raises(ScenarioError, match="unknown key"):
        scenarios.fast(ring_time=1.0)


# Issue 25, attack 4: every number the loader reads is finite and bounded, every string
# bounded, each error naming the key. (`after = nan` used to load, and every call to that
# contact rang forever; a 1 MB subject loaded.)
NAN, INF, MEGABYTE = float("nan"), float("inf"), "x" * 1024 * 1024
ABSURD: list[tuple[str, dict[str, Any], str]] = [
    ("NaN contact after", _minimal(contacts=[{"uri": "sip:c@contoso.com", "after": NAN}]),
     "contacts[0].after"),
    ("infinite contact after",
     _minimal(contacts=[{"uri": "sip:c@contoso.com", "after": INF}]), "contacts[0].after"),
    ("a contact ringing for a week",
     _minimal(contacts=[{"uri": "sip:c@contoso.com", "after": 604800}]), "contacts[0].after"),
    ("NaN own phone", {"users": [{**MINIMAL_USER, "own_phone": {"after": NAN}}]},
     "users[0].own_phone.after"),
    ("NaN phones after", _minimal(phones=[{"number": "+14255550100", "after": NAN}]),
     "phones[0].after"),
    ("infinite server setting", _minimal(server={"application_expiry": INF}),
     "server.application_expiry"),
    ("a server duration of a century", _minimal(server={"ring_timeout": 3.2e9}),
     "server.ring_timeout"),
    ("a server integer past int64", _minimal(server={"token_lifetime": 2**70}),
     "server.token_lifetime"),
    ("a megabyte subject", {"users": [{**MINIMAL_USER, "conversations": [
        {"participants": ["sip:x@y.com"], "subject": MEGABYTE}]}]},
     "users[0].conversations[0].subject"),
    ("a megabyte preview", {"users": [{**MINIMAL_USER, "conversation_logs": [
        {"recipients": ["sip:x@y.com"], "preview": MEGABYTE}]}]},
     "users[0].conversation_logs[0].preview"),
    ("a megabyte contact name", _minimal(contacts=[{"uri": "sip:c@contoso.com",
                                                    "name": MEGABYTE}]), "contacts[0].name"),
    ("a megabyte password", {"users": [{**MINIMAL_USER, "password": MEGABYTE}]},
     "users[0].password"),
    ("a megabyte scenario name", _minimal(name=MEGABYTE), "name"),
    ("a megabyte fqdn", _minimal(server={"server_fqdn": MEGABYTE}), "server.server_fqdn"),
    ("a megabyte fault rel", _minimal(faults=[{"rel": MEGABYTE, "error": "Conflict"}]),
     "faults[0].rel"),
    ("a subject that is a number", {"users": [{**MINIMAL_USER, "conversations": [
        {"participants": ["sip:x@y.com"], "subject": 7}]}]},
     "users[0].conversations[0].subject"),
    ("a million modalities", {"users": [{**MINIMAL_USER, "conversations": [
        {"participants": ["sip:x@y.com"], "modalities": ["Audio"] * 1_000_000}]}]},
     "users[0].conversations[0].modalities"),
    ("a bool fault count",
     _minimal(faults=[{"rel": "addPhoneAudio", "error": "Conflict", "count": True}]),
     "faults[0].count"),
    ("a fault count of 10**20",
     _minimal(faults=[{"rel": "addPhoneAudio", "error": "Conflict", "count": 10**20}]),
     "faults[0].count"),
    ("NaN hold_for", _minimal(poll_faults={"hold_for": NAN}), "poll_faults.hold_for"),
    ("a poll held for a century", _minimal(poll_faults={"hold_rate": 0.5, "hold_for": 3.2e9}),
     "poll_faults.hold_for"),
    ("a megabyte strict body", _minimal(strict={"resources": [
        {"path": "/ucwa/oauth/v1/applications/{app}/x", "body": MEGABYTE * 2}]}),
     "strict.resources[0].body"),
    ("a megabyte key", _minimal(contacts=[{"uri": "sip:c@contoso.com", MEGABYTE: 1}]),
     "contacts[0]"),
]


@pytest.mark.parametrize(("data", "fragment"), [(d, f) for _, d, f in ABSURD],
                         ids=[name for name, _, _ in ABSURD])
def test_absurd_values_raise_scenario_error_naming_the_key(data: dict[str, Any],
                                                          fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    message = str(info.value)
    assert fragment in message
    assert len(message) < 400  # the value itself is not echoed back


def test_the_largest_values_allowed_still_load() -> None:
    limit = "x" * 1024
    scenario = scenario_from_dict(_minimal(
        name=limit, server={"ring_timeout": 86400.0, "token_lifetime": 2**31 - 1},
        contacts=[{"uri": "sip:c@contoso.com", "name": limit, "after": 3600}],
        strict={"resources": [{"path": "/ucwa/oauth/v1/applications/{app}/x",
                               "body": "y" * 1024 * 1024}]}))
    assert scenario.contacts[0].after == 3600.0
    assert scenario.server.ring_timeout == 86400.0
# ------------------------------------------------------------------------- numbers


def test_numbers_forwarding_and_mobiles_load() -> None:
    from ucwa_nb.sim import scenarios
    from ucwa_nb.sim.scenario import ForwardSpec, PhoneSpec

    world = scenarios.default()
    david = world.contact("sip:david@contoso.com")
    assert david is not None
    assert (david.phone, david.mobile) == ("tel:+14255550142", "tel:+14255550143")
    assert david.mobile_phone == PhoneSpec("answers", 1.0)
    assert david.forward == ForwardSpec(2.0, "mobile")
    assert world.phones["+14255550100"].name == "Contoso Reception"


@pytest.mark.parametrize(("contact", "message"), [
    ({"forward": {"to": "mobile"}}, "has no mobile number"),
    ({"forward": {"to": "desk"}}, "forward.to must be one of"),
    ({"forward": {"after": -1}}, "forward.after must be"),
    ({"forward": {"after": "soon"}}, "forward.after must be"),
    ({"mobile": {"behaviour": "answers"}}, "mobile.number is required"),
    ({"mobile": {"number": "555"}}, "mobile.number"),
    ({"mobile": {"number": "tel:+14255550160", "ring": 1}}, "unknown key"),
])
def test_bad_forwarding_and_mobiles_name_the_key(contact: dict[str, Any], message: str) -> None:
    data = {"users": [{"uri": "sip:a@contoso.com", "password": "p"}],
            "contacts": [{"uri": "sip:b@contoso.com", **contact}]}
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_a_user_without_phone_audio() -> None:
    data = {"users": [{"uri": "sip:a@contoso.com", "password": "p", "phone_audio": False}]}
    assert scenario_from_dict(data).users[0].phone_audio is False
    data["users"][0]["phone_audio"] = "no"
    with pytest.raises(ScenarioError, match="phone_audio must be true or false"):
        scenario_from_dict(data)
