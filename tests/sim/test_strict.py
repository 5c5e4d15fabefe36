"""Strict replay of a recording (sim/strict.py, sim/verbatim.py, sim/routes/recorded.py) and
the settings a recording carries ([server] ucwa_version and grant_types)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from support import Lab, fast_scenario_dict
from support.ucwa_http import Format, discover_token_url, new_client, resource_of

from ucwa_nb import Scenario
from ucwa_nb.sim import ScenarioError
from ucwa_nb.sim.scenario_loader import scenario_from_dict

APP = "/ucwa/oauth/v1/applications/{app}"
SEARCH_JSON = ('{"_links": {"self": {"href": "' + APP + '/people/search"}}, '
               '"rel": "search", "hint": "recorded"}')


def _strict(**server: Any) -> Scenario:
    data = fast_scenario_dict(server)
    data["strict"] = {
        "resources": [
            {"path": APP + "/people/search", "body": SEARCH_JSON, "rel": "search"},
            # The model serves `me` under rel me: this recorded body must not replace it.
            {"path": APP + "/me", "body": '{"rel": "me", "recorded": true}', "rel": "me"},
            {"path": APP + "/policies", "body": '{"recorded": true}'},  # no rel: the model's
        ],
        "links": [
            {"resource": "me", "rel": "note", "href": APP + "/people/search"},
            # The model's own rel: offered or not by the model only.
            {"resource": "me", "rel": "makeMeAvailable", "href": APP + "/nowhere"},
        ],
    }
    return scenario_from_dict(data)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_recorded_resources_and_links_are_served(lab: Lab, fmt: Format) -> None:
    sim = lab.start(_strict())
    session = lab.sign_in(sim, fmt=fmt, collect=False)
    me = session.application.embedded_one("me")
    assert me is not None
    note = me.link("note")
    assert note is not None
    assert note.href == session.app_href + "/people/search"
    got = session.get(note.href)
    assert got.status_code == 200
    assert got.json()["hint"] == "recorded"
    assert got.json()["_links"]["self"]["href"] == session.app_href + "/people/search"
    # The model still serves me, with its own makeMeAvailable link, not the recorded one.
    me_now = resource_of(session.get(session.app_href + "/me"))
    assert me_now.get("recorded") is None
    make = me_now.link("makeMeAvailable")
    assert make is not None
    assert not make.href.endswith("/nowhere")
    assert resource_of(session.get(session.app_href + "/policies")).get("recorded") is None


def test_recorded_resources_need_the_callers_own_application(lab: Lab) -> None:
    sim = lab.start(_strict())
    alice = lab.sign_in(sim, collect=False)
    bob = lab.sign_in(sim, "bob@contoso.com", collect=False)
    assert bob.get(alice.app_href + "/people/search").status_code == 404
    with new_client(sim.base_url) as anonymous:
        assert anonymous.get(alice.app_href + "/people/search").status_code == 401


def test_without_strict_nothing_is_added(lab: Lab) -> None:
    sim = lab.start()
    session = lab.sign_in(sim, collect=False)
    assert session.get(session.app_href + "/people/search").status_code == 404


def test_recorded_version_and_grant_types_are_served(lab: Lab) -> None:
    sim = lab.start(scenario_from_dict(fast_scenario_dict(
        {"ucwa_version": "1.9", "grant_types": "urn:microsoft.rtc:windows,password"})))
    with new_client(sim.base_url) as client:
        root = client.get(sim.url)
    assert root.headers["x-ms-ucwaversion"] == "1.9"
    user_href, _ = discover_token_url(sim)
    challenge = httpx.get(sim.base_url + user_href)
    assert 'grant_type="urn:microsoft.rtc:windows,password"' in \
        challenge.headers.get_list("www-authenticate")[1]


@pytest.mark.parametrize(("strict", "message"), [
    ({"resources": [{"path": "/elsewhere", "body": "{}"}]}, "must start with"),
    ({"resources": [{"path": APP + "/x"}]}, "strict.resources[0].body is required"),
    ({"resources": [{"path": APP + "/x", "body": "{}", "status": 99}]}, "HTTP status"),
    ({"links": [{"resource": "me", "rel": "x"}]}, "strict.links[0].href is required"),
    ({"pages": []}, "unknown key(s) pages"),
])
def test_bad_strict_tables_name_the_key(strict: dict[str, Any], message: str) -> None:
    data = fast_scenario_dict()
    data["strict"] = strict
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario_from_dict(data)


def test_a_header_setting_cannot_break_the_header() -> None:
    with pytest.raises(ScenarioError, match=r"server\.ucwa_version"):
        scenario_from_dict(fast_scenario_dict({"ucwa_version": '1.7"\r\nX-Evil: 1'}))
