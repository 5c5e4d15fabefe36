"""scenario_from_har: the world, behaviours and settings of a recording, as a scenario that
the simulator's own loader reads and serves; replayed, it gives back the same calls."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.recording import (
    Recorded,
    edit_extra_link,
    edit_nora_declines,
    edit_poll_timeout,
    record,
    save,
)

import ucwa_nb
from ucwa_nb.protocol.representation import Format
from ucwa_nb.record import scenario_dict, scenario_from_har, write_scenario
from ucwa_nb.record.ids import APP_MARK
from ucwa_nb.sim import strict
from ucwa_nb.sim.scenario_loader import scenario_from_dict, scenario_from_toml

# Timings of a replay on a machine shared with other work: the same within 2 s (the default
# 0.5 s is for a quiet machine; test_comparison.py tests the tolerance itself).
TOLERANCE = 2.0


def _contacts(data: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {c["uri"]: (c.get("behaviour"), c.get("name")) for c in data["contacts"]}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_world_and_behaviours_come_from_the_recording(recorded: Recorded,
                                                          fmt: Format) -> None:
    data = scenario_from_har(recorded(fmt), name="recorded")
    user = data["users"][0]
    assert (user["uri"], user["name"], user["phone"], user["region"]) == \
        ("sip:alice@contoso.com", "Alice Smith", "tel:+14255551234", "US")
    assert user["own_phone"]["behaviour"] == "answers"
    assert [c["subject"] for c in user["conversations"]] == \
        ["Project sync", "Budget review", "Quick question"]
    assert user["conversations"][1]["participants"] == \
        ["sip:maria@contoso.com", "sip:pierre@contoso.com"]
    assert [(log["subject"], log["type"], log["status"], log["recipients"])
            for log in user["conversation_logs"]] == [
        ("Weekly one-to-one", "AudioLog", "Archived", ["sip:john@contoso.com"]),
        ("Supplier call", "AudioLog", "Missed", ["sip:pierre@contoso.com"]),
        ("Design chat", "MessageLog", "Archived", ["sip:maria@contoso.com"])]
    assert _contacts(data) == {
        "sip:john@contoso.com": ("answers", "John Doe"),
        "sip:maria@contoso.com": ("busy", "Maria Garcia"),
        "sip:pierre@contoso.com": ("declines", "Pierre Martin"),
        "sip:nora@contoso.com": ("never_answers", "Nora Kim")}
    server = data["server"]
    assert server["ucwa_version"] == "1.7"
    assert server["grant_types"] == \
        "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"
    assert (server["min_poll_timeout"], server["default_poll_timeout"]) == (5.0, 5.0)
    assert server["token_lifetime"] == 28800
    assert 0.3 <= server["ring_timeout"] <= 1.5  # fast(): 0.6 s, as delivered by the polls
    assert data["_notes"] == []


def test_the_scenario_file_loads_with_the_simulators_loader(recorded: Recorded,
                                                            tmp_path: Path) -> None:
    path = write_scenario(scenario_from_har(recorded("json"), strict=True, name="recorded"),
                          tmp_path / "recorded.toml")
    scenario = scenario_from_toml(path)
    assert scenario.name == "recorded"
    assert scenario.contact("sip:maria@contoso.com").behaviour == "busy"  # type: ignore[union-attr]
    assert scenario.strict is not None
    assert scenario.strict.resources
    assert all(r.path.startswith(APP_MARK + "/") for r in scenario.strict.resources)
    assert APP_MARK == strict.APP_MARK  # the record side's copy of the simulator's mark
    text = path.read_text("utf-8")
    assert "/applications/101" not in text  # the recorded application id is rewritten
    assert "127.0.0.1" not in text.split("\n", 3)[-1]  # nor is the recorded server named


def test_secrets_never_enter_the_scenario(recorded: Recorded, tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    # A recording whose exporter did not redact: the Authorization header and the token.
    for entry in har["log"]["entries"]:
        entry["request"]["headers"].append({"name": "Authorization",
                                            "value": "Bearer cwt=SECRET-TOKEN"})
        entry["request"]["headers"].append({"name": "Cookie", "value": "session=SECRET-COOKIE"})
        entry["response"]["headers"].append({"name": "WWW-Authenticate",
                                             "value": "NTLM TlRMTVNTUAACSECRET-NTLM"})
        entry["response"]["headers"].append({"name": "Set-Cookie",
                                             "value": "MRHSession=SECRET-COOKIE"})
        if entry["request"]["url"].endswith("/oauthtoken"):
            entry["request"]["postData"]["text"] = \
                "grant_type=password&username=alice%40contoso.com&password=SECRET-PASSWORD"
            entry["response"]["content"]["text"] = json.dumps(
                {"access_token": "SECRET-TOKEN", "expires_in": 28800})
    path = write_scenario(scenario_from_har(save(har, tmp_path / "raw.har"), strict=True),
                          tmp_path / "recorded.toml")
    text = path.read_text("utf-8")
    for secret in ("SECRET-TOKEN", "SECRET-COOKIE", "SECRET-PASSWORD", "SECRET-NTLM",
                   "ucwa-demo"):
        assert secret not in text
    assert tomllib.loads(text)["users"][0]["password"] == "ucwa-replay"


def test_a_browsers_recording_gives_the_same_world(recorded: Recorded, tmp_path: Path) -> None:
    """A DevTools export: no ucwa-nb fields, events only inside the polls' bodies, other
    ids (GUIDs) and absolute hrefs."""
    ours = json.loads(recorded("json").read_text("utf-8"))
    origin = "/".join(ours["log"]["entries"][0]["request"]["url"].split("/")[:3])
    text = json.dumps({"log": {"version": "1.2", "entries": ours["log"]["entries"]}})
    text = text.replace("/applications/101", "/applications/9f1c2d")
    text = re.sub(r"/(conversations|phoneAudioInvitations)/(\d+)(?=[/\"\\?])", r"/\1/c0ffee\2",
                  text)
    text = text.replace('\\"href\\":\\"/ucwa', f'\\"href\\":\\"{origin}/ucwa')
    assert "c0ffee" in text
    assert f'{origin}/ucwa' in text
    foreign = json.loads(text)
    for entry in foreign["log"]["entries"]:
        del entry["_ucwa"]
    data = scenario_from_har(save(foreign, tmp_path / "devtools.har"))
    ours_data = scenario_from_har(recorded("json"))
    assert _contacts(data) == _contacts(ours_data)
    assert data["users"][0]["conversations"] == ours_data["users"][0]["conversations"]
    assert data["server"]["ucwa_version"] == "1.7"


# ------------------------------------------------------------------ replay (a few seconds)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_round_trip_reproduces_the_same_calls(recorded: Recorded, fmt: Format,
                                              tmp_path: Path) -> None:
    scenario = scenario_from_dict(scenario_dict(scenario_from_har(recorded(fmt))))
    replay = record(scenario, "ucwa-replay", fmt)
    comparison = ucwa_nb.compare(recorded(fmt), replay, tolerance=TOLERANCE)
    assert comparison.differences.empty, comparison.differences.to_string()
    assert comparison.score == 1.0
    outcomes = comparison.df[comparison.df.item == "outcome"]
    assert len(outcomes) == 6  # every call reached its completed event in both


@pytest.mark.slow
def test_strict_replay_serves_what_the_model_does_not(recorded: Recorded,
                                                      tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    edit_extra_link(har)
    scenario = scenario_from_dict(scenario_dict(
        scenario_from_har(save(har, tmp_path / "edited.har"), strict=True)))
    replay = record(scenario, "ucwa-replay")
    comparison = ucwa_nb.compare(save(har, tmp_path / "edited.har"), replay, tolerance=TOLERANCE)
    assert comparison.score == 1.0, comparison.differences.to_string()


@pytest.mark.slow
def test_an_edited_recording_is_replayed_with_exactly_its_edits(recorded: Recorded,
                                                                tmp_path: Path) -> None:
    original = json.loads(recorded("json").read_text("utf-8"))
    edited = copy.deepcopy(original)
    edit_nora_declines(edited)
    edit_extra_link(edited)
    edit_poll_timeout(edited, 4)
    data = scenario_from_har(save(edited, tmp_path / "edited.har"), strict=True)
    assert _contacts(data)["sip:nora@contoso.com"][0] == "declines"
    assert data["server"]["min_poll_timeout"] == 4.0
    scenario = scenario_from_dict(scenario_dict(data))
    replay = record(scenario, "ucwa-replay", poll_timeout=scenario.server.default_poll_timeout)
    differences = ucwa_nb.compare(recorded("json"), replay, tolerance=TOLERANCE).differences
    found = {(row.aspect, row.subject, row.item, row.a, row.b)
             for row in differences.itertuples()}
    nora = "addPhoneAudio to sip:nora@contoso.com #1"
    assert found == {
        ("operation", nora, "events",
         "started/Connecting → updated/Connecting → updated/Alerting → completed/Failed",
         "started/Connecting → updated/Connecting → updated/Alerting → completed/Declined"),
        ("operation", nora, "outcome", "Failure Timeout", "Failure RemoteFailure Declined"),
        ("resource", "me", "link photo", None, "present"),
        ("server", "settings", "min_poll_timeout", 5.0, 4.0),
        ("server", "settings", "default_poll_timeout", 5.0, 4.0),
    }
